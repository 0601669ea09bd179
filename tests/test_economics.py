"""The model against theory: Leontief quantity and price models, accounting identities, levers."""

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, ROOT
from valuechain.simulation.config.scenario import load_scenario
from valuechain.simulation.economy import iomath
from valuechain.simulation.running.runner import run_scenario

LEONTIEF_SETTINGS = [
    "firms.productivity_sd=0", "firms.entry=false", "firms.exit=false", "firms.capacity_limits=false",
    "firms.min_per_stage=1", "shocks.price_volatility=0", "replications=1",
]
CHAINS = [str(DATA / "tiny.yaml"), "default"]


def scenario(which, *overrides):
    if which == "default":
        from conftest import ROOT

        return load_scenario(ROOT / "scenarios" / "baseline.yaml", list(overrides))
    return load_scenario(which, list(overrides))


def outside_demand(chain, t, price):
    """Exogenous outside demand, recomputed from the chain file's formula."""
    return chain.demand0 * (1 + chain.demand_growth) ** t * (price / chain.price0) ** (-chain.elasticity)


@pytest.mark.parametrize("which", CHAINS)
def test_gross_output_is_the_leontief_solution(which):
    sc = scenario(which, *LEONTIEF_SETTINGS)
    res = run_scenario(sc)
    c = sc.chain
    for year, frame in res.stages.groupby("year"):
        frame = frame.set_index("stage").loc[c.order]
        f = outside_demand(c, year - sc.spec.horizon.start, frame.price.to_numpy())
        x = iomath.leontief_quantity(c.A, f)
        np.testing.assert_allclose(frame.output.to_numpy(), x, rtol=1e-3)
        assert (frame.exports.to_numpy() == pytest.approx(f, rel=1e-9))


@pytest.mark.parametrize("which", CHAINS)
def test_primary_cost_change_moves_unit_costs_as_the_leontief_price_model(which):
    sc = scenario(which, *LEONTIEF_SETTINGS, "horizon.years=1")
    c = sc.chain
    upstream = c.order[0]
    dearer = scenario(which, *LEONTIEF_SETTINGS, "horizon.years=1",
                      f"policy.electricity_price.rules=[{{stages: [{upstream}], price_yuan_per_kwh: 0.60}}]")
    base = run_scenario(sc).stages.set_index("stage").loc[c.order]
    high = run_scenario(dearer).stages.set_index("stage").loc[c.order]
    dv = np.zeros(c.n_stages)
    dv[0] = c.kwh[0] * (0.60 - 0.40)
    expected = iomath.leontief_price(c.A, dv)
    np.testing.assert_allclose((high.unit_cost - base.unit_cost).to_numpy(), expected, rtol=1e-9, atol=1e-9)
    assert expected[0] > 0  # the test moves something


def tiny_mix():
    return scenario(str(DATA / "tiny.yaml"), "policy.electricity_price.default=0.30",
                    "policy.freight_subsidy.rules=[{stages: [metal], yuan_per_t: 800}]",
                    "policy.tax.holidays=[{exempt_years: 2, half_years: 3}]",
                    "policy.interest_subsidy.rules=[{fixed_asset_points: 2, working_capital_points: 4}]")


@pytest.fixture(scope="module", params=["tiny_mix", "default_package"])
def full_run(request):
    """A full run with every lever active: the tiny chain with a mix, the default chain's 2016 package."""
    if request.param == "tiny_mix":
        sc = tiny_mix()
    else:
        from conftest import ROOT

        sc = load_scenario(ROOT / "scenarios" / "policy_package_2016.yaml", ["replications=2", "firms.scale=0.5"])
    return sc, run_scenario(sc)


def test_value_added_is_sales_minus_intermediate_inputs(full_run):
    _, res = full_run
    st = res.stages
    np.testing.assert_allclose(st.value_added, st.sales - st.intermediate_inputs, rtol=1e-12, atol=1e-9)


def test_value_added_equals_the_incomes_it_pays(full_run):
    """Income side, from the firms' own accounts: VA = wages + profit + depreciation + interest
    - subsidies (freight subsidy and the power discount booked as fiscal cost)."""
    _, res = full_run
    keys = ["replication", "year", "stage"]
    st = res.stages.set_index(keys)
    fc = res.fiscal.pivot_table(index=keys, columns="lever", values="fiscal_cost").reindex(st.index)
    incomes = (st.labour_cost + st.profit + st.depreciation + st.interest - fc.freight_subsidy
               - fc.electricity_price)
    np.testing.assert_allclose(st.value_added, incomes, rtol=1e-9, atol=1e-6)
    assert (st.interest != 0).any() and (st.depreciation > 0).any()


def test_local_sales_equal_local_purchases_every_year(full_run):
    _, res = full_run
    by_year = res.stages.groupby(["replication", "year"])[["local_sales_value", "local_inputs"]].sum()
    np.testing.assert_allclose(by_year.local_sales_value, by_year.local_inputs, rtol=1e-9)
    assert (by_year.local_inputs > 0).all()


def test_quantities_add_up_and_stay_non_negative(full_run):
    _, res = full_run
    st = res.stages
    np.testing.assert_allclose(st.output, st.exports + st.local_sales, rtol=1e-12)
    for col in ("capacity", "output", "employment", "firms", "exports", "local_sales"):
        assert (st[col] >= 0).all(), col


def test_fiscal_cost_parts_match_their_definitions():
    """Electricity gap x kWh; subsidy per tonne x tonnes exported; tax gap against 25%."""
    sc = scenario(str(DATA / "tiny.yaml"), "firms.productivity_sd=0", "policy.electricity_price.default=0.30",
                  "policy.freight_subsidy.rules=[{stages: [metal], yuan_per_t: 800}]",
                  "policy.tax.default_rate=0.15")
    res = run_scenario(sc)
    st = res.stages.set_index(["replication", "year", "stage"])
    fc = res.fiscal.pivot_table(index=["replication", "year", "stage"], columns="lever", values="fiscal_cost")
    fc = fc.reindex(st.index)
    kwh = st.output * sc.chain.kwh[[sc.chain.index[s] for s in st.index.get_level_values("stage")]]
    years = st.index.get_level_values("year") - sc.spec.horizon.start
    kwh = kwh * (1 - sc.spec.firms.technical_change_per_year) ** years  # technical change saves power
    np.testing.assert_allclose(fc.electricity_price, 0.10 * kwh * 1e-6, rtol=1e-9)
    metal = st.xs("metal", level="stage")
    np.testing.assert_allclose(fc.xs("metal", level="stage").freight_subsidy, 800 * metal.exports * 1e-6, rtol=1e-9)
    np.testing.assert_allclose(fc.tax, st.tax_paid * (0.25 - 0.15) / 0.15, rtol=1e-9)
    total = res.fiscal.groupby("year").fiscal_cost.sum()
    parts = fc.groupby("year").sum().sum(axis=1)
    np.testing.assert_allclose(total, parts, rtol=1e-12)


def test_levers_set_to_zero_reproduce_the_baseline_exactly():
    path = str(DATA / "tiny.yaml")
    base = run_scenario(scenario(path))
    zero = run_scenario(scenario(
        path, "policy.electricity_price.rules=[{sectors: [equipment], price_yuan_per_kwh: 0.40}]",
        "policy.freight_subsidy.rules=[{stages: [metal], yuan_per_t: 0}]",
        "policy.tax.holidays=[{exempt_years: 0, half_years: 0}]",
        "policy.interest_subsidy.rules=[{fixed_asset_points: 0, working_capital_points: 0}]"))
    pd.testing.assert_frame_equal(base.stages, zero.stages)
    pd.testing.assert_frame_equal(base.fiscal, zero.fiscal)


def tiny_new_levers_mix():
    """Issue 12: every other lever on the tiny chain, the grant envelope and the cap binding."""
    return scenario(str(DATA / "tiny.yaml"), "replications=2",
                    "policy.electricity_price.default=0.30",
                    "policy.freight_subsidy.rules=[{stages: [metal], yuan_per_t: 500, local_input_yuan_per_t: 900}]",
                    "policy.tax.holidays=[{exempt_years: 2, half_years: 3}]",
                    "policy.capital_grants={rules: [{share: 0.2, cap_million_yuan_per_project: 50}],"
                    " envelope: {million_yuan_per_year: {2016: 20}}}",
                    "policy.land_support.rules=[{stages: [parts], discount: 1}]",
                    "policy.fast_track.rules=[{stages: [parts, ore], years_saved: {2018: 1}}]",
                    "policy.investment_attraction.rules=[{stages: [parts], extra_investors_per_year: 2,"
                    " incentive_million_yuan_per_project: 1}]",
                    "policy.sme_fund={max_project_million_yuan: 1000, rules: [{stake_share: 0.3}]}",
                    "policy.employment_subsidy.rules=[{social_insurance_yuan_per_worker_year: 10000, years: 3,"
                    " training_yuan_per_new_worker: 2000}]",
                    "policy.energy_saving.rules=[{stages: [metal], retrofit_share_per_year: {2017: 0.3},"
                    " saving_share: 0.1, grant_yuan_per_unit: 500}]",
                    "policy.capacity_rules={caps: [{stages: [metal], max_capacity_units: 160000}],"
                    " removals: [{stages: [ore], share_per_year: 0.05, compensation_yuan_per_unit: 50}]}")


@pytest.mark.parametrize("mix", [tiny_mix, tiny_new_levers_mix], ids=["four_levers", "with_the_other_levers"])
def test_engines_agree_on_a_policy_mix(mix):
    sc = mix()
    vec = run_scenario(sc)
    ref = run_scenario(sc, engine="reference")
    num = vec.stages.select_dtypes("number").columns
    np.testing.assert_allclose(ref.stages[num].to_numpy(), vec.stages[num].to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ref.fiscal.fiscal_cost, vec.fiscal.fiscal_cost, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("file", ["baseline.yaml", "policy_package_2016.yaml", "policy_package_2016_full.yaml"])
def test_engines_agree_on_the_default_chain(file):
    """Vectorized and per-agent reference engines: same rules, same numbers (1e-9 relative)."""
    from conftest import ROOT

    sc = load_scenario(ROOT / "scenarios" / file, ["replications=1", "horizon.years=8", "firms.scale=0.25"])
    vec, ref = run_scenario(sc), run_scenario(sc, engine="reference")
    num = vec.stages.select_dtypes("number").columns
    np.testing.assert_allclose(ref.stages[num].to_numpy(), vec.stages[num].to_numpy(), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(ref.fiscal.fiscal_cost, vec.fiscal.fiscal_cost, rtol=1e-9, atol=1e-6)
    assert vec.stages.entries.sum() > 0 and vec.stages.exits.sum() > 0  # entry and exit are exercised
    assert vec.stages.successions.sum() > 0  # and ownership turnover (economy.turnover)


@pytest.mark.parametrize("file", ["baseline.yaml", "policy_package_2016.yaml"])
def test_chunks_of_any_size_give_the_same_numbers(file, monkeypatch):
    """The vectorized engine in chunks of 97 rows (cells and runs of equal build lag cut across
    chunk edges) against the usual chunks (the default chain fits in one)."""
    from conftest import ROOT
    from valuechain.simulation.abm.engine import VectorEngine

    sc = load_scenario(ROOT / "scenarios" / file, ["replications=1", "horizon.years=8"])
    whole = run_scenario(sc)
    monkeypatch.setattr(VectorEngine, "CHUNK_ROWS", 97)
    cut = run_scenario(sc)
    num = whole.stages.select_dtypes("number").columns
    np.testing.assert_allclose(cut.stages[num].to_numpy(), whole.stages[num].to_numpy(), rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(cut.fiscal.fiscal_cost, whole.fiscal.fiscal_cost, rtol=1e-10, atol=1e-9)
    assert whole.stages.entries.sum() > 0 and whole.stages.exits.sum() > 0


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_local_sales_are_priced_between_netback_and_import_parity(share):
    """firms.local_price_share = 0: sellers' export netback; 1: buyers' import price (on the tiny
    chain local buyers are always served in full, so there is no scarcity mark-up)."""
    sc = scenario(str(DATA / "tiny.yaml"), f"firms.local_price_share={share}", "replications=1")
    st = run_scenario(sc).stages
    c = sc.chain
    local = st[st.local_sales > 0]
    idx = [c.index[s] for s in local.stage]
    netback, import_price = local.price - c.freight_out[idx], local.price + c.freight_in[idx]
    expected = netback + share * (import_price - netback)
    np.testing.assert_allclose(local.local_sales_value * 1e6 / local.local_sales, expected, rtol=1e-12)
    assert len(local) > 0


def test_local_market_clears_between_netback_and_import_parity():
    """markets.solve, one upstream stage 0 selling to stage 1 (2 units of 0 per unit of 1)."""
    from valuechain.simulation.economy import markets

    A = np.array([[0.0, 2.0], [0.0, 0.0]])
    demand = np.array([5.0, 10.0])  # outside demand; stage 1 makes 10, so local demand for 0 is 20
    ample = markets.solve(A, np.array([30.0, 10.0]), demand, True, np.array([40.0, 10.0]))
    assert ample.output[0] == 25.0 and ample.exports[0] == 5.0 and not ample.priced_up[0]
    assert ample.price_position[0] == 0.0
    cleared = markets.solve(A, np.array([12.0, 10.0]), demand, True, np.array([28.0, 10.0]))
    assert cleared.priced_up[0] and cleared.output[0] == 20.0 and cleared.exports[0] == 0.0
    assert cleared.price_position[0] == pytest.approx((20 - 12) / (28 - 12)) and cleared.local_ratio[0] == 1.0
    assert cleared.utilisation[0] == pytest.approx(20 / 28)
    short = markets.solve(A, np.array([12.0, 10.0]), demand, True, np.array([16.0, 10.0]))
    assert short.output[0] == 16.0 and short.price_position[0] == 1.0 and short.local_ratio[0] == pytest.approx(0.8)
    assert short.utilisation[0] == 1.0


def test_no_capacity_idles_beside_imports_if_it_covers_its_cost_at_import_parity():
    """Every stage-year of the default chain where local buyers import: all capacity that covers its
    variable cost at import parity produces (output = that capacity)."""
    from valuechain.simulation.abm.model import ValueChainModel

    sc = scenario(str(ROOT / "scenarios" / "baseline.yaml"), "firms.scale=0.3")
    model = ValueChainModel(sc, rng=5)
    checked = 0
    for _ in range(sc.spec.horizon.years):
        model.step()
        q, high = model.last_year.quantities, model.last_year.capacity_at_import_parity
        importing = q.local_ratio < 1.0
        np.testing.assert_allclose(q.output[importing], high[importing], rtol=1e-12)
        checked += importing.sum()
    assert checked > 0  # the check was not empty
