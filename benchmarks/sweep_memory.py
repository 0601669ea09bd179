"""Peak memory of the sweep driver as the number of runs grows.

The driver must not keep run results: it streams each run to disk and drops it, so its peak
resident memory should be (nearly) flat in the number of runs. For each N this script writes a
Latin-hypercube sweep of N runs (N / replications points) of the tiny test scenario (or the
default ``baseline`` scenario), runs it with ``simulation.run_sweep`` in a fresh subprocess and
reports that process's peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``: the driver only;
the pool's workers are separate processes and not counted), also right after the imports.

    python benchmarks/sweep_memory.py 200 2000 --workers 2            # tiny scenario
    python benchmarks/sweep_memory.py 200 --scenario default --workers 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASES = {"tiny": ROOT / "tests" / "data" / "tiny.yaml", "default": ROOT / "scenarios" / "baseline.yaml"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def sweep_text(base: Path, runs: int, replications: int) -> str:
    points = max(1, runs // replications)
    return f"""name: memory_{runs}
base: {base}
design: lhs
parameters:
  policy.electricity_price.default: {{low: 0.25, high: 0.45}}
  firms.entry_dispersion_q: {{low: 0.05, high: 0.8, log: true}}
samples: {points}
replications: {replications}
seed: 1
"""


def child(sweep: str, out: str, workers: int) -> None:
    """The measured driver: import, run the sweep, print one JSON line."""
    from valuechain.simulation import run_sweep

    after_import = peak_rss_mb()
    t0 = time.perf_counter()
    summary = run_sweep(sweep, out=out, workers=workers, progress=False)
    print(json.dumps({"runs": summary.n_runs, "ok": summary.n_ok, "failed": summary.n_failed,
                      "seconds": round(time.perf_counter() - t0, 1), "rss_after_import_mb": round(after_import, 1),
                      "peak_rss_mb": round(peak_rss_mb(), 1)}))


def measure(runs: int, scenario: str, workers: int, replications: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "sweep.yaml"
        sweep.write_text(sweep_text(BASES[scenario], runs, replications))
        cmd = [sys.executable, __file__, "--child", str(sweep), str(Path(tmp) / "out"), str(workers)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", type=int, nargs="*", default=[200, 2000], help="runs per sweep (default 200 2000)")
    p.add_argument("--scenario", choices=sorted(BASES), default="tiny")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--replications", type=int, default=2)
    p.add_argument("--child", nargs=3, metavar=("SWEEP", "OUT", "WORKERS"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    print(f"scenario {args.scenario}, {args.workers} workers, {args.replications} replications per point")
    print(f"{'runs':>6} {'ok':>6} {'seconds':>8} {'RSS after import MB':>20} {'driver peak RSS MB':>19}")
    for n in args.runs:
        r = measure(n, args.scenario, args.workers, args.replications)
        print(f"{r['runs']:>6} {r['ok']:>6} {r['seconds']:>8} {r['rss_after_import_mb']:>20} {r['peak_rss_mb']:>19}")


if __name__ == "__main__":
    main()
