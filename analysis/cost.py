"""Cost-effectiveness of levers and policy mixes, their ranking and the efficient frontier.

For a mix m against its baseline, with replication k paired by seed, let ``dY_k`` be the change in
an outcome and ``dC_k`` the change in total fiscal cost (all levers), both cumulated over the
horizon (or in present value). The yield per yuan is the ratio of paired sums

    R = sum_k dY_k / sum_k dC_k = mean(dY) / mean(dC),

reported per 10,000 yuan of extra fiscal cost. Its confidence interval is by the **delta method**
(default): with sample variances s_Y^2, s_C^2 and covariance s_YC of the paired differences,

    se(R) = sqrt((s_Y^2 - 2 R s_YC + R^2 s_C^2) / n) / |mean(dC)|,   CI = R +/- t_{n-1} se(R).

``method='replication'`` instead averages the per-replication ratios ``dY_k / dC_k`` and gives
their t interval (unstable when some dC_k are near zero). Units: value added and downstream
investment (investment in ``tier == 'deep'`` stages) in yuan per 10,000 yuan; employment
cumulated over years is in worker-years (jobs x years) per 10,000 yuan, and in workers per
10,000 yuan for a single ``year``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..simulation import schema
from ..simulation.config.errors import InputError
from .compare import MONEY, RunLike, as_run, check_paired, horizon_label, metric_unit, outcomes, summarize

COST_METRICS = ("value_added", "downstream_investment", "employment")
LEVERS = schema.LEVERS


def ratio_ci(dy: np.ndarray, dc: np.ndarray, confidence: float = 0.95, method: str = "delta") -> dict[str, float]:
    """Ratio ``mean(dy) / mean(dc)`` with a delta-method (or per-replication) t interval."""
    dy, dc = np.asarray(dy, float), np.asarray(dc, float)
    n = dy.size
    if method == "replication":
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(dc != 0, dy / np.where(dc != 0, dc, 1.0), np.nan)
        s = summarize(r, confidence)
        return {"ratio": s["effect"], "se": s["se"], "ci_low": s["ci_low"], "ci_high": s["ci_high"]}
    if method != "delta":
        raise ValueError(f"method must be 'delta' or 'replication', got {method!r}")
    my, mc = dy.mean(), dc.mean()
    if mc == 0 or n == 0:
        return {"ratio": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    r = my / mc
    if n < 2:
        return {"ratio": r, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    cov = np.cov(dy, dc, ddof=1)
    var = max(cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1], 0.0) / n
    se = float(np.sqrt(var) / abs(mc))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
    return {"ratio": float(r), "se": se, "ci_low": float(r - half), "ci_high": float(r + half)}


def cost_effectiveness(results: Mapping[str, RunLike] | RunLike, baseline: RunLike,
                       metrics: Sequence[str] = COST_METRICS, *, year: int | None = None, pv: float | None = None,
                       per_yuan: float = 1e4, confidence: float = 0.95, method: str = "delta") -> pd.DataFrame:
    """Change in each metric per ``per_yuan`` (10,000) yuan of extra fiscal cost, per scenario.

    ``results``: one run set or a mapping ``{name: run set}`` (levers alone and mixes), all paired
    with ``baseline``. One row per (scenario, metric) with ``delta`` (mean change, metric's unit),
    ``delta_fiscal_cost`` (mean, million yuan), its split ``cost_<lever>`` by lever, ``ratio``,
    ``se``, ``ci_low``, ``ci_high`` (per ``per_yuan`` yuan; see the module docstring) and ``unit``.
    """
    if not isinstance(results, Mapping):
        run = as_run(results)
        results = {run.name: run}
    base = as_run(baseline)
    kw = {"year": year, "pv": pv}
    c0 = outcomes(base, "fiscal_cost", **kw)
    c0_lever = outcomes(base, "fiscal_cost", "lever", **kw)
    y0 = {metric: outcomes(base, metric, **kw) for metric in metrics}  # the baseline's, once
    rows = []
    for name, res in results.items():
        run = as_run(res)
        c1 = outcomes(run, "fiscal_cost", **kw)
        reps = sorted(set(c1.index) & set(c0.index))
        if not reps:
            raise InputError(run.source, "replication", f"no replication in common with {base.source}")
        check_paired(run, base, reps)
        dc = (c1 - c0).reindex(reps).to_numpy()
        by_lever = (outcomes(run, "fiscal_cost", "lever", **kw) - c0_lever).groupby(level="lever").mean()
        for metric in metrics:
            dy = (outcomes(run, metric, **kw) - y0[metric]).reindex(reps).to_numpy()
            scale = per_yuan if metric in MONEY else per_yuan / 1e6  # money / million yuan -> per yuan
            r = ratio_ci(dy, dc, confidence, method)
            unit = metric_unit(metric, year, pv).replace("million yuan", "yuan")
            row = {"scenario": name, "metric": metric, "n": len(reps), "delta": float(dy.mean()),
                   "delta_fiscal_cost": float(dc.mean())}
            row.update({f"cost_{lv}": float(by_lever.get(lv, 0.0)) for lv in LEVERS})
            row.update({k: v * scale for k, v in r.items()})
            row["unit"] = f"{unit} per {per_yuan:,.0f} yuan"
            rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update({"method": method, "confidence": confidence, "per_yuan": per_yuan})
    return out


def rank_mixes(table: pd.DataFrame, metric: str = "value_added") -> pd.DataFrame:
    """Scenarios ranked by yield per yuan of ``metric`` (best first), from :func:`cost_effectiveness`.

    ``ci_overlaps_next`` flags a rank whose interval overlaps the next one's: treat such neighbours
    as not distinguishable at the stated confidence.
    """
    t = table[table["metric"] == metric].sort_values("ratio", ascending=False, na_position="last")
    t = t.reset_index(drop=True)
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    nxt_high = t["ci_high"].shift(-1)
    t["ci_overlaps_next"] = (t["ci_low"] <= nxt_high) & nxt_high.notna()
    return t


def efficient_frontier(points: pd.DataFrame, cost: str = "fiscal_cost", value: str = "value_added") -> pd.Series:
    """Boolean mask of the points on the cost/value efficient frontier.

    Point i is dominated if another point j has ``cost_j <= cost_i`` and ``value_j >= value_i``
    with at least one strict inequality; the frontier is the set of non-dominated points (exact
    duplicates of a frontier point are kept, since neither dominates the other). Points with a
    missing cost or value are never on the frontier. O(n log n): sort by cost ascending (value
    descending within equal cost) and keep each point that beats the best value seen so far.
    """
    c = points[cost].to_numpy(float)
    v = points[value].to_numpy(float)
    ok = np.isfinite(c) & np.isfinite(v)
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((-v[idx], c[idx]))]
    keep = np.zeros(len(points), dtype=bool)
    best_v, best_c = -np.inf, np.nan
    for i in order:
        if v[i] > best_v:
            keep[i], best_v, best_c = True, v[i], c[i]
        elif v[i] == best_v and c[i] == best_c:
            keep[i] = True  # exact duplicate of the current frontier point
    return pd.Series(keep, index=points.index, name="on_frontier")


def cost_value_points(results: Mapping[str, RunLike], baseline: RunLike | None = None, *,
                      value: str = "value_added", year: int | None = None, pv: float | None = None,
                      confidence: float = 0.95) -> pd.DataFrame:
    """Fiscal cost and ``value`` per scenario (mean over replications with t intervals), with the frontier.

    With a ``baseline`` both are changes against it (paired by replication); without, levels.
    Columns: ``scenario, fiscal_cost, fiscal_cost_low, fiscal_cost_high, <value>, <value>_low,
    <value>_high, on_frontier``.
    """
    kw = {"year": year, "pv": pv}
    base = as_run(baseline) if baseline is not None else None
    y0 = {m: outcomes(base, m, **kw) for m in ("fiscal_cost", value)} if base is not None else {}
    rows = []
    horizon = ""
    for name, res in results.items():
        run = as_run(res)
        horizon = horizon or horizon_label(run, year, pv, False)
        row: dict = {"scenario": name}
        for m in ("fiscal_cost", value):
            y = outcomes(run, m, **kw)
            if base is not None:
                reps = sorted(set(y.index) & set(y0[m].index))
                y = (y - y0[m]).reindex(reps)
            s = summarize(y.to_numpy(), confidence)
            row.update({m: s["effect"], f"{m}_low": s["ci_low"], f"{m}_high": s["ci_high"]})
        rows.append(row)
    out = pd.DataFrame(rows)
    out["on_frontier"] = efficient_frontier(out, "fiscal_cost", value)
    out.attrs.update({"relative_to_baseline": base is not None, "value": value, "horizon": horizon})
    return out
