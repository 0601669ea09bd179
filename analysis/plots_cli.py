"""``valuechain plot RESULTS_DIR --kind KIND --out FILE``: which data each kind of figure reads.

=========  ==============================================================  ==================
kind       RESULTS_DIR                                                     needs
=========  ==============================================================  ==================
paths      a results directory, a folder of them, or a sweep               (--baseline)
effects    a results directory (by --by, default sector), or a folder      --baseline
           of them / a sweep (one row per scenario or point)
frontier   a folder of results directories or a sweep (one point each)     (--baseline)
heatmap    a sweep; --x and --y name two varied keys (default: first two)
sobol      a sweep with design sobol or morris
chain      a results directory                                             --baseline
=========  ==============================================================  ==================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..simulation.config.errors import InputError


def _horizon(args: Any) -> dict:
    return {"year": args.year, "pv": args.pv}  # the command line takes one of --year, --cumulative and --pv


def _need_baseline(args: Any) -> None:
    if not args.baseline:
        raise InputError("--baseline", "", f"--kind {args.kind} needs --baseline DIR (the results to compare with)")


def _sweep(directory: str):
    from .compare import is_sweep
    from .sensitivity import _load

    if not is_sweep(directory):
        raise InputError(directory, "", "not a sweep directory (written by valuechain sweep)")
    return _load(directory)


def _without_baseline(runs: dict, args: Any) -> tuple[dict, Any]:
    """Drop the baseline's own directory from a folder of results (it is drawn as the baseline);
    returns the runs and the baseline (the run already read, else ``args.baseline``, or None)."""
    if not args.baseline:
        return runs, None
    base = Path(args.baseline).resolve()
    inside = [k for k, v in runs.items() if Path(v.source).resolve() == base]
    if not inside or len(inside) == len(runs):
        return runs, args.baseline
    return {k: v for k, v in runs.items() if k not in inside}, runs[inside[0]]


def plot_command(args: Any) -> int:
    """Draw the figure ``args.kind`` from ``args.results`` and write it to ``args.out``."""
    from . import plots, plots_chain
    from .compare import compare, compare_many, load_many
    from .cost import cost_value_points
    from .sensitivity import sensitivity, sweep_outcomes
    from .style import check_out, close

    out = check_out(args.out)  # before any work
    hz = _horizon(args)
    metric = args.metric
    if args.kind == "paths":
        runs, baseline = _without_baseline(load_many(args.results), args)
        fig = plots.plot_paths(runs, metric, baseline=baseline)
    elif args.kind == "effects":
        _need_baseline(args)
        runs, baseline = _without_baseline(load_many(args.results), args)
        if len(runs) == 1:
            table = compare(next(iter(runs.values())), baseline, metric, args.by or "sector", **hz)
        else:
            table = compare_many(runs, baseline, metric, args.by, **hz)
        fig = plots.plot_effects(table)
    elif args.kind == "frontier":
        runs, baseline = _without_baseline(load_many(args.results), args)
        fig = plots.plot_frontier(cost_value_points(runs, baseline, value=metric, **hz), metric)
    elif args.kind == "heatmap":
        sw = _sweep(args.results)
        keys = list(sw.parameters)
        x, y = args.x or (keys[0] if keys else None), args.y or (keys[1] if len(keys) > 1 else None)
        if x is None or y is None:
            raise InputError(args.results, "parameters", "a heatmap needs a sweep over two parameters (or --x/--y)")
        for flag, key in (("--x", x), ("--y", y)):
            if key not in keys:
                raise InputError(flag, "", f"not a varied key of the sweep; choose one of {', '.join(keys)}", key)
        fig = plots.plot_heatmap(sweep_outcomes(sw, metric, **hz), x, y, metric)
    elif args.kind == "sobol":
        fig = plots.plot_sobol(sensitivity(_sweep(args.results), metric, **hz))
    else:  # chain
        _need_baseline(args)
        fig = plots_chain.plot_chain(args.results, args.baseline, metric=metric, **hz)
    plots.st.save(fig, out)
    close(fig)
    print(f"wrote {out}")
    return 0
