"""Publication figures: time paths, lever effects, the cost/value frontier, sweep heatmaps, Sobol indices.

Every function draws in the house style (:mod:`analysis.style`), labels each axis with its unit,
returns the ``Figure`` and, given ``out``, writes it (PNG at 300 dpi, PDF or SVG by extension).
The chain diagram is in :mod:`analysis.plots_chain`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import matplotlib.ticker as mpl_ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..simulation.config.errors import InputError
from . import style as st
from .compare import RunLike, as_run, compare, outcomes, subset, summarize


def _finish(fig: Figure, out: str | Path | None) -> Figure:
    if out is not None:
        st.save(fig, out)
    return fig


def _axes(ax: Axes | None, width: str | float = "column", aspect: float = 0.72) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    return st.figure(width, aspect)


def _as_mapping(results: Mapping[str, RunLike] | RunLike) -> dict[str, RunLike]:
    if isinstance(results, Mapping):
        return dict(results)
    run = as_run(results)
    return {run.name: run}


def plot_paths(results: Mapping[str, RunLike] | RunLike, metric: str = "value_added", *,
               baseline: RunLike | None = None, difference: bool = False, where: dict | None = None,
               confidence: float = 0.95, ax: Axes | None = None, out: str | Path | None = None) -> Figure:
    """Yearly ``metric`` (summed over the selected stages) by scenario, mean with a t confidence band.

    With ``baseline`` the baseline is drawn too (black); ``difference=True`` draws instead the
    paired effect ``scenario - baseline`` per year with its band (see :func:`analysis.compare`).
    ``where`` selects stages, e.g. ``{'sector': 'textiles_apparel'}`` or ``{'tier': 'deep'}``.
    """
    if difference and baseline is None:
        raise InputError("--baseline", "", "a difference plot needs a baseline")
    runs = {k: subset(v, **(where or {})) for k, v in _as_mapping(results).items()}
    base = subset(baseline, **(where or {})) if baseline is not None else None
    with st.style():
        fig, ax = _axes(ax)
        series = {}
        if difference:
            for name, run in runs.items():
                t = compare(run, base, metric, each_year=True, confidence=confidence)
                series[name] = t.set_index("year")[["effect", "ci_low", "ci_high"]]
            ax.axhline(0, color=st.GREY, lw=0.8)
        else:
            if base is not None:
                runs = {f"{base.name} (baseline)": base, **{k: v for k, v in runs.items()}}
            for name, run in runs.items():
                y = outcomes(run, metric, each_year=True)
                rows = {yr: summarize(g.to_numpy(), confidence) for yr, g in y.groupby(level="year")}
                series[name] = pd.DataFrame(rows).T.rename(columns={"effect": "mean"})[["mean", "ci_low", "ci_high"]]
        for i, (name, df) in enumerate(series.items()):
            shift = 1 if (base is not None and not difference) else 0  # the baseline is black, then as in diffs
            colour = "#000000" if i < shift else st.PALETTE[(i - shift) % 7]
            x = df.index.to_numpy(int)
            ax.plot(x, df.iloc[:, 0], color=colour, label=st.pretty(name))
            ax.fill_between(x, df["ci_low"].astype(float), df["ci_high"].astype(float), color=colour, alpha=0.2,
                            lw=0)
        ax.set_xlabel("Year")
        unit = st.LABELS.get(metric, ("", "million yuan"))[1]
        per_year = unit if metric in ("employment", "firms", "processing_depth") else f"{unit} per year"
        ax.set_ylabel(st.label(metric, per_year, prefix="Change in " if difference else ""))
        ax.xaxis.get_major_locator().set_params(integer=True)
        st.thousands(ax.yaxis)
        if len(series) > 1 or difference:
            ax.legend(loc="best", title=f"mean, {confidence:.0%} CI", title_fontsize=7)
        if where:
            ax.set_title(", ".join(f"{st.pretty(v) if isinstance(v, str) else ', '.join(map(st.pretty, v))}"
                                   for v in where.values()))
    return _finish(fig, out)


def plot_effects(table: pd.DataFrame, *, ax: Axes | None = None, out: str | Path | None = None,
                 title: str | None = None) -> Figure:
    """Effects with their confidence intervals as dots and whiskers, one row per scenario or group.

    ``table`` comes from :func:`analysis.compare`, :func:`analysis.compare_many` (several
    scenarios: one colour each) or :func:`analysis.cost_effectiveness` (one metric; plots the
    yield per 10,000 yuan).
    """
    t = table.copy()
    if "ratio" in t:
        if t["metric"].nunique() != 1:
            raise InputError("table", "metric", "select one metric of the cost-effectiveness table to plot")
        t = t.rename(columns={"ratio": "effect"})
        name = st.LABELS.get(t["metric"].iloc[0], (st.pretty(t["metric"].iloc[0]),))[0].lower()
        unit, per = str(t["unit"].iloc[0]).split(" per ", 1)
        xlabel = f"Change in {name} per {per}\nof extra fiscal cost ({unit})"
    else:
        metric = t["metric"].iloc[0]
        xlabel = st.label(metric, t.attrs.get("units"), prefix="Change in ")
        if t.attrs.get("horizon"):
            xlabel = xlabel.replace(" (", f", {t.attrs['horizon']}\n(", 1)
    group = next((c for c in ("sector", "stage", "tier", "lever", "year") if c in t), None)
    scenarios = list(dict.fromkeys(t["scenario"]))
    cats = list(dict.fromkeys(t[group])) if group else scenarios
    hue = scenarios if (group and len(scenarios) > 1) else [None]
    n = len(cats)
    with st.style():
        fig, ax = _axes(ax, aspect=max(0.45, 0.16 + 0.09 * n * max(1, len(hue) * 0.6)))
        ys = np.arange(n)[::-1].astype(float)
        width = 0.7 / len(hue)
        # an unbounded interval (Fieller, where the cost's interval includes zero) is drawn to the
        # edge of the finite values with an arrow, and said so under the axis
        finite = t[["effect", "ci_low", "ci_high"]].to_numpy(dtype=float)
        finite = finite[np.isfinite(finite)]
        span = (finite.max() - finite.min()) if finite.size else 1.0
        edge_lo, edge_hi = (finite.min(), finite.max()) if finite.size else (-1.0, 1.0)
        edge_lo, edge_hi = edge_lo - 0.15 * (span or 1.0), edge_hi + 0.15 * (span or 1.0)
        unbounded = False
        for j, h in enumerate(hue):
            sel = t if h is None else t[t["scenario"] == h]
            key = group if group else "scenario"
            sel = sel.set_index(key).reindex(cats)
            offset = (j - (len(hue) - 1) / 2) * width
            colour = st.PALETTE[j % 7]
            low, high = sel["ci_low"].to_numpy(dtype=float, copy=True), sel["ci_high"].to_numpy(dtype=float, copy=True)
            for ends, edge, marker in ((low, edge_lo, "<"), (high, edge_hi, ">")):
                cut = np.isinf(ends)
                if cut.any():
                    unbounded = True
                    ends[cut] = edge
                    ax.plot(ends[cut], (ys - offset)[cut], marker, ms=4, color=colour)
            err = np.vstack([sel["effect"] - low, high - sel["effect"]])
            ax.errorbar(sel["effect"], ys - offset, xerr=np.nan_to_num(err), fmt="o", ms=3.5, color=colour,
                        ecolor=colour, elinewidth=1, capsize=2, label=st.pretty(h) if h else None)
        if unbounded:
            xlabel += "\n(arrow: interval unbounded, the cost's interval includes zero)"
        ax.axvline(0, color=st.GREY, lw=0.8)
        st.thousands(ax.xaxis)
        ax.set_yticks(ys, [st.pretty(c) for c in cats])
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(xlabel)
        ax.set_ylim(-0.6, n - 0.4)
        if hue != [None]:
            ax.legend(loc="best")
        if title:
            ax.set_title(title)
    return _finish(fig, out)


def plot_frontier(points: pd.DataFrame, value: str = "value_added", *, ax: Axes | None = None,
                  out: str | Path | None = None, annotate: bool = True) -> Figure:
    """Fiscal cost against ``value`` per scenario (or sweep point), the efficient frontier highlighted.

    ``points`` from :func:`analysis.cost_value_points` (columns ``fiscal_cost``, ``value`` with
    optional ``_low``/``_high`` intervals, ``on_frontier``, ``scenario``).
    """
    rel = points.attrs.get("relative_to_baseline", False)
    prefix = "Change in " if rel else ""
    with st.style():
        fig, ax = _axes(ax, aspect=0.8)
        on = points["on_frontier"].to_numpy(bool)
        for mask, colour, lab in ((~on, st.GREY, "dominated"), (on, st.PALETTE[0], "efficient (frontier)")):
            p = points[mask]
            if p.empty:
                continue
            bars = len(points) <= 8  # with many points, whiskers hide the frontier
            xerr = _err(p, "fiscal_cost") if bars else None
            yerr = _err(p, value) if bars else None
            ax.errorbar(p["fiscal_cost"], p[value], xerr=xerr, yerr=yerr, fmt="o", ms=4, color=colour,
                        elinewidth=0.7, capsize=0, label=lab)
        f = points[on].sort_values("fiscal_cost")
        ax.plot(f["fiscal_cost"], f[value], color=st.PALETTE[0], lw=1, zorder=1, drawstyle="steps-post")
        named = "scenario" in points and not points["scenario"].astype(str).str.startswith("point ").all()
        if annotate and named and len(points) <= 15:
            place_labels(ax, points["fiscal_cost"].to_numpy(float), points[value].to_numpy(float),
                         [st.pretty(s) for s in points["scenario"]])
        st.thousands(ax.xaxis, ax.yaxis)
        ax.set_xlabel(st.label("fiscal_cost", prefix=prefix))
        ax.set_ylabel(st.label(value, prefix=prefix))
        if points.attrs.get("horizon"):
            ax.set_title(points.attrs["horizon"].capitalize() + (", against the baseline" if rel else ""),
                         loc="left", fontsize=7)
        fig.legend(loc="outside lower center", ncols=2)
    return _finish(fig, out)


def place_labels(ax: Axes, x: np.ndarray, y: np.ndarray, texts: list[str], fontsize: float = 6.5) -> None:
    """Label points without overlaps: try offsets around each point (right, left, above, below, then
    further out) and keep the first whose box overlaps no label placed before and no other point."""
    fig = ax.figure
    fig.canvas.draw()  # fixes the layout so that display coordinates hold
    renderer = fig.canvas.get_renderer()
    pts = ax.transData.transform(np.column_stack([x, y]))
    placed: list = []
    candidates = [(4, 2, "left", "bottom"), (4, -2, "left", "top"), (-4, 2, "right", "bottom"),
                  (-4, -2, "right", "top")] + [(4, 2 + 7 * k * sgn, "left", "bottom" if sgn > 0 else "top")
                                                for k in range(1, 6) for sgn in (1, -1)]
    order = np.argsort(-pts[:, 1])
    box_ax = ax.get_window_extent(renderer)
    for i in order:
        if not np.isfinite(pts[i]).all():
            continue
        right_side = pts[i, 0] > box_ax.x0 + 0.6 * box_ax.width  # label points on the right to their left
        flipped = [(-dx, dy, "right" if ha == "left" else "left", va) for dx, dy, ha, va in candidates]
        for dx, dy, ha, va in (flipped + candidates if right_side else candidates + flipped):
            leader = {"arrowstyle": "-", "color": st.GREY, "lw": 0.5, "shrinkA": 0, "shrinkB": 2} \
                if abs(dy) > 2 else None
            t = ax.annotate(texts[i], (x[i], y[i]), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                            fontsize=fontsize, zorder=5, arrowprops=leader)
            box = t.get_window_extent(renderer).expanded(1.05, 1.1)
            others = np.delete(pts, i, axis=0)
            hit_point = bool(np.any((others[:, 0] > box.x0 - 3) & (others[:, 0] < box.x1 + 3) &
                                    (others[:, 1] > box.y0 - 3) & (others[:, 1] < box.y1 + 3)))
            if not hit_point and not any(box.overlaps(b) for b in placed):
                placed.append(box)
                break
            t.remove()
        else:  # no free spot: keep the default placement
            placed.append(ax.annotate(texts[i], (x[i], y[i]), xytext=(4, 2), textcoords="offset points",
                                      fontsize=fontsize).get_window_extent(renderer))


def _err(p: pd.DataFrame, col: str) -> np.ndarray | None:
    if f"{col}_low" not in p:
        return None
    e = np.vstack([p[col] - p[f"{col}_low"], p[f"{col}_high"] - p[col]])
    return np.nan_to_num(e)


PARAM_UNITS = (("yuan_per_kwh", "yuan/kWh"), ("electricity_price.default", "yuan/kWh"), ("yuan_per_t", "yuan/t"),
               ("share_of", "share"), ("_points", "percentage points"), ("rate", "share"),
               ("years", "years"), ("scale", "x default"), ("change", "share per year"))
UNIT_WORDS = {"yuan", "per", "kwh", "t", "points", "price", "default"}


def param_label(name: str, width: int = 32) -> str:
    """A readable label for a dotted scenario key, with its unit guessed from the key, e.g.
    ``policy.freight_subsidy.rules.0.yuan_per_t`` -> ``'freight subsidy, rule 0 (yuan/t)'``."""
    unit = next((u for k, u in PARAM_UNITS if k in name), "")
    parts = name.split(".")
    if parts[0] == "policy":
        parts = parts[1:]
    head = st.pretty(parts[0]) if parts else name
    rule = next((p for p in parts if p.isdigit()), None)
    last = parts[-1] if len(parts) > 1 else ""
    words = [w for w in last.split("_") if w.lower() not in UNIT_WORDS]
    text = head + (f", rule {rule}" if rule else "") + (f": {' '.join(words)}" if words else "")
    text = f"{text} ({unit})" if unit else text
    return textwrap.fill(text, width)


def plot_heatmap(frame: pd.DataFrame, x: str, y: str, metric: str = "value_added", *,
                 unit: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
                 ax: Axes | None = None, out: str | Path | None = None) -> Figure:
    """Mean ``metric`` over a two-parameter sweep: cells on a grid design, coloured points otherwise.

    ``frame`` has one row per sweep point (and replication): parameter columns ``x`` and ``y`` and
    the outcome column ``metric``; rows with the same (x, y) are averaged (replications, and any
    other parameters of the sweep).
    """
    for c in (x, y, metric):
        if c not in frame:
            raise InputError("--metric" if c == metric else "--x/--y", "", f"no column '{c}' in the sweep outcomes",
                             c)
    mean = frame.groupby([y, x])[metric].mean().unstack(x)
    grid = mean.notna().all().all() and mean.size == frame[[x, y]].drop_duplicates().shape[0]
    with st.style():
        fig, ax = _axes(ax, aspect=0.8)
        if grid:
            xs, ys = mean.columns.to_numpy(float), mean.index.to_numpy(float)
            mesh = ax.pcolormesh(_edges(xs), _edges(ys), mean.to_numpy(float), cmap="viridis", shading="flat")
            cell_scale = 1.0
            if mean.size <= 36:
                vals = mean.to_numpy(float)
                mid = np.nanmin(vals) + 0.55 * (np.nanmax(vals) - np.nanmin(vals))
                # keep cell labels to ~5 characters at column width: large values are shown in thousands
                cell_scale = 1e3 if np.nanmax(np.abs(vals)) >= 1e5 else 1.0
                for i, yy in enumerate(ys):
                    for j, xx in enumerate(xs):
                        v = vals[i, j] / cell_scale
                        ax.text(xx, yy, st.number(v), ha="center", va="center",
                                fontsize=6, color="black" if v * cell_scale > mid else "white")
            ax.set_xticks(xs)
            ax.set_yticks(ys)
            ax.grid(False)
        else:
            pts = frame.groupby([x, y], as_index=False)[metric].mean()
            mesh = ax.scatter(pts[x], pts[y], c=pts[metric], cmap="viridis", s=14, edgecolors="none")
        cb = fig.colorbar(mesh, ax=ax, shrink=0.9)
        cb_label = st.label(metric, unit or frame.attrs.get("units"))
        if frame.attrs.get("horizon"):
            cb_label = cb_label.replace(" (", f", {frame.attrs['horizon']}\n(", 1)
        if grid and cell_scale != 1.0:
            cb_label += "\ncell labels in thousands"
        cb.set_label(cb_label)
        st.thousands(cb.ax.yaxis)
        cb.ax.tick_params(labelsize=7)
        ax.set_xlabel(xlabel or param_label(x))
        ax.set_ylabel(ylabel or param_label(y))
    return _finish(fig, out)


def _edges(v: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres ``v`` (midpoints; half a step beyond the ends)."""
    if len(v) == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5]) if v[0] == 0 else np.array([v[0] * 0.9, v[0] * 1.1])
    mid = (v[:-1] + v[1:]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def plot_sobol(indices: pd.DataFrame, *, labels: dict[str, str] | None = None, ax: Axes | None = None,
               out: str | Path | None = None, title: str | None = None) -> Figure:
    """Sobol first-order (S1) and total (ST) indices per parameter, or Morris mu* if given Morris output.

    ``labels`` maps parameter keys to tick labels (default: :func:`param_label`).
    Black whiskers: SALib's bootstrap interval over sample points; grey bars behind the whisker
    (``*_rep_low``/``*_rep_high``): the spread of the index over bootstrap resamples of
    replications, i.e. how much replication noise moves it.
    """
    morris = "mu_star" in indices
    cols = [("mu_star", "Morris \u03bc* (mean |elementary effect|)")] if morris else \
        [("S1", "first order S1"), ("ST", "total ST")]
    params = list(indices["parameter"])
    n = len(params)
    with st.style():
        fig, ax = _axes(ax, aspect=max(0.45, 0.2 + 0.12 * n))
        ys = np.arange(n)[::-1].astype(float)
        h = 0.8 / len(cols)
        for j, (c, lab) in enumerate(cols):
            off = (j - (len(cols) - 1) / 2) * h
            conf = indices.get(f"{c}_conf")
            ax.barh(ys - off, indices[c], height=h * 0.9, color=st.PALETTE[j], label=lab)
            if conf is not None:
                ax.errorbar(indices[c], ys - off, xerr=conf.to_numpy(float), fmt="none", ecolor="black",
                            elinewidth=0.8, capsize=1.5, zorder=4, label="SALib 95% CI" if j == len(cols) - 1 else None)
            if f"{c}_rep_low" in indices:
                ax.hlines(ys - off, indices[f"{c}_rep_low"], indices[f"{c}_rep_high"], color="#BBBBBB", lw=4.5,
                          zorder=3, label="replication noise (95%)" if j == len(cols) - 1 else None)
        ax.set_yticks(ys, [(labels or {}).get(p) or param_label(p) for p in params])
        ax.grid(axis="y", visible=False)
        metric = indices.attrs.get("metric", "")
        if morris:
            unit = indices.attrs.get("unit") or st.LABELS.get(metric, ("", ""))[1]
            name = st.LABELS.get(metric, (st.pretty(metric),))[0].lower()
            ax.set_xlabel(f"\u03bc* of {name}\n({unit} per parameter range)")
            st.thousands(ax.xaxis)
        else:
            ax.set_xlabel("Sobol index (share of output variance)")
            ax.xaxis.set_major_locator(mpl_ticker.MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
            ax.axvline(0, color=st.GREY, lw=0.6)
        fig.legend(loc="outside upper center", ncols=2)
        if title:
            ax.set_title(title)
    return _finish(fig, out)


__all__ = ["plot_effects", "plot_frontier", "plot_heatmap", "plot_paths", "plot_sobol", "param_label"]
