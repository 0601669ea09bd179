"""The back-test: the model's runs of the recorded history against the observed record.

:func:`model_series` turns stage results into the observed series (per run and year) by the
mapping of ``scenarios/observed/xinjiang_series.yaml``, at each series' timing (stocks at the
year's end and investment as spent by ``build_timing``); :func:`backtest_table` gives, for every
series and every year, the mean over runs, the 2.5-97.5% range over runs (replications, and
parameter draws when the runs have them), the record where one is known and
``error = model_mean / record - 1`` (a record of part of a year, ``months`` < 12, against that
part of the model's year, ``months / 12`` of it), with the coverage factors fitted on one record
re-fitted in every parameter draw (:func:`refit_factors`, :func:`reanchored`; docs/calibration.md
§14.17); :func:`format_table` prints it with each record's
role (fitted, check, held out: ``observed.role``) and a summary line; :func:`plot_backtest` draws
one panel per series with the model band, the record points and the calibration/validation split.
Scoring only: running the model is the command line's job (``valuechain backtest``, ``simulation.running.backtest``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..simulation.config.observed import (
    CHOSE,
    LAST_CALIBRATION_YEAR,
    Observed,
    check_stages,
    load_observed,
    role,
    role_label,
)
from . import build_timing

TABLE_COLUMNS = ["series", "year", "unit", "model_mean", "model_low", "model_high", "record", "error"]
MODEL_COLUMNS = ["model_mean", "model_low", "model_high"]
FITTED_MARKER = "D"  # the figure's marker of a fitted record (a check's is "o")
LOW_Q, HIGH_Q = 0.025, 0.975


def _share_of_year(table: pd.DataFrame, observed: Observed) -> np.ndarray:
    """Per row of ``table``: the record's ``months`` / 12 (1 where no record or a full year)."""
    months = observed.frame().set_index(["series", "year"]).months
    return table.join(months, on=["series", "year"]).months.fillna(12).to_numpy(dtype=float) / 12


def _stages_of(results) -> pd.DataFrame:
    return results if isinstance(results, pd.DataFrame) else results.stages


def _summed(st: pd.DataFrame, part) -> pd.Series:
    """``part.column`` summed over ``part.stages`` by (replication, year)."""
    return st[st.stage.isin(part.stages)].groupby(["replication", "year"])[part.column].sum()


def _starting_firms(st: pd.DataFrame, stages: list[str]) -> pd.Series:
    """The firms of ``stages`` the runs start with, as the stock at the end of the year before the
    first (``firms`` counts a year's end: the first year's firms less its entries plus its exits),
    by (replication, year)."""
    first = int(st.year.min())
    year = st[(st.year == first) & st.stage.isin(stages)].groupby("replication")[["firms", "entries", "exits"]].sum()
    start = year.firms - year.entries + year.exits
    return start.set_axis(pd.MultiIndex.from_arrays([start.index, np.full(len(start), first - 1)],
                                                    names=["replication", "year"]))


def _wide(st: pd.DataFrame, stages: list[str], column: str) -> pd.DataFrame:
    """``column`` summed over ``stages``: replications x years (consecutive years checked)."""
    wide = st[st.stage.isin(stages)].groupby(["replication", "year"])[column].sum().unstack("year").sort_index(axis=1)
    years = wide.columns.to_numpy()
    if years.size and not np.array_equal(years, np.arange(years[0], years[0] + years.size)):
        raise ValueError(f"the results' years are not consecutive: {list(years)}")
    return wide


def _spent(st: pd.DataFrame, stages: list[str], chain, months: float) -> pd.DataFrame:
    """Investment of ``stages`` as spent (``build_timing.as_spent``), summed: replications x years."""
    total = None
    for stage in stages:
        i = chain.index[stage]
        lag, cost = int(chain.build_lag[i]), float(chain.capital_cost[i])
        orders = _wide(st, [stage], "investment")
        start = int(orders.columns[0])
        start_capacity = _wide(st, [stage], "capacity")[start].reindex(orders.index).to_numpy()
        weights = build_timing.spending_weights(lag, months)
        initial = float(chain.initial_capacity[i])
        rows = []
        for row, capacity in zip(orders.to_numpy(), start_capacity):
            # the start's pipeline as the model places it: in proportion to the run's (scaled) start capacity
            pipeline = {year: float(units[i]) / initial * capacity * 1e-6 if initial > 0 else 0.0
                        for year, units in chain.initial_pipeline.items()}  # units x 1e-6: million yuan at cost
            rows.append(build_timing.as_spent(row, weights, build_timing.carried_orders(
                row[0], lag, cost, pipeline, start, weights.size - 1)))
        part = pd.DataFrame(rows, index=orders.index, columns=orders.columns)
        total = part if total is None else total + part
    return total


def _halting_stages(results, chain) -> set[str]:
    """Stages under a capacity cap that halts projects under construction (their orders may never
    arrive): the results' scenario's ``policy.capacity_rules.caps``."""
    spec = getattr(getattr(results, "scenario", None), "spec", None)
    caps = spec.policy.capacity_rules.caps if spec is not None else []
    out = set()
    for rule in caps:
        if rule.halts_under_construction:
            for stage in chain.order:
                s = chain.spec.stages[stage]
                if ((not rule.stages or stage in rule.stages) and (not rule.sectors or s.sector in rule.sectors)
                        and (not rule.tiers or s.tier in rule.tiers)):
                    out.add(stage)
    return out


def _arrivals(st: pd.DataFrame, stages: list[str], chain, halting: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Capacity of ``stages`` joining at the start of each year, summed: replications x years. An
    order of year t (investment / capital cost) joins in t + 1 + lag; the orders placed before the
    start join as the model places them: the replacement of the start's wear in the first lag years
    and the capacity under construction, in proportion to the run's (scaled) start capacity. Where
    no firm of the stage left in year t, the arrivals of t + 1 are the model's own,
    ``X(t + 1) - (1 - depreciation) X(t)``; otherwise the orders'. In ``halting`` stages (a cap
    halts projects under construction, so an order may never arrive) they are always the model's
    own, the firms that leave taken to carry no producing capacity (as the halted entrants)."""
    total = None
    for stage in stages:
        i = chain.index[stage]
        lag, cost = int(chain.build_lag[i]), float(chain.capital_cost[i])
        orders = _wide(st, [stage], "investment") * 1e6 / cost  # million yuan -> units
        years = orders.columns.to_numpy()
        capacity = _wide(st, [stage], "capacity")[years[0]].reindex(orders.index).to_numpy()
        initial = float(chain.initial_capacity[i])
        before = np.zeros(orders.shape)
        for j in range(1, min(lag + 1, years.size)):
            before[:, j] = float(chain.depreciation[i]) * capacity
        for year, units in chain.initial_pipeline.items():
            j = int(year - years[0])
            if 0 <= j < years.size and initial > 0:
                before[:, j] += float(units[i]) / initial * capacity
        joining = build_timing.arrivals(orders.to_numpy(dtype=float), lag, before)
        cap = _wide(st, [stage], "capacity").reindex(index=orders.index, columns=orders.columns).to_numpy(dtype=float)
        exits = _wide(st, [stage], "exits").reindex(index=orders.index, columns=orders.columns).to_numpy()
        flow = cap[:, 1:] - (1.0 - float(chain.depreciation[i])) * cap[:, :-1]
        joining[:, 1:] = np.where((exits[:, :-1] == 0) | (stage in halting), flow, joining[:, 1:])
        part = pd.DataFrame(joining, index=orders.index, columns=orders.columns)
        total = part if total is None else total + part
    return total


def model_series(results, observed: Observed | None = None, chain=None) -> pd.DataFrame:
    """``series, year, replication, value``: each observed series computed from every run, at its
    ``timing`` (``in_year``; ``end_of_year``: the stock at the year's end, from the year before the
    first to the year before the last, which needs the capacity column and the chain; ``as_spent``:
    investment when spent, which needs the chain the runs used, ``chain`` or the results' own;
    docs/calibration.md §14.10); a count of firms (the ``firms`` column, a year's end) also has the
    year before the first, the firms the runs start with (:func:`_starting_firms`); a ``growth``
    series is the ratio of its sum to the year before's, run by run, from the second year."""
    observed = observed or load_observed()
    st = _stages_of(results)
    check_stages(observed, set(st.stage.unique()), "the results")
    months = observed.build_timing.construction_months if observed.build_timing else None
    frames = []
    for name, s in observed.series.items():
        if s.timing == "as_spent":
            chain = chain if chain is not None else getattr(getattr(results, "scenario", None), "chain", None)
            if chain is None:
                raise ValueError(f"series {name} is mapped as spent: pass the chain the runs used")
            value = _spent(st, s.numerator.stages, chain, months).stack()
        elif s.timing == "end_of_year":
            chain = chain if chain is not None else getattr(getattr(results, "scenario", None), "chain", None)
            if chain is None or s.numerator.column != "capacity":
                raise ValueError(f"series {name} is a stock at the year's end: it needs the capacity column "
                                 "and the chain the runs used")
            wide = _wide(st, s.numerator.stages, s.numerator.column)
            joining = _arrivals(st, s.numerator.stages, chain, frozenset(_halting_stages(results, chain)))
            joining = joining.reindex(index=wide.index, columns=wide.columns)
            years = pd.Index(np.arange(wide.columns[0] - 1, wide.columns[-1]), name="year")
            own = s.construction_months if s.construction_months is not None else months
            value = pd.DataFrame(build_timing.end_of_year_stock(wide.to_numpy(dtype=float),
                                                                joining.to_numpy(dtype=float), own),
                                 index=wide.index, columns=years).stack()
        else:
            value = _summed(st, s.numerator)
            if s.numerator.column == "firms" and s.denominator is None and not s.growth:
                value = pd.concat([_starting_firms(st, s.numerator.stages), value]).sort_index()
            if s.denominator is not None:
                value = value / _summed(st, s.denominator).replace(0, np.nan)
            if s.growth:  # on the year before, run by run (none in the first year)
                wide = _wide(st, s.numerator.stages, s.numerator.column)
                value = (wide / wide.shift(1, axis=1).replace(0, np.nan)).iloc[:, 1:].stack()
        frames.append((value * s.factor).rename("value").reset_index().assign(series=name))
    out = pd.concat(frames, ignore_index=True)[["series", "year", "replication", "value"]]
    return out.astype({"year": np.int64})


def backtest_table(results, observed: Observed | None = None, years: list[int] | None = None,
                   factors: pd.DataFrame | None = None, reanchor: bool = True) -> pd.DataFrame:
    """Model against record for every series and year (``TABLE_COLUMNS``; ``record`` NaN where
    unknown): each series over its own years (``model_series``) up to the last year that every
    series has, and every year with a record (a record the runs do not reach has no model value).
    With ``reanchor`` (default), every coverage factor fitted on one record is re-fitted in each
    parameter draw (:func:`refit_factors` of these runs, or ``factors``: the recorded history's for
    its counterfactual), so the interval is that of the path given the fit; ``reanchor=False``
    keeps the mapping file's factors."""
    observed = observed or load_observed()
    ms = model_series(results, observed)
    if reanchor:
        factors = factors if factors is not None else refit_factors(results, observed, ms)
        ms = reanchored(ms, run_draws(results), factors, observed)
    stats = ms.groupby(["series", "year"]).value.agg(
        model_mean="mean", model_low=lambda v: v.quantile(LOW_Q), model_high=lambda v: v.quantile(HIGH_Q))
    rec = observed.frame().set_index(["series", "year"]).value.rename("record")
    # every series' own years up to the last year every series has, and every record's year
    last = ms.groupby("series").year.max().min()
    pairs = set(stats.index[stats.index.get_level_values("year") <= last]) | set(rec.index)
    if years is not None:
        pairs = {p for p in pairs if p[1] in set(years)}
    order = {name: i for i, name in enumerate(observed.series)}
    grid = pd.MultiIndex.from_tuples(sorted(pairs, key=lambda p: (order[p[0]], p[1])), names=["series", "year"])
    table = stats.reindex(grid).reset_index()
    table = table.join(rec, on=["series", "year"])
    table[MODEL_COLUMNS] = table[MODEL_COLUMNS].mul(_share_of_year(table, observed), axis=0)
    table["unit"] = table.series.map({k: s.unit for k, s in observed.series.items()})
    table["error"] = table.model_mean / table.record - 1
    return table[TABLE_COLUMNS]


def scored(table: pd.DataFrame) -> pd.DataFrame:
    """The rows with a record, with ``use`` (calibration up to 2017, validation after)."""
    out = table.dropna(subset=["record"]).copy()
    out["use"] = np.where(out.year <= LAST_CALIBRATION_YEAR, "calibration", "validation")
    return out


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per series and use: number of records, mean absolute error, share within ±25% and ±50%."""
    s = scored(table)
    s["abs_error"] = s.error.abs()
    g = s.groupby(["series", "use"]).abs_error
    return pd.DataFrame({"records": g.size(), "mean_abs_error": g.mean(),
                         "within_25pct": g.apply(lambda v: (v <= 0.25).mean()),
                         "within_50pct": g.apply(lambda v: (v <= 0.50).mean())}).reset_index()


def run_draws(results) -> pd.Series:
    """``replication -> draw``: each run's parameter draw (the runs' ``draw`` column), 0 for every
    run of results without parameter draws (one draw: the defaults, or the ``--set`` values)."""
    runs = getattr(results, "runs", None)
    if runs is not None and "draw" in runs:
        return runs.set_index("replication").draw.astype(np.int64)
    replications = _stages_of(results).replication.unique()
    return pd.Series(0, index=pd.Index(np.sort(replications), name="replication"), name="draw", dtype=np.int64)


def refit_factors(results, observed: Observed | None = None, ms: pd.DataFrame | None = None) -> pd.DataFrame:
    """The coverage factors re-fitted in every parameter draw: ``draw, series, year, model, record,
    factor``. For every series with ``factor_fitted_on`` (a factor fitted on one of its own records),
    ``model`` is the draw's mean over its replications of the series in that year at the mapping's
    factor (``months / 12`` of the year for a partial-year record), and
    ``factor = mapping factor x record / model``: the factor that makes the draw's mean match the
    record exactly, as the mapping file fitted it at the defaults (a series whose fitting year the
    runs do not reach is left out: it keeps the file's factor). One factor per draw, not per
    replication: the factor maps the model's stages onto the region's whole industry and should not
    absorb one shock path's noise in the fitting year. ``ms`` is :func:`model_series` of
    ``results`` if already computed."""
    observed = observed or load_observed()
    ms = ms if ms is not None else model_series(results, observed)
    draws = run_draws(results)
    rec = observed.frame().set_index(["series", "year"])
    rows = []
    for name, s in observed.series.items():
        year = s.factor_fitted_on
        if year is None:
            continue
        fit = ms[(ms.series == name) & (ms.year == year)]
        if fit.empty:  # runs that end before the fitting year keep the mapping file's factor
            continue
        share = rec.loc[(name, year), "months"] / 12
        means = fit.assign(draw=fit.replication.map(draws)).groupby("draw").value.mean() * share
        record = float(rec.loc[(name, year), "value"])
        for draw, model in means.items():
            rows.append({"draw": int(draw), "series": name, "year": year, "model": float(model), "record": record,
                         "factor": s.factor * record / model if model > 0 else np.nan})
    return pd.DataFrame(rows, columns=["draw", "series", "year", "model", "record", "factor"])


def reanchored(ms: pd.DataFrame, draws: pd.Series, factors: pd.DataFrame, observed: Observed) -> pd.DataFrame:
    """:func:`model_series` values with each re-fitted series' factor replaced, draw by draw, by
    ``factors`` (:func:`refit_factors`; the recorded history's factors for its counterfactual, so
    that a draw maps both through the same coverage). Series without a re-fitted factor are
    unchanged."""
    out = ms.copy()
    for name, part in factors.groupby("series"):
        ratio = part.set_index("draw").factor / observed.series[name].factor
        rows = out.series == name
        of_run = out.loc[rows, "replication"].map(draws).map(ratio)
        if of_run.isna().any():
            raise ValueError(f"no re-fitted factor of {name} for some draws of the runs")
        out.loc[rows, "value"] = out.loc[rows, "value"] * of_run
    return out


def in_sample_score(table: pd.DataFrame, exclude: set[tuple[str, int]] | frozenset = frozenset()) -> dict:
    """The in-sample objective: the mean absolute log error over the calibration records (years
    up to ``LAST_CALIBRATION_YEAR``), each series weighted equally and each of its records equally
    within it: ``score = (1 / S) sum_s (1 / n_s) sum_y |ln(model_mean_sy / record_sy)|``. Records in
    ``exclude`` ((series, year)) are left out (levels fitted on them); held-out years never enter.
    A record the model's mean misses entirely (0, as in a small test population) scores inf.
    Returns ``score``, ``records``, ``series``, the largest absolute error and the share of records
    within ±25% (``error = model / record - 1``)."""
    s = scored(table)
    s = s[(s.use == "calibration") & ~s.set_index(["series", "year"]).index.isin(list(exclude))]
    with np.errstate(divide="ignore"):  # a model value of 0 against a record misses it entirely: inf
        log_error = np.log(s.model_mean / s.record).abs()
    per_series = log_error.groupby(s.series).mean()
    return {"score": float(per_series.mean()), "records": int(len(s)), "series": int(per_series.size),
            "max_abs_error": float(s.error.abs().max()), "within_25pct": float((s.error.abs() <= 0.25).mean())}


def roles_summary(table: pd.DataFrame) -> str:
    """One line: how many in-sample records are fitted (a level of the chain or a mapping factor
    was set on them) and how close the model stays to them (how many within ±5%, and the largest
    error: a level fitted at the defaults moves with the draws and the replications, and some were
    fitted before a later change), how many checks lie within ±25%, and how many held-out records
    lie within ±25% and ±50%; for checks and held-out records also how many records lie inside the
    model's 2.5-97.5% range (``model_low <= record <= model_high``, edges included), since the
    ±25% bands judge the model's mean only. Where some checks chose a setting's value
    (``observed.CHOSE``), the checks without them are counted too."""
    s = scored(table)
    r = np.array([role(a, int(b)) for a, b in zip(s.series, s.year)], dtype=object)
    signed = s.error.to_numpy()
    err = np.abs(signed)
    fitted, check, out = r == "fitted", r == "check", r == "held out"
    inside = ((s.model_low <= s.record) & (s.record <= s.model_high)).to_numpy()
    worst = f", largest {signed[fitted][np.argmax(err[fitted])]:+.0%}" if fitted.any() else ""
    chose = check & np.array([(a, int(b)) in CHOSE for a, b in zip(s.series, s.year)], dtype=bool)
    free = check & ~chose
    others = (f", and of the {int(free.sum())} checks that chose no setting "
              f"{int((err[free] <= 0.25).sum())} within ±25%" if chose.any() else "")
    return (f"in sample: {int(fitted.sum())} fitted (set on their records: {int((err[fitted] <= 0.05).sum())} within "
            f"±5%{worst}), {int(check.sum())} checks, "
            f"of which {int((err[check] <= 0.25).sum())} within ±25% ({int(inside[check].sum())} inside the model's "
            f"95% range){others}; out of sample: {int(out.sum())} held out, of which "
            f"{int((err[out] <= 0.25).sum())} within "
            f"±25% and {int((err[out] <= 0.50).sum())} within ±50% ({int(inside[out].sum())} inside the model's 95% "
            "range)")


BANDS_PCT = (25, 50)  # the summary's bands (roles_summary): within ±25% and ±50%, edges included


def error_text(error: float) -> str:
    """``error`` as a signed percentage: whole percent, or one decimal where the whole percent would
    sit on a band's edge (±25%, ±50%) that the error is not on, so that a reader recounting the
    printed rows gets the summary's counts (-24.67% prints -24.7%, within ±25%; +50.10% prints
    +50.1%, outside ±50%); a decimal that would still sit on the edge is cut towards the error's
    side of it (24.996% prints 24.9%). An error exactly on an edge prints it (within)."""
    if pd.isna(error):
        return ""
    pct = 100 * float(error)
    size = abs(pct)
    if round(size) not in BANDS_PCT or size == round(size):
        return f"{pct:+.0f}%"
    edge = round(size)
    shown = round(size, 1)
    if shown == edge:
        shown = np.floor(size * 10) / 10 if size < edge else np.ceil(size * 10) / 10
    return f"{'-' if pct < 0 else '+'}{shown:.1f}%"


def format_table(table: pd.DataFrame, only_records: bool = True) -> str:
    """The table as text, in-sample and out-of-sample blocks (rows with a record by default), each
    record with its role (``observed.role_label``: fitted, check, check (chose a setting), held out),
    then :func:`roles_summary`."""
    t = scored(table) if only_records else table.assign(
        use=np.where(table.year <= LAST_CALIBRATION_YEAR, "calibration", "validation"))

    def num(v: float) -> str:
        if pd.isna(v):
            return ""
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"

    lines = []
    for use, title in (("calibration", f"in sample (up to {LAST_CALIBRATION_YEAR}, used to calibrate)"),
                       ("validation", f"out of sample ({LAST_CALIBRATION_YEAR + 1} on, held out)")):
        part = t[t.use == use]
        if part.empty:
            continue
        rows = [[r.series, str(r.year), r.unit, num(r.model_mean), f"{num(r.model_low)}-{num(r.model_high)}",
                 num(r.record), error_text(r.error),
                 role_label(r.series, int(r.year)) if not pd.isna(r.record) else ""] for r in part.itertuples()]
        head = ["series", "year", "unit", "model", "model 95% range", "record", "error", "role"]
        widths = [max(len(x) for x in col) for col in zip(head, *rows)]
        fmt = "  ".join(f"{{:{'<' if i < 3 or i == 7 else '>'}{w}}}" for i, w in enumerate(widths))
        lines += [title, fmt.format(*head).rstrip()] + [fmt.format(*r).rstrip() for r in rows] + [""]
    return "\n".join(lines + [roles_summary(table)]).rstrip()


def format_factors(factors: pd.DataFrame, observed: Observed) -> str:
    """One line per re-fitted coverage factor: its fitting record, the mapping file's value and the
    range over the draws (:func:`refit_factors`)."""
    lines = ["coverage factors re-fitted in each draw on their fitting record (record / the draw's mean over "
             "its replications; mapping file's value at the defaults):"]
    for name, s in observed.series.items():
        if s.factor_fitted_on is None:
            continue
        f = factors[factors.series == name].factor
        if f.empty:
            lines.append(f"  {name} (on {s.factor_fitted_on}): not re-fitted, the runs end before "
                         f"{s.factor_fitted_on} (file {s.factor:.4g})")
            continue
        draws = f"{f.iloc[0]:.4g}" if len(f) == 1 else f"{f.min():.4g}-{f.max():.4g} over {len(f)} draws"
        lines.append(f"  {name} (on {s.factor_fitted_on}): {draws} (file {s.factor:.4g})")
    return "\n".join(lines)


def full_year(table: pd.DataFrame, observed: Observed | None) -> pd.DataFrame:
    """The table with the model columns of each partial-year record's row (``months`` < 12, which
    ``backtest_table`` gives as that part of the year) back at the model's full year."""
    if observed is None:
        return table
    out = table.copy()
    out[MODEL_COLUMNS] = table[MODEL_COLUMNS].div(_share_of_year(table, observed), axis=0)
    return out


def plot_backtest(table: pd.DataFrame, out: str | Path, counterfactual: pd.DataFrame | None = None,
                  title: str | None = None, observed: Observed | None = None) -> Path:
    """Write :func:`backtest_figure` to ``out`` (PNG, PDF or SVG by its extension)."""
    from .style import close, save

    fig = backtest_figure(table, counterfactual, title, observed)
    path = save(fig, out)
    close(fig)
    return path


def backtest_figure(table: pd.DataFrame, counterfactual: pd.DataFrame | None = None, title: str | None = None,
                    observed: Observed | None = None):
    """One panel per series, each readable alone (years on its own x axis, the series' unit on its y
    axis): the model's mean and 95% range of runs, the record as points (filled diamonds = fitted
    records, ``observed.role``; filled circles = the other calibration-year records, the checks;
    open circles = validation), the counterfactual's mean dashed, and the calibration/validation split.
    With ``observed``, the lines and bands are the model's full years, and a record of part of a
    year is marked with the model's value for that part (the table's)."""
    partial = table.copy()
    table = full_year(table, observed)
    counterfactual = full_year(counterfactual, observed) if counterfactual is not None else None
    from matplotlib.ticker import MultipleLocator

    from .style import GREY, OKABE_ITO, figure, style

    series = list(dict.fromkeys(table.series))
    ncols = 3
    nrows = int(np.ceil(len(series) / ncols))
    fig, axes = figure("page", aspect=0.30 * nrows, nrows=nrows, ncols=ncols, sharex=True)
    axes = np.atleast_1d(axes).ravel()
    blue, red = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
    with style():
        for ax, name in zip(axes, series):
            t = table[table.series == name].sort_values("year")
            ax.axvspan(LAST_CALIBRATION_YEAR + 0.5, t.year.max() + 0.5, color="#F2F2F2", zorder=0, lw=0)
            ax.fill_between(t.year, t.model_low, t.model_high, color=blue, alpha=0.25, lw=0, label="model, 95% of runs")
            ax.plot(t.year, t.model_mean, color=blue, label="model, mean (recorded history)")
            if counterfactual is not None:
                c = counterfactual[counterfactual.series == name].sort_values("year")
                ax.plot(c.year, c.model_mean, color=GREY, ls="--", lw=1.0, label="model, no-policy counterfactual")
            r = t.dropna(subset=["record"])
            is_fitted = np.array([role(name, int(y)) == "fitted" for y in r.year], dtype=bool)
            cal = r[(r.year <= LAST_CALIBRATION_YEAR).to_numpy() & ~is_fitted]
            fit = r[is_fitted]
            val = r[r.year > LAST_CALIBRATION_YEAR]
            ax.plot(fit.year, fit.record, FITTED_MARKER, color=red, ms=4.5,
                    label="record, fitted (a level or factor set on it)")
            ax.plot(cal.year, cal.record, "o", color=red, ms=4, label="record, check (to 2017)")
            ax.plot(val.year, val.record, "o", mfc="white", mec=red, mew=1.2, ms=4,
                    label="record, validation (2018 on)")
            p = partial[(partial.series == name)].set_index("year").model_mean
            part = t[(t.model_mean.to_numpy() != p.reindex(t.year).to_numpy()) & t.record.notna().to_numpy()]
            ax.plot(part.year, p.reindex(part.year), "x", color=blue, ms=4, mew=1.2,
                    label="model, the record's months of the year")
            ax.set_title(name.replace("_", " "), loc="left")
            ax.set_ylabel(t.unit.iloc[0])
            ax.set_ylim(bottom=0)
            ax.set_xlim(t.year.min() - 0.5, t.year.max() + 0.5)
            ax.xaxis.set_major_locator(MultipleLocator(2))
            ax.tick_params(axis="x", labelbottom=True)  # sharex hides them on all but the bottom row
        for ax in axes[len(series):]:
            ax.set_visible(False)
        entries = {}  # every panel's entries, in order of first appearance (a panel may lack some)
        for ax in axes[:len(series)]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                entries.setdefault(label, handle)
        handles, labels = list(entries.values()), list(entries)
        from matplotlib.patches import Patch

        handles.append(Patch(facecolor="#F2F2F2", edgecolor="none"))
        labels.append(f"held-out years ({LAST_CALIBRATION_YEAR + 1} on)")
        fig.legend(handles, labels, loc="outside lower center", ncol=3)
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontsize=8)
    return fig
