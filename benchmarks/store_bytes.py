"""Where a sweep store's bytes go: per column, per run, from the batch files' Parquet footers.

    python benchmarks/store_bytes.py results/sweep_sobol_levers

For every column of the batch files: its compressed bytes a run (column chunks, pages included),
and for the key columns (scenario, point, replication, year, sector, stage, tier) what storing
them once per file instead of once per row group would save a run: their bytes less one row
group's worth per file. Then the footers (row-group metadata and the batch metadata) and the
other store files (index, journal, points, manifest) a run. Reads stores of version 2 (a row group
per run) and 3 (row groups of up to 100 runs, 50 before, ``simulation/store_layout.py``) alike.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valuechain.simulation.running.sweeps import BATCH_META, KEYS  # noqa: E402


def store_bytes(out: Path) -> dict:
    files = sorted((out / "runs").glob("b*.parquet"))
    by_column: dict[str, int] = defaultdict(int)
    runs = groups = footers = batch_bytes = 0
    for path in files:
        meta = pq.ParquetFile(path).metadata
        runs += len(json.loads(pq.read_schema(path).metadata[BATCH_META])["runs"])
        groups += meta.num_row_groups
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
    once = sum(keys.values()) / runs * (groups - len(files)) / groups  # a run's share of what a file's one copy saves
    print(f"{out}: {runs:,} runs in {len(files)} batch files, {groups:,} row groups, "
          f"{(batch_bytes + other) / runs:,.0f} bytes a run "
          f"({batch_bytes / runs:,.0f} in batch files, {other / runs:,.0f} in the index, journal, points, manifest)")
    for name, b in sorted(by_column.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<34} {b / runs:8,.0f} bytes a run{'  (key)' if name in KEYS else ''}")
    print(f"  {'footers and metadata':<34} {footers / runs:8,.0f} bytes a run")
    print(f"key columns: {sum(keys.values()) / runs:,.0f} bytes a run; stored once per batch file instead of once "
          f"per row group they would save about {once:,.0f} bytes a run")
    return {"runs": runs, "files": len(files), "row_groups": groups, "bytes_per_run": (batch_bytes + other) / runs,
            "columns": {c: b / runs for c, b in by_column.items()}, "keys_once_saves": once}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", type=Path, help="a sweep's results folder")
    store_bytes(ap.parse_args().store)
