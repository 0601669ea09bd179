"""Loading results and the derived measures: processing depth, local sourcing, yield per yuan."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..simulation.checksums import sha256_file
from ..simulation.config.errors import InputError


@dataclass
class RunSet:
    """A results directory: ``stages`` and ``fiscal`` tidy frames, ``runs`` and the ``manifest``."""

    stages: pd.DataFrame
    fiscal: pd.DataFrame
    runs: pd.DataFrame
    manifest: dict


def verify_file(path: Path, expected: str | None) -> None:
    """InputError unless ``path`` exists and its SHA-256 is ``expected``."""
    if not expected:
        raise InputError(str(path), "", "no checksum recorded for this file (an unfinished write?); "
                         "run again with --overwrite")
    try:
        found = sha256_file(path)
    except FileNotFoundError:
        raise InputError(str(path), "", "file listed in the manifest is missing; run again with --overwrite") from None
    if found != expected:
        raise InputError(str(path), "", f"checksum mismatch: the file changed after valuechain wrote it "
                         f"(sha256 recorded {expected[:12]}..., found {found[:12]}...)")


def load_results(directory: str | Path) -> RunSet:
    """Read a run set written by ``valuechain run`` (or ``simulation.store.write_results``).

    The manifest must say ``status: complete`` and every file it lists must have the SHA-256
    recorded there (else :class:`InputError`, exit status 2 from the command line). Only the
    files the manifest lists are read. The folder holds files of three layouts (stages per
    replication, fiscal cost, runs), so ``pandas.read_parquet(folder)`` cannot read it as one
    table; this reads each into its frame. A sweep folder is read by :func:`analysis.load_sweep`.
    """
    d = Path(directory)
    manifest_path = d / "manifest.json"
    if not manifest_path.exists():
        raise InputError(str(d), "", "not the results of a finished valuechain run (no manifest.json)")
    if (d / "points.parquet").exists() or (d / "sweep.json").exists():
        raise InputError(str(d), "", "is a sweep directory; read it with valuechain.analysis.load_sweep")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError:
        raise InputError(str(manifest_path), "", "not valid JSON (damaged or not written by valuechain)") from None
    if manifest.get("status") != "complete":
        raise InputError(str(manifest_path), "status", "the results are unfinished (a write was interrupted); "
                         "run again with --overwrite", manifest.get("status"))
    files = manifest.get("files")
    if isinstance(files, dict):  # every file with its checksum (since checksums were added)
        for name, digest in files.items():
            if Path(name).name != name:
                raise InputError(str(manifest_path), f"files.{name}", "not a file name of this folder")
            verify_file(d / name, digest)
        names = sorted(n for n in files if re.fullmatch(r"stages_rep\d{4}\.parquet", n))
    else:  # an older manifest: the stage files of its replications
        names = [f"stages_rep{k:04d}.parquet" for k in range(int(manifest.get("replications", 0)))]
    stages = pd.concat([pd.read_parquet(d / f) for f in names], ignore_index=True)
    return RunSet(stages, pd.read_parquet(d / "fiscal_cost.parquet"), pd.read_parquet(d / "runs.parquet"),
                  manifest)


KEYS = ["scenario", "replication", "year"]


def _stages(obj) -> pd.DataFrame:
    """The stage frame of a frame, a results folder, a ``RunSet``, a ``simulation.Results`` or a sweep."""
    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, (str, Path)):
        return load_results(obj).stages
    if hasattr(obj, "stages"):
        return obj.stages
    raise TypeError(f"expected a stage frame, a results directory or results, got {type(obj).__name__}")


def processing_depth(stages, by: list[str] | None = None) -> pd.Series:
    """Share of value added made in downstream (``tier == 'deep'``) stages, per scenario,
    replication and year (and ``by``). ``stages``: the stage frame, or results (a directory,
    ``load_results(...)``, ``run_scenario(...)``)."""
    stages = _stages(stages)
    by = KEYS + (by or [])
    va = stages.groupby(by).value_added.sum()
    deep = stages[stages.tier == "deep"].groupby(by).value_added.sum().reindex(va.index, fill_value=0.0)
    return (deep / va).rename("processing_depth")


def local_sourcing_ratio(stages, by: list[str] | None = None) -> pd.Series:
    """Chain inputs bought from local suppliers / all chain inputs bought, in value.

    ``local_inputs`` (at the local price) over ``local_inputs + imported_inputs`` (at the
    delivered import price), both recorded for the buying stage.
    """
    stages = _stages(stages)
    by = KEYS + (by or [])
    sums = stages.groupby(by)[["local_inputs", "imported_inputs"]].sum()
    return (sums.local_inputs / (sums.local_inputs + sums.imported_inputs)).rename("local_sourcing_ratio")
