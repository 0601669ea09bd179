"""The firm arrays: cell blocks, entry into free slots, rare rebuilds that keep every firm's data."""

import numpy as np
from conftest import ROOT
from valuechain.simulation.abm.model import ValueChainModel
from valuechain.simulation.abm.state import GAP_MIN, GAP_SHARE, FirmState
from valuechain.simulation.config.scenario import load_scenario


def test_add_places_firms_in_their_cell_blocks_and_sums_by_cell():
    st = FirmState(n_cells=3, min_spare=2)
    rows, _ = st.add(np.array([0, 0, 2]), capacity=np.array([1.0, 2.0, 5.0]))
    assert np.all(st.cell[rows] == [0, 0, 2])
    np.testing.assert_array_equal(st.cell_sum(st.capacity), [3.0, 0.0, 5.0])
    np.testing.assert_array_equal(np.repeat([10.0, 20.0, 30.0], st.sizes)[rows], [10.0, 10.0, 30.0])
    np.testing.assert_array_equal(st.alive_count, [2, 0, 1])


def test_entry_uses_free_slots_and_a_rebuild_keeps_every_firm():
    st = FirmState(n_cells=2, min_spare=2)
    rows, _ = st.add(np.array([0, 1]), capacity=np.array([1.0, 7.0]))
    ids = st.firm_id[rows].copy()
    more, mapping = st.add(np.array([1]), capacity=np.array([8.0]))  # fits in cell 1's spare room
    assert mapping is None and st.rebuilds == 0
    st.remove(rows[:1])  # the cell-0 firm exits
    crowd, mapping = st.add(np.array([1, 1, 1, 1]), capacity=np.ones(4))  # overflows cell 1: rebuild
    assert st.rebuilds == 1 and mapping is not None
    assert mapping[rows[0]] == -1  # the dead row is dropped
    kept = mapping[rows[1]]
    assert st.firm_id[kept] == ids[1] and st.capacity[kept] == 7.0 and st.cell[kept] == 1
    assert st.capacity[mapping[more[0]]] == 8.0
    np.testing.assert_array_equal(st.alive_count, [0, 6])
    np.testing.assert_array_equal(st.cell_sum(st.capacity), [0.0, 19.0])


def test_entrants_take_the_rows_their_cell_lost_first():
    st = FirmState(n_cells=2, min_spare=3)  # room for three firms a cell
    rows, _ = st.add(np.array([0, 0, 1]), capacity=np.array([1.0, 2.0, 3.0]), loss_years=np.array([2, 3, 1]))
    st.remove(rows[[0, 2]])  # one firm of each cell leaves
    new, mapping = st.add(np.array([0, 0]), capacity=np.array([5.0, 6.0]))
    assert mapping is None and st.rebuilds == 0
    assert new[0] == rows[0]  # the cell-0 row is reused, the cell-1 row is not
    assert st.cell[new[1]] == 0 and new[1] not in rows
    assert st.loss_years[new[0]] == 0 and st.first_revenue_year[new[0]] == 0  # nothing of the firm that left
    assert list(st.firm_id[new]) == [3, 4] and st.alive[new].all() and not st.alive[rows[2]]
    np.testing.assert_array_equal(st.alive_count, [3, 0])
    np.testing.assert_array_equal(st.cell_sum(st.capacity), [13.0, 0.0])
    again, _ = st.add(np.array([1]), capacity=np.array([7.0]))
    assert again[0] == rows[2] and st.capacity[again[0]] == 7.0


def test_a_full_run_rebuilds_rarely_and_handles_follow_their_firms():
    sc = load_scenario(ROOT / "scenarios" / "policy_package_2016.yaml", ["replications=1"])
    model = ValueChainModel(sc, rng=5)
    model.step()
    handles = {int(model.state.firm_id[a.row]): a for a in model.firm_agents()}
    rebuilds_before = model.state.rebuilds
    model.run()
    assert model.recorder.stage_frame().entries.sum() > 50
    assert model.state.rebuilds > rebuilds_before  # the layout was rebuilt during the run...
    assert model.state.rebuilds <= sc.spec.horizon.years // 2  # ...but not every year
    survivors = [(fid, a) for fid, a in handles.items() if a.alive]
    assert survivors
    for fid, agent in survivors:  # handles follow their firms to the new rows
        assert int(model.state.firm_id[agent.row]) == fid
    assert len(model.firm_agents()) == int(model.state.alive.sum())


def test_a_run_rebuilt_within_its_gap_moves_no_other_run_and_is_laid_out_as_alone():
    """Runs side by side: a run whose rebuilt regions fit in its rows and gap is rebuilt where it is
    (no other row moves) into the layout of the run alone (the same regions, rows and sums)."""
    alone = FirmState(n_cells=2, min_spare=2)
    pair = FirmState(n_cells=4, min_spare=2, runs=2)
    a_rows, _ = alone.add(np.array([0, 0, 0, 1]), capacity=np.array([1.0, 2.0, 3.0, 7.0]))  # overflows: laid out
    p_rows, _ = pair.add(np.array([0, 0, 0, 1, 2, 2, 2, 3]),
                         capacity=np.array([5.0, 5.0, 5.0, 6.0, 1.0, 2.0, 3.0, 7.0]))
    assert pair.gaps.min() >= GAP_MIN and alone.gaps.max() == 0  # only runs side by side keep gaps
    n, first_run = pair.n, {name: pair.raw(name)[..., :pair.starts[2]].copy() for name in ("capacity", "alive")}
    alone.remove(a_rows[:1])
    pair.remove(p_rows[4:5])
    _, m_alone = alone.add(np.array([1, 1, 1, 1]), capacity=np.ones(4))  # overflows cell 1: rebuild
    _, m_pair = pair.add(np.array([3, 3, 3, 3]), capacity=np.ones(4))
    assert m_alone is not None and m_pair is not None and pair.n == n  # rebuilt in place
    np.testing.assert_array_equal(m_pair[:pair.starts[2]], np.arange(pair.starts[2]))  # run 0 untouched
    for name, rows in first_run.items():
        np.testing.assert_array_equal(pair.raw(name)[..., :pair.starts[2]], rows)
    np.testing.assert_array_equal(pair.sizes[2:], alone.sizes)
    start = pair.starts[2]
    for name in ("capacity", "alive", "inv_productivity", "loss_years"):
        np.testing.assert_array_equal(pair.raw(name)[start:start + alone.n], alone.raw(name))
    np.testing.assert_array_equal(pair.cell[start:start + alone.n], alone.cell + 2)
    np.testing.assert_array_equal(pair.cell_sum(pair.capacity), [15.0, 6.0, 5.0, 11.0])
    np.testing.assert_array_equal(pair.alive_count, [3, 1, 2, 5])


def test_a_run_that_outgrows_its_gap_moves_the_others_unchanged_each_with_a_new_gap():
    """Runs side by side: when a rebuilt run does not fit in its rows and gap, it is laid out as
    alone and the other runs' regions move unchanged (their rows, mapped by one shift); every run
    gets a new gap."""
    alone = FirmState(n_cells=2, min_spare=2)
    pair = FirmState(n_cells=4, min_spare=2, runs=2)
    alone.add(np.array([0, 0, 0, 1]), capacity=np.array([1.0, 2.0, 3.0, 7.0]))
    pair.add(np.array([0, 0, 0, 1, 2, 2, 2, 3]), capacity=np.array([1.0, 2.0, 3.0, 7.0, 5.0, 5.0, 5.0, 6.0]))
    old_start, old_end = int(pair.starts[2]), int(pair.ends[3])
    second = {name: pair.raw(name)[old_start:old_end].copy() for name in ("capacity", "alive", "cell", "firm_id")}
    crowd = np.zeros(200, dtype=np.int64)  # 200 entrants in cell 0: far beyond run 0's gap
    _, m_alone = alone.add(crowd, capacity=np.full(200, 0.5))
    _, m_pair = pair.add(crowd, capacity=np.full(200, 0.5))
    assert m_alone is not None and m_pair is not None and pair.starts[2] > old_start  # the runs moved
    np.testing.assert_array_equal(pair.sizes[:2], alone.sizes)
    for name in ("capacity", "alive", "cell", "inv_productivity"):
        np.testing.assert_array_equal(pair.raw(name)[:alone.n], alone.raw(name))
    shift = int(pair.starts[2]) - old_start
    np.testing.assert_array_equal(m_pair[old_start:old_end], np.arange(old_start, old_end) + shift)
    for name, rows in second.items():
        np.testing.assert_array_equal(pair.raw(name)[old_start + shift:old_end + shift], rows)
    run_rows = pair.sizes.reshape(2, 2).sum(axis=1)
    assert np.all(pair.gaps >= np.maximum(GAP_MIN, np.ceil(GAP_SHARE * run_rows)))  # a new gap for each run
    assert not pair.alive[pair.ends[1]:pair.starts[2]].any() and not pair.alive[pair.ends[3]:].any()
    np.testing.assert_array_equal(pair.cell[pair.ends[3]:], 3)  # a gap's rows: its run's last cell
    np.testing.assert_array_equal(pair.cell_sum(pair.capacity), [106.0, 7.0, 15.0, 6.0])
    np.testing.assert_array_equal(alone.cell_sum(alone.capacity), [106.0, 7.0])


def rebuild_in_place_run_by_run(st, sizes, runs, rebuilt, alive_per_cell, gaps_left):
    """The plain form of ``FirmState._rebuild_in_place``: each rebuilt run's rows refilled in turn,
    field by field, through masks of its own rows."""
    from valuechain.simulation.abm.state import FILL

    arrays, per_run = st._arrays, st.cells_per_run
    st._dead = st._dead[~rebuilt[arrays["cell"][st._dead]]]
    st._place(sizes, np.where(runs, gaps_left, st.gaps))
    mapping = np.arange(st.n, dtype=np.int64)
    for run in np.flatnonzero(runs):
        c0, c1 = run * per_run, (run + 1) * per_run
        a, b = int(st.starts[c0]), int(st.starts[c1])
        alive = arrays["alive"][a:b].copy()
        living = np.flatnonzero(alive)
        cell = np.repeat(np.arange(c0, c1), sizes[c0:c1])
        head = np.zeros(b - a, dtype=bool)
        head[:cell.size] = (np.arange(cell.size) + a - st.starts[cell]) < alive_per_cell[cell]
        for name, arr in arrays.items():
            rows = arr[..., a:b]
            values = rows[..., alive]
            rows[...] = FILL.get(name, 0)
            rows[..., head] = values
        arrays["cell"][a:a + cell.size] = cell
        arrays["cell"][a + cell.size:b] = c1 - 1
        mapping[a:b] = -1
        mapping[a + living] = a + np.flatnonzero(head)
    st.used = np.where(rebuilt, alive_per_cell, st.used)
    st.rebuilds += 1
    return mapping


def test_runs_rebuilt_in_place_together_are_rebuilt_as_run_by_run():
    """Random entry and exit in eight runs side by side (some runs empty, some cells emptied, every
    firm of a run leaving): the in-place rebuild of all rebuilt runs at once leaves every field,
    the layout, the free rows and the row mapping as rebuilding the runs one by one does."""
    runs, per_run = 8, 6
    rng = np.random.default_rng(17)
    fast = FirmState(n_cells=runs * per_run, subsidy_vintages=2, min_spare=2, runs=runs)
    plain = FirmState(n_cells=runs * per_run, subsidy_vintages=2, min_spare=2, runs=runs)
    calls = []

    def reference(*args):
        calls.append(int(args[1].sum()))
        return rebuild_in_place_run_by_run(plain, *args)

    plain._rebuild_in_place = reference
    in_place = []
    real = fast._rebuild_in_place
    fast._rebuild_in_place = lambda *args: in_place.append(1) or real(*args)
    for year in range(40):
        alive = np.flatnonzero(fast.alive)
        leaving = alive[rng.random(alive.size) < rng.choice([0.0, 0.2, 0.6])]
        if year % 9 == 4:  # every firm of run 3 leaves
            leaving = np.union1d(leaving, alive[fast.cell[alive] // per_run == 3])
        for st in (fast, plain):
            st.remove(leaving)
        empty_runs = {1} if year < 20 else set()  # run 1 places nothing for half the years
        cells = np.sort(rng.choice([c for c in range(runs * per_run) if c // per_run not in empty_runs],
                                   size=int(rng.integers(0, 60))))
        values = {"capacity": rng.random(cells.size), "inv_productivity": 1 + rng.random(cells.size),
                  "loss_years": rng.integers(0, 5, cells.size).astype(np.int16),
                  "first_revenue_year": rng.integers(2000, 2020, cells.size)}
        (rows_f, map_f), (rows_p, map_p) = (st.add(cells, **values) for st in (fast, plain))
        np.testing.assert_array_equal(rows_f, rows_p)
        assert (map_f is None) == (map_p is None)
        if map_f is not None:
            np.testing.assert_array_equal(map_f, map_p)
        for st in (fast, plain):
            st.raw("pending")[year % 4, rows_f] = values["capacity"]
            st.raw("sub_debt")[year % 2, rows_f] = 2 * values["capacity"]
        for name in fast._arrays:
            np.testing.assert_array_equal(fast.raw(name), plain.raw(name), err_msg=name)
        for name in ("starts", "ends", "gaps", "used", "alive_count", "recent_entry", "min_spare"):
            np.testing.assert_array_equal(getattr(fast, name), getattr(plain, name), err_msg=name)
        np.testing.assert_array_equal(np.sort(fast._dead), np.sort(plain._dead))
    assert len(in_place) == len(calls) >= 5 and max(calls) >= 2  # several rebuilds, some of several runs
