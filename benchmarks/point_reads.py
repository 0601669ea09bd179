"""Reading a sweep one point at a time (``analysis.sweep_runs.SweepRuns``, what ``compare``, ``cost``
and the paths/effects plots on a sweep do), with and without the cache of the last decoded row
group (``analysis.sweep.LastRowGroup``).

A batch file keeps up to ``store_layout.RUNS_PER_GROUP`` (100) runs in a row group, so the runs of
consecutive points share row groups: without the cache each point decodes its row groups anew.
The script runs a real sweep of the default scenario (``--points`` levels of the power price x
``--replications``), then reads every point in order with each reader, ``--repeats`` times, and
prints the fastest pass per point (wall and CPU milliseconds) and the row groups decoded.

    python benchmarks/point_reads.py                 # 20 points x 10 replications (200 runs)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valuechain.analysis.sweep_runs import SweepRuns  # noqa: E402
from valuechain.simulation.running.sweeps import run_sweep  # noqa: E402


def read_every_point(directory: Path, cached: bool) -> tuple[float, float, int]:
    """Wall and CPU seconds of reading every point in order with a fresh reader, and the row groups
    it decoded (None without the cache)."""
    runs = SweepRuns(directory)
    if not cached:
        runs._cache = None
    t0, c0 = time.perf_counter(), time.process_time()
    for label in runs:
        point = runs[label]
        assert len(point.stages)
    return time.perf_counter() - t0, time.process_time() - c0, runs._cache.decoded if cached else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "sweep.yaml"
        sweep.write_text(f"base: {ROOT / 'scenarios' / 'baseline.yaml'}\ndesign: grid\n"
                         f"replications: {args.replications}\nparameters:\n"
                         f"  policy.electricity_price.default: {{low: 0.25, high: 0.45, levels: {args.points}}}\n")
        run_sweep(str(sweep), out=Path(tmp) / "out", workers=1, progress=False)
        out = Path(tmp) / "out"
        read_every_point(out, True)  # warm up
        for cached in (False, True, False, True):  # alternately (the machine may be shared)
            best = min((read_every_point(out, cached) for _ in range(args.repeats)), key=lambda r: r[1])
            wall, cpu, decoded = best
            print(f"{args.points} points x {args.replications} replications, {'cached  ' if cached else 'uncached'}: "
                  f"{wall / args.points * 1e3:.1f} ms a point wall, {cpu / args.points * 1e3:.1f} ms CPU"
                  + (f" ({decoded} row groups decoded)" if cached else ""))


if __name__ == "__main__":
    main()
