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
from .compare import (
    RunLike,
    as_run,
    by_draw,
    compare,
    draws_of,
    interval_covers,
    outcomes,
    subset,
    summarize,
    units_label,
)
from .plot_labels import place_labels
from .sensitivity import base_samples


def _finish(fig: Figure, out: str | Path | None) -> Figure:
    if out is not None:
        st.save(fig, out)
    return fig


def _axes(ax: Axes | None, width: str | float = "column", aspect: float = 0.72) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    return st.figure(width, aspect)


def _as_mapping(results: Mapping[str, RunLike] | RunLike) -> Mapping[str, RunLike]:
    if isinstance(results, Mapping):  # as it is: a sweep's points are read one at a time as it is walked
        return results
    run = as_run(results)
    return {run.name: run}


def plot_paths(results: Mapping[str, RunLike] | RunLike, metric: str = "value_added", *,
               baseline: RunLike | None = None, difference: bool = False, where: dict | None = None,
               confidence: float = 0.95, paired: bool = True, ax: Axes | None = None,
               out: str | Path | None = None) -> Figure:
    """Yearly ``metric`` (summed over the selected stages) by scenario, mean with a t confidence band.

    With ``baseline`` the baseline is drawn too (black); ``difference=True`` draws instead the
    paired effect ``scenario - baseline`` per year with its band (see :func:`analysis.compare`).
    ``where`` selects stages, e.g. ``{'sector': 'textiles_apparel'}`` or ``{'tier': 'deep'}``.
    Every series has its own colour (:func:`analysis.style.colours`); the legend sits below the axes.
    With parameter draws the unit of a band is the draw (the mean of its replications), as in
    :func:`analysis.compare` (:func:`~analysis.compare.draws_of`, :func:`~analysis.compare.by_draw`);
    the caption counts the units (:func:`~analysis.compare.units_label`).
    """
    from .comparable import check_comparable

    if difference and baseline is None:
        raise InputError("--baseline", "", "a difference plot (--difference) needs --baseline DIR")
    runs = _as_mapping(results)  # each run read (a sweep's point) and reduced to its series in turn

    def selected(run: RunLike):
        return subset(run, **(where or {}))

    base = selected(baseline) if baseline is not None else None
    if base is not None:
        for run in runs.values():
            check_comparable(selected(run), base, what="plot them together")
    units: dict[str, None] = {}  # what each band is over (units_label), as compare counts it
    covers: list[str] = []
    with st.style():
        fig, ax = _axes(ax)
        series = {}
        if difference:
            for name, run in runs.items():
                t = compare(selected(run), base, metric, each_year=True, confidence=confidence, paired=paired)
                series[st.run_label(name)] = t.set_index("year")[["effect", "ci_low", "ci_high"]]
                units[units_label(int(t["n"].max()), t.attrs["draws"], paired)] = None
                covers.append(t.attrs["covers"])
            ax.axhline(0, color=st.GREY, lw=0.8)
        else:
            named = {st.run_label(k): k for k in runs}
            if base is not None:
                b = st.run_label(base.name)
                named = {(b if b.lower() == "baseline" else f"{b} (baseline)"): None, **named}
            for name, key in named.items():
                run = base if key is None else selected(runs[key])
                draw = draws_of(run)  # with parameter draws the draw is the unit, as in compare
                y = outcomes(run, metric, each_year=True)
                rows = {yr: summarize(by_draw(g.droplevel("year"), draw).to_numpy(), confidence)
                        for yr, g in y.groupby(level="year")}
                series[name] = pd.DataFrame(rows).T.rename(columns={"effect": "mean"})[["mean", "ci_low", "ci_high"]]
                units[units_label(int(max(r["n"] for r in rows.values())), draw is not None, False)] = None
                covers.append(interval_covers(run)[1])
        shift = 1 if (base is not None and not difference) else 0  # the baseline is black
        palette = ["#000000"] * shift + st.colours(len(series) - shift)
        bands = len(series) <= MAX_BANDS  # beyond that, overlapping bands hide the lines
        keys, labels = _common_keys(list(series))
        for df, colour, lab in zip(series.values(), palette, labels):
            x = df.index.to_numpy(int)
            ax.plot(x, df.iloc[:, 0], color=colour, label=lab)
            if bands:
                ax.fill_between(x, df["ci_low"].astype(float), df["ci_high"].astype(float), color=colour,
                                alpha=0.2, lw=0)
        ax.set_xlabel("Year")
        unit = st.LABELS.get(metric, ("", "million yuan"))[1]
        per_year = unit if metric in ("employment", "firms", "processing_depth") else f"{unit} per year"
        ax.set_ylabel(st.label(metric, per_year, prefix="Change in " if difference else "").replace(" (", "\n(", 1))
        ax.xaxis.get_major_locator().set_params(integer=True)
        st.thousands(ax.yaxis)
        if where:
            ax.set_title("Stages: " + "; ".join(", ".join(map(st.pretty, [v] if isinstance(v, str) else v))
                                                 for v in where.values() if v), loc="left")
        what = ("paired change against the baseline" if difference and paired else
                "change against the baseline (unpaired)" if difference else "mean")
        over = " or ".join(units)
        st.caption(ax, f"Lines: {what} over {over}; " + (
            f"bands: {confidence:.0%} t interval ({' or '.join(dict.fromkeys(covers))})." if bands else
            f"no bands with more than {MAX_BANDS} series (plot fewer to see the {confidence:.0%} intervals)."))
        if len(series) > 1 or difference:
            fig.legend(loc="outside lower center", ncols=2 if len(series) <= 6 else 3, fontsize=6.5,
                       title=keys, title_fontsize=6.5)
    return _finish(fig, out)


MAX_BANDS = 4


def _common_keys(names: list[str]) -> tuple[str | None, list[str]]:
    """Sweep-point labels ``k=v, k2=v2`` sharing the same keys -> (``'k, k2'``, values only), so a
    legend reads its parameter once in its title; other names unchanged (no title)."""
    import re

    parts = [[kv.split("=", 1) for kv in n.split(", ")] for n in names]
    ok = all(all(len(kv) == 2 and re.fullmatch(r"[\w.]+", kv[0]) for kv in p) for p in parts)
    if not names or not ok or len({tuple(k for k, _ in p) for p in parts}) != 1:
        return None, names
    return ", ".join(k for k, _ in parts[0]), [", ".join(v for _, v in p) for p in parts]


def plot_effects(table: pd.DataFrame, *, ax: Axes | None = None, out: str | Path | None = None,
                 title: str | None = None) -> Figure:
    """Effects with their confidence intervals as dots and whiskers, one row per scenario or group.

    ``table`` comes from :func:`analysis.compare`, :func:`analysis.compare_many` (several
    scenarios: one colour each) or :func:`analysis.cost_effectiveness` (one metric; plots the
    yield per 10,000 yuan). A caption line says what the dots and whiskers are.
    """
    t = table.copy()
    conf = t.attrs.get("confidence", 0.95)
    if "ratio" in t:
        if t["metric"].nunique() != 1:
            raise InputError("table", "metric", "select one metric of the cost-effectiveness table to plot")
        t = t.rename(columns={"ratio": "effect"})
        name = st.LABELS.get(t["metric"].iloc[0], (st.pretty(t["metric"].iloc[0]),))[0].lower()
        unit, per = str(t["unit"].iloc[0]).split(" per ", 1)
        xlabel = f"Change in {name} per {per}\nof extra fiscal cost ({unit})"
        what = f"Dots: ratio of paired sums; whiskers: {t.attrs.get('method', 'delta')}"
    else:
        metric = t["metric"].iloc[0]
        xlabel = st.label(metric, t.attrs.get("units"), prefix="Change in ")
        if t.attrs.get("horizon"):
            xlabel = xlabel.replace(" (", f", {t.attrs['horizon']}\n(", 1)
        what = ("Dots: mean paired change" if t.attrs.get("paired", True) else "Dots: difference of means") + \
            "; whiskers:" + ("" if t.attrs.get("paired", True) else " Welch")
    n = int(t["n"].max()) if "n" in t and len(t) else 0
    group = next((c for c in ("sector", "stage", "tier", "lever", "year") if c in t), None)
    scenarios = list(dict.fromkeys(t["scenario"]))
    cats = list(dict.fromkeys(t[group])) if group else scenarios
    hue = scenarios if (group and len(scenarios) > 1) else [None]
    n_cats = len(cats)
    palette = st.colours(len(hue))
    with st.style():
        fig, ax = _axes(ax, aspect=max(0.5, 0.22 + 0.09 * n_cats * max(1, len(hue) * 0.6)))
        ys = np.arange(n_cats)[::-1].astype(float)
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
            colour = palette[j]
            low, high = sel["ci_low"].to_numpy(dtype=float, copy=True), sel["ci_high"].to_numpy(dtype=float, copy=True)
            for ends, edge, marker in ((low, edge_lo, "<"), (high, edge_hi, ">")):
                cut = np.isinf(ends)
                if cut.any():
                    unbounded = True
                    ends[cut] = edge
                    ax.plot(ends[cut], (ys - offset)[cut], marker, ms=4, color=colour)
            err = np.vstack([sel["effect"] - low, high - sel["effect"]])
            ax.errorbar(sel["effect"], ys - offset, xerr=np.nan_to_num(err), fmt="o", ms=3.5, color=colour,
                        ecolor=colour, elinewidth=1, capsize=2, label=st.run_label(h) if h else None)
        if unbounded:
            xlabel += "\n(arrow: interval unbounded, the cost's interval includes zero)"
        ax.axvline(0, color=st.GREY, lw=0.8)
        st.thousands(ax.xaxis)
        keys, names = _common_keys([str(c) for c in cats]) if not group else (None, [st.pretty(c) for c in cats])
        ax.set_yticks(ys, names if group else [st.run_label(c) for c in names])
        if keys:
            ax.set_ylabel(keys)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(xlabel)
        ax.set_ylim(-0.6, n_cats - 0.4)
        title = title if title is not None else _versus(scenarios, t)
        if title:
            ax.set_title(title, loc="left")
        over = units_label(n, bool(t.attrs.get("draws")), t.attrs.get("paired", True))  # as compare takes them
        st.caption(ax, f"{what} {conf:.0%} t interval over {over} ({t.attrs.get('covers', st.NOISE)}).")
        if hue != [None]:
            fig.legend(loc="outside lower center", ncols=2, fontsize=6.5)
    return _finish(fig, out)


def _versus(scenarios: list, table: pd.DataFrame) -> str:
    """The default title of an effects plot: what is compared with what ("Policy package 2016
    against Baseline"; "Each against Baseline" when the scenarios are the rows or the legend)."""
    bases = list(dict.fromkeys(table["baseline"])) if "baseline" in table else \
        [table.attrs["baseline"]] if table.attrs.get("baseline") else []
    if len(bases) != 1:
        return ""
    base = st.run_label(bases[0])
    return f"{st.run_label(scenarios[0])} against {base}" if len(scenarios) == 1 else f"Each against {base}"


def plot_frontier(points: pd.DataFrame, value: str = "value_added", *, ax: Axes | None = None,
                  out: str | Path | None = None, annotate: bool = True, max_labels: int = 15) -> Figure:
    """Fiscal cost against ``value`` per scenario (or sweep point), the efficient frontier highlighted.

    ``points`` from :func:`analysis.cost_value_points` (columns ``fiscal_cost``, ``value`` with
    optional ``_low``/``_high`` intervals, ``on_frontier``, ``scenario``). Every point is labelled
    (at most ``max_labels``; beyond that only the frontier's points), each label next to its own
    point (see :mod:`analysis.plot_labels`; a label with no room within
    ``MAX_DISTANCE_PT`` of its point is replaced by a number keyed in the caption, or, if even
    that finds no room, named in the caption as not labelled).
    """
    rel = points.attrs.get("relative_to_baseline", False)
    prefix = "Change in " if rel else ""
    conf = points.attrs.get("confidence", 0.95)
    bars = len(points) <= 8  # with many points, whiskers hide the frontier
    with st.style():
        fig, ax = _axes(ax, aspect=0.85)
        on = points["on_frontier"].to_numpy(bool)
        for mask, colour, lab in ((~on, st.GREY, "dominated"), (on, st.PALETTE[0], "efficient (frontier)")):
            p = points[mask]
            if p.empty:
                continue
            xerr = _err(p, "fiscal_cost") if bars else None
            yerr = _err(p, value) if bars else None
            ax.errorbar(p["fiscal_cost"], p[value], xerr=xerr, yerr=yerr, fmt="o", ms=4, color=colour,
                        elinewidth=0.7, capsize=0, label=lab, zorder=3)
        f = points[on].sort_values("fiscal_cost")
        ax.plot(f["fiscal_cost"], f[value], color=st.PALETTE[0], lw=1, zorder=1, drawstyle="steps-post")
        st.thousands(ax.xaxis, ax.yaxis)
        ax.set_xlabel(st.label("fiscal_cost", prefix=prefix))
        ax.set_ylabel(st.label(value, prefix=prefix))
        head = points.attrs.get("horizon", "").capitalize() + (", against the baseline" if rel else "")
        if head:
            ax.set_title(head, loc="left")
        key = points.attrs.get("label_key")
        over = units_label(None, bool(points.attrs.get("draws")), rel)  # the unit of cost_value_points, as compare's
        covers = points.attrs.get("covers") or st.NOISE
        st.caption(ax, (f"Whiskers: {conf:.0%} t intervals over {over} ({covers}). " if bars else
                        f"Means over {over}. ") + "Frontier: points no other beats on both cost and "
                   f"{st.LABELS.get(value, (st.pretty(value),))[0].lower()}." + (f" Labels: {key}." if key else "")
                   + (" Only the frontier's points are labelled." if len(points) > max_labels else ""))
        fig.legend(loc="outside lower center", ncols=2)
        names = points["label"] if "label" in points else points["scenario"] if "scenario" in points else None
        if annotate and names is not None:
            show = np.ones(len(points), bool) if len(points) <= max_labels else on
            idx = np.flatnonzero(show)
            _label_points(ax, points["fiscal_cost"].to_numpy(float), points[value].to_numpy(float),
                          [st.run_label(names.iloc[i]) for i in idx], idx)
    return _finish(fig, out)


def _label_points(ax: Axes, x: np.ndarray, y: np.ndarray, texts: list[str], which: np.ndarray) -> None:
    """Labels via :func:`place_labels`. A label without room is replaced by a number (1, 2, ...)
    placed the same way and keyed in the caption; one for which even the number finds no room is
    named in the caption as not labelled. The longer caption moves the axes, so the labels are
    placed again until the caption matches the placement (at most a few rounds)."""
    fig = ax.figure
    base = getattr(fig, "_valuechain_caption", "")
    numbered: dict[int, str] = {}  # position in texts -> its number
    dropped: list[int] = []
    for _ in range(6):
        shown = [numbered.get(k, t) for k, t in enumerate(texts)]
        keep = [k for k in range(len(texts)) if k not in dropped]
        drawn, unplaced = place_labels(ax, x, y, [shown[k] for k in keep], which=which[keep])
        unplaced = [keep[u] for u in unplaced]
        if not unplaced:
            return
        for t in drawn:
            t.remove()
        for k in unplaced:
            if k in numbered:
                dropped.append(k)
                del numbered[k]
            else:
                numbered[k] = ""
        numbered = {k: str(n + 1) for n, k in enumerate(sorted(numbered))}  # 1, 2, ... in the order of texts
        fig._valuechain_caption = base
        key = "; ".join(f"{numbered[k]} = {texts[k]}" for k in sorted(numbered))
        parts = ([f"Numbered labels: {key}."] if key else []) + \
            ([f"Not labelled for lack of room: {'; '.join(texts[k] for k in sorted(dropped))}."] if dropped else [])
        st.caption(ax, " ".join(parts))
    # the caption still changed the layout: the last placement's leftovers are left out silently
    shown = [numbered.get(k, t) for k, t in enumerate(texts)]
    keep = [k for k in range(len(texts)) if k not in dropped]
    place_labels(ax, x, y, [shown[k] for k in keep], which=which[keep])


def _err(p: pd.DataFrame, col: str) -> np.ndarray | None:
    if f"{col}_low" not in p:
        return None
    e = np.vstack([p[col] - p[f"{col}_low"], p[f"{col}_high"] - p[col]])
    return np.nan_to_num(e)


PARAM_UNITS = (("yuan_per_kwh", "yuan/kWh"), ("electricity_price.default", "yuan/kWh"), ("yuan_per_t", "yuan/t"),
               ("share_of", "share"), ("_points", "percentage points"), ("rate", "share"),
               ("years", "years"), ("scale", "x default"), ("change", "share per year"))
PARAM_HEADS = {"tax": "Income tax", "firms": "Firms", "shocks": "Shocks"}
UNIT_WORDS = {"yuan", "per", "kwh", "t", "points", "price", "default"}


def param_label(name: str, width: int = 32, base: dict | None = None) -> str:
    """A readable label for a dotted scenario key, with its unit guessed from the key, e.g.
    ``policy.freight_subsidy.rules.0.yuan_per_t`` -> ``'Freight subsidy, cotton yarn (yuan/t)'``
    when ``base`` (the base scenario as a mapping) says what rule 0 targets, else ``'..., rule 1'``
    (rules counted from 1)."""
    from .comparable import get_dotted

    unit = next((u for k, u in PARAM_UNITS if k in name), "")
    parts = name.split(".")
    if parts[0] == "policy":
        parts = parts[1:]
    head = PARAM_HEADS.get(parts[0], st.pretty(parts[0])) if parts else name
    pos = next((k for k, p in enumerate(parts) if p.isdigit()), None)
    target = ""
    if pos is not None:
        rule = get_dotted(base or {}, ".".join((["policy"] if name.startswith("policy.") else []) + parts[:pos + 1]))
        if isinstance(rule, dict):
            named = [st.pretty(v) for k in ("stages", "sectors", "tiers", "zones") for v in rule.get(k) or []]
            target = ", ".join(named[:2]) + (" ..." if len(named) > 2 else "")
        target = target or f"rule {int(parts[pos]) + 1}"
    last = parts[-1] if len(parts) > 1 else ""
    words = [w for w in last.split("_") if w.lower() not in UNIT_WORDS]
    text = head + (f", {target}" if target else "") + (f": {' '.join(words)}" if words else "")
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
        base = frame.attrs.get("base_scenario")
        ax.set_xlabel(xlabel or param_label(x, base=base))
        ax.set_ylabel(ylabel or param_label(y, base=base))
        reps = int(frame["replication"].nunique()) if "replication" in frame else 1
        st.caption(ax, f"Colour: {st.LABELS.get(metric, (st.pretty(metric),))[0].lower()}, mean over {reps} "
                   "replications" + (" (and the sweep's other parameters)" if frame.attrs.get("other_parameters")
                                     else "") + ".")
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
        fig, ax = _axes(ax, aspect=max(0.8, 0.5 + 0.12 * n))
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
        base = indices.attrs.get("base_scenario")
        ax.set_yticks(ys, [(labels or {}).get(p) or param_label(p, base=base) for p in params])
        ax.grid(axis="y", visible=False)
        metric = indices.attrs.get("metric", "")
        outcome = st.LABELS.get(metric, (st.pretty(metric),))[0]
        horizon = indices.attrs.get("horizon", "")
        reps = indices.attrs.get("replications")
        design = ""
        if not morris and indices.attrs.get("points"):
            design = f" N = {base_samples(indices)} base samples"
            if indices.attrs.get("noise_share") is not None:
                design += f", replication noise {indices.attrs['noise_share']:.0%} of the points' variance"
            design += "."
            if indices.attrs.get("warning"):
                design += " Imprecise (a 95% half-width above 0.1): read only differences the whiskers do not span."
        st.caption(ax, f"Outcome: {outcome.lower()}" + (f", {horizon}" if horizon else "") + ". "
                   "Black whiskers: SALib's 95% bootstrap interval over sample points; grey bars: 95% range "
                   f"over bootstrap resamples of the {reps or ''} replications ({st.NOISE})."
                   f"{design}".replace("  ", " "))
        if morris:
            unit = indices.attrs.get("unit") or st.LABELS.get(metric, ("", ""))[1]
            name = st.LABELS.get(metric, (st.pretty(metric),))[0].lower()
            ax.set_xlabel(f"\u03bc* of {name}\n({unit} per parameter range)")
            st.thousands(ax.xaxis)
        else:
            ax.set_xlabel(f"Sobol index\n(share of the variance of {outcome.lower()})")
            ax.xaxis.set_major_locator(mpl_ticker.MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
            ax.axvline(0, color=st.GREY, lw=0.6)
        fig.legend(loc="outside lower center", ncols=2)
        if title:
            ax.set_title(title)
    return _finish(fig, out)


__all__ = ["plot_effects", "plot_frontier", "plot_heatmap", "plot_paths", "plot_sobol", "param_label"]
