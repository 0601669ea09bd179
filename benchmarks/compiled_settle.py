"""The settle step compiled (``simulation/abm/kernels.py``, numba) against numpy's path, the same bits.

    python benchmarks/compiled_settle.py              # bits checked, then settle and the year timed both ways
    python benchmarks/compiled_settle.py --repeats 3

Runs the 100k-firm scenario of ``bench.py`` (10 years) and 50 runs of the default scenario side by
side (15 years) on each path (``VALUECHAIN_KERNELS=numpy`` / ``numba``, read when the engine is
made), checks that every stage and fiscal frame and the firms' state at the end are the same bits,
and prints the CPU time of the settle phase and of the year, the fastest of ``--repeats`` runs each
way, alternating. The first line says how long numba took to compile the kernel or load it from
its cache.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench  # noqa: E402
from valuechain.simulation.abm import engine  # noqa: E402

STATE = ("capacity", "pending", "cash", "debt", "first_revenue_year", "loss_years", "alive")


def timed_years(make_model, years: int) -> tuple[float, float, object]:
    """CPU seconds of ``years`` steps and of their settle phase, and the model."""
    model = make_model()
    spent = [0.0]
    settle = model.engine.settle

    def timed(*args):
        t = time.process_time()
        out = settle(*args)
        spent[0] += time.process_time() - t
        return out
    model.engine.settle = timed
    t0 = time.process_time()
    for _ in range(years):
        model.step()
    return time.process_time() - t0, spent[0], model


def same_bits(a, b, runs: int) -> bool:
    if not all(np.array_equal(a.state.raw(n).view(np.uint8), b.state.raw(n).view(np.uint8)) for n in STATE):
        return False
    return all(getattr(a.recorder, f)(run).equals(getattr(b.recorder, f)(run))
               for run in range(runs) for f in ("stage_frame", "fiscal_frame"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    t = time.perf_counter()
    kernels = engine.compiled_kernels()
    if kernels is None:
        sys.exit("the compiled kernel is not in use here (numba missing, VALUECHAIN_KERNELS=numpy, or its sums "
                 "differ from this numpy's)")
    bench.ValueChainModel(bench.scenario_for(3_000, 1), rng=1).run()  # compiles the kernel, or loads numba's cache
    print(f"numba {kernels.numba.__version__}, numpy {np.__version__}: kernel ready in "
          f"{time.perf_counter() - t:.2f} s (wall; compiled, or loaded from numba's cache)")
    side_by_side = bench.load_scenario(bench.BASELINE, ["replications=1"])
    cases = {
        "100,000 firms, 10 years": (lambda: bench.ValueChainModel(bench.scenario_for(100_000, 10), rng=1), 10, 1),
        "50 runs of the default scenario side by side, 15 years": (
            lambda: bench.ValueChainModel(side_by_side, rngs=np.random.SeedSequence(1).spawn(50)),
            side_by_side.spec.horizon.years, 50),
    }
    for label, (make, years, runs) in cases.items():
        best = {"numpy": (np.inf, np.inf), "numba": (np.inf, np.inf)}
        models = {}
        for _ in range(args.repeats):
            for path in best:
                os.environ["VALUECHAIN_KERNELS"] = path
                total, settle, models[path] = timed_years(make, years)
                best[path] = min(best[path], (total, settle))
        same = same_bits(models["numpy"], models["numba"], runs)
        (t0, s0), (t1, s1) = best["numpy"], best["numba"]
        print(f"{label}: the same bits: {same}; fastest of {args.repeats}, CPU ms a year: "
              f"settle {s0 / years * 1e3:.2f} (numpy) -> {s1 / years * 1e3:.2f} (compiled), {s0 / s1:.2f}x; "
              f"year {t0 / years * 1e3:.2f} -> {t1 / years * 1e3:.2f}, {t0 / t1:.2f}x")


if __name__ == "__main__":
    main()
