"""Results that cannot be lost or mixed: output paths, the folder lock, crash-safe overwrite (kills
injected at exact write points with ``VALUECHAIN_TEST_KILL_AT``), checksums checked by resume and
by the loaders, point identity by content, and a lost Dask scheduler. All on the tiny chain."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import Executor, Future
from pathlib import Path

import pandas as pd
import pytest
from valuechain.analysis import load_results
from valuechain.analysis import load_sweep as load_store
from valuechain.simulation import run_sweep
from valuechain.simulation import store_layout as layout
from valuechain.simulation.config.errors import InputError
from valuechain.simulation.running import sweeps
from valuechain.simulation.running.outdir import LOCK_NAME

from valuechain.cli import main

DATA = Path(__file__).resolve().parent / "data"
SWEEP = """
name: safety_sweep
base: tiny.yaml
design: grid
parameters:
  policy.electricity_price.default: [0.3, 0.4]
replications: 2
seed: 11
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory, holding the tiny scenario, chain and sweep."""
    for name in ("tiny.yaml", "tiny_chain.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>" for p in folder.rglob("*")}


def invoke(argv: list[str], capsys) -> tuple[int, str]:
    """(exit status, the one line on stderr); asserts stderr is exactly one line when not 0."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    _, err = capsys.readouterr()
    if code != 0:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
        return code, lines[0]
    return code, ""


def cli(*args: str, kill_at: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "VALUECHAIN_TEST_KILL_AT": kill_at or ""}
    return subprocess.run([sys.executable, "-m", "valuechain", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def temporaries(folder: Path) -> list[Path]:
    return list(folder.rglob(".*.tmp-*"))


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


# --- output paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b"])
def test_scenario_name_must_be_plain_and_nothing_is_touched(folder: Path, capsys, name: str) -> None:
    # the user's own files in the working directory, named like ours
    for user_file in ("manifest.json", "runs.parquet", "stages_rep0000.parquet"):
        (folder / user_file).write_text("the user's\n")
    (folder / "bad.yaml").write_text(f"inherits: tiny.yaml\nname: '{name}'\n")
    before = snapshot(folder)
    code, line = invoke(["run", "bad.yaml"], capsys)
    assert code == 2
    assert line == (f"error: bad.yaml: name: must be a plain name of 1 to 100 letters, digits, '_', '.' and '-', "
                    f"not starting with a dot (got {name})")
    code, line = invoke(["run", "tiny.yaml", "--set", f"name={name}"], capsys)
    assert code == 2 and line.startswith("error: --set: name: must be a plain name")
    assert snapshot(folder) == before
    assert not (folder / "results").exists()


def test_sweep_file_named_dots_is_refused(folder: Path, capsys) -> None:
    (folder / "...yaml").write_text(SWEEP.replace("name: safety_sweep\n", ""))
    before = snapshot(folder)
    code, line = invoke(["sweep", "...yaml", "--workers", "1", "--quiet"], capsys)
    assert code == 2
    assert line.startswith("error: ...yaml: name: must be a plain name") and "(got ..)" in line
    assert snapshot(folder) == before


@pytest.mark.parametrize("out", [".", "..", "sub/.."])
def test_out_may_not_be_the_working_directory_or_above(folder: Path, capsys, out: str) -> None:
    (folder / "sub").mkdir()
    before = snapshot(folder)
    for argv in (["run", "tiny.yaml", "--out", out, "--overwrite"],
                 ["sweep", "sweep.yaml", "--out", out, "--overwrite", "--workers", "1", "--quiet"]):
        code, line = invoke(argv, capsys)
        assert code == 2
        assert line.startswith(f"error: {out}: --out: is the working directory or a folder above it")
    assert snapshot(folder) == before


def test_unusable_out_is_refused_before_running(folder: Path, capsys) -> None:
    (folder / "afile").write_text("x")
    os.symlink(folder / "nowhere", folder / "dangling")
    before = snapshot(folder)
    t0 = time.monotonic()
    code, line = invoke(["run", "tiny.yaml", "--out", "dangling"], capsys)
    assert code == 2 and line == "error: dangling: --out: is a dangling symlink (it points to nothing)"
    code, line = invoke(["run", "tiny.yaml", "--out", "afile/out"], capsys)
    assert code == 2
    assert line == f"error: afile/out: --out: cannot be created: {folder / 'afile'} is a file, not a directory"
    assert time.monotonic() - t0 < 5
    assert snapshot(folder) == before


def test_overwrite_deletes_only_the_files_the_manifest_lists(folder: Path, capsys) -> None:
    assert invoke(["run", "tiny.yaml", "--out", "out", "--replications", "3"], capsys)[0] == 0
    (folder / "out" / "stages_rep_backup.parquet").write_text("mine")
    (folder / "out" / "notes.txt").write_text("mine")
    assert invoke(["run", "tiny.yaml", "--out", "out", "--replications", "1", "--overwrite"], capsys)[0] == 0
    names = {p.name for p in (folder / "out").iterdir()}
    assert names == {"stages_rep0000.parquet", "fiscal_cost.parquet", "runs.parquet", "manifest.json",
                     "stages_rep_backup.parquet", "notes.txt"}
    assert (folder / "out" / "stages_rep_backup.parquet").read_text() == "mine"
    assert len(load_results(folder / "out").runs) == 1


def test_overwrite_never_replaces_a_file_no_manifest_lists(folder: Path, capsys) -> None:
    (folder / "out").mkdir()
    (folder / "out" / "stages_rep0000.parquet").write_text("the user's")
    before = snapshot(folder)
    code, line = invoke(["run", "tiny.yaml", "--out", "out", "--overwrite"], capsys)
    assert code == 2
    assert line == ("error: out/stages_rep0000.parquet: --out: exists but no valuechain manifest lists it; "
                    "valuechain replaces only files it wrote; move it or choose another --out")
    assert snapshot(folder) == before


@pytest.mark.parametrize("content", ["x", '{"mine": true}'])
def test_overwrite_never_replaces_a_manifest_valuechain_did_not_write(folder: Path, capsys, content: str) -> None:
    (folder / "out").mkdir()
    (folder / "out" / "manifest.json").write_text(content)
    before = snapshot(folder)
    for argv in (["run", "tiny.yaml", "--out", "out", "--overwrite"],
                 ["sweep", "sweep.yaml", "--out", "out", "--overwrite", "--workers", "1", "--quiet"]):
        code, line = invoke(argv, capsys)
        assert code == 2
        assert line == ("error: out/manifest.json: --out: exists but is not a valuechain manifest; valuechain "
                        "replaces only files it wrote; move it or choose another --out")
    assert snapshot(folder) == before


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_run_and_sweep_refuse_a_folder_valuechain_never_wrote(folder: Path, capsys, overwrite: list[str]) -> None:
    """As ``backtest`` does: a non-empty folder only if it holds a previous output of that kind."""
    (folder / "out").mkdir()
    (folder / "out" / "notes.txt").write_text("mine")
    before = snapshot(folder)
    code, line = invoke(["run", "tiny.yaml", "--out", "out", *overwrite], capsys)
    assert code == 2 and line == ("error: out: --out: directory exists and is not empty, and holds no run's "
                                  "results (manifest.json); choose another --out")
    code, line = invoke(["sweep", "sweep.yaml", "--out", "out", *overwrite, "--workers", "1", "--quiet"], capsys)
    assert code == 2 and line == ("error: out: --out: directory exists and is not empty, and holds no sweep's "
                                  "results (sweep.json); choose another --out")
    assert snapshot(folder) == before


def test_a_folder_left_by_a_writer_killed_before_its_first_manifest_is_overwritten(folder: Path, capsys) -> None:
    killed = cli("run", "tiny.yaml", "--out", "out", "--replications", "1", kill_at="before-replace:manifest.json",
                 cwd=folder)
    assert killed.returncode == -signal.SIGKILL
    assert [p.name.split(".tmp-")[0] for p in temporaries(folder)] == [".manifest.json"]  # nothing else
    code, line = invoke(["run", "tiny.yaml", "--out", "out", "--replications", "1"], capsys)
    assert code == 2 and line == "error: out: --out: directory exists and is not empty; pass --overwrite to replace it"
    assert invoke(["run", "tiny.yaml", "--out", "out", "--replications", "1", "--overwrite"], capsys)[0] == 0
    assert temporaries(folder) == [] and len(load_results(folder / "out").runs) == 1


def test_a_run_does_not_replace_a_sweep_nor_a_sweep_a_run(folder: Path, capsys) -> None:
    assert invoke(["sweep", "sweep.yaml", "--out", "s", "--workers", "1", "--quiet"], capsys)[0] == 0
    assert invoke(["run", "tiny.yaml", "--out", "r"], capsys)[0] == 0
    before = snapshot(folder)
    code, line = invoke(["run", "tiny.yaml", "--out", "s", "--overwrite"], capsys)
    assert code == 2 and line == ("error: s: --out: holds a sweep's results (sweep.json); a run does not "
                                  "replace them; choose another --out")
    code, line = invoke(["sweep", "sweep.yaml", "--out", "r", "--overwrite", "--workers", "1", "--quiet"], capsys)
    assert code == 2 and line == ("error: r: --out: holds a run's results (manifest.json); a sweep does not "
                                  "replace them; choose another --out")
    assert snapshot(folder) == before
    load_store(folder / "s")
    load_results(folder / "r")


# --- the lock -------------------------------------------------------------------------------------


def test_second_writer_gets_exit_2_while_the_first_holds_the_lock(folder: Path, capsys) -> None:
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; "
        "from valuechain.simulation.running.outdir import output_lock\n"
        "with output_lock(Path('out')):\n    print('locked', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True, cwd=folder)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot(folder)
        for argv in (["run", "tiny.yaml", "--out", "out", "--overwrite"],
                     ["sweep", "sweep.yaml", "--out", "out", "--overwrite", "--workers", "1", "--quiet"]):
            code, line = invoke(argv, capsys)
            assert code == 2
            assert line == (f"error: out: --out: another valuechain process (PID {holder.pid}) is writing here; "
                            f"wait for it to finish or choose another --out")
        assert snapshot(folder) == before
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    # the holder was killed: its lock file is stale and the next writer takes it over
    assert (folder / "out" / LOCK_NAME).read_text().strip() == str(holder.pid)
    assert invoke(["run", "tiny.yaml", "--out", "out"], capsys)[0] == 0
    assert not (folder / "out" / LOCK_NAME).exists()
    assert load_results(folder / "out").manifest["status"] == "complete"


def test_two_concurrent_runs_exactly_one_writes(folder: Path) -> None:
    env = {**os.environ, "VALUECHAIN_TEST_KILL_AT": ""}
    procs = [subprocess.Popen([sys.executable, "-m", "valuechain", "run", "tiny.yaml", "--out", "out", "--seed",
                               str(seed), "--replications", "4"], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stderr.close()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    winner = [seed for seed, (code, _) in zip((1, 2), results) if code == 0][0]
    loser_line = [err for code, err in results if code == 2][0]
    assert loser_line.count("\n") == 1 and loser_line.startswith("error: out: --out: ")
    rs = load_results(folder / "out")  # checksums hold: no file of the other run
    assert rs.manifest["seed"] == winner and set(rs.runs.seed) == {winner} and len(rs.runs) == 4


# --- kills at exact write points ----------------------------------------------------------------


@pytest.mark.parametrize("kill_at", ["after-replace:stages_rep0001.parquet", "run:old-files-deleted",
                                     "before-replace:manifest.json#2"])
def test_kill_during_overwrite_leaves_a_folder_the_loader_refuses(folder: Path, capsys, kill_at: str) -> None:
    assert invoke(["run", "tiny.yaml", "--out", "out", "--replications", "4"], capsys)[0] == 0
    (folder / "out" / "notes.txt").write_text("mine")
    killed = cli("run", "tiny.yaml", "--out", "out", "--replications", "3", "--seed", "8", "--overwrite",
                 kill_at=kill_at, cwd=folder)
    assert killed.returncode == -signal.SIGKILL
    manifest = json.loads((folder / "out" / "manifest.json").read_text())
    assert manifest["status"] == "writing"  # the old "complete" manifest went first
    with pytest.raises(InputError, match="the results are unfinished"):
        load_results(folder / "out")
    code, line = invoke(["compare", "out", "out"], capsys)
    assert code == 2 and line == ("error: out/manifest.json: status: the results are unfinished (a write was "
                                  "interrupted); run again with --overwrite (got writing)")
    assert invoke(["run", "tiny.yaml", "--out", "out", "--replications", "2", "--overwrite"], capsys)[0] == 0
    assert temporaries(folder) == []  # the killed writer's temporary file is gone
    assert (folder / "out" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in (folder / "out").glob("stages_rep*")) == ["stages_rep0000.parquet",
                                                                             "stages_rep0001.parquet"]
    assert len(load_results(folder / "out").runs) == 2


def test_kill_between_sweep_json_and_points_then_resume_restores_the_store(folder: Path, capsys) -> None:
    killed = cli("sweep", "sweep.yaml", "--out", "s", "--workers", "1", "--quiet",
                 kill_at="sweep:between-sweep-json-and-points", cwd=folder)
    assert killed.returncode == -signal.SIGKILL
    assert (folder / "s" / "sweep.json").exists() and not (folder / "s" / "points.parquet").exists()
    with pytest.raises(InputError, match="points.parquet: missing from the sweep store"):
        load_store(folder / "s", allow_incomplete=True)
    assert invoke(["sweep", "sweep.yaml", "--out", "s", "--resume", "--workers", "1", "--quiet"], capsys)[0] == 0
    res = load_store(folder / "s")
    assert len(res.points) == 2 and len(res.runs) == 4 and res.stages.point.nunique() == 2


def test_resume_restores_deleted_store_files_without_recomputing(folder: Path) -> None:
    run_sweep("sweep.yaml", out="s", workers=1, progress=False)
    expected = load_store(folder / "s")
    (folder / "s" / "points.parquet").unlink()
    summary = run_sweep("sweep.yaml", out="s", resume=True, workers=1, progress=False)
    assert (summary.n_skipped, summary.n_computed) == (4, 0)
    (folder / "s" / "sweep.json").unlink()  # the manifest still names the sweep
    summary = run_sweep("sweep.yaml", out="s", resume=True, workers=1, progress=False)
    assert (summary.n_skipped, summary.n_computed) == (4, 0)
    pd.testing.assert_frame_equal(load_store(folder / "s").stages, expected.stages)


def test_kill_during_sweep_manifest_write_then_resume(folder: Path) -> None:
    killed = cli("sweep", "sweep.yaml", "--out", "s", "--workers", "1", "--quiet",
                 kill_at="before-replace:manifest.json", cwd=folder)
    assert killed.returncode == -signal.SIGKILL
    assert not (folder / "s" / "manifest.json").exists() and temporaries(folder)
    with pytest.raises(InputError, match=r"not a finished sweep \(no manifest.json\): finish it with valuechain "
                       r"sweep SWEEP --out DIR --resume \(the runs done are kept\)"):
        load_store(folder / "s")
    # the analysis commands refuse it as bad input (exit 2, one line), not as an internal failure
    base = cli("run", "tiny.yaml", "--out", "base", "--replications", "2", cwd=folder)
    assert base.returncode == 0, base.stderr
    for argv in (["compare", "s", "base"], ["cost", "s", "base"], ["plot", "s", "--kind", "paths", "--out", "p.png"]):
        refused = cli(*argv, cwd=folder)
        assert refused.returncode == 2 and refused.stderr.splitlines() == [
            "error: s: not a finished sweep (no manifest.json): finish it with valuechain sweep SWEEP --out DIR "
            "--resume (the runs done are kept)"], (argv, refused.stderr)
    assert not (folder / "p.png").exists()
    summary = run_sweep("sweep.yaml", out="s", resume=True, workers=1, progress=False)
    assert (summary.n_skipped, summary.n_computed) == (4, 0)  # no finished run lost or recomputed
    assert temporaries(folder) == []
    assert len(load_store(folder / "s").runs) == 4


def test_kill_after_a_run_file_keeps_its_checksum_for_resume(folder: Path) -> None:
    killed = cli("sweep", "sweep.yaml", "--out", "s", "--workers", "1", "--quiet",
                 kill_at="sweep:run-recorded#3", cwd=folder)
    assert killed.returncode == -signal.SIGKILL
    summary = run_sweep("sweep.yaml", out="s", resume=True, workers=1, progress=False)
    assert (summary.n_skipped, summary.n_computed) == (3, 1)  # the journal knew all three checksums


# --- checksums -----------------------------------------------------------------------------------


def test_one_flipped_byte_is_found_by_resume_and_by_the_sweep_loader(folder: Path, capsys, monkeypatch) -> None:
    """One batch file of the four runs in row groups of two; a byte flipped inside run (1, 0)'s row
    group: the loader and the plots refuse the file, resume keeps the two intact runs of the other
    row group (copied to a new batch file) and computes only the damaged row group's two runs again;
    the damaged file, recorded by the store, is removed."""
    monkeypatch.setattr(layout, "RUNS_PER_GROUP", 2)
    run_sweep("sweep.yaml", out="s", workers=1, progress=False, batch_size=4)
    expected = load_store(folder / "s").stages
    runs = pd.read_parquet(folder / "s" / "runs.parquet").set_index(["point", "replication"])
    assert runs.file.nunique() == 1 and runs.row_group.to_dict() == {(0, 0): 0, (0, 1): 0, (1, 0): 1, (1, 1): 1}
    victim = folder / "s" / runs.loc[(1, 0), "file"]
    data = bytearray(victim.read_bytes())
    data[int(runs.loc[(1, 0), "offset"]) + int(runs.loc[(1, 0), "length"]) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"b000000.parquet: checksum mismatch: the file changed after "
                                         r"valuechain wrote it"):
        load_store(folder / "s")
    code, line = invoke(["plot", "s", "--kind", "paths", "--out", "f.png"], capsys)
    assert code == 2 and line.startswith("error: s/runs/b000000.parquet: checksum mismatch")
    assert not (folder / "f.png").exists()
    summary = run_sweep("sweep.yaml", out="s", resume=True, workers=1, progress=False, batch_size=4)
    assert (summary.n_skipped, summary.n_computed) == (2, 2)  # only the damaged row group's runs are done again
    assert not victim.exists() and sorted(p.name for p in (folder / "s" / "runs").iterdir()) == [
        "b000001.parquet", "b000002.parquet"]  # the two intact runs, the two recomputed
    pd.testing.assert_frame_equal(load_store(folder / "s").stages, expected)


def test_a_damaged_batch_footer_means_its_runs_are_done_again(folder: Path) -> None:
    run_sweep("sweep.yaml", out="s", workers=1, progress=False, batch_size=2)
    expected = load_store(folder / "s").stages
    victim = folder / "s" / "runs" / "b000001.parquet"
    victim.write_bytes(victim.read_bytes()[:-20])  # truncated: the footer is gone
    with pytest.raises(InputError, match="b000001.parquet: checksum mismatch"):
        load_store(folder / "s")
    summary = run_sweep("sweep.yaml", out="s", resume=True, workers=1, progress=False, batch_size=2)
    assert (summary.n_skipped, summary.n_computed) == (2, 2)
    pd.testing.assert_frame_equal(load_store(folder / "s").stages, expected)


def test_one_flipped_byte_in_a_run_set_is_refused_by_the_loader(folder: Path, capsys) -> None:
    assert invoke(["run", "tiny.yaml", "--out", "r"], capsys)[0] == 0
    flip_byte(folder / "r" / "stages_rep0001.parquet")
    with pytest.raises(InputError, match="stages_rep0001.parquet: checksum mismatch"):
        load_results(folder / "r")
    code, line = invoke(["compare", "r", "r"], capsys)
    assert code == 2 and line.startswith("error: r/stages_rep0001.parquet: checksum mismatch: the file changed "
                                         "after valuechain wrote it (sha256 recorded ")


def test_edited_chain_of_a_point_is_recomputed_on_resume(folder: Path) -> None:
    shutil.copy(folder / "tiny_chain.yaml", folder / "other_chain.yaml")
    (folder / "chains.yaml").write_text(SWEEP.replace("policy.electricity_price.default: [0.3, 0.4]",
                                                      "chain: [tiny_chain.yaml, other_chain.yaml]"))
    run_sweep("chains.yaml", out="s", workers=1, progress=False)
    before = load_store(folder / "s").stages
    text = (folder / "other_chain.yaml").read_text()
    assert text.count("price_yuan_per_unit: 16000") == 1
    (folder / "other_chain.yaml").write_text(text.replace("price_yuan_per_unit: 16000", "price_yuan_per_unit: 18000"))
    summary = run_sweep("chains.yaml", out="s", resume=True, workers=1, progress=False)
    assert (summary.n_skipped, summary.n_computed) == (2, 2)  # point 1's chain changed: both its runs again
    after = load_store(folder / "s").stages
    pd.testing.assert_frame_equal(after[after.point == 0], before[before.point == 0])
    assert not after[after.point == 1].value_added.equals(before[before.point == 1].value_added)


# --- a lost Dask scheduler -------------------------------------------------------------------------


class _LostClient:
    status = "closed"  # what a dask Client reports after "Failed to reconnect to scheduler"

    def nthreads(self) -> dict:
        return {"tcp://127.0.0.1:2": 1}


class _LostSchedulerExecutor(Executor):
    """Accepts work and never finishes it, like a ClientExecutor whose scheduler is gone."""

    def __init__(self) -> None:
        self._client = _LostClient()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return Future()


def test_lost_scheduler_ends_the_sweep_in_bounded_time_and_it_resumes(folder: Path) -> None:
    t0 = time.monotonic()
    with pytest.raises(sweeps.SchedulerLost, match=r"lost the Dask scheduler \(client closed\) for 0.5 s; the "
                                                   r"store in s is resumable with --resume"):
        run_sweep("sweep.yaml", _LostSchedulerExecutor(), out="s", progress=False, scheduler_timeout=0.5)
    assert time.monotonic() - t0 < 5
    assert not (folder / "s" / "manifest.json").exists() and not (folder / "s" / LOCK_NAME).exists()
    summary = run_sweep("sweep.yaml", out="s", resume=True, workers=1, progress=False)
    assert (summary.n_ok, summary.n_computed) == (4, 4)


def test_lost_scheduler_is_one_line_and_exit_1_from_the_cli(folder: Path, capsys, monkeypatch) -> None:
    import dask.distributed

    class FakeClient:
        def __init__(self, *args, **kwargs) -> None:
            pass

        def get_executor(self, pure: bool = False) -> Executor:
            return _LostSchedulerExecutor()

        def close(self, timeout=None) -> None:
            pass

    monkeypatch.setattr(dask.distributed, "Client", FakeClient)
    code, line = invoke(["sweep", "sweep.yaml", "--out", "s", "--scheduler", "tcp://127.0.0.1:1", "--quiet",
                         "--scheduler-timeout", "0.5"], capsys)
    assert code == 1
    assert line == ("error: internal failure: SchedulerLost: lost the Dask scheduler (client closed) for 0.5 s; "
                    "the store in s is resumable with --resume (rerun with --debug for the traceback)")


def test_killed_dask_scheduler_ends_the_sweep_with_exit_1_in_bounded_time(folder: Path) -> None:
    """A real scheduler and worker (subprocesses); the scheduler is SIGKILLed mid-sweep."""
    (folder / "long.yaml").write_text(SWEEP.replace("[0.3, 0.4]", "{low: 0.25, high: 0.45, levels: 12}"))
    sched_file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(sched_file)], **quiet)
    worker = driver = None
    try:
        deadline = time.monotonic() + 30
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                   "--no-nanny", "--no-dashboard"], cwd=folder, **quiet)
        env = {**os.environ, "VALUECHAIN_TEST_KILL_AT": ""}
        driver = subprocess.Popen([sys.executable, "-m", "valuechain", "sweep", "long.yaml", "--out", "s",
                                   "--scheduler", address, "--quiet", "--scheduler-timeout", "2",
                                   "--batch-size", "2"], cwd=folder,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        runs = folder / "s" / "runs"
        while time.monotonic() < deadline + 30 and driver.poll() is None:
            if runs.is_dir() and len(list(runs.glob("b*.parquet"))) >= 2:
                break
            time.sleep(0.02)
        os.kill(scheduler.pid, signal.SIGKILL)
        killed = time.monotonic()
        _, err = driver.communicate(timeout=60)
        took = time.monotonic() - killed
    finally:
        for proc in (driver, worker, scheduler):
            if proc is not None and proc.poll() is None:
                proc.kill()
            if proc is not None:
                proc.wait()
    assert driver.returncode == 1
    assert err == ("error: internal failure: SchedulerLost: lost the Dask scheduler (client connecting) for 2 s; "
                   "the store in s is resumable with --resume (rerun with --debug for the traceback)\n")
    assert took < 2 + 1 + 5 + 2  # timeout + one health check + the client's close + slack
    assert not (folder / "s" / "manifest.json").exists()
    summary = run_sweep("long.yaml", out="s", resume=True, workers=1, progress=False)
    assert summary.n_skipped >= 2 and summary.n_ok == 24


def test_a_sweep_store_without_resume_names_resume_and_both_options_are_refused(folder: Path, capsys) -> None:
    """An earlier sweep's store given again without --resume is refused naming --resume (which keeps its
    runs) beside --overwrite; --resume with --overwrite is refused (one keeps the runs, one replaces
    them). Exit 2, nothing changed."""
    assert invoke(["sweep", "sweep.yaml", "--out", "s", "--workers", "1", "--quiet"], capsys)[0] == 0
    before = snapshot(folder)
    code, line = invoke(["sweep", "sweep.yaml", "--out", "s", "--workers", "1", "--quiet"], capsys)
    assert code == 2 and line == ("error: s: --out: holds a sweep's results (sweep.json); pass --resume to keep its "
                                  "runs and compute only what is missing, or --overwrite to replace them")
    code, line = invoke(["sweep", "sweep.yaml", "--out", "s", "--resume", "--overwrite", "--quiet"], capsys)
    assert code == 2 and line == ("error: --overwrite: cannot be combined with --resume (--resume keeps the runs "
                                  "done, --overwrite replaces them): choose one")
    assert snapshot(folder) == before
