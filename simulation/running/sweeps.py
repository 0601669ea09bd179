"""Running a sweep: runs (point x replication) on any executor, streamed to a resumable store.

Layout of a sweep directory::

    sweep.json          what is run (sweep spec, base scenario, design, hash); written first
    points.parquet      point, name (mixes), overrides (JSON), one column per varied key
    runs/p00012_r003.parquet   one run: its stage and fiscal rows, told apart by a ``table``
                        column; the run's identity (point, replication, seed, spawn key,
                        scenario hash) is in the file's metadata
    runs.parquet        the runs index: point, parameters, replication, seed, spawn_key,
                        status (ok/failed/pending), error, duration_s, attempts, file, sha256;
                        rewritten as runs finish
    runs.sha256         journal: "runs/pPPPPP_rRRR.parquet SHA256" appended as each run file lands
    manifest.json       written last: counts, status, seeds, versions, times, SHA-256 of the store files

Every file is written to a temporary name and renamed (``os.replace``). The driver keeps no run
results: at most ``window`` runs are in flight, and each is written as it completes and dropped.
A model error is recorded as ``status=failed`` with its message and the sweep goes on. Only
infrastructure failures (a worker process that dies) are retried, at most ``max_retries`` times
per run; after a pool with several runs in flight breaks, those runs are retried one at a time so
that a crashing run is charged alone. ``resume=True`` skips every run whose file has the
recorded SHA-256 and matches the planned run (point, replication, seed, spawn key, and the
content hash of the point's resolved scenario and chain) and redoes the rest. The folder is
locked while a sweep writes (:mod:`.outdir`); only files the store records are ever deleted.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..config.errors import InputError
from ..config.scenario import LoadedScenario
from ..config.sweep import Sweep, describe, load_sweep
from ..schema import UNITS, chain_hash, keys_first
from . import runner
from .executors import InProcessExecutor, cap_workers, default_workers, process_pool
from .outdir import check_out_path, kill_point, output_lock, remove_stale_temporaries, sha256_file
from .store import _read_json, atomic_write_bytes, atomic_write_json, atomic_write_parquet, check_out_dir, versions

RUNS_DIR = "runs"
JOURNAL = "runs.sha256"  # one line "runs/pPPPPP_rRRR.parquet SHA256" appended as each run file is written
OWN_FILES = ("sweep.json", "points.parquet", "runs.parquet", JOURNAL, "manifest.json")
STORE_FILES = r"sweep\.json|points\.parquet|runs\.parquet|runs\.sha256|manifest\.json"  # exact names
RUN_FILES = r"p\d{5}_r\d{3}\.parquet"
SCHEDULER_TIMEOUT_S = 60.0  # default; env VALUECHAIN_SCHEDULER_TIMEOUT_S or --scheduler-timeout
HEALTH_EVERY_S = 1.0  # how often the driver checks that a Dask scheduler is still there
RUN_META = b"valuechain.run"
INDEX_EVERY_S = 1.0  # rewrite the runs index at most this often while runs finish (and at the end)


def run_file_name(point: int, replication: int) -> str:
    return f"p{point:05d}_r{replication:03d}.parquet"


def one_line(exc: BaseException, limit: int = 500) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run; the model never knows where it runs."""

    point: int
    replication: int
    scenario: LoadedScenario
    seed: np.random.SeedSequence
    identity: dict  # point, replication, seed, spawn_key, scenario_hash
    engine: str = "vectorized"


def execute_run(task: RunTask) -> tuple[dict, bytes | None]:
    """Worker side: run the model and return (record, Parquet bytes of the run's rows).

    A model error is returned as a record with ``status="failed"`` (it is data, not retried).
    """
    t0 = time.perf_counter()
    try:
        stages, fiscal, _ = runner.run_replication(task.scenario, task.replication, task.seed, task.engine)
    except Exception as exc:  # the model's failure, reported as data
        record = {**task.identity, "status": "failed", "error": one_line(exc),
                  "duration_s": time.perf_counter() - t0}
        return record, None
    record = {**task.identity, "status": "ok", "error": None, "duration_s": time.perf_counter() - t0}
    tables = {}
    for name, frame in (("stages", stages), ("fiscal", fiscal)):
        frame = frame.assign(point=task.point)
        frame = keys_first(frame, ["scenario", "point"])
        tables[name] = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    columns = {name: t.column_names for name, t in tables.items()}
    table = pa.concat_tables(
        [t.append_column("table", pa.array([name] * t.num_rows, pa.string())) for name, t in tables.items()],
        promote_options="default")
    meta = {**record, "columns": columns}
    table = table.replace_schema_metadata({RUN_META: json.dumps(meta).encode()})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return record, buf.getvalue()


@dataclass
class SweepSummary:
    """What a sweep did: counts, where the results are, the first failures."""

    out: Path
    n_runs: int
    n_ok: int = 0
    n_failed: int = 0
    n_skipped: int = 0  # finished runs found on resume, not computed again
    n_computed: int = 0
    failures: list[tuple[int, int, str]] = field(default_factory=list)  # first 10: (point, replication, error)
    duration_s: float = 0.0


# ------------------------------------------------------------------------------ the store
def points_frame(sweep: Sweep) -> pd.DataFrame:
    """One row per point: id, name (mixes), overrides as JSON and one column per varied key.

    A key a mix does not set is missing (the base value applies). Numeric and boolean columns
    keep their type; anything else (lists, mappings, mixed types) is stored as JSON text.
    """
    frame = pd.DataFrame({
        "point": [p.point for p in sweep.points],
        "name": [p.name for p in sweep.points],
        "overrides": [json.dumps(p.overrides, sort_keys=True) for p in sweep.points],
    })
    for key in sweep.parameter_keys:
        values = [p.overrides.get(key) for p in sweep.points]
        given = [v for v in values if v is not None]
        if all(isinstance(v, bool) for v in given):
            frame[key] = pd.array(values, dtype="boolean")
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in given):
            frame[key] = np.array([np.nan if v is None else float(v) for v in values])
        elif all(isinstance(v, str) for v in given):
            frame[key] = pd.array(values, dtype="str")
        else:
            frame[key] = [None if v is None else json.dumps(v, sort_keys=True) for v in values]
    return frame


class SchedulerLost(RuntimeError):
    """The Dask scheduler went away and did not come back within the timeout."""



def _store_hash(out: Path) -> str | None:
    """The sweep hash a store records (``sweep.json``, else ``manifest.json``), or None."""
    for name in ("sweep.json", "manifest.json"):
        found = _read_json(out / name).get("sweep_hash")
        if isinstance(found, str):
            return found
    return None


def prepare_out(out: Path, sweep: Sweep, resume: bool, overwrite: bool) -> bool:
    """Check ``out`` (raises InputError, writes nothing); True if it holds this sweep to resume."""
    check_out_path(out)
    found = _store_hash(out)
    if resume and (found is not None or (out / "sweep.json").exists()):
        if found != sweep.hash():
            raise InputError(str(out), "--resume", f"holds a different sweep (hash {found}, this one "
                             f"{sweep.hash()}); choose another --out or start again with --overwrite")
        return True
    if resume and out.is_dir() and any(p.name != ".valuechain.lock" for p in out.iterdir()):
        raise InputError(str(out), "--resume", "not a sweep results directory (no sweep.json)")
    check_out_dir(out, overwrite, kind="sweep")
    if found is None and out.is_dir():  # not our store: a file with one of our names is the user's
        for name in (*OWN_FILES, RUNS_DIR):
            if (out / name).exists():
                raise InputError(str(out / name), "--out", "exists but is not part of a valuechain sweep "
                                 "store; valuechain replaces only files it wrote; move it or choose another --out")
    return False


def _recorded_runs(out: Path) -> dict[str, str | None]:
    """Run files a store records with their SHA-256: the runs index, then the journal (newer)."""
    files: dict[str, str | None] = {}
    try:
        index = pq.read_table(out / "runs.parquet").to_pandas()
        shas = index["sha256"] if "sha256" in index else [None] * len(index)
        files.update({f: (h if isinstance(h, str) else None) for f, h in zip(index["file"], shas)})
    except Exception:  # missing or damaged index: the journal still knows the checksums
        pass
    try:
        lines = (out / JOURNAL).read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"[0-9a-f]{64}", parts[1]):
            files[parts[0]] = parts[1]
    pattern = re.compile(rf"{RUNS_DIR}/(?:{RUN_FILES})")
    return {f: h for f, h in files.items() if isinstance(f, str) and pattern.fullmatch(f)}


def _clean(out: Path, fresh: bool) -> None:
    """Remove our own leftovers only: temporary files of earlier writers, the manifest (a store
    without one is unfinished) and, on a fresh start, the files the previous store recorded."""
    remove_stale_temporaries(out, STORE_FILES)
    remove_stale_temporaries(out / RUNS_DIR, RUN_FILES)
    (out / "manifest.json").unlink(missing_ok=True)  # first: a manifest marks a finished sweep
    if fresh:
        for name in _recorded_runs(out):
            (out / name).unlink(missing_ok=True)
        for name in OWN_FILES:
            (out / name).unlink(missing_ok=True)


def _finished(path: Path, identity: dict, expected_sha: str | None) -> dict | None:
    """The stored record if ``path`` has the recorded checksum and belongs to the planned run."""
    if not expected_sha:
        return None  # no checksum recorded: the file cannot be trusted, the run is done again
    try:
        if sha256_file(path) != expected_sha:
            return None  # changed (or damaged) since it was written
        info = json.loads(pq.read_schema(path).metadata[RUN_META])
    except Exception:  # missing, truncated or foreign file: the run is done again
        return None
    same = all(info.get(k) == v for k, v in identity.items())
    return info if same and info.get("status") == "ok" else None


class _Index:
    """Per-run status kept as small arrays (no results), written as ``runs.parquet``."""

    def __init__(self, sweep: Sweep, points: pd.DataFrame):
        self.sweep = sweep
        n_rep = sweep.replications
        self.point = point = np.repeat(np.arange(len(sweep.points)), n_rep)
        self.replication = replication = np.tile(np.arange(n_rep), len(sweep.points))
        n = point.size
        self.status = np.full(n, "pending", dtype=object)
        self.error = np.full(n, None, dtype=object)
        self.duration_s = np.full(n, np.nan)
        self.attempts = np.zeros(n, dtype=np.int64)
        self.sha256 = np.full(n, None, dtype=object)
        self.last_write = 0.0
        self.last_sha: str | None = None
        # the columns that never change, built once (the index is rewritten every INDEX_EVERY_S)
        runs = pd.DataFrame({
            "point": point, "replication": replication, "seed": sweep.seed,
            "spawn_key": [[int(r)] for r in replication], **self._changing(),
            "file": [f"{RUNS_DIR}/{run_file_name(p, r)}" for p, r in zip(point, replication)],
        })
        self.files = runs["file"].tolist()
        runs = runs.merge(points.drop(columns=["overrides"]), on="point", how="left")
        self._frame = keys_first(runs, ["point", "name", *sweep.parameter_keys, "replication"])

    def _changing(self) -> dict:
        return {"status": self.status.astype(str), "error": self.error, "duration_s": self.duration_s,
                "attempts": self.attempts, "sha256": self.sha256}

    def frame(self) -> pd.DataFrame:
        runs = self._frame.copy()
        for name, values in self._changing().items():
            runs[name] = values
        return runs

    def write(self, out: Path, force: bool = False) -> None:
        if force or time.monotonic() - self.last_write >= INDEX_EVERY_S:
            self.last_sha = atomic_write_parquet(self.frame(), out / "runs.parquet")
            self.last_write = time.monotonic()


# ------------------------------------------------------------------------------ the driver
def run_sweep(sweep: Sweep | str | Path, executor: Executor | Callable[[], Executor] | None = None,
              out: str | Path | None = None, *, workers: int | None = None, resume: bool = False,
              overwrite: bool = False, progress: bool = True, max_retries: int = 2,
              window: int | None = None, engine: str = "vectorized",
              scheduler_timeout: float | None = None) -> SweepSummary:
    """Run every point x replication of ``sweep`` and store the results in ``out``.

    ``executor``: any ``concurrent.futures``-style executor (e.g. a Dask
    ``client.get_executor(pure=False)``; not shut down here), or a zero-argument factory of one
    (recreated if its worker processes die). Default: ``workers`` processes (one per core);
    ``workers=1`` runs in this process. ``window`` bounds the runs in flight (default 3 x
    workers). Results are identical whatever executes them: run (point, k) always uses the
    k-th child seed of the sweep seed. The folder is locked for the whole sweep (a second
    writer gets an InputError). An executor whose Dask scheduler is gone for
    ``scheduler_timeout`` seconds (default ``VALUECHAIN_SCHEDULER_TIMEOUT_S`` or 60) ends the
    sweep with :class:`SchedulerLost`; the store stays resumable.
    Returns a :class:`SweepSummary`; ``n_failed`` counts the
    runs that failed (check it: a sweep with failures returns normally). In a script, call it
    under ``if __name__ == "__main__":`` (local workers are "spawn" processes; see
    :func:`runner.check_main_guard`, which raises at once otherwise).
    """
    if executor is None and (workers or default_workers()) > 1:
        runner.check_main_guard("run_sweep")  # before anything is written
    sweep = sweep if isinstance(sweep, Sweep) else load_sweep(sweep)
    out = Path(out) if out is not None else Path("results") / sweep.name
    prepare_out(out, sweep, resume, overwrite)  # bad input fails before the folder is created
    with output_lock(out):
        return _run_sweep(sweep, executor, out, workers=workers, resume=resume, overwrite=overwrite,
                          progress=progress, max_retries=max_retries, window=window, engine=engine,
                          scheduler_timeout=scheduler_timeout)


def scheduler_timeout_s(value: float | None = None) -> float:
    if value is not None:
        return float(value)
    raw = os.environ.get("VALUECHAIN_SCHEDULER_TIMEOUT_S", "")
    try:
        return float(raw) if raw.strip() else SCHEDULER_TIMEOUT_S
    except ValueError:
        raise InputError("VALUECHAIN_SCHEDULER_TIMEOUT_S", "", "must be a number of seconds", raw) from None


def _scheduler_status(pool: Executor) -> str | None:
    """The Dask client's status ("running" when connected), or None for other executors."""
    client = getattr(pool, "_client", None)
    status = getattr(client, "status", None) if client is not None else None
    return str(getattr(status, "value", status)) if status is not None else None


def _run_sweep(sweep: Sweep, executor: Executor | Callable[[], Executor] | None, out: Path, *,
               workers: int | None, resume: bool, overwrite: bool, progress: bool, max_retries: int,
               window: int | None, engine: str, scheduler_timeout: float | None) -> SweepSummary:
    started = time.time()
    timeout_s = scheduler_timeout_s(scheduler_timeout)
    resuming = prepare_out(out, sweep, resume, overwrite)  # again, now that the folder is locked
    recorded = _recorded_runs(out) if resuming else {}
    (out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    _clean(out, fresh=not resuming)
    points = points_frame(sweep)
    store_sha = {"sweep.json": atomic_write_json(_sweep_info(sweep), out / "sweep.json")}  # resume restores both
    kill_point("sweep:between-sweep-json-and-points")
    store_sha["points.parquet"] = atomic_write_parquet(points, out / "points.parquet")

    index = _Index(sweep, points)
    seeds = sweep.seeds()
    cache: dict[int, tuple[LoadedScenario, str]] = {}  # point -> its scenario and that scenario's hash

    def task(i: int) -> RunTask:
        p, r = int(index.point[i]), int(index.replication[i])
        if p not in cache:
            cache.clear()  # runs are point-major: keep one point's scenario at a time
            scenario = sweep.scenario(sweep.points[p])
            cache[p] = scenario, sweep.scenario_hash(scenario)
        scenario, scenario_hash = cache[p]
        identity = {"point": p, "replication": r, "seed": sweep.seed, "spawn_key": list(seeds[r].spawn_key),
                    "scenario_hash": scenario_hash}
        return RunTask(p, r, scenario, seeds[r], identity, engine)

    summary = SweepSummary(out, index.point.size)
    todo: deque[int] = deque()
    for i in range(index.point.size):
        name = index.files[i]
        found = _finished(out / name, task(i).identity, recorded.get(name)) if resuming else None
        if found:
            index.status[i], index.duration_s[i] = "ok", found.get("duration_s", np.nan)
            index.sha256[i] = recorded[name]
            summary.n_skipped += 1
        else:
            todo.append(i)
    summary.n_ok = summary.n_skipped
    index.write(out, force=True)
    journal = open(out / JOURNAL, "ab")  # noqa: SIM115  (closed in the finally below)
    if journal.tell() and not (out / JOURNAL).read_bytes().endswith(b"\n"):
        journal.write(b"\n")  # a line cut by a kill stays a line of its own

    from tqdm import tqdm

    bar = tqdm(total=summary.n_runs, initial=summary.n_skipped, desc=f"sweep {sweep.name}", unit="run",
               file=sys.stderr, disable=not progress, smoothing=0.05)
    own = executor is None or (callable(executor) and not isinstance(executor, Executor))
    n_workers = cap_workers(workers or default_workers(), max(1, len(todo)))
    factory: Callable[[], Executor] | None
    if executor is None:
        factory = InProcessExecutor if n_workers == 1 else (lambda: process_pool(n_workers))
    else:
        factory = executor if own else None  # type: ignore[assignment]
    pool: Executor = factory() if factory else executor  # type: ignore[assignment]
    window = window or max(2, 3 * (n_workers if own and workers else _capacity(pool)))
    in_flight: dict[Future, int] = {}
    suspects: set[int] = set()  # runs in flight when a pool broke: retried one at a time
    submit_failures = 0  # consecutive submits refused by the executor
    lost_since: float | None = None  # when the Dask scheduler was first seen gone

    def record(i: int, rec: dict, data: bytes | None) -> None:
        if data is not None:
            sha = atomic_write_bytes(data, out / index.files[i])
            journal.write(f"{index.files[i]} {sha}\n".encode())
            journal.flush()
            index.sha256[i] = sha
            kill_point("sweep:run-recorded")
        index.status[i], index.error[i], index.duration_s[i] = rec["status"], rec["error"], rec["duration_s"]
        suspects.discard(i)
        summary.n_computed += 1
        if rec["status"] == "ok":
            summary.n_ok += 1
        else:
            summary.n_failed += 1
        bar.update(1)
        bar.set_postfix(failed=summary.n_failed, refresh=False)
        index.write(out)

    def infrastructure_failure(i: int, exc: BaseException, charge: bool = True) -> None:
        index.attempts[i] += 1 if charge else 0
        if index.attempts[i] > max_retries:
            msg = f"infrastructure failure after {index.attempts[i]} attempts: {one_line(exc)}"
            record(i, {"status": "failed", "error": msg, "duration_s": np.nan}, None)
        else:
            todo.appendleft(i)

    try:
        while todo or in_flight:
            while todo and len(in_flight) < (1 if suspects else window):
                i = todo.popleft()
                try:
                    in_flight[pool.submit(execute_run, task(i))] = i
                    submit_failures = 0
                except (BrokenProcessPool, RuntimeError) as exc:  # the executor is unusable
                    todo.appendleft(i)
                    submit_failures += 1
                    if not own or submit_failures > max_retries:
                        raise RuntimeError(f"the executor refuses work: {one_line(exc)}") from exc
                    pool = _restart(pool, factory)
            done, _ = wait(in_flight, timeout=HEALTH_EVERY_S, return_when=FIRST_COMPLETED)
            if not done:
                status = _scheduler_status(pool)
                if status is None or status == "running":
                    lost_since = None
                    continue
                lost_since = lost_since or time.monotonic()
                if time.monotonic() - lost_since >= timeout_s:
                    raise SchedulerLost(f"lost the Dask scheduler (client {status}) for {timeout_s:g} s; "
                                        f"the store in {out} is resumable with --resume")
                continue
            broken: BaseException | None = None
            n_at_break = len(in_flight)
            for fut in sorted(done, key=in_flight.__getitem__):  # in run order, for reproducible logs
                i = in_flight.pop(fut)
                try:
                    rec, data = fut.result()
                except BrokenProcessPool as exc:
                    broken = exc
                    suspects.add(i)
                    continue
                except Exception as exc:  # e.g. a Dask worker lost: retry this run
                    infrastructure_failure(i, exc)
                    continue
                index.attempts[i] += 1
                record(i, rec, data)
            if broken is not None:
                suspects.update(in_flight.values())
                in_flight.clear()
                for i in sorted(suspects, reverse=True):
                    if i not in todo:
                        # charge a run only when it was alone in the pool: then it caused the break
                        infrastructure_failure(i, broken, charge=n_at_break == 1)
                if own:
                    pool = _restart(pool, factory)
                else:
                    raise RuntimeError(f"the executor's worker processes died: {one_line(broken)}")
                suspects &= set(todo)
    finally:
        for fut in in_flight:
            fut.cancel()
        if own:
            pool.shutdown(wait=not in_flight, cancel_futures=True)
        bar.close()
        journal.close()
        index.write(out, force=True)
    summary.duration_s = time.time() - started
    failed = np.flatnonzero(index.status == "failed")[:10]
    summary.failures = [(int(index.point[i]), int(index.replication[i]), index.error[i]) for i in failed]
    store_sha["runs.parquet"] = index.last_sha
    store_sha[JOURNAL] = sha256_file(out / JOURNAL)
    manifest = {**_manifest(sweep, summary, started, resuming, pool), "files": store_sha}
    atomic_write_json(manifest, out / "manifest.json")
    return summary


def _capacity(pool: Executor) -> int:
    """How many runs ``pool`` executes at once (best effort)."""
    if isinstance(pool, InProcessExecutor):
        return 1
    client = getattr(pool, "_client", None)  # dask.distributed ClientExecutor
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    return int(getattr(pool, "_max_workers", 0) or default_workers())


def _restart(pool: Executor, factory: Callable[[], Executor] | None) -> Executor:
    pool.shutdown(wait=False, cancel_futures=True)
    assert factory is not None
    return factory()


def _sweep_info(sweep: Sweep) -> dict:
    return {
        "kind": "valuechain sweep", "name": sweep.name, "file": sweep.file, "sweep_hash": sweep.hash(),
        "design": sweep.design, "design_info": sweep.design_info, "parameters": sweep.parameter_keys,
        "n_points": len(sweep.points), "replications": sweep.replications, "seed": sweep.seed,
        "spec": sweep.spec.model_dump(mode="json", by_alias=True),
        "base_scenario": sweep.base.spec.model_dump(mode="json"), "base_scenario_file": sweep.base.file,
        "chain_file": str(sweep.base.chain.path), "chain_hash": chain_hash(sweep.base.chain),
    }


def _manifest(sweep: Sweep, summary: SweepSummary, started: float, resumed: bool, pool: Executor) -> dict:
    return {
        **_sweep_info(sweep),
        "base_scenario_hash": sweep.base.spec.hash(),
        "spawn_keys": [list(s.spawn_key) for s in sweep.seeds()],
        "runs": summary.n_runs, "ok": summary.n_ok, "failed": summary.n_failed,
        "skipped_on_resume": summary.n_skipped, "resumed": resumed,
        "status": "complete" if summary.n_failed == 0 else "complete_with_failures",
        "executor": type(pool).__name__, "started": started, "finished": time.time(),
        "versions": versions(), "units": UNITS,
        "layout": {"runs": "runs/pPPPPP_rRRR.parquet; column 'table' is 'stages' or 'fiscal'",
                   "index": "runs.parquet", "points": "points.parquet"},
    }


# ------------------------------------------------------------------------------ command line
def sweep_command(args: Any) -> int:
    """``valuechain sweep``: validate, check the output folder, connect, run, report."""
    sweep = load_sweep(args.sweep)
    if args.dry_run:
        print(describe(sweep))
        return 0
    if args.workers is not None and not (1 <= args.workers <= 1024):
        raise InputError("--workers", "", "must be between 1 and 1024", args.workers)
    if args.scheduler_timeout is not None and not (0 < args.scheduler_timeout <= 86_400):
        raise InputError("--scheduler-timeout", "", "must be between 0 and 86400 seconds", args.scheduler_timeout)
    if args.workers is not None and args.scheduler:
        raise InputError("--workers", "", "not used with --scheduler (the cluster's workers run the sweep)")
    out = Path(args.out) if args.out else Path("results") / sweep.name
    prepare_out(out, sweep, args.resume, args.overwrite)  # bad input fails before anything is written
    if not args.scheduler:
        summary = run_sweep(sweep, None, out, workers=args.workers, resume=args.resume,
                            overwrite=args.overwrite, progress=not args.quiet)
    else:
        from dask.distributed import Client

        # Dask's own log lines (a lost scheduler makes it log tracebacks) would break the one-line
        # error contract and the progress bar; --debug shows them
        quieted = [] if getattr(args, "debug", False) else [
            logging.getLogger(name) for name in ["distributed", "tornado", *logging.root.manager.loggerDict]
            if name.split(".")[0] in ("distributed", "tornado")]
        quieted = [log for log in quieted if not log.disabled]
        for log in quieted:
            log.disabled = True

        try:
            client = Client(args.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError("--scheduler", "", f"cannot connect to the Dask scheduler: {one_line(exc)}",
                             args.scheduler) from None
        try:  # run_sweep keeps three runs in flight per cluster thread (``_capacity``)
            summary = run_sweep(sweep, client.get_executor(pure=False), out, resume=args.resume,
                                overwrite=args.overwrite, progress=not args.quiet,
                                scheduler_timeout=args.scheduler_timeout)
        finally:
            try:
                client.close(timeout=5)
            except Exception:  # noqa: S110  (a client whose scheduler is gone may not close cleanly)
                pass
            for log in quieted:
                log.disabled = False
    done = f"{summary.n_ok} ok" + (f" ({summary.n_skipped} already done)" if summary.n_skipped else "")
    print(f"sweep {sweep.name}: {summary.n_runs} run(s): {done}, {summary.n_failed} failed; "
          f"{summary.duration_s:.1f} s; results: {out}/")
    if summary.n_failed:
        p, r, err = summary.failures[0]
        print(f"error: {summary.n_failed} of {summary.n_runs} run(s) failed; first: point {p} replication {r}: "
              f"{err} (status and error of each run in {out / 'runs.parquet'})", file=sys.stderr)
        return 1
    return 0
