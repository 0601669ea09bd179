"""Speed and memory of the engines: firm-steps per second and bytes per firm at 1k-1M firms.

    python benchmarks/bench.py            # full table (a few minutes), JSON in benchmarks/
    python benchmarks/bench.py --quick    # < 60 s; last line: firm_steps_per_s=... at 100k firms
    python benchmarks/bench.py --sweeps   # 1,000-run sweep batched vs one run at a time (and stop)
    python benchmarks/bench.py --profile  # a year at 100k firms, batched years (50 runs; 60 as a sweep task), a task
                                          # of 100 runs as a 1,000-run sweep's worker gets it
    python benchmarks/bench.py --profile --clock cpu   # (or --quick) in this process's CPU seconds, not wall
    python benchmarks/bench.py --sweeps --big-runs 100000   # + the large Sobol sweep: time, driver
                                          # memory, disk, and the Sobol analysis's memory
    python benchmarks/bench.py --sweeps --big-runs 1000 --big-analyses  # + every analysis's memory

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
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valuechain.simulation.abm.model import ValueChainModel  # noqa: E402
from valuechain.simulation.config.scenario import load_scenario  # noqa: E402
from valuechain.simulation.running.runner import run_scenario  # noqa: E402
from valuechain.simulation.running.store import versions  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"
CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCK["wall"]  # what --profile and --quick time (``--clock``)



@contextmanager
def timing_patches(phases: dict, spent: dict, clock=time.perf_counter):
    """Wrap each phase's function (``phases``: label -> (owner, attribute)) so that its time on
    ``clock`` (wall by default; ``time.process_time`` for CPU) adds up in ``spent[label]`` while
    the block runs."""
    from unittest import mock

    def timed(label, function):
        def wrapper(*args, **kwargs):
            t0 = clock()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + clock() - t0
        return wrapper

    with ExitStack() as patches:
        for label, (owner, name) in phases.items():
            patches.enter_context(mock.patch.object(owner, name, timed(label, getattr(owner, name))))
        yield


def fastest_timed(phases: dict, make_model, repeats: int) -> tuple[float, dict, int]:
    """Run a fresh model from ``make_model()`` ``repeats`` times with its phases timed
    (:func:`timing_patches`); the fastest run's total seconds, its seconds per phase and the minor
    page faults of its years (memory the process asked the system for afresh)."""
    import resource

    best = None
    for _ in range(repeats):
        spent = dict.fromkeys(phases, 0.0)
        with timing_patches(phases, spent, clock):
            m = make_model()
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0 = clock()
            m.run()
            total = clock() - t0
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        if best is None or total < best[0]:
            best = (total, spent, faults)
    return best


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
        t0 = clock()
        model = ValueChainModel(sc, rng=1, engine=engine)
        t1 = clock()
        steps = 0
        for _ in range(years):
            steps += int(model.state.alive.sum())
            model.step()
        t2 = clock()
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


def cpu_parts_s() -> dict:
    """CPU seconds so far of this process (``self``), of its finished children (``children``:
    spawned worker processes) and of its children still running with their own finished children
    (``live``: the fork server, which lives as long as this process, and the workers it forked)."""
    import resource

    import psutil  # comes with dask.distributed

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    live = 0.0
    for child in psutil.Process().children():
        try:
            t = child.cpu_times()
        except psutil.Error:  # ended meanwhile: then counted in ``children`` once reaped
            continue
        live += t.user + t.system + t.children_user + t.children_system
    return {"self": own.ru_utime + own.ru_stime, "children": children.ru_utime + children.ru_stime, "live": live}


def _cpu_s() -> float:
    """CPU seconds of this process and of all its children, finished or not (the sweep's worker
    processes and the fork server they come from): :func:`cpu_parts_s` summed."""
    return sum(cpu_parts_s().values())


def sweep_time(runs: int, workers: int, batch_size: int | None = None, cpu: bool = False,
               columns: str = "analysis") -> float | tuple:
    """Wall time of a sweep of ``runs`` runs of the default scenario (100-level grid of the power
    price x replications) on ``workers`` processes, written to a temporary store; ``batch_size``
    None: the automatic batch size, 1: one run per task and per file (the old behaviour). With
    ``cpu``: (wall s, CPU s of the driver and its workers, bytes a run on disk: the whole store's
    size over the runs), the CPU time being what a loaded shared machine does not distort."""
    import tempfile

    from valuechain.simulation.running.sweeps import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        sweep_file = Path(tmp) / "sweep.yaml"
        sweep_file.write_text(
            f"base: {BASELINE}\ndesign: grid\nreplications: {runs // 100}\n"
            "parameters:\n  policy.electricity_price.default: {low: 0.25, high: 0.45, levels: 100}\n")
        t0, c0 = time.perf_counter(), _cpu_s()
        summary = run_sweep(str(sweep_file), out=Path(tmp) / "out", workers=workers, progress=False,
                            batch_size=batch_size, columns=columns)
        elapsed, used = time.perf_counter() - t0, _cpu_s() - c0
        disk = sum(p.stat().st_size for p in (Path(tmp) / "out").rglob("*") if p.is_file())
    assert summary.n_failed == 0 and summary.n_ok == runs, summary
    return (elapsed, used, disk / runs) if cpu else elapsed


BIG_CHILD = """
import json, resource, sys, time
from pathlib import Path
from valuechain.simulation.running.sweeps import run_sweep
if __name__ == "__main__":
    t0 = time.perf_counter()
    s = run_sweep(sys.argv[1], out=sys.argv[2], workers=int(sys.argv[3]), progress=False, overwrite=True,
                  columns=sys.argv[4])
    print(json.dumps({"s": time.perf_counter() - t0, "runs": s.n_ok, "failed": s.n_failed, "batches": s.n_batches,
                      "batch_size": s.batch_size,
                      "driver_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

SOBOL_CHILD = """
import resource, sys, time
from valuechain.analysis import sensitivity
t0 = time.perf_counter()
idx = sensitivity(sys.argv[1], "value_added", n_boot=20)
print(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} {time.perf_counter() - t0:.1f}")
"""


def big_sweep(runs: int, workers: int, columns: str = "analysis", folder: Path | None = None,
              analyses: bool = False) -> dict:
    """A Sobol sweep of the default scenario's four levers (``scenarios/sweep_sobol_levers.yaml``
    with N and replications set so that N x 6 x R is about ``runs``), run in a fresh driver
    process (its peak RSS is the driver's memory; the workers are other processes), then its
    disk size and the peak RSS of ``analysis.sensitivity`` on it in another fresh process; with
    ``analyses``, that of every analysis (``benchmarks/sweep_analysis_memory.py``: compare and cost
    also on the sweep loaded whole, for comparison)."""
    import shutil
    import subprocess
    import tempfile

    n_base = 1 << max(0, (runs // (6 * 8)).bit_length() - 1)  # a power of two
    reps = max(1, round(runs / (6 * n_base)))
    tmp = Path(tempfile.mkdtemp(prefix="valuechain_big_", dir=folder))
    try:
        text = (ROOT / "scenarios" / "sweep_sobol_levers.yaml").read_text()
        text = text.replace("base: sweep_base_levers.yaml", f"base: {ROOT / 'scenarios' / 'sweep_base_levers.yaml'}")
        text = text.replace("samples: 64", f"samples: {n_base}").replace("replications: 4", f"replications: {reps}")
        (tmp / "big.yaml").write_text(text)
        proc = subprocess.run([sys.executable, "-c", BIG_CHILD, str(tmp / "big.yaml"), str(tmp / "out"),
                               str(workers), columns], capture_output=True, text=True, check=True, cwd=tmp)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        files = [p for p in (tmp / "out").rglob("*") if p.is_file()]
        row.update({"n_base": n_base, "replications": reps, "files": len(files), "columns": columns,
                    "disk_mb": sum(p.stat().st_size for p in files) / 1e6})
        row["bytes_per_run"] = row["disk_mb"] * 1e6 / row["runs"]
        proc = subprocess.run([sys.executable, "-c", SOBOL_CHILD, str(tmp / "out")], capture_output=True, text=True,
                              check=True)
        rss, seconds = proc.stdout.split()
        row.update({"sobol_peak_mb": float(rss), "sobol_s": float(seconds)})
        if analyses:  # every analysis of the sweep against a run of its base scenario with its seed
            from benchmarks.sweep_analysis_memory import analyses_memory

            base = ROOT / "scenarios" / "sweep_base_levers.yaml"
            subprocess.run([sys.executable, "-m", "valuechain", "run", str(base), "--out", str(tmp / "base"),
                            "--set", "seed=20160101", "--set", f"replications={reps}"],
                           capture_output=True, text=True, check=True)
            print(f"analyses of the {row['runs']:,}-run sweep, each in a fresh process:")
            row["analyses"] = analyses_memory(tmp / "out", tmp / "base", loaded=True)
        return row
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sweep_figures(workers: int, big_runs: int | None, big_columns: str = "analysis",
                  big_analyses: bool = False) -> dict:
    """The sweep figures of issue 17, side by side in one invocation."""
    # the batched sweep first: it pays the start of the workers' fork server (once per driver process)
    batched, batched_cpu, batched_bytes = sweep_time(1000, workers, cpu=True)
    single, single_cpu, single_bytes = sweep_time(1000, workers, batch_size=1, cpu=True)
    _, all_cpu, all_bytes = sweep_time(1000, workers, cpu=True, columns="all")
    out = {"sweep_1000_batched_s": batched, "sweep_1000_one_at_a_time_s": single, "ratio": single / batched,
           "sweep_1000_batched_cpu_s": batched_cpu, "sweep_1000_one_at_a_time_cpu_s": single_cpu,
           "sweep_1000_bytes_per_run": batched_bytes, "sweep_1000_one_at_a_time_bytes_per_run": single_bytes,
           "sweep_1000_all_columns_bytes_per_run": all_bytes, "sweep_1000_all_columns_cpu_s": all_cpu}
    print(f"1,000 runs of the default scenario on {workers} processes: batched {batched:.1f} s "
          f"({batched_cpu:.1f} CPU s), one run at a time {single:.1f} s ({single_cpu:.1f} CPU s), ratio "
          f"{single / batched:.2f}x wall, {single_cpu / batched_cpu:.2f}x CPU (targets: <= 2 s, >= 8x)")
    print(f"  on disk (default --columns analysis): {batched_bytes:,.0f} bytes a run batched, {single_bytes:,.0f} "
          f"one run a file; --columns all: {all_bytes:,.0f} bytes a run ({all_cpu:.1f} CPU s) "
          f"(target: <= 20,000 bytes a run, 2 GB per 100,000 runs)")
    if big_runs:
        big = big_sweep(big_runs, workers, big_columns, analyses=big_analyses)
        out["big_sweep"] = big
        print(f"{big['runs']:,} runs (Sobol N={big['n_base']} x 6 points x {big['replications']} replications) on "
              f"{workers} processes, --columns {big['columns']}: {big['s']:.0f} s, "
              f"driver peak {big['driver_peak_mb']:.0f} MB, "
              f"{big['disk_mb']:.0f} MB on disk in {big['files']} files ({big['bytes_per_run']:,.0f} bytes a run), "
              f"batch size {big['batch_size']}; Sobol analysis peak {big['sobol_peak_mb']:.0f} MB in "
              f"{big['sobol_s']:.0f} s (targets for 100,000 runs: <= 300 s, <= 500 MB, <= 2 GB, <= 1 GB)")
    return out


def profile(n_firms: int, years: int, repeats: int = 5) -> None:
    """Where a year's time goes: milliseconds per year in each phase of the vectorized engine's step,
    from the fastest of ``repeats`` runs (each phase timed by wrapping its function)."""

    from valuechain.simulation.abm import engine, model, recorder
    from valuechain.simulation.economy import coefficients, firm, markets

    kernels = engine.compiled_kernels()  # None: numpy's path (numba missing, or VALUECHAIN_KERNELS=numpy)
    phases = {  # label: (owner, attribute); nested phases are listed after the phase they are in
        "plan (which firms produce)": (engine.VectorEngine, "plan"),
        "markets": (markets, "solve"),
        "per-cell coefficients": (coefficients, "cell_coefficients"),
        "settle (firm-years, sums, state)": (engine.VectorEngine, "settle"),
        "  of which firm_year (numpy's path)": (firm, "firm_year"),
        **({"  of which the compiled kernel (settle_rows)": (kernels, "settle_rows")} if kernels else {}),
        "entry decisions (how many plants, where)": (model.ValueChainModel, "_entry_decisions"),
        "entry (placing the new plants)": (model.ValueChainModel, "_entry"),
        "ownership turnover": (model.ValueChainModel, "_turnover"),
        "variety prices (armington clearing)": (model.ValueChainModel, "_variety_factors"),
        "records": (recorder.Recorder, "record"),
        "arrivals (begin_year)": (engine.VectorEngine, "begin_year"),
    }
    sc = scenario_for(n_firms, years)
    total, spent, faults = fastest_timed(phases, lambda: ValueChainModel(sc, rng=1), repeats)
    print(f"{n_firms:,} firms, {years} years, fastest of {repeats} runs: {total / years * 1e3:.2f} ms a year, "
          f"{faults / years:,.0f} minor page faults a year")
    top = sum(v for label, v in spent.items() if not label.startswith(" "))
    for label, seconds in [*spent.items(), ("rest of the step (prices, policy, bookkeeping)", total - top)]:
        print(f"  {label:<48} {seconds / years * 1e3:6.2f} ms  {seconds / total:6.1%}")


def profile_batched_year(runs: int = 50, repeats: int = 3, points: int = 0) -> None:
    """Where a batched year's time goes (issue 17): ``runs`` replications of the default scenario
    side by side in one model (``points``: as a sweep task holds them, that many points of the power
    price x replications), milliseconds per year and per run-year in each phase, from the fastest
    of ``repeats`` batches (each phase timed by wrapping its function)."""
    import numpy as np
    from valuechain.simulation.abm import engine, model, recorder, state
    from valuechain.simulation.economy import coefficients, markets

    phases = {
        "streams (four a run and year)": (model, "year_generators"),
        "levers' terms (once for the batch)": (model.ValueChainModel, "_year_terms"),
        "variety prices (armington clearing)": (model.ValueChainModel, "_variety_factors"),
        "plan (which firms produce)": (engine.VectorEngine, "plan"),
        "markets (one pass over the stages)": (markets, "solve"),
        "per-cell coefficients": (coefficients, "cell_coefficients"),
        "settle (firm-years, sums, state)": (engine.VectorEngine, "settle"),
        "entry decisions": (model.ValueChainModel, "_entry_decisions"),
        "entry (placing the new plants)": (model.ValueChainModel, "_entry"),
        "  of which layout rebuilds (FirmState._rebuild)*": (state.FirmState, "_rebuild"),
        "ownership turnover": (model.ValueChainModel, "_turnover"),
        "records": (recorder.Recorder, "record"),
        "arrivals (begin_year)": (engine.VectorEngine, "begin_year"),
    }
    sc = load_scenario(BASELINE, ["replications=1"])
    years = sc.spec.horizon.years
    seeds, scenarios, what = np.random.SeedSequence(1).spawn(runs), None, "replications"
    if points:  # the composition of a sweep task (``profile_sweep_run``)
        per_point = runs // points
        at = [load_scenario(BASELINE, ["replications=1", f"policy.electricity_price.default={0.25 + 0.04 * p}"])
              for p in range(points)]
        scenarios = [at[p] for p in range(points) for _ in range(per_point)]
        seeds = [seeds[r] for _ in range(points) for r in range(per_point)]
        what = f"{points} points of the power price x {per_point} replications"
    total, spent, faults = fastest_timed(phases, lambda: ValueChainModel(sc if scenarios is None else scenarios[0],
                                                                 rngs=seeds, scenarios=scenarios), repeats)
    print(f"default scenario, {runs} runs side by side ({what}), {years} years, fastest of {repeats}: "
          f"{total / years * 1e3:.1f} ms a year, {total / years / runs * 1e3:.3f} ms a run-year, "
          f"{faults / years:,.0f} minor page faults a year (* also the first layout, at construction)")
    top = sum(v for label, v in spent.items() if not label.startswith(" "))
    for label, seconds in [*spent.items(), ("rest of the step (prices, stacking, bookkeeping)", total - top)]:
        print(f"  {label:<52} {seconds / years * 1e3:7.2f} ms {seconds / years / runs * 1e3:7.3f} ms/run "
              f"{seconds / total:6.1%}")


def profile_sweep_run(runs: int = 100) -> None:
    """Where a sweep run's time goes (issue 17): one task of ``runs`` runs of the default
    scenario (``runs // 10`` points of the power price x ten replications, side by side in batched
    models: 100, the automatic batch of a 1,000-run sweep on 2 workers, two models of 50) in this
    process set up as a pool worker is (``executors.small_pages``), each phase timed by wrapping
    its function."""

    import resource

    import numpy as np
    from valuechain.simulation.abm import model, recorder
    from valuechain.simulation.running import executors, runner, sweeps

    executors.small_pages()  # as the local pool's workers (executors._init_worker)

    phases = {
        "batched models (runner.run_batch)": (runner, "run_batch"),
        "  of which model years (ValueChainModel.step)": (model.ValueChainModel, "step"),
        "Arrow tables from the recorders (recorded_run_tables)": (sweeps, "recorded_run_tables"),
        "  of which stage accounts (Recorder.accounts_all)": (recorder.Recorder, "accounts_all"),
        "the batch's Parquet file + checksums (batch_bytes)": (sweeps, "batch_bytes"),
    }
    points = {p: load_scenario(BASELINE, ["replications=1", f"policy.electricity_price.default={0.25 + 0.04 * p}"])
              for p in range(runs // 10)}
    seeds = np.random.SeedSequence(1).spawn(10)
    for columns in ("analysis", "all"):
        task = sweeps.BatchTask(tuple((p, r, seeds[r], {"point": p, "replication": r}) for p in points
                                      for r in range(10)), points, "vectorized", sweeps.resolve_columns(columns))
        sweeps.execute_batch(sweeps.BatchTask(task.runs[:2], task.scenarios, task.engine, task.columns))  # warm up
        for again in (False, True) if columns == "analysis" else (False,):  # again: memory already the process's
            spent = dict.fromkeys(phases, 0.0)
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            with timing_patches(phases, spent, clock):
                t0 = clock()
                records, data = sweeps.execute_batch(task)
                total = clock() - t0
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
            n = len(task.runs)
            print(f"default scenario, one task of {n} runs ({len(points)} points x 10 replications) in one process "
                  "set up as a pool worker"
                  f"{', the same task again' if again else ''}, --columns {columns}: {total / n * 1e3:.1f} ms a run, "
                  f"{len(data) / n:,.0f} bytes a run on disk, {faults / n:,.0f} minor page faults a run")
            top = sum(v for label, v in spent.items() if not label.startswith(" "))
            for label, seconds in [*spent.items(), ("rest (grouping, records)", total - top)]:
                print(f"  {label:<56} {seconds / n * 1e3:6.2f} ms  {seconds / total:6.1%}")


def machine() -> dict:
    return {**versions(), "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100k firms only; finishes within 60 s")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    ap.add_argument("--profile", action="store_true", help="profile the vectorized engine at 100k firms and stop")
    ap.add_argument("--sweeps", action="store_true", help="only the sweep figures: 1,000 runs batched vs one at a "
                    "time (and --big-runs)")
    ap.add_argument("--big-runs", type=int, default=0, help="with --sweeps: also a Sobol sweep of about this many "
                    "runs (e.g. 100000): time, driver memory, disk size, Sobol analysis memory")
    ap.add_argument("--big-columns", default="analysis", help="--columns of the large sweep (default analysis)")
    ap.add_argument("--big-analyses", action="store_true", help="with --big-runs: the peak memory of every "
                    "analysis (sensitivity, outcomes, frontier, compare, cost; compare and cost also loaded whole)")
    ap.add_argument("--clock", choices=sorted(CLOCK), default="wall",
                    help="what --profile and --quick time: wall seconds (default) or this process's CPU seconds "
                         "(on a shared machine other programs inflate wall time far more than CPU time)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for the sweeps")
    args = ap.parse_args()
    global clock
    clock = CLOCK[args.clock]
    if args.profile:
        print(f"clock: {args.clock} seconds")
        profile(100_000, 10)
        profile_batched_year()
        profile_batched_year(60, points=6)
        profile_sweep_run()
        return
    if args.sweeps:
        result = {"machine": machine(), **sweep_figures(args.workers, args.big_runs or None, args.big_columns,
                                                         args.big_analyses)}
        Path(args.out).with_name("sweeps.json").write_text(json.dumps(result, indent=2))
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
    print(f"machine: {machine()}, clock: {args.clock} seconds")
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
        print(f"default scenario, one run: {result['default_scenario_s']:.3f} s (median of 5, after import)")
        result.update(sweep_figures(args.workers, None))
        result["sweep_1000_runs_s"] = result["sweep_1000_batched_s"]
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"written: {args.out}")
    print(f"firm_steps_per_s={at['vectorized']['firm_steps_per_s']:.0f} speedup_vs_reference={speedup:.0f} "
          f"bytes_per_firm={at['vectorized']['bytes_per_firm']:.0f}")


if __name__ == "__main__":
    main()
