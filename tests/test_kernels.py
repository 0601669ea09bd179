"""The compiled kernels (``simulation/abm/kernels.py``, numba) give numpy's bits: their sums equal
``np.add.reduceat``'s and their extrema ``np.maximum``'s / ``np.minimum``'s, and a model run with
them has the same stage and fiscal frames as one on numpy's path (``VALUECHAIN_KERNELS=numpy``):
one run, runs side by side, points of a sweep side by side, a run whose years are partly left to
numpy, more firms. Where numba or its agreement with numpy is missing, the engine takes numpy's
path."""

import sys

import numpy as np
import pytest
from conftest import ROOT
from valuechain.simulation import abm, load_scenario
from valuechain.simulation.abm import engine, kernels
from valuechain.simulation.abm.model import ValueChainModel
from valuechain.simulation.abm.state import FIELDS
from valuechain.simulation.config.errors import InputError
from valuechain.simulation.economy import turnover

BASELINE = ROOT / "scenarios" / "baseline.yaml"


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def awkward_values(n: int, seed: int = 0) -> np.ndarray:
    """Magnitudes from 1e-3 to 1e9 of both signs, with +0.0 and -0.0 among them (and runs of -0.0)."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 10, n)
    values[::7] = 0.0
    values[::5] = -0.0
    values[100:140] = -0.0
    return values


def test_segment_sums_are_numpys_reduceat_bit_for_bit():
    sizes = np.r_[np.arange(1, 301), np.arange(300, 0, -1), 1024, 1031, 8193, 33_000]
    values = awkward_values(int(sizes.sum()))
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    out = np.empty(starts.size)
    kernels.reduceat(values, starts, out)
    assert np.array_equal(bits(out), bits(np.add.reduceat(values, starts)))
    negative_zeros = np.full(50, -0.0)  # a sum of -0.0 alone stays -0.0, at every length
    for n in range(1, 51):
        assert bits([kernels.segment_sum(negative_zeros, 0, n)]) == bits(np.add.reduceat(negative_zeros[:n], [0]))


def test_one_addition_in_another_order_is_told_apart():
    """The values above tell orders of summation apart: summed left to right, most lengths differ."""
    sizes = np.arange(9, 301)
    values = awkward_values(int(sizes.sum()))
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    in_order = np.array([np.cumsum(values[a:a + n])[-1] for a, n in zip(starts, sizes)])
    assert np.mean(bits(in_order) != bits(np.add.reduceat(values, starts))) > 0.5


def test_extrema_are_numpys_with_signed_zeros_nan_and_infinities():
    a = np.r_[awkward_values(2000), -0.0, 0.0, 1.0, np.nan, 2.0, -np.inf, np.inf, np.nan]
    b = np.r_[awkward_values(2000, seed=1), 0.0, -0.0, 1.0, 2.0, np.nan, np.inf, -np.inf, np.nan]
    out = np.empty((2, a.size))
    kernels.extrema(a, b, out)
    assert np.array_equal(bits(out[0]), bits(np.maximum(a, b)))
    assert np.array_equal(bits(out[1]), bits(np.minimum(a, b)))
    assert kernels.agrees_with_numpy()


@pytest.mark.parametrize("firms", [1, 2, 3, 40, 5000])
def test_the_compiled_closures_are_numpys_picks(firms):
    """``kernels.closing_rows``: the rows ``turnover.pick_closures`` picks (firms drawn twice close once:
    many in cells of two or three firms), in order, and their number by cell; ties of productivity
    close the first of the pair, NaN the second."""
    rng = np.random.default_rng(firms)
    per_cell = rng.integers(0, firms + 1, 60)
    counts = np.minimum(rng.poisson(0.6 * per_cell + 0.5), per_cell)
    rows = np.sort(rng.choice(4 * int(per_cell.sum()) + 1, int(per_cell.sum()), replace=False))
    cell = np.zeros(rows[-1] + 1, dtype=np.int64) if rows.size else np.zeros(1, dtype=np.int64)
    cell[rows] = np.repeat(np.arange(60), per_cell)  # the producing rows of each cell, in order
    inv_productivity = rng.choice([0.5, 1.0, 1.5, np.nan], cell.size)
    pairs = rng.random((int(counts.sum()), 2))
    expected = rows[turnover.pick_closures(per_cell, counts, pairs, lambda p: inv_productivity[rows[p]])]
    successions = np.zeros(60, dtype=np.int64)
    closing = kernels.closing_rows(per_cell, counts, pairs, rows, inv_productivity, cell, successions)
    assert np.array_equal(closing, expected)
    assert np.array_equal(successions, np.bincount(cell[expected], minlength=60))
    if firms in (2, 3):
        assert expected.size < counts.sum()  # some firm was drawn twice


def counting_paths(monkeypatch, targets):
    """``run(make)``: ``make()`` run on each path (numpy's, numba's), with the calls of each of
    ``targets`` ((owner, function name, label)) counted by label."""
    counts = {}

    def counted(owner, name, label):
        function = getattr(owner, name)

        def wrapper(*args, **kwargs):
            counts[label] = counts.get(label, 0) + 1
            return function(*args, **kwargs)
        monkeypatch.setattr(owner, name, wrapper)

    for target in targets:
        counted(*target)

    def run(make):
        out = {}
        for path in ("numpy", "numba"):
            monkeypatch.setenv("VALUECHAIN_KERNELS", path)
            counts.clear()
            model = make()
            model.run()
            out[path] = (model, dict(counts))
        return out
    return run


@pytest.fixture
def paths(monkeypatch):
    """Run ``make()`` on each path; count the chunks each path computed (settle)."""
    return counting_paths(monkeypatch, [
        (kernels, "settle_rows", "compiled settle"), (engine.VectorEngine, "_settle_chunk", "numpy settle"),
        (kernels, "closing_rows", "compiled turnover"), (turnover, "pick_closures", "numpy turnover"),
        (kernels, "rebuilt_rows", "compiled rebuild")])


STATE = (*FIELDS, "sub_debt")  # every array of the firms' state


def assert_same_bits(a, b, runs: int) -> None:
    """The runs' stage and fiscal frames, and the firms' state and layout at the end, bit for bit."""
    for name in ("starts", "ends", "used", "alive_count", "_dead"):
        assert np.array_equal(getattr(a.state, name), getattr(b.state, name)), name
    for name in STATE:
        assert np.array_equal(a.state.raw(name).view(np.uint8), b.state.raw(name).view(np.uint8)), name
    for run in range(runs):
        for frame in ("stage_frame", "fiscal_frame"):
            fa, fb = getattr(a.recorder, frame)(run), getattr(b.recorder, frame)(run)
            assert list(fa.columns) == list(fb.columns)
            for column in fa.columns:
                x, y = fa[column].to_numpy(), fb[column].to_numpy()
                same = np.array_equal(bits(x), bits(y)) if x.dtype.kind == "f" else np.array_equal(x, y)
                assert same, (run, frame, column)


def test_the_default_scenario_is_the_same_bits_compiled(paths):
    sc = load_scenario(BASELINE, ["replications=1"])
    out = paths(lambda: ValueChainModel(sc, rng=1))
    (numpy_model, on_numpy), (compiled, on_numba) = out["numpy"], out["numba"]
    assert set(on_numpy) == {"numpy settle", "numpy turnover"}
    assert set(on_numba) == {"compiled settle", "compiled turnover", "compiled rebuild"}
    assert_same_bits(numpy_model, compiled, 1)


@pytest.mark.parametrize("scenario", ["baseline.yaml", "fast_track.yaml"])
def test_runs_side_by_side_are_the_same_bits_compiled(paths, scenario):
    """Four replications in one model (fast track: the build lag changes, firm by firm)."""
    sc = load_scenario(ROOT / "scenarios" / scenario, ["replications=1", "horizon.years=8"])
    out = paths(lambda: ValueChainModel(sc, rngs=np.random.SeedSequence(3).spawn(4)))
    assert out["numba"][1].get("compiled settle", 0) > 0
    assert_same_bits(out["numpy"][0], out["numba"][0], 4)


def test_points_of_a_sweep_side_by_side_are_the_same_bits_compiled(paths):
    points = [load_scenario(BASELINE, ["replications=1", "horizon.years=8", f"policy.electricity_price.default={p}"])
              for p in (0.25, 0.33, 0.41)]
    scenarios = [s for s in points for _ in range(2)]
    seeds = np.random.SeedSequence(5).spawn(2) * 3
    out = paths(lambda: ValueChainModel(scenarios[0], rngs=seeds, scenarios=scenarios))
    assert out["numba"][1].get("compiled settle", 0) > 0
    assert_same_bits(out["numpy"][0], out["numba"][0], 6)


def test_a_run_whose_later_years_are_numpys_is_the_same_bits(paths, tmp_path):
    """Employment subsidies from 2020: the kernel settles the first years, numpy's path the later ones."""
    scenario = tmp_path / "subsidy_later.yaml"
    scenario.write_text(f"name: subsidy_later\ninherits: {BASELINE}\npolicy:\n  employment_subsidy:\n    rules:\n"
                        "      - sectors: [textiles_apparel]\n        tiers: [rough, deep]\n        years: 3\n"
                        "        local_worker_share: 0.8\n"
                        "        social_insurance_yuan_per_worker_year: {2016: 0, 2020: 12000}\n"
                        "        training_yuan_per_new_worker: {2016: 0, 2020: 1500}\n")
    sc = load_scenario(scenario, ["replications=1", "horizon.years=10"])
    out = paths(lambda: ValueChainModel(sc, rng=2))
    on_numba = out["numba"][1]
    assert on_numba.get("compiled settle", 0) > 0 and on_numba.get("numpy settle", 0) > 0
    assert_same_bits(out["numpy"][0], out["numba"][0], 1)


def test_many_firms_are_the_same_bits_compiled(paths):
    """About 100,000 firms: chunks cut inside cells, long segments (pairwise halves)."""
    base = load_scenario(BASELINE, ["replications=1", "horizon.years=4"])
    scale = 100_000 / int(base.chain.initial_firms.sum())
    sc = base.with_overrides(firms=base.spec.firms.model_copy(update={"scale": scale}))
    out = paths(lambda: ValueChainModel(sc, rng=1))
    assert out["numba"][0].state.n > 2 * engine.VectorEngine.CHUNK_ROWS
    assert out["numba"][1].get("compiled settle", 0) > 0
    assert_same_bits(out["numpy"][0], out["numba"][0], 1)


def awkward_state(model, seed: int = 7):
    """The living firms given capacity on order in every slot, cash of both signs and debt, all
    rounded nowhere (so that any other order of the operations on them shows)."""
    st = model.state
    alive = np.flatnonzero(st.alive)
    rng = np.random.default_rng(seed)
    scale = st.capacity[alive]
    for slot in st.raw("pending"):
        slot[alive] = scale * rng.uniform(0.0, 0.3, alive.size)
    st.raw("cash")[alive] = rng.normal(0.0, 1.0, alive.size) * np.abs(st.cash[alive]).mean()
    st.raw("debt")[alive] *= rng.uniform(0.5, 2.0, alive.size)
    return model


def test_an_awkward_state_is_the_same_bits_compiled(paths):
    sc = load_scenario(BASELINE, ["replications=1", "horizon.years=5"])
    out = paths(lambda: awkward_state(ValueChainModel(sc, rngs=np.random.SeedSequence(9).spawn(3))))
    assert out["numba"][1].get("compiled settle", 0) > 0
    assert_same_bits(out["numpy"][0], out["numba"][0], 3)


def test_without_numba_or_its_agreement_the_engine_takes_numpys_path(monkeypatch):
    monkeypatch.delenv("VALUECHAIN_KERNELS", raising=False)
    try:
        with monkeypatch.context() as m:
            m.setitem(sys.modules, "numba", None)  # numba does not import: nor does the kernels' module
            m.delitem(sys.modules, kernels.__name__)
            m.delattr(abm, "kernels")
            engine._loaded_kernels.cache_clear()
            assert engine.compiled_kernels() is None
        with monkeypatch.context() as m:
            m.setattr(kernels, "agrees_with_numpy", lambda: False)
            engine._loaded_kernels.cache_clear()
            assert engine.compiled_kernels() is None
        engine._loaded_kernels.cache_clear()
        assert engine.compiled_kernels() is kernels
        monkeypatch.setenv("VALUECHAIN_KERNELS", "numpy")
        assert engine.compiled_kernels() is None
    finally:
        engine._loaded_kernels.cache_clear()


def test_a_bad_kernels_choice_is_one_line(monkeypatch):
    monkeypatch.setenv("VALUECHAIN_KERNELS", "fortran")
    with pytest.raises(InputError) as err:
        engine.compiled_kernels()
    assert str(err.value) == "VALUECHAIN_KERNELS: must be numba or numpy (got fortran)"
    with pytest.raises(InputError, match="^VALUECHAIN_KERNELS: must be numba or numpy"):
        load_scenario(BASELINE)  # refused on loading, before a run writes anything


@pytest.mark.parametrize("runs", [1, 2])
def test_a_rebuilt_layout_is_the_same_bits_compiled(monkeypatch, runs):
    """``FirmState._rebuild`` of every run (a run alone; two side by side that outgrow their rows and
    gaps) with dead rows in every cell and an empty cell: the same arrays, layout and old -> new rows
    on both paths (``kernels.rebuilt_rows``, ``rebuilt_field``)."""
    from valuechain.simulation.abm.state import FirmState

    def rebuilt(path):
        monkeypatch.setenv("VALUECHAIN_KERNELS", path)
        rng = np.random.default_rng(11)
        st = FirmState(6 * runs, subsidy_vintages=2, runs=runs)
        n = 400 * runs
        cells = np.sort(rng.choice([c + 6 * r for r in range(runs) for c in (0, 1, 2, 4, 5)], n))  # cell 3 empty
        rows, _ = st.add(cells, capacity=rng.random(n), lag=rng.integers(1, 4, n).astype(np.int8),
                         cash=rng.normal(size=n), first_revenue_year=rng.integers(2000, 2020, n))
        st.raw("pending")[:, rows] = rng.random((4, n))
        st.raw("sub_debt")[:, rows] = rng.random((2, n))
        st.remove(np.sort(rng.choice(rows, 120 * runs, replace=False)))
        mapping = st.add(np.repeat(np.arange(6 * runs), 200), debt=np.arange(1200.0 * runs))[1]  # all overflow
        return st, mapping

    calls, compiled = [], kernels.rebuilt_rows
    monkeypatch.setattr(kernels, "rebuilt_rows", lambda *args: calls.append(1) or compiled(*args))
    (a, map_a), (b, map_b) = rebuilt("numpy"), rebuilt("numba")
    assert calls == [1]  # numba's path rebuilt once, compiled
    assert map_a is not None and np.array_equal(map_a, map_b) and (map_a >= 0).sum() == 280 * runs
    assert a.gaps.all() == (runs > 1)  # side by side: each run got a gap
    for name in (*FIELDS, "sub_debt"):
        assert np.array_equal(a.raw(name).view(np.uint8), b.raw(name).view(np.uint8)), name
    for name in ("starts", "ends", "used", "alive_count", "_dead", "min_spare", "gaps"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_pairwise_sums_from_their_blocks_are_the_same_bits():
    """The settle kernel sums a segment block by block as its rows are computed (``kernels._leaves``,
    ``_combine``): the bits of ``pairwise_sum`` (numpy's order) at every length to 2,100."""
    values = awkward_values(2100, seed=3)
    sizes = np.empty(2100 // 32 + 2, dtype=np.int64)
    stacks = [np.empty(kernels.MAX_DEPTH, dtype=dtype) for dtype in (np.int64, np.int64, np.float64, np.bool_)]
    for n in range(0, 2100):
        count = kernels._leaves(n, sizes, 0, stacks[0])
        ends = np.cumsum(sizes[:count])
        assert ends[-1] == n
        blocks = np.array([kernels.block_sum(values, int(e - s), int(s)) for e, s in zip(ends, sizes[:count])])
        assert bits([kernels._combine(n, blocks, *stacks[1:])]) == bits([kernels.pairwise_sum(values, 0, n)]), n


def test_a_layout_rebuilt_in_place_is_the_same_bits_compiled(monkeypatch):
    """``FirmState._rebuild_in_place`` (runs side by side, some of them outgrowing a cell but not their
    rows and gap), with dead rows, an empty cell and subsidised-loan vintages: the same arrays, layout
    and old -> new rows on both paths (``kernels.rebuilt_in_place_rows``, ``rebuilt_in_place_field``)."""
    from valuechain.simulation.abm.state import FirmState

    runs = 4

    def rebuilt(path):
        monkeypatch.setenv("VALUECHAIN_KERNELS", path)
        rng = np.random.default_rng(5)
        st = FirmState(6 * runs, subsidy_vintages=2, runs=runs)
        st.add(np.repeat(np.arange(6 * runs), 30))  # the first layout: every run gets a gap
        first = st.add(np.repeat(np.arange(6 * runs), 2))[0]  # (entry: no rebuild)
        st.remove(np.arange(st.n)[st.alive])  # every firm leaves ...
        cells = np.sort(rng.choice([c + 6 * r for r in range(runs) for c in (0, 1, 2, 4, 5)], 150 * runs))
        n = cells.size
        rows, mapping = st.add(cells, capacity=rng.random(n), lag=rng.integers(1, 4, n).astype(np.int8),
                               cash=rng.normal(size=n), first_revenue_year=rng.integers(2000, 2020, n),
                               loss_years=rng.integers(0, 3, n).astype(np.int16))
        st.raw("pending")[:, rows] = rng.random((4, rows.size))
        st.raw("sub_debt")[:, rows] = rng.random((2, rows.size))
        st.remove(np.sort(rng.choice(rows, 40 * runs, replace=False)))
        rebuilds = st.rebuilds
        more = np.r_[np.full(20, 1), np.full(25, 6 * 2 + 4)]  # outgrows cell 1 of run 0 and cell 4 of run 2
        mapping = st.add(more, debt=np.arange(float(more.size)))[1]
        assert st.rebuilds == rebuilds + 1 and first.size
        return st, mapping

    calls, compiled = [], kernels.rebuilt_in_place_rows
    monkeypatch.setattr(kernels, "rebuilt_in_place_rows", lambda *args: calls.append(1) or compiled(*args))
    (a, map_a), (b, map_b) = rebuilt("numpy"), rebuilt("numba")
    assert calls == [1]  # numba's path rebuilt in place once, compiled
    assert map_a is not None and np.array_equal(map_a, map_b) and (map_a == -1).any()
    for name in (*FIELDS, "sub_debt"):
        assert np.array_equal(a.raw(name).view(np.uint8), b.raw(name).view(np.uint8)), name
    for name in ("starts", "ends", "used", "alive_count", "_dead", "min_spare", "gaps", "recent_entry"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_a_layout_rebuilt_for_some_runs_with_every_run_moved_is_the_same_bits_compiled(monkeypatch):
    """``FirmState._rebuild`` of one run of three side by side that outgrows its rows and gap (so
    every run moves; the others keep their dead and free rows), with dead rows in every run, an
    empty cell and subsidised-loan vintages: the same arrays, layout, old -> new rows and dead rows
    on both paths (``kernels.rebuilt_some_rows``, ``rebuilt_field``)."""
    from valuechain.simulation.abm.state import FirmState

    runs = 3

    def rebuilt(path):
        monkeypatch.setenv("VALUECHAIN_KERNELS", path)
        rng = np.random.default_rng(8)
        st = FirmState(6 * runs, subsidy_vintages=2, runs=runs)
        cells = np.sort(rng.choice([c + 6 * r for r in range(runs) for c in (0, 1, 2, 4, 5)], 300 * runs))
        rows, _ = st.add(cells, capacity=rng.random(cells.size), cash=rng.normal(size=cells.size),
                         first_revenue_year=rng.integers(2000, 2020, cells.size))
        st.raw("sub_debt")[:, rows] = rng.random((2, rows.size))
        st.remove(np.sort(rng.choice(rows, 90 * runs, replace=False)))  # dead rows in every run
        before = st.starts.copy(), st.ends.copy()
        mapping = st.add(np.repeat(np.arange(6, 12), 150), debt=np.arange(900.0))[1]  # run 1 overflows
        return st, mapping, before

    calls, compiled = [], kernels.rebuilt_some_rows
    monkeypatch.setattr(kernels, "rebuilt_some_rows", lambda *args: calls.append(1) or compiled(*args))
    (a, map_a, (starts, ends)), (b, map_b, _) = rebuilt("numpy"), rebuilt("numba")
    assert calls == [1]  # numba's path rebuilt once, compiled
    assert map_a is not None and np.array_equal(map_a, map_b)
    assert a.starts[12] != starts[12]  # run 1 grew past its gap: run 2 moved
    assert (map_a[starts[0]:ends[5]] >= 0).all() and (map_a[starts[12]:ends[17]] >= 0).all()  # moved whole
    assert a._dead.size > 0  # the moved runs kept their dead rows
    for name in (*FIELDS, "sub_debt"):
        assert np.array_equal(a.raw(name).view(np.uint8), b.raw(name).view(np.uint8)), name
    for name in ("starts", "ends", "used", "alive_count", "_dead", "min_spare", "gaps"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
