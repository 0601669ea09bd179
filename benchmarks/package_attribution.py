"""What the 2014 package did in the model: the recorded history, the same without the relocation
drive, the rules in force at the end of 2013 only (pre-package) and no policy, on the back-test's
series (docs/calibration.md §14.15; README, "What the 2014 package did in the model").

Per series and year: the mean of each path over runs and the differences, paired run for run (same
seeds and, with --parameter-draws, the same draws), with their 2.5-97.5% range over runs:
  package = history - pre-package   (the 2014 package, the relocation drive, the later rules:
                                     the 2016 package, the 2017 aluminium ceiling, the 2024 notice)
  drive   = history - history without the drive (the placed plants of the investment-attraction lever)
  levers  = package - drive          (history without the drive - pre-package: the price levers)
  rules11 = pre-package - no policy  (the 2011 tax rules and holidays, the 2011 freight rates)

    python benchmarks/package_attribution.py [--replications N] [--parameter-draws N] [--workers N]
        [--years 2014 2015 ...] [--series NAME ...]
"""

from __future__ import annotations

import argparse

import pandas as pd
from valuechain.analysis.backtest import HIGH_Q, LOW_Q, model_series
from valuechain.simulation.config.observed import load_observed
from valuechain.simulation.running.backtest import COUNTERFACTUAL, RECORDED, run_history

PRE_PACKAGE = "history_2014_pre_package"
NO_DRIVE = "policy.investment_attraction.rules=[]"  # the recorded history without the placed plants
PATHS = ("history", "no_drive", "pre_package", "no_policy")
KEY_YEARS = [2014, 2015, 2016, 2017, 2020, 2024]
DIFFERENCES = {"package": ("history", "pre_package"), "drive": ("history", "no_drive"),
               "levers": ("no_drive", "pre_package"), "rules11": ("pre_package", "no_policy")}


def run_paths(replications: int | None, parameter_draws: int, workers: int) -> dict[str, pd.DataFrame]:
    """``model_series`` of the four paths, all with the back-test's seed (and draws): they pair run
    for run. ``run_history``'s ``policy.`` override reaches its first scenario only, so the second
    call gives the history without the drive against the pre-package path."""
    first = run_history(replications, parameter_draws, workers=workers, recorded=RECORDED,
                        counterfactual=COUNTERFACTUAL)
    second = run_history(replications, parameter_draws, overrides=[NO_DRIVE], workers=workers,
                         recorded=RECORDED, counterfactual=PRE_PACKAGE)
    runs = {"history": first["recorded"], "no_drive": second["recorded"],
            "pre_package": second["counterfactual"], "no_policy": first["counterfactual"]}
    return {name: model_series(res) for name, res in runs.items()}


def attribution(paths: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per series and year: each path's mean over runs; each of ``DIFFERENCES``' mean and its
    2.5-97.5% range over runs, the two paths paired by run (``replication``)."""
    wide = pd.DataFrame({name: ms.set_index(["series", "year", "replication"]).value for name, ms in paths.items()})
    cols = {name: wide[name].groupby(level=["series", "year"], sort=False).mean() for name in paths}
    for name, (a, b) in DIFFERENCES.items():
        by_run = (wide[a] - wide[b]).groupby(level=["series", "year"], sort=False)
        cols[name] = by_run.mean()
        cols[f"{name}_low"], cols[f"{name}_high"] = by_run.quantile(LOW_Q), by_run.quantile(HIGH_Q)
    return pd.DataFrame(cols)


def _num(v: float) -> str:
    return "" if pd.isna(v) else f"{v:,.3f}" if abs(v) < 1 else f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"


def format_attribution(table: pd.DataFrame) -> str:
    """One line per series and year: the four paths, then each difference as ``mean [low, high]``."""
    units = {name: s.unit for name, s in load_observed().series.items()}
    rows = []
    for (series, year), r in table.iterrows():
        row = {"series": series, "unit": units[series], "year": year, **{p: _num(r[p]) for p in PATHS}}
        for d in DIFFERENCES:
            row[d] = f"{_num(r[d])} [{_num(r[f'{d}_low'])}, {_num(r[f'{d}_high'])}]"
        rows.append(row)
    return pd.DataFrame(rows).to_string(index=False)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, help="replications (default: the scenarios', 5)")
    p.add_argument("--parameter-draws", type=int, default=0, metavar="N")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--years", type=int, nargs="+", default=KEY_YEARS)
    p.add_argument("--series", nargs="+", help="series names (default: all of the back-test's)")
    args = p.parse_args()
    table = attribution(run_paths(args.replications, args.parameter_draws, args.workers))
    keep = table.index.get_level_values("year").isin(args.years)
    if args.series:
        keep &= table.index.get_level_values("series").isin(args.series)
    runs = (f"{args.parameter_draws} parameter draws x " if args.parameter_draws else "") + \
        f"{args.replications or 5} replications"
    print(f"paths: mean over runs ({runs}, paired); differences: mean [2.5%, 97.5%] over runs\n"
          + "; ".join(f"{d} = {a} - {b}" for d, (a, b) in DIFFERENCES.items()))
    print(format_attribution(table[keep]))


if __name__ == "__main__":
    main()
