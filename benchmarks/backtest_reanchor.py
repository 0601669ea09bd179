"""What re-fitting the coverage factors in every parameter draw does to the back-test's interval:
the three re-fitted series' mean and 2.5-97.5% band, with the mapping file's factors and re-fitted,
on the same runs (docs/calibration.md §14.17; README, back-test).

    python benchmarks/backtest_reanchor.py [--parameter-draws N] [--replications R] [--workers N]

Defaults: the command's, 10 draws x 20 replications of the recorded history.
"""

from __future__ import annotations

import argparse

from valuechain.analysis.backtest import backtest_table
from valuechain.simulation.config.observed import load_observed
from valuechain.simulation.running.backtest import BACKTEST_REPLICATIONS, run_history


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parameter-draws", type=int, default=10)
    p.add_argument("--replications", type=int, default=BACKTEST_REPLICATIONS)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    observed = load_observed()
    runs = run_history(args.replications, args.parameter_draws, workers=args.workers)["recorded"]
    fixed = backtest_table(runs, observed, reanchor=False).set_index(["series", "year"])
    refit = backtest_table(runs, observed).set_index(["series", "year"])
    print(f"{args.parameter_draws} draws x {args.replications} replications: mean [2.5-97.5% band] (band width), "
          "the file's factors -> re-fitted in every draw")
    for name, s in observed.series.items():
        if s.factor_fitted_on is None:
            continue
        for year in [y for (n, y) in fixed.index if n == name and 2014 <= y <= 2024]:
            a, b = fixed.loc[(name, year)], refit.loc[(name, year)]
            cells = [f"{_num(r.model_mean)} [{_num(r.model_low)}, {_num(r.model_high)}] "
                     f"({_num(r.model_high - r.model_low)})" for r in (a, b)]
            ratio = (b.model_high - b.model_low) / (a.model_high - a.model_low)
            print(f"{name} {year}{' (fitted)' if year == s.factor_fitted_on else ''}: {cells[0]} -> {cells[1]}; "
                  f"width x {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
