"""Fit the relocation drive's large placed garment plants a year on ONE record: above-scale garment
output, January-November 2016 (docs/calibration.md §14.20).

    python benchmarks/fit_large_placed_plants.py [--capacity T] [--total N] [--points L ...] [--chain PATH]
                                                 [--first-year Y]

For each candidate L (large placed plants a year, from ``--first-year`` to 2023: 2014 by default,
§14.22; 2015 was §14.20's) the recorded history runs 2014-2016 at the back-test's defaults
(``BACKTEST_REPLICATIONS`` shock paths, the default seed) with the drive rule of
``history_2014_recorded.yaml`` changed to ``L`` large plants of ``--capacity`` t a year and, from
2015, ``N - L`` plants of the stage's new-plant size (the total ``N``, 245, is the rate fitted on
the end-2016 firms, §14.11: the size mix keeps it from 2015; in 2014 the drive places only the
large plants). Only the fitted record is computed and printed (the model's
2016 above-scale output x 11/12, against 29.34 million pieces): the other rows of the back-test
are checks and are not looked at here. The last line is L where the model meets the record, by
linear interpolation between the two candidates around it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valuechain.analysis.backtest import backtest_table  # noqa: E402
from valuechain.simulation.config.observed import load_observed  # noqa: E402
from valuechain.simulation.running.backtest import BACKTEST_REPLICATIONS, run_history  # noqa: E402

SERIES, YEAR = "garment_output_above_scale", 2016


VILLAGE_FROM = 2015  # the village factories' drive starts in 2015 (§14.11)


def drive_rule(large: float, capacity_t: float, total: float, first_year: int = 2014) -> str:
    """The history's drive rule: ``large`` plants a year at ``capacity_t`` from ``first_year``, and
    from 2015 ``total - large`` of the stage's size; announced in 2015, as in the history (the
    announcement changes no placed plant, §14.22)."""
    if not VILLAGE_FROM - 1 <= first_year <= VILLAGE_FROM:
        raise SystemExit(f"--first-year: 2014 or 2015 (got {first_year})")
    return ("policy.investment_attraction.rules=[{stages: [garments], "
            f"placed_plants_per_year: {{{VILLAGE_FROM}: {total - large:g}, 2024: 0}}, "
            f"large_placed_plants_per_year: {{{first_year}: {large:g}, 2024: 0}}, "
            f"capacity_per_large_placed_plant: {capacity_t:g}, announced: {VILLAGE_FROM}, "
            "orders_per_placed_plant: 0.4}]")


def fitted_row(large: float, capacity_t: float, total: float, chain: str | None = None,
               first_year: int = 2014) -> tuple[float, float]:
    """(model mean, record) of the fitted record with ``large`` large placed plants a year from
    ``first_year`` (``chain``: another chain file than the history's, e.g. a copy with other garment
    settings)."""
    runs = run_history(BACKTEST_REPLICATIONS, 0, None, ([f"chain={chain}"] if chain else [])
                       + ["horizon.years=3", drive_rule(large, capacity_t, total, first_year)])
    table = backtest_table(runs["recorded"], load_observed())
    row = table[(table.series == SERIES) & (table.year == YEAR)].iloc[0]
    return float(row.model_mean), float(row.record)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--capacity", type=float, default=1100.0, help="t a year of a large placed plant (1100)")
    ap.add_argument("--total", type=float, default=245.0, help="placed plants a year in all (245, §14.11)")
    ap.add_argument("--points", type=float, nargs="+", default=[0, 1, 2, 3, 4, 5, 6])
    ap.add_argument("--chain", help="a chain file in place of the history's (e.g. a copy of xinjiang_2014.yaml "
                                    "with another recorded_firms_per_plant for garments)")
    ap.add_argument("--first-year", type=int, default=2014,
                    help="first year of the large plants: 2014 (the default, §14.22) or 2015 (§14.20)")
    args = ap.parse_args(argv)
    points, means, record = sorted(args.points), [], np.nan
    for large in points:
        mean, record = fitted_row(large, args.capacity, args.total, args.chain, args.first_year)
        means.append(mean)
        print(f"large placed plants a year {large:g}: {SERIES} {YEAR} model {mean:.2f} against {record:.2f}")
    gap = np.asarray(means) - record
    cross = np.flatnonzero((gap[:-1] < 0) & (gap[1:] >= 0))
    if cross.size:
        i = int(cross[0])
        fit = points[i] + (points[i + 1] - points[i]) * -gap[i] / (gap[i + 1] - gap[i])
        print(f"fitted: {fit:.2f} large placed plants a year (between {points[i]:g} and {points[i + 1]:g})")
    else:
        print("fitted: the record is outside the candidates' range")


if __name__ == "__main__":
    main()
