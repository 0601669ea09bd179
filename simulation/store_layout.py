"""Where a run's rows are in a batch file of a sweep store (store version 3).

A batch file holds its runs in row groups of up to :data:`RUNS_PER_GROUP` consecutive runs of the
same number of rows. Inside a row group of ``k`` runs of ``n`` rows each the rows are interleaved:
row ``r`` of every run, in run order, then row ``r + 1``, so row ``r`` of the run at position ``j``
is row ``r * k + j`` of the group. The same stage-year of runs that differ only in their levers or
random draws then lies side by side, which the byte-stream split and zstd compress far better
than each run alone (``benchmarks/store_bytes.py``; lossless: the values are stored bit for bit).
A file of store version 2 has one run per row group: ``k = 1``, where interleaving changes nothing.
"""

from __future__ import annotations

import numpy as np

RUNS_PER_GROUP = 100  # runs a batch file's row group holds at most: 100 (a batch of the default 1,000-run sweep
# on 2 workers) is 2.5% smaller a run than 50 with the default columns, 3.6% with all of them, at no more CPU to
# write or read (``benchmarks/store_levers.py``); it bounds the runs redone for a damaged row group


def run_groups(sizes: list[int], most: int | None = None) -> list[list[int]]:
    """The runs (positions in ``sizes``, their numbers of rows) of each row group: consecutive
    runs of one size, at most ``most`` (default :data:`RUNS_PER_GROUP`) of them."""
    most = most or RUNS_PER_GROUP
    groups: list[list[int]] = []
    for i, n in enumerate(sizes):
        if groups and len(groups[-1]) < most and sizes[groups[-1][0]] == n:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def interleaved(k: int, n: int) -> np.ndarray:
    """The rows of ``k`` runs of ``n`` rows each, one run after the other, in their row-group order."""
    return np.arange(k * n, dtype=np.int64).reshape(k, n).T.ravel()


def run_rows(k: int, position: int, n_rows: int) -> np.ndarray:
    """The rows, in the run's own order, of the run at ``position`` of a row group of ``k`` runs
    and ``n_rows`` rows in all."""
    return np.arange(position, n_rows, k, dtype=np.int64)


def run_places(runs: list[dict]) -> dict[tuple[int, int], tuple[int, int, int]]:
    """``(point, replication) -> (row_group, position, runs in its row group)`` of a batch file's
    runs as its metadata lists them (in file order)."""
    counts: dict[int, int] = {}
    places = {}
    for run in runs:
        g = int(run["row_group"])
        places[(int(run["point"]), int(run["replication"]))] = (g, counts.get(g, 0))
        counts[g] = counts.get(g, 0) + 1
    return {key: (g, j, counts[g]) for key, (g, j) in places.items()}
