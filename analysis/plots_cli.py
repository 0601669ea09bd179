"""``valuechain plot RESULTS_DIR --kind KIND --out FILE``: which data each kind of figure reads.

=========  ==============================================================  ==================
kind       RESULTS_DIR                                                     needs
=========  ==============================================================  ==================
paths      a results directory, a folder of them, or a sweep               (--baseline, --difference)
effects    a results directory (by --by, default sector), or a folder      --baseline
           of them / a sweep (one row per scenario or point)
frontier   a folder of results directories or a sweep (one point each)     (--baseline)
heatmap    a sweep; --x and --y name two different varied keys (default: the first two; one given: the first other)
sobol      a sweep with design sobol or morris
chain      a results directory                                             --baseline
=========  ==============================================================  ==================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..plot_options import check_plot_args
from ..simulation.config.errors import InputError


def _horizon(args: Any) -> dict:
    return {"year": args.year, "pv": args.pv}  # the command line takes one of --year, --cumulative and --pv


def _where(args: Any) -> dict:
    return {c: getattr(args, c, None) for c in ("sector", "tier", "stage") if getattr(args, c, None)}


def _sweep(directory: str):
    from .compare import is_sweep
    from .sensitivity import _load

    if not is_sweep(directory):
        raise InputError(directory, "", "not a sweep directory (written by valuechain sweep); --kind heatmap and "
                         "sobol read a sweep")
    return _load(directory)


def _without_baseline(runs: dict, args: Any) -> tuple[dict, Any]:
    """Drop the baseline's own directory from a folder of results (it is drawn as the baseline);
    returns the runs and the baseline (the run already read, else ``args.baseline``, or None)."""
    if not args.baseline:
        return runs, None
    if not isinstance(runs, dict):  # a sweep's points (read one at a time): none is the baseline
        return runs, args.baseline
    base = Path(args.baseline).resolve()
    inside = [k for k, v in runs.items() if Path(v.source).resolve() == base]
    if not inside or len(inside) == len(runs):
        return runs, args.baseline
    return {k: v for k, v in runs.items() if k not in inside}, runs[inside[0]]


def plot_command(args: Any) -> int:
    """Draw the figure ``args.kind`` from ``args.results`` and write it to ``args.out``."""
    from . import plots, plots_chain
    from .compare import Subsets, as_run, compare, compare_many, is_sweep, load_many, subset
    from .cost import cost_value_points
    from .folders import say_skipped
    from .sensitivity import sensitivity, sweep_outcomes
    from .style import close
    from .sweep_frontier import sweep_cost_value_points

    out = check_plot_args(args)  # before any work (the CLI checks them before importing this module, too)
    hz = _horizon(args)
    metric = args.metric
    where = _where(args)
    paired = not args.unpaired
    again = lambda sub: (f"valuechain plot {sub} --kind {args.kind}"  # noqa: E731  (SUB as RESULTS_DIR)
                         + (f" --baseline {args.baseline}" if args.baseline else "") + f" --out FILE{out.suffix}")
    if args.kind == "paths":
        runs, baseline = _without_baseline(load_many(args.results, again), args)
        fig = plots.plot_paths(runs, metric, baseline=baseline, difference=args.difference, where=where,
                               paired=paired)
    elif args.kind == "effects":
        runs, baseline = _without_baseline(load_many(args.results, again), args)
        runs = Subsets(runs, **where)  # read (a sweep's points) and restricted one at a time
        baseline = subset(baseline, **where)
        if len(runs) == 1:
            table = compare(next(iter(runs.values())), baseline, metric, args.by or "sector", paired=paired, **hz)
        else:
            table = compare_many(runs, baseline, metric, args.by, paired=paired, **hz)
        fig = plots.plot_effects(table)
    elif args.kind == "frontier":
        if is_sweep(args.results):
            points = sweep_cost_value_points(args.results, as_run(args.baseline) if args.baseline else None,
                                             value=metric, **hz)
        else:
            runs, baseline = _without_baseline(load_many(args.results, again), args)
            if len(runs) < 2:
                raise InputError(args.results, "", "a frontier needs several scenarios: give a folder of results "
                                 "directories or a sweep")
            points = cost_value_points(runs, baseline, value=metric, **hz)
        fig = plots.plot_frontier(points, metric)
    elif args.kind == "heatmap":
        sw = _sweep(args.results)
        keys = list(sw.parameters)
        x = args.x or next((k for k in keys if k != args.y), None)  # the first varied key the other is not
        y = args.y or next((k for k in keys if k != x), None)
        if x is None or y is None:
            raise InputError(args.results, "parameters", "a heatmap needs a sweep over two parameters (or --x/--y)")
        for flag, key in (("--x", x), ("--y", y)):
            if key not in keys:
                raise InputError(flag, "", f"not a varied key of the sweep; choose one of {', '.join(keys)}", key)
        if x == y:
            raise InputError("--y", "", "a heatmap needs two different keys (the same as --x)", y)
        fig = plots.plot_heatmap(sweep_outcomes(sw, metric, **hz), x, y, metric)
    elif args.kind == "sobol":
        fig = plots.plot_sobol(sensitivity(_sweep(args.results), metric, **hz))
    else:  # chain
        fig = plots_chain.plot_chain(args.results, args.baseline, metric=metric, **hz)
    if args.kind in ("paths", "effects", "frontier"):  # these read a folder of results (load_many)
        say_skipped(args.results, again)
    plots.st.save(fig, out)
    close(fig)
    print(f"wrote {out}")
    return 0
