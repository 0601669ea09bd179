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
