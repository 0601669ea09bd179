"""The compiled settle kernel of the years with interest subsidies and tax holidays
(``simulation/abm/kernels_finance.py``) gives numpy's bits: chunk by chunk on the same state
(each chunk's sums by cell, the rows that leave, and every array of the firms' state after it:
cash, debt, capacity, first revenue year, loss years, capacity on order, subsidised-loan vintages),
and whole runs, alone and side by side (stage and fiscal frames, the state at the end), against
numpy's path (``VALUECHAIN_KERNELS=numpy``). Years it does not cover (an employment subsidy, an
investor cost factor, order tracking) stay on numpy's path."""

import dataclasses

import numpy as np
import pytest
from conftest import ROOT
from test_kernels import STATE, assert_same_bits, bits, counting_paths
from valuechain.simulation import load_scenario
from valuechain.simulation.abm import engine, kernels, kernels_finance
from valuechain.simulation.abm.model import ValueChainModel
from valuechain.simulation.economy.firm import NO_REVENUE_YET

BASELINE = ROOT / "scenarios" / "baseline.yaml"
INTEREST = ("policy.interest_subsidy.rules=[{fixed_asset_points: 2.5, fixed_asset_years: 5,"
            " working_capital_points: 3.0, working_capital_years: 3}]")
HOLIDAYS = "policy.tax.holidays=[{tiers: [rough, deep], exempt_years: 2, half_years: 3, from_year: 2016}]"
CASES = {
    # holidays, the fixed-asset and working-capital subsidies and their vintages, by sector and zone
    "package": ("policy_package_2016.yaml", []),
    "interest only": ("baseline.yaml", [INTEREST]),
    "holidays only": ("baseline.yaml", [HOLIDAYS]),
    # subsidies and a holiday in force that investors learn of only in 2018: their own holidays (plan_holiday_from)
    "holiday learnt late": ("baseline.yaml", [INTEREST, "policy.tax.holidays=[{exempt_years: 2, half_years: 3,"
                                              " from_year: 2016}, {exempt_years: 5, half_years: 1, from_year: 2018,"
                                              " announced: 2019}]"]),
    # ... without subsidies, learnt in 2019
    "unannounced holiday": ("baseline.yaml", ["policy.tax.holidays=[{exempt_years: 3, half_years: 3,"
                                              " from_year: 2016, announced: 2019}]"]),
    # the subsidy stops in 2019: later years keep booking (unsubsidised) loans into the vintages
    "vintages after the subsidy": ("baseline.yaml", ["policy.interest_subsidy.rules=[{fixed_asset_points:"
                                                     " {2016: 2.0, 2019: 0.0}, fixed_asset_years: 4}]"]),
}


def switches(k, vintages: int) -> tuple:
    return bool(k.has_interest_subsidy), bool(k.has_holidays), k.plan_holiday_from is not None, vintages > 0


def awkward(st, year: int, seed: int) -> None:
    """The living firms given cash of both signs, debt, capacity on order in every slot, subsidised
    loans in every vintage, first revenue years over every tax-year slot (and none yet) and loss
    records up to the exit limit: rounded nowhere, so that any other order of operations shows. A
    twentieth of them have not started (no revenue yet, and too unproductive to produce) and carry
    large subsidised loans: their subsidy exceeds their interest, so that they have taxable profit."""
    rng = np.random.default_rng(seed)
    alive = np.flatnonzero(st.alive)
    scale = st.capacity[alive]
    for slot in st.raw("pending"):
        slot[alive] = scale * rng.uniform(0.0, 0.3, alive.size)
    for vintage in st.raw("sub_debt"):
        vintage[alive] = np.abs(st.debt[alive]) * rng.uniform(0.0, 0.4, alive.size)
    st.raw("cash")[alive] = rng.normal(0.0, 1.0, alive.size) * np.abs(st.cash[alive]).mean()
    st.raw("debt")[alive] *= rng.uniform(0.5, 2.0, alive.size)
    first = rng.integers(year - 9, year + 1, alive.size)
    first[rng.random(alive.size) < 0.1] = NO_REVENUE_YET
    st.raw("first_revenue_year")[alive] = first
    st.raw("loss_years")[alive] = rng.integers(0, 4, alive.size)
    idle = alive[rng.random(alive.size) < 0.05]
    st.raw("first_revenue_year")[idle] = NO_REVENUE_YET
    st.raw("inv_productivity")[idle] *= 20.0
    st.raw("capacity")[idle] *= 0.01
    for vintage in st.raw("sub_debt"):
        vintage[idle] = 3.0 * np.abs(st.debt[idle])


def compared_chunks(eng, k, year: int, seen: dict) -> None:
    """Every chunk settled on numpy's path and by the kernel from the same state: the same sums,
    leaving rows and state, bit for bit (the state then put back as it was)."""
    st = eng.st
    assert kernels_finance.covers_finance(k, st.vintages)
    saved = {name: st.raw(name).copy() for name in STATE}
    tables = kernels_finance.finance_table(k)
    results = {}
    for path in ("numpy", "kernel"):
        for name in STATE:
            st.raw(name)[...] = saved[name]
        chunks = []
        for chunk, (working, building) in zip(eng.chunks(), eng._planned):
            if not chunk.sizes.all():
                continue
            working, building = working.copy(), building.copy()
            if path == "numpy":
                chunks.append(eng._settle_chunk(chunk, (working, building), k, year))
            else:
                eng._reprice_working(chunk, working, k)
                chunks.append(kernels_finance.settle_rows(k, tables, chunk, st, working, building, year))
        results[path] = chunks, {name: st.raw(name).copy() for name in STATE}
    for name in STATE:
        st.raw(name)[...] = saved[name]
    (on_numpy, state_numpy), (on_kernel, state_kernel) = results["numpy"], results["kernel"]
    assert len(on_numpy) == len(on_kernel) > 0
    for (parts_a, gone_a), (parts_b, gone_b) in zip(on_numpy, on_kernel):
        assert sorted(parts_a) == sorted(parts_b)
        for name in parts_a:
            assert np.array_equal(bits(parts_a[name]), bits(parts_b[name])), (year, name)
        assert np.array_equal(gone_a, gone_b), year
        seen["leaving"] += gone_a.size
    for name in STATE:
        assert np.array_equal(state_numpy[name].view(np.uint8), state_kernel[name].view(np.uint8)), (year, name)
    seen["switches"].add(switches(k, st.vintages))
    seen["interest"] += sum(float(np.abs(p["interest_subsidy"]).sum()) for p, _ in on_numpy if "interest_subsidy" in p)
    changed = state_numpy["sub_debt"] != saved["sub_debt"]
    seen["new vintages"] += int(changed.sum())


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_chunk_is_numpys_bits_on_the_same_state(monkeypatch, case):
    scenario, overrides = CASES[case]
    sc = load_scenario(ROOT / "scenarios" / scenario, ["replications=1", "horizon.years=9", *overrides])
    seen = {"switches": set(), "leaving": 0, "interest": 0.0, "new vintages": 0}
    settle, plan = engine.VectorEngine.settle, engine.VectorEngine.plan

    def perturbed(eng, *args):
        if not seen.get("perturbed"):  # the first year, before the firms plan
            awkward(eng.st, sc.spec.horizon.start, seed=len(case))
            seen["perturbed"] = True
        return plan(eng, *args)

    def checked(eng, k, year):
        if kernels_finance.covers_finance(k, eng.st.vintages):
            compared_chunks(eng, k, year, seen)
            seen["years"] = seen.get("years", 0) + 1
        return settle(eng, k, year)

    monkeypatch.setenv("VALUECHAIN_KERNELS", "numba")
    monkeypatch.setattr(engine.VectorEngine, "settle", checked)
    monkeypatch.setattr(engine.VectorEngine, "plan", perturbed)
    ValueChainModel(sc, rngs=np.random.SeedSequence(13).spawn(2)).run()
    assert seen["years"] >= 4
    assert seen["leaving"] > 0  # some firms left: the exit test was compared
    expected = {  # (interest subsidy, holidays, investors' own holidays, vintages): the switches the case takes
        "package": {(True, True, False, True)},
        "interest only": {(True, False, False, True)},
        "holidays only": {(False, True, False, False)},
        "holiday learnt late": {(True, True, True, True), (True, True, False, True)},
        "unannounced holiday": {(False, True, True, False), (False, True, False, False)},
        "vintages after the subsidy": {(False, False, False, True)},
    }[case]
    assert expected <= seen["switches"], seen["switches"]
    if any(s[0] for s in seen["switches"]):
        assert seen["interest"] > 0
    if any(s[3] for s in seen["switches"]):
        assert seen["new vintages"] > 0


@pytest.fixture
def paths(monkeypatch):
    """Run ``make()`` on each path; count the chunks each settle path computed."""
    return counting_paths(monkeypatch, [
        (kernels, "settle_rows", "compiled settle"), (kernels_finance, "settle_rows", "compiled finance settle"),
        (engine.VectorEngine, "_settle_chunk", "numpy settle")])


def test_the_2016_package_is_the_same_bits_compiled(paths):
    sc = load_scenario(ROOT / "scenarios" / "policy_package_2016.yaml", ["replications=1"])
    out = paths(lambda: ValueChainModel(sc, rng=1))
    assert set(out["numpy"][1]) == {"numpy settle"}
    assert set(out["numba"][1]) == {"compiled finance settle"}
    assert_same_bits(out["numpy"][0], out["numba"][0], 1)


def test_points_of_the_lever_sweep_side_by_side_are_the_same_bits_compiled(paths):
    """Sobol points of the four levers (scenarios/sweep_sobol_levers.yaml) in one model: holidays of
    different lengths (and none) and interest subsidies (and none), two replications each."""
    base = ROOT / "scenarios" / "sweep_base_levers.yaml"
    levers = [(0.31, 400, 0, 0.0), (0.27, 1200, 5, 3.1), (0.42, 0, 2, 0.7), (0.36, 900, 3, 2.2)]
    points = [load_scenario(base, ["replications=1", "horizon.years=10",
                                   f"policy.electricity_price.default={p}",
                                   f"policy.freight_subsidy.rules.0.yuan_per_t={y}",
                                   f"policy.tax.holidays.0.exempt_years={e}",
                                   f"policy.interest_subsidy.rules.0.fixed_asset_points={r}"])
              for p, y, e, r in levers]
    # a batch shares the year's branches: the points with a holiday and a subsidy together
    for group in (points[1:], points[:1]):
        scenarios = [s for s in group for _ in range(2)]
        seeds = np.random.SeedSequence(21).spawn(2) * len(group)
        out = paths(lambda runs=scenarios, seeds=seeds: ValueChainModel(runs[0], rngs=seeds, scenarios=runs))
        assert set(out["numba"][1]) == {"compiled finance settle"}
        assert_same_bits(out["numpy"][0], out["numba"][0], len(scenarios))


def test_years_with_other_levers_stay_on_numpys_path(paths, tmp_path):
    """Capital grants from 2019 beside the package: the kernel settles the years before, numpy's
    path the years of the grant (an investor cost factor); the same bits throughout."""
    scenario = tmp_path / "grants_later.yaml"
    scenario.write_text(f"name: grants_later\ninherits: {ROOT / 'scenarios' / 'policy_package_2016.yaml'}\n"
                        "policy:\n  capital_grants:\n    rules:\n      - {sectors: [textiles_apparel],"
                        " share: {2016: 0.0, 2019: 0.2}}\n")
    sc = load_scenario(scenario, ["replications=1", "horizon.years=8"])
    out = paths(lambda: ValueChainModel(sc, rng=3))
    on_numba = out["numba"][1]
    assert on_numba.get("compiled finance settle", 0) > 0 and on_numba.get("numpy settle", 0) > 0
    assert_same_bits(out["numpy"][0], out["numba"][0], 1)


def test_what_the_kernel_covers(monkeypatch):
    sc = load_scenario(ROOT / "scenarios" / "policy_package_2016.yaml", ["replications=1", "horizon.years=2"])
    model = ValueChainModel(sc, rng=1)
    model.step()
    k, vintages = model.last_year.coefficients, model.state.vintages
    assert vintages == 5 and kernels_finance.covers_finance(k, vintages) and not kernels.covers(k, vintages)
    for switch in ("has_labour_subsidy", "has_capex_factor", "track_orders"):
        assert not kernels_finance.covers_finance(dataclasses.replace(k, **{switch: True}), vintages), switch
    assert not kernels_finance.covers_finance(dataclasses.replace(k, adjustment_cost=np.array([2.0, 3.0])), vintages)
    plain = dataclasses.replace(k, has_interest_subsidy=False, has_holidays=False)
    assert kernels_finance.covers_finance(plain, vintages) and not kernels_finance.covers_finance(plain, 0)
    monkeypatch.setenv("VALUECHAIN_KERNELS", "numpy")
    assert engine.finance_kernels() is None
    monkeypatch.setenv("VALUECHAIN_KERNELS", "numba")
    assert engine.finance_kernels() is kernels_finance


def test_the_helpers_this_kernel_builds_in_are_the_stamped_ones() -> None:
    """numba caches this module's machine code keyed on its own file: a change to the helpers it
    takes from ``kernels`` must come with a new stamp here (which recompiles it), else this fails."""
    from valuechain.simulation.abm import kernels_finance

    assert kernels_finance.helpers_stamp() == kernels_finance.HELPERS_STAMP, (
        "kernels.py's helpers changed: set kernels_finance.HELPERS_STAMP to helpers_stamp()")
