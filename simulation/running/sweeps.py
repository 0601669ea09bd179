"""Running a sweep: batches of runs (point x replication) on any executor, streamed to a resumable store.

Layout of a sweep directory (store version 3)::

    sweep.json          what is run (sweep spec, base scenario, design, hash, kept columns); written first
    points.parquet      point, name (mixes), overrides (JSON), one column per varied key
    runs/b000012.parquet   one batch of runs in Parquet row groups of up to 100 runs of one size, their
                        rows interleaved (``simulation.store_layout``): each run's stage rows
                        (the kept columns) with a ``fiscal_cost:<lever>`` column per lever beside them
                        (none for a lever that costs +0.0 in the whole batch: ``zero_levers``); the
                        identity of every run in the file (point, replication, seed, spawn key,
                        scenario hash, row group) and the columns are in the file's metadata
    runs.parquet        the runs index: point, parameters, replication, seed, spawn_key, status
                        (ok/failed/pending), error, duration_s, attempts, file, row_group, offset,
                        length, sha256 (of the bytes ``[offset, offset + length)`` of the run's row group),
                        file_sha256 (of the whole batch file); rewritten as batches finish
    runs.sha256         journal, appended as each batch file lands: one line per run
                        ``runs/b000012.parquet#RG POINT REPLICATION OFFSET LENGTH SHA256``, then the
                        file's line ``runs/b000012.parquet SHA256``
    manifest.json       written last: counts, status, seeds, versions, times, SHA-256 of the store files

A worker gets a batch of runs (``batch_size``, chosen from the number of runs and workers unless
given), makes one Arrow table per batched model (``recorded_run_tables``) and returns one Parquet
file for all of them, so the scenario is pickled, the process
hand-off paid and a file written once per batch. Every run still uses its own child seed, so the
results are those of one run at a time. Every file is written to a temporary name and renamed
(``os.replace``). The driver keeps no run results: at most ``window`` batches are in flight, and
each is written as it completes and dropped. A model error is recorded as ``status=failed`` with its
message and the sweep goes on. Only infrastructure failures (a worker process that dies) are
retried, at most ``max_retries`` times per run; after a pool with work in flight breaks, those
runs are retried one at a time so that a crashing run is charged alone. ``resume=True`` keeps
every run whose batch file has the recorded SHA-256 (or, in a damaged file, whose row group's
bytes have the recorded SHA-256: those runs are copied to a new batch file and the damaged file is
removed) and that matches the planned run (point, replication, seed, spawn key, and the content
hash of the point's resolved scenario and chain), and redoes the rest. The folder is locked while a
sweep writes (:mod:`.outdir`); only files the store records are ever deleted.
"""

from __future__ import annotations

import functools
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

from .. import store_layout as layout
from ..config.errors import InputError
from ..config.scenario import LoadedScenario
from ..config.sweep import Sweep, describe, load_sweep
from ..schema import STAGE_COLUMNS, UNITS, chain_hash, keys_first
from ..store_layout import interleaved, run_groups, run_places, run_rows
from . import runner
from .executors import InProcessExecutor, cap_workers, default_workers, process_pool, start_pool_server
from .outdir import check_out_path, kill_point, output_lock, remove_stale_temporaries, sha256_bytes, sha256_file
from .store import _read_json, _replacing, atomic_write_json, atomic_write_parquet, check_out_dir, versions

RUNS_DIR = "runs"
JOURNAL = "runs.sha256"  # per batch file: one line per run, then "runs/bNNNNNN.parquet SHA256" (module docstring)
OWN_FILES = ("sweep.json", "points.parquet", "runs.parquet", JOURNAL, "manifest.json")
STORE_FILES = r"sweep\.json|points\.parquet|runs\.parquet|runs\.sha256|manifest\.json"  # exact names
BATCH_FILES = r"b\d{6}\.parquet"
OLD_RUN_FILES = r"p\d{5}_r\d{3}\.parquet"  # store version 1: one file per run (read by load_sweep, not resumed)
RUN_FILES = rf"{BATCH_FILES}|{OLD_RUN_FILES}"
BATCH_META = b"valuechain.batch"
ZSTD_LEVEL = 3  # the batch files' zstd level (batch_bytes)
STORE_VERSION = 3  # 3: row groups of up to RUNS_PER_GROUP runs, rows interleaved (store_layout); 2: a run a row group
SCHEDULER_TIMEOUT_S = 60.0  # default; env VALUECHAIN_SCHEDULER_TIMEOUT_S or --scheduler-timeout
HEALTH_EVERY_S = 1.0  # how often the driver checks that a Dask scheduler is still there
INDEX_EVERY_S = 1.0  # rewrite the runs index at most this often while batches finish (and at the end) ...
INDEX_SHARE = 0.05  # ... and so that rewriting it takes at most this share of the driver's time (a large sweep's
# index takes longer to write; the journal holds every checksum meanwhile)
MAX_BATCH = 200  # runs per batch at most (automatic size)
BATCH_BYTES = 128 << 20  # automatic batch size: at most this many bytes of results held per batch in a worker
BYTES_PER_ROW = 400  # a result row held in a worker until the batch is written (Arrow, ~30 columns), for BATCH_BYTES
# the stage columns the analysis commands read on a sweep, kept by default (``--columns analysis``):
# compare's headline metrics (value added, investment, employment), ``cost`` (the income tax paid for
# the net cost, and the deadweight basis of every lever: ``analysis.impacts.DEADWEIGHT_BASIS``;
# output also for the input-output indirect effect), sensitivity and the plots of these; the keys
# and the fiscal costs are always kept. ``--columns all`` keeps every stage column (the frames a
# sweep gives back are then those of the model, column for column).
ANALYSIS_COLUMNS = ("capacity", "output", "value_added", "investment", "employment", "exports", "entries", "exits",
                    "tax_paid")
DEFAULT_COLUMNS = "analysis"


def batch_file_name(batch: int) -> str:
    return f"b{batch:06d}.parquet"


def one_line(exc: BaseException, limit: int = 500) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def resolve_columns(columns: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The stage metric columns a sweep keeps: ``"analysis"`` (the default,
    :data:`ANALYSIS_COLUMNS`), ``"all"``, or names (a list, or one comma-separated string) of
    ``simulation.schema.STAGE_COLUMNS``."""
    if columns == "all":
        return tuple(STAGE_COLUMNS)
    if columns is None or columns == "analysis":
        return tuple(c for c in STAGE_COLUMNS if c in ANALYSIS_COLUMNS)
    names = [c.strip() for c in columns.split(",")] if isinstance(columns, str) else [str(c) for c in columns]
    bad = [c for c in names if c not in STAGE_COLUMNS]
    if bad or not names:
        raise InputError("--columns", "", f"not a results column; choose 'all', 'analysis' or names from "
                         f"{', '.join(STAGE_COLUMNS)}", ",".join(bad) or columns)
    return tuple(c for c in STAGE_COLUMNS if c in names)  # schema order, without repeats


def auto_batch_size(n_runs: int, workers: int, rows_per_run: int = 525, model_runs: int = 1) -> int:
    """Runs per batch: about four batches per worker (so the workers stay busy to the end), at most
    :data:`MAX_BATCH` and at most :data:`BATCH_BYTES` of results held in a worker; where that is
    at least one batched model of ``model_runs`` runs (``abm.batch.runs_that_fit``), whole models:
    rounded down to a multiple of ``model_runs`` (a model of fewer runs pays the year's fixed costs
    for fewer runs: 125 runs would go side by side as 50 + 50 + 25)."""
    by_memory = max(1, BATCH_BYTES // max(1, rows_per_run * BYTES_PER_ROW))
    size = max(1, min(MAX_BATCH, by_memory, -(-n_runs // (4 * max(1, workers)))))
    return size // model_runs * model_runs if model_runs >= 1 and size >= model_runs else size


@dataclass(frozen=True)
class BatchTask:
    """Everything a worker needs for a batch of runs; the model never knows where it runs."""

    runs: tuple  # (point, replication, seed, identity) per run; identity: point, replication, seed, spawn_key,
    # scenario_hash
    scenarios: dict  # point -> LoadedScenario, for the points in ``runs``
    engine: str = "vectorized"
    columns: tuple[str, ...] = ()  # the stage metric columns kept (resolve_columns)


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """A frame as an Arrow table, column by column (numbers from their numpy buffers, strings from
    their Arrow arrays): many times faster than ``Table.from_pandas`` on these small frames."""
    columns = {}
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind in "fiub":
            columns[name] = pa.array(col.to_numpy())
        else:
            try:
                columns[name] = pa.array(col.array)
            except (TypeError, pa.ArrowInvalid):
                return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    return pa.table(columns)


FISCAL_PREFIX = "fiscal_cost:"  # a batch file's fiscal costs: one column per lever on the stage rows


def _wide_fiscal(stages: pd.DataFrame, fiscal: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The levers and the fiscal costs as a (stage rows x levers) matrix: the fiscal frame is
    (year, lever, stage) blocks of the stage rows' keys, which the loader rebuilds exactly (checked
    here with Arrow kernels: the string columns are never turned into Python objects)."""
    import pyarrow.compute as pc

    n, years = len(stages), int(stages["year"].nunique())
    ok = n > 0 and n % years == 0 and set(fiscal.columns) - {"lever", "fiscal_cost"} <= set(stages.columns)
    per = n // years if ok else 0
    k = len(fiscal) // n if ok else 0
    ok = ok and len(fiscal) == n * k
    levers: list[str] = []
    if ok and k:
        levers = [str(v) for v in fiscal["lever"].iloc[np.arange(k) * per]]
        shape = (years, k, per)
        # the stage row of fiscal row (year y, lever l, stage s) is y * per + s
        row = np.broadcast_to((np.arange(years)[:, None, None] * per + np.arange(per)[None, None, :]), shape).ravel()
        ok = len(set(levers)) == k and np.array_equal(fiscal["year"].to_numpy(), stages["year"].to_numpy()[row])
        f_stage, s_stage = pa.array(fiscal["stage"].array), pa.array(stages["stage"].array)
        ok = ok and pc.all(pc.equal(f_stage, s_stage.take(pa.array(row)))).as_py()
        codes = pc.index_in(pa.array(fiscal["lever"].array), value_set=pa.array(levers, f_stage.type)).to_numpy(
            zero_copy_only=False)
        ok = ok and np.array_equal(codes, np.broadcast_to(np.arange(k)[None, :, None], shape).ravel())
    if not ok:
        raise RuntimeError("the fiscal rows are not (year, lever, stage) blocks of the stage rows; the sweep store "
                           "cannot hold them")
    costs = fiscal["fiscal_cost"].to_numpy(np.float64).reshape(years, k, per).transpose(0, 2, 1).reshape(n, k)
    return levers, np.ascontiguousarray(costs)


def _run_table(point: int, stages: pd.DataFrame, fiscal: pd.DataFrame, columns: tuple[str, ...]
               ) -> tuple[pa.Table, dict]:
    """One run's rows as one table: the stage rows (keys, point, kept columns) with the fiscal
    costs beside them, one column ``fiscal_cost:<lever>`` per lever; and the columns of each frame."""
    levers, costs = _wide_fiscal(stages, fiscal)
    stages = stages[[c for c in stages.columns if c not in STAGE_COLUMNS or c in columns]]
    table = _arrow(stages)
    at = table.column_names.index("scenario") + 1 if "scenario" in table.column_names else 0
    table = table.add_column(at, "point", pa.array(np.full(table.num_rows, point, np.int64)))
    for j, lever in enumerate(levers):
        table = table.append_column(FISCAL_PREFIX + lever, pa.array(costs[:, j]))
    fiscal_names = list(fiscal.columns)
    fiscal_names.insert(fiscal_names.index("scenario") + 1 if "scenario" in fiscal_names else 0, "point")
    names = {"stages": [c for c in table.column_names if not c.startswith(FISCAL_PREFIX)], "fiscal": fiscal_names,
             "levers": levers, "layout": "wide"}
    return table, names


KEYS = ("scenario", "point", "replication", "year", "sector", "stage", "tier")  # a batch file's key columns
KEY_COLUMNS = ("year", "sector", "stage", "tier")  # the recorder's keys of a run's rows (``Recorder._keys``)


@functools.cache
def _frame_text_type() -> pa.DataType:
    """The Arrow type ``_arrow`` gives a frame's text column (pandas' string storage decides it)."""
    return _arrow(pd.DataFrame({"text": np.array(["a"])})).schema.field("text").type


def recorded_run_table(point: int, scenario: str, replication: int, recorder, run: int, columns: tuple[str, ...]
                       ) -> tuple[pa.Table, dict]:
    """``_run_table`` of a run straight from the model's recorder (run ``run`` of a batched model):
    the same table, column for column and bit for bit (``tests/test_batched_runs.py``), without
    making the run's frames."""
    tables, names = recorded_run_tables(recorder, [(run, point, scenario, replication)], columns)
    return tables[0], names


def recorded_run_tables(recorder, runs: list[tuple[int, int, str, int]], columns: tuple[str, ...]
                        ) -> tuple[list[pa.Table], dict]:
    """:func:`recorded_run_table` of several runs of one batched model, ``runs``: (run in the
    recorder, point, scenario name, replication) each: one Arrow table is built for all of them
    (an array per column) and each run's table is its slice (no copy)."""
    stage_columns, costs = recorder.batch_columns([r[0] for r in runs], columns, tile_keys=False)
    per = len(stage_columns["year"])  # a run's rows; its keys (year, sector, stage, tier) repeat for each run
    text = _frame_text_type()

    def arrow(values: np.ndarray) -> pa.Array:  # text from numpy's strings or objects, as ``_arrow`` gives it
        return pa.array(values, text) if values.dtype.kind in "OU" else pa.array(values)

    # the text columns are made for one run (or one value a run) and repeated with an Arrow take:
    # many times faster than turning a string per row into Arrow
    each_run = pa.array(np.tile(np.arange(per, dtype=np.int64), len(runs)))
    run_of_row = pa.array(np.repeat(np.arange(len(runs), dtype=np.int64), per))
    table = {"scenario": pa.array(np.array([r[2] for r in runs], dtype=object), text).take(run_of_row),
             "point": pa.array(np.repeat(np.array([r[1] for r in runs], np.int64), per)),
             "replication": pa.array(np.repeat(np.array([r[3] for r in runs], np.int64), per))}
    table.update({name: arrow(values).take(each_run) if name in KEY_COLUMNS else arrow(values)
                  for name, values in stage_columns.items()})
    table.update({FISCAL_PREFIX + lever: pa.array(values) for lever, values in costs.items()})
    fiscal_names = [*KEYS, "lever", "fiscal_cost"]
    names = {"stages": [c for c in table if not c.startswith(FISCAL_PREFIX)], "fiscal": fiscal_names,
             "levers": list(costs), "layout": "wide"}
    whole = pa.table(table)
    return [whole.slice(k * per, per) for k in range(len(runs))], names


def row_group_ranges(data: bytes | pa.Buffer | Path) -> list[tuple[int, int]]:
    """``(offset, length)`` of each row group's bytes in a Parquet file (its column chunks, pages included)."""
    source = pa.BufferReader(data) if not isinstance(data, Path) else data
    meta = pq.ParquetFile(source).metadata
    ranges = []
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        starts, ends = [], []
        for j in range(rg.num_columns):
            col = rg.column(j)
            first = min(o for o in (col.dictionary_page_offset, col.data_page_offset) if o is not None and o > 0)
            starts.append(first)
            ends.append(first + col.total_compressed_size)
        ranges.append((min(starts), max(ends) - min(starts)))
    return ranges


def _is_positive_zero(column: pa.ChunkedArray) -> bool:
    """Every value of a float column is +0.0 (bit for bit: no -0.0, no null)."""
    if column.null_count or not column.num_chunks:
        return column.null_count == 0
    bits = np.concatenate([np.asarray(chunk.to_numpy(zero_copy_only=False), np.float64) for chunk in column.chunks])
    return not np.any(bits.view(np.int64))  # one check for all the chunks (a batch: one per run)


def without_zero_levers(tables: list[pa.Table], columns: dict) -> tuple[pa.Table, dict]:
    """The runs' tables one after the other (one table, their rows not copied) without the fiscal
    cost columns of the levers that cost +0.0 in every row of every run (most levers, in most
    sweeps), and ``columns`` with those levers in ``zero_levers`` (the loaders put them back as
    zeros, :func:`analysis.sweep._long_fiscal`). A table that lacks a lever's column (a run copied
    from a file that left it out) gets it back as zeros first."""
    levers = list(columns.get("levers", []))
    order = [c for c in tables[0].column_names if not c.startswith(FISCAL_PREFIX)] + [FISCAL_PREFIX + lv
                                                                                       for lv in levers]
    filled = []
    for table in tables:
        table = table.replace_schema_metadata(None)
        if table.column_names != order:
            for name in order:
                if name.startswith(FISCAL_PREFIX) and name not in table.column_names:
                    table = table.append_column(name, pa.array(np.zeros(table.num_rows)))
            table = table.select(order)
        filled.append(table)
    first = filled[0].schema
    whole = pa.concat_tables([t if t.schema.equals(first) else t.cast(first) for t in filled])
    zero = [lv for lv in levers if _is_positive_zero(whole[FISCAL_PREFIX + lv])]
    return whole.drop_columns([FISCAL_PREFIX + lv for lv in zero]), {**columns, "zero_levers": zero}


def batch_bytes(runs: list[tuple[dict, pa.Table]], columns: dict) -> tuple[bytes, list[dict]]:
    """One Parquet file of runs in row groups of up to ``layout.RUNS_PER_GROUP`` runs of one size,
    their rows interleaved (``simulation.store_layout``); returns it and per run its ``row_group``, ``offset``,
    ``length`` and ``sha256`` (of its row group's bytes). Layout (``benchmarks/store_bytes.py``;
    every lever measured by ``benchmarks/store_levers.py``): zstd at :data:`ZSTD_LEVEL` (3: 0.9%
    smaller than 1 for the same CPU; 9 saves 0.4% more, 15 1.7% more for 10 times the CPU), floats
    byte-stream split (plain is 19% larger, a dictionary 48%), the key columns dictionary-encoded
    (interleaved, a key repeats for the runs of a group: a few bytes a run), no statistics, and the
    levers that cost nothing in the whole batch left out (:func:`without_zero_levers`). Lossless:
    every value is stored bit for bit."""
    sizes = [t.num_rows for _, t in runs]
    whole, columns = without_zero_levers([t for _, t in runs], columns)
    groups = run_groups(sizes)
    group_of = {i: g for g, members in enumerate(groups) for i in members}
    meta = {"store_version": STORE_VERSION, "columns": columns,
            "runs": [{**info, "row_group": group_of[i]} for i, (info, _) in enumerate(runs)]}
    schema = whole.schema.with_metadata({BATCH_META: json.dumps(meta).encode()})
    whole = whole.replace_schema_metadata(schema.metadata)
    buf = pa.BufferOutputStream()
    floats = [f.name for f in schema if pa.types.is_floating(f.type)]  # byte-stream split
    others = [f.name for f in schema if f.name not in floats]  # keys: dictionary-encoded
    with pq.ParquetWriter(buf, schema, compression="zstd", compression_level=ZSTD_LEVEL, write_statistics=False,
                          use_dictionary=others, use_byte_stream_split=floats) as writer:
        start = 0
        for members in groups:
            k, n = len(members), sizes[members[0]]
            block = whole.slice(start, k * n)
            writer.write_table(block if k == 1 else block.take(pa.array(interleaved(k, n))),
                               row_group_size=max(1, k * n))
            start += k * n
    data = buf.getvalue().to_pybytes()
    ranges = row_group_ranges(data)
    shas = [sha256_bytes(data[offset:offset + length]) for offset, length in ranges]
    places = [{"row_group": group_of[i], "offset": ranges[group_of[i]][0], "length": ranges[group_of[i]][1],
               "sha256": shas[group_of[i]]} for i in range(len(runs))]
    return data, places


def execute_batch(task: BatchTask) -> tuple[list[dict], bytes | None]:
    """Worker side: run the batch's models; returns a record per run (in order) and the Parquet bytes
    of the batch file (None if no run succeeded). Records of stored runs carry ``row_group``,
    ``offset``, ``length`` and ``sha256``. A model error is a record with ``status="failed"``
    (it is data, not retried).

    The runs go side by side through batched models (issue 17, ``abm.batch``): the runs of points
    with the same ``batch_key`` together (at most ``runs_that_fit`` at once), or, where their
    levers take different branches of the year (``BatchMismatch``), the runs of each branch
    together (:func:`_run_side_by_side`); their
    results are those of one run at a time, bit for bit. If a batched model fails, its runs are
    done again one at a time, so a failing run fails alone."""
    tables: dict[int, tuple] = {}  # position in task.runs -> (table, columns, run record) of runs side by side
    for group in _key_groups(task):
        by_model: dict[int, list] = {}  # one Arrow table per batched model, for all its runs
        for i, (recorder, run, out) in _run_side_by_side(task, group).items():
            by_model.setdefault(id(recorder), [recorder, []])[1].append((i, run, out))
        for recorder, members in by_model.values():
            t0 = time.perf_counter()
            try:
                runs = [(run, task.runs[i][0], task.scenarios[task.runs[i][0]].name, task.runs[i][1])
                        for i, run, _ in members]
                made, names = recorded_run_tables(recorder, runs, task.columns)
            except Exception:  # noqa: S112  (the runs are done again alone below, where an error is recorded)
                continue
            share_s = (time.perf_counter() - t0) / len(members)
            for (i, _, out), table in zip(members, made):
                tables[i] = (table, names, {**out, "duration_s": out["duration_s"] + share_s})
    records: list[dict] = []
    stored: list[tuple[dict, pa.Table]] = []
    columns: dict = {}
    for i, (point, replication, seed, identity) in enumerate(task.runs):
        t0 = time.perf_counter()
        try:
            if i in tables:
                table, columns, out = tables.pop(i)
            else:
                stages, fiscal, out = runner.run_replication(task.scenarios[point], replication, seed, task.engine)
                table, columns = _run_table(point, stages, fiscal, task.columns)
        except Exception as exc:  # the model's failure, reported as data
            records.append({**identity, "status": "failed", "error": one_line(exc),
                            "duration_s": time.perf_counter() - t0})
            continue
        record = {**identity, "status": "ok", "error": None, "duration_s": out["duration_s"] + time.perf_counter() - t0}
        records.append(record)
        stored.append((record, table))
    if not stored:
        return records, None
    data, places = batch_bytes(stored, columns)
    for (record, _), place in zip(stored, places):
        record.update(place)
    return records, data


def _key_groups(task: BatchTask) -> list[list[int]]:
    """Positions of the task's runs in groups that may go side by side: the same ``batch_key``, at
    most ``runs_that_fit`` runs, in the task's order (the reference engine: one run each)."""
    from ..abm.batch import batch_key, runs_that_fit

    if task.engine != "vectorized":
        return [[i] for i in range(len(task.runs))]
    keys = {point: batch_key(sc) for point, sc in task.scenarios.items()}
    groups: dict[str, list[list[int]]] = {}
    for i, run in enumerate(task.runs):
        point = run[0]
        open_groups = groups.setdefault(keys[point], [[]])
        if len(open_groups[-1]) >= runs_that_fit(task.scenarios[point]):
            open_groups.append([])
        open_groups[-1].append(i)
    return [group for by_key in groups.values() for group in by_key if group]


def _run_side_by_side(task: BatchTask, group: list[int]) -> dict[int, tuple]:
    """The group's runs in one batched model; runs whose levers cannot share one, in a batched model
    for each branch of the arithmetic they take (``BatchMismatch.labels``; where not known, point by
    point); nothing if a model fails (its runs are then done one at a time)."""
    from ..abm.batch import BatchMismatch

    if len(group) < 2:
        return {}
    runs = [task.runs[i] for i in group]
    try:
        scenarios = [task.scenarios[r[0]] for r in runs]
        outs = runner.run_batch(scenarios[0], [r[1] for r in runs], [r[2] for r in runs], task.engine, scenarios)
        return dict(zip(group, outs))
    except BatchMismatch as exc:
        if exc.labels is not None and len(exc.labels) == len(group) and len(set(exc.labels.tolist())) > 1:
            parts = [[i for i, label in zip(group, exc.labels) if label == kind] for kind in dict.fromkeys(exc.labels)]
        else:  # the runs of each point apart
            parts = [[i for i in group if task.runs[i][0] == point] for point in dict.fromkeys(r[0] for r in runs)]
        if len(parts) == 1:
            return {}
        done: dict[int, tuple] = {}
        for part in parts:
            done.update(_run_side_by_side(task, part))
        return done
    except Exception:  # a model error: its runs are done one at a time, where it is recorded
        return {}


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
    n_batches: int = 0  # batch files written
    batch_size: int = 0


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


def prepare_out(out: Path, sweep: Sweep, resume: bool, overwrite: bool,
                columns: tuple[str, ...] | None = None) -> bool:
    """Check ``out`` (raises InputError, writes nothing); True if it holds this sweep to resume."""
    if resume and overwrite:
        raise InputError("--overwrite", "", "cannot be combined with --resume (--resume keeps the runs done, "
                         "--overwrite replaces them): choose one")
    check_out_path(out)
    found = _store_hash(out)
    if resume and (found is not None or (out / "sweep.json").exists()):
        if found != sweep.hash():
            raise InputError(str(out), "--resume", f"holds a different sweep (hash {found}, this one "
                             f"{sweep.hash()}); choose another --out or start again with --overwrite")
        info = _read_json(out / "sweep.json") or _read_json(out / "manifest.json")
        version = info.get("store_version", 1)
        if version == 1:
            raise InputError(str(out), "--resume", "was written by an earlier valuechain (one file per run); "
                             "load_sweep still reads it, but it cannot be resumed; start again with --overwrite")
        if version != STORE_VERSION:
            raise InputError(str(out / "sweep.json"), "store_version", f"{version}: this valuechain resumes only "
                             f"sweep stores of version {STORE_VERSION}; load_sweep still reads this one; start "
                             "again with --overwrite (or resume it with the valuechain that wrote it)")
        if columns is not None and tuple(info.get("columns") or ()) != tuple(columns):
            raise InputError(str(out), "--columns", f"the store keeps {','.join(info.get('columns') or [])}; "
                             "resume with the same --columns or start again with --overwrite", ",".join(columns))
        return True
    if resume and out.is_dir() and any(p.name != ".valuechain.lock" for p in out.iterdir()):
        raise InputError(str(out), "--resume", "not a sweep results directory (no sweep.json)")
    if not overwrite and (out / "sweep.json").exists():  # an earlier sweep's store: say how to keep its runs
        raise InputError(str(out), "--out", "holds a sweep's results (sweep.json); pass --resume to keep its runs "
                         "and compute only what is missing, or --overwrite to replace them")
    check_out_dir(out, overwrite, kind="sweep", own=STORE_FILES)
    if found is None and out.is_dir():  # not our store: a file with one of our names is the user's
        for name in (*OWN_FILES, RUNS_DIR):
            if (out / name).exists():
                raise InputError(str(out / name), "--out", "exists but is not part of a valuechain sweep "
                                 "store; valuechain replaces only files it wrote; move it or choose another --out")
    return False


@dataclass
class _Recorded:
    """What a store records: per run (point, replication) where it is, and per batch file its SHA-256."""

    runs: dict = field(default_factory=dict)  # (point, replication) -> {file, row_group, offset, length, sha256}
    files: dict = field(default_factory=dict)  # file -> sha256 or None (every file of ours the store names)


def _recorded(out: Path) -> _Recorded:
    """The runs index, then the journal (newer); only names of the toolkit's own run files."""
    rec = _Recorded()
    pattern = re.compile(rf"{RUNS_DIR}/(?:{RUN_FILES})")
    try:
        index = pq.read_table(out / "runs.parquet").to_pandas()
    except Exception:  # missing or damaged index: the journal still knows the checksums
        index = None
    if index is not None and "file" in index:
        has = {c: c in index for c in ("row_group", "offset", "length", "sha256", "file_sha256")}
        for row in index.itertuples(index=False):
            f = row.file
            if not isinstance(f, str) or not pattern.fullmatch(f):
                continue
            fsha = row.file_sha256 if has["file_sha256"] else (row.sha256 if has["sha256"] else None)
            rec.files.setdefault(f, fsha if isinstance(fsha, str) else None)
            if has["row_group"] and has["sha256"] and isinstance(row.sha256, str) and row.row_group >= 0:
                rec.runs[(int(row.point), int(row.replication))] = {
                    "file": f, "row_group": int(row.row_group), "offset": int(row.offset),
                    "length": int(row.length), "sha256": row.sha256}
    try:
        lines = (out / JOURNAL).read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"[0-9a-f]{64}", parts[1]) and pattern.fullmatch(parts[0]):
            rec.files[parts[0]] = parts[1]
        elif len(parts) == 6 and re.fullmatch(r"[0-9a-f]{64}", parts[5]) and "#" in parts[0]:
            f, _, g = parts[0].partition("#")
            if pattern.fullmatch(f) and all(p.isdigit() for p in (g, *parts[1:5])):
                rec.files.setdefault(f, None)
                rec.runs[(int(parts[1]), int(parts[2]))] = {
                    "file": f, "row_group": int(g), "offset": int(parts[3]), "length": int(parts[4]),
                    "sha256": parts[5]}
    return rec


def _clean(out: Path, fresh: bool, recorded: _Recorded) -> None:
    """Remove our own leftovers only: temporary files of earlier writers, the manifest (a store
    without one is unfinished) and, on a fresh start, the files the previous store recorded."""
    remove_stale_temporaries(out, STORE_FILES)
    remove_stale_temporaries(out / RUNS_DIR, RUN_FILES)
    (out / "manifest.json").unlink(missing_ok=True)  # first: a manifest marks a finished sweep
    if fresh:
        for name in recorded.files:
            (out / name).unlink(missing_ok=True)
        for name in OWN_FILES:
            (out / name).unlink(missing_ok=True)


def _batch_meta(path: Path) -> tuple[dict, dict, dict] | None:
    """A batch file's runs, ``(point, replication) -> run info``, its ``columns`` and where each run's
    rows are (``layout.run_places``); None if unreadable."""
    try:
        info = json.loads(pq.read_schema(path).metadata[BATCH_META])
        runs = {(int(r["point"]), int(r["replication"])): r for r in info["runs"]}
        return runs, info["columns"], run_places(info["runs"])
    except Exception:  # missing, truncated or foreign file
        return None


def _range_sha(path: Path, offset: int, length: int) -> str | None:
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
    except OSError:
        return None
    return sha256_bytes(data) if len(data) == length else None


class _Index:
    """Per-run status and place kept as small arrays (no results), written as ``runs.parquet``."""

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
        self.file = np.full(n, None, dtype=object)
        self.row_group = np.full(n, -1, dtype=np.int64)
        self.offset = np.full(n, -1, dtype=np.int64)
        self.length = np.full(n, -1, dtype=np.int64)
        self.sha256 = np.full(n, None, dtype=object)
        self.file_sha256 = np.full(n, None, dtype=object)
        self.last_write = 0.0
        self.write_s = 0.0  # how long the last rewrite took
        self.last_sha: str | None = None
        # the columns that never change, built once (the index is rewritten every INDEX_EVERY_S)
        runs = pd.DataFrame({
            "point": point, "replication": replication, "seed": sweep.seed,
            "spawn_key": [[int(r)] for r in replication], **self._changing(),
        })
        runs = runs.merge(points.drop(columns=["overrides"]), on="point", how="left")
        self._frame = keys_first(runs, ["point", "name", *sweep.parameter_keys, "replication"])

    def _changing(self) -> dict:
        return {"status": self.status.astype(str), "error": self.error, "duration_s": self.duration_s,
                "attempts": self.attempts, "file": self.file, "row_group": self.row_group, "offset": self.offset,
                "length": self.length, "sha256": self.sha256, "file_sha256": self.file_sha256}

    def place(self, i: int, file: str, place: dict, file_sha: str | None) -> None:
        self.file[i], self.row_group[i] = file, place["row_group"]
        self.offset[i], self.length[i], self.sha256[i] = place["offset"], place["length"], place["sha256"]
        self.file_sha256[i] = file_sha

    def frame(self) -> pd.DataFrame:
        runs = self._frame.copy()
        for name, values in self._changing().items():
            runs[name] = values
        return runs

    def write(self, out: Path, force: bool = False) -> None:
        if force or time.monotonic() - self.last_write >= max(INDEX_EVERY_S, self.write_s / INDEX_SHARE):
            t0 = time.monotonic()
            self.last_sha = atomic_write_parquet(self.frame(), out / "runs.parquet")
            self.last_write = time.monotonic()
            self.write_s = self.last_write - t0


# ------------------------------------------------------------------------------ the driver
def run_sweep(sweep: Sweep | str | Path, executor: Executor | Callable[[], Executor] | None = None,
              out: str | Path | None = None, *, workers: int | None = None, resume: bool = False,
              overwrite: bool = False, progress: bool = True, max_retries: int = 2,
              window: int | None = None, engine: str = "vectorized",
              scheduler_timeout: float | None = None, batch_size: int | None = None,
              columns: str | list[str] | tuple[str, ...] | None = DEFAULT_COLUMNS) -> SweepSummary:
    """Run every point x replication of ``sweep`` and store the results in ``out``.

    ``executor``: any ``concurrent.futures``-style executor (e.g. a Dask
    ``client.get_executor(pure=False)``; not shut down here), or a zero-argument factory of one
    (recreated if its worker processes die). Default: ``workers`` processes (one per core);
    ``workers=1`` runs in this process. Runs go to the executor in batches of ``batch_size``
    (default :func:`auto_batch_size`); ``window`` bounds the batches in flight (default 2 x
    workers). ``columns``: the stage columns kept (``"analysis"``, the default:
    :data:`ANALYSIS_COLUMNS`; ``"all"``; or names). Results are identical whatever executes them and however they are
    batched: run (point, k) always uses the k-th child seed of the sweep seed. The folder is
    locked for the whole sweep (a second writer gets an InputError). An executor whose Dask
    scheduler is gone for ``scheduler_timeout`` seconds (default ``VALUECHAIN_SCHEDULER_TIMEOUT_S``
    or 60) ends the sweep with :class:`SchedulerLost`; the store stays resumable.
    Returns a :class:`SweepSummary`; ``n_failed`` counts the
    runs that failed (check it: a sweep with failures returns normally). In a script, call it
    under ``if __name__ == "__main__":`` (local workers are fresh processes that import the script again; see
    :func:`runner.check_main_guard`, which raises at once otherwise).
    """
    if executor is None and (workers or default_workers()) > 1:
        runner.check_main_guard("run_sweep")  # before anything is written
        start_pool_server()  # the workers' imports, while the driver reads and plans the sweep
    sweep = sweep if isinstance(sweep, Sweep) else load_sweep(sweep)
    kept = resolve_columns(columns)
    if batch_size is not None and not (1 <= int(batch_size) <= 100_000):
        raise InputError("--batch-size", "", "must be between 1 and 100000", batch_size)
    out = Path(out) if out is not None else Path("results") / sweep.name
    prepare_out(out, sweep, resume, overwrite, kept)  # bad input fails before the folder is created
    with output_lock(out):
        return _run_sweep(sweep, executor, out, workers=workers, resume=resume, overwrite=overwrite,
                          progress=progress, max_retries=max_retries, window=window, engine=engine,
                          scheduler_timeout=scheduler_timeout, batch_size=batch_size, columns=kept)


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
               window: int | None, engine: str, scheduler_timeout: float | None, batch_size: int | None,
               columns: tuple[str, ...]) -> SweepSummary:
    started = time.time()
    timeout_s = scheduler_timeout_s(scheduler_timeout)
    resuming = prepare_out(out, sweep, resume, overwrite, columns)  # again, now that the folder is locked
    recorded = _recorded(out) if (resuming or overwrite) else _Recorded()
    (out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    _clean(out, not resuming, recorded)
    if not resuming:
        recorded = _Recorded()
    points = points_frame(sweep)
    info = {**_sweep_info(sweep), "columns": list(columns)}
    store_sha = {"sweep.json": atomic_write_json(info, out / "sweep.json")}  # resume restores both
    kill_point("sweep:between-sweep-json-and-points")
    store_sha["points.parquet"] = atomic_write_parquet(points, out / "points.parquet")

    index = _Index(sweep, points)
    seeds = sweep.seeds()
    cache: dict[int, tuple[LoadedScenario, str]] = {}  # point -> its scenario and that scenario's hash

    def scenario(p: int) -> tuple[LoadedScenario, str]:
        if p not in cache:
            if len(cache) > 64:
                cache.clear()  # runs are point-major: a batch needs only a few points' scenarios
            sc = sweep.scenario(sweep.points[p])
            cache[p] = sc, sweep.scenario_hash(sc)
        return cache[p]

    def identity(i: int) -> dict:
        p, r = int(index.point[i]), int(index.replication[i])
        return {"point": p, "replication": r, "seed": sweep.seed, "spawn_key": list(seeds[r].spawn_key),
                "scenario_hash": scenario(p)[1]}

    def batch_task(group: list[int]) -> BatchTask:
        runs = tuple((int(index.point[i]), int(index.replication[i]), seeds[int(index.replication[i])], identity(i))
                     for i in group)
        return BatchTask(runs, {p: scenario(p)[0] for p in {r[0] for r in runs}}, engine, columns)

    summary = SweepSummary(out, index.point.size)
    todo: deque[int] = deque()
    salvage: list[tuple[int, dict, pa.Table, dict]] = []  # intact runs of damaged batch files, copied to a new file
    file_ok: dict[str, bool] = {}
    file_meta: dict[str, tuple[dict, dict] | None] = {}
    for i in range(index.point.size):
        key = (int(index.point[i]), int(index.replication[i]))
        place = recorded.runs.get(key) if resuming else None
        kept = None
        if place is not None:
            name, path = place["file"], out / place["file"]
            if name not in file_meta:
                file_meta[name] = _batch_meta(path)
                try:
                    file_ok[name] = bool(recorded.files.get(name)) and sha256_file(path) == recorded.files[name]
                except OSError:
                    file_ok[name] = False
            stored = file_meta[name][0].get(key) if file_meta[name] else None
            same = stored is not None and stored.get("row_group") == place["row_group"] and \
                stored.get("status") == "ok" and all(stored.get(k) == v for k, v in identity(i).items())
            if same and file_ok[name]:
                kept = stored
                index.place(i, name, place, recorded.files[name])
            elif same and _range_sha(path, place["offset"], place["length"]) == place["sha256"]:
                try:  # the file is damaged elsewhere, this run's bytes are intact: copy it to a new file
                    table = pq.ParquetFile(path).read_row_group(place["row_group"])
                    _, position, k = file_meta[name][2][key]
                    table = table.take(pa.array(run_rows(k, position, table.num_rows))) if k > 1 else table
                    salvage.append((i, stored, table, file_meta[name][1]))
                    kept = stored
                except Exception:  # noqa: S110  (unreadable after all: the run is done again)
                    kept = None
        if kept:
            index.status[i], index.duration_s[i] = "ok", kept.get("duration_s", np.nan)
            summary.n_skipped += 1
        else:
            todo.append(i)
    summary.n_ok = summary.n_skipped
    on_disk = [int(m.group(1)) for m in (re.fullmatch(r"b(\d{6})\.parquet", p.name) for p in
                                         (out / RUNS_DIR).iterdir()) if m]
    recorded_ids = [int(m.group(1)) for m in (re.fullmatch(rf"{RUNS_DIR}/b(\d{{6}})\.parquet", f)
                                              for f in recorded.files) if m]
    next_batch = [max([-1, *on_disk, *recorded_ids]) + 1]  # never overwrite a file, ours or not
    journal = open(out / JOURNAL, "ab")  # noqa: SIM115  (closed in the finally below)
    if journal.tell() and not (out / JOURNAL).read_bytes().endswith(b"\n"):
        journal.write(b"\n")  # a line cut by a kill stays a line of its own

    def write_batch(group: list[int], places: list[dict], data: bytes) -> None:
        """The batch file: journal lines first, then the rename (a kill in between loses the batch,
        never a checksum of a file on disk)."""
        name = f"{RUNS_DIR}/{batch_file_name(next_batch[0])}"
        next_batch[0] += 1
        file_sha = sha256_bytes(data)
        with _replacing(out / name) as tmp:
            tmp.write_bytes(data)
            lines = [f"{name}#{pl['row_group']} {index.point[i]} {index.replication[i]} {pl['offset']} "
                     f"{pl['length']} {pl['sha256']}\n" for i, pl in zip(group, places)]
            journal.write("".join([*lines, f"{name} {file_sha}\n"]).encode())
            journal.flush()
        for i, pl in zip(group, places):
            index.place(i, name, pl, file_sha)
        summary.n_batches += 1
        kill_point("sweep:batch-recorded")

    try:
        if salvage:  # the runs' rows as they were written, in a file of their own
            data, places = batch_bytes([(stored, table) for _, stored, table, _ in salvage], salvage[0][3])
            write_batch([i for i, *_ in salvage], places, data)
        index.write(out, force=True)
        return _drive(sweep, executor, out, index, todo, summary, batch_task, write_batch, recorded, store_sha,
                      started=started, resuming=resuming, workers=workers, progress=progress,
                      max_retries=max_retries, window=window, batch_size=batch_size, columns=columns,
                      timeout_s=timeout_s, engine=engine)
    finally:
        journal.close()


def _drive(sweep: Sweep, executor, out: Path, index: _Index, todo: deque, summary: SweepSummary, batch_task,
           write_batch, recorded: _Recorded, store_sha: dict, *, started: float, resuming: bool,
           workers: int | None, progress: bool, max_retries: int, window: int | None, batch_size: int | None,
           columns: tuple[str, ...], timeout_s: float, engine: str = "vectorized") -> SweepSummary:
    """Submit the batches, record what comes back, retry what infrastructure lost; then the manifest."""
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
    capacity = n_workers if own and workers else _capacity(pool)
    window = window or max(2, 2 * capacity)
    rows = len(sweep.base.chain.order) * sweep.base.spec.horizon.years  # a row per stage-year (fiscal beside)
    model_runs = _model_runs(pool if own else None, sweep.base, engine) if todo and not batch_size else 1
    size = int(batch_size) if batch_size else auto_batch_size(len(todo), capacity, rows, model_runs)
    summary.batch_size = size
    in_flight: dict[Future, list[int]] = {}
    suspects: set[int] = set()  # runs in flight when a pool broke: retried one at a time
    submit_failures = 0  # consecutive submits refused by the executor
    lost_since: float | None = None  # when the Dask scheduler was first seen gone

    def record(group: list[int], recs: list[dict], data: bytes | None) -> None:
        stored = [(i, rec) for i, rec in zip(group, recs) if rec["status"] == "ok"]
        if data is not None:
            write_batch([i for i, _ in stored], [rec for _, rec in stored], data)
        for i, rec in zip(group, recs):
            index.status[i], index.error[i], index.duration_s[i] = rec["status"], rec["error"], rec["duration_s"]
            suspects.discard(i)
            summary.n_computed += 1
            if rec["status"] == "ok":
                summary.n_ok += 1
                kill_point("sweep:run-recorded")
            else:
                summary.n_failed += 1
        bar.update(len(group))
        bar.set_postfix(failed=summary.n_failed, refresh=False)
        index.write(out)

    def infrastructure_failure(i: int, exc: BaseException, charge: bool = True) -> None:
        index.attempts[i] += 1 if charge else 0
        if index.attempts[i] > max_retries:
            msg = f"infrastructure failure after {index.attempts[i]} attempts: {one_line(exc)}"
            record([i], [{"status": "failed", "error": msg, "duration_s": np.nan}], None)
        else:
            todo.appendleft(i)

    try:
        while todo or in_flight:
            while todo and len(in_flight) < (1 if suspects else window):
                group = [todo.popleft() for _ in range(min(1 if suspects else size, len(todo)))]
                try:
                    in_flight[pool.submit(execute_batch, batch_task(group))] = group
                    submit_failures = 0
                except (BrokenProcessPool, RuntimeError) as exc:  # the executor is unusable
                    todo.extendleft(reversed(group))
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
            n_at_break = sum(len(g) for g in in_flight.values())
            for fut in sorted(done, key=lambda f: in_flight[f][0]):  # in run order, for reproducible logs
                group = in_flight.pop(fut)
                try:
                    recs, data = fut.result()
                except BrokenProcessPool as exc:
                    broken = exc
                    suspects.update(group)
                    continue
                except Exception as exc:  # e.g. a Dask worker lost: retry these runs
                    for i in reversed(group):
                        infrastructure_failure(i, exc)
                    continue
                for i in group:
                    index.attempts[i] += 1
                record(group, recs, data)
            if broken is not None:
                for group in in_flight.values():
                    suspects.update(group)
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
        index.write(out, force=True)
    # batch files of earlier attempts that no run refers to any more (damaged, or superseded): ours, recorded
    used = set(index.file[index.file != None])  # noqa: E711
    for name in recorded.files:
        if name not in used:
            (out / name).unlink(missing_ok=True)
    summary.duration_s = time.time() - started
    failed = np.flatnonzero(index.status == "failed")[:10]
    summary.failures = [(int(index.point[i]), int(index.replication[i]), index.error[i]) for i in failed]
    store_sha["runs.parquet"] = index.last_sha
    store_sha[JOURNAL] = sha256_file(out / JOURNAL)
    manifest = {**_manifest(sweep, summary, started, resuming, pool), "columns": list(columns),
                "batch_size": size, "batches_written": summary.n_batches, "files": store_sha}
    atomic_write_json(manifest, out / "manifest.json")
    return summary


def _model_runs(pool: Executor | None, scenario: LoadedScenario, engine: str) -> int:
    """How many runs of ``scenario`` a batched model holds (``abm.batch.runs_that_fit``; 1 for the
    reference engine): asked of ``pool``, our own local pool, whose workers have the model
    imported (the driver then does not import it), or else found here. 1 if the pool cannot say."""
    if engine != "vectorized":
        return 1
    if pool is None:  # someone else's executor (e.g. Dask: waiting on it here would bypass the health checks)
        return _runs_that_fit(scenario)
    try:
        return max(1, int(pool.submit(_runs_that_fit, scenario).result()))
    except Exception:  # e.g. a broken pool: the batches are then sized without it (and retried as usual)
        return 1


def _runs_that_fit(scenario: LoadedScenario) -> int:
    from ..abm.batch import runs_that_fit

    return runs_that_fit(scenario)


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
        "kind": "valuechain sweep", "store_version": STORE_VERSION, "name": sweep.name, "file": sweep.file,
        "sweep_hash": sweep.hash(),
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
        "layout": {"runs": f"runs/bNNNNNN.parquet: a batch of runs in row groups of up to {layout.RUNS_PER_GROUP} "
                           "runs of one size "
                           "(file, row_group in the index), row r of each run of a row group in turn: the stage "
                           "rows with a column fiscal_cost:<lever> per lever (none for the file's zero_levers)",
                   "index": "runs.parquet", "points": "points.parquet"},
    }


# ------------------------------------------------------------------------------ command line
def sweep_command(args: Any) -> int:
    """``valuechain sweep``: validate, check the output folder, connect, run, report."""
    sweep = load_sweep(args.sweep)
    if args.workers is not None and not (1 <= args.workers <= 1024):
        raise InputError("--workers", "", "must be between 1 and 1024", args.workers)
    if args.scheduler_timeout is not None and not (0 < args.scheduler_timeout <= 86_400):
        raise InputError("--scheduler-timeout", "", "must be between 0 and 86400 seconds", args.scheduler_timeout)
    if args.workers is not None and args.scheduler:
        raise InputError("--workers", "", "not used with --scheduler (the cluster's workers run the sweep)")
    batch_size = getattr(args, "batch_size", None)
    if batch_size is not None and not (1 <= batch_size <= 100_000):
        raise InputError("--batch-size", "", "must be between 1 and 100000", batch_size)
    columns = resolve_columns(getattr(args, "columns", DEFAULT_COLUMNS))
    out = Path(args.out) if args.out else Path("results") / sweep.name
    resuming = prepare_out(out, sweep, args.resume, args.overwrite, columns)  # bad input fails before anything
    if args.dry_run:  # is written; a dry run checks what the run would and writes nothing
        print(describe(sweep))
        print(f"would {'resume the sweep in' if resuming else 'write the results to'} {out}")
        return 0
    store = {"batch_size": batch_size, "columns": columns}
    if not args.scheduler:
        summary = run_sweep(sweep, None, out, workers=args.workers, resume=args.resume,
                            overwrite=args.overwrite, progress=not args.quiet, **store)
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
                                scheduler_timeout=args.scheduler_timeout, **store)
        finally:
            try:
                client.close(timeout=5)
            except Exception:  # noqa: S110  (a client whose scheduler is gone may not close cleanly)
                pass
            for log in quieted:
                log.disabled = False
    done = f"{summary.n_ok:,} ok" + (f" ({summary.n_skipped:,} already done)" if summary.n_skipped else "")
    print(f"sweep {sweep.name}: {summary.n_runs:,} run(s): {done}, {summary.n_failed:,} failed; "
          f"{summary.duration_s:.1f} s; results: {out}/")
    if summary.n_failed:
        p, r, err = summary.failures[0]
        print(f"error: {summary.n_failed} of {summary.n_runs} run(s) failed; first: point {p} replication {r}: "
              f"{err} (status and error of each run in {out / 'runs.parquet'})", file=sys.stderr)
        return 1
    return 0
