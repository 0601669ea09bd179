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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..simulation.config.errors import InputError
from ..simulation.schema import keys_first
from ..simulation.store_layout import run_places, run_rows
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


FISCAL_PREFIX = "fiscal_cost:"  # simulation.running.sweeps.FISCAL_PREFIX
BATCH_FILE = re.compile(r"runs/b\d{6}\.parquet")
OLD_RUN_FILE = re.compile(r"runs/p\d{5}_r\d{3}\.parquet")  # store version 1: one file per run


def _split(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stage and fiscal rows of one run file of a store of version 1 (one file per run)."""
    table = pq.read_table(path)
    columns = json.loads(table.schema.metadata[b"valuechain.run"])["columns"]
    frames = []
    for name in ("stages", "fiscal"):
        part = table.filter(pc.equal(table["table"], name)).select(columns[name])
        frames.append(part.to_pandas())
    return frames[0], frames[1]


def kept_columns(sw: SweepResults) -> list[str] | None:
    """The stage columns a sweep store keeps (None: a store from before ``--columns``, which kept all)."""
    cols = sw.manifest.get("columns")
    return list(cols) if isinstance(cols, list) else None


def _check_columns(sw: SweepResults, wanted: list[str]) -> None:
    from ..simulation.schema import STAGE_COLUMNS

    kept = kept_columns(sw)
    missing = [c for c in wanted if kept is not None and c in STAGE_COLUMNS and c not in kept]
    if missing:
        raise InputError(str(sw.directory), "--metric", f"'{missing[0]}' is not kept in this sweep store (kept: "
                         f"{', '.join(kept)}); run the sweep again with --columns all (or --columns naming it)",
                         missing[0])


def _read_runs(d: Path, ok: pd.DataFrame, stage_columns: list[str] | None = None,
               fiscal_columns: list[str] | None = None, verify: bool = True, cache: LastRowGroup | None = None):
    """Yield ``(stages, fiscal, n_runs)``: Arrow tables of the finished runs ``ok`` (rows of the runs index),
    one batch file (or one run file of an old store) at a time, with every column or only the given
    ones; every file's SHA-256 is checked against the index first. ``cache``: batch files' row
    groups are decoded through it (a reader that asks for a few runs at a time)."""
    if ok.empty:
        return
    has_rg = "row_group" in ok.columns
    shas = ok["file_sha256"] if "file_sha256" in ok.columns else (ok["sha256"] if "sha256" in ok.columns else None)
    frame = pd.DataFrame({"file": ok["file"].to_numpy(), "row_group": ok["row_group"].to_numpy() if has_rg else -1,
                          "point": ok["point"].to_numpy(), "replication": ok["replication"].to_numpy(),
                          "sha": shas.to_numpy() if shas is not None else None})
    for file, group in frame.groupby("file", sort=False):
        path = d / str(file)
        if BATCH_FILE.fullmatch(str(file)) and has_rg:
            if verify:
                verify_file(path, group["sha"].iloc[0])
            pf, info = (cache or LastRowGroup()).batch_file(path)
            columns = info["columns"]
            zero = set(columns.get("zero_levers", []))  # levers left out of the file: +0.0 everywhere
            wide = [FISCAL_PREFIX + lever for lever in columns["levers"] if lever not in zero]
            st_cols = columns["stages"] if stage_columns is None else [c for c in stage_columns
                                                                         if c in columns["stages"]]
            fc_cols = columns["fiscal"] if fiscal_columns is None else [c for c in fiscal_columns
                                                                         if c in columns["fiscal"]]
            want = list(dict.fromkeys([*st_cols, *(c for c in fc_cols if c in columns["stages"]),
                                       "point", "replication", "year", *wide]))
            table = _runs_of(pf, info["runs"], group, want, path, cache)
            yield table.select(st_cols), _long_fiscal(table, columns["levers"], fc_cols, zero), len(group)
            continue
        if not OLD_RUN_FILE.fullmatch(str(file)):
            raise InputError(str(d / "runs.parquet"), "file", "not a run file of this store", file)
        if verify and shas is not None:
            verify_file(path, group["sha"].iloc[0])
        names = set(pq.read_schema(path).names)
        want = None if stage_columns is None else \
            [c for c in dict.fromkeys(["table", *stage_columns, *(fiscal_columns or [])]) if c in names]
        table = pq.read_table(path, columns=want)
        columns = json.loads(pq.read_schema(path).metadata[b"valuechain.run"])["columns"]
        is_st = pc.equal(table["table"], "stages")
        st_cols = columns["stages"] if stage_columns is None else [c for c in stage_columns if c in table.column_names]
        fc_cols = columns["fiscal"] if fiscal_columns is None else [c for c in fiscal_columns
                                                                     if c in table.column_names]
        table = table.replace_schema_metadata(None)
        yield table.filter(is_st).select(st_cols), table.filter(pc.invert(is_st)).select(fc_cols), len(group)


def _runs_of(pf: pq.ParquetFile, stored: list[dict], runs: pd.DataFrame, columns: list[str], path: Path,
             cache: LastRowGroup | None = None) -> pa.Table:
    """The rows of ``runs`` (point, replication) of a batch file, one run after the other in file
    order, each in its own row order: only their row groups are read (through ``cache``, if given,
    one at a time), and the interleaved rows of a row group of several runs
    (``simulation.store_layout``) are put back run by run."""
    places = run_places(stored)
    try:
        wanted = sorted(places[(int(p), int(r))] for p, r in zip(runs["point"], runs["replication"]))
    except KeyError:
        raise InputError(str(path), "runs", "does not hold a run the runs index places in it") from None
    groups = sorted({g for g, _, _ in wanted})
    if cache is None:
        table = pf.read_row_groups(groups, columns=columns).replace_schema_metadata(None)
    else:
        table = pa.concat_tables([cache.row_group(pf, path, g, columns) for g in groups])
    if all(k == 1 for _, _, k in wanted):  # a run a row group (and store version 2): already in order
        return table
    sizes = [pf.metadata.row_group(g).num_rows for g in groups]
    start = dict(zip(groups, np.cumsum([0, *sizes[:-1]])))
    rows = [start[g] + run_rows(k, j, pf.metadata.row_group(g).num_rows) for g, j, k in wanted]
    return table.take(pa.array(np.concatenate(rows)))


class LastRowGroup:
    """The last batch file opened and the last row group decoded from it (its columns asked for),
    kept for the next read: :class:`~analysis.sweep_runs.SweepRuns` reads a sweep a point at a
    time, and the runs of consecutive points share row groups (up to ``store_layout.RUNS_PER_GROUP``
    runs), which would otherwise be decoded again for each point. Holds at most one row group."""

    def __init__(self):
        self._file: tuple[Path, pq.ParquetFile, dict] | None = None
        self._group: tuple[tuple, pa.Table] | None = None
        self.decoded = 0  # row groups decoded (not taken from the cache)

    def batch_file(self, path: Path) -> tuple[pq.ParquetFile, dict]:
        """The batch file at ``path``, open, and its ``valuechain.batch`` metadata."""
        if self._file is None or self._file[0] != path:
            pf = pq.ParquetFile(path)
            self._file = (path, pf, json.loads(pf.schema_arrow.metadata[b"valuechain.batch"]))
        return self._file[1], self._file[2]

    def row_group(self, pf: pq.ParquetFile, path: Path, group: int, columns: list[str]) -> pa.Table:
        """Row group ``group`` of the batch file ``pf`` (at ``path``) with ``columns``, decoded once."""
        key = (path, group, tuple(columns))
        if self._group is None or self._group[0] != key:
            self._group = None  # the old row group goes before the next is decoded
            self._group = (key, pf.read_row_group(group, columns=columns).replace_schema_metadata(None))
            self.decoded += 1
        return self._group[1]

    @property
    def rows_held(self) -> int:
        """Rows of the row group held (0: none)."""
        return 0 if self._group is None else self._group[1].num_rows


def _long_fiscal(table: pa.Table, levers: list[str], columns: list[str], zero: set[str] = frozenset()) -> pa.Table:
    """The fiscal rows of the runs in ``table`` (stage rows with a ``fiscal_cost:<lever>`` column per
    lever; the levers in ``zero`` have none: they cost +0.0 in every row) as the model's fiscal frame
    has them: per run and year, per lever, the stage rows."""
    n, k = table.num_rows, len(levers)
    point, rep, year = (table[c].to_numpy() for c in ("point", "replication", "year"))
    run = np.zeros(n, np.int64)
    if n:
        run[1:] = np.cumsum((point[1:] != point[:-1]) | (rep[1:] != rep[:-1]))
    rows, lever = fiscal_order(run, year, k)
    costs = np.column_stack([np.zeros(n) if name in zero else table[FISCAL_PREFIX + name].to_numpy()
                             for name in levers]) if k else \
        np.zeros((n, 0))
    take = pa.array(rows)
    out = {}
    for c in columns:
        if c == "lever":
            kind = table["stage"].type if "stage" in table.column_names else pa.string()
            out[c] = pa.array(np.asarray(levers, dtype=object)[lever], pa.string()).cast(kind)
        elif c == "fiscal_cost":
            out[c] = pa.array(costs[rows, lever])
        else:
            out[c] = table[c].take(take)
    return pa.table(out) if out else pa.table({"point": table["point"].take(take)})


def fiscal_order(run: np.ndarray, year: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The (stage row, lever) of each fiscal row, ordered by run, year, lever, then the stage rows in
    their order: ``np.lexsort((lever, year[rows], run[rows]))`` of every row x lever. Where each
    (run, year) is one block of consecutive rows, blocks in that order (a run's rows year by year, as
    a batch file gives them), each block's rows repeat for each lever without a sort."""
    n = run.size
    block = np.flatnonzero(np.r_[True, (run[1:] != run[:-1]) | (year[1:] != year[:-1])]) if n else np.zeros(0, int)
    step_run, step_year = np.diff(run[block]), np.diff(year[block])
    if not np.all((step_run > 0) | ((step_run == 0) & (step_year > 0))):
        rows, lever = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
        order = np.lexsort((lever, year[rows], run[rows]))  # stable: stages keep their order
        return rows[order], lever[order]
    length = np.diff(np.r_[block, n])
    if length.size and np.all(length == length[0]):  # blocks of one size (every stage each year): a grid
        shape = (block.size, k, int(length[0]))
        return ((block[:, None, None] + np.arange(shape[2])) + np.zeros(shape, np.int64)).ravel(), \
            np.broadcast_to(np.arange(k)[None, :, None], shape).ravel()
    of = np.repeat(np.arange(block.size), length * k)  # each fiscal row's block
    at = np.arange(n * k) - np.repeat(np.cumsum(length * k) - length * k, length * k)  # its place in the block's
    return block[of] + at % length[of], at // length[of]


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
        raise InputError(str(d), "", f"{UNFINISHED}; allow_incomplete=True loads the runs finished so far")
    verify_store(d, manifest if manifest_path.exists() else {})
    runs = pd.read_parquet(d / "runs.parquet")
    points = pd.read_parquet(d / "points.parquet")
    ok = runs[runs.status == "ok"]
    stages, fiscal = [], []
    for st, fc, _ in _read_runs(d, ok, verify="sha256" in ok.columns):  # stores from before checksums have none
        stages.append(st.to_pandas())
        fiscal.append(fc.to_pandas())
    params = points.drop(columns=["overrides", "name"])

    def tidy(frames: list[pd.DataFrame]) -> pd.DataFrame:
        if not frames:
            return pd.DataFrame(columns=TIDY_KEYS)
        frame = pd.concat(frames, ignore_index=True)  # runs in index order, whatever file holds them
        frame = frame.sort_values(["point", "replication"], kind="stable", ignore_index=True)
        frame = frame.merge(params, on="point", how="left")
        first = ["scenario", "point", *[c for c in params.columns if c != "point"]]
        return keys_first(frame, first)

    return SweepResults(tidy(stages), tidy(fiscal), runs, points, manifest, d)


UNFINISHED = ("not a finished sweep (no manifest.json): finish it with valuechain sweep SWEEP --out DIR --resume "
              "(the runs done are kept)")


def verify_store(d: Path, manifest: dict) -> None:
    """The store's own files have the SHA-256 the manifest records (``files``), and the points
    table and the runs index exist; else an :class:`InputError`."""
    files = manifest.get("files")
    if isinstance(files, dict):  # the store's own files, with the checksums the manifest records
        for name, digest in files.items():
            if Path(name).name != name:
                raise InputError(str(d / "manifest.json"), f"files.{name}", "not a file name of this folder")
            verify_file(d / name, digest)
    for name in ("points.parquet", "runs.parquet"):
        if not (d / name).exists():
            raise InputError(str(d / name), "", "missing from the sweep store; run the sweep again with --resume")


def _read_manifest(d: Path, allow_incomplete: bool) -> dict:
    if (d / "manifest.json").exists():
        return json.loads((d / "manifest.json").read_text())
    if allow_incomplete and (d / "sweep.json").exists():
        return json.loads((d / "sweep.json").read_text())
    raise InputError(str(d), "", UNFINISHED)


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
    """Yield ``(stages, fiscal)`` frames of about ``batch`` finished runs at a time (whole batch files),
    read with only the given columns (plus ``point``, ``replication``, ``year``) after checking each
    file's SHA-256: the memory held is one batch, whatever the size of the sweep. A stage column the
    store does not keep is an :class:`InputError`."""
    _check_columns(sw, stage_columns)
    ok = sw.runs[sw.runs.status == "ok"]
    keys = ["point", "replication", "year"]
    want_st = list(dict.fromkeys(keys + stage_columns))
    want_fc = list(dict.fromkeys(keys + fiscal_columns))
    st_parts, fc_parts, held = [], [], 0
    for st, fc, n in _read_runs(sw.directory, ok, want_st, want_fc, verify="sha256" in ok.columns):
        st_parts.append(st)
        fc_parts.append(fc)
        held += n
        if held >= batch:
            yield pa.concat_tables(st_parts).to_pandas(), pa.concat_tables(fc_parts).to_pandas()
            st_parts, fc_parts, held = [], [], 0
    if st_parts:
        yield pa.concat_tables(st_parts).to_pandas(), pa.concat_tables(fc_parts).to_pandas()
