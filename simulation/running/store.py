"""Results on disk: Parquet files written atomically, the manifest last.

A run set directory holds ``stages_rep0000.parquet`` ... (one per replication, tidy layout:
``scenario, replication, year, sector, stage, tier`` + metrics), ``fiscal_cost.parquet``
(``... , lever, fiscal_cost``), ``runs.parquet`` (one row per replication, with its stage
file and that file's SHA-256) and ``manifest.json`` (``files``: the SHA-256 of every file).
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import pandas as pd

from ..config.errors import InputError
from ..schema import UNITS, chain_hash
from .outdir import LOCK_NAME, check_out_path, kill_point, output_lock, remove_stale_temporaries, sha256_bytes

RUN_SET_FILES = r"stages_rep\d{4}\.parquet|fiscal_cost\.parquet|runs\.parquet|manifest\.json"  # our names
DEPENDENCIES = ("numpy", "scipy", "mesa", "pandas", "pyarrow", "pydantic", "PyYAML")
SWEEP_MARKERS = ("sweep.json", "points.parquet")
BACKTEST_MANIFEST = "backtest.json"  # a back-test's folder (backtest_out)


def _ours(name: str, names: str) -> bool:
    return re.fullmatch(names, name) is not None


def is_run_manifest(manifest: dict) -> bool:
    """True if ``manifest`` (a parsed ``manifest.json``) is a run set's that valuechain wrote: ``kind:
    valuechain results``, or from before ``kind`` its ``scenario_hash`` and ``replications``."""
    if manifest.get("kind") == "valuechain results":
        return True
    return "kind" not in manifest and "scenario_hash" in manifest and isinstance(manifest.get("replications"), int)


def _leftover(out: Path, name: str, own: str) -> bool:
    """An entry a killed valuechain writer may leave before its first manifest: a temporary file of one
    of its names (``own``), or an empty folder."""
    if re.fullmatch(rf"\.(?:{own})\.tmp-\d+", name):
        return True
    path = out / name
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def check_out_dir(out: Path, overwrite: bool, kind: str = "results", own: str = RUN_SET_FILES) -> None:
    """Refuse an output folder that is unsafe (:func:`check_out_path`), holds anything but a previous
    output of this ``kind`` (a run set for ``results``, a sweep's store for ``sweep``: a run never replaces a
    sweep's store, a sweep never replaces a run set, neither writes beside a back-test, and a folder
    valuechain never wrote is refused), or holds a previous output without ``overwrite``. ``own``: the
    regex of the file names of that kind (their temporaries, left by a killed writer, are not foreign)."""
    check_out_path(out)
    if not out.exists():
        return
    entries = [p.name for p in out.iterdir() if p.name != LOCK_NAME]
    if not entries:
        return
    writer = "run" if kind == "results" else kind
    if BACKTEST_MANIFEST in entries:
        raise InputError(str(out), "--out", f"holds a back-test's results ({BACKTEST_MANIFEST}); a {writer} is not "
                         "written beside them; choose another --out")
    manifest = _read_json(out / "manifest.json")
    is_sweep = any(n in entries for n in SWEEP_MARKERS) or "sweep_hash" in manifest
    if kind == "results" and is_sweep:
        raise InputError(str(out), "--out", "holds a sweep's results (sweep.json); a run does not replace "
                         "them; choose another --out")
    if kind == "sweep" and not is_sweep and is_run_manifest(manifest):
        raise InputError(str(out), "--out", "holds a run's results (manifest.json); a sweep does not replace "
                         "them; choose another --out")
    if not is_sweep and not is_run_manifest(manifest):  # not a previous output: only the user's files
        if "manifest.json" in entries:
            raise InputError(str(out / "manifest.json"), "--out", "exists but is not a valuechain manifest; "
                             "valuechain replaces only files it wrote; move it or choose another --out")
        named = sorted(n for n in entries if _ours(n, own))
        if named:
            raise InputError(str(out / named[0]), "--out", "exists but no valuechain manifest lists it; "
                             "valuechain replaces only files it wrote; move it or choose another --out")
        if not all(_leftover(out, n, own) for n in entries):
            what = "run's results (manifest.json)" if kind == "results" else "sweep's results (sweep.json)"
            raise InputError(str(out), "--out", f"directory exists and is not empty, and holds no {what}; "
                             "choose another --out")
    if not overwrite:
        raise InputError(str(out), "--out", "directory exists and is not empty; pass --overwrite to replace it")


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary name in the same folder to write to; renamed to ``path`` when the block ends,
    so readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    yield tmp
    kill_point(f"before-replace:{path.name}")
    os.replace(tmp, path)
    kill_point(f"after-replace:{path.name}")


def atomic_write_bytes(data: bytes, path: Path) -> str:
    """Write ``data`` to ``path`` atomically; returns its SHA-256."""
    with _replacing(path) as tmp:
        tmp.write_bytes(data)
    return sha256_bytes(data)


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def atomic_write_parquet(df: pd.DataFrame, path: Path) -> str:
    return atomic_write_bytes(parquet_bytes(df), path)


def atomic_write_json(data: dict, path: Path) -> str:
    return atomic_write_bytes(json.dumps(data, indent=2, sort_keys=True, default=str).encode(), path)


def versions() -> dict:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in ("valuechain",) + DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def recorded_files(out: Path) -> set[str]:
    """The files a previous run set in ``out`` wrote, as its manifest lists them (``files``; a
    manifest from before checksums: its ``replications`` stage files, fiscal and runs tables).
    Names that are not the toolkit's own file names are never returned."""
    manifest = _read_json(out / "manifest.json")
    files = manifest.get("files")
    if isinstance(files, dict):
        names = set(files)
    elif isinstance(manifest.get("replications"), int) and "scenario_hash" in manifest:
        names = {f"stages_rep{k:04d}.parquet" for k in range(min(manifest["replications"], 10_000))}
        names |= {"fiscal_cost.parquet", "runs.parquet"}
    else:
        names = set()
    return {n for n in names if isinstance(n, str) and _ours(n, RUN_SET_FILES) and n != "manifest.json"}


def write_results(results, out: Path, overwrite: bool = False) -> Path:
    """Write a :class:`~simulation.runner.Results` to ``out`` under its lock, crash-safe.

    The manifest goes first, marked ``status: writing`` and listing every file that is or may
    become ours (old and new), so a kill at any later point leaves a folder that the loaders
    refuse and that the next ``--overwrite`` can clean; then the old files not written again are
    deleted (only those the old manifest lists), the new ones written (each atomically), and
    last the manifest with ``status: complete`` and the SHA-256 of every file.
    """
    out = Path(out)
    with output_lock(out):
        check_out_dir(out, overwrite)
        remove_stale_temporaries(out, RUN_SET_FILES)
        old = recorded_files(out)
        reps = sorted(int(r) for r in results.stages["replication"].unique())
        stage_names = [f"stages_rep{rep:04d}.parquet" for rep in reps]
        new = [*stage_names, "fiscal_cost.parquet", "runs.parquet"]
        for name in new:  # a file of ours here that no manifest lists is a user's: keep it
            if (out / name).exists() and name not in old:
                raise InputError(str(out / name), "--out", "exists but no valuechain manifest lists it; "
                                 "valuechain replaces only files it wrote; move it or choose another --out")
        atomic_write_json({"kind": "valuechain results", "status": "writing",
                           "files": {name: None for name in sorted(old | set(new))}}, out / "manifest.json")
        for name in sorted(old - set(new)):
            (out / name).unlink(missing_ok=True)
        kill_point("run:old-files-deleted")
        files: dict[str, str] = {}
        for rep, frame in results.stages.groupby("replication", sort=True):
            name = f"stages_rep{int(rep):04d}.parquet"
            files[name] = atomic_write_parquet(frame.reset_index(drop=True), out / name)
        files["fiscal_cost.parquet"] = atomic_write_parquet(results.fiscal, out / "fiscal_cost.parquet")
        runs = results.runs.copy()
        runs["file"] = [f"stages_rep{int(r):04d}.parquet" for r in runs["replication"]]
        runs["sha256"] = [files.get(n) for n in runs["file"]]
        files["runs.parquet"] = atomic_write_parquet(runs, out / "runs.parquet")
        sc = results.scenario
        manifest = {
            "kind": "valuechain results",
            "scenario": sc.spec.model_dump(mode="json"),
            "scenario_file": sc.file,
            "scenario_hash": sc.spec.hash(),
            "chain_file": str(sc.chain.path),
            "chain_hash": chain_hash(sc.chain),
            "overrides": list(results.meta.get("overrides", [])),  # the --set assignments, as given
            "scenario_name_in_file": results.meta.get("scenario_name_in_file", sc.name),
            "seed": sc.spec.seed,
            "replications": sc.spec.replications,
            "spawn_keys": results.runs["spawn_key"].tolist(),
            "versions": versions(),
            "started": results.meta.get("started"),
            "finished": results.meta.get("finished"),
            "status": "complete",
            "units": UNITS,
            "files": files,
            # what the spread over runs covers: "replications" (random numbers only) or
            # "parameters+replications" (runs with parameter draws, simulation.running.draws)
            "interval": "replications",
        }
        manifest.update(results.meta.get("manifest_extra", {}))
        atomic_write_json(manifest, out / "manifest.json")
    return out
