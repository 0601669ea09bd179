"""Loading a sweep's results (written by ``valuechain sweep`` / ``simulation.run_sweep``).

The tidy frames have the keys ``scenario, point, <varied keys>, replication, year, sector,
stage, tier`` followed by the metrics (stages) or ``lever, fiscal_cost`` (fiscal). Replication
``k`` of every point shares its random stream (common random numbers), so point-minus-point
differences taken within a replication are paired.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..simulation.config.errors import InputError
from ..simulation.schema import keys_first
from .results import verify_file

TIDY_KEYS = ["scenario", "point", "replication", "year", "sector", "stage", "tier"]


@dataclass
class SweepResults:
    """A sweep directory: tidy ``stages`` and ``fiscal`` frames joined with the parameters,
    the ``runs`` index, the ``points`` table and the ``manifest`` (``sweep.json`` if unfinished)."""

    stages: pd.DataFrame
    fiscal: pd.DataFrame
    runs: pd.DataFrame
    points: pd.DataFrame
    manifest: dict
    directory: Path | None = None
    streamed: bool = False  # True: stages/fiscal not loaded; outcomes are read from the run files as needed

    @property
    def parameters(self) -> list[str]:
        """The varied dotted scenario keys (the parameter columns)."""
        return list(self.manifest.get("parameters", []))


def _split(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stage and fiscal rows of one run file."""
    table = pq.read_table(path)
    columns = json.loads(table.schema.metadata[b"valuechain.run"])["columns"]
    frames = []
    for name in ("stages", "fiscal"):
        part = table.filter(pc.equal(table["table"], name)).select(columns[name])
        frames.append(part.to_pandas())
    return frames[0], frames[1]


def load_sweep(directory: str | Path, allow_incomplete: bool = False) -> SweepResults:
    """Read a sweep directory; only runs with ``status == "ok"`` contribute rows.

    Without ``allow_incomplete`` the sweep must have finished (``manifest.json`` exists);
    with it, the runs finished so far are loaded (e.g. to look at an interrupted sweep).
    Every file's SHA-256 is checked against the manifest (store files) and the runs index (run
    files); a mismatch or a missing file is an :class:`InputError` (exit status 2 from the CLI).
    """
    d = Path(directory)
    manifest_path = d / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
    elif allow_incomplete and (d / "sweep.json").exists():
        manifest = json.loads((d / "sweep.json").read_text())
    else:
        raise FileNotFoundError(f"{d}: no manifest.json (not a finished sweep; allow_incomplete=True to "
                                f"load the runs finished so far)")
    files = manifest.get("files") if manifest_path.exists() else None
    if isinstance(files, dict):  # the store's own files, with the checksums the manifest records
        for name, digest in files.items():
            if Path(name).name != name:
                raise InputError(str(manifest_path), f"files.{name}", "not a file name of this folder")
            verify_file(d / name, digest)
    for name in ("points.parquet", "runs.parquet"):
        if not (d / name).exists():
            raise InputError(str(d / name), "", "missing from the sweep store; run the sweep again with --resume")
    runs = pd.read_parquet(d / "runs.parquet")
    points = pd.read_parquet(d / "points.parquet")
    ok = runs[runs.status == "ok"]
    stages, fiscal = [], []
    checked = "sha256" in ok.columns  # stores from before checksums have none
    for file, digest in zip(ok.file, ok["sha256"] if checked else [None] * len(ok)):
        if not re.fullmatch(r"runs/p\d{5}_r\d{3}\.parquet", str(file)):
            raise InputError(str(d / "runs.parquet"), "file", "not a run file of this store", file)
        if checked:
            verify_file(d / file, digest)
        st, fc = _split(d / file)
        stages.append(st)
        fiscal.append(fc)
    params = points.drop(columns=["overrides", "name"])

    def tidy(frames: list[pd.DataFrame]) -> pd.DataFrame:
        if not frames:
            return pd.DataFrame(columns=TIDY_KEYS)
        frame = pd.concat(frames, ignore_index=True).merge(params, on="point", how="left")
        first = ["scenario", "point", *[c for c in params.columns if c != "point"]]
        return keys_first(frame, first)

    return SweepResults(tidy(stages), tidy(fiscal), runs, points, manifest, d)


def _read_manifest(d: Path, allow_incomplete: bool) -> dict:
    if (d / "manifest.json").exists():
        return json.loads((d / "manifest.json").read_text())
    if allow_incomplete and (d / "sweep.json").exists():
        return json.loads((d / "sweep.json").read_text())
    raise FileNotFoundError(f"{d}: no manifest.json (not a finished sweep)")


def load_sweep_index(directory: str | Path, allow_incomplete: bool = False) -> SweepResults:
    """A sweep's manifest, runs index and points, without reading any run file (``streamed=True``):
    :func:`analysis.sweep_outcomes` and :func:`analysis.sensitivity` then read the run files one
    batch at a time, keeping only the columns they need."""
    d = Path(directory)
    manifest = _read_manifest(d, allow_incomplete)
    runs = pd.read_parquet(d / "runs.parquet")
    points = pd.read_parquet(d / "points.parquet")
    empty = pd.DataFrame(columns=TIDY_KEYS)
    return SweepResults(empty, empty.copy(), runs, points, manifest, d, streamed=True)


def iter_run_batches(sw: SweepResults, stage_columns: list[str], fiscal_columns: list[str], batch: int = 256):
    """Yield ``(stages, fiscal)`` frames of up to ``batch`` finished runs at a time, read with only the
    given columns (plus ``point``, ``replication``, ``year``): the memory held is one batch, whatever
    the size of the sweep."""
    ok = sw.runs[sw.runs.status == "ok"]
    files = list(ok.file)
    keys = ["point", "replication", "year"]
    want_st = list(dict.fromkeys(keys + stage_columns))
    want_fc = list(dict.fromkeys(keys + fiscal_columns))
    for start in range(0, len(files), batch):
        st_parts, fc_parts = [], []
        for file in files[start:start + batch]:
            path = sw.directory / file
            names = set(pq.read_schema(path).names)
            cols = [c for c in dict.fromkeys(["table"] + want_st + want_fc) if c in names]
            table = pq.read_table(path, columns=cols)
            is_st = pc.equal(table["table"], "stages")
            st_parts.append(table.filter(is_st).select([c for c in want_st if c in names]))
            fc_parts.append(table.filter(pc.invert(is_st)).select([c for c in want_fc if c in names]))
        yield (pa.concat_tables(st_parts).to_pandas(), pa.concat_tables(fc_parts).to_pandas())

