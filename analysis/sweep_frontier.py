"""The cost/value frontier of a sweep's points, from outcomes streamed off the run files."""

from __future__ import annotations

import pandas as pd


def sweep_cost_value_points(sweep, baseline=None, *, value: str = "value_added", year: int | None = None,
                            pv: float | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`analysis.cost_value_points` for the points of a sweep, streamed (see
    :func:`analysis.sweep_outcomes`): fiscal cost and ``value`` per point, mean over replications
    with t intervals, as changes against ``baseline`` (paired by replication) if given, else levels."""
    from .comparable import check_comparable, check_same_economy, point_scenario
    from .compare import Run, as_run, check_same_draws, horizon_label, outcomes, point_label, summarize
    from .cost import efficient_frontier
    from .plots import param_label
    from .sensitivity import _load, sweep_outcomes

    sw = _load(sweep)
    frames = {m: sweep_outcomes(sw, m, year=year, pv=pv) for m in ("fiscal_cost", value)}
    base = as_run(baseline) if baseline is not None else None
    points = sw.points.set_index("point")
    y0 = {m: outcomes(base, m, year=year, pv=pv) for m in frames} if base is not None else {}
    rows = []
    for p, row in points.iterrows():
        if base is not None:
            manifest = {**sw.manifest, "scenario": point_scenario(sw.manifest.get("base_scenario", {}),
                                                                  row.get("overrides"))}
            here = Run(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), manifest,
                       f"{sw.manifest.get('name', 'sweep')}: point {p}")
            check_comparable(here, base, what="compare costs")
            check_same_economy(here, base)
            check_same_draws(here, base)  # a sweep draws no parameters: nor may its baseline
        values = [row.get(k) for k in sw.parameters]
        short = ", ".join(f"{v:.4g}" if isinstance(v, (int, float)) else str(v) for v in values
                          if v is not None and not (isinstance(v, float) and v != v))
        out = {"scenario": point_label(row, sw.parameters, int(p)), "point": int(p),
               "label": row.get("name") if isinstance(row.get("name"), str) and row.get("name") else short}
        for m, f in frames.items():
            y = f[f["point"] == p].set_index("replication")[m]
            if base is not None:
                reps = sorted(set(y.index) & set(y0[m].index))
                y = (y.reindex(reps) - y0[m].reindex(reps))
            s = summarize(y.to_numpy(), confidence)
            out.update({m: s["effect"], f"{m}_low": s["ci_low"], f"{m}_high": s["ci_high"]})
        rows.append(out)
    table = pd.DataFrame(rows)
    table["on_frontier"] = efficient_frontier(table, "fiscal_cost", value)
    horizon = frames[value].attrs.get("horizon", "") if base is None else horizon_label(base, year, pv, False, value)
    named = "name" in points and points["name"].astype(str).str.len().gt(0).all()
    label_key = None if named else "; ".join(param_label(k, width=200, base=sw.manifest.get("base_scenario"))
                                              for k in sw.parameters)
    table.attrs.update({"relative_to_baseline": base is not None, "value": value, "horizon": horizon,
                        "confidence": confidence, "label_key": label_key})
    return table
