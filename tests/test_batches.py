"""Batched sweeps (issue 17): a batch of runs per task, one Parquet file per batch with row groups
of runs. Batched and one-run-at-a-time sweeps give identical frames (the default chain on small
settings, a policy mix, a grid with common random numbers), a killed batched sweep resumes to the
uninterrupted one, kept columns and the batch size are checked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import CRN
from sweep_mixes import SCENARIOS, SMALL, mix_sweep
from valuechain.analysis import load_sweep, sweep_outcomes
from valuechain.simulation import run_sweep
from valuechain.simulation import store_layout as layout
from valuechain.simulation.config.errors import InputError
from valuechain.simulation.running import sweeps

from valuechain.cli import main

PLACEMENT = ["file", "row_group", "offset", "length", "sha256", "file_sha256", "duration_s"]

DEFAULT_SMALL = f"""
name: default_small
base: {SCENARIOS / 'baseline.yaml'}
design: grid
parameters:
  firms.scale: [0.05]
  horizon.years: [3]
  policy.electricity_price.default: [0.35, 0.40]
replications: 3
seed: 20160101
"""

MIX = mix_sweep(
    f"  - {{name: baseline, set: {{{SMALL}}}}}\n",
    f"  - {{name: power_030, set: {{{SMALL}, policy.electricity_price.default: 0.30}}}}\n",
)




def frames(out: Path) -> dict[str, pd.DataFrame]:
    res = load_sweep(out)
    return {"stages": res.stages, "fiscal": res.fiscal,
            "runs": res.runs.drop(columns=PLACEMENT).sort_values(["point", "replication"]).reset_index(drop=True)}


def without_attempts(f: dict) -> dict:
    return {k: v.drop(columns="attempts", errors="ignore") for k, v in f.items()}


def assert_same(a: dict, b: dict) -> None:
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)


@pytest.fixture
def folder(tiny_folder: Path) -> Path:
    return tiny_folder


@pytest.mark.parametrize("text", [DEFAULT_SMALL, MIX, CRN], ids=["default_chain", "policy_mix", "crn_grid"])
def test_batched_and_one_at_a_time_sweeps_give_identical_frames(folder: Path, text: str) -> None:
    (folder / "s.yaml").write_text(text)
    one = run_sweep("s.yaml", out="one", workers=1, progress=False, batch_size=1)
    batched = run_sweep("s.yaml", out="batched", workers=1, progress=False, batch_size=4)
    assert one.n_failed == batched.n_failed == 0 and one.n_ok == batched.n_ok
    assert (one.n_batches, batched.n_batches) == (one.n_runs, -(-one.n_runs // 4))
    a, b = frames(folder / "one"), frames(folder / "batched")
    assert_same(a, b)
    assert len(list((folder / "batched" / "runs").iterdir())) == batched.n_batches  # files grow with batches
    # common random numbers: replication k of every point ran with the k-th child seed of the sweep seed
    res = load_sweep(folder / "batched")
    seed = int(res.manifest["seed"])
    expected = [list(s.spawn_key) for s in np.random.SeedSequence(seed).spawn(int(res.manifest["replications"]))]
    assert [list(k) for k in res.runs.spawn_key] == [expected[r] for r in res.runs.replication]


HOLIDAYS = f"""
name: holiday_lengths
base: {SCENARIOS / 'sweep_base_levers.yaml'}
design: grid
parameters:
  firms.scale: [0.05]
  horizon.years: [3]
  policy.tax.holidays.0.exempt_years: [0, 1, 3]
replications: 2
seed: 20160101
"""


def test_points_that_cannot_share_a_model_go_in_one_model_per_branch(folder: Path, monkeypatch) -> None:
    """A batch of points with no holiday and with holidays of two lengths: the batched model of all
    of them finds that the holiday switches the arithmetic in some runs only, and the runs go on in
    one batched model per branch (the holidays of both lengths side by side), not point by point;
    the frames are those of one run at a time."""
    from valuechain.simulation.running import runner

    sizes = []
    real = runner.run_batch

    def counted(scenario, replications, *args, **kwargs):
        out = real(scenario, replications, *args, **kwargs)
        sizes.append(len(replications))  # a model that finished
        return out

    monkeypatch.setattr(runner, "run_batch", counted)
    (folder / "s.yaml").write_text(HOLIDAYS)
    one = run_sweep("s.yaml", out="one", workers=1, progress=False, batch_size=1)
    sizes.clear()
    batched = run_sweep("s.yaml", out="batched", workers=1, progress=False, batch_size=6)
    assert one.n_failed == batched.n_failed == 0 and batched.n_batches == 1
    assert sorted(sizes) == [2, 4]  # no holiday (2 runs) apart; 1 and 3 years (4 runs) in one model
    assert_same(frames(folder / "one"), frames(folder / "batched"))


def test_batches_on_a_process_pool_equal_the_serial_ones(folder: Path) -> None:
    (folder / "s.yaml").write_text(CRN)
    assert main(["sweep", "s.yaml", "--out", "w1", "--workers", "1", "--batch-size", "1", "--quiet"]) == 0
    assert main(["sweep", "s.yaml", "--out", "w2", "--workers", "2", "--quiet"]) == 0  # automatic batch size
    assert_same(frames(folder / "w1"), frames(folder / "w2"))


def test_killed_batched_sweep_resumes_to_the_uninterrupted_one(folder: Path) -> None:
    (folder / "s.yaml").write_text(CRN)  # 12 runs in batches of 3
    env = {**os.environ, "VALUECHAIN_TEST_KILL_AT": "sweep:batch-recorded#2"}
    killed = subprocess.run([sys.executable, "-m", "valuechain", "sweep", "s.yaml", "--out", "s", "--workers", "1",
                             "--quiet", "--batch-size", "3"], cwd=folder, env=env, capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    assert sorted(p.name for p in (folder / "s" / "runs").iterdir()) == ["b000000.parquet", "b000001.parquet"]
    resumed = run_sweep("s.yaml", out="s", resume=True, workers=1, progress=False, batch_size=3)
    assert (resumed.n_skipped, resumed.n_computed) == (6, 6)  # the journal knew both batch files
    whole = run_sweep("s.yaml", out="whole", workers=1, progress=False, batch_size=5)
    assert whole.n_ok == 12
    assert_same(*(without_attempts(frames(folder / d)) for d in ("s", "whole")))  # resumed runs: 0 attempts
    again = run_sweep("s.yaml", out="s", resume=True, workers=1, progress=False)
    assert (again.n_skipped, again.n_computed) == (12, 0)


def test_kill_inside_a_batch_loses_only_that_batch(folder: Path) -> None:
    """Killed after the second batch's journal lines, before its file is renamed into place: the
    temporary is removed on resume, its runs are done again, the first batch's are kept."""
    (folder / "s.yaml").write_text(CRN)
    env = {**os.environ, "VALUECHAIN_TEST_KILL_AT": "before-replace:b000001.parquet"}
    killed = subprocess.run([sys.executable, "-m", "valuechain", "sweep", "s.yaml", "--out", "s", "--workers", "1",
                             "--quiet", "--batch-size", "4"], cwd=folder, env=env, capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    resumed = run_sweep("s.yaml", out="s", resume=True, workers=1, progress=False, batch_size=4)
    assert (resumed.n_skipped, resumed.n_computed) == (4, 8)
    assert not list((folder / "s").rglob(".*.tmp-*"))
    run_sweep("s.yaml", out="whole", workers=1, progress=False)
    assert_same(*(without_attempts(frames(folder / d)) for d in ("s", "whole")))


def test_a_batch_file_has_row_groups_of_runs_and_per_run_checksums(folder: Path, monkeypatch) -> None:
    """Store version 3: a batch file's runs in row groups of at most ``RUNS_PER_GROUP`` (here 2),
    each run's checksum that of its row group's bytes, every row group's rows interleaved run by run."""
    monkeypatch.setattr(layout, "RUNS_PER_GROUP", 2)
    (folder / "s.yaml").write_text(CRN)
    run_sweep("s.yaml", out="s", workers=1, progress=False, batch_size=5)
    runs = pd.read_parquet(folder / "s" / "runs.parquet")
    assert runs.groupby("file").size().tolist() == [5, 5, 2]
    assert runs.row_group.tolist() == [0, 0, 1, 1, 2] * 2 + [0, 0]
    for file, group in runs.groupby("file"):
        path = folder / "s" / file
        meta = pq.ParquetFile(path).metadata
        assert meta.num_row_groups == group.row_group.nunique()
        data = path.read_bytes()
        ranges = sweeps.row_group_ranges(data)
        for row in group.itertuples():
            assert (row.offset, row.length) == ranges[row.row_group]
            assert sweeps.sha256_bytes(data[row.offset:row.offset + row.length]) == row.sha256
        assert sweeps.sha256_bytes(data) == group.file_sha256.iloc[0]
        first = pq.ParquetFile(path).read_row_group(0).to_pandas()  # two runs' rows, interleaved
        pairs = group[group.row_group == 0]
        assert first.replication.tolist()[:4] == [pairs.replication.iloc[0], pairs.replication.iloc[1]] * 2
        per = meta.num_rows // len(group)  # a run's rows
        assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == \
            [per * n for n in group.groupby("row_group").size()]
    journal = (folder / "s" / "runs.sha256").read_text().splitlines()
    assert len(journal) == 12 + 3 and journal[5] == f"runs/b000000.parquet {runs.file_sha256.iloc[0]}"


def test_kept_columns_all_analysis_and_a_clear_error_for_one_not_kept(folder: Path, capsys) -> None:
    (folder / "s.yaml").write_text(CRN)
    run_sweep("s.yaml", out="d", workers=1, progress=False)  # default: the analysis columns
    run_sweep("s.yaml", out="a", workers=1, progress=False, columns="all")
    d, a = load_sweep(folder / "d"), load_sweep(folder / "a")
    assert "labour_cost" not in d.stages and "labour_cost" in a.stages
    assert d.manifest["columns"] == list(sweeps.ANALYSIS_COLUMNS)
    assert a.manifest["columns"] == list(sweeps.resolve_columns("all"))
    pd.testing.assert_frame_equal(d.stages, a.stages[d.stages.columns])
    pd.testing.assert_frame_equal(d.fiscal, a.fiscal)
    with pytest.raises(InputError, match="'labour_cost' is not kept in this sweep store"):
        sweep_outcomes(folder / "d", "labour_cost")
    assert sweep_outcomes(folder / "a", "labour_cost").shape[0] == 12
    assert main(["run", "tiny.yaml", "--out", "r", "--set", "seed=11"]) == 0
    capsys.readouterr()
    assert main(["compare", "d", "r", "--metric", "labour_cost"]) == 2
    assert capsys.readouterr().err.startswith("error: --metric: 'labour_cost' is not kept in these results")
    assert main(["compare", "a", "r", "--metric", "labour_cost"]) == 0
    with pytest.raises(InputError, match="--columns: the store keeps"):
        run_sweep("s.yaml", out="a", resume=True, workers=1, progress=False)  # default columns, a keeps all
    assert main(["sweep", "s.yaml", "--out", "x", "--columns", "value_added,nonsense", "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("error: --columns: not a results column")
    assert main(["sweep", "s.yaml", "--out", "x", "--batch-size", "0", "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("error: --batch-size: must be between 1 and 100000")
    assert not (folder / "x").exists()


@pytest.mark.parametrize("columns", ["all", "analysis"])
def test_a_stored_run_has_the_model_frames_of_that_run(folder: Path, columns: str) -> None:
    """What the store gives back is what ``run_replication`` returned (kept columns, point added),
    every float64 bit for bit (-0.0 and NaN payloads included, which ``assert_frame_equal`` does
    not tell apart), with every column and with the default ones."""
    from valuechain.simulation.config.sweep import load_sweep as load_spec
    from valuechain.simulation.running import runner

    (folder / "s.yaml").write_text(MIX)
    run_sweep("s.yaml", out="s", workers=1, progress=False, batch_size=4, columns=columns)
    res, spec = load_sweep(folder / "s"), load_spec("s.yaml")
    seeds = spec.seeds()
    kept = [c for c in res.stages.columns if c in sweeps.STAGE_COLUMNS]
    assert kept == (list(sweeps.STAGE_COLUMNS) if columns == "all" else
                    [c for c in sweeps.STAGE_COLUMNS if c in sweeps.ANALYSIS_COLUMNS])
    for p, r in [(0, 0), (2, 1), (1, 2)]:
        stages, fiscal, _ = runner.run_replication(spec.scenario(spec.points[p]), r, seeds[r])
        stages = stages[[c for c in stages.columns if c not in sweeps.STAGE_COLUMNS or c in kept]]
        got_st = res.stages[(res.stages.point == p) & (res.stages.replication == r)]
        got_fc = res.fiscal[(res.fiscal.point == p) & (res.fiscal.replication == r)]
        for got, want in ((got_st, stages), (got_fc, fiscal)):
            got = got[want.columns].reset_index(drop=True)
            pd.testing.assert_frame_equal(got, want, check_exact=True)
            for name in want.columns:
                if want[name].dtype.kind == "f":
                    assert np.array_equal(got[name].to_numpy().view(np.int64),
                                          want[name].to_numpy().view(np.int64)), name


def test_automatic_batch_size() -> None:
    assert sweeps.auto_batch_size(12, 1) == 3
    assert sweeps.auto_batch_size(1_000, 2, rows_per_run=100) == 125  # four batches per worker
    assert sweeps.auto_batch_size(100_000, 2) == sweeps.MAX_BATCH  # the default chain: 525 rows a run
    assert sweeps.auto_batch_size(100_000, 2, rows_per_run=10_000_000) == 1  # bounded by memory


def test_automatic_batch_size_takes_whole_batched_models() -> None:
    """Four batches per worker, rounded down to whole batched models where that is at least one:
    1,000 runs of the default scenario (50 runs a model) on 2 workers in batches of 100 (two models
    of 50), not 125 (50 + 50 + 25); below one model, four batches per worker as before."""
    from valuechain.simulation.abm.batch import runs_that_fit
    from valuechain.simulation.config.scenario import load_scenario

    assert runs_that_fit(load_scenario(SCENARIOS / "baseline.yaml")) == 50
    assert sweeps.auto_batch_size(1_000, 2, model_runs=50) == 100
    assert sweeps.auto_batch_size(1_000, 2, model_runs=60) == 120
    assert sweeps.auto_batch_size(100_000, 2, model_runs=50) == sweeps.MAX_BATCH
    assert sweeps.auto_batch_size(100_000, 2, model_runs=60) == 180  # at most MAX_BATCH = 200: three models
    assert sweeps.auto_batch_size(200, 2, model_runs=50) == 25  # smaller than a model: four batches a worker
    assert sweeps.auto_batch_size(100_000, 2, rows_per_run=10_000_000, model_runs=50) == 1  # memory first
    assert [sweeps.auto_batch_size(n, 2, model_runs=1) for n in (12, 1_000)] == [2, 125]


def test_a_sweeps_batches_are_whole_batched_models(folder: Path, monkeypatch) -> None:
    """The batch size a sweep chooses asks its own pool how many runs a model holds; the frames
    are the same whatever the size."""
    from valuechain.simulation.abm import batch

    (folder / "s.yaml").write_text(DEFAULT_SMALL.replace("replications: 3", "replications: 8")
                                   .replace("[0.35, 0.40]", "[0.30, 0.32, 0.34, 0.36, 0.38, 0.40]"))
    two = run_sweep("s.yaml", out="two", workers=2, progress=False)  # 48 runs: 6 a batch, below one model
    assert two.batch_size == sweeps.auto_batch_size(48, 2) == 6
    monkeypatch.setattr(batch, "runs_that_fit", lambda scenario: 5)  # in this process: workers=1
    one = run_sweep("s.yaml", out="one", workers=1, progress=False)
    assert one.batch_size == 10 and sweeps.auto_batch_size(48, 1) == 12  # two models of 5, not 12
    assert one.n_batches == 5 and two.n_batches == 8
    pd.testing.assert_frame_equal(load_sweep(folder / "one").stages, load_sweep(folder / "two").stages,
                                  check_exact=True)


def test_pool_workers_end_when_the_drivers_end_of_their_pipe_closes() -> None:
    """A worker of the local pool ends when the driver is gone (its end of the pool's pipe closes),
    not only when its parent does (the fork server outlives the driver while workers hold it)."""
    import time

    import psutil  # comes with dask.distributed
    from valuechain.simulation.running import executors

    pool = executors.process_pool(1)
    pid = pool.submit(os.getpid).result()
    assert pid != os.getpid()
    if "forkserver" in __import__("multiprocessing").get_all_start_methods():
        assert psutil.Process(pid).ppid() != os.getpid()  # forked from the fork server, not from this process
    def ended() -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    assert not ended()
    pool._valuechain_alive.close()  # what the driver's death does
    deadline = time.monotonic() + 10
    while not ended() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ended()
    pool.shutdown(wait=False, cancel_futures=True)


def test_pool_workers_do_not_ask_numpy_for_huge_pages() -> None:
    """A local pool's worker starts with numpy's transparent huge page advice off
    (``executors.small_pages``: only speed changes), whatever the driver has."""
    from valuechain.simulation.running import executors

    pool = executors.process_pool(1)
    try:
        # small_pages returns the advice given until then: off from the worker's start
        assert pool.submit(executors.small_pages).result() is False
    finally:
        pool.shutdown()


def test_pool_workers_inherit_the_compiled_kernels_from_the_fork_server() -> None:
    """The fork server loads the compiled kernels once (``abm.preload``), so a worker starts with
    the engine's choice already made (``compiled._loaded_kernels`` cached) where the server forks."""
    import multiprocessing

    from valuechain.simulation.config.scenario import kernels_choice
    from valuechain.simulation.running import executors

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork server here: workers are spawned and load the kernels themselves")
    pool = executors.process_pool(1)
    try:  # with VALUECHAIN_KERNELS=numpy nothing is loaded, in the server or the worker
        assert pool.submit(_kernels_loaded_in_this_process).result() == (0 if kernels_choice() == "numpy" else 1)
    finally:
        pool.shutdown()


def _kernels_loaded_in_this_process() -> int:
    from valuechain.simulation.abm import compiled

    return compiled._loaded_kernels.cache_info().currsize


def test_sweep_command_starts_the_fork_server_before_importing_the_sweep_modules(tmp_path: Path) -> None:
    """``valuechain sweep`` starts the workers' fork server first, so its imports run beside the
    driver's own imports and planning (and not after them, as from run_sweep); not for --dry-run,
    --workers 1 or --scheduler, which need no local pool."""
    if "forkserver" not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("no fork server here")
    (tmp_path / "s.yaml").write_text(DEFAULT_SMALL)
    probe = (
        "import sys\n"
        "from valuechain.simulation.running import executors\n"
        "def started():\n"
        "    print('sweeps imported' if 'valuechain.simulation.running.sweeps' in sys.modules else 'first')\n"
        "    raise SystemExit(0)\n"
        "executors.start_pool_server = started\n"
        "from valuechain.cli import main\n"
        "main(sys.argv[1:])\n"
        "print('not started')\n"
    )

    def run(*extra: str) -> str:
        proc = subprocess.run([sys.executable, "-c", probe, "sweep", "s.yaml", "--out", "out", "--quiet", *extra],
                              capture_output=True, text=True, cwd=tmp_path, timeout=300)
        return proc.stdout.strip().splitlines()[-1]

    assert run("--workers", "2") == "first"
    assert run("--workers", "1") == "not started"
    assert run("--workers", "2", "--dry-run") == "not started"


def test_the_runs_index_is_rewritten_less_often_when_it_takes_long(folder: Path, monkeypatch) -> None:
    """At most every INDEX_EVERY_S, and so that rewriting takes at most INDEX_SHARE of the time."""
    import time

    from valuechain.simulation.config.sweep import load_sweep as load_spec

    (folder / "s.yaml").write_text(DEFAULT_SMALL)
    spec = load_spec(folder / "s.yaml")
    index = sweeps._Index(spec, sweeps.points_frame(spec))
    index.write(folder, force=True)
    first = index.last_sha
    index.status[0] = "ok"
    index.last_write, index.write_s = time.monotonic() - 2 * sweeps.INDEX_EVERY_S, 0.0
    index.write(folder)  # due: written
    assert index.last_sha != first
    second = index.last_sha
    index.status[1] = "ok"
    index.last_write = time.monotonic() - 2 * sweeps.INDEX_EVERY_S
    index.write_s = 4 * sweeps.INDEX_EVERY_S * sweeps.INDEX_SHARE  # the last one took long: not due for 4 s
    index.write(folder)
    assert index.last_sha == second
    index.write(folder, force=True)
    assert index.last_sha != second


def test_the_default_columns_are_those_the_analysis_commands_read() -> None:
    """The default store keeps compare's headline metrics, the income tax paid (cost's net cost) and
    the deadweight basis of every lever (cost), and nothing the analyses do not read."""
    from valuechain.analysis.impacts import DEADWEIGHT_BASIS

    needed = {"value_added", "investment", "employment", "tax_paid", "output", *DEADWEIGHT_BASIS.values()}
    assert set(sweeps.resolve_columns(None)) == set(sweeps.ANALYSIS_COLUMNS) == needed
    assert sweeps.resolve_columns("all") == tuple(sweeps.STAGE_COLUMNS)


def test_levers_that_cost_nothing_in_a_batch_are_left_out_of_its_file_and_read_back_as_zeros() -> None:
    """A lever column that is +0.0 in every run of a batch is not written (-0.0 is kept: it is not
    +0.0 bit for bit); a run copied from a file that left a lever out gets it back as zeros."""
    import pyarrow as pa
    from valuechain.analysis.sweep import _long_fiscal

    keys = {"point": pa.array([0, 0]), "replication": pa.array([0, 0]), "year": pa.array([2016, 2016]),
            "stage": pa.array(["a", "b"])}
    cost = sweeps.FISCAL_PREFIX
    one = pa.table({**keys, cost + "tax": pa.array([0.0, 0.0]), cost + "power": pa.array([1.5, 0.0]),
                    cost + "grants": pa.array([0.0, -0.0])})
    two = pa.table({**keys, cost + "power": pa.array([0.0, 2.0]), cost + "grants": pa.array([0.0, 0.0])})
    columns = {"levers": ["tax", "power", "grants"]}
    whole, out = sweeps.without_zero_levers([one, two], columns)
    assert out["zero_levers"] == ["tax"] and columns == {"levers": ["tax", "power", "grants"]}
    assert whole.column_names == ["point", "replication", "year", "stage", cost + "power", cost + "grants"]
    assert whole.num_rows == 4
    data, places = sweeps.batch_bytes([({"point": 0, "replication": 0}, one), ({"point": 0, "replication": 1}, two)],
                                      columns)
    meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    assert (meta.num_row_groups, meta.row_group(0).num_rows) == (1, 4)  # the two runs in one row group
    assert [p["row_group"] for p in places] == [0, 0] and places[0]["sha256"] == places[1]["sha256"]
    back = pq.read_table(pa.BufferReader(data))
    assert cost + "tax" not in back.column_names
    assert back["stage"].to_pylist() == ["a", "a", "b", "b"]  # interleaved: row r of each run, in turn
    assert back[cost + "power"].to_pylist() == [1.5, 0.0, 0.0, 2.0]
    first = back.take(pa.array(layout.run_rows(2, 0, 4)))
    fiscal = _long_fiscal(first, out["levers"], ["stage", "lever", "fiscal_cost"], set(out["zero_levers"]))
    assert fiscal["lever"].to_pylist() == ["tax", "tax", "power", "power", "grants", "grants"]
    costs = np.array(fiscal["fiscal_cost"].to_pylist())
    assert costs.tolist() == [0.0, 0.0, 1.5, 0.0, 0.0, -0.0]
    assert np.signbit(costs).tolist() == [False] * 5 + [True]
