"""Where a lever's money and effects go: deadweight, direct and indirect effects, Leontief multipliers.

**Deadweight** (inframarginal share). For lever l, stage s, year t and replication k let ``dC`` be
the lever's extra cost (scenario minus baseline) and ``q1``, ``q0`` the lever's quantity base in the
scenario and the paired baseline (:data:`DEADWEIGHT_BASIS`: output for power and the tax lever,
exports for freight subsidies, capacity for interest subsidies). The part of the cost paid on units
the baseline also had is

    D = dC * min(q0, q1) / q1        (0 where q1 = 0),

and the deadweight share is ``sum D / sum dC`` over stages, years and replications: 0 for a lever
that only pays for new capacity where the baseline has none, 1 for a transfer on unchanged output.
The cost per *additional* unit of a stage is ``sum dC / sum max(q1 - q0, 0)`` (yuan per stage
unit; "no additional units" where the sum is 0). Entrants are covered through their output and
capacity (a holiday's cost accrues over the years after entry).

**Direct and indirect effects**, in the manner of regional impact tables (IMPLAN, RIMS II): a
lever's *targeted* stages are those where its cost changed (in any year or replication); its direct
effect is the change summed over them, its indirect effect the change summed over every other stage
(through local purchases and sales); per replication ``direct + indirect = total`` by construction
(a partition of the stages). ``io_indirect`` is what a fixed-coefficient input-output model would
predict for the upstream (backward-linkage) value added: the targeted stages' mean output change
(over the replications both sides have, paired) treated as a final-demand shock ``df``, the value
added of ``x = (I - A)^-1 df`` in the other stages, with the chain's own Leontief solution
(``simulation.economy.iomath``), every input bought locally (an upper bound: RIMS II would scale by
regional purchase coefficients) and value added per unit at the chain's base prices.

**Multipliers** (:func:`multiplier_table`): per stage, with the physical coefficients converted to
money at base prices (``A$_ij = A_ij p_i / p_j``): the type-I output multiplier (column sum of
``(I - A$)^-1``, yuan of chain output per yuan of final demand), value added per yuan of output
(direct) and chain-wide (total), their ratio (type-I value-added multiplier), and jobs per million
yuan of final demand, direct and total. The type-I ratio is undefined (NaN, printed "n/a") where a
stage's value added per unit at base prices is not positive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..simulation import schema
from ..simulation.economy import iomath
from .compare import RunLike, as_run, by_draw, check_paired, draws_of, summarize, yearly

DEADWEIGHT_BASIS = {"electricity_price": "output", "freight_subsidy": "exports", "tax": "output",
                    "interest_subsidy": "capacity",
                    # issue 12: the other levers pay for investment, plants, jobs, capacity or closures
                    "capital_grants": "investment", "land_support": "investment", "fast_track": "entries",
                    "investment_attraction": "entries", "sme_fund": "investment", "employment_subsidy": "employment",
                    "energy_saving": "capacity", "capacity_rules": "exits"}
KEYS = ["replication", "year", "stage"]



def _named(results) -> Mapping:
    """One run, or a mapping of them (as it is: a sweep's points are read as it is walked), as a
    mapping name -> run."""
    if isinstance(results, Mapping):
        return results
    run = as_run(results)
    return {run.name: run}

def _cost_by_lever(run) -> pd.DataFrame:
    """Cost by (replication, year, stage) x lever, million yuan (levers absent from the run left out)."""
    return run.fiscal.groupby(KEYS + ["lever"])["fiscal_cost"].sum().unstack("lever")


def _lever_costs(run, base, c0: pd.DataFrame | None = None) -> pd.DataFrame:
    """Extra cost by (replication, year, stage) x lever, million yuan (``c0``: the baseline's
    :func:`_cost_by_lever`, when the caller has it already)."""
    c1 = _cost_by_lever(run)
    c0 = _cost_by_lever(base) if c0 is None else c0
    idx = c1.index.union(c0.index)
    c1 = c1.reindex(idx).reindex(columns=schema.LEVERS).fillna(0.0)
    c0 = c0.reindex(idx).reindex(columns=schema.LEVERS).fillna(0.0)
    return c1 - c0


def deadweight(results: Mapping[str, RunLike] | RunLike, baseline: RunLike, *, by_stage: bool = False,
               basis: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Deadweight share of each lever's extra cost and the cost per additional unit (see module doc).

    One row per (scenario, lever[, stage]) with ``cost`` (mean extra cost over replications, million
    yuan), ``deadweight_cost``, ``deadweight_share`` (0..1, or 0 with ``status`` "no cost"),
    ``basis``, and with ``by_stage`` also ``additional_units`` (mean per replication, stage units,
    cumulated) and ``cost_per_additional_unit`` (yuan per stage unit).
    """
    basis = dict(DEADWEIGHT_BASIS, **(basis or {}))
    results, base = _named(results), as_run(baseline)
    ref = Baseline(base)
    rows = []
    for name, res in results.items():
        rows += deadweight_rows(name, as_run(res), ref, by_stage=by_stage, basis=basis)
    return deadweight_frame(rows, basis)


class Baseline:
    """What the per-scenario reductions need of the baseline, computed once for all scenarios."""

    def __init__(self, base):
        self.run = base
        self.cost_by_lever = _cost_by_lever(base)
        self.stages = base.stages.set_index(KEYS)
        self._yearly: dict[tuple[str, str | None], pd.DataFrame] = {}

    def yearly(self, metric: str, by: str | None) -> pd.DataFrame:
        if (metric, by) not in self._yearly:
            self._yearly[metric, by] = yearly(self.run, metric, by)
        return self._yearly[metric, by]


def deadweight_frame(rows: list[dict], basis: Mapping[str, str]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    out.attrs.update({"units": "million yuan; cost per additional unit in yuan per stage unit",
                      "basis": basis})
    return out


def deadweight_rows(name: str, run, ref: Baseline, *, by_stage: bool = False,
                    basis: Mapping[str, str] | None = None, dc: pd.DataFrame | None = None) -> list[dict]:
    """The rows of :func:`deadweight` of one scenario against the baseline ``ref`` (``dc``: the
    run's :func:`_lever_costs`, when the caller has it already)."""
    basis = dict(DEADWEIGHT_BASIS, **(basis or {}))
    rows: list[dict] = []
    dc = _lever_costs(run, ref.run, ref.cost_by_lever) if dc is None else dc
    q1 = run.stages.set_index(KEYS)
    q0 = ref.stages
    n = max(dc.index.get_level_values("replication").nunique(), 1)
    for lv in schema.LEVERS:
        col = basis[lv]
        if col not in q1.columns and dc[lv].abs().max() <= 1e-12:  # a lever that costs nothing here
            if not by_stage:
                rows.append({"scenario": name, "lever": lv, "basis": col, "cost": 0.0, "deadweight_cost": 0.0,
                             "deadweight_share": 0.0, "status": "no cost"})
            continue
        a = q1[col].reindex(dc.index).fillna(0.0).to_numpy(dtype=float)
        b = q0[col].reindex(dc.index).fillna(0.0).to_numpy(dtype=float)
        share = np.divide(np.minimum(a, b), a, out=np.zeros_like(a), where=a > 0)
        frame = pd.DataFrame({"cost": dc[lv].to_numpy(), "dw": dc[lv].to_numpy() * share,
                              "extra": np.maximum(a - b, 0.0)}, index=dc.index)
        if not by_stage:
            cost, dw = frame["cost"].sum() / n, frame["dw"].sum() / n
            if abs(cost) <= 1e-12:
                rows.append({"scenario": name, "lever": lv, "basis": col, "cost": 0.0, "deadweight_cost": 0.0,
                             "deadweight_share": 0.0, "status": "no cost"})
            else:
                rows.append({"scenario": name, "lever": lv, "basis": col, "cost": cost, "deadweight_cost": dw,
                             "deadweight_share": dw / cost, "status": "cost" if cost > 0 else "saves money"})
            continue
        for stage, g in frame.groupby(level="stage", sort=False):
            if g["cost"].abs().sum() <= 1e-12:
                continue
            cost, dw, extra = g["cost"].sum() / n, g["dw"].sum() / n, g["extra"].sum() / n
            rows.append({"scenario": name, "lever": lv, "stage": stage, "basis": col, "cost": cost,
                         "deadweight_cost": dw, "deadweight_share": dw / cost if cost != 0 else 0.0,
                         "additional_units": extra,
                         "cost_per_additional_unit": cost / schema.MONEY_SCALE / extra if extra > 0 else np.inf,
                         "status": ("no additional units" if extra <= 0
                                    else "cost" if cost > 0 else "saves money")})
    return rows


def targeted_stages(run, base, lever: str | None = None, tol: float = 1e-12) -> list[str]:
    """Stages where ``lever``'s cost (any lever's if None) differs from the baseline's, and the
    stages its rules name (:func:`rule_stages`: a lever booked at zero, such as fast-track approval
    or a capacity cap, targets stages too)."""
    run, base = as_run(run), as_run(base)
    dc = _lever_costs(run, base)
    return _targeted(dc, run, lever, tol, rule_stages(run, base, costed=_costed(dc, tol)))


def _costed(dc: pd.DataFrame, tol: float = 1e-12) -> set[str]:
    """The levers whose booked cost differs from the baseline's somewhere (``dc``: :func:`_lever_costs`)."""
    return {lv for lv in dc.columns if dc[lv].abs().max() > tol}


def _policy(run):
    """The policy of ``run``'s recorded scenario, or None (:func:`comparable.manifest_scenario`)."""
    from .comparable import manifest_scenario

    spec = manifest_scenario(run.manifest)
    return spec.policy if spec is not None else None


def rule_stages(run, base, chain=None, costed: set[str] = frozenset()) -> dict[str, set[str]]:
    """Lever key -> the stages named (sectors, tiers, stages; any zone) by the rules of ``run``'s
    scenario that ``base``'s has not (the same rule in the same list of the lever's block), for the
    levers with such rules; for a lever in ``costed`` (its booked cost marks the stages it reaches),
    a rule that names no sector, tier or stage (all of them, in some zones: a zone's tax holiday)
    marks none, or the split would say nothing; empty where a manifest holds no scenario or the
    run's chain cannot be read. ``chain``: the run's chain, if at hand."""
    from ..simulation.economy.levers import LEVERS
    from ..simulation.economy.targeting import target_mask
    from .run import run_chain

    policy, base_policy = _policy(run), _policy(base)
    chain = chain if chain is not None or policy is None else run_chain(run)
    if chain is None or policy is None:
        return {}
    out: dict[str, set[str]] = {}
    for lever in LEVERS:
        theirs = lever.rule_lists(getattr(base_policy, lever.key)) if base_policy is not None else {}
        for name, rules in lever.rule_lists(getattr(policy, lever.key)).items():
            for rule in rules:
                every_stage = not (rule.sectors or rule.tiers or rule.stages)
                if rule in theirs.get(name, []) or (every_stage and lever.key in costed):
                    continue  # the baseline's own rule, or one for every stage its cost already marks
                named = np.flatnonzero(target_mask(rule, chain).any(axis=1))
                out.setdefault(lever.key, set()).update(chain.order[i] for i in named)
    return out


def _targeted(dc: pd.DataFrame, run, lever: str | None = None, tol: float = 1e-12,
              named: dict[str, set[str]] | None = None) -> list[str]:
    """:func:`targeted_stages` from the run's extra cost by lever ``dc`` (:func:`_lever_costs`) and
    the stages the levers' rules name (``named``, :func:`rule_stages`)."""
    d = dc.abs().sum(axis=1) if lever is None else dc[lever].abs()
    hit = set(d[d > tol].index.get_level_values("stage").unique())
    for key, stages in (named or {}).items():
        if lever is None or key == lever:
            hit |= stages
    return [s for s in pd.unique(run.stages["stage"]) if s in hit]  # in the run's order of first appearance


def direct_indirect(results: Mapping[str, RunLike] | RunLike, baseline: RunLike,
                    metrics: Sequence[str] = ("value_added", "employment", "investment"), *,
                    per_lever: bool = True, confidence: float = 0.95, chain=None) -> pd.DataFrame:
    """Each scenario's (and, with ``per_lever``, each active lever's) effect split into its targeted
    stages (direct) and the rest of the chain (indirect), cumulated over the horizon, with paired t
    intervals (over parameter draws when both sides have them; ``n`` counts the units). Rows:
    ``scenario, lever ('all' or a lever), metric, targeted, direct, indirect, total`` (+
    ``_low``/``_high``) and ``io_indirect`` (value added only, when ``chain`` is given)."""
    results, base = _named(results), as_run(baseline)
    ref = Baseline(base)
    rows = []
    for name, res in results.items():
        rows += direct_indirect_rows(name, as_run(res), ref, metrics, per_lever=per_lever, confidence=confidence,
                                     chain=chain)
    return direct_indirect_frame(rows, confidence)


def direct_indirect_frame(rows: list[dict], confidence: float) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    out.attrs.update({"confidence": confidence, "horizon": "cumulative over the horizon",
                      "units": "million yuan; employment in job-years"})
    return out


def direct_indirect_rows(name: str, run, ref: Baseline,
                         metrics: Sequence[str] = ("value_added", "employment", "investment"), *,
                         per_lever: bool = True, confidence: float = 0.95, chain=None,
                         dc: pd.DataFrame | None = None) -> list[dict]:
    """The rows of :func:`direct_indirect` of one scenario; each metric's stage sums are reduced once
    for every lever, the baseline's once for every scenario (``ref``; ``dc`` as in
    :func:`deadweight_rows`)."""
    base = ref.run
    rows: list[dict] = []
    dc = _lever_costs(run, base, ref.cost_by_lever) if dc is None else dc
    costed = _costed(dc)
    named = rule_stages(run, base, chain, costed)
    active = [lv for lv in schema.LEVERS if lv in costed or named.get(lv)]
    levers = [None] + (active if per_lever and len(active) > 1 else [])
    sums = {}
    for metric in metrics:
        y1 = yearly(run, metric, "stage").groupby(["stage", "replication"])[metric].sum()
        y0 = ref.yearly(metric, "stage").groupby(["stage", "replication"])[metric].sum()
        reps = sorted(set(y1.index.get_level_values(1)) & set(y0.index.get_level_values(1)))
        check_paired(run, base, reps)
        sums[metric] = (y1.sub(y0, fill_value=0.0), reps)
    dx = None
    draw = draws_of(run, base)  # with parameter draws the draw is the unit of the intervals
    for lv in levers:
        target = _targeted(dc, run, lv, named=named)
        for metric in metrics:
            d, reps = sums[metric]
            inside = d.index.get_level_values("stage").isin(target)
            direct = d[inside].groupby(level="replication").sum().reindex(reps, fill_value=0.0)
            indirect = d[~inside].groupby(level="replication").sum().reindex(reps, fill_value=0.0)
            total = direct + indirect
            row = {"scenario": name, "lever": lv or "all", "metric": metric, "n": len(by_draw(total, draw)),
                   "targeted": ", ".join(target)}
            for key, series in (("direct", direct), ("indirect", indirect), ("total", total)):
                s = summarize(by_draw(series, draw).to_numpy(), confidence)
                row.update({key: s["effect"], f"{key}_low": s["ci_low"], f"{key}_high": s["ci_high"]})
            if chain is not None and metric == "value_added":
                if dx is None:
                    dx = mean_output_change(yearly(run, "output", "stage"), ref.yearly("output", "stage"), reps)
                row["io_indirect"] = io_indirect_value_added(chain, dx.reindex(target).fillna(0.0))
            rows.append(row)
    return rows


def mean_output_change(o1: pd.DataFrame, o0: pd.DataFrame, reps: Sequence) -> pd.Series:
    """Mean output change by stage over the paired replications ``reps`` (stage units): each side's
    output (``replication, year, stage, output``) summed over the replications both have only, so a
    scenario with fewer replications than its baseline is not set against the baseline's others."""
    n = max(len(reps), 1)
    return (o1[o1["replication"].isin(reps)].groupby("stage")["output"].sum()
            - o0[o0["replication"].isin(reps)].groupby("stage")["output"].sum()) / n


def _money_coefficients(chain) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(chain.price0, float)
    return chain.A * p[:, None] / p[None, :], p


def va_per_unit(chain, power_yuan_per_kwh: float = 0.40) -> np.ndarray:
    """Value added per unit at base prices: price - chain inputs - other inputs - power (yuan)."""
    p = np.asarray(chain.price0, float)
    return p - chain.A.T @ p - chain.other_inputs - chain.kwh * power_yuan_per_kwh


def io_indirect_value_added(chain, df_units: pd.Series, power_yuan_per_kwh: float = 0.40) -> float:
    """Value added that ``x = L df`` puts in the stages *outside* the shock (``df``: stage units by
    stage, the targeted stages' output change), million yuan: ``sum_{i not shocked} va_i (L df)_i``."""
    f = np.zeros(chain.n_stages)
    for stage, v in df_units.items():
        f[chain.index[stage]] = v
    x = iomath.leontief_quantity(chain.A, f)
    outside = f == 0
    return float(va_per_unit(chain, power_yuan_per_kwh)[outside] @ x[outside] * schema.MONEY_SCALE)


def multiplier_table(chain, power_yuan_per_kwh: float = 0.40) -> pd.DataFrame:
    """The chain's Leontief multipliers by stage (see the module docstring), upstream first."""
    A, p = _money_coefficients(chain)
    va_share = va_per_unit(chain, power_yuan_per_kwh) / p
    jobs = chain.workers / p * 1e6  # jobs per million yuan of output
    out_mult = iomath.output_multipliers(A)
    va_mult = iomath.value_added_multipliers(A, va_share)
    job_mult = iomath.value_added_multipliers(A, jobs)
    table = pd.DataFrame({
        "stage": chain.order, "sector": chain.sector, "tier": chain.tier,
        "output_multiplier": out_mult,
        "va_per_yuan_direct": va_share, "va_per_yuan_total": va_mult,
        "va_multiplier_type1": np.divide(va_mult, va_share, out=np.full_like(va_mult, np.nan), where=va_share > 0),
        "jobs_per_million_direct": jobs, "jobs_per_million_total": job_mult,
    })
    table.attrs["units"] = ("per yuan of final demand at base prices; jobs per million yuan; all inputs bought "
                            "locally (type I, no induced household spending)")
    return table


def lever_costs(run, ref: Baseline) -> pd.DataFrame:
    """Extra cost by (replication, year, stage) x lever of ``run`` against the baseline ``ref``."""
    return _lever_costs(run, ref.run, ref.cost_by_lever)
