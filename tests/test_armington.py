"""The region's own varieties (``economy.armington``): the price that clears each differentiated
stage's outside demand against its firms' step supply curve, in the same year."""

import numpy as np
import pytest
from conftest import ROOT
from valuechain.simulation.config.scenario import load_scenario
from valuechain.simulation.economy import armington
from valuechain.simulation.running.runner import run_scenario

ONE = np.array([0, 0])  # two firms of variety stage 0
BREAK_EVEN = np.array([1.2, 1.0])  # price factors at which each covers its unit variable cost
CAPACITY = np.array([10.0, 10.0])
SIGMA = np.array([4.0])


@pytest.mark.parametrize("reference, expected", [
    # E = 15: the cheaper firm alone (10) meets demand 15 phi^-4 at phi = (10/15)^(-1/4) = 1.1067 < 1.2,
    # so the dearer firm stays out
    (15.0, (10 / 15) ** -0.25),
    # E = 25: the cheaper firm alone would need phi = (10/25)^(-1/4) = 1.2574 > 1.2: the dearer firm
    # produces, at its break-even
    (25.0, 1.2 * (1 + 1e-9)),
    # E = 100: both produce and demand still exceeds supply: phi = (20/100)^(-1/4) = 1.4953
    (100.0, (20 / 100) ** -0.25),
])
def test_the_clearing_price_factor_of_a_step_supply_curve(reference, expected):
    phi = armington.clearing_factors(ONE, BREAK_EVEN, CAPACITY, np.zeros(1), np.array([reference]), SIGMA)
    assert phi == pytest.approx([expected], rel=1e-12)


def test_local_use_comes_off_the_supply_and_thin_sales_are_capped():
    # 4 units used locally: the cheaper firm exports 6; 6 = 15 phi^-4 at phi = (6/15)^(-1/4) = 1.2574 > 1.2,
    # so the dearer firm produces too
    phi = armington.clearing_factors(ONE, BREAK_EVEN, CAPACITY, np.array([4.0]), np.array([15.0]), SIGMA)
    assert phi == pytest.approx([1.2 * (1 + 1e-9)])
    assert armington.demanded_factor(np.array([0.0]), np.array([10.0]), SIGMA) == pytest.approx(
        [armington.MIN_EXPORT_SHARE ** -0.25])


def test_chains_without_varieties_ignore_the_elasticity():
    tiny = ROOT / "tests" / "data" / "tiny.yaml"  # its chain marks no stage differentiated
    a, b = (run_scenario(load_scenario(tiny, [f"shocks.armington_elasticity={s}"])).stages for s in (2.5, 8))
    assert a.equals(b)


def _equipment(sigma: float, scenario: str) -> float:
    sc = load_scenario(scenario, ["replications=3", "firms.scale=0.5", f"shocks.armington_elasticity={sigma}"])
    st = run_scenario(sc).stages
    return float(st[st.sector == "equipment"].investment.sum())


def test_a_lower_variety_elasticity_damps_a_package_in_differentiated_stages():
    """Equipment's stages sell varieties: the lower the elasticity, the more their own expansion
    lowers their price, so the 2016 package (15% rate) adds less investment there."""
    effect = {s: _equipment(s, "policy_package_2016") - _equipment(s, "baseline") for s in (2.5, 8.0)}
    assert effect[2.5] < effect[8.0]


def test_a_demand_slump_lowers_a_varietys_price_and_value_added():
    shock = "shocks.demand=[{sectors: [equipment], from_year: 2019, to_year: 2021, change: -0.1}]"
    base = load_scenario("baseline", ["replications=4"])
    slump = load_scenario("baseline", ["replications=4", shock])
    pick = lambda r: r.stages[(r.stages.sector == "equipment") & r.stages.year.between(2019, 2021)]  # noqa: E731
    b, s = pick(run_scenario(base)), pick(run_scenario(slump))
    d_va = s.groupby("replication").value_added.sum() - b.groupby("replication").value_added.sum()
    assert d_va.max() < 0
    steel = lambda st: st[st.stage == "steel_structures"].set_index(["replication", "year"]).price  # noqa: E731
    assert (steel(s) < steel(b)).all()


def test_runs_side_by_side_clear_as_each_run_alone():
    """``clearing_factors`` with the stages of several runs in one call (``runs``) gives each run the
    bits of a call with its own firms: runs whose markets clear in different regimes (the marginal
    firm's break-even, between two steps, every firm producing) and a run whose stages have no firm."""
    rng = np.random.default_rng(7)
    per_run, runs = 2, 4
    firms = [rng.integers(0, 40, per_run) for _ in range(runs)]
    firms[2][:] = 0  # a run without firms in its variety stages
    alone, stage, break_even, capacity = [], [], [], []
    local = rng.uniform(0.0, 20.0, (runs, per_run))
    reference = np.array([[5.0, 40.0], [400.0, 1e4], [30.0, 30.0], [1.0, 120.0]])  # thin to ample demand
    sigma = np.array([4.0, 2.5])
    for run in range(runs):
        s = np.repeat(np.arange(per_run), firms[run])
        be = np.round(rng.uniform(0.5, 2.0, s.size), 1)  # ties in break-even, as firms of one cell
        cap = rng.uniform(1.0, 30.0, s.size)
        alone.append(armington.clearing_factors(s, be, cap, local[run], reference[run], sigma))
        stage.append(s + run * per_run), break_even.append(be), capacity.append(cap)
    together = armington.clearing_factors(np.concatenate(stage), np.concatenate(break_even),
                                          np.concatenate(capacity), local.ravel(), reference.ravel(),
                                          np.tile(sigma, runs), runs)
    assert np.array_equal(together, np.concatenate(alone))
    assert len({tuple(f) for f in together.reshape(runs, per_run)}) == runs  # each run needs its own prices


def test_running_sums_restart_at_each_run():
    values = np.array([0.1, 0.2, 0.3, 1e16, 0.1, 0.7])
    run = np.array([0, 0, 0, 1, 1, 2])
    expected = np.concatenate([np.cumsum(values[run == r]) for r in range(3)])
    assert np.array_equal(armington.cumsum_by_run(values, run, 3), expected)


def test_stage_order_is_the_lexsort_of_stages_and_break_evens():
    """``armington.stage_order`` gives ``np.lexsort((break_even, stage))``'s permutation: without
    ties, with ties (exact repeats, +0.0 and -0.0, infinities) and with NaNs, stages in any order."""
    from valuechain.simulation.economy.armington import stage_order

    rng = np.random.default_rng(5)
    for case in range(40):
        n = int(rng.integers(0, 400))
        stage = np.sort(rng.integers(0, 30, n)) if case % 2 else rng.integers(0, 30, n)
        be = rng.normal(1.0, 0.3, n)
        if case % 4 == 1:
            be[rng.random(n) < 0.2] = 0.0
            be[rng.random(n) < 0.1] = -0.0
        if case % 4 == 2:
            be[rng.random(n) < 0.1] = np.inf
            be[rng.random(n) < 0.05] = np.nan
        if case % 4 == 3:
            be = np.round(be, 1)  # many exact repeats
        np.testing.assert_array_equal(stage_order(stage, be), np.lexsort((be, stage)))
    stage = np.repeat(np.arange(40000), 2)  # stages beyond the radix sort's int16
    be = rng.random(stage.size)
    np.testing.assert_array_equal(stage_order(stage, be), np.lexsort((be, stage)))
