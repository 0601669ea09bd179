"""The analyses of a sweep read one point at a time (``analysis.sweep_runs.SweepRuns``) and give exactly
what they give on the whole sweep loaded at once (``runs_from_sweep(load_sweep(...))``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sweep_mixes import SMALL, mix_sweep, sweep_and_base
from valuechain.analysis import compare_many, cost_report, load_sweep, runs_from_sweep
from valuechain.analysis import sweep_runs as sweep_runs_module
from valuechain.analysis.compare import load_many
from valuechain.analysis.sweep_runs import SweepRuns
from valuechain.simulation.config.errors import InputError

from valuechain.cli import main

MIX = mix_sweep(
    f"  - {{name: power_030, set: {{{SMALL}, policy.electricity_price.default: 0.30}}}}\n",
    f"  - {{name: freight_800, set: {{{SMALL}, policy.freight_subsidy.rules.0.yuan_per_t: 800}}}}\n",
)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> tuple[Path, Path]:
    """A sweep of three mixes x 3 replications in batch files of 2 runs (so points span files), and
    the base scenario run with the sweep's seed (the baseline, paired by replication)."""
    d = tmp_path_factory.mktemp("streaming")
    return sweep_and_base(d, MIX)


def test_a_point_read_alone_is_the_point_of_the_whole_sweep(sweep) -> None:
    d, _ = sweep
    lazy, whole = SweepRuns(d), runs_from_sweep(load_sweep(d))
    assert list(lazy) == list(whole) == ["power_030", "freight_800", "all_four"]
    assert isinstance(load_many(d), SweepRuns)
    for label in whole:
        a, b = lazy[label], whole[label]
        pd.testing.assert_frame_equal(a.stages, b.stages, check_exact=True)
        pd.testing.assert_frame_equal(a.fiscal, b.fiscal, check_exact=True)
        pd.testing.assert_frame_equal(a.runs, b.runs, check_exact=True)
        assert a.manifest == b.manifest and a.source == b.source
    assert whole["all_four"].fiscal.fiscal_cost.abs().sum() > 0  # the levers cost something: fiscal rows matter


def test_compare_and_cost_on_a_sweep_read_one_point_at_a_time_equal_the_loaded_sweep(sweep, monkeypatch) -> None:
    d, base = sweep
    whole = runs_from_sweep(load_sweep(d))
    read: list[set] = []
    original = sweep_runs_module._read_runs

    def spy(directory, ok, *args, **kwargs):
        read.append(set(ok["point"]))
        return original(directory, ok, *args, **kwargs)

    monkeypatch.setattr(sweep_runs_module, "_read_runs", spy)
    for metric, by in (("value_added", None), ("employment", "tier"), ("fiscal_cost", "lever")):
        pd.testing.assert_frame_equal(compare_many(SweepRuns(d), base, metric, by),
                                      compare_many(whole, base, metric, by), check_exact=True)
    streamed, loaded = cost_report(SweepRuns(d), base), cost_report(whole, base)
    for table in ("costs", "ratios", "by_year", "deadweight", "effects"):
        pd.testing.assert_frame_equal(getattr(streamed, table), getattr(loaded, table), check_exact=True)
    assert streamed.attrs == loaded.attrs
    assert read and all(len(points) == 1 for points in read)  # never more than one point's runs at once


def test_compare_and_cost_commands_on_a_sweep(sweep, capsys) -> None:
    d, base = sweep
    assert main(["compare", str(d), str(base)]) == 0
    out = capsys.readouterr().out
    assert all(label in out for label in ("power_030", "freight_800", "all_four"))
    assert main(["cost", str(d), str(base)]) == 0
    assert "all_four" in capsys.readouterr().out


def test_a_damaged_batch_file_is_named_when_its_point_is_read(sweep, tmp_path) -> None:
    d, _ = sweep
    copy = tmp_path / "copy"
    shutil.copytree(d, copy)
    runs = pd.read_parquet(copy / "runs.parquet")
    file = runs[runs.point == 2].file.iloc[0]
    data = bytearray((copy / file).read_bytes())
    data[100] ^= 0xFF
    (copy / file).write_bytes(bytes(data))
    lazy = SweepRuns(copy)
    with pytest.raises(InputError, match="checksum mismatch"):
        lazy["all_four"]


def one_file_sweep(d: Path, runs_per_group: int) -> Path:
    """The sweep of ``sweep`` in one batch file of 9 runs, in row groups of ``runs_per_group`` runs."""
    from valuechain.simulation import run_sweep, store_layout

    (d / "s.yaml").write_text(MIX)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_layout, "RUNS_PER_GROUP", runs_per_group)
        run_sweep(d / "s.yaml", out=d / "sweep", workers=1, progress=False, batch_size=9)
    return d / "sweep"


@pytest.fixture(scope="module")
def wide_sweep(tmp_path_factory) -> Path:
    """One row group holding every point's runs."""
    return one_file_sweep(tmp_path_factory.mktemp("streaming_wide"), 50)


@pytest.fixture(scope="module")
def grouped_sweep(tmp_path_factory) -> Path:
    """Row groups of 2 runs in one file: points span row groups."""
    return one_file_sweep(tmp_path_factory.mktemp("streaming_grouped"), 2)


@pytest.mark.parametrize("which", ["sweep", "wide_sweep", "grouped_sweep"])
def test_points_read_through_the_row_group_cache_equal_uncached_reads_and_hold_one_row_group(
        which, request) -> None:
    """``SweepRuns`` keeps the last row group it decoded (``sweep.LastRowGroup``): every point, read
    in any order, equals the point read without the cache, frame for frame; each row group is
    decoded once when the points are read in order; the cache never holds more than one row group."""
    import pyarrow.parquet as pq

    d = request.getfixturevalue(which)
    d = d[0] if isinstance(d, tuple) else d
    index = pd.read_parquet(d / "runs.parquet")
    groups = index[["file", "row_group"]].drop_duplicates()
    group_rows = {(f, g): pq.ParquetFile(d / f).metadata.row_group(int(g)).num_rows
                  for f, g in groups.itertuples(index=False)}
    assert index.file.nunique() == (5 if which == "sweep" else 1)
    assert len(groups) == {"sweep": 5, "wide_sweep": 1, "grouped_sweep": 5}[which]  # (9 runs of 3 points)
    cached, plain = SweepRuns(d), SweepRuns(d)
    plain._cache = None  # the uncached read: each point's row groups decoded for it
    for order in (list(cached), list(cached)[::-1]):
        for label in order:
            a, b = cached[label], plain[label]
            pd.testing.assert_frame_equal(a.stages, b.stages, check_exact=True)
            pd.testing.assert_frame_equal(a.fiscal, b.fiscal, check_exact=True)
            assert 0 < cached._cache.rows_held <= max(group_rows.values())  # one row group at most
        if order[0] == list(cached)[0]:  # in point order: each row group decoded once
            assert cached._cache.decoded == len(groups)


def test_the_fiscal_rows_order_is_the_lexsort_of_run_year_and_lever() -> None:
    """``sweep.fiscal_order`` gives ``np.lexsort((lever, year, run))``'s order of every stage row x
    lever: runs' rows year by year (the fast path), years out of order or repeated apart (the sort),
    no rows, no levers."""
    import numpy as np
    from valuechain.analysis.sweep import fiscal_order

    rng = np.random.default_rng(3)

    def plain(run, year, k):
        rows, lever = np.repeat(np.arange(run.size), k), np.tile(np.arange(k), run.size)
        order = np.lexsort((lever, year[rows], run[rows]))
        return rows[order], lever[order]

    for case in range(30):
        runs, years, stages, k = (int(v) for v in rng.integers([1, 1, 1, 0], [5, 6, 8, 6]))
        run = np.repeat(np.arange(runs), years * stages)
        year = np.tile(np.repeat(2016 + np.arange(years), stages), runs)
        if case % 3 == 1:  # a year out of order in one run
            year = year.copy()
            year[rng.integers(year.size)] = 2015
        if case % 3 == 2:  # ragged: some rows dropped
            keep = rng.random(run.size) < 0.7
            run, year = run[keep], year[keep]
        for mine, theirs in zip(fiscal_order(run, year, k), plain(run, year, k)):
            np.testing.assert_array_equal(mine, theirs)
    empty = np.zeros(0, np.int64)
    assert all(v.size == 0 for v in fiscal_order(empty, empty, 4))
