"""Where a sweep store's bytes go: per column, per run, from the batch files' Parquet footers.

    python benchmarks/store_bytes.py results/sweep_sobol_levers

For every column of the batch files: its compressed bytes a run (column chunks, pages included),
and for the key columns (scenario, point, replication, year, sector, stage, tier) what storing
them once per file instead of once per row group (run) would save a run: their bytes a run less
one run's worth per file. Then the footers (row-group metadata and the batch metadata) and the
other store files (index, journal, points, manifest) a run.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valuechain.simulation.running.sweeps import KEYS  # noqa: E402


def store_bytes(out: Path) -> dict:
    files = sorted((out / "runs").glob("b*.parquet"))
    by_column: dict[str, int] = defaultdict(int)
    runs = footers = batch_bytes = 0
    for path in files:
        meta = pq.ParquetFile(path).metadata
        runs += meta.num_row_groups
        batch_bytes += path.stat().st_size
        chunks = 0
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            for j in range(rg.num_columns):
                col = rg.column(j)
                by_column[col.path_in_schema] += col.total_compressed_size
                chunks += col.total_compressed_size
        footers += path.stat().st_size - chunks
    other = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    keys = {c: b for c, b in by_column.items() if c in KEYS}
    once = sum(keys.values()) / runs * (runs - len(files)) / runs  # a run's share of what a file's one copy saves
    print(f"{out}: {runs:,} runs in {len(files)} batch files, {(batch_bytes + other) / runs:,.0f} bytes a run "
          f"({batch_bytes / runs:,.0f} in batch files, {other / runs:,.0f} in the index, journal, points, manifest)")
    for name, b in sorted(by_column.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<34} {b / runs:8,.0f} bytes a run{'  (key)' if name in KEYS else ''}")
    print(f"  {'footers and metadata':<34} {footers / runs:8,.0f} bytes a run")
    print(f"key columns: {sum(keys.values()) / runs:,.0f} bytes a run; stored once per batch file instead of once "
          f"per run they would save about {once:,.0f} bytes a run")
    return {"runs": runs, "files": len(files), "bytes_per_run": (batch_bytes + other) / runs,
            "columns": {c: b / runs for c, b in by_column.items()}, "keys_once_saves": once}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", type=Path, help="a sweep's results folder")
    store_bytes(ap.parse_args().store)
