"""Policy minus baseline, paired by replication, with t confidence intervals.

Replication ``k`` of a scenario and of its baseline ran with the same child seed (common random
numbers), so the effect is estimated from the paired differences ``d_k = y_k(policy) -
y_k(baseline)``, ``k = 1..n``:

    effect = mean(d),   se = sd(d) / sqrt(n),   CI = effect +/- t_{n-1, 1-alpha/2} * se.

The shared replication noise (prices, entry draws) cancels in ``d_k``, which is why paired
intervals are much tighter than the unpaired (Welch) interval also offered here.

An outcome ``y_k`` is a metric summed over the stages of a group (the region, a sector, a stage
or a tier) and reduced over the horizon in one of four ways: one ``year``; cumulated over all
years (the default); in present value at ``pv`` = r with base year t0 = the first year,
``sum_t y_t / (1 + r)**(t - t0)``; or ``each_year`` separately (a time path of effects).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..simulation import schema
from ..simulation.config.chain import SECTORS, TIERS
from ..simulation.config.errors import InputError
from .comparable import check_comparable, common_years, describe_differences, outside_policy_differences
from .folders import backtest_reason, is_backtest, is_sweep, no_runs_reason, say_skipped
from .results import RunSet, load_results
from .run import Run, point_label, run_chain

NOISE_NOTE = ("intervals and p-values cover simulation (replication) noise only, not uncertainty in the "
              "model's parameters")
DRAWS_NOTE = ("intervals and p-values are over the parameter draws (runs with parameter draws): they cover the "
              "mean over the firms' behavioural parameter ranges, simulation noise included, not the spread of "
              "the answer across those ranges nor uncertainty in the chain's calibration")


def interval_covers(*runs: Run) -> tuple[str, str]:
    """(note, short caption) of what the spread over runs covers: parameter draws only when every
    side was run with them (the manifest's ``interval``), else replication noise only."""
    if runs and all(r.manifest.get("interval") == "parameters+replications" for r in runs):
        return DRAWS_NOTE, "simulation noise and parameter draws"
    return NOISE_NOTE, "simulation noise only"


def parameter_draws_of(manifest: dict) -> int:
    """How many parameter draws a run's manifest (or ``Results.meta["manifest_extra"]``) records: 0
    for a run of the defaults only."""
    return len(manifest.get("parameter_draws") or ()) if manifest.get("interval") == "parameters+replications" else 0


def draws_of(run: Run, base: Run | None = None) -> pd.Series | None:
    """Replication -> parameter draw when every side was run with parameter draws (the draw is then
    the unit of the intervals), else None. The draws of replications both sides have must agree."""
    if interval_covers(*[r for r in (run, base) if r is not None])[0] != DRAWS_NOTE or "draw" not in run.runs:
        return None
    draw = run.runs.drop_duplicates("replication").set_index("replication")["draw"]
    if base is not None and "draw" in base.runs:
        other = base.runs.drop_duplicates("replication").set_index("replication")["draw"]
        common = draw.index.intersection(other.index)
        bad = common[draw[common].to_numpy() != other[common].to_numpy()]
        if len(bad):
            k = bad[0]
            raise InputError(run.source, "runs.draw", f"replication {k} is parameter draw {draw[k]} here and "
                             f"{other[k]} in {base.source}, so the runs are not paired; run both with the same "
                             "--parameter-draws and --replications", int(draw[k]))
    return draw


def by_draw(values: pd.Series | pd.DataFrame, draw: pd.Series | None) -> pd.Series | pd.DataFrame:
    """Per-run values (indexed by replication) averaged within each parameter draw (indexed by draw):
    the units of an interval over parameter draws; the values as they are when ``draw`` is None."""
    if draw is None:
        return values
    return values.groupby(draw.reindex(values.index).to_numpy()).mean()


def units_label(n: int | None, draws: bool, paired: bool = True) -> str:
    """The ``n`` units of an interval as :func:`compare` takes them: ``3 parameter draws, each the
    mean of its paired replications`` with parameter draws (:func:`draws_of`), else ``5 replications``;
    without a count (``n`` None) ``the parameter draws, each ...`` or ``replications``."""
    count = "the" if n is None else str(n)
    if draws:
        return f"{count} parameter draws, each the mean of its {'paired ' if paired else ''}replications"
    return "replications" if n is None else f"{n} replications"


def runs_label(n_runs: int, n_draws: int = 0) -> str:
    """``n_runs`` counted as what they are: replications, or with parameter draws runs (draws x
    replications), e.g. ``4 run(s) (2 parameter draw(s) x 2 replication(s))``."""
    if n_draws:
        return f"{n_runs} run(s) ({n_draws} parameter draw(s) x {n_runs // n_draws} replication(s))"
    return f"{n_runs} replication(s)"


# the results' own column list: every recorded stage column that adds up across stages
_FIRST = ("value_added", "investment", "employment")  # the headline metrics, listed first in messages
ADDITIVE = _FIRST + tuple(c for c in schema.STAGE_COLUMNS
                          if c not in _FIRST + ("utilisation", "price", "unit_cost"))
DERIVED = ("downstream_investment", "fiscal_cost", "processing_depth")
SHARES = ("processing_depth",)  # ratio metrics: reduced over the years as a share of the sums, not summed
METRICS = ADDITIVE + DERIVED
GROUPS = ("sector", "stage", "tier")
MONEY = set(schema.MONEY) | {"downstream_investment", "fiscal_cost"}


RunLike = RunSet | Run | str | Path | Any


def as_run(obj: RunLike) -> Run:
    """A :class:`Run` from a results directory, an ``analysis.RunSet`` or a ``simulation.Results``."""
    if isinstance(obj, Run):
        return obj
    if isinstance(obj, (str, Path)):
        d = Path(obj)
        if is_sweep(d):
            raise InputError(str(d), "", "is a sweep directory, not the results of one run; give a directory "
                             "written by valuechain run (a sweep's points: plot --kind effects, paths or frontier)")
        if not (d / "manifest.json").is_file():
            why = "no such directory" if not d.exists() else "not a results directory (no manifest.json)"
            if is_backtest(d):
                why = f"is {backtest_reason(d)}"
            if d.is_dir() and any((sub / "manifest.json").is_file() for sub in d.iterdir() if sub.is_dir()):
                why = "is a folder of results directories; give one of them"
            raise InputError(str(d), "", why)
        rs = load_results(d)
        return Run(rs.stages, rs.fiscal, rs.runs, rs.manifest, str(d))
    if isinstance(obj, RunSet):
        return Run(obj.stages, obj.fiscal, obj.runs, obj.manifest, str(obj.manifest.get("scenario_file", "results")))
    if hasattr(obj, "stages") and hasattr(obj, "fiscal") and hasattr(obj, "scenario"):  # simulation.Results
        sc = obj.scenario
        manifest = {"scenario": sc.spec.model_dump(mode="json"), "scenario_file": sc.file,
                    "chain_file": str(sc.chain.path), "chain_hash": schema.chain_hash(sc.chain),
                    "overrides": list(getattr(obj, "meta", {}).get("overrides", []))}
        return Run(obj.stages, obj.fiscal, obj.runs, manifest, sc.name)
    raise TypeError(f"expected a results directory, RunSet or Results, got {type(obj).__name__}")


def on_years(run: Run, years: list[int]) -> Run:
    """The run restricted to ``years`` (a no-op when it covers exactly those)."""
    if not years or set(run.stages["year"].unique()) == set(years):
        return run
    return Run(run.stages[run.stages["year"].isin(years)], run.fiscal[run.fiscal["year"].isin(years)], run.runs,
               run.manifest, run.source)


def subset(run: RunLike, **where: str | list[str]) -> Run:
    """The run restricted to stages matching ``where`` (e.g. ``sector='chemicals'``, ``tier=['deep']``)."""
    run = as_run(run)
    st, fc = run.stages, run.fiscal
    for col, val in where.items():
        if val is None:
            continue
        vals = [val] if isinstance(val, str) else list(val)
        if col not in GROUPS:
            raise InputError(f"--{col}", "", f"can only select by {', '.join(GROUPS)}", col)
        unknown = set(vals) - set(st[col].unique())
        if unknown:
            raise InputError(f"--{col}", "", f"not in the results; choose from {', '.join(sorted(st[col].unique()))}",
                             sorted(unknown)[0])
        st, fc = st[st[col].isin(vals)], fc[fc[col].isin(vals)]
    return Run(st, fc, run.runs, run.manifest, run.source)


class Subsets(Mapping):
    """``runs`` (a mapping name -> run), each restricted to the stages matching ``where`` (:func:`subset`)
    when it is asked for: a sweep's points stay read one at a time."""

    def __init__(self, runs: Mapping[str, RunLike], **where: str | list[str] | None):
        self.runs, self.where = runs, where

    def __getitem__(self, key: str) -> Run:
        return subset(self.runs[key], **self.where)

    def __iter__(self):
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)


def load_many(directory: str | Path, again: Callable[[str], str] | None = None) -> Mapping[str, Run]:
    """Results below ``directory``: itself if it is a results directory, the points of a sweep
    (an :class:`analysis.sweep_runs.SweepRuns`: the points of :func:`runs_from_sweep`, each read
    when asked for), or every subdirectory holding a ``manifest.json``, by name. A folder with none
    is refused with what it holds instead (``folders.no_runs_reason``; ``again(SUB)``: the same
    command with SUB as RESULTS_DIR, which reads a sweep's points)."""
    d = Path(directory)
    if not d.is_dir():
        raise InputError(str(d), "", "no such directory")
    if is_sweep(d):
        from .sweep_runs import SweepRuns

        return SweepRuns(d)
    if (d / "manifest.json").is_file():
        run = as_run(d)
        return {run.name: run}
    found = {sub.name: as_run(sub) for sub in sorted(d.iterdir())
             if (sub / "manifest.json").is_file() and not is_sweep(sub)}  # sweeps are read one at a time
    if not found:
        raise InputError(str(d), "", no_runs_reason(d, again))
    return found


def without_baseline(runs: Mapping[str, Run], baseline: str | Path) -> Mapping[str, Run]:
    """``runs`` less the baseline's own directory (a folder of results that holds it); the points
    of a sweep are never the baseline (and are not read here)."""
    if not isinstance(runs, dict):  # a sweep's points (SweepRuns)
        return runs
    return {k: v for k, v in runs.items() if Path(v.source).resolve() != Path(baseline).resolve()}


def runs_from_sweep(sweep: Any) -> dict[str, Run]:
    """One :class:`Run` per point of a loaded sweep (``analysis.load_sweep``), keyed by the point's
    label: the mix name, else its parameter values (see :func:`point_label`). Replication k of
    every point used the same seed, so points compare paired. Each point's manifest carries its
    own scenario (the base with the point's overrides), so comparability checks see its settings."""
    from .comparable import point_scenario

    out: dict[str, Run] = {}
    points = sweep.points.set_index("point")
    st_groups = dict(tuple(sweep.stages.groupby("point")))
    fc_groups = dict(tuple(sweep.fiscal.groupby("point")))
    run_groups = dict(tuple(sweep.runs.groupby("point"))) if "point" in sweep.runs else {}
    for p in sorted(st_groups):
        row = points.loc[p] if p in points.index else pd.Series(dtype=object)
        label = point_label(row, sweep.parameters, p)
        label = label if label not in out else f"{label} (point {p})"
        st = st_groups[p].reset_index(drop=True).assign(scenario=label)
        fc = fc_groups.get(p, sweep.fiscal.iloc[:0]).reset_index(drop=True).assign(scenario=label)
        r = run_groups.get(p, sweep.runs.iloc[:0]) if run_groups else sweep.runs
        manifest = {**sweep.manifest, "scenario": point_scenario(sweep.manifest.get("base_scenario", {}),
                                                                  row.get("overrides"))}
        out[label] = Run(st, fc, r, manifest, f"{sweep.manifest.get('name', 'sweep')}: {label}")
    return out


PHYSICAL = ("capacity", "output", "output_above_scale", "exports", "local_sales")  # stage units: no sum across stages


def check_metric(metric: str, by: str | None = None) -> None:
    """Raise :class:`InputError` for an unknown metric or grouping (messages name the CLI option)."""
    if metric not in METRICS:
        raise InputError("--metric", "", f"unknown metric; choose one of {', '.join(METRICS)}", metric)
    allowed = GROUPS + (("lever",) if metric == "fiscal_cost" else ())
    if metric == "processing_depth":
        allowed = ("sector",)
    if metric in PHYSICAL and by != "stage":
        raise InputError("--metric", "", "is in each stage's own physical unit (t, pieces, kWh...), which do not "
                         "add up across stages; compare it --by stage", metric)
    if by is not None and by not in allowed:
        raise InputError("--by", "", f"cannot group {metric} by this; choose one of {', '.join(allowed)}", by)


def check_rate(rate: float, option: str = "--pv", example: str = "0.05 for 5%") -> None:
    """A discount rate a year, a fraction in (-1, 1): 1 or more is a percentage given as a number
    (8 for 8%); refused naming ``option`` (compare's and plot's ``--pv``, cost's ``--rate``)."""
    if not (-1 < rate < 1):
        raise InputError(option, "", f"discount rate must be a fraction a year between -1 and 1 ({example})", rate)


def discount_weights(years: pd.Series, rate: float, base_year: int) -> pd.Series:
    """Present-value weights ``(1 + r)**-(t - t0)``."""
    check_rate(rate)
    return (1.0 + rate) ** -(years.astype(float) - base_year)


def yearly(run: Run, metric: str, by: str | None) -> pd.DataFrame:
    """``replication, year, [by,] metric`` summed over stages (numerator/denominator for ratios)."""
    keys = ["replication", "year"] + ([by] if by else [])
    st = run.stages
    need = {"downstream_investment": ["investment"], "processing_depth": ["value_added"]}.get(metric, [metric])
    missing = [c for c in need if metric != "fiscal_cost" and c not in st.columns]
    if missing and len(st.columns):
        raise InputError("--metric", "", f"'{missing[0]}' is not kept in these results (a sweep keeps the columns "
                         f"it was run with; run it again with --columns all)", metric)
    if metric == "fiscal_cost":
        return run.fiscal.groupby(keys, as_index=False)["fiscal_cost"].sum()
    if metric == "downstream_investment":
        deep = st.assign(downstream_investment=st["investment"].where(st["tier"] == "deep", 0.0))
        return deep.groupby(keys, as_index=False)["downstream_investment"].sum()
    if metric == "processing_depth":
        va = st.assign(deep_va=st["value_added"].where(st["tier"] == "deep", 0.0))
        return va.groupby(keys, as_index=False)[["deep_va", "value_added"]].sum()
    return st.groupby(keys, as_index=False)[metric].sum()


def outcomes(run: RunLike, metric: str = "value_added", by: str | None = None, *, year: int | None = None,
             pv: float | None = None, each_year: bool = False) -> pd.Series:
    """Per-replication outcome ``y_k`` (Series indexed by ``[by,] [year,] replication``).

    Cumulated over the horizon unless ``year`` (that year only), ``pv`` (present value at rate
    ``pv``, base year = first year) or ``each_year`` (no reduction over years) is given.
    """
    run = as_run(run)
    check_metric(metric, by)
    if sum(x is not None and x is not False for x in (year, pv, each_year)) > 1:
        raise InputError("--year/--pv", "", "give at most one of year, pv and each_year")
    df = yearly(run, metric, by)
    cols = ["deep_va", "value_added"] if metric == "processing_depth" else [metric]
    years = run.stages["year"]
    if year is not None:
        if year not in set(years.unique()):
            raise InputError("--year", "", f"not a simulated year ({int(years.min())}-{int(years.max())})", year)
        df = df[df["year"] == year]
    elif pv is not None:
        w = discount_weights(df["year"], pv, int(years.min()))
        df = df.assign(**{c: df[c] * w for c in cols})
    keys = ([by] if by else []) + (["year"] if each_year else []) + ["replication"]
    agg = df.groupby(keys)[cols].sum()
    if metric == "processing_depth":
        out = agg["deep_va"] / agg["value_added"].where(agg["value_added"] != 0)
    else:
        out = agg[metric]
    return out.rename(metric)


def check_same_draws(run: Run, base: Run) -> None:
    """Refuse, in one line, to pair a run with parameter draws with one without (its replication
    ``d x R + r`` is replication r of draw d, not the other's replication ``d x R + r``)."""
    n_run, n_base = parameter_draws_of(run.manifest), parameter_draws_of(base.manifest)
    if (n_run > 0) == (n_base > 0):
        return
    drawn, plain = (run, base) if n_run else (base, run)
    n = max(n_run, n_base)
    reps = drawn.manifest.get("replications")
    again = f"--parameter-draws {n}" + (f" --replications {reps}" if reps else "")
    raise InputError(run.source, "manifest.parameter_draws", f"{drawn.source} was run with {n} parameter draws and "
                     f"{plain.source} without, so their replications are not paired; run {plain.source}'s scenario "
                     f"again with the same {again}")


def check_paired(run: Run, base: Run, reps: list) -> None:
    """Replication k must have used the same seed in both run sets (common random numbers), and
    both or neither must have drawn parameters (a drawn run's first replications use the seeds of a
    plain run's, so equal seeds alone do not pair them: :func:`check_same_draws`)."""
    check_same_draws(run, base)
    cols = [c for c in ("seed", "spawn_key") if c in run.runs and c in base.runs]
    if not cols or run.runs.empty or base.runs.empty:
        return
    a = run.runs.set_index("replication")
    b = base.runs.set_index("replication")
    for k in reps:
        if k not in a.index or k not in b.index:
            continue
        for c in cols:
            x, y = a.at[k, c], b.at[k, c]
            if c == "spawn_key":
                x, y = tuple(int(v) for v in np.ravel(x)), tuple(int(v) for v in np.ravel(y))
            if x != y:
                raise InputError(run.source, f"runs.{c}", f"replication {k} did not use the same {c} as "
                                 f"{base.source}, so the runs are not paired; pass --unpaired (paired=False) "
                                 "for the Welch interval", x.item() if hasattr(x, "item") else x)


def summarize(diffs: np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Mean, standard error, t confidence interval and p-value of paired differences."""
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    mean = float(d.mean()) if n else np.nan
    if n < 2:
        return {"n": n, "effect": mean, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    se = float(d.std(ddof=1) / np.sqrt(n))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
    p = float(2 * stats.t.sf(abs(mean) / se, n - 1)) if se > 0 else (1.0 if mean == 0 else 0.0)
    return {"n": n, "effect": mean, "se": se, "ci_low": mean - half, "ci_high": mean + half, "p_value": p}


def summarize_unpaired(y1: np.ndarray, y0: np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Welch interval for ``mean(y1) - mean(y0)`` with Welch-Satterthwaite degrees of freedom."""
    y1, y0 = np.asarray(y1, float), np.asarray(y0, float)
    n1, n0 = y1.size, y0.size
    mean = float(y1.mean() - y0.mean())
    if n1 < 2 or n0 < 2:
        return {"n": min(n1, n0), "effect": mean, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                "p_value": np.nan}
    v1, v0 = y1.var(ddof=1) / n1, y0.var(ddof=1) / n0
    se = float(np.sqrt(v1 + v0))
    if se == 0:
        return {"n": min(n1, n0), "effect": mean, "se": 0.0, "ci_low": mean, "ci_high": mean,
                "p_value": 1.0 if mean == 0 else 0.0}
    df = (v1 + v0) ** 2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    p = float(2 * stats.t.sf(abs(mean) / se, df))
    return {"n": min(n1, n0), "effect": mean, "se": se, "ci_low": mean - half, "ci_high": mean + half, "p_value": p}


def compare(results: RunLike, baseline: RunLike, metric: str = "value_added", by: str | None = None, *,
            year: int | None = None, pv: float | None = None, each_year: bool = False, paired: bool = True,
            confidence: float = 0.95) -> pd.DataFrame:
    """Effect of a scenario on ``metric`` against its baseline, with a ``confidence`` t interval.

    ``by``: None (the whole region), ``'sector'``, ``'stage'`` or ``'tier'`` (``'lever'`` for
    ``fiscal_cost``). Horizon: cumulative (default), ``year=Y``, ``pv=r`` or ``each_year=True``.
    ``results``/``baseline``: results directories, ``RunSet`` or ``simulation.Results``.

    Returns one row per group with ``baseline_mean, scenario_mean, effect`` (= mean paired
    difference), ``se, ci_low, ci_high, p_value, pct_effect`` (= 100 effect / baseline_mean) and
    ``n`` (replications). ``paired=False`` gives the Welch interval instead. When both sides were
    run with parameter draws the unit is the draw (the mean of its replications, which share its
    parameters): the t interval is over the draws (``n`` counts draws, t on draws - 1 degrees of
    freedom), an interval of the parameter-averaged mean effect; the replications of a draw do not
    narrow it.
    Money is in million yuan; employment in workers and firms in firms (summed over the years:
    worker-years, firm-years; :func:`metric_unit`); a physical metric by stage has a ``unit`` column.
    """
    if not 0 < confidence < 1:
        raise InputError("--confidence", "", "must be between 0 and 1", confidence)
    run, base = as_run(results), as_run(baseline)
    check_comparable(run, base)
    run, base = on_years(run, common_years(run, base)), on_years(base, common_years(run, base))
    kw = {"year": year, "pv": pv, "each_year": each_year}
    y1 = outcomes(run, metric, by, **kw)
    y0 = outcomes(base, metric, by, **kw)
    groups = [n for n in y1.index.names if n != "replication"]
    reps = sorted(set(y1.index.get_level_values("replication")) & set(y0.index.get_level_values("replication")))
    if paired:
        if not reps:
            raise InputError(run.source, "replication", f"no replication in common with {base.source}")
        check_paired(run, base, reps)
    draw = draws_of(run, base)  # with parameter draws the draw is the unit: its runs share their parameters
    draw0 = draws_of(base, run) if draw is not None else None
    rows = []
    keys = _ordered(set(y1.index.droplevel("replication")) | set(y0.index.droplevel("replication")), groups,
                    run) if groups else [()]
    for key in keys:
        a = _select(y1, groups, key)
        b = _select(y0, groups, key)
        if paired:
            a = a.reindex(reps, fill_value=0.0)
            b = b.reindex(reps, fill_value=0.0)
            s = summarize(by_draw(a - b, draw).to_numpy(), confidence)
        else:
            s = summarize_unpaired(by_draw(a, draw).to_numpy(), by_draw(b, draw0).to_numpy(), confidence)
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(groups, key)) if groups else {"region": "all"}
        b_mean = float(b.mean()) if len(b) else np.nan
        row.update({"scenario": run.name, "baseline": base.name, "metric": metric,
                    "baseline_mean": b_mean, "scenario_mean": float(a.mean()) if len(a) else np.nan, **s})
        row["pct_effect"] = 100 * s["effect"] / b_mean if b_mean != 0 and np.isfinite(b_mean) else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    first = groups if groups else ["region"]
    cols = first + ["scenario", "baseline", "metric", "n", "baseline_mean", "scenario_mean", "effect", "se",
                    "ci_low", "ci_high", "pct_effect", "p_value"]
    out = out[cols]
    if metric in PHYSICAL and by == "stage":  # each stage's own unit (t, MW), which do not add up
        out.insert(1, "unit", out["stage"].map(stage_units(run, metric)).fillna("stage unit"))
    note, covers = interval_covers(run, base)
    n_run = y1.index.get_level_values("replication").nunique()
    n_base = y0.index.get_level_values("replication").nunique()
    draws = note == DRAWS_NOTE
    unit = "run(s)" if draws else "replication(s)"
    if paired and (len(reps) < n_run or len(reps) < n_base):
        note += (f"; paired over the {len(reps)} {unit} both have ({run.name}: {n_run}, "
                 f"{base.name}: {n_base})")
    outside = outside_policy_differences(run, base)
    outside = (f"; the two sides also differ outside the policy ({describe_differences(outside, run, base)}): the "
               "effect is that of these settings and the policy together") if outside else ""
    note += outside
    over = (f"parameter draws (each the mean of its {'paired ' if paired else ''}replications; n counts draws): an "
            "interval of the parameter-averaged mean" if draw is not None else "replications")
    out.attrs.update({"metric": metric, "confidence": confidence, "paired": paired, "note": note, "outside": outside,
                      "covers": covers,
                      "over": over, "draws": draw is not None,
                      "horizon": horizon_label(run, year, pv, each_year, metric), "units": metric_unit(metric, year, pv,
                                                                                             each_year)})
    return out


def _ordered(keys: set, groups: list[str], run: Run) -> list:
    """Groups in reading order: tiers raw -> rough -> deep, sectors in the standard order, stages
    upstream first (the order of the results), levers and years as they come."""
    rank: dict[str, dict] = {"tier": {t: i for i, t in enumerate(TIERS)},
                             "sector": {s: i for i, s in enumerate(SECTORS)}}
    if "stage" in run.stages:
        rank["stage"] = {s: i for i, s in enumerate(dict.fromkeys(run.stages["stage"]))}

    def key(k):
        k = k if isinstance(k, tuple) else (k,)
        return tuple((rank.get(g, {}).get(v, len(rank.get(g, {}))), str(v)) for g, v in zip(groups, k))

    return sorted(keys, key=key)


def _select(y: pd.Series, groups: list[str], key: Any) -> pd.Series:
    if not groups:
        return y.droplevel([n for n in y.index.names if n != "replication"]) if y.index.nlevels > 1 else y
    key = key if isinstance(key, tuple) else (key,)
    try:
        return y.xs(key, level=groups)
    except KeyError:
        return pd.Series(dtype=float)


def compare_many(results: Mapping[str, RunLike], baseline: RunLike, metric: str = "value_added",
                 by: str | None = None, **kwargs: Any) -> pd.DataFrame:
    """:func:`compare` for several scenarios against one baseline; ``scenario`` holds the mapping's key."""
    base = as_run(baseline)
    frames = []
    for name, res in results.items():
        df = compare(res, base, metric, by, **kwargs)
        df["scenario"] = name
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(frames[0].attrs if frames else {})
    clauses = [f.attrs.get("outside", "") for f in frames]
    if any(clauses):  # every scenario's own difference outside the policy, not only the first's
        out.attrs["note"] = frames[0].attrs["note"].removesuffix(clauses[0]) + "".join(dict.fromkeys(clauses))
    return out


def horizon_label(run: Run, year: int | None, pv: float | None, each_year: bool, metric: str = "") -> str:
    """How the outcome is reduced over the years of ``run`` (:func:`horizon_text`)."""
    y = run.stages["year"]
    return horizon_text(int(y.min()), int(y.max()), year, pv, each_year, metric)


def horizon_text(first: int, last: int, year: int | None, pv: float | None, each_year: bool = False,
                 metric: str = "") -> str:
    """How the outcome is reduced over the years ``first``-``last``. A share (``processing_depth``)
    is not cumulated: it is the share of the cumulated (or discounted) value added, i.e. the
    value-added-weighted mean of the yearly shares."""
    span = f"{first}-{last}"
    if year is not None:
        return f"in {year}"
    if each_year:
        return "by year"
    if metric in SHARES:
        weights = "value-added-weighted" if pv is None else f"discounted ({pv:.1%}) value-added-weighted"
        return f"{weights} mean over {span}"
    if pv is not None:
        return f"present value {span} at {pv:.1%}, base year {first}"
    return f"cumulative {span}"


STOCKS = ("employment", "firms", "capacity")  # counted at a point of the year: summed over years, unit-years


SHARE_NOTE = {"processing_depth": " (effect x 100 = percentage points; pct_effect: relative to the baseline's share)"}
"""What compare's printed header adds to the unit of a share: its effect is in shares, its pct_effect relative."""


def metric_unit(metric: str, year: int | None = None, pv: float | None = None, each_year: bool = False) -> str:
    """The unit of an outcome: money in million yuan; a stock (``STOCKS``: workers, firms alive at the
    year's end, capacity) in its unit in one year or by year, and summed over the years (cumulated or
    in present value) in unit-years: worker-years, firm-years, capacity-years; the flows of firms
    (entries, exits, successions) in firms; the physical metrics in each stage's own unit (the
    ``unit`` column of :func:`compare` by stage, :func:`stage_units`)."""
    one_year = year is not None or each_year
    if metric in MONEY:
        return "million yuan"
    if metric == "processing_depth":
        return "share of value added"
    if metric == "employment":
        return "workers" if one_year else "worker-years"
    if metric == "firms":
        return "firms" if one_year else "firm-years"
    if metric in ("entries", "exits", "successions"):
        return "firms"
    if metric == "capacity":
        return ("each stage's unit a year" if one_year
                else "capacity-years: each stage's unit a year, summed over the years")
    return "each stage's unit"


def stage_units(run: Run, metric: str) -> dict[str, str]:
    """Stage -> the unit of a physical metric (``PHYSICAL``) for that stage, from the chain the run
    used (its manifest's ``chain_file``): ``t a year`` for capacity, ``t`` for a flow in a year;
    {} when the chain cannot be read."""
    chain = run_chain(run)
    if chain is None:
        return {}
    per = " a year" if metric == "capacity" else ""
    return {name: f"{stage.unit}{per}" for name, stage in chain.spec.stages.items()}


FISCAL_PERSPECTIVE = ("perspective: fiscal_cost is what the model books for the levers, all levels of government "
                      "(valuechain cost --perspective government, its gross cost); valuechain cost defaults to the "
                      "region's budget (--perspective region: the income-tax lever at the region's share of the tax)")


def format_table(df: pd.DataFrame) -> str:
    """A plain-text table for the command line; for ``fiscal_cost`` the perspective it is in."""
    head = (f"{df.attrs.get('metric', '')}: scenario minus baseline, {df.attrs.get('horizon', '')}, "
            f"{df.attrs.get('units', '')}{SHARE_NOTE.get(df.attrs.get('metric', ''), '')}; "
            f"{'paired' if df.attrs.get('paired', True) else 'unpaired'} "
            f"{df.attrs.get('confidence', 0.95):.0%} t interval over {df.attrs.get('over', 'replications')}\n"
            f"note: {df.attrs.get('note', NOISE_NOTE)}")
    if df.attrs.get("metric") == "fiscal_cost":
        head += "\n" + FISCAL_PERSPECTIVE
    show = df.drop(columns=["metric"]).copy()
    for c in ("baseline_mean", "scenario_mean", "effect", "se", "ci_low", "ci_high"):  # n/a: one replication
        show[c] = show[c].map(lambda x: "n/a" if np.isnan(x) else f"{x:,.4g}" if abs(x) < 100 else f"{x:,.0f}")
    show["pct_effect"] = show["pct_effect"].map(lambda x: f"{x:+.2f}%" if np.isfinite(x) else "n/a")
    show["p_value"] = show["p_value"].map(lambda x: "n/a" if np.isnan(x) else f"{x:.2g}" if x >= 1e-4 else "<1e-4")
    return head + "\n" + show.to_string(index=False)


def compare_command(args: Any) -> int:
    """``valuechain compare RESULTS_DIR BASELINE_DIR``: print the effect table (the command line
    takes one of --year, --cumulative and --pv). RESULTS_DIR may also be a sweep or a folder of
    results directories (one row per point or scenario); BASELINE_DIR is one run's results."""
    kw = {"year": args.year, "pv": args.pv, "confidence": args.confidence,
          "paired": not getattr(args, "unpaired", False)}
    base = as_run(args.baseline)
    d = Path(args.results)
    if d.is_dir() and (is_sweep(d) or not (d / "manifest.json").is_file()):
        again = lambda sub: f"valuechain compare {sub} {args.baseline}"  # noqa: E731
        runs = without_baseline(load_many(d, again), args.baseline)
        table = compare_many(runs, base, args.metric, args.by, **kw)
        say_skipped(d, again)  # once the table stands
    else:
        table = compare(args.results, base, args.metric, args.by, **kw)
    print(format_table(table))
    return 0
