"""How many shock paths the back-test's interval needs: the held-out rows' 2.5-97.5% band at
5, 10, 20 and 40 replications (docs/calibration.md §14.17; README, back-test).

    python benchmarks/backtest_replications.py [--replications 5 10 20 40] [--parameter-draws N]
                                               [--workers N]

Runs the recorded history once with the largest number of replications R (and N parameter draws),
then scores the first r replications of every draw for each r of ``--replications``: replication
k of every run set is the k-th child of the scenario's seed whatever R is, so the smaller run sets
are the first paths of the larger one (nested). Every table re-fits the coverage factors on its
own runs (``backtest_table``), as the command does. Prints per held-out record the model's mean and
band at each r, and the band's largest change when one shock path is left out (the path that
sets the band most: at 5 paths the 97.5% quantile is 90% of the way from the 4th to the 5th
value, so one path sets it).
"""

from __future__ import annotations

import argparse

import pandas as pd
from valuechain.analysis.backtest import backtest_table
from valuechain.simulation.config.observed import LAST_CALIBRATION_YEAR, load_observed
from valuechain.simulation.running.backtest import run_history
from valuechain.simulation.running.runner import Results


def first_paths(results: Results, paths: int, leave_out: int | None = None) -> Results:
    """The runs of ``results`` on the first ``paths`` replications of every draw (without the
    replication ``leave_out``)."""
    runs = results.runs
    k = runs.draw_replication if "draw_replication" in runs else runs.replication
    keep = (k < paths) & (k != leave_out if leave_out is not None else True)
    chosen = set(runs.replication[keep])
    return Results(results.scenario, results.stages[results.stages.replication.isin(chosen)],
                   results.fiscal[results.fiscal.replication.isin(chosen)], runs[keep], results.meta)


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def held_out(table: pd.DataFrame) -> pd.DataFrame:
    return table[(table.year > LAST_CALIBRATION_YEAR) & table.record.notna()].set_index(["series", "year"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, nargs="+", default=[5, 10, 20, 40])
    p.add_argument("--parameter-draws", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    sizes = sorted(args.replications)
    observed = load_observed()
    runs = run_history(sizes[-1], args.parameter_draws, workers=args.workers)["recorded"]
    bands = {r: held_out(backtest_table(first_paths(runs, r), observed)) for r in sizes}
    print(f"held-out records: model mean [2.5-97.5% band] over the first r replications"
          f"{f' of each of {args.parameter_draws} draws' if args.parameter_draws else ''}; "
          f"'one path' = the band's largest move (either end, % of the band) when one replication is left out")
    for key in bands[sizes[-1]].index:
        cells = []
        for r in sizes:
            row = bands[r].loc[key]
            cells.append(f"r={r}: {_num(row.model_mean)} [{_num(row.model_low)}, {_num(row.model_high)}]")
        print(f"{key[0]} {key[1]} (record {_num(bands[sizes[-1]].loc[key].record)}): " + "; ".join(cells))
    for r in sizes:
        full = bands[r]
        width = (full.model_high - full.model_low).replace(0, float("nan"))
        moves = []
        for k in range(r):
            t = held_out(backtest_table(first_paths(runs, r, leave_out=k), observed))
            moves.append(pd.concat([(t.model_low - full.model_low).abs(), (t.model_high - full.model_high).abs()],
                                   axis=1).max(axis=1) / width)
        worst = pd.concat(moves, axis=1).max(axis=1)
        print(f"r={r}: one path moves the band by at most " + ", ".join(
            f"{s} {y} {v:.0%}" for (s, y), v in worst.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
