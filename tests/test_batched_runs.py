"""Runs side by side (issue 17, ``abm.batch``): a batched model advances many runs of a scenario in
one array state, and each run's frames are bit for bit those of the run alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from valuechain.simulation import load_scenario, run_scenario
from valuechain.simulation.abm import engine as engine_module
from valuechain.simulation.abm.batch import runs_that_fit
from valuechain.simulation.abm.engine import chunk_bounds
from valuechain.simulation.abm.model import ValueChainModel
from valuechain.simulation.running import runner

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def alone_and_side_by_side(name: str, runs: int, overrides=()) -> tuple[list, ValueChainModel]:
    sc = load_scenario(SCENARIOS / f"{name}.yaml", ["replications=1", *overrides])
    seeds = np.random.SeedSequence(sc.spec.seed).spawn(runs)
    alone = []
    for seed in seeds:
        model = ValueChainModel(sc, rng=seed)
        model.run()
        alone.append((model.recorder.stage_frame(), model.recorder.fiscal_frame(), model.state.rebuilds))
    batch = ValueChainModel(sc, rngs=seeds)
    batch.run()
    return alone, batch


def assert_runs_equal(alone: list, batch: ValueChainModel) -> None:
    for run, (stages, fiscal, _) in enumerate(alone):
        pd.testing.assert_frame_equal(batch.recorder.stage_frame(run), stages, check_exact=True)
        pd.testing.assert_frame_equal(batch.recorder.fiscal_frame(run), fiscal, check_exact=True)


@pytest.mark.parametrize("name", ["baseline", "policy_package_2016_full", "capacity_rules", "freight_subsidy",
                                  "history_2014_recorded"])
def test_each_run_side_by_side_is_the_run_alone(name: str) -> None:
    """The default chain, the mix of all twelve levers, backward capacity closed run by run, a
    freight subsidy that reads the market price (terms run by run), and the recorded history (a
    chain with capacity under construction at the start)."""
    alone, batch = alone_and_side_by_side(name, 4)
    assert batch.runs == 4
    assert not alone[0][0].equals(alone[1][0])  # the runs differ: the comparison can fail
    assert_runs_equal(alone, batch)


def test_runs_without_entry_side_by_side_are_the_runs_alone() -> None:
    """``firms.entry: false`` keeps only the minimum spare rows in each cell, for every run of the
    batch (it failed to tile them before: runs side by side could not be built without entry)."""
    alone, batch = alone_and_side_by_side("baseline", 3, ["firms.entry=false", "horizon.years=5"])
    assert not alone[0][0].equals(alone[1][0])
    assert (batch.recorder.stage_frame().entries == 0).all()
    assert_runs_equal(alone, batch)


def test_runs_side_by_side_rebuild_their_own_layouts() -> None:
    """Runs whose cells run out of room at different times: each run's layout (and so its sums)
    stays that of the run alone, whichever run beside it is rebuilt."""
    alone, batch = alone_and_side_by_side("policy_package_2016", 5)
    rebuilds = [r for *_, r in alone]
    assert batch.state.rebuilds > max(rebuilds)  # the batch rebuilt runs at other times than each alone
    assert_runs_equal(alone, batch)


def test_chunks_cut_each_run_where_it_is_cut_alone(monkeypatch) -> None:
    """With small chunks, cells are cut between chunks: beside other runs, a run is cut at the
    same rows as alone (its sums are the same bits)."""
    monkeypatch.setattr(engine_module.VectorEngine, "CHUNK_ROWS", 700)
    alone, batch = alone_and_side_by_side("baseline", 3, ["horizon.years=6"])
    bounds = chunk_bounds(batch.state.starts, batch.state.cells_per_run, 700)
    assert len(bounds) > 3 and all(b - a <= 700 for a, b in bounds)
    assert_runs_equal(alone, batch)


def test_chunks_kept_across_rebuilds_are_the_chunks_made_afresh(monkeypatch) -> None:
    """A chunk whose rows and segments a rebuild left as they were is kept (with the coefficients
    spread over its rows); every chunk, kept or new, is the chunk a fresh engine makes of the layout."""
    monkeypatch.setattr(engine_module.VectorEngine, "CHUNK_ROWS", 2_000)
    sc = load_scenario(SCENARIOS / "policy_package_2016.yaml", ["replications=1", "horizon.years=8"])
    model = ValueChainModel(sc, rngs=np.random.SeedSequence(3).spawn(8))
    kept = 0  # chunks kept through a rebuild
    while model.running:
        before, rebuilds = {id(c) for c in model.engine.chunks()}, model.state.rebuilds
        model.step()
        after = model.engine.chunks()
        if model.state.rebuilds > rebuilds:
            kept += sum(id(c) in before for c in after)
        fresh = engine_module.VectorEngine(model.state, model.stacked).chunks()
        assert len(after) == len(fresh)
        for mine, theirs in zip(after, fresh):
            assert (mine.rows, mine.cells) == (theirs.rows, theirs.cells)
            for name in ("sizes", "local", "segment_cells", "real"):
                a, b = getattr(mine, name), getattr(theirs, name)
                assert (a is None and b is None) or np.array_equal(a, b)
            assert [lag for _, lag in mine.lag_runs] == [lag for _, lag in theirs.lag_runs]
            for (run_a, _), (run_b, _) in zip(mine.lag_runs, theirs.lag_runs):
                assert run_a == run_b if isinstance(run_a, slice) else np.array_equal(run_a, run_b)
    assert kept > 0


def test_chunk_bounds_keep_a_run_alone_cut_every_chunk_rows() -> None:
    starts = np.array([0, 5, 5, 12, 30, 31])  # one run of five cells, 31 rows
    assert chunk_bounds(starts, 5, 10) == [(0, 10), (10, 20), (20, 30), (30, 31)]
    two = np.array([0, 3, 9, 9, 13])  # two runs of two cells: 9 and 4 rows
    assert chunk_bounds(two, 2, 10) == [(0, 9), (9, 13)]  # whole cells, runs not cut inside
    assert chunk_bounds(two, 2, 100) == [(0, 13)]


def test_replications_in_one_process_equal_those_on_a_pool() -> None:
    """``run_scenario`` in this process runs the replications side by side; on workers one at a time."""
    sc = load_scenario(SCENARIOS / "tax_holiday.yaml", ["replications=3", "horizon.years=5"])
    serial = run_scenario(sc)
    one_at_a_time = [runner.run_replication(sc, k, s) for k, s in enumerate(runner.child_seeds(sc.spec.seed, 3))]
    pd.testing.assert_frame_equal(serial.stages, pd.concat([o[0] for o in one_at_a_time], ignore_index=True),
                                  check_exact=True)
    pd.testing.assert_frame_equal(serial.fiscal, pd.concat([o[1] for o in one_at_a_time], ignore_index=True),
                                  check_exact=True)


def test_runs_that_fit_bounds_the_batch_by_memory() -> None:
    sc = load_scenario(SCENARIOS / "baseline.yaml", ["replications=1"])
    assert 1 < runs_that_fit(sc) <= 200
    assert runs_that_fit(sc, budget_bytes=1) == 1
    big = load_scenario(SCENARIOS / "baseline.yaml", ["replications=1", "firms.scale=20"])
    assert runs_that_fit(big) < runs_that_fit(sc)


def test_a_batched_model_needs_the_vectorized_engine_and_one_kind_of_seed() -> None:
    sc = load_scenario(SCENARIOS / "baseline.yaml", ["replications=1"])
    with pytest.raises(ValueError, match="rngs"):
        ValueChainModel(sc, rng=1, rngs=[1, 2])
    with pytest.raises(ValueError, match="vectorized"):
        ValueChainModel(sc, rngs=[1, 2], engine="reference")


def test_a_batched_run_table_is_the_table_of_its_frames() -> None:
    """A sweep stores a batched run's rows straight from the recorder (no frames): the same Arrow
    table as from the run's frames, every column kept and the analysis columns only."""
    from valuechain.simulation.running import sweeps

    sc = load_scenario(SCENARIOS / "policy_package_2016_full.yaml", ["replications=1", "horizon.years=4"])
    seeds = runner.child_seeds(sc.spec.seed, 3)
    batch = runner.run_batch(sc, [0, 1, 2], seeds)
    for columns in (sweeps.resolve_columns("all"), sweeps.resolve_columns("analysis")):
        for (recorder, run, _), replication in zip(batch, [0, 1, 2]):
            stages, fiscal, _ = runner.run_replication(sc, replication, seeds[replication])
            want, want_names = sweeps._run_table(7, stages, fiscal, columns)
            got, got_names = sweeps.recorded_run_table(7, sc.name, replication, recorder, run, columns)
            assert got.equals(want, check_metadata=True) and got.schema.equals(want.schema)
            assert got_names == want_names
        # one table for the batched model's runs (out of order, one left out): each run's slice is its table
        runs = [(2, 5, "b", 2), (0, 7, sc.name, 0)]
        tables, names = sweeps.recorded_run_tables(batch[0][0], runs, columns)
        for table, (run, point, name, replication) in zip(tables, runs):
            want, _ = sweeps.recorded_run_table(point, name, replication, batch[0][0], run, columns)
            assert table.equals(want, check_metadata=True) and table.schema.equals(want.schema)
        assert names == want_names


def side_by_side_equals_alone(points: list) -> list:
    """Two replications of each point side by side in one batched model; asserts that every run's
    stage and fiscal frames are those of the run alone, and returns the batch."""
    seeds = runner.child_seeds(20160101, 2)
    runs = [(sc, r) for sc in points for r in range(2)]
    batch = runner.run_batch(points[0], [r for _, r in runs], [seeds[r] for _, r in runs],
                             scenarios=[s for s, _ in runs])
    assert batch[0][0] is batch[-1][0]  # one batched model
    for (sc, r), (recorder, run, _) in zip(runs, batch):
        stages, fiscal, _ = runner.run_replication(sc, r, seeds[r])
        keys = {"scenario": sc.name, "replication": r}
        pd.testing.assert_frame_equal(recorder.stage_frame(run).assign(**keys)[stages.columns], stages,
                                      check_exact=True)
        pd.testing.assert_frame_equal(recorder.fiscal_frame(run).assign(**keys)[fiscal.columns], fiscal,
                                      check_exact=True)
    return batch


def test_sweep_points_with_other_lever_values_side_by_side_are_the_runs_alone() -> None:
    """Points of a sweep that differ in lever values (the power price, the freight subsidy's rate)
    go side by side in one batched model: each run is the run of its own point alone."""
    base = SCENARIOS / "policy_package_2016.yaml"
    points = [load_scenario(base, ["replications=1", "horizon.years=6", f"policy.electricity_price.default={p}"])
              for p in (0.30, 0.36, 0.42)]
    batch = side_by_side_equals_alone(points)
    prices = [recorder.stage_frame(run).value_added.sum() for recorder, run, _ in batch[::2]]
    assert len(set(prices)) == 3  # the points differ: the comparison can fail


def test_points_with_other_placed_plants_side_by_side_are_the_runs_alone() -> None:
    """Placed plants (``investment_attraction``) differing by point, side by side in one batched
    model: each run is the run of its own point alone, and the points differ in their garment entries."""
    base = SCENARIOS / "baseline.yaml"
    points = [load_scenario(base, ["replications=1", "horizon.years=5", "policy.investment_attraction.rules="
                                   f"[{{stages: [garments], placed_plants_per_year: {{2017: {n}}}}}]"])
              for n in (0, 3, 10)]
    batch = side_by_side_equals_alone(points)
    garments = [recorder.stage_frame(run).query("stage == 'garments'").entries.sum() for recorder, run, _ in batch]
    assert garments[0] < garments[2] < garments[4] and garments[1] < garments[3] < garments[5]


def garments_2017(batch, column: str) -> list[float]:
    """The garment stage's ``column`` in 2017 of each run of a ``side_by_side_equals_alone`` batch."""
    return [recorder.stage_frame(run).query("stage == 'garments' and year == 2017")[column].sum()
            for recorder, run, _ in batch]


def test_points_with_other_parent_orders_side_by_side_are_the_runs_alone() -> None:
    """The recorded 2014 history with the placed plants' parent orders at 0, 0.4 and 1 of their
    capacity (docs/calibration.md §14.19), side by side in one batched model: each run is the run of
    its own point alone (a run without orders beside runs with them too), and the points differ in
    their garment output."""
    base = SCENARIOS / "history_2014_recorded.yaml"
    rules = ("policy.investment_attraction.rules=[{stages: [garments], placed_plants_per_year: {2015: 245, 2024: 0},"
             " announced: 2015, orders_per_placed_plant: %s}]")
    points = [load_scenario(base, ["replications=1", "horizon.years=5", rules % share])
              for share in (0, 0.4, 1)]
    output = garments_2017(side_by_side_equals_alone(points), "output")
    assert output[0] < output[2] < output[4] and output[1] < output[3] < output[5]


def test_points_with_other_large_placed_plants_side_by_side_are_the_runs_alone() -> None:
    """The recorded 2014 history with 0, 2 and 5.4 of its placed garment plants a year at 1,100 t
    (docs/calibration.md §14.20), side by side in one batched model: each run is the run of its own
    point alone (a run without large plants beside runs with them too), and the points differ in
    their garment capacity."""
    base = SCENARIOS / "history_2014_recorded.yaml"
    rules = ("policy.investment_attraction.rules=[{stages: [garments], placed_plants_per_year: {2015: %s, 2024: 0},"
             " large_placed_plants_per_year: {2015: %s, 2024: 0}, capacity_per_large_placed_plant: 1100,"
             " announced: 2015, orders_per_placed_plant: 0.4}]")
    points = [load_scenario(base, ["replications=1", "horizon.years=4", rules % (245 - large, large)])
              for large in (0, 2, 5.4)]
    capacity = garments_2017(side_by_side_equals_alone(points), "capacity")
    assert capacity[0] < capacity[2] < capacity[4] and capacity[1] < capacity[3] < capacity[5]


def test_runs_whose_levers_switch_the_arithmetic_differently_cannot_share_a_batch() -> None:
    from valuechain.simulation.abm.batch import BatchMismatch

    plain = load_scenario(SCENARIOS / "baseline.yaml", ["replications=1", "horizon.years=3"])
    holidays = plain.with_overrides(policy=load_scenario(SCENARIOS / "tax_holiday.yaml").spec.policy)
    seeds = runner.child_seeds(1, 2)
    with pytest.raises(BatchMismatch, match="differ") as raised:
        ValueChainModel(plain, rngs=seeds, scenarios=[plain, holidays]).run()
    assert raised.value.labels.tolist() == [False, True]  # which run took which branch


def test_points_with_tax_holidays_of_other_lengths_side_by_side_are_the_runs_alone() -> None:
    """Tax holidays of 1, 3 + 2 and 5 years (exempt + half) side by side in one batched model: the
    holiday tables have the longest holiday's slots, and each run is the run of its own point alone
    (a shorter holiday's tables are the same bits past its own end, coefficients.holiday_slots)."""
    base = SCENARIOS / "sweep_base_levers.yaml"
    points = [load_scenario(base, ["replications=1", "horizon.years=6", f"policy.tax.holidays.0.exempt_years={e}",
                                   f"policy.tax.holidays.0.half_years={h}"]) for e, h in ((1, 0), (3, 2), (5, 0))]
    batch = side_by_side_equals_alone(points)
    taxes = [recorder.stage_frame(run).tax_paid.sum() for recorder, run, _ in batch[::2]]
    assert len(set(taxes)) == 3  # the points differ: the comparison can fail


def test_tax_tables_past_a_holiday_are_the_same_bits_in_every_later_slot() -> None:
    """What lets holidays of other lengths share tables: with more slots, every slot past a cell's
    exempt + half years + 1 holds that slot's rate and weight, bit for bit."""
    from valuechain.simulation.economy.coefficients import tax_tables

    rng = np.random.default_rng(3)
    cells = 40
    exempt, half = rng.integers(0, 6, cells).astype(float), rng.integers(0, 4, cells).astype(float)
    lag, w = rng.integers(0, 4, cells).astype(float), rng.uniform(0.7, 0.95, cells)
    first_h, last_h = 1.0 + lag, lag + 15.0
    base = rng.choice([0.15, 0.25, 0.1], cells)
    short = int((exempt + half).max()) + 2
    rate, weight = tax_tables(exempt, half, 0.125, base, lag, w, first_h, last_h, short)
    rate9, weight9 = tax_tables(exempt, half, 0.125, base, lag, w, first_h, last_h, short + 7)
    assert np.array_equal(rate9[..., :short], rate) and np.array_equal(weight9[..., :short], weight)
    for c in range(cells):
        own_last = int(exempt[c] + half[c]) + 1
        for table in (rate9, weight9):
            past = table[c, :, own_last:]
            assert np.array_equal(past, np.repeat(past[:, :1], past.shape[1], axis=1)), c


def test_a_sweep_books_only_the_rows_it_keeps_with_the_values_of_every_row_booked(monkeypatch) -> None:
    """The analysis columns booked alone (what a sweep keeps by default) are the values of the run's
    frame, bit for bit; the cost pass-through behind ``unit_cost`` is not computed for them, and a
    recorded array no row asked reads (the local supply ratio) is never stacked."""
    from valuechain.simulation.economy import accounts
    from valuechain.simulation.running import sweeps

    sc = load_scenario(SCENARIOS / "policy_package_2016_full.yaml", ["replications=1", "horizon.years=4"])
    seeds = runner.child_seeds(sc.spec.seed, 2)
    columns = sweeps.resolve_columns("analysis")
    (recorder, _, _), _ = runner.run_batch(sc, [0, 1], seeds)
    real_unit_costs = accounts.unit_costs

    def no_unit_costs(*args):
        raise AssertionError("unit costs computed for rows that do not need them")

    monkeypatch.setattr(accounts, "unit_costs", no_unit_costs)
    stage, fiscal = recorder.batch_columns([1], columns)
    _, _, cells, stages = recorder._booked()
    assert "local_ratio" not in stages and "inputs_y" in cells  # value added read the inputs, nobody the ratio
    monkeypatch.setattr(accounts, "unit_costs", real_unit_costs)
    frame, fiscal_frame, _ = runner.run_replication(sc, 1, seeds[1])
    for name in columns:
        assert np.array_equal(stage[name], frame[name].to_numpy()), name
    assert "unit_cost" not in columns and np.array_equal(  # the rows asked later: booked then, the same bits
        recorder.stage_columns(1)["unit_cost"], frame["unit_cost"].to_numpy())
    by_lever = fiscal_frame.pivot_table(index=["year", "stage"], columns="lever", values="fiscal_cost", sort=False)
    for key, values in fiscal.items():
        assert np.array_equal(values, by_lever[key].to_numpy()), key


def test_rows_asked_in_any_order_and_between_years_are_those_of_a_run_read_at_its_end() -> None:
    """The recorder books a row when first asked: rows and fiscal costs read after two years, then
    every row one at a time in a shuffled order after the third, are the bits of a model read once
    at its end."""
    import random

    from valuechain.simulation.schema import STAGE_COLUMNS

    sc = load_scenario(SCENARIOS / "policy_package_2016.yaml", ["replications=1", "horizon.years=3",
                                                                  "firms.scale=0.05"])
    seeds = np.random.SeedSequence(4).spawn(2)
    whole = ValueChainModel(sc, rngs=seeds)
    whole.run()
    want, want_fiscal = whole.recorder.stage_columns(1), whole.recorder.fiscal_costs(1)
    stepped = ValueChainModel(sc, rngs=seeds)
    stepped.step()
    stepped.step()
    early = stepped.recorder.stage_columns(1, ["value_added", "employment"])
    assert early["year"].max() == 2017 and stepped.recorder.fiscal_costs(1)["tax"].size == early["year"].size
    stepped.step()
    names = list(STAGE_COLUMNS)
    random.Random(0).shuffle(names)
    got = {}
    for name in names:
        got.update(stepped.recorder.stage_columns(1, [name]))
    for name in STAGE_COLUMNS:
        assert np.array_equal(got[name].view(np.uint8), want[name].view(np.uint8)), name
    for key, values in stepped.recorder.fiscal_costs(1).items():
        assert np.array_equal(values.view(np.uint8), want_fiscal[key].view(np.uint8)), key


def test_runs_side_by_side_that_differ_in_a_scalar_term_are_labelled_by_its_value() -> None:
    """stack_terms' mismatch names which runs share the scalar's value (NaN equal to nothing), so
    that a sweep can put each value's runs in a model of their own."""
    import dataclasses

    from valuechain.simulation.abm.batch import BatchMismatch, same_value_labels, stack_terms
    from valuechain.simulation.economy.levers import year_terms

    assert same_value_labels([0.25, 0.25, 0.15, np.nan, np.nan, 0.15]) == [0, 0, 2, 3, 4, 2]
    sc = load_scenario(SCENARIOS / "baseline.yaml", ["replications=1"])
    terms = year_terms(sc.spec.policy, sc.chain, 2016, sc.chain.price0)
    a, b, c = (dataclasses.replace(terms, statutory_rate=r) for r in (0.25, 0.25, 0.2))
    with pytest.raises(BatchMismatch, match="statutory_rate") as raised:
        stack_terms([a, b, a, c])
    assert raised.value.labels.tolist() == [0, 0, 0, 2]
