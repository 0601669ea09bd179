"""What each Parquet lever does to a sweep store's bytes, its write cost and its read cost.

    python benchmarks/store_levers.py DIR [DIR ...] [--entropy] [--merge 2] [--only TEXT]

Reads the runs of every batch file of the given stores (any column set) back run by run, then
writes each batch again with every variant of ``VARIANTS`` (codec and level, the floats'
encoding, the keys' encoding, the order of the rows inside a row group, the runs a row group
holds, the data page size, the batch metadata once, the floats as differences) and prints per
variant: the batch files' bytes a run, the write's CPU ms a run (the fastest of ``--repeats``
passes of ``ParquetWriter`` over the batch, the checksums not included), the read's CPU ms a
run (decoding every row group with every column, fastest pass) and that of one float column
(``value_added``, what a streamed analysis reads). Every variant is read back and compared with
the stored runs bit for bit (the float64 columns as int64 bit patterns; the differences undone
first), so a lossy variant stops the script. The other store files (index, journal, points,
manifest) are the same in every variant and are not counted. ``--entropy`` first prints the
float columns' byte entropy (:func:`byte_entropy`); ``--merge N`` treats up to N consecutive
batch files with the same columns as one batch (a large sweep's batches hold 200 runs).

Only the first variant and the row-group size are transparent to every reader of store
version 3; "metadata once" and the differences change what a reader sees (a new store version).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valuechain.simulation.running.sweeps import BATCH_META  # noqa: E402
from valuechain.simulation.store_layout import RUNS_PER_GROUP, run_groups, run_places, run_rows  # noqa: E402


@dataclass(frozen=True)
class Variant:
    name: str
    order: str = "rows x runs"  # the rows of a row group: see order()
    codec: str = "zstd"
    level: int | None = 3
    floats: str = "byte_stream_split"  # byte_stream_split, plain, dictionary
    keys: str = "dictionary"  # dictionary, plain, delta (DELTA_BINARY_PACKED for the int64 keys)
    runs_per_group: int = RUNS_PER_GROUP
    page_bytes: int | None = None  # data page size (None: Arrow's 1 MiB)
    metadata_once: bool = False  # the batch metadata in the file's key-value metadata only, not also in ARROW:schema
    delta: bool = False  # floats as the int64 difference of their bits from the same replication's previous run


VARIANTS = [
    Variant(f"the layout (zstd 3, floats byte-stream split, rows x runs, {RUNS_PER_GROUP} a row group)"),
    Variant("runs a row group 50 (before)", runs_per_group=50),
    Variant("runs a row group 200", runs_per_group=200),
    *[Variant(f"zstd {lv}", level=lv) for lv in (1, 6, 9, 12, 15, 19)],
    Variant("lz4", codec="lz4", level=None),
    Variant("brotli 5", codec="brotli", level=5),
    Variant("floats plain", floats="plain"),
    Variant("floats plain, zstd 9", floats="plain", level=9),
    Variant("floats dictionary", floats="dictionary"),
    Variant("keys plain", keys="plain"),
    Variant("int keys delta", keys="delta"),
    Variant("pages of 64 KiB", page_bytes=64 << 10),
    Variant("rows x runs by (replication, point)", order="rows x runs by replication"),
    Variant("stages x years x runs", order="stages x years x runs"),
    Variant("stages x runs x years", order="stages x runs x years"),
    Variant("stages x years x runs by (replication, point)", order="stages x years x runs by replication"),
    Variant("runs x rows (store version 2 order)", order="runs x rows"),
    Variant("batch metadata once (not also in ARROW:schema)", metadata_once=True),
    Variant("floats delta of the bits (a reader would undo it)", order="rows x runs by replication", delta=True),
    Variant("floats delta, zstd 12, metadata once", order="rows x runs by replication", delta=True, level=12,
            metadata_once=True),
]


def stored_batches(out: Path) -> list[tuple[list[dict], list[pa.Table], dict]]:
    """Per batch file: its runs' metadata (file order), each run's table (its own row order), the
    file's schema metadata (written again with each variant)."""
    batches = []
    for path in sorted((out / "runs").glob("b*.parquet")):
        pf = pq.ParquetFile(path)
        meta = json.loads(pf.schema_arrow.metadata[BATCH_META])
        places = run_places(meta["runs"])
        groups = {g: pf.read_row_group(g).replace_schema_metadata(None) for g in range(pf.metadata.num_row_groups)}
        tables = []
        for run in meta["runs"]:
            g, j, k = places[(int(run["point"]), int(run["replication"]))]
            tables.append(groups[g].take(pa.array(run_rows(k, j, groups[g].num_rows))))
        batches.append((meta["runs"], tables, pf.schema_arrow.metadata))
    return batches


def order(variant: Variant, runs: list[dict], table: pa.Table, k: int, n: int) -> tuple[list[int], np.ndarray]:
    """The runs of a row group in the order they are placed (positions in ``runs``) and the rows of
    their ``k`` tables of ``n`` rows one after the other (``table``) in the row group's order:
    ``rows x runs`` a run's row r of every run, then row r + 1 (store version 3); ``runs x rows``
    one run after the other; ``stages x years x runs`` a stage's year of every run, its next year,
    then the next stage (a run's rows are its stages, year by year); ``... by replication``: the
    runs ordered by replication, then point, first."""
    place = list(range(k))
    if variant.order.endswith("by replication"):
        place = sorted(place, key=lambda i: (runs[i]["replication"], runs[i]["point"]))
    grid = np.arange(k * n, dtype=np.int64).reshape(k, n)[place]  # [run, row]
    name = variant.order.removesuffix(" by replication")
    if name == "rows x runs":
        return place, grid.T.ravel()
    if name == "runs x rows":
        return place, grid.ravel()
    years = table["year"].to_numpy()[:n]
    stages = int(np.sum(years == years[0]))
    cube = grid.reshape(k, n // stages, stages)  # [run, year, stage]
    if name == "stages x years x runs":
        return place, cube.transpose(2, 1, 0).ravel()
    if name == "stages x runs x years":
        return place, cube.transpose(2, 0, 1).ravel()
    raise ValueError(variant.order)


def write(variant: Variant, runs: list[dict], tables: list[pa.Table], metadata: dict) -> tuple[bytes, list[np.ndarray]]:
    """The batch file of ``variant`` and, per row group, the rows of the runs' tables one after the
    other in its order (to read it back)."""
    whole = pa.concat_tables(tables).replace_schema_metadata(metadata)
    sizes = [t.num_rows for t in tables]
    floats = [f.name for f in whole.schema if pa.types.is_floating(f.type)]
    keys = [f.name for f in whole.schema if f.name not in floats]
    options: dict = {"compression": variant.codec, "write_statistics": False}
    if variant.level is not None:
        options["compression_level"] = variant.level
    if variant.page_bytes:
        options["data_page_size"] = variant.page_bytes
    dictionary = (keys if variant.keys == "dictionary" else []) + (floats if variant.floats == "dictionary" else [])
    options["use_dictionary"] = dictionary or False
    encodings = {}
    if variant.floats == "byte_stream_split":
        encodings.update(dict.fromkeys(floats, "BYTE_STREAM_SPLIT"))
    if variant.keys == "delta":
        encodings.update({c: "DELTA_BINARY_PACKED" for c in keys if pa.types.is_integer(whole.schema.field(c).type)})
    if encodings:
        options["column_encoding"] = encodings
    buf = pa.BufferOutputStream()
    layout = []
    schema = whole.schema.remove_metadata() if variant.metadata_once else whole.schema
    whole = whole.replace_schema_metadata(schema.metadata)
    with pq.ParquetWriter(buf, schema, **options) as writer:
        if variant.metadata_once:
            writer.add_key_value_metadata(metadata)
        start = 0
        for members in run_groups(sizes, variant.runs_per_group):
            k, n = len(members), sizes[members[0]]
            block = whole.slice(start, k * n)
            place, rows = order(variant, [runs[i] for i in members], block, k, n)
            placed = block.take(pa.array(rows))
            if variant.delta:
                placed = delta_bits(placed, [runs[members[i]]["replication"] for i in place], k, floats)
            writer.write_table(placed, row_group_size=k * n)
            layout.append(start + rows)
            start += k * n
    return buf.getvalue().to_pybytes(), layout


def delta_bits(table: pa.Table, replications: list[int], k: int, floats: list[str], undo: bool = False) -> pa.Table:
    """The float columns of a row group (rows x runs, runs ordered by replication) as the int64
    difference of each value's bits from the same row of the previous run of the same replication
    (the first run of each replication as it is), the difference's bits stored as a float64; with
    ``undo`` the inverse. Lossless: int64 arithmetic wraps around."""
    same = np.r_[False, np.asarray(replications[1:]) == np.asarray(replications[:-1])]
    for name in floats:
        bits = table[name].to_numpy().view(np.int64).reshape(-1, k).copy()  # [row, run]
        if undo:
            for j in np.flatnonzero(same):
                bits[:, j] += bits[:, j - 1]
        else:
            bits[:, 1:][:, same[1:]] -= bits[:, :-1][:, same[1:]]
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(bits.ravel().view(np.float64)))
    return table


def fastest_cpu(function, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        c0 = time.process_time()
        function()
        best = min(best, time.process_time() - c0)
    return best


def read_all(pf: pq.ParquetFile, columns: list[str] | None) -> list[pa.Table]:
    return [pf.read_row_group(g, columns=columns) for g in range(pf.metadata.num_row_groups)]


def same_bits(a: pa.Table, b: pa.Table) -> bool:
    for name in a.column_names:
        x, y = a[name].to_numpy(), b[name].to_numpy()
        if x.dtype.kind == "f":
            x, y = x.view(np.int64), y.view(np.int64)
        if not np.array_equal(x, y):
            return False
    return True


def measure(batches, variant: Variant, repeats: int) -> dict:
    size = write_s = read_s = column_s = 0.0
    runs = 0
    for meta, tables, metadata in batches:
        data, layout = write(variant, meta, tables, metadata)
        write_s += fastest_cpu(functools.partial(write, variant, meta, tables, metadata), repeats)
        pf = pq.ParquetFile(pa.BufferReader(data))
        back = [pf.read_row_group(g) for g in range(pf.metadata.num_row_groups)]
        whole = pa.concat_tables(tables).replace_schema_metadata(metadata)
        floats = [f.name for f in whole.schema if pa.types.is_floating(f.type)]
        for g, rows in enumerate(layout):
            if variant.delta:  # undone as a reader would: the runs' replications, in the row group's order
                k = len(set(zip(back[g]["point"].to_numpy(), back[g]["replication"].to_numpy())))
                reps = [int(x) for x in back[g]["replication"].to_numpy()[:k]]  # row 0 of each run
                back[g] = delta_bits(back[g], reps, len(reps), floats, undo=True)
            if not same_bits(whole.take(pa.array(rows)), back[g]):
                raise SystemExit(f"{variant.name}: row group {g} does not read back bit for bit")
        read_s += fastest_cpu(functools.partial(read_all, pf, None), repeats)
        column_s += fastest_cpu(functools.partial(read_all, pf, ["value_added"]), repeats)
        size += len(data)
        runs += len(meta)
    return {"bytes": size / runs, "write_ms": write_s / runs * 1e3, "read_ms": read_s / runs * 1e3,
            "column_ms": column_s / runs * 1e3}


def byte_entropy(batches) -> None:
    """Per float column: the share of distinct values, the mean trailing zero bits of the nonzero
    values' bit patterns, and per byte of the value (0 the lowest mantissa byte, 7 the sign and
    exponent) the order-0 entropy of that byte stream over the whole store, bits a value: what an
    entropy coder of the byte-stream split streams can get down to when it sees no structure
    beyond the frequency of each byte (zstd also finds repeats, which the shares of distinct values bound)."""
    tables = [t for _, ts, _ in batches for t in ts]
    runs = sum(len(m) for m, _, _ in batches)
    print("  per float column: distinct values, trailing zero bits, entropy of bytes 0..7 (bits a value), "
          "bytes a run at that entropy")
    total = 0.0
    names = dict.fromkeys(f.name for t in tables for f in t.schema if pa.types.is_floating(f.type))
    for name in names:  # a column some batch files leave out (a lever that costs nothing there) over those that have it
        bits = np.concatenate([t[name].to_numpy() for t in tables if name in t.column_names]).view(np.uint64)
        nonzero = bits[bits != 0]
        trailing = np.log2((nonzero & (~nonzero + np.uint64(1))).astype(np.float64)).mean() if nonzero.size else 64
        per_byte = []
        for b in range(8):
            counts = np.bincount(((bits >> np.uint64(8 * b)) & np.uint64(255)).astype(np.int64), minlength=256)
            p = counts[counts > 0] / bits.size
            per_byte.append(float(-(p * np.log2(p)).sum()))
        at = sum(per_byte) / 8 * bits.size / runs
        total += at
        print(f"  {name:<32} {np.unique(bits).size / bits.size:5.1%} distinct, {trailing:4.1f} trailing zero bits, "
              + " ".join(f"{e:3.1f}" for e in per_byte) + f"  {at:7,.0f} B a run")
    print(f"  all float columns at their bytes' order-0 entropy: {total:,.0f} B a run")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stores", nargs="+", type=Path, help="sweep results folders")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="", help="only the variants whose name contains this")
    ap.add_argument("--entropy", action="store_true", help="also the float columns' byte entropy (byte_entropy)")
    ap.add_argument("--merge", type=int, default=1, help="treat this many consecutive batch files as one batch")
    args = ap.parse_args()
    for out in args.stores:
        batches = stored_batches(out)
        if args.merge > 1:  # consecutive batch files with the same columns, up to --merge of them
            merged = []
            for meta, tables, metadata in batches:
                last = merged[-1] if merged else None
                if last and last[3] < args.merge and last[1][0].schema.equals(tables[0].schema):
                    merged[-1] = (last[0] + meta, last[1] + tables, last[2], last[3] + 1)
                else:
                    merged.append((meta, tables, metadata, 1))
            batches = [b[:3] for b in merged]
        runs = sum(len(m) for m, _, _ in batches)
        print(f"{out}: {runs:,} runs in {len(batches)} batch files; per variant: batch-file bytes a run, CPU ms a run "
              f"to write the file, to read every column, to read value_added")
        if args.entropy:
            byte_entropy(batches)
        first = None
        for variant in VARIANTS:
            if args.only not in variant.name:
                continue
            m = measure(batches, variant, args.repeats)
            first = first or m["bytes"]
            print(f"  {variant.name:<52} {m['bytes']:8,.0f} B ({m['bytes'] / first - 1:+6.1%})  write "
                  f"{m['write_ms']:5.2f} ms  read {m['read_ms']:5.2f} ms  value_added {m['column_ms']:5.2f} ms",
                  flush=True)


if __name__ == "__main__":
    main()
