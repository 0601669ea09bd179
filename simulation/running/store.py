"""Results on disk: Parquet files written atomically, the manifest last.

A run set directory holds ``stages_rep0000.parquet`` ... (one per replication, tidy layout:
``scenario, replication, year, sector, stage, tier`` + metrics), ``fiscal_cost.parquet``
(``... , lever, fiscal_cost``), ``runs.parquet`` and ``manifest.json``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import pandas as pd

from ..config.errors import InputError
from ..schema import UNITS

OWN_PATTERNS = ("stages_rep*.parquet", "fiscal_cost.parquet", "runs.parquet", "manifest.json")
DEPENDENCIES = ("numpy", "scipy", "mesa", "pandas", "pyarrow", "pydantic", "PyYAML")


def check_out_dir(out: Path, overwrite: bool) -> None:
    """Refuse to write into an existing non-empty directory unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "--out", "exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(str(out), "--out", "directory exists and is not empty; pass --overwrite to replace it")


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary name in the same folder to write to; renamed to ``path`` when the block ends,
    so readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    yield tmp
    os.replace(tmp, path)


def atomic_write_bytes(data: bytes, path: Path) -> None:
    with _replacing(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_parquet(df: pd.DataFrame, path: Path) -> None:
    with _replacing(path) as tmp:
        df.to_parquet(tmp, index=False)


def atomic_write_json(data: dict, path: Path) -> None:
    atomic_write_bytes(json.dumps(data, indent=2, sort_keys=True, default=str).encode(), path)


def versions() -> dict:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in ("valuechain",) + DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def write_results(results, out: Path, overwrite: bool = False) -> Path:
    """Write a :class:`~simulation.runner.Results` to ``out``; the manifest is written last."""
    out = Path(out)
    check_out_dir(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    for pattern in OWN_PATTERNS:  # replace only our own files, never the user's
        for old in out.glob(pattern):
            old.unlink()
    for rep, frame in results.stages.groupby("replication", sort=True):
        atomic_write_parquet(frame.reset_index(drop=True), out / f"stages_rep{int(rep):04d}.parquet")
    atomic_write_parquet(results.fiscal, out / "fiscal_cost.parquet")
    atomic_write_parquet(results.runs, out / "runs.parquet")
    sc = results.scenario
    manifest = {
        "scenario": sc.spec.model_dump(mode="json"),
        "scenario_file": sc.file,
        "scenario_hash": sc.spec.hash(),
        "chain_file": str(sc.chain.path),
        "seed": sc.spec.seed,
        "replications": sc.spec.replications,
        "spawn_keys": results.runs["spawn_key"].tolist(),
        "versions": versions(),
        "started": results.meta.get("started"),
        "finished": results.meta.get("finished"),
        "status": "complete",
        "units": UNITS,
    }
    atomic_write_json(manifest, out / "manifest.json")
    return out
