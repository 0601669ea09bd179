"""Parent orders of placed plants (``investment_attraction``'s ``orders_per_placed_plant``,
docs/calibration.md §14.19): a relocated plant brings its parent's orders, which add to the demand
for its stage's regional output while it produces."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import DATA, ROOT
from valuechain.simulation import ValueChainModel
from valuechain.simulation.abm.state import FirmState
from valuechain.simulation.config.scenario import load_scenario
from valuechain.simulation.economy.levers.attraction import new_plant_orders, with_orders
from valuechain.simulation.economy.year import year_prices
from valuechain.simulation.running.runner import run_scenario

HISTORY = ROOT / "scenarios" / "history_2014_recorded.yaml"


def history_rules(share: float) -> str:
    return ("policy.investment_attraction.rules=[{stages: [garments], placed_plants_per_year: {2015: 245, 2024: 0},"
            f" announced: 2015, orders_per_placed_plant: {share}}}]")


def test_a_new_plant_brings_the_share_of_its_capacity_times_the_chance_it_is_placed():
    """Cells with placed plants only, with market entrants beside them, with none: orders = share x
    capacity x placed mean / mean, 0 where no new plant is expected."""
    got = new_plant_orders(np.array([0.5, 0.5, 0.5, 1.0]), np.array([80.0, 80.0, 80.0, 10.0]),
                           np.array([2.0, 1.0, 0.0, 0.0]), np.array([2.0, 4.0, 3.0, 0.0]))
    np.testing.assert_array_equal(got, [40.0, 10.0, 0.0, 0.0])


def test_orders_go_to_the_variety_reference_or_to_outside_demand():
    """Stage 0 sells a variety (sigma > 0): its orders add to the exports it sells at the market price;
    stage 1 is a price taker: they add to the outside demand it can reach."""
    demand, reference = with_orders(np.array([100.0, 50.0]), np.array([30.0, 20.0]), np.array([7.0, 5.0]),
                                    np.array([4.0, 0.0]))
    np.testing.assert_array_equal(demand, [100.0, 55.0])
    np.testing.assert_array_equal(reference, [37.0, 20.0])
    demand, reference = with_orders(np.array([100.0, 50.0]), None, np.array([7.0, 5.0]), np.zeros(2))
    np.testing.assert_array_equal(demand, [107.0, 55.0])
    assert reference is None


def test_the_stage_demand_rises_by_the_producing_placed_plants_capacity_times_the_share():
    """Tiny chain, parts a price taker: only placed plants enter (no other investors), none exits
    or changes hands; each year the demand parts face is the market's plus 0.5 x 5,000 t for every
    placed plant producing that year (none before the first arrives, after its build lag)."""
    settings = ["replications=1", "horizon.years=7", "firms.exit=false", "firms.closure_rate_per_year=0",
                "firms.potential_entrants_per_firm=0", "firms.potential_entrants_per_stage=0",
                "policy.investment_attraction.rules=[{stages: [parts], placed_plants_per_year: {2017: 2},"
                " orders_per_placed_plant: 0.5}]"]
    model = ValueChainModel(load_scenario(DATA / "tiny.yaml", settings), rng=3)
    parts = model.chain.order.index("parts")
    incumbents = model.state.next_id
    counts = []
    while model.running:
        model.step()
        year = model.year - 1
        market = year_prices(model.spec, model.chain, year, np.zeros(model.chain.n_stages)).demand
        st = model.state
        placed = int((st.alive & (st.capacity > 0) & (st.firm_id >= incumbents)).sum())  # they produced this year
        counts.append(placed)
        np.testing.assert_allclose(model.last_year.prices.demand[parts] - market[parts], 0.5 * 5000 * placed,
                                   rtol=1e-12, atol=1e-9)
        others = np.arange(model.chain.n_stages) != parts
        np.testing.assert_array_equal(model.last_year.prices.demand[others], market[others])
    assert counts[:3] == [0, 0, 0] and counts[-1] > counts[3] > 0  # placed from 2017, producing from 2019


def test_a_plants_orders_leave_with_it_and_a_row_reused_carries_none():
    st = FirmState(3)
    rows, _ = st.add(np.array([0, 0, 2]), lag=np.zeros(3, dtype=np.int8), capacity=np.array([5.0, 5.0, 5.0]),
                     parent_orders=np.array([2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(st.cell_sum(st.parent_orders), [5.0, 0.0, 4.0])
    st.remove(rows[:1])
    np.testing.assert_array_equal(st.cell_sum(st.parent_orders), [3.0, 0.0, 4.0])
    again, _ = st.add(np.array([0]), lag=np.zeros(1, dtype=np.int8), capacity=np.array([5.0]))
    assert again[0] == rows[0] and st.parent_orders[again[0]] == 0.0


def test_market_entrants_bring_no_orders():
    """A share on a rule that places no plant: the outside investors it brings are market
    entrants, with no parent's orders, so the run is the run without the key, bit for bit."""
    rule = "policy.investment_attraction.rules=[{stages: [parts], extra_investors_per_year: 20%s}]"
    settings = ["replications=2", "horizon.years=6"]
    plain = run_scenario(load_scenario(DATA / "tiny.yaml", [*settings, rule % ""]))
    ordered = run_scenario(load_scenario(DATA / "tiny.yaml", [*settings, rule % ", orders_per_placed_plant: 1"]))
    assert plain.stages.query("stage == 'parts'").entries.sum() > 0  # market entrants came: the rule acts
    pd.testing.assert_frame_equal(ordered.stages, plain.stages, check_exact=True)


def test_in_the_2014_history_orders_raise_garment_output_and_textile_jobs():
    """The recorded history with the placed plants' parent orders at 0.4 of their capacity against
    none: more garment output in every year of the drive from 2016, and more textile and apparel
    jobs (garments' employment) then, on the same seeds."""
    settings = ["replications=2"]
    runs = {share: run_scenario(load_scenario(HISTORY, [*settings, history_rules(share)])).stages
            for share in (0, 0.4)}
    garments = {share: st.query("stage == 'garments'").groupby("year")[["output", "employment"]].sum()
                for share, st in runs.items()}
    years = list(range(2016, 2024))
    assert (garments[0.4].loc[years, "output"] > garments[0].loc[years, "output"]).all()
    assert (garments[0.4].loc[years, "employment"] > garments[0].loc[years, "employment"]).all()
    before = lambda st: st[st.year < 2016].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(before(runs[0.4]), before(runs[0]))  # the first plants produce in 2016
