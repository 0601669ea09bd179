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
treated as a final-demand shock ``df``, the value added of ``x = (I - A)^-1 df`` in the other
stages, with the chain's own Leontief solution (``simulation.economy.iomath``), every input bought
locally (an upper bound: RIMS II would scale by regional purchase coefficients) and value added per
unit at the chain's base prices.

**Multipliers** (:func:`multiplier_table`): per stage, with the physical coefficients converted to
money at base prices (``A$_ij = A_ij p_i / p_j``): the type-I output multiplier (column sum of
``(I - A$)^-1``, yuan of chain output per yuan of final demand), value added per yuan of output
(direct) and chain-wide (total), their ratio (type-I value-added multiplier), and jobs per million
yuan of final demand, direct and total. The type-I ratio is +inf where a stage's value added per
unit at base prices is not positive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..simulation import schema
from ..simulation.economy import iomath
from .compare import RunLike, as_run, check_paired, summarize, yearly

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

def _lever_costs(run, base) -> pd.DataFrame:
    """Extra cost by (replication, year, stage) x lever, million yuan."""
    c1 = run.fiscal.groupby(KEYS + ["lever"])["fiscal_cost"].sum().unstack("lever")
    c0 = base.fiscal.groupby(KEYS + ["lever"])["fiscal_cost"].sum().unstack("lever")
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
    rows = []
    for name, res in results.items():
        run = as_run(res)
        dc = _lever_costs(run, base)
        q1 = run.stages.set_index(KEYS)
        q0 = base.stages.set_index(KEYS)
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
    out = pd.DataFrame(rows)
    out.attrs.update({"units": "million yuan; cost per additional unit in yuan per stage unit",
                      "basis": basis})
    return out


def targeted_stages(run, base, lever: str | None = None, tol: float = 1e-12) -> list[str]:
    """Stages where ``lever``'s cost (any lever's if None) differs from the baseline's."""
    dc = _lever_costs(as_run(run), as_run(base))
    d = dc.abs().sum(axis=1) if lever is None else dc[lever].abs()
    hit = d[d > tol].index.get_level_values("stage").unique()
    order = list(dict.fromkeys(as_run(run).stages["stage"]))
    return [s for s in order if s in set(hit)]


def direct_indirect(results: Mapping[str, RunLike] | RunLike, baseline: RunLike,
                    metrics: Sequence[str] = ("value_added", "employment", "investment"), *,
                    per_lever: bool = True, confidence: float = 0.95, chain=None) -> pd.DataFrame:
    """Each scenario's (and, with ``per_lever``, each active lever's) effect split into its targeted
    stages (direct) and the rest of the chain (indirect), cumulated over the horizon, with paired t
    intervals. Rows: ``scenario, lever ('all' or a lever), metric, targeted, direct, indirect,
    total`` (+ ``_low``/``_high``) and ``io_indirect`` (value added only, when ``chain`` is given)."""
    results, base = _named(results), as_run(baseline)
    rows = []
    for name, res in results.items():
        run = as_run(res)
        dc = _lever_costs(run, base)
        active = [lv for lv in schema.LEVERS if dc[lv].abs().max() > 1e-12]
        levers = [None] + (active if per_lever and len(active) > 1 else [])
        for lv in levers:
            target = targeted_stages(run, base, lv)
            for metric in metrics:
                y1 = yearly(run, metric, "stage").groupby(["stage", "replication"])[metric].sum()
                y0 = yearly(base, metric, "stage").groupby(["stage", "replication"])[metric].sum()
                d = y1.sub(y0, fill_value=0.0)
                reps = sorted(set(y1.index.get_level_values(1)) & set(y0.index.get_level_values(1)))
                check_paired(run, base, reps)
                inside = d.index.get_level_values("stage").isin(target)
                direct = d[inside].groupby(level="replication").sum().reindex(reps, fill_value=0.0)
                indirect = d[~inside].groupby(level="replication").sum().reindex(reps, fill_value=0.0)
                total = direct + indirect
                row = {"scenario": name, "lever": lv or "all", "metric": metric, "n": len(reps),
                       "targeted": ", ".join(target)}
                for key, series in (("direct", direct), ("indirect", indirect), ("total", total)):
                    s = summarize(series.to_numpy(), confidence)
                    row.update({key: s["effect"], f"{key}_low": s["ci_low"], f"{key}_high": s["ci_high"]})
                if chain is not None and metric == "value_added":
                    dx = (yearly(run, "output", "stage").groupby("stage")["output"].sum()
                          - yearly(base, "output", "stage").groupby("stage")["output"].sum()) / max(len(reps), 1)
                    row["io_indirect"] = io_indirect_value_added(chain, dx.reindex(target).fillna(0.0))
                rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update({"confidence": confidence, "horizon": "cumulative over the horizon",
                      "units": "million yuan; employment in job-years"})
    return out


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
        "va_multiplier_type1": np.divide(va_mult, va_share, out=np.full_like(va_mult, np.inf), where=va_share > 0),
        "jobs_per_million_direct": jobs, "jobs_per_million_total": job_mult,
    })
    table.attrs["units"] = ("per yuan of final demand at base prices; jobs per million yuan; all inputs bought "
                            "locally (type I, no induced household spending)")
    return table
