"""Peak memory of analysing a large sweep: Sobol indices from the run files, streamed.

Running 30,000 model runs takes hours, so this script *synthesises* a sweep folder of the right
shape instead: it runs one real run of the default chain (``scenarios/sweep_base_levers.yaml``,
15 years, every stage and lever: 2,625 rows, the default kept columns), then writes the runs
built from it as batch files of 200 runs (the store's layout: one row group per run, per-run and
per-file SHA-256 in the index; the Saltelli design of SALib for four levers, N base samples
x (4 + 2) points x R replications; each file's outcome columns scaled by a smooth function of
the point's parameters plus replication noise, so the indices are well defined), with the
``runs.parquet``, ``points.parquet`` and ``manifest.json`` a real sweep has. It then computes
``analysis.sensitivity(folder, "value_added")`` in a fresh process and reports that process's
peak resident memory (``ru_maxrss``), and, for comparison, the same with the whole sweep loaded
first (``load_sweep``, what the analysis did before it streamed) on a smaller folder.

    python benchmarks/sweep_analysis_memory.py                       # 30,720 runs (N=1024, R=5)
    python benchmarks/sweep_analysis_memory.py --n-base 64 --replications 4 --compare-loaded
    python benchmarks/sweep_analysis_memory.py --sweep DIR --baseline RUN_DIR [--compare-loaded]

With ``--sweep`` it measures every analysis a sweep feeds (``ANALYSES``: sensitivity, the heatmap's
outcomes, the frontier, compare and cost, the last two reading one point at a time; with
``--compare-loaded`` also compare and cost on the sweep loaded whole) on a real sweep, each in a
fresh process (``python benchmarks/bench.py --sweeps --big-runs N`` does it on its Sobol sweep).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["policy.electricity_price.default", "policy.freight_subsidy.rules.0.yuan_per_t",
         "policy.tax.default_rate", "policy.interest_subsidy.rules.0.fixed_asset_points"]
BOUNDS = [[0.25, 0.45], [0.0, 1500.0], [0.10, 0.25], [0.0, 4.0]]
SCALED = ("value_added", "investment", "employment", "fiscal_cost", "output", "sales")


def template() -> tuple[pa.Table, dict]:
    """One real run of the default chain (its row group) and the batch file's ``columns``."""
    from valuechain.simulation import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "one.yaml"
        sweep.write_text(f"name: one\nbase: {ROOT / 'scenarios' / 'sweep_base_levers.yaml'}\ndesign: grid\n"
                         "replications: 1\nparameters:\n  policy.electricity_price.default: [0.4]\n")
        run_sweep(sweep, out=Path(tmp) / "out", workers=1, progress=False)
        path = Path(tmp) / "out" / "runs" / "b000000.parquet"
        meta = json.loads(pq.read_schema(path).metadata[b"valuechain.batch"])
        return pq.ParquetFile(path).read_row_group(0).replace_schema_metadata(None), meta["columns"]


def synthesise(out: Path, n_base: int, reps: int) -> int:
    """Write a sobol sweep folder of ``n_base * (D + 2) * reps`` runs; returns the number of runs."""
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": len(NAMES), "names": NAMES, "bounds": BOUNDS}
    X = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=1)
    from valuechain.simulation.running.sweeps import STORE_VERSION, batch_bytes, sha256_bytes

    t, columns = template()
    (out / "runs").mkdir(parents=True)
    cols = {name: t[name] for name in t.column_names}
    unit = (X - np.array(BOUNDS)[:, 0]) / np.ptp(np.array(BOUNDS), axis=1)
    rng = np.random.default_rng(0)
    rows, pending = [], []

    def flush() -> None:
        name = f"runs/b{len({r['file'] for r in rows}):06d}.parquet"
        data, places = batch_bytes(pending, columns)
        (out / name).write_bytes(data)
        file_sha = sha256_bytes(data)
        for (info, _), place in zip(pending, places):
            rows.append({"point": info["point"], "replication": info["replication"], "file": name, "status": "ok",
                         "error": None, "seed": 1, "duration_s": 0.0, **place, "file_sha256": file_sha})
        pending.clear()

    for p, u in enumerate(unit):
        effect = 1.0 + 0.3 * (1 - u[0]) + 0.1 * u[1] ** 2 + 0.05 * u[2] * u[3]
        for r in range(reps):
            f = effect * (1.0 + 0.02 * rng.standard_normal())
            arrays = dict(cols)
            for c in SCALED:
                if c in cols:
                    arrays[c] = pa.compute.multiply(cols[c].cast(pa.float64()), f)
            arrays["point"] = pa.array(np.full(t.num_rows, p, np.int64))
            arrays["replication"] = pa.array(np.full(t.num_rows, r, np.int64))
            pending.append(({"point": p, "replication": r, "status": "ok"}, pa.table(arrays)))
            if len(pending) == 200:
                flush()
    if pending:
        flush()
    pd.DataFrame(rows).to_parquet(out / "runs.parquet", index=False)
    points = pd.DataFrame({"point": np.arange(len(X)), "name": [None] * len(X), "overrides": ["{}"] * len(X)})
    for j, name in enumerate(NAMES):
        points[name] = X[:, j]
    points.to_parquet(out / "points.parquet", index=False)
    manifest = {"kind": "valuechain sweep", "name": "synthetic_sobol", "design": "sobol", "parameters": NAMES,
                "design_info": {"problem": problem, "N": n_base}, "replications": reps, "n_points": len(X),
                "base_scenario": {}, "status": "complete", "runs": len(rows), "ok": len(rows), "failed": 0,
                "store_version": STORE_VERSION, "columns": columns["stages"]}
    (out / "manifest.json").write_text(json.dumps(manifest))
    return len(rows)


ANALYSES = {  # name: the call, in a fresh process, on a real sweep folder d and a baseline run folder b
    "sensitivity": "sensitivity(d, 'value_added', n_boot=20)",
    "heatmap outcomes": "sweep_outcomes(d, 'value_added')",
    "frontier": "sweep_cost_value_points(d, b)",
    "compare": "compare_many(load_many(d), b)",
    "cost": "cost_report(load_many(d), b)",
    "compare, loaded": "compare_many(runs_from_sweep(load_sweep(d)), b)",
    "cost, loaded": "cost_report(runs_from_sweep(load_sweep(d)), b)",
}
ANALYSIS_CHILD = """
import resource, sys, time
from valuechain.analysis import (compare_many, cost_report, load_many, load_sweep, runs_from_sweep, sensitivity,
                                 sweep_outcomes)
from valuechain.analysis.sweep_frontier import sweep_cost_value_points
d, b = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
eval(sys.argv[3])
print(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} {time.perf_counter() - t0:.1f}")
"""


def analyses_memory(folder: Path, baseline: Path, loaded: bool = False) -> dict[str, tuple[float, float]]:
    """Peak RSS (MB) and seconds of each analysis (:data:`ANALYSES`; the ``loaded`` ones, which read the
    whole sweep first, only with ``loaded``) on a real sweep and its baseline, each in a fresh process."""
    out = {}
    for name, call in ANALYSES.items():
        if name.endswith("loaded") and not loaded:
            continue
        proc = subprocess.run([sys.executable, "-c", ANALYSIS_CHILD, str(folder), str(baseline), call],
                              capture_output=True, text=True, check=True)
        rss, seconds = proc.stdout.split()[-2:]
        out[name] = (float(rss), float(seconds))
        print(f"  {name:<18} peak RSS {float(rss):7,.0f} MB  {float(seconds):6.1f} s   {call}")
    return out


CHILD = """
import resource, sys, time
from valuechain.analysis import load_sweep, sensitivity
d, mode = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
idx = sensitivity(load_sweep(d) if mode == "loaded" else d, "value_added", n_boot=20)
dt = time.perf_counter() - t0
print(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} {dt:.1f} "
      + " ".join(f"{v:.3f}" for v in idx["ST"]))
"""


def measure(folder: Path, mode: str) -> tuple[float, float, str]:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(folder), mode], capture_output=True, text=True,
                          check=True)
    rss, seconds, *st = proc.stdout.split()
    return float(rss), float(seconds), " ".join(st)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-base", type=int, default=1024, help="Sobol base samples N (default 1024: 30,720 runs at R=5)")
    p.add_argument("--replications", type=int, default=5)
    p.add_argument("--compare-loaded", action="store_true", help="also measure load_sweep + sensitivity")
    p.add_argument("--dir", type=Path, help="where to write the synthetic sweep (default: a temporary folder)")
    p.add_argument("--sweep", type=Path, help="instead: measure every analysis (sensitivity, outcomes, frontier, "
                   "compare, cost) on this real sweep folder, against --baseline")
    p.add_argument("--baseline", type=Path, help="with --sweep: a run of the sweep's base scenario with its seed")
    args = p.parse_args()
    if args.sweep:
        analyses_memory(args.sweep, args.baseline, loaded=args.compare_loaded)
        return
    folder = args.dir or Path(tempfile.mkdtemp(prefix="valuechain_memory_"))
    try:
        t0 = time.perf_counter()
        n = synthesise(folder / "sweep", args.n_base, args.replications)
        size = sum(f.stat().st_size for f in (folder / "sweep" / "runs").iterdir()) / 1e9
        print(f"synthesised {n:,} runs in batch files ({size:.2f} GB) in {time.perf_counter() - t0:.0f} s")
        rss, sec, st = measure(folder / "sweep", "streamed")
        print(f"streamed: sensitivity(folder) peak RSS {rss:,.0f} MB, {sec:.0f} s; ST = {st}")
        if args.compare_loaded:
            rss, sec, st = measure(folder / "sweep", "loaded")
            print(f"loaded:   sensitivity(load_sweep(folder)) peak RSS {rss:,.0f} MB, {sec:.0f} s; ST = {st}")
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
