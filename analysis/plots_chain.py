"""The chain diagram: value added by stage, upstream to downstream, a scenario against its baseline.

Stages are placed left to right by their depth in the chain's DAG (longest path from a stage with
no chain inputs: ``depth(s) = 0`` without inputs, else ``1 + max depth(inputs)``) and in one
horizontal band per sector; arrows run from each input to its user. Each box shows the stage, its
value added in the scenario (billion yuan, cumulated unless a year is given) and the change
against the baseline in percent (``new`` for a stage with no output in the baseline, which
the policy brought into being); the fill colour is that change, bold text marks changes whose
confidence interval excludes zero.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..simulation.config.chain import SECTORS, Chain, load_chain
from . import style as st
from .compare import RunLike, as_run, compare

TIER_DEPTH = {"raw": 0, "rough": 1, "deep": 2}


def chain_graph(run, chain: Chain | str | Path | None = None) -> tuple[dict[str, list[str]], dict[str, str]]:
    """``(inputs, sector)`` per stage: from ``chain`` (a Chain, name or file), else the run's manifest
    ``chain_file``; without a chain file, stages have no known inputs (depth falls back to tier)."""
    if chain is None:
        chain = run.manifest.get("chain_file")
        if chain is not None and not Path(chain).is_file():
            chain = None
    if chain is not None and not isinstance(chain, Chain):
        chain = load_chain(str(chain))
    stages = run.stages.drop_duplicates("stage").set_index("stage")
    if chain is None:
        return {s: [] for s in stages.index}, stages["sector"].to_dict()
    return ({s: list(chain.spec.stages[s].inputs) for s in chain.order},
            {s: chain.spec.stages[s].sector for s in chain.order})


def stage_depths(inputs: dict[str, list[str]], tiers: dict[str, str] | None = None) -> dict[str, int]:
    """Longest-path depth of each stage in the DAG ``inputs`` (tier order when no edges are known)."""
    if tiers and not any(inputs.values()):
        return {s: TIER_DEPTH.get(tiers.get(s, "raw"), 0) for s in inputs}
    depth: dict[str, int] = {}

    def visit(s: str) -> int:
        if s not in depth:
            depth[s] = 1 + max((visit(i) for i in inputs.get(s, [])), default=-1)
        return depth[s]

    for s in inputs:
        visit(s)
    return depth


def layout(inputs: dict[str, list[str]], sector: dict[str, str], depth: dict[str, int]) -> tuple[dict, list]:
    """``({stage: (x, y)}, [(sector, y_low, y_high)])``: x = depth, one band of rows per sector.

    Within a band, the stages of one depth are ordered by the mean row of their inputs
    (a barycentre pass, which keeps most arrows short and uncrossed).
    """
    pos: dict[str, tuple[float, float]] = {}
    bands = []
    y0 = 0.0
    order = [s for s in SECTORS if s in set(sector.values())] + sorted(set(sector.values()) - set(SECTORS))
    for sec in order:
        members = [s for s in inputs if sector[s] == sec]
        by_depth: dict[int, list[str]] = {}
        for s in members:
            by_depth.setdefault(depth[s], []).append(s)
        rows = max(len(v) for v in by_depth.values())
        local: dict[str, float] = {}
        for d in sorted(by_depth):
            bary = {s: float(np.mean([local[i] for i in inputs[s] if i in local] or [0.0])) for s in by_depth[d]}
            for k, s in enumerate(sorted(by_depth[d], key=bary.__getitem__)):
                local[s] = k
        for s, k in local.items():
            pos[s] = (float(depth[s]), -(y0 + k))
        bands.append((sec, -(y0 + rows - 1) - 0.5, -y0 + 0.5))
        y0 += rows + 0.35
    return pos, bands


def plot_chain(results: RunLike, baseline: RunLike, *, metric: str = "value_added", chain: Chain | str | None = None,
               year: int | None = None, pv: float | None = None, confidence: float = 0.95,
               ax: Axes | None = None, out: str | Path | None = None, title: str | None = None) -> Figure:
    """Chain diagram of ``metric`` by stage for ``results`` against ``baseline`` (see module docstring)."""
    run, base = as_run(results), as_run(baseline)
    table = compare(run, base, metric, "stage", year=year, pv=pv, confidence=confidence).set_index("stage")
    inputs, sector = chain_graph(run, chain)
    inputs = {s: [i for i in v if i in table.index] for s, v in inputs.items() if s in table.index}
    tiers = run.stages.drop_duplicates("stage").set_index("stage")["tier"].to_dict()
    depth = stage_depths(inputs, tiers)
    pos, bands = layout(inputs, sector, depth)
    max_depth = max(depth.values())
    n_rows = -min(b[1] for b in bands)
    pct = table["pct_effect"].astype(float)
    lim = float(np.nanmax(np.abs(pct.to_numpy()))) if pct.notna().any() else 1.0
    lim = max(min(lim, 100.0), 1.0)
    norm = mpl.colors.TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
    cmap = mpl.colormaps["PuOr"]
    with st.style():
        if ax is None:
            fig, ax = st.figure("page", aspect=min(1.3, (0.9 + 0.36 * n_rows) / st.PAGE_IN))
        else:
            fig = ax.figure
        bw, bh = 0.88, 0.8
        for s, (x, y) in pos.items():
            r = table.loc[s]
            new = r["baseline_mean"] == 0 and r["scenario_mean"] > 0  # a stage the baseline never had
            if np.isfinite(r["pct_effect"]):
                face = cmap(norm(r["pct_effect"]))
            else:
                face = cmap(norm(lim)) if new else "#FFFFFF"
            ax.add_patch(FancyBboxPatch((x - bw / 2, y - bh / 2), bw, bh, boxstyle="round,pad=0,rounding_size=0.08",
                                        fc=face, ec="#404040", lw=0.5, zorder=2))
            ink = "white" if _luminance(face) < 0.4 else "black"
            significant = np.isfinite(r["ci_low"]) and (r["ci_low"] > 0 or r["ci_high"] < 0)
            name = textwrap.fill(st.pretty(s), 24)
            ax.text(x, y + 0.04, name, ha="center", va="bottom", fontsize=5.8, zorder=3, linespacing=0.9, color=ink)
            change = "new" if new else _pct(r["pct_effect"])
            ax.text(x, y - 0.04, f"{_amount(r['scenario_mean'], metric)}  {change}", ha="center",
                    va="top", fontsize=5.8, zorder=3, fontweight="bold" if significant else "normal", color=ink)
        for s, ins in inputs.items():
            for i in ins:
                (x1, y1), (x2, y2) = pos[i], pos[s]
                ax.add_patch(FancyArrowPatch((x1 + bw / 2, y1), (x2 - bw / 2, y2), arrowstyle="-|>", mutation_scale=5,
                                             lw=0.5, color=st.GREY, zorder=1, shrinkA=0, shrinkB=0,
                                             connectionstyle="arc3,rad=0.0"))
        for k, (_, lo, hi) in enumerate(bands):
            if k % 2 == 0:
                ax.axhspan(lo, hi, color="#F2F2F2", zorder=0, lw=0)
        ax.set_yticks([(lo + hi) / 2 for _, lo, hi in bands], [textwrap.fill(st.pretty(b[0]), 12) for b in bands])
        ax.set_xticks(range(max_depth + 1), [f"{d}" for d in range(max_depth + 1)])
        ax.set_xlabel("Depth in the chain (0 = no chain inputs): upstream \u2192 downstream")
        ax.set_xlim(-0.5, max_depth + 0.5)
        ax.set_ylim(min(b[1] for b in bands) - 0.1, 0.6)
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(length=0)
        clipped = bool(pct.notna().any() and np.nanmax(np.abs(pct.to_numpy())) > lim)
        cb = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, aspect=25, pad=0.01,
                          extend="both" if clipped else "neither")
        cb.set_label(f"Change in {st.LABELS.get(metric, (metric,))[0].lower()}\nvs baseline (%)")
        cb.ax.tick_params(labelsize=7)
        horizon = table.attrs.get("horizon", "")
        unit = "billion yuan" if metric in st.LABELS and st.LABELS[metric][1] == "million yuan" else \
            table.attrs.get("units", "")
        ax.set_title(title or f"{st.run_label(run.label)} vs {st.run_label(base.label)}: "
                     f"the scenario's {st.LABELS.get(metric, (metric,))[0].lower()} by stage, {horizon} ({unit}), "
                     f"and its change\n"
                     f"Bold: the {confidence:.0%} CI of the change ({st.NOISE}) excludes 0.  "
                     f"new: no output in the baseline.  (none): no output in either.", fontsize=7, loc="left")
    if out is not None:
        st.save(fig, out)
    return fig


def _amount(v: float, metric: str) -> str:
    if metric in st.LABELS and st.LABELS[metric][1] == "million yuan":
        v = v / 1e3  # billion yuan
    return st.number(v)


def _pct(p: float) -> str:
    """A signed change to one decimal; one that rounds to zero is 0.0% (never -0.0% or +0.0%)."""
    if not np.isfinite(p):
        return "(none)"
    return "0.0%" if round(p, 1) == 0 else f"{p:+.1f}%"


def _luminance(colour) -> float:
    """Relative luminance (WCAG) of a colour, to pick black or white text on it."""
    rgb = np.asarray(mpl.colors.to_rgb(colour))
    lin = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


__all__ = ["chain_graph", "layout", "plot_chain", "stage_depths"]
