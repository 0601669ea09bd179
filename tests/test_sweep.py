"""Sweeps: designs, common random numbers, executors (serial, process pool, Dask), the resumable
store, fault handling and one-line errors for bad sweep files. All on the tiny 3-stage chain."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import psutil  # comes with dask.distributed
import pytest
from valuechain.analysis import load_sweep as load_results
from valuechain.simulation import run_sweep
from valuechain.simulation.config.errors import InputError
from valuechain.simulation.config.sweep import load_sweep
from valuechain.simulation.running import runner

from valuechain.cli import main

DATA = Path(__file__).resolve().parent / "data"
PRICE = "policy.electricity_price.default"
PLACEMENT = ["file", "row_group", "offset", "length", "sha256", "file_sha256"]

GRID = f"""
name: grid_test
base: tiny.yaml
design: grid
parameters:
  {PRICE}: {{low: 0.25, high: 0.45, levels: 2}}
  firms.entry: [true, false]
replications: 2
seed: 11
"""

MIXES = f"""
name: mixes_test
base: tiny.yaml
mixes:
  - {{name: baseline, set: {{}}}}
  - {{name: cheap_power, set: {{{PRICE}: 0.25}}}}
  - {{name: broken, set: {{{PRICE}: 0.30}}}}
replications: 2
seed: 5
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding the tiny scenario and chain, so that ``base: tiny.yaml`` is relative."""
    for name in ("tiny.yaml", "tiny_chain.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def write(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def frames(out: Path) -> dict[str, pd.DataFrame]:
    """A finished sweep's tables, sorted, without timings (which differ between runs) and where each
    run is stored (batch file, row group, byte range and checksums: they depend on the batching and
    on the order batches finish in, and a batch file's metadata holds the durations)."""
    res = load_results(out)
    keys = ["point", "replication", "year", "stage"]
    return {
        "stages": res.stages.sort_values(keys).reset_index(drop=True),
        "fiscal": res.fiscal.sort_values([*keys, "lever"]).reset_index(drop=True),
        "runs": res.runs.drop(columns=[*PLACEMENT, "duration_s"]).sort_values(["point", "replication"])
                        .reset_index(drop=True),
    }


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)


# --- executors and common random numbers ------------------------------------------------------


def test_serial_pool_and_dask_cluster_give_identical_results(folder: Path, capsys) -> None:
    from dask.distributed import LocalCluster

    sweep = write(folder, GRID)
    assert main(["sweep", str(sweep), "--out", str(folder / "w1"), "--workers", "1", "--quiet"]) == 0
    assert main(["sweep", str(sweep), "--out", str(folder / "w2"), "--workers", "2", "--quiet"]) == 0
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        rc = main(["sweep", str(sweep), "--out", str(folder / "dask"), "--scheduler", cluster.scheduler_address,
                   "--quiet"])
    assert rc == 0
    serial = frames(folder / "w1")
    assert len(serial["runs"]) == 8 and (serial["runs"].status == "ok").all()
    assert serial["stages"].point.nunique() == 4
    assert_same(serial, frames(folder / "w2"))
    assert_same(serial, frames(folder / "dask"))
    manifest = json.loads((folder / "dask" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["ok"] == 8
    assert "8 ok, 0 failed" in capsys.readouterr().out


def test_common_random_numbers_pair_replications_across_points(folder: Path) -> None:
    """Two identical mixes reproduce each other run by run; replications differ from each other."""
    sweep = write(folder, MIXES.replace(f"name: broken, set: {{{PRICE}: 0.30}}", "name: twin, set: {}"))
    summary = run_sweep(sweep, out=folder / "out", workers=1, progress=False)
    assert summary.n_ok == 6
    res = load_results(folder / "out")
    spawn = res.runs.groupby("replication").spawn_key.agg(lambda s: {tuple(k) for k in s})
    assert spawn.to_dict() == {0: {(0,)}, 1: {(1,)}}
    expected = [tuple(s.spawn_key) for s in np.random.SeedSequence(5).spawn(2)]
    assert sorted({tuple(k) for k in res.runs.spawn_key}) == expected
    va = res.stages.groupby(["scenario", "replication"]).value_added.sum()
    assert va["baseline", 0] == va["twin", 0] and va["baseline", 1] == va["twin", 1]
    assert va["baseline", 0] != va["baseline", 1]
    assert va["cheap_power", 0] != va["baseline", 0]


# --- the store: resume after SIGKILL ----------------------------------------------------------


def test_killed_sweep_resumes_without_redoing_finished_runs(folder: Path, capsys) -> None:
    sweep = write(folder, GRID.replace("levels: 2", "levels: 10"))  # 20 points x 2 = 40 runs
    out, runs_dir = folder / "killed", folder / "killed" / "runs"
    cmd = [sys.executable, "-m", "valuechain", "sweep", str(sweep), "--out", str(out), "--workers", "2",
           "--quiet", "--batch-size", "2"]  # 20 batch files of 2 runs
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if runs_dir.is_dir() and len(list(runs_dir.glob("b*.parquet"))) >= 2:
                break
            time.sleep(0.005)
        workers = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert workers  # the pool's processes end with the driver, instead of waiting forever
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in runs_dir.glob("b*.parquet")}
    assert 2 <= len(before) < 20
    assert not (out / "manifest.json").exists()

    assert main(["sweep", str(sweep), "--out", str(out), "--resume", "--workers", "2", "--quiet",
                 "--batch-size", "2"]) == 0
    assert f"({2 * len(before)} already done)" in capsys.readouterr().out  # every run of a batch file on disk
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in runs_dir.glob("b*.parquet")}
    assert len(after) == 20
    assert {name: after[name] for name in before} == before  # finished runs were not computed again
    assert not list(out.rglob(".*.tmp-*"))

    assert main(["sweep", str(sweep), "--out", str(folder / "whole"), "--workers", "2", "--quiet"]) == 0
    resumed, whole = frames(out), frames(folder / "whole")
    assert_same({k: v.drop(columns="attempts", errors="ignore") for k, v in resumed.items()},
                {k: v.drop(columns="attempts", errors="ignore") for k, v in whole.items()})

    summary = run_sweep(sweep, out=out, resume=True, workers=1, progress=False)  # nothing left to do
    assert (summary.n_skipped, summary.n_computed) == (40, 0)


def test_resume_refuses_a_different_sweep_and_overwrite_keeps_user_files(folder: Path, capsys) -> None:
    sweep = write(folder, GRID)
    out = folder / "out"
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    (out / "notes.txt").write_text("mine")
    other = write(folder, GRID.replace("seed: 11", "seed: 12"), "other.yaml")
    capsys.readouterr()
    assert main(["sweep", str(other), "--out", str(out), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}: --resume: holds a different sweep") and err.count("\n") == 1
    assert main(["sweep", str(other), "--out", str(out), "--quiet"]) == 2  # not empty, no --overwrite
    assert main(["sweep", str(other), "--out", str(out), "--overwrite", "--workers", "1", "--quiet"]) == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "manifest.json").read_text())["seed"] == 12


# --- faults ---------------------------------------------------------------------------------------


def _fail_for_broken(real):
    def run_replication(scenario, replication, seed, engine="vectorized"):
        if scenario.name == "broken":
            raise ValueError("model diverged:\n negative capacity (test)")
        return real(scenario, replication, seed, engine)

    return run_replication


def _patch_runs(monkeypatch, run_replication) -> None:
    """Every run goes through ``run_replication`` (the fault under test): the runs a sweep would run
    side by side (``runner.run_batch``) fail as a batch, so they are done one at a time."""
    def no_batches(*args, **kwargs):
        raise RuntimeError("no batched runs in this test")

    monkeypatch.setattr(runner, "run_replication", run_replication)
    monkeypatch.setattr(runner, "run_batch", no_batches)


def _fork_pool() -> ProcessPoolExecutor:
    """A pool whose workers are forked from this process, so that they see a monkeypatch.
    (The default pool spawns fresh interpreters: mesa.batchrunner sets the start method.)"""
    return ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork"))


def test_failing_runs_are_recorded_and_the_sweep_goes_on(folder: Path, monkeypatch, capsys) -> None:
    _patch_runs(monkeypatch, _fail_for_broken(runner.run_replication))
    sweep = write(folder, MIXES)
    out = folder / "out"
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "4 ok, 2 failed" in captured.out
    assert captured.err.startswith("error: 2 of 6 run(s) failed; first: point 2 replication 0: ValueError")
    assert captured.err.count("\n") == 1
    pooled = run_sweep(sweep, _fork_pool, folder / "pooled", progress=False)  # the same on a process pool
    assert (pooled.n_ok, pooled.n_failed) == (4, 2) and pooled.failures[0][:2] == (2, 0)
    assert_same(frames(out), frames(folder / "pooled"))
    res = load_results(out)
    failed = res.runs[res.runs.status == "failed"]
    assert failed.name.tolist() == ["broken", "broken"]
    assert (failed.error == "ValueError: model diverged: negative capacity (test)").all()
    assert set(res.stages.scenario) == {"baseline", "cheap_power"}
    # batches of 2 runs (6 runs on 1 worker): the failed point's batch stored nothing
    assert sorted(p.name for p in (out / "runs").glob("*.parquet")) == ["b000000.parquet", "b000001.parquet"]
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete_with_failures"


def _crash_for(name: str, marker: Path | None):
    real = runner.run_replication

    def run_replication(scenario, replication, seed, engine="vectorized"):
        if scenario.name == name and replication == 0 and (marker is None or not marker.exists()):
            if marker is not None:
                marker.touch()
            os._exit(1)  # the worker process dies: BrokenProcessPool in the driver
        return real(scenario, replication, seed, engine)

    return run_replication


def test_dead_worker_process_is_retried(folder: Path, monkeypatch) -> None:
    _patch_runs(monkeypatch, _crash_for("cheap_power", folder / "crashed-once"))
    summary = run_sweep(write(folder, MIXES), _fork_pool, folder / "out", progress=False)
    assert (summary.n_ok, summary.n_failed) == (6, 0)
    assert (folder / "crashed-once").exists()
    reference = run_sweep(write(folder, MIXES, "again.yaml"), out=folder / "ref", workers=1, progress=False)
    assert reference.n_ok == 6
    assert_same(frames(folder / "out"), frames(folder / "ref"))


def test_run_whose_worker_always_dies_fails_after_bounded_retries(folder: Path, monkeypatch) -> None:
    _patch_runs(monkeypatch, _crash_for("cheap_power", None))
    summary = run_sweep(write(folder, MIXES), _fork_pool, folder / "out", progress=False, max_retries=2)
    assert (summary.n_ok, summary.n_failed) == (5, 1)
    runs = load_results(folder / "out").runs.set_index(["name", "replication"])
    assert runs.loc[("cheap_power", 0), "attempts"] == 3
    assert runs.loc[("cheap_power", 0), "error"].startswith("infrastructure failure after 3 attempts: BrokenProcess")
    assert (runs.drop(index=[("cheap_power", 0)]).status == "ok").all()


# --- designs --------------------------------------------------------------------------------------


def test_grid_is_the_product_of_levels_with_log_spacing(folder: Path) -> None:
    sweep = load_sweep(write(folder, f"""
base: tiny.yaml
parameters:
  {PRICE}: {{low: 0.1, high: 0.4, levels: 3, log: true}}
  firms.entry_hurdle_q: {{low: 1, high: 3}}
  firms.exit: [true, false]
samples: 4
"""))
    assert sweep.design == "grid" and len(sweep.points) == 3 * 4 * 2
    prices = sorted({p.overrides[PRICE] for p in sweep.points})
    assert prices == pytest.approx([0.1, 0.2, 0.4])  # geometric spacing
    assert sorted({p.overrides["firms.entry_hurdle_q"] for p in sweep.points}) == pytest.approx([1, 5 / 3, 7 / 3, 3])
    assert sweep.n_runs == 24 * 2 and sweep.seed == 7  # replications and seed default to the base's


def test_latin_hypercube_stratifies_each_range_in_log_space(folder: Path) -> None:
    sweep = load_sweep(write(folder, f"""
base: tiny.yaml
design: lhs
parameters:
  {PRICE}: {{low: 0.01, high: 1.0, log: true}}
  firms.entry_hurdle_q: {{low: 0.5, high: 8}}
samples: 50
seed: 3
"""))
    assert len(sweep.points) == 50
    price = np.array([p.overrides[PRICE] for p in sweep.points])
    sens = np.array([p.overrides["firms.entry_hurdle_q"] for p in sweep.points])
    assert price.min() >= 0.01 and price.max() <= 1.0 and sens.min() >= 0.5 and sens.max() <= 8
    # one point in each of the 50 equal strata: of log(price), and of sensitivity
    assert sorted(np.floor((np.log(price) - np.log(0.01)) / np.log(100) * 50).astype(int)) == list(range(50))
    assert sorted(np.floor((sens - 0.5) / 7.5 * 50).astype(int)) == list(range(50))
    again = load_sweep(folder / "sweep.yaml")
    assert [p.overrides for p in again.points] == [p.overrides for p in sweep.points]  # seeded


def test_sobol_design_is_accepted_by_salib_analyzer(folder: Path) -> None:
    from SALib.analyze import sobol

    sweep = load_sweep(write(folder, f"""
base: tiny.yaml
design: sobol
parameters:
  {PRICE}: {{low: 0.25, high: 0.45}}
  firms.entry_hurdle_q: {{low: 0.5, high: 8, log: true}}
  firms.adjustment_cost: {{low: 5, high: 30}}
samples: 256
"""))
    info = sweep.design_info
    assert len(sweep.points) == 256 * (3 + 2) and info["N"] == 256 and info["calc_second_order"] is False
    x = np.array([[p.overrides[k] for k in info["problem"]["names"]] for p in sweep.points])
    assert (x[:, 0] >= 0.25).all() and (x[:, 0] <= 0.45).all() and (x[:, 1] >= 0.5).all() and (x[:, 1] <= 8).all()
    # a made-up output: strongly driven by the price, weakly by log sensitivity, not by the third
    y = 10 * (x[:, 0] - 0.35) / 0.2 + np.log(x[:, 1])
    s = sobol.analyze(info["problem"], y, calc_second_order=False, seed=1)
    assert s["ST"][0] > 0.7 and 0.01 < s["ST"][1] < 0.3 and abs(s["ST"][2]) < 0.02


def test_mixes_design_has_one_point_per_mix(folder: Path) -> None:
    sweep = load_sweep(write(folder, MIXES))
    assert sweep.design == "mixes" and [p.name for p in sweep.points] == ["baseline", "cheap_power", "broken"]
    assert sweep.scenario(sweep.points[1]).spec.policy.electricity_price.default == {-1: 0.25}
    assert sweep.scenario(sweep.points[0]).name == "baseline"


def test_dry_run_describes_and_writes_nothing(folder: Path, capsys) -> None:
    assert main(["sweep", str(write(folder, GRID)), "--out", str(folder / "out"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "4 point(s) x 2 replication(s) = 8 run(s)" in out
    assert out.splitlines()[-1] == f"would write the results to {folder / 'out'}"
    assert not (folder / "out").exists()


def test_dry_run_refuses_the_output_folder_the_run_would_refuse(folder: Path, capsys) -> None:
    """A folder holding a file the toolkit did not write: the dry run says what the run would say."""
    (folder / "theirs").mkdir()
    (folder / "theirs" / "notes.txt").write_text("mine")
    sweep = str(write(folder, GRID))
    lines = []
    for extra in (["--dry-run"], []):
        assert main(["sweep", sweep, "--out", str(folder / "theirs"), "--quiet", *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        lines.append(err.strip())
    assert lines[0] == lines[1] and "directory exists and is not empty" in lines[0]
    assert [p.name for p in (folder / "theirs").iterdir()] == ["notes.txt"]


# --- bad sweep files --------------------------------------------------------------------------------

BAD = {
    "unknown key": (GRID.replace("design: grid", "desing: grid"), "desing: unknown key; did you mean 'design'?"),
    "parameter not in schema": (GRID.replace("firms.entry:", "firms.entri:"),
                                "parameters.firms.entri: unknown key; did you mean 'entry'?"),
    "low above high": (GRID.replace("low: 0.25, high: 0.45", "low: 0.5, high: 0.3"),
                       f"parameters.{PRICE}: low (0.5) must be less than high (0.3)"),
    "unknown design": (GRID.replace("design: grid", "design: latin"),
                       "design: input should be 'grid', 'lhs', 'sobol'"),
    "missing base": (GRID.replace("base: tiny.yaml", ""), "base: required key is missing"),
    "base not found": (GRID.replace("base: tiny.yaml", "base: nope"),
                       "base: base scenario file not found (looked for {folder}/nope; not a built-in scenario "
                       "either) (got nope)"),
    "value out of bounds": (GRID.replace("high: 0.45", "high: 9"),
                            f"parameters.{PRICE}: must be between 0.0 and 5.0 at point 2 (got 9.0)"),
    "list item absent": (GRID.replace("firms.entry:", "policy.freight_subsidy.rules.0.yuan_per_t:"),
                         "parameters.policy.freight_subsidy.rules.0: the base scenario has 0 item(s) here"),
    "seed per point": (MIXES.replace("set: {}", "set: {seed: 3}"), "mixes.0.set.seed: set for the whole sweep"),
    "sobol not a power of 2": (GRID.replace("design: grid", "design: sobol").replace(", levels: 2", "")
                               .replace("seed: 11", "seed: 11\nsamples: 6"), "samples: design 'sobol' needs a power"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_sweep_file_is_one_line_exit_2_and_writes_nothing(folder: Path, capsys, case: str) -> None:
    text, message = BAD[case]
    sweep = write(folder, text)
    assert main(["sweep", str(sweep), "--out", str(folder / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {sweep}: {message.format(folder=folder.resolve())}"), err
    assert err.count("\n") == 1
    assert not (folder / "out").exists()
    with pytest.raises(InputError):
        load_sweep(sweep)
