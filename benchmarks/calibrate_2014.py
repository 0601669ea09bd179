"""Score behavioural parameters on the back-test's in-sample record (2014-2017): the machinery of
the behavioural calibration (issue 13; docs/calibration.md §14.5).

    python benchmarks/calibrate_2014.py [--params KEY ...] [--points N] [--replications R]
                                        [--seed S] [--set KEY=VALUE] [--csv FILE]

Candidates: the scenario's defaults (candidate 0) and ``--points`` parameter sets, a Latin
hypercube over the named keys of the ``firms:`` block within their ranges in
``scenarios/parameters/firms_ranges.yaml`` (the other keys stay at their defaults). Each candidate
runs ``history_2014_recorded`` with ``--replications`` replications of the same seed (common
random numbers across candidates) and is scored by
``valuechain.analysis.backtest.in_sample_score``:

    score = (1 / S) sum_s (1 / n_s) sum_y |ln(model_sy / record_sy)|

the mean absolute log error over the calibration records (years up to 2017), every series
weighted equally and every record equally within its series. Held-out records (2018 on) are never
read. Before scoring:

* coverage factors calibrated on one record are re-derived for the candidate (``ANCHORS``, by
  ``backtest_table``, which re-fits them in every run set): the
  textile jobs coverage on the 2014 employment record, the firms' on the 2014 firm record, the
  fixed-asset-investment factor
  on the 2014 record, as ``scenarios/observed/xinjiang_series.yaml`` derives them at the defaults;
* records that set a level of the 2014 chain or of a mapping (``FITTED``, from
  ``valuechain.simulation.config.observed``, which the back-test's printed roles read) are left out: they are
  matched by construction and say nothing about behaviour; so are records derived from another
  record (``DERIVED``: the end-2015 firms, 1,964 - 504; January-September 2017's above-scale
  garments, 24.39 / 0.775 from the 2018 report), which are checks.

Prints one line per candidate, best score first, then the best candidate's in-sample table.

``--moments K`` makes it a calibration under the behavioural moments' bands: the K best candidates
by score, best first, are run through ``benchmarks/moments.py``'s user-cost elasticity of investment
and boom capacity growth (``running.moments``; 5 paired replications on the default 2016 scenario),
each one's two moments are printed, every candidate whose two moments lie in their bands is listed
with the in-sample records it misses by more than 25%, and the best of them is reported with its
table. The literature's elasticity band and the region's spindle growth then bind the in-sample
fit, rather than the in-sample fit buying a boom the record does not show.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd
from valuechain.analysis.backtest import backtest_table, format_table, in_sample_score, scored
from valuechain.simulation import load_scenario, run_scenario
from valuechain.simulation.config import observed
from valuechain.simulation.config.parameters import ParameterRanges, draw_parameters, load_parameter_ranges, split_key
from valuechain.simulation.config.scenario import Firms, Shocks
from valuechain.simulation.running.backtest import RECORDED

# series -> the (series, year) its coverage factor is fitted on (`factor_fitted_on` in
# xinjiang_series.yaml), which the back-test's table re-fits for each candidate
ANCHORS: dict[str, tuple[str, int]] = {name: (name, s.factor_fitted_on)
                                       for name, s in observed.load_observed().series.items()
                                       if s.factor_fitted_on is not None}
# records a level was fitted on and records derived from another (docs/calibration.md §14.2-§14.11,
# §14.14): stated once in the record's schema, which the back-test's printed roles read too
FITTED = observed.FITTED
DERIVED = observed.DERIVED
DEFAULT_PARAMS = ("potential_entrants_per_firm", "entry_hurdle_q", "adjustment_cost", "max_investment_rate")


def candidates(keys: list[str], points: int, seed: int) -> list[dict]:
    """The defaults, then ``points`` Latin-hypercube draws over the named keys' ranges."""
    ranges = load_parameter_ranges()
    unknown = [k for k in keys if k not in ranges.ranges]
    if unknown:
        raise SystemExit(f"error: no range for {', '.join(unknown)} in {ranges.file} "
                         f"(known: {', '.join(ranges.ranges)})")
    subset = ParameterRanges({k: ranges.ranges[k].model_copy(update={"draw": True}) for k in keys}, ranges.file)
    defaults = {"firms": Firms(), "shocks": Shocks()}
    return ([{k: getattr(defaults[split_key(k)[0]], split_key(k)[1]) for k in keys}]
            + draw_parameters(subset, points, seed))


def score_candidate(params: dict, replications: int, seed: int | None, overrides: list[str]):
    sets = list(overrides) + [f"{'.'.join(split_key(k))}={v}" for k, v in params.items()]
    results = run_scenario(load_scenario(RECORDED, sets), replications=replications, seed=seed)
    table = backtest_table(results)  # the coverage factors re-fitted on their records (ANCHORS)
    return in_sample_score(table, FITTED | DERIVED), table


def within_moments(frame: pd.DataFrame, keys: list[str], k: int, overrides: list[str]) -> list[int]:
    """Those of the ``k`` best candidates (best first) whose user-cost elasticity and boom growth
    lie in their bands (``running.moments.TARGETS``), printing each one's two moments."""
    from valuechain.simulation.running.moments import TARGETS, largest_capacity_growth, user_cost_elasticity

    in_band: list[int] = []
    for _, row in frame.head(k).iterrows():
        sets = list(overrides) + [f"{'.'.join(split_key(key))}={row[key]}" for key in keys]
        base = load_scenario("baseline", ["replications=5", *sets])
        elasticity, _ = user_cost_elasticity(base)
        boom = load_scenario("policy_package_2016", ["replications=5", *sets])
        growth, _ = largest_capacity_growth(run_scenario(boom).stages, "cotton_yarn")
        ok = all(TARGETS[name][0] <= value <= TARGETS[name][1]
                 for name, value in (("user_cost_elasticity", elasticity), ("boom_capacity_growth", growth)))
        print(f"candidate {int(row.candidate):3d}  score {row.score:.3f}  user-cost elasticity {elasticity:.2f}  "
              f"boom growth {growth:.0%}  {'in band' if ok else 'outside'}", flush=True)
        if ok:
            in_band.append(int(row.candidate))
    return in_band


def misses(table: pd.DataFrame, limit: float = 0.25) -> str:
    """The in-sample records the table misses by more than ``limit``, as ``series year (+err%)``."""
    s = scored(table)
    out = s[(s.use == "calibration") & (s.error.abs() > limit)]
    return ", ".join(f"{r.series} {r.year} ({r.error:+.0%})" for r in out.itertuples()) or "none"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--params", nargs="+", default=list(DEFAULT_PARAMS), metavar="KEY",
                   help=f"firms keys to vary (default: {' '.join(DEFAULT_PARAMS)})")
    p.add_argument("--points", type=int, default=8, help="Latin-hypercube points besides the defaults (default 8)")
    p.add_argument("--replications", type=int, default=3, help="replications per candidate (default 3)")
    p.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
    p.add_argument("--design-seed", type=int, default=13, help="seed of the Latin hypercube (default 13)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, as valuechain run")
    p.add_argument("--csv", help="write every candidate's parameters and score to this CSV file")
    p.add_argument("--moments", type=int, default=0, metavar="K",
                   help="check the K best candidates' user-cost elasticity and boom moments, report the best in band")
    args = p.parse_args(argv)
    rows, tables = [], []
    for i, params in enumerate(candidates(args.params, args.points, args.design_seed)):
        score, table = score_candidate(params, args.replications, args.seed, args.set)
        rows.append({"candidate": i, **params, **score})
        tables.append(table)
        shown = " ".join(f"{k}={v:.4g}" for k, v in params.items())
        print(f"candidate {i:3d}  score {score['score']:.3f}  max|err| {score['max_abs_error']:.0%}  "
              f"within 25% {score['within_25pct']:.0%}  {shown}", flush=True)
    frame = pd.DataFrame(rows).sort_values("score")
    print(f"\n{frame.to_string(index=False, float_format=lambda x: f'{x:.4g}')}")
    best = int(frame.candidate.iloc[0])
    if args.moments:
        in_band = within_moments(frame, args.params, args.moments, args.set)
        if not in_band:
            print(f"\nnone of the {args.moments} best candidates has both moments in band")
            return 0
        scores = frame.set_index("candidate").score
        print("\nin band, best first (in-sample records outside ±25%, fitted ones included):")
        for c in in_band:
            print(f"candidate {c:3d}  score {scores[c]:.3f}  misses: {misses(tables[c])}")
        best = in_band[0]
    score = float(frame.set_index("candidate").score[best])
    print(f"\nbest: candidate {best} ({score:.3f}); in-sample table with the coverage factors "
          f"re-derived (records fitted by levels included, not scored):")
    print(format_table(tables[best]).split("\n\nout of sample")[0])
    if args.csv:
        frame.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
