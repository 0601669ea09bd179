"""Speed and memory of the engines: firm-steps per second and bytes per firm at 1k-1M firms.

    python benchmarks/bench.py            # full table (a few minutes), JSON in benchmarks/
    python benchmarks/bench.py --quick    # < 60 s; last line: firm_steps_per_s=... at 100k firms

A firm-step is one firm's yearly update (counted over living firms); firm-steps per second is
the fastest of several runs on fresh models (the median is printed beside it). Populations are the
default scenario with ``firms.scale`` set so that the region starts with the given number of
firms. Memory per firm is the peak of memory allocated while building and running the model
(``tracemalloc``, which sees numpy's buffers), divided by the number of firms at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valuechain.simulation.abm.model import ValueChainModel  # noqa: E402
from valuechain.simulation.config.scenario import load_scenario  # noqa: E402
from valuechain.simulation.running.runner import run_scenario  # noqa: E402
from valuechain.simulation.running.store import versions  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"


def scenario_for(n_firms: int, years: int):
    base = load_scenario(BASELINE)
    scale = n_firms / int(base.chain.initial_firms.sum())
    firms = base.spec.firms.model_copy(update={"scale": scale})
    return base.with_overrides(firms=firms, horizon=base.spec.horizon.model_copy(update={"years": years}),
                               replications=1)


def firm_steps_per_second(engine: str, n_firms: int, years: int, repeats: int = 1) -> dict:
    """Time ``years`` steps (model construction timed apart), ``repeats`` times on fresh models.

    The figure is the fastest run, as ``timeit`` reports it: other programs on a shared machine
    only ever slow a run down. The median run is kept beside it.
    """
    sc = scenario_for(n_firms, years)
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = ValueChainModel(sc, rng=1, engine=engine)
        t1 = time.perf_counter()
        steps = 0
        for _ in range(years):
            steps += int(model.state.alive.sum())
            model.step()
        t2 = time.perf_counter()
        runs.append({"build_s": t1 - t0, "run_s": t2 - t1, "firm_steps_per_s": steps / (t2 - t1)})
    best = max(runs, key=lambda r: r["firm_steps_per_s"])
    return {"engine": engine, "firms": int(model.state.alive.sum()), "start_firms": n_firms, "years": years,
            "firm_steps": steps, **best, "repeats": repeats,
            "median_firm_steps_per_s": statistics.median(r["firm_steps_per_s"] for r in runs)}


def bytes_per_firm(engine: str, n_firms: int, years: int) -> float:
    sc = scenario_for(n_firms, years)
    tracemalloc.start()
    model = ValueChainModel(sc, rng=1, engine=engine)
    start_firms = int(model.state.alive.sum())
    model.run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / start_firms


def default_wall_time(repeats: int = 5) -> float:
    sc = load_scenario(BASELINE, ["replications=1"])
    run_scenario(sc)  # warm up imports and caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run_scenario(sc)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sweep_time(runs: int, workers: int) -> float:
    """Wall time of a sweep of ``runs`` runs of the default scenario (100-level grid of the power
    price x replications) on ``workers`` processes, written to a temporary store."""
    import tempfile

    from valuechain.simulation.running.sweeps import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        sweep_file = Path(tmp) / "sweep.yaml"
        sweep_file.write_text(
            f"base: {BASELINE}\ndesign: grid\nreplications: {runs // 100}\n"
            "parameters:\n  policy.electricity_price.default: {low: 0.25, high: 0.45, levels: 100}\n")
        t0 = time.perf_counter()
        summary = run_sweep(str(sweep_file), out=Path(tmp) / "out", workers=workers, progress=False)
        elapsed = time.perf_counter() - t0
    assert summary.n_failed == 0 and summary.n_ok == runs, summary
    return elapsed


def profile(n_firms: int, years: int, repeats: int = 5) -> None:
    """Where a year's time goes: milliseconds per year in each phase of the vectorized engine's step,
    from the fastest of ``repeats`` runs (each phase timed by wrapping its function)."""
    from contextlib import ExitStack
    from unittest import mock

    from valuechain.simulation.abm import engine, model, recorder
    from valuechain.simulation.economy import coefficients, firm, markets

    phases = {  # label: (owner, attribute); nested phases are listed after the phase they are in
        "plan (which firms produce)": (engine.VectorEngine, "plan"),
        "markets": (markets, "solve"),
        "per-cell coefficients": (coefficients, "cell_coefficients"),
        "settle (firm-years, sums, state)": (engine.VectorEngine, "settle"),
        "  of which firm_year": (firm, "firm_year"),
        "entry decisions (how many plants, where)": (model.ValueChainModel, "_entry_decisions"),
        "entry (placing the new plants)": (model.ValueChainModel, "_entry"),
        "records": (recorder.Recorder, "record"),
        "arrivals (begin_year)": (engine.VectorEngine, "begin_year"),
    }
    sc = scenario_for(n_firms, years)
    best = None
    for _ in range(repeats):
        spent = dict.fromkeys(phases, 0.0)

        def timed(label, function, spent=spent):
            def wrapper(*args, **kwargs):
                t0 = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    spent[label] += time.perf_counter() - t0
            return wrapper

        with ExitStack() as patches:
            for label, (owner, name) in phases.items():
                patches.enter_context(mock.patch.object(owner, name, timed(label, getattr(owner, name))))
            m = ValueChainModel(sc, rng=1)
            t0 = time.perf_counter()
            m.run()
            total = time.perf_counter() - t0
        if best is None or total < best[0]:
            best = (total, spent)
    total, spent = best
    print(f"{n_firms:,} firms, {years} years, fastest of {repeats} runs: {total / years * 1e3:.2f} ms a year")
    top = sum(v for label, v in spent.items() if not label.startswith(" "))
    for label, seconds in [*spent.items(), ("rest of the step (prices, policy, bookkeeping)", total - top)]:
        print(f"  {label:<48} {seconds / years * 1e3:6.2f} ms  {seconds / total:6.1%}")


def machine() -> dict:
    return {**versions(), "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100k firms only; finishes within 60 s")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    ap.add_argument("--profile", action="store_true", help="profile the vectorized engine at 100k firms and stop")
    args = ap.parse_args()
    if args.profile:
        profile(100_000, 10)
        return
    rows = []
    if args.quick:
        vec = firm_steps_per_second("vectorized", 100_000, 10, repeats=5)
        ref = firm_steps_per_second("reference", 100_000, 1)
        rows = [vec, ref]
        mem = bytes_per_firm("vectorized", 100_000, 5)
        vec["bytes_per_firm"] = mem
    else:
        for n in (1_000, 10_000, 100_000, 1_000_000):
            vec = firm_steps_per_second("vectorized", n, 15, repeats=5 if n <= 100_000 else 3)
            vec["bytes_per_firm"] = bytes_per_firm("vectorized", n, 15)
            rows.append(vec)
            if n <= 100_000:  # the reference engine at 1M firms would take hours
                years = 15 if n <= 10_000 else 2
                ref = firm_steps_per_second("reference", n, years)
                if n <= 10_000:
                    ref["bytes_per_firm"] = bytes_per_firm("reference", n, 3)
                rows.append(ref)
    print(f"machine: {machine()}")
    print(f"{'engine':<11} {'firms':>9} {'years':>5} {'firm-steps/s':>14} {'median':>14} {'runs':>4} "
          f"{'build s':>8} {'bytes/firm':>10}")
    for r in rows:
        mem = f"{r['bytes_per_firm']:.0f}" if "bytes_per_firm" in r else "-"
        print(f"{r['engine']:<11} {r['start_firms']:>9,} {r['years']:>5} {r['firm_steps_per_s']:>14,.0f} "
              f"{r['median_firm_steps_per_s']:>14,.0f} {r['repeats']:>4} {r['build_s']:>8.3f} {mem:>10}")
    result = {"machine": machine(), "rows": rows}
    at = {r["engine"]: r for r in rows if r["start_firms"] == 100_000}
    speedup = at["vectorized"]["firm_steps_per_s"] / at["reference"]["firm_steps_per_s"]
    if not args.quick:
        result["default_scenario_s"] = default_wall_time()
        result["sweep_1000_runs_s"] = sweep_time(1000, os.cpu_count() or 1)
        print(f"default scenario, one run: {result['default_scenario_s']:.3f} s (median of 5, after import)")
        print(f"1,000 runs of the default scenario on {os.cpu_count()} processes: {result['sweep_1000_runs_s']:.1f} s")
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"written: {args.out}")
    print(f"firm_steps_per_s={at['vectorized']['firm_steps_per_s']:.0f} speedup_vs_reference={speedup:.0f} "
          f"bytes_per_firm={at['vectorized']['bytes_per_firm']:.0f}")


if __name__ == "__main__":
    main()
