"""Issue 12: the policy's other levers. Directions with paired seeds, fiscal costs recomputed from
the outputs, and each lever at zero reproducing the baseline bit for bit."""

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, ROOT
from valuechain.simulation import ValueChainModel
from valuechain.simulation.config.scenario import load_scenario
from valuechain.simulation.running.runner import run_scenario

SCEN = ROOT / "scenarios"
SMALL = ["replications=3", "horizon.years=8", "firms.scale=0.2"]


def run(file="baseline.yaml", *overrides, settings=SMALL):
    return run_scenario(load_scenario(SCEN / file, list(settings) + list(overrides)))


def by_stage(res, col):
    return res.stages.groupby("stage")[col].sum()


def cost(res, lever):
    """Fiscal cost of one lever by (replication, year, stage), million yuan."""
    fc = res.fiscal[res.fiscal.lever == lever]
    return fc.set_index(["replication", "year", "stage"]).fiscal_cost


def stages(res):
    return res.stages.set_index(["replication", "year", "stage"])


def chain_values(res_index, values: pd.Series):
    """A per-stage chain value (Series by stage name) aligned with a (replication, year, stage) index."""
    return values.reindex(res_index.get_level_values("stage")).to_numpy()


@pytest.fixture(scope="module")
def chain():
    return load_scenario(SCEN / "baseline.yaml").chain


@pytest.fixture(scope="module")
def baseline():
    return run()


def deep_stages(chain, tiers=("deep",)):
    return [s for s, t in zip(chain.order, chain.tier) if t in tiers]


# --------------------------------------------------------------------------- capital grants

def test_capital_grants_raise_investment_in_their_targets_and_cost_the_grants_paid(baseline, chain):
    res = run("capital_grants.yaml")
    deep = deep_stages(chain)
    assert by_stage(res, "investment")[deep].sum() > by_stage(baseline, "investment")[deep].sum()
    # cost = share (capped per project: 10 million over a standard plant's cost) x capital cost of the orders
    plant_cost = pd.Series(chain.plant_capacity * chain.capital_cost, index=chain.order)
    share = np.minimum(0.10, 10e6 / plant_cost).where(pd.Series(chain.tier, index=chain.order) == "deep", 0.0)
    st = stages(res)
    expected = st.investment * chain_values(st.index, share)
    got = cost(res, "capital_grants").reindex(st.index)
    assert got.groupby("year").sum().max() < 500  # the envelope (500 million a year) does not bind here
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    assert got.sum() > 0


def test_grants_stop_when_the_envelope_is_spent(baseline, chain):
    res = run("capital_grants.yaml", "policy.capital_grants.envelope.million_yuan_per_year=5",
              "policy.capital_grants.rules=[{tiers: [deep], share: 0.3}]")
    yearly = cost(res, "capital_grants").groupby(["replication", "year"]).sum()
    assert (yearly <= 5 * (1 + 1e-9)).all()
    assert np.isclose(yearly, 5, rtol=1e-9).sum() >= 3  # it binds in some years
    deep = deep_stages(chain)
    assert by_stage(res, "investment")[deep].sum() > by_stage(baseline, "investment")[deep].sum()


# --------------------------------------------------------------------------- land support

def test_land_support_raises_investment_and_costs_the_land_revenue_forgone(baseline, chain):
    res = run("land_support.yaml")
    targets = deep_stages(chain, ("rough", "deep"))
    assert by_stage(res, "investment")[targets].sum() > by_stage(baseline, "investment")[targets].sum()
    st = stages(res)
    targeted = pd.Series(np.isin(chain.tier, ["rough", "deep"]) * 1.0, index=chain.order)
    expected = 0.5 * 0.05 * st.investment * chain_values(st.index, targeted)
    np.testing.assert_allclose(cost(res, "land_support").reindex(st.index), expected, rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------- fast-track approval

def test_fast_track_raises_entries_in_its_targets_and_costs_nothing(baseline, chain):
    res = run("fast_track.yaml")
    deep = deep_stages(chain)
    assert by_stage(res, "entries")[deep].sum() > by_stage(baseline, "entries")[deep].sum()
    assert (res.fiscal.fiscal_cost == 0).all()  # nothing else acts, and approval costs the budget nothing


def test_fast_track_delivers_capacity_a_year_sooner():
    """Tiny chain, no entry and no investment beyond a known order: parts (build lag 1) with one
    year saved get this year's orders next year (lag 0 delivers in the next year's start)."""
    settings = ["firms.entry=false", "firms.exit=false", "replications=1", "horizon.years=4",
                "shocks.price_volatility=0", "firms.productivity_sd=0"]
    base = run_scenario(load_scenario(DATA / "tiny.yaml", settings))
    fast = run_scenario(load_scenario(DATA / "tiny.yaml", settings + [
        "policy.fast_track.rules=[{stages: [ore], years_saved: 1}]"]))
    ore = lambda r: r.stages[r.stages.stage == "ore"].set_index("year").capacity  # noqa: E731
    # ore's build lag is 1: orders of 2016 arrive in 2018 in the baseline and in 2017 with fast track
    assert ore(fast)[2017] > ore(base)[2017]


# --------------------------------------------------------------------------- investment attraction

def absent_parts_chain(tmp_path):
    """The tiny chain with no parts firms at the start (an absent downstream stage that pays)."""
    text = (DATA / "tiny_chain.yaml").read_text()
    text = text.replace("initial: {capacity_units: 10000, firms: 4}", "initial: {capacity_units: 0, firms: 0}")
    (tmp_path / "tiny_chain.yaml").write_text(text)
    scen = (DATA / "tiny.yaml").read_text()
    (tmp_path / "tiny.yaml").write_text(scen)
    return tmp_path / "tiny.yaml"


def test_investment_attraction_raises_entries_in_an_absent_stage_and_books_its_incentive(tmp_path):
    path = absent_parts_chain(tmp_path)
    settings = ["replications=3", "firms.potential_entrants_per_stage=0.5"]
    base = run_scenario(load_scenario(path, settings))
    more = run_scenario(load_scenario(path, settings + [
        "policy.investment_attraction.rules=[{stages: [parts], extra_investors_per_year: 3,"
        " incentive_million_yuan_per_project: {2016: 1.5}}]"]))
    parts = lambda r: r.stages[r.stages.stage == "parts"]  # noqa: E731
    assert parts(more).entries.sum() > parts(base).entries.sum()
    st = stages(more)
    np.testing.assert_allclose(cost(more, "investment_attraction").reindex(st.index),
                               1.5 * st.entries * (st.index.get_level_values("stage") == "parts"), rtol=1e-12)


def entry_means_without_placed_plants(k, chain, f, zone_shares, year, firms_per_cell):
    """``economy.year.entry_means`` as it was before placed plants (main at e4df6bd), kept here to
    show that the new channel at zero leaves the function's answer as it was, bit for bit."""
    from valuechain.simulation.economy import firm, rules
    from valuechain.simulation.economy.year import potential_entrants

    cells = np.arange(chain.n_stages * 3)
    if k.has_holidays:
        holiday_from = k.holiday_from if k.plan_holiday_from is None else k.plan_holiday_from
        holiday = (year + 1 + k.build_lag) >= holiday_from
        tax_weight = k.tax_weight_k[(cells * 2 + holiday) * k.slots]
    else:
        tax_weight = k.base_tax_weight_k
    q_new = (firm.increment_value(k, 1.0, tax_weight) + k.labour_value_k) / k.entry_paid_factor - 1.0
    chance = rules.entry_probability(q_new, f.entry_hurdle_q, f.entry_dispersion_q)
    investors = (potential_entrants(f, zone_shares, firms_per_cell) * k.entrant_multiplier
                 + k.extra_entrants * f.scale * np.tile(zone_shares, chain.n_stages))
    return investors * chance


def year_one_coefficients(rules: str, settings=("replications=1", "firms.scale=0.5")):
    """The tiny chain's model after its first year, with ``rules`` as the attraction rules: the
    year's coefficients and what ``entry_means`` reads besides them."""
    model = ValueChainModel(load_scenario(DATA / "tiny.yaml", [*settings,
                                                               f"policy.investment_attraction.rules={rules}"]))
    model.step()
    return model, model.last_year.coefficients


def test_placed_plants_are_the_mean_of_new_plants_where_no_plant_would_pay():
    """Hurdle so high that the chance a plant pays is 0: the mean of new plants is the placed plants
    x scale x the zone's share in each targeted cell, 0 in every other (a zone-targeted rule
    reaches its zone only)."""
    from valuechain.simulation.economy.year import entry_means

    model, k = year_one_coefficients("[{stages: [parts], placed_plants_per_year: 7, extra_investors_per_year: 50},"
                                     " {stages: [metal], zones: [difficult_area], placed_plants_per_year: 3}]")
    f = model.spec.firms.model_copy(update={"entry_hurdle_q": 1e9})
    mean = entry_means(k, model.stacked, f, model.zone_shares, 2016, model.state.alive_count).reshape(3, 3)
    shares = np.array([0.75, 0.20, 0.05])
    np.testing.assert_array_equal(model.zone_shares, shares)
    expected = np.zeros((3, 3))  # stages ore, metal, parts x zones ordinary, difficult area, special zone
    expected[2] = 7 * 0.5 * shares
    expected[1, 1] = 3 * 0.5 * 0.20
    np.testing.assert_allclose(mean, expected, rtol=1e-15, atol=0)
    # at the default hurdle the placed plants come on top of the investors who find that a plant pays
    f = model.spec.firms
    args = (k, model.stacked, f, model.zone_shares, 2016, model.state.alive_count)
    paying = entry_means_without_placed_plants(*args)
    assert paying[6:].sum() > 0  # parts has paying investors too: the sum can tell them apart
    np.testing.assert_allclose(entry_means(*args) - paying, expected.ravel(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rules", ["[]", "[{stages: [parts], investor_multiplier: 2, extra_investors_per_year: 3,"
                                         " incentive_million_yuan_per_project: 1.5}]"])
def test_without_placed_plants_entry_means_is_the_function_as_it_was(rules):
    from valuechain.simulation.economy.year import entry_means

    model, k = year_one_coefficients(rules)
    args = (k, model.stacked, model.spec.firms, model.zone_shares, 2016, model.state.alive_count)
    assert entry_means(*args).sum() > 0
    np.testing.assert_array_equal(entry_means(*args), entry_means_without_placed_plants(*args))


def test_placed_plants_enter_where_no_plant_pays_and_are_paid_the_incentive():
    """With a hurdle no plant clears, parts get no new plant in the baseline; placed from 2018 they
    get plants every year from 2018 and none before; the other stages' entries of 2018, drawn on the
    same uniforms before any placed plant has produced, are the baseline's; the incentive is paid on
    every new plant."""
    settings = ["replications=3", "horizon.years=6", "firms.entry_hurdle_q=10"]
    base = run_scenario(load_scenario(DATA / "tiny.yaml", settings))
    placed = run_scenario(load_scenario(DATA / "tiny.yaml", settings + [
        "policy.investment_attraction.rules=[{stages: [parts], placed_plants_per_year: {2018: 4},"
        " incentive_million_yuan_per_project: 1.5}]"]))
    entries = lambda r: r.stages.set_index(["stage", "year", "replication"]).entries  # noqa: E731
    assert (entries(base).loc["parts"] == 0).all()
    got = entries(placed).loc["parts"].groupby("year").sum()
    assert (got.loc[:2017] == 0).all() and (got.loc[2018:] > 0).all()
    pd.testing.assert_series_equal(entries(placed).loc[["ore", "metal"]].xs(2018, level="year"),
                                   entries(base).loc[["ore", "metal"]].xs(2018, level="year"))
    before = lambda r: r.stages[r.stages.year < 2018].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(before(placed), before(base))
    st = stages(placed)
    np.testing.assert_allclose(cost(placed, "investment_attraction").reindex(st.index),
                               1.5 * st.entries * (st.index.get_level_values("stage") == "parts"), rtol=1e-12)


# --------------------------------------------------------------------------- SME fund

def test_sme_fund_raises_investment_in_eligible_stages_and_costs_its_expected_loss(baseline, chain):
    res = run("sme_fund.yaml")
    plant_cost = pd.Series(chain.plant_capacity * chain.capital_cost, index=chain.order)
    eligible = (plant_cost <= 200e6) & pd.Series(np.isin(chain.tier, ["rough", "deep"]), index=chain.order)
    targets = eligible[eligible].index
    assert by_stage(res, "investment")[targets].sum() > by_stage(baseline, "investment")[targets].sum()
    assert by_stage(res, "entries")[targets].sum() > by_stage(baseline, "entries")[targets].sum()
    st = stages(res)
    per_yuan = 0.20 * (1 - (0.97 * 1.0 / 1.03) ** 5)  # stake - PV at 3% of the buyback of survivors
    capex = st.entries * chain_values(st.index, plant_cost) * 1e-6
    expected = per_yuan * capex * chain_values(st.index, eligible.astype(float))
    np.testing.assert_allclose(cost(res, "sme_fund").reindex(st.index), expected, rtol=1e-9, atol=1e-9)
    assert expected.sum() > 0


# --------------------------------------------------------------------------- employment subsidies

def test_employment_subsidies_raise_targeted_employment(baseline, chain):
    res = run("employment_subsidy.yaml")
    textiles = [s for s, t, sec in zip(chain.order, chain.tier, chain.sector)
                if sec == "textiles_apparel" and t in ("rough", "deep")]
    assert by_stage(res, "employment")[textiles].sum() > by_stage(baseline, "employment")[textiles].sum()
    assert cost(res, "employment_subsidy").sum() > 0


def test_employment_subsidy_cost_is_the_subsidy_per_worker_times_workers():
    """Eligible for longer than the run, no training grant: cost = rate x local share x employment."""
    res = run("employment_subsidy.yaml", "policy.employment_subsidy.rules=[{sectors: [textiles_apparel],"
              " social_insurance_yuan_per_worker_year: 12000, years: 50, local_worker_share: 0.8}]")
    st = stages(res)
    textiles = (st.reset_index().stage.map(dict(zip(load_scenario(SCEN / "baseline.yaml").chain.order,
                                                    load_scenario(SCEN / "baseline.yaml").chain.sector)))
                == "textiles_apparel").to_numpy()
    expected = 12000 * 0.8 * st.employment * textiles * 1e-6
    np.testing.assert_allclose(cost(res, "employment_subsidy").reindex(st.index), expected, rtol=1e-9, atol=1e-9)


def test_social_insurance_is_paid_for_recruited_workers_not_the_workforce_already_there():
    """The policy pays social insurance for the Xinjiang workers firms recruit (招录的新疆籍人员): a
    firm first selling in the rule's first year or later, for its first N years. Without entry every
    firm was there before 2016 (successors keep the plant's start), so a rule from 2016 pays
    nothing; with entry it pays the entrants only: within 2016-2018 less than the whole textile
    workforce's rate x local share x employment, which a rule for the firms already there would pay."""
    rule = ("policy.employment_subsidy.rules=[{sectors: [textiles_apparel], social_insurance_yuan_per_worker_year: "
            "{2016: 12000}, years: 3, local_worker_share: 0.8}]")
    closed = run("baseline.yaml", rule, "firms.entry=false")
    assert (cost(closed, "employment_subsidy") == 0).all()
    assert cost(closed, "employment_subsidy").size > 0  # the lever is in the fiscal table, at zero
    res = run("employment_subsidy.yaml", rule)
    st = stages(res).reset_index()
    sector = dict(zip(load_scenario(SCEN / "baseline.yaml").chain.order,
                      load_scenario(SCEN / "baseline.yaml").chain.sector))
    textiles = st[(st.stage.map(sector) == "textiles_apparel") & st.year.between(2016, 2018)]
    paid = cost(res, "employment_subsidy").reset_index()
    paid = paid[paid.year.between(2016, 2018)].fiscal_cost.sum()
    whole_workforce = 12000 * 0.8 * textiles.employment.sum() * 1e-6
    assert 0 < paid < 0.5 * whole_workforce, (paid, whole_workforce)  # the entrants' workers only


# --------------------------------------------------------------------------- energy-saving fund

def test_energy_fund_lowers_kwh_per_unit_and_costs_the_grants(baseline, chain):
    res = run("energy_saving.yaml", "firms.productivity_sd=0")
    flat = run("baseline.yaml", "firms.productivity_sd=0")
    targets = ["electrolytic_aluminium", "industrial_silicon", "calcium_carbide"]
    per_unit = lambda r: (by_stage(r, "electricity_kwh") / by_stage(r, "output"))[targets]  # noqa: E731
    assert (per_unit(res) < per_unit(flat)).all()
    st = stages(res)
    kwh = pd.Series(chain.kwh, index=chain.order)
    years = st.index.get_level_values("year").to_numpy()
    done = np.minimum(1.0, 0.2 * (years - 2015))  # share retrofitted by the end of each year
    targeted = np.isin(st.index.get_level_values("stage"), targets)
    tech = (1 - res.scenario.spec.firms.technical_change_per_year) ** (years - 2016)  # the baseline's technical change
    # with identical firms, kWh = kWh per unit x technical change x the retrofits' factor x output
    factor = np.where(targeted, 1 - 0.05 * done, 1.0) * tech
    np.testing.assert_allclose(st.electricity_kwh, chain_values(st.index, kwh) * factor * st.output, rtol=1e-9)
    step = np.where(targeted, done - np.minimum(1.0, 0.2 * (years - 2016)), 0.0)
    np.testing.assert_allclose(cost(res, "energy_saving").reindex(st.index), 300 * step * st.capacity * 1e-6,
                               rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------- capacity rules

def test_a_capacity_cap_holds_capacity_at_or_below_it_every_year_and_replication(baseline):
    cap = 1.45e6  # 0.2 x the region's 7.0 Mt is 1.4 Mt at the start
    res = run("baseline.yaml", "policy.capacity_rules.caps=[{stages: [electrolytic_aluminium], "
              f"max_capacity_units: {cap:.0f}}}, {{stages: [coal_chemicals], water_quota_m3_per_year: 5000000,"
              " water_m3_per_unit: 25}]", "policy.electricity_price.default=0.25")
    al = res.stages[res.stages.stage == "electrolytic_aluminium"]
    assert (al.capacity <= cap * (1 + 1e-9)).all()
    cheap = run("baseline.yaml", "policy.electricity_price.default=0.25")
    assert cheap.stages[cheap.stages.stage == "electrolytic_aluminium"].capacity.max() > cap  # the cap binds
    coal = res.stages[res.stages.stage == "coal_chemicals"]
    assert (coal.capacity <= 5e6 / 25 * (1 + 1e-9)).all()
    assert cost(res, "capacity_rules").abs().sum() == 0  # a cap costs the budget nothing


def test_the_halted_share_brings_committed_capacity_down_to_the_cap_as_far_as_halting_can():
    from valuechain.simulation.economy.levers.capacity import halted_share

    cap = np.array([10.0, 10.0, 10.0, np.inf, 10.0])
    halts = np.array([1.0, 1.0, 1.0, 1.0, 0.0])
    committed = np.array([12.0, 9.0, 20.0, 50.0, 12.0])  # capacity there + under construction
    building = np.array([4.0, 3.0, 5.0, 5.0, 4.0])
    share = halted_share(cap, halts, committed, building)
    # 2 of 4 halted; under the cap: none; 10 over with 5 building: all of it; no cap; cap that only refuses
    np.testing.assert_allclose(share, [0.5, 0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose((committed - share * building)[:2], [10.0, 9.0])


def test_a_cap_that_halts_construction_stops_the_capacity_ordered_before_it():
    """The recorded history's aluminium ceiling (6.25 Mt from 2017, below the 7.5 Mt there in 2017):
    halting construction, no capacity arrives after 2017; refusing only new orders, the earlier
    orders still arrive. Before the ceiling's first year both runs are the same."""
    over = ["replications=2", "horizon.years=7"]
    cap = "policy.capacity_rules.caps=[{stages: [electrolytic_aluminium], max_capacity_units: {2017: 6250000}"
    halting = run_scenario(load_scenario("history_2014_recorded",
                                         over + [cap + ", halts_under_construction: true, announced: 2017}]"]))
    refusing = run_scenario(load_scenario("history_2014_recorded", over + [cap + ", announced: 2017}]"]))
    al = {k: r.stages[r.stages.stage == "electrolytic_aluminium"].pivot(index="year", columns="replication",
                                                                          values="capacity")
          for k, r in (("halting", halting), ("refusing", refusing))}
    pd.testing.assert_frame_equal(al["halting"].loc[:2017], al["refusing"].loc[:2017])
    assert (al["halting"].loc[2017] > 6.25e6).all()  # the ceiling is below the capacity already there
    assert (al["halting"].loc[2017:].diff().fillna(0.0) <= 1e-6).all().all()  # after 2017 it only wears
    assert (al["refusing"].loc[2018:].max() > al["refusing"].loc[2017]).all()  # the earlier orders arrive


def test_removing_backward_capacity_raises_the_stages_productivity(baseline):
    res = run("capacity_rules.yaml", "policy.capacity_rules.caps=[]")
    productivity = lambda r: by_stage(r, "output") / by_stage(r, "employment")  # noqa: E731  output per worker
    assert productivity(res)["calcium_carbide"] > productivity(baseline)["calcium_carbide"]
    assert by_stage(res, "exits")["calcium_carbide"] > by_stage(baseline, "exits")["calcium_carbide"]


def test_removal_compensation_is_paid_per_unit_of_capacity_closed(monkeypatch):
    sc = load_scenario(SCEN / "capacity_rules.yaml",
                       ["firms.scale=0.2", "horizon.years=4", "policy.capacity_rules.caps=[]"])
    model = ValueChainModel(sc, rng=3)
    closed = []
    close = model.engine.close

    def recording_close(rows):
        closed.append((model.year, model.state.capacity[rows].sum()))
        close(rows)

    monkeypatch.setattr(model.engine, "close", recording_close)
    model.run()
    fc = model.recorder.fiscal_frame()
    paid = fc[fc.lever == "capacity_rules"].groupby("year").fiscal_cost.sum()
    expected = pd.Series(dict(closed)) * 100 * 1e-6
    assert len(closed) == 4 and expected.min() > 0
    np.testing.assert_allclose(paid.loc[expected.index], expected, rtol=1e-12)


# --------------------------------------------------------------------------- conditional freight subsidy

def test_conditional_freight_pays_the_local_rate_on_the_local_input_share():
    """Tiny chain: metal's ore is all local (ore capacity far exceeds metal's needs), so the rule pays
    the local rate; with the local rate equal to the base rate it is the plain rule, bit for bit."""
    path = DATA / "tiny.yaml"
    local = run_scenario(load_scenario(path, ["policy.freight_subsidy.rules=[{stages: [metal], yuan_per_t: 500,"
                                              " local_input_yuan_per_t: 900, local_inputs: [ore]}]"]))
    st = stages(local).xs("metal", level="stage")
    ratio = cost(local, "freight_subsidy").xs("metal", level="stage").reindex(st.index) / (st.exports * 1e-6)
    np.testing.assert_allclose(ratio, 900, rtol=1e-9)
    plain = run_scenario(load_scenario(path, ["policy.freight_subsidy.rules=[{stages: [metal], yuan_per_t: 500}]"]))
    same = run_scenario(load_scenario(path, ["policy.freight_subsidy.rules=[{stages: [metal], yuan_per_t: 500,"
                                             " local_input_yuan_per_t: 500}]"]))
    pd.testing.assert_frame_equal(plain.stages, same.stages)


def test_fabric_from_local_yarn_earns_between_the_two_rates(chain):
    res = run("freight_subsidy_local_yarn.yaml")
    st = stages(res).xs("grey_fabric", level="stage")
    per_t = cost(res, "freight_subsidy").xs("grey_fabric", level="stage").reindex(st.index) / (st.exports * 1e-6)
    per_t = per_t[st.exports > 0]
    assert ((per_t >= 500 - 1e-6) & (per_t <= 900 + 1e-6)).all() and per_t.max() > 500


# --------------------------------------------------------------------------- zero values

ZERO = {  # each new lever with rules in force at values that change nothing
    "capital_grants": "policy.capital_grants={rules: [{tiers: [deep], share: 0}],"
                      " envelope: {million_yuan_per_year: 100}}",
    "land_support": "policy.land_support.rules=[{tiers: [deep], discount: 0}]",
    "fast_track": "policy.fast_track.rules=[{tiers: [deep], years_saved: 0}]",
    "investment_attraction": "policy.investment_attraction.rules=[{tiers: [deep], investor_multiplier: 1,"
                             " extra_investors_per_year: 0, placed_plants_per_year: 0,"
                             " incentive_million_yuan_per_project: 0}]",
    "sme_fund": "policy.sme_fund.rules=[{tiers: [deep], stake_share: 0}]",
    "employment_subsidy": "policy.employment_subsidy.rules=[{sectors: [textiles_apparel],"
                          " social_insurance_yuan_per_worker_year: 0, training_yuan_per_new_worker: 0}]",
    "energy_saving": "policy.energy_saving.rules=[{stages: [calcium_carbide], retrofit_share_per_year: {2016: 0},"
                     " saving_share: 0, grant_yuan_per_unit: 300}]",
    "capacity_rules": "policy.capacity_rules={caps: [{stages: [electrolytic_aluminium],"
                      " max_capacity_units: 1.0e+12}], removals: [{stages: [calcium_carbide], share_per_year: 0,"
                      " compensation_yuan_per_unit: 100}]}",
    "freight_subsidy_local_rate": "policy.freight_subsidy.rules=[{stages: [grey_fabric], yuan_per_t: 0,"
                                  " local_input_yuan_per_t: 0}]",
}


@pytest.mark.parametrize("lever", list(ZERO))
def test_each_new_lever_at_zero_reproduces_the_baseline_exactly(baseline, lever):
    zero = run("baseline.yaml", ZERO[lever])
    pd.testing.assert_frame_equal(baseline.stages, zero.stages)
    pd.testing.assert_frame_equal(baseline.fiscal, zero.fiscal)


def test_every_new_lever_at_zero_together_reproduces_the_baseline_exactly(baseline):
    zero = run("baseline.yaml", *ZERO.values())
    pd.testing.assert_frame_equal(baseline.stages, zero.stages)
    pd.testing.assert_frame_equal(baseline.fiscal, zero.fiscal)


# --------------------------------------------------------------------------- the whole package

def test_full_package_lists_every_lever_and_raises_downstream_investment(baseline):
    from valuechain.analysis import compare
    from valuechain.analysis.cost import cost_report
    from valuechain.simulation.schema import LEVERS

    pkg = run("policy_package_2016_full.yaml")
    assert set(pkg.fiscal.lever) == set(LEVERS) and len(LEVERS) == 12
    deep = lambda r: r.stages[r.stages.tier == "deep"].investment.sum()  # noqa: E731
    assert deep(pkg) > deep(run("policy_package_2016.yaml"))
    spent = pkg.fiscal.groupby("lever").fiscal_cost.sum()
    assert (spent.drop("fast_track") > 0).all() and spent["fast_track"] == 0
    # the comparison and the cost tables list every lever with its cost
    by_lever = compare(pkg, baseline, "fiscal_cost", by="lever").set_index("lever").effect
    assert set(by_lever.index) == set(LEVERS)
    np.testing.assert_allclose(by_lever[list(LEVERS)], (spent / 3)[list(LEVERS)], rtol=1e-9)
    costs = cost_report({"full": pkg}, baseline, effects=False, perspective="government").costs.iloc[0]
    np.testing.assert_allclose([costs[f"gross_{lv}"] for lv in LEVERS], (spent / 3)[list(LEVERS)], rtol=1e-9)
    # the region bears the income-tax lever at its 40% share of the tax, every other lever in full
    region = cost_report({"full": pkg}, baseline, effects=False).costs.iloc[0]
    share = pd.Series([0.4 if lv == "tax" else 1.0 for lv in LEVERS], index=list(LEVERS))
    np.testing.assert_allclose([region[f"gross_{lv}"] for lv in LEVERS], (share * spent / 3)[list(LEVERS)], rtol=1e-9)


# --------------------------------------------------------------------------- time paths

LATE = {  # each new lever starting in 2019: before it the rule does nothing
    "capital_grants": "policy.capital_grants={rules: [{tiers: [deep], share: {2019: 0.3}}],"
                      " envelope: {million_yuan_per_year: {2019: 5}}}",
    "land_support": "policy.land_support.rules=[{tiers: [rough, deep], discount: {2019: 1}}]",
    "fast_track": "policy.fast_track.rules=[{tiers: [deep], years_saved: {2019: 1}}]",
    "investment_attraction": "policy.investment_attraction.rules=[{tiers: [deep], investor_multiplier: {2019: 5},"
                             " extra_investors_per_year: {2019: 3}, placed_plants_per_year: {2019: 2},"
                             " incentive_million_yuan_per_project: {2019: 5}}]",
    "sme_fund": "policy.sme_fund.rules=[{tiers: [rough, deep], stake_share: {2019: 0.3}}]",
    "employment_subsidy": "policy.employment_subsidy.rules=[{sectors: [textiles_apparel],"
                          " social_insurance_yuan_per_worker_year: {2019: 12000},"
                          " training_yuan_per_new_worker: {2019: 1500}}]",
    "energy_saving": "policy.energy_saving.rules=[{stages: [calcium_carbide], retrofit_share_per_year: {2019: 0.5},"
                     " saving_share: 0.2, grant_yuan_per_unit: 300}]",
    "capacity_rules": "policy.capacity_rules={caps: [{stages: [electrolytic_aluminium],"
                      " max_capacity_units: {2019: 0}}], removals: [{stages: [calcium_carbide],"
                      " share_per_year: {2019: 0.2}}]}",
}


@pytest.mark.parametrize("lever", list(LATE))
def test_a_new_lever_does_nothing_before_its_first_year(baseline, lever):
    late = run("baseline.yaml", LATE[lever])
    before = lambda r, table: getattr(r, table)[getattr(r, table).year < 2019].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(before(baseline, "stages"), before(late, "stages"))
    pd.testing.assert_frame_equal(before(baseline, "fiscal"), before(late, "fiscal"))
    assert not late.stages.equals(baseline.stages)  # and it acts from 2019


def test_terms_set_is_dataclasses_replace():
    """``CellTerms.set`` (a lever's change of its fields): the terms ``dataclasses.replace`` gives, the
    original untouched, still frozen; an unknown field is refused as ``replace`` refuses it."""
    import dataclasses

    from valuechain.simulation.economy.terms import CellTerms

    base = CellTerms.neutral(4)
    price = np.full((4, 3), 0.3)
    changed = base.set(power_price=price, statutory_rate=0.25)
    expected = dataclasses.replace(base, power_price=price, statutory_rate=0.25)
    for f in dataclasses.fields(CellTerms):
        assert getattr(changed, f.name) is getattr(expected, f.name) or (
            np.array_equal(getattr(changed, f.name), getattr(expected, f.name))), f.name
    assert type(changed) is CellTerms and base.statutory_rate == 0.0 and base.power_price is not price
    with pytest.raises(dataclasses.FrozenInstanceError):
        changed.statutory_rate = 0.1
    with pytest.raises(TypeError, match="power_prise"):
        base.set(power_prise=price)
