"""Where a batched sweep's CPU goes, all of it: the driver, the workers' start-up, each batch's phases.

    python benchmarks/sweep_account.py            # 1,000 runs of the default scenario on 2 processes
    python benchmarks/sweep_account.py --runs 500 --workers 2 --batch-size 63

The sweep of ``benchmarks/bench.py --sweeps`` (100-level grid of the power price x replications)
runs with its batch function wrapped: each worker notes, per batch, its CPU seconds (process
time) in each phase (batched models, model years, Arrow tables, Parquet + checksums) and the wall
clock when the batch began and ended, and its CPU seconds before its first batch (start-up:
interpreter, imports, unpickling). The driver's CPU is ``RUSAGE_SELF``, the workers' total
``RUSAGE_CHILDREN`` (after the pool is shut down): the workers' CPU not spent in batches is their
start-up plus the pickling of results and the pool's own threads. With ``--profile`` the driver is
profiled (cProfile, top functions by own time, to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ACCOUNT_DIR = "VALUECHAIN_ACCOUNT_DIR"
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def _phases() -> dict:
    from valuechain.simulation.abm import model, recorder
    from valuechain.simulation.running import runner, sweeps

    return {
        "batched models": (runner, "run_batch"),
        "model years": (model.ValueChainModel, "step"),
        "Arrow tables": (sweeps, "recorded_run_tables"),
        "stage accounts": (recorder.Recorder, "accounts"),
        "Parquet + checksums": (sweeps, "batch_bytes"),
    }


def timed_batch(task):
    """``sweeps.execute_batch`` with its phases' CPU seconds noted in ``$VALUECHAIN_ACCOUNT_DIR/<pid>.jsonl``."""
    from valuechain.simulation.running import sweeps

    from benchmarks.bench import timing_patches

    cpu_before = time.process_time()
    spent: dict = {}
    began = time.time()
    with timing_patches(_phases(), spent, clock=time.process_time):
        out = getattr(sweeps, "_execute_batch_untimed", sweeps.execute_batch)(task)
    note = {"pid": os.getpid(), "runs": len(task.runs), "cpu_before_s": cpu_before,
            "batch_cpu_s": time.process_time() - cpu_before, "began": began, "ended": time.time(), **spent}
    with open(Path(os.environ[ACCOUNT_DIR]) / f"{os.getpid()}.jsonl", "a") as fh:
        fh.write(json.dumps(note) + "\n")
    return out


def _cpu() -> dict:
    """CPU seconds so far: this process, its finished children (spawned workers), its running
    children themselves (the fork server) and their finished children (the workers it forked)."""
    import psutil  # comes with dask.distributed

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {"driver": own.ru_utime + own.ru_stime, "workers": children.ru_utime + children.ru_stime, "server": 0.0}
    for child in psutil.Process().children():
        try:
            t = child.cpu_times()
        except psutil.Error:
            continue
        out["server"] += t.user + t.system
        out["workers"] += t.children_user + t.children_system
    return out


def account(runs: int, workers: int, batch_size: int | None, profile: bool) -> dict:
    from valuechain.simulation.running import sweeps

    with tempfile.TemporaryDirectory() as tmp:
        notes = Path(tmp) / "notes"
        notes.mkdir()
        os.environ[ACCOUNT_DIR] = str(notes)
        sweep_file = Path(tmp) / "sweep.yaml"
        sweep_file.write_text(
            f"base: {BASELINE}\ndesign: grid\nreplications: {runs // 100}\n"
            "parameters:\n  policy.electricity_price.default: {low: 0.25, high: 0.45, levels: 100}\n")
        sweeps._execute_batch_untimed = sweeps.execute_batch
        sweeps.execute_batch = timed_batch
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
        before, t0 = _cpu(), time.time()
        if profiler:
            profiler.enable()
        summary = sweeps.run_sweep(str(sweep_file), out=Path(tmp) / "out", workers=workers, progress=False,
                                   batch_size=batch_size)
        if profiler:
            profiler.disable()
        wall, after = time.time() - t0, _cpu()
        driver, children, server = (after[k] - before[k] for k in ("driver", "workers", "server"))
        sweeps.execute_batch = sweeps._execute_batch_untimed
        batches = [json.loads(line) for f in notes.iterdir() for line in f.read_text().splitlines()]
    assert summary.n_ok == runs and summary.n_failed == 0, summary
    if profiler:
        import pstats

        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
    pids = sorted({b["pid"] for b in batches})
    first = {p: min((b for b in batches if b["pid"] == p), key=lambda b: b["began"]) for p in pids}
    startup = sum(b["cpu_before_s"] for b in first.values())
    in_batches = sum(b["batch_cpu_s"] for b in batches)
    first_ids = {id(b) for b in first.values()}
    rest = [b["batch_cpu_s"] - b.get("batched models", 0.0) - b.get("Arrow tables", 0.0)
            - b.get("Parquet + checksums", 0.0) for b in batches]
    rest_first = sum(r for r, b in zip(rest, batches) if id(b) in first_ids)
    phase = {label: sum(b.get(label, 0.0) for b in batches) for label in _phases()}
    last_end = max(b["ended"] for b in batches)
    idle = {p: last_end - max(b["ended"] for b in batches if b["pid"] == p) for p in pids}
    start_wait = {p: first[p]["began"] - t0 for p in pids}
    ms = 1e3 / runs
    rows = [
        ("driver (this process: planning, writing files, index, manifest, pool)", driver),
        ("fork server (its start: imports once for all workers; none with spawn)", server),
        ("workers: start-up before the first batch (interpreter, imports, first task)", startup),
        ("workers: in batches (execute_batch)", in_batches),
        ("  batched models (runner.run_batch)", phase["batched models"]),
        ("    of which model years (ValueChainModel.step)", phase["model years"]),
        ("  Arrow tables (recorded_run_tables)", phase["Arrow tables"]),
        ("    of which stage accounts (Recorder.accounts)", phase["stage accounts"]),
        ("  Parquet + checksums (batch_bytes)", phase["Parquet + checksums"]),
        ("  rest of execute_batch", in_batches - phase["batched models"] - phase["Arrow tables"]
         - phase["Parquet + checksums"]),
        ("    of which in each worker's first batch (lazy imports, first-use caches)", rest_first),
        ("workers: outside batches (pickling results, pool threads, exit)", children - startup - in_batches),
    ]
    total = driver + children + server
    print(f"{runs:,} runs of the default scenario on {workers} processes, batch size {summary.batch_size}, "
          f"{len(batches)} batches: {wall:.2f} s wall, {total:.2f} CPU s = {total * ms:.2f} ms a run")
    for label, seconds in rows:
        print(f"  {label:<80} {seconds:7.2f} s {seconds * ms:6.2f} ms/run")
    print(f"  workers' first batch began after (s): {', '.join(f'{start_wait[p]:.2f}' for p in pids)}; "
          f"idle at the end (s): {', '.join(f'{idle[p]:.2f}' for p in pids)}; "
          f"driver finished {t0 + wall - last_end:.2f} s after the last batch")
    return {"runs": runs, "wall_s": wall, "cpu_s": total, "rows": dict(rows), "batch_size": summary.batch_size,
            "idle_s": list(idle.values()), "start_wait_s": list(start_wait.values())}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--profile", action="store_true", help="cProfile of the driver to stderr")
    args = ap.parse_args()
    account(args.runs, args.workers, args.batch_size, args.profile)
