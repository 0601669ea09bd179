"""Cost-effectiveness of levers and policy mixes: gross and net cost, sign-aware ratios and rankings.

For a mix m against its baseline, with replication k paired by seed, let ``dY_k`` be the change in
an outcome and ``dC_k`` the change in cost, both reduced over the horizon (cumulated, one year or
in present value). The yield is the ratio of paired sums

    R = sum_k dY_k / sum_k dC_k = mean(dY) / mean(dC),

reported per 10,000 yuan. Cost is *gross* (what the model books for the levers, as the budget of
the perspective bears it: in :func:`cost_report` under the default ``perspective='region'`` the
income-tax lever at the region's 40% share of the tax, the other levers in full) or *net* (gross
minus the budget's share of the induced change in corporate income tax and VAT, times the marginal
cost of public funds; see :mod:`analysis.fiscal`). Units: value added and downstream investment (investment in
``tier == 'deep'`` stages) in yuan per 10,000 yuan; employment cumulated over years in job-years
(jobs x years) per 10,000 yuan (workers for a single ``year``); cost per additional job-year in
yuan.

**Signs.** A ratio is a price only when the cost is positive. ``status`` says which case a row is:
``costs money`` (ranked by R), ``costs nothing`` (mean cost zero: R is reported as +inf, -inf or 0
by the sign of the effect, never NaN) or ``raises revenue`` (mean cost negative: R is the change
per 10,000 yuan of revenue *raised*, ``mean(dY) / |mean(dC)|``). Rankings put every lever that
costs money first, then those that cost nothing, then those that raise revenue: a lever that
raises revenue never ranks above one that (reliably) costs money. A row whose cost's interval includes zero
(``reliable = False``: a mean cost that is not distinguishable from zero, so neither its sign nor
its ratio is established, e.g. a lever booked at zero whose net cost is only the induced tax it
loses) is ranked after every row whose sign is established, in the same order among themselves:
ranked, not dropped, so the table still lists it, but never above a lever that reliably costs
money because of a ratio whose interval is unbounded.

**Intervals.** Default ``method='fieller'``: Fieller's interval for a ratio of means of paired
differences, the set of R with ``(mean(dY) - R mean(dC))^2 <= t^2 var(mean(dY) - R mean(dC))``
(t with n-1 degrees of freedom). It is valid when the cost's interval includes zero, and then
unbounded: the row is flagged ``reliable = False`` (the cost's t interval includes zero) and the
interval reported as (-inf, inf). ``method='delta'``: the delta method,
``se(R) = sqrt((s_Y^2 - 2 R s_YC + R^2 s_C^2) / n) / |mean(dC)|``, ``CI = R +/- t se(R)``
(misleading near zero cost); ``method='replication'``: the t interval of per-replication ratios.

**Parameter draws.** When both sides were run with ``--parameter-draws`` (runs ``replication = d x
R + r`` of draw d, recorded in ``runs.draw``), the replications of a draw share its parameters, so
they are not independent observations of the parameter-averaged answer: the unit is the draw.
Each draw's paired changes are averaged over its replications (``dY_d``, ``dC_d``) and the interval
of ``method`` is computed on the D draw means (Fieller with t on D - 1 degrees of freedom by
default). The ratio is then the ratio of the draw means (with equal replications a draw, the ratio
of the run means), and the interval is a 95% interval of the *parameter-averaged* mean (its
expectation over the parameter ranges), the between-draw spread counted once and the replications
of a draw not narrowing it. Fieller on the draw means rather than a t interval of per-draw ratios
because it stays valid when a draw's cost is close to zero and averages the ratio the report gives
(of the means, not the mean of ratios). It narrows as draws are added: the *spread* of the answer
over the parameter ranges is reported separately as ``draw_min``/``draw_max``, the lowest and
highest per-draw ratio ``dY_d / |dC_d|`` (:func:`draw_range`; unbounded when a draw's cost is zero or
of the other sign). Without draws the unit is the replication.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..outfile import check_out_file, first_line, write_replacing
from ..simulation import schema
from ..simulation.config.errors import InputError
from . import fiscal
from .comparable import check_comparable, check_same_economy, year_keys
from .compare import (
    DRAWS_NOTE,
    MONEY,
    RunLike,
    as_run,
    by_draw,
    check_paired,
    draws_of,
    horizon_label,
    interval_covers,
    metric_unit,
    outcomes,
    summarize,
    yearly,
)

COST_METRICS = ("value_added", "downstream_investment", "employment")
LEVERS = schema.LEVERS
METHODS = ("fieller", "delta", "replication")
STATUS_ORDER = {"costs money": 0, "no additional jobs": 1, "costs nothing": 2, "raises revenue": 3}
LOWER_IS_BETTER = {"cost_per_job_year"}
ZERO_COST = 1e-9  # million yuan (a thousandth of a yuan): below this a mean cost is zero
BOOKED_AT_ZERO = tuple(lv for lv in LEVERS if schema.LEVER_COST_DEFINITIONS[lv].startswith("0: "))  # fast-track


def uses_lever(run: RunLike, lever: str) -> bool:
    """True if the run's scenario (its manifest's policy) gives ``lever`` a rule (the lever's ``rule_lists``)."""
    from ..simulation.config.scenario import Policy
    from ..simulation.economy.levers import BY_KEY

    data = (as_run(run).manifest.get("scenario") or {}).get("policy")
    if not data:
        return False
    block = getattr(Policy.model_validate(year_keys(data)), lever)
    return any(len(rules) > 0 for rules in BY_KEY[lever].rule_lists(block).values())


def ratio_ci(dy: np.ndarray, dc: np.ndarray, confidence: float = 0.95, method: str = "delta") -> dict[str, float]:
    """Ratio ``mean(dy) / mean(dc)`` with a delta-method, Fieller or per-replication t interval
    (NaN when ``mean(dc) == 0``; :func:`ratio_row` labels that case instead)."""
    dy, dc = np.asarray(dy, float), np.asarray(dc, float)
    n = dy.size
    if method == "replication":
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(dc != 0, dy / np.where(dc != 0, dc, 1.0), np.nan)
        s = summarize(r, confidence)
        return {"ratio": s["effect"], "se": s["se"], "ci_low": s["ci_low"], "ci_high": s["ci_high"]}
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    my, mc = (dy.mean(), dc.mean()) if n else (np.nan, 0.0)
    if mc == 0 or n == 0:
        return {"ratio": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    r = my / mc
    if n < 2:
        return {"ratio": r, "se": np.nan, "ci_low": -np.inf, "ci_high": np.inf}
    cov = np.cov(dy, dc, ddof=1)
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    se = float(np.sqrt(max(cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1], 0.0) / n) / abs(mc))
    if method == "delta":
        return {"ratio": float(r), "se": se, "ci_low": float(r - t * se), "ci_high": float(r + t * se)}
    lo, hi = fieller(my, mc, cov / n, t)
    return {"ratio": float(r), "se": se, "ci_low": lo, "ci_high": hi}


def fieller(my: float, mc: float, v: np.ndarray, t: float) -> tuple[float, float]:
    """Fieller's interval for ``my / mc`` given the covariance ``v`` of the two means; (-inf, inf)
    when ``mc`` is not significantly different from zero (``mc^2 <= t^2 v_cc``)."""
    a = mc * mc - t * t * v[1, 1]
    b = -2.0 * (my * mc - t * t * v[0, 1])
    c = my * my - t * t * v[0, 0]
    if a <= 0:
        return -np.inf, np.inf
    disc = max(b * b - 4 * a * c, 0.0)
    root = np.sqrt(disc)
    return float((-b - root) / (2 * a)), float((-b + root) / (2 * a))


def cost_status(dc: np.ndarray) -> str:
    m = float(np.mean(dc)) if len(dc) else 0.0
    return "costs money" if m > ZERO_COST else ("raises revenue" if m < -ZERO_COST else "costs nothing")


def cost_reliable(dc: np.ndarray, confidence: float = 0.95) -> bool:
    """True if the cost's paired t interval excludes zero (then the Fieller interval is bounded)."""
    s = summarize(dc, confidence)
    return bool(np.isfinite(s["ci_low"]) and (s["ci_low"] > 0 or s["ci_high"] < 0))


def ratio_row(dy: np.ndarray, dc: np.ndarray, confidence: float = 0.95, method: str = "fieller",
              scale: float = 1.0) -> dict:
    """``ratio, se, ci_low, ci_high`` (times ``scale``), ``status`` and ``reliable``; never NaN."""
    dy, dc = np.asarray(dy, float), np.asarray(dc, float)
    status = cost_status(dc)
    if status == "costs nothing":
        my = float(dy.mean()) if dy.size else 0.0
        r = 0.0 if my == 0 else np.sign(my) * np.inf
        return {"ratio": r, "se": np.inf, "ci_low": -np.inf, "ci_high": np.inf, "status": status, "reliable": False}
    sign = 1.0 if status == "costs money" else -1.0  # revenue raised: per yuan of |cost|
    r = ratio_ci(dy, sign * dc, confidence, method)
    out = {k: (v * scale if np.isfinite(v) else (v if not np.isnan(v) else np.inf)) for k, v in r.items()}
    if np.isnan(r["ci_low"]):
        out["ci_low"], out["ci_high"] = -np.inf, np.inf
    out.update({"status": status, "reliable": cost_reliable(dc, confidence)})
    return out


def draw_range(dy: np.ndarray, dc: np.ndarray, scale: float = 1.0) -> tuple[float, float]:
    """(min, max) over parameter draws of each draw's own ratio ``dy_d / |dc_d|`` (times ``scale``;
    ``dy``, ``dc``: the draws' means): the spread of the answer over the parameter ranges, beside
    the interval of the parameter-averaged mean. Unbounded when a draw's cost is zero or of the other
    sign than the mean cost's (its ratio is then not a price)."""
    dy, dc = np.asarray(dy, float), np.asarray(dc, float)
    sign = np.sign(dc.mean()) if dc.size else 0.0
    if sign == 0 or not np.all(sign * dc > 0):
        return -np.inf, np.inf
    r = dy / (sign * dc) * scale
    return float(r.min()), float(r.max())


def _as_mapping(results) -> Mapping:
    """A mapping as it is (a sweep's points are read one at a time as it is walked), one run as
    ``{name: run}``."""
    if isinstance(results, Mapping):
        return results
    run = as_run(results)
    return {run.name: run}


def cost_effectiveness(results: Mapping[str, RunLike] | RunLike, baseline: RunLike,
                       metrics: Sequence[str] = COST_METRICS, *, year: int | None = None, pv: float | None = None,
                       per_yuan: float = 1e4, confidence: float = 0.95, method: str = "fieller") -> pd.DataFrame:
    """Change in each metric per ``per_yuan`` (10,000) yuan of extra *gross* fiscal cost, per scenario
    (the cost the model books, all levels of government: :func:`cost_report`'s gross under
    ``perspective='government'``).

    One row per (scenario, metric) with ``delta`` (mean change, metric's unit), ``delta_fiscal_cost``
    (mean, million yuan), its split ``cost_<lever>``, ``ratio, se, ci_low, ci_high`` (per ``per_yuan``
    yuan), ``status``, ``reliable`` and ``unit`` (see the module docstring for signs and intervals);
    ``n`` counts the intervals' units (replications, or parameter draws), and with parameter draws
    ``draw_min``, ``draw_max`` give the range of the per-draw ratios (:func:`draw_range`).
    Net cost, present values and deadweight: :func:`cost_report`.
    """
    results = _as_mapping(results)
    base = as_run(baseline)
    kw = {"year": year, "pv": pv}
    c0 = outcomes(base, "fiscal_cost", **kw)
    c0_lever = outcomes(base, "fiscal_cost", "lever", **kw)
    y0 = {metric: outcomes(base, metric, **kw) for metric in metrics}  # the baseline's, once
    rows, draws, covers = [], [], []
    for name, res in results.items():
        run = as_run(res)
        check_comparable(run, base, what="compare costs")
        check_same_economy(run, base)
        c1 = outcomes(run, "fiscal_cost", **kw)
        reps = sorted(set(c1.index) & set(c0.index))
        if not reps:
            raise InputError(run.source, "replication", f"no replication in common with {base.source}")
        check_paired(run, base, reps)
        draw = draws_of(run, base)  # with parameter draws the draw is the unit of the intervals
        draws.append(draw is not None)
        covers.append(interval_covers(run, base)[1])
        dc = by_draw((c1 - c0).reindex(reps), draw).to_numpy()
        by_lever = (outcomes(run, "fiscal_cost", "lever", **kw) - c0_lever).groupby(level="lever").mean()
        for metric in metrics:
            dy = by_draw((outcomes(run, metric, **kw) - y0[metric]).reindex(reps), draw).to_numpy()
            scale = per_yuan if metric in MONEY else per_yuan / 1e6  # money / million yuan -> per yuan
            unit = metric_unit(metric, year, pv).replace("million yuan", "yuan")
            row = {"scenario": name, "metric": metric, "n": len(dy), "delta": float(dy.mean()),
                   "delta_fiscal_cost": float(dc.mean())}
            row.update({f"cost_{lv}": float(by_lever.get(lv, 0.0)) for lv in LEVERS})
            row.update(ratio_row(dy, dc, confidence, method, scale))
            if draw is not None:
                row["draw_min"], row["draw_max"] = draw_range(dy, dc, scale)
            row["unit"] = f"{unit} per {per_yuan:,.0f} yuan"
            rows.append(row)
    out = pd.DataFrame(rows)
    # what the intervals are over (plot_effects' caption): the draws when every scenario was run with them
    out.attrs.update({"method": method, "confidence": confidence, "per_yuan": per_yuan,
                      "draws": bool(draws) and all(draws), "covers": " or ".join(dict.fromkeys(covers))})
    return out


def unsure_sign(t: pd.DataFrame) -> pd.Series:
    """Rows said to cost money or to raise revenue whose cost's interval includes zero (``reliable``
    False, the ratio's interval unbounded): neither the sign of the cost nor the ratio is established."""
    if "reliable" not in t or "status" not in t:
        return pd.Series(False, index=t.index)
    return ~t["reliable"].astype(bool) & t["status"].isin(["costs money", "raises revenue"])


def _sign_aware_order(t: pd.DataFrame, ascending: bool = False) -> pd.DataFrame:
    """Rows that cost money first (by ratio), then the other statuses in :data:`STATUS_ORDER`; rows
    whose sign is not established (:func:`unsure_sign`) after all of them, in the same order; rows
    with no booked cost (``booked_at_zero``, :func:`rank_costs`: no bargain) after every row with one."""
    group = t["status"].map(STATUS_ORDER).fillna(len(STATUS_ORDER)) if "status" in t else 0
    tier = unsure_sign(t).astype(int)
    if "booked_at_zero" in t:
        tier = tier.where(~t["booked_at_zero"].astype(bool), 2)
    key = pd.DataFrame({"u": tier, "g": group, "r": t["ratio"]}, index=t.index)
    order = key.sort_values(["u", "g", "r"], ascending=[True, True, ascending], na_position="last",
                            kind="stable").index
    t = t.loc[order].reset_index(drop=True)
    tier = tier.loc[order].reset_index(drop=True)
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    nxt_low, nxt_high = t["ci_low"].shift(-1), t["ci_high"].shift(-1)
    same = (t["status"].eq(t["status"].shift(-1)) if "status" in t else True) & tier.eq(tier.shift(-1))
    t["ci_overlaps_next"] = (t["ci_low"] <= nxt_high) & (nxt_low <= t["ci_high"]) & nxt_high.notna() & same
    return t


def rank_mixes(table: pd.DataFrame, metric: str = "value_added") -> pd.DataFrame:
    """Scenarios ranked by yield per yuan of ``metric`` (best first), from :func:`cost_effectiveness`
    or the ``ratios`` of :func:`cost_report` (one basis). Sign-aware: levers that cost money first (by
    ratio), then those that cost nothing, then those that raise revenue; a row whose cost's interval
    includes zero (``reliable`` False, said to cost money or raise revenue) ranks after every row
    whose sign is established, however large its ratio. ``ci_overlaps_next`` flags a rank whose
    interval overlaps the next one's (not distinguishable at the stated confidence).
    """
    return _sign_aware_order(table[table["metric"] == metric], ascending=metric in LOWER_IS_BETTER)


# ----------------------------------------------------------------------------- the full report
@dataclass
class CostReport:
    """``costs``: one row per scenario (gross, induced tax, net, PV, by lever, deadweight share);
    ``ratios``: one row per (scenario, basis, metric); ``by_year``: mean costs by year;
    ``deadweight``: by lever; ``effects``: direct and indirect effects; ``attrs``: the settings."""

    costs: pd.DataFrame
    ratios: pd.DataFrame
    by_year: pd.DataFrame
    deadweight: pd.DataFrame
    effects: pd.DataFrame
    attrs: dict = field(default_factory=dict)


RATIO_METRICS = ("value_added", "employment", "downstream_investment")
# the ratios' units in cost_report (on present values: the job-years discounted like the cost)
RATIO_UNITS = {"value_added": "yuan", "employment": "discounted job-years", "downstream_investment": "yuan"}


def cost_measure(basis: str, mcpf: float, power_opportunity: fiscal.TimePath | None) -> str:
    """What the cost of a ``basis`` is: ``gross``; for ``net`` the economic cost (MCPF x net, the
    electricity lever at its shadow price), called ``net`` only when it is the net cost (MCPF 1, no
    ``power_opportunity``)."""
    if basis == "gross":
        return "gross"
    return "net" if mcpf == 1 and power_opportunity is None else "economic"


def cost_report(results: Mapping[str, RunLike] | RunLike, baseline: RunLike, *, rate: float = fiscal.DISCOUNT_RATE,
                mcpf: float = fiscal.MCPF, rules: fiscal.FiscalRules | None = None, perspective: str = "region",
                power_opportunity: fiscal.TimePath | None = None, captive: bool = False, confidence: float = 0.95,
                per_yuan: float = 1e4, method: str = "fieller", effects: bool = True) -> CostReport:
    """What a yuan buys, gross and net, in present value at ``rate`` beside undiscounted sums.

    ``costs`` (million yuan; ``_pv`` = present value at ``rate``, base year the first): ``gross``
    (the levers' cost to the budget of ``perspective``: the income-tax lever at that budget's CIT
    share, the others in full; see :mod:`analysis.fiscal`), ``tax_change`` (induced CIT + VAT, the
    budget's share; undiscounted ``tax_cit``, of it ``tax_cit_paid``, and ``tax_vat``), ``net`` =
    gross - tax_change, ``economic`` = MCPF x net, with the electricity lever at its shadow cost when
    ``power_opportunity`` (yuan/kWh) is given (``power_shadow`` beside it); ``gross_<lever>``,
    ``net_<lever>``; ``deadweight_share`` (weighted by the levers' gross costs); ``value_added``,
    ``employment`` (job-years), ``downstream_investment`` (mean changes, undiscounted).
    ``ratios``: per 10,000 yuan of ``gross`` and (basis ``net``) of economic cost, on present values at
    ``rate`` (``rate=0``: cumulated), with ``cost_measure`` (what the cost is: ``gross``, ``net``, or
    ``economic`` where MCPF or the shadow price of power make it differ from net), ``status``,
    ``reliable`` and the interval of ``method``;
    rows with ``metric == 'cost_per_job_year'`` give yuan per additional job-year.
    """
    if not 0 < confidence < 1:
        raise InputError("--confidence", "", "must be between 0 and 1", confidence)
    if not 0.5 <= mcpf <= 5:
        raise InputError("--mcpf", "", "must be between 0.5 and 5 (documented range 1.0-1.5)", mcpf)
    if method not in METHODS:
        raise InputError("--interval", "", f"choose one of {', '.join(METHODS)}", method)
    fiscal.check_rate(rate)
    rules = rules or fiscal.FiscalRules.for_perspective(perspective)
    from .impacts import (
        DEADWEIGHT_BASIS,
        Baseline,
        deadweight_frame,
        deadweight_rows,
        direct_indirect_frame,
        direct_indirect_rows,
        lever_costs,
    )

    results = _as_mapping(results)
    base = as_run(baseline)
    ref = Baseline(base)  # the baseline's reductions, once for every scenario
    chain = fiscal.run_chain(base) if effects else None
    cost_rows, ratio_rows, years, dw_rows, effect_rows = [], [], [], [], []
    first = None
    draws = True  # every side was run with parameter draws
    free_used: set[str] = set()  # levers booked at zero that a scenario uses
    for name, res in results.items():  # each scenario read once (a sweep's points one at a time)
        run = as_run(res)
        first = run if first is None else first
        check_comparable(run, base, what="compare costs")
        check_same_economy(run, base)
        draws = draws and interval_covers(run, base)[0] == DRAWS_NOTE
        free_used |= {lv for lv in BOOKED_AT_ZERO if uses_lever(run, lv)}
        yc = fiscal.yearly_costs(run, base, rules)
        reps = sorted(set(yc.index.get_level_values("replication")))
        if not reps:
            raise InputError(run.source, "replication", f"no replication in common with {base.source}")
        check_paired(run, base, reps)
        for metric in RATIO_METRICS:
            d = yearly(run, metric, None).set_index(["replication", "year"])[metric]
            d0 = ref.yearly(metric, None).set_index(["replication", "year"])[metric]
            yc[metric] = (d - d0).reindex(yc.index).fillna(0.0)
        if power_opportunity is not None:
            yc["power_shadow"] = fiscal.shadow_costs(run, base, power_opportunity, captive=captive).reindex(
                yc.index).fillna(0.0)
            yc["economic"] = mcpf * (yc["net"] - yc["gross_electricity_price"] + yc["power_shadow"])
        else:
            yc["economic"] = mcpf * yc["net"]
        cum, pv = fiscal.present_value(yc, 0.0), fiscal.present_value(yc, rate)
        draw = draws_of(run, base)  # with parameter draws the draw is the unit of the intervals
        units = by_draw(pv, draw)  # per draw: the mean of its paired replications (as they are without draws)
        row = {"scenario": name, "n": len(reps), "n_draws": 0 if draw is None else len(units)}
        for col in ("gross", "tax_change", "net", "economic"):
            row[col], row[f"{col}_pv"] = float(cum[col].mean()), float(pv[col].mean())
        if "power_shadow" in yc:
            row["power_shadow"], row["power_shadow_pv"] = float(cum["power_shadow"].mean()), float(
                pv["power_shadow"].mean())
        for col in ("tax_cit", "tax_cit_paid", "tax_vat"):
            row[col] = float(cum[col].mean())
        for lv in LEVERS:
            row[f"gross_{lv}"], row[f"net_{lv}"] = float(cum[f"gross_{lv}"].mean()), float(cum[f"net_{lv}"].mean())
        dc_lever = lever_costs(run, ref)
        point_dw = deadweight_rows(name, run, ref, dc=dc_lever)
        dw_rows += point_dw
        if effects:
            effect_rows += direct_indirect_rows(name, run, ref, confidence=confidence, chain=chain, dc=dc_lever)
        dw = deadweight_frame(point_dw, DEADWEIGHT_BASIS)
        gross_by_lever = {lv: max(row[f"gross_{lv}"], 0.0) for lv in LEVERS}  # weights: the budget's gross costs
        paid = dw["lever"].map(gross_by_lever)
        row["deadweight_share"] = float((dw["deadweight_share"] * paid).sum() / paid.sum()) if paid.sum() > 0 else 0.0
        for metric in RATIO_METRICS:
            row[metric] = float(cum[metric].mean())
        cost_rows.append(row)
        spread = {} if draw is None else {"draw_min": np.nan, "draw_max": np.nan}
        for basis, col in (("gross", "gross"), ("net", "economic")):
            dc = units[col].to_numpy()
            measure = cost_measure(basis, mcpf, power_opportunity)
            for metric in RATIO_METRICS:
                scale = per_yuan if metric in MONEY else per_yuan / 1e6
                unit = RATIO_UNITS[metric] + f" per {per_yuan:,.0f} yuan"
                dy = units[metric].to_numpy()
                r = ratio_row(dy, dc, confidence, method, scale)
                if draw is not None:
                    r["draw_min"], r["draw_max"] = draw_range(dy, dc, scale)
                ratio_rows.append({"scenario": name, "basis": basis, "cost_measure": measure, "metric": metric,
                                   "n": len(units), "cost": float(pv[col].mean()),
                                   "delta": float(pv[metric].mean()), **r, "unit": unit})
            jobs = units["employment"].to_numpy()
            status = cost_status(dc)
            if status == "costs money" and jobs.mean() > 0:
                r = ratio_row(dc * 1e6, jobs, confidence, method, 1.0)  # yuan per additional discounted job-year
                # established only if the jobs' interval (ratio_row's rule on its denominator) and, as for every
                # other metric, the cost's interval exclude zero: else it ranks after the established rows
                r["status"], r["reliable"] = status, r["reliable"] and cost_reliable(dc, confidence)
                if draw is not None:
                    r["draw_min"], r["draw_max"] = draw_range(dc * 1e6, jobs)
            else:
                no_jobs = status == "costs money"
                r = {"ratio": np.inf if no_jobs else 0.0, "se": np.inf, "ci_low": -np.inf, "ci_high": np.inf,
                     "status": "no additional jobs" if no_jobs else status,
                     "reliable": status != "costs nothing" and cost_reliable(dc, confidence), **spread}
            ratio_rows.append({"scenario": name, "basis": basis, "cost_measure": measure, "metric": "cost_per_job_year",
                               "n": len(units), "cost": float(pv[col].mean()),
                               "delta": float(pv["employment"].mean()), **r,
                               "unit": "yuan per additional discounted job-year"})
        years.append(yc.groupby(level="year").mean().assign(scenario=name).reset_index())
    first = base if first is None else first
    attrs = {"rate": rate, "mcpf": mcpf, "rules": rules.describe(), "perspective": rules.perspective,
             "power_opportunity": power_opportunity, "captive": captive, "confidence": confidence, "method": method,
             "per_yuan": per_yuan,
             "horizon": horizon_label(first, None, None, False), "baseline": base.name,
             "base_year": int(first.stages["year"].min()), "draws": draws and first is not base,
             "booked_at_zero": [lv for lv in BOOKED_AT_ZERO if lv in free_used]}
    eff = direct_indirect_frame(effect_rows, confidence) if effects else pd.DataFrame()
    report = CostReport(pd.DataFrame(cost_rows), pd.DataFrame(ratio_rows),
                        pd.concat(years, ignore_index=True) if years else pd.DataFrame(),
                        deadweight_frame(dw_rows, dict(DEADWEIGHT_BASIS)), eff, attrs)
    for frame in (report.costs, report.ratios, report.by_year):
        frame.attrs.update(attrs)
    return report


def rank_costs(report: CostReport, metric: str = "value_added", basis: str = "net") -> pd.DataFrame:
    """The sign-aware ranking of :func:`rank_mixes` on one ``basis`` (gross or net) of a report. On
    the net basis a scenario whose gross cost is zero (``costs nothing`` on the gross basis: its
    levers are booked at zero, e.g. fast-track approval) is flagged ``booked_at_zero`` and ranks
    after every scenario with a booked cost, those whose sign is not established included: its net
    cost is only the tax it induces or loses, not what the lever costs, so its ratio is no bargain."""
    t = report.ratios[report.ratios["basis"] == basis]
    if basis != "gross":
        g = report.ratios[(report.ratios["basis"] == "gross") & (report.ratios["metric"] == metric)]
        zero = set(g.loc[g["status"] == "costs nothing", "scenario"])
        t = t.assign(booked_at_zero=t["scenario"].isin(zero))
    return rank_mixes(t, metric)

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
    first = None
    draws, covers = [], []
    for name, res in results.items():
        run = as_run(res)
        first = first or run
        check_comparable(run, base if base is not None else first, what="compare costs")
        check_same_economy(run, base if base is not None else first)
        horizon = horizon or horizon_label(run, year, pv, False, value)
        row: dict = {"scenario": name}
        draw = draws_of(run, base)  # with parameter draws the draw is the unit of the intervals
        draws.append(draw is not None)
        covers.append(interval_covers(*[r for r in (run, base) if r is not None])[1])
        for m in ("fiscal_cost", value):
            y = outcomes(run, m, **kw)
            if base is not None:
                reps = sorted(set(y.index) & set(y0[m].index))
                y = (y - y0[m]).reindex(reps)
            s = summarize(by_draw(y, draw).to_numpy(), confidence)
            row.update({m: s["effect"], f"{m}_low": s["ci_low"], f"{m}_high": s["ci_high"]})
        rows.append(row)
    out = pd.DataFrame(rows)
    out["on_frontier"] = efficient_frontier(out, "fiscal_cost", value)
    # what the whiskers are over, for the figure's caption: the draws when every point was run with them
    out.attrs.update({"relative_to_baseline": base is not None, "value": value, "horizon": horizon,
                      "confidence": confidence, "draws": bool(draws) and all(draws),
                      "covers": " or ".join(dict.fromkeys(covers))})
    return out


# ----------------------------------------------------------------------------- command line
def _num(x: float) -> str:
    if not np.isfinite(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def status_only(row: pd.Series) -> bool:
    """A ratio row shown by its status alone, with no ratio: it costs nothing, or (the cost per
    additional job-year) it creates no additional jobs or raises revenue."""
    return row["status"] in ("costs nothing", "no additional jobs") or (
        row["metric"] == "cost_per_job_year" and row["status"] != "costs money")


NO_RATIO = ("ratio", "se", "ci_low", "ci_high", "draw_min", "draw_max")  # left empty where status_only


def csv_table(report: CostReport) -> pd.DataFrame:
    """The ``--csv`` table: the ratio rows joined with each scenario's costs. A row shown by its status
    alone (:func:`status_only`, e.g. ``costs nothing``) has that status and empty ratio, se and
    interval, as the printed table shows it (the frame's own +/-inf stand for "no ratio"); an unbounded
    interval (or draw range) is written empty too, its row ``reliable`` False, as the table prints
    "[unbounded] (unreliable)"."""
    out = report.ratios.merge(report.costs.drop(columns=["n"]), on="scenario", suffixes=("", "_scenario"))
    if len(out):
        blank = out.apply(status_only, axis=1)
        cols = [c for c in NO_RATIO if c in out]
        out.loc[blank, cols] = np.nan
        out[cols] = out[cols].where(np.isfinite(out[cols].astype(float)))
    return out


def _cell(row: pd.Series) -> str:
    if status_only(row):
        return row["status"]
    ci = "unbounded" if not (np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"])) else \
        f"{_num(row['ci_low'])} to {_num(row['ci_high'])}"
    text = f"{_num(row['ratio'])} [{ci}]"
    if row["status"] == "raises revenue":
        text += " (revenue raised)"
    return text + ("" if row["reliable"] else " (unreliable)")


def _range_cell(row: pd.Series) -> str:
    """A ratio row's range over the parameter draws, as text."""
    if status_only(row):
        return row["status"]
    low, high = row["draw_min"], row["draw_max"]
    if np.isnan(low):
        return "n/a"
    if not (np.isfinite(low) and np.isfinite(high)):
        return "unbounded (a draw's cost is zero or of the other sign)"
    return f"{_num(low)} to {_num(high)}"


def format_cost_report(report: CostReport, metric: str = "value_added", basis: str = "net", *,
                       by_year: bool = False) -> str:
    """The cost table, the ratios and the sign-aware ranking as plain text, units in the headers."""
    a = report.attrs
    c = report.costs
    n = int(c["n"].min()) if len(c) else 0
    names = {"fieller": "Fieller", "delta": "delta-method t", "replication": "per-replication t"}
    power = (f"; electricity lever at its shadow price {a['power_opportunity']} yuan/kWh"
             f"{' (captive power included)' if a['captive'] else ''}" if a["power_opportunity"] is not None else "")
    runs = "runs (parameter draws x replications)" if a.get("draws") else "replications"
    n_draws = int(c["n_draws"].min()) if len(c) and "n_draws" in c else 0
    unbounded = "unbounded and 'unreliable' where the cost's interval includes zero"
    if a.get("draws") and n_draws:
        over = (f"over the {n_draws} parameter draws, each the mean of its paired replications (t on {n_draws - 1} "
                f"degrees of freedom; {unbounded}): intervals of the parameter-averaged mean over the firms' "
                "behavioural parameter ranges, simulation noise included; the range over the draws is printed apart.")
    else:
        over = f"over paired replications ({unbounded}); they cover simulation (replication) noise only."
    lines = [
        f"What a yuan buys: scenario minus baseline '{a['baseline']}', {a['horizon']}, {n} paired {runs}",
        f"Money in million yuan; PV = present value at {a['rate']:.1%} to {a['base_year']}, beside undiscounted sums.",
        f"Gross = the levers' cost to the {a['perspective']} budget (the income-tax lever at its CIT share, every "
        f"other lever in full); net = gross - the budget's share of the induced tax change (CIT at the statutory "
        f"rate + VAT on value added; {a['rules']}).",
        f"Economic cost = MCPF {a['mcpf']:g} x net{power}. Intervals: {names[a['method']]} {a['confidence']:.0%} "
        + over,
        "", "Cost (million yuan)"]
    cols = ["scenario", "gross", "gross_pv", "tax_change", "net", "net_pv", "economic_pv", "deadweight_share"]
    show = c[cols].copy()
    for col in cols[1:-1]:
        show[col] = show[col].map(_num)
    show["deadweight_share"] = c["deadweight_share"].map(lambda x: f"{x:.0%}")
    lines.append(show.rename(columns={"deadweight_share": "deadweight"}).to_string(index=False))
    lines += ["", "Tax brought back, the budget's share, undiscounted (million yuan): income tax at the statutory rate "
              "= more tax paid + the income-tax lever's own cost coming back; VAT on the value added"]
    back = pd.DataFrame({"scenario": c["scenario"], "income tax paid": c["tax_cit_paid"].map(_num),
                         "tax lever's cost back": (c["tax_cit"] - c["tax_cit_paid"]).map(_num),
                         "VAT": c["tax_vat"].map(_num), "tax_change": c["tax_change"].map(_num)})
    lines.append(back.to_string(index=False))
    lines += ["", "By lever, undiscounted (million yuan; net allocates the tax change by gross shares)"]
    lev = pd.DataFrame([{"scenario": r["scenario"], "lever": lv, "gross": _num(r[f"gross_{lv}"]),
                         "net": _num(r[f"net_{lv}"])} for _, r in c.iterrows() for lv in LEVERS
                        if abs(r[f"gross_{lv}"]) > ZERO_COST])
    if len(lev):
        lines.append(lev.to_string(index=False))
    free = [f"{schema.LEVER_LABELS[lv]} ({schema.LEVER_COST_DEFINITIONS[lv][3:]})"  # issue 12: fast-track approval
            for lv in a.get("booked_at_zero", ())]  # only the levers the scenarios use
    if free:
        lines.append("Booked at 0 by definition: " + "; ".join(free))
    if by_year and len(report.by_year):
        lines += ["", "By year, mean over replications (million yuan)"]
        lines.append(report.by_year[["scenario", "year", "gross", "tax_change", "net"]].to_string(
            index=False, float_format=lambda x: f"{x:,.1f}"))
    r = report.ratios
    units = {"value_added": "value added (yuan)", "employment": "discounted job-years",
             "downstream_investment": "downstream investment (yuan)",
             "cost_per_job_year": "yuan per discounted job-year"}
    economic = ("; rows 'economic': of the economic cost, MCPF x net with the electricity lever at its shadow price "
                "(the cost --basis net ranks)" if cost_measure("net", a["mcpf"], a["power_opportunity"]) == "economic"
                else "")
    lines += ["", f"Per {a['per_yuan']:,.0f} yuan of cost in present value (cost per additional job-year in yuan: PV "
              f"cost / PV job-years, the job-years discounted like the cost{economic})"]
    r = r.assign(basis=r["cost_measure"])  # rows named by what their cost is (economic where it is not net)
    wide = r.assign(text=r.apply(_cell, axis=1)).pivot_table(index=["scenario", "basis"], columns="metric",
                                                             values="text", aggfunc="first", sort=False)
    wide = wide[[m for m in units if m in wide]].rename(columns=units).reset_index()
    lines.append(wide.to_string(index=False))
    if "draw_min" in r:
        lines += ["", "Range over the parameter draws: lowest to highest of each draw's own ratio (the mean of its "
                  "replications), not an interval"]
        spread = r.assign(text=r.apply(_range_cell, axis=1)).pivot_table(
            index=["scenario", "basis"], columns="metric", values="text", aggfunc="first", sort=False)
        spread = spread[[m for m in units if m in spread]].rename(columns=units).reset_index()
        lines.append(spread.to_string(index=False))
    ranked = rank_costs(report, metric, basis)
    measure = cost_measure(basis, a["mcpf"], a["power_opportunity"])
    by = (f"yuan of {measure} cost per additional discounted job-year (lowest first)" if metric == "cost_per_job_year"
          else f"{units.get(metric, metric)} per {a['per_yuan']:,.0f} yuan of {measure} cost")
    lines += ["", f"Ranking by {by} "
              "(levers that cost money first; then those that cost nothing; then those that raise revenue; "
              "last those whose interval includes zero or is unbounded, 'unreliable', and those with no booked "
              "cost, 'booked at 0')"]
    booked = ranked["booked_at_zero"] if "booked_at_zero" in ranked else pd.Series(False, index=ranked.index)
    ranked = ranked.assign(ratio=ranked.apply(_cell, axis=1),
                           status=ranked["status"].where(~booked.astype(bool), ranked["status"] + " (booked at 0)"),
                           cost=ranked["cost"].map(_num),
                           overlaps_next=ranked["ci_overlaps_next"].map({True: "yes", False: ""}))
    lines.append(ranked[["rank", "scenario", "status", "cost", "ratio", "overlaps_next"]].rename(
        columns={"cost": f"{measure} cost PV"}).to_string(index=False))
    e = report.effects
    if len(e):
        va = e[(e["metric"] == "value_added") & (e["lever"] == "all")]
        lines += ["", "Value added, direct (targeted stages) and indirect (the rest of the chain), cumulative, "
                  "million yuan; io_indirect = upstream value added a Leontief model predicts"]
        cols = ["scenario", "direct", "indirect", "total"] + (["io_indirect"] if "io_indirect" in va else [])
        lines.append(va[cols].to_string(index=False, float_format=_num))
    return "\n".join(lines)


# every --csv table valuechain writes has a header of plain column names, the first "scenario", holding these
CSV_COLUMNS = frozenset({"scenario", "basis", "metric", "ratio", "ci_low", "ci_high", "status", "reliable", "gross",
                         "net"})


def is_cost_csv(path: Path) -> bool:
    """True if the file ``path`` is a ``--csv`` table valuechain wrote: its header names the
    :data:`CSV_COLUMNS` (among others: a column added later still counts), the first being ``scenario``."""
    names = first_line(path).split(b",")
    return names[0] == b"scenario" and {c.encode() for c in CSV_COLUMNS} <= set(names)


def cost_command(args) -> int:
    """``valuechain cost RESULTS_DIR BASELINE_DIR``: print the cost table and the ranking."""
    from .compare import load_many, without_baseline
    from .folders import say_skipped
    from .impacts import multiplier_table

    if args.csv:  # before any work: a new file, or one valuechain wrote with --overwrite (outfile)
        check_out_file(args.csv, "--csv", args.overwrite, is_cost_csv)
        if not Path(args.csv).resolve().parent.is_dir():
            raise InputError("--csv", "", "its folder does not exist", args.csv)
    base = as_run(args.baseline)
    again = lambda sub: f"valuechain cost {sub} {args.baseline}"  # noqa: E731  (the same command on SUB)
    runs = without_baseline(load_many(args.results, again), args.baseline)
    if not runs:
        raise InputError(args.results, "", "holds no results other than the baseline")
    report = cost_report(runs, base, rate=args.rate, mcpf=args.mcpf, perspective=args.perspective,
                         power_opportunity=args.power_opportunity, captive=args.captive,
                         confidence=args.confidence, method=args.interval)
    say_skipped(args.results, again)  # once the report stands
    print(format_cost_report(report, args.metric, args.basis, by_year=args.by_year))
    if args.multipliers:
        chain = fiscal.run_chain(base)
        if chain is None:
            raise InputError(args.baseline, "manifest.chain_file", "cannot load the chain for the multipliers")
        table = multiplier_table(chain)
        print(f"\nLeontief multipliers of chain '{chain.name}' ({table.attrs['units']})")
        print(table.to_string(index=False, float_format=lambda x: f"{x:,.3f}", na_rep="n/a"))
    if args.csv:
        write_replacing(args.csv, lambda tmp: csv_table(report).to_csv(tmp, index=False))  # never half a table
        print(f"\nwrote {args.csv}")
    return 0
