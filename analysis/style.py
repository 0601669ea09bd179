"""One publication style for every figure: Okabe-Ito colours, units on axes, column-width sizes.

Figures are sized for a journal column (3.5 in) or a full page width (7.2 in) at 8 pt text, so
they stay readable when printed at that size. :func:`save` chooses the format by the file
extension: ``.png`` at 300 dpi, ``.pdf`` or ``.svg`` as vectors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..outfile import write_replacing
from ..plot_options import CREATOR, check_out
from ..simulation.schema import DISPLAY_NAMES, display_name

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision deficiencies.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
# order for series: strong, well-separated hues first; yellow last (weak on white)
PALETTE = [OKABE_ITO[name] for name in
           ("blue", "vermillion", "bluish_green", "reddish_purple", "orange", "sky_blue", "black", "yellow")]
GREY = "#7F7F7F"
COLUMN_IN = 3.5
PAGE_IN = 7.2
DPI = 300

RC = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "axes.grid": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.5,
    "axes.axisbelow": True,
    "lines.linewidth": 1.3,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "savefig.dpi": DPI,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.03,
    "figure.dpi": 150,
    "pdf.fonttype": 42,  # embed TrueType: text stays editable in the PDF
    "svg.fonttype": "none",
}

def number(v: float) -> str:
    """A value for a label: thousands separators from 100 up, three significant digits below."""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


# metric -> (axis label, unit). Money in the results is in million yuan.
LABELS = {
    "value_added": ("Value added", "million yuan"),
    "investment": ("Investment", "million yuan"),
    "downstream_investment": ("Downstream investment", "million yuan"),
    "employment": ("Employment", "workers"),
    "fiscal_cost": ("Fiscal cost, all levels of government", "million yuan"),  # what the model books (cost: region)
    "profit": ("Profit before tax", "million yuan"),
    "labour_cost": ("Wages", "million yuan"),
    "depreciation": ("Depreciation", "million yuan"),
    "interest": ("Interest paid, net of subsidy", "million yuan"),
    "tax_paid": ("Income tax paid", "million yuan"),
    "sales": ("Sales", "million yuan"),
    "imported_inputs": ("Imported inputs", "million yuan"),
    "local_inputs": ("Local inputs", "million yuan"),
    "local_sales_value": ("Local sales", "million yuan"),
    "intermediate_inputs": ("Intermediate inputs", "million yuan"),
    "processing_depth": ("Processing depth", "share of value added in deep stages"),
    "firms": ("Firms", "number"),
    "entries": ("Entries", "plants per year"),
    "exits": ("Exits", "firms per year"),
    "output": ("Output", "stage units"),
    "output_above_scale": ("Output above scale", "stage units"),
    "capacity": ("Capacity", "stage units per year"),
    "exports": ("Exports", "stage units"),
    "local_sales": ("Local sales", "stage units"),
}


def label(metric: str, unit: str | None = None, prefix: str = "") -> str:
    """Axis label with its unit, e.g. ``'Value added (million yuan)'``."""
    name, default_unit = LABELS.get(metric, (metric.replace("_", " ").capitalize(), ""))
    unit = unit or default_unit
    text = f"{prefix}{name.lower() if prefix else name}"
    return f"{text} ({unit})" if unit else text


def pretty(name: str) -> str:
    """Display name of a sector, tier, lever, outcome or stage for legends and tick labels, from the
    one table in :mod:`simulation.schema` (``'electronics_it'`` -> ``'Electronics & IT materials'``;
    a stage ``'cotton_yarn'`` -> ``'cotton yarn'``)."""
    return display_name(name)


def run_label(name: str) -> str:
    """A scenario's or sweep point's name as the user gave it (built-in scenarios by display name):
    never mangled (``power_030`` stays ``power_030``, not ``power 030``)."""
    return DISPLAY_NAMES.get(str(name), str(name))


@contextmanager
def style() -> Iterator[None]:
    """Apply the house style inside a ``with`` block (leaves global rcParams untouched).

    The one setting kept from inside the block is ``interactive``: Jupyter's inline backend is
    loaded (and switches interactive mode on) when the first figure is made, which may happen
    here; undoing that would stop later figures from being shown.
    """
    state: dict[str, bool] = {}
    try:
        with mpl.rc_context(RC):
            try:
                yield
            finally:
                state["interactive"] = mpl.is_interactive()
    finally:
        if state:
            mpl.interactive(state["interactive"])


def figure(width: str | float = "column", aspect: float = 0.72, nrows: int = 1, ncols: int = 1,
           **kw) -> tuple[Figure, object]:
    """A figure ``width`` inches wide (``'column'`` = 3.5 in, ``'page'`` = 7.2 in), height = width x aspect."""
    w = {"column": COLUMN_IN, "page": PAGE_IN}.get(width, width) if isinstance(width, str) else float(width)
    with style():
        fig, ax = plt.subplots(nrows, ncols, figsize=(w, w * aspect), layout="constrained", **kw)
    return fig, ax


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG (300 dpi), PDF or SVG by the extension of ``path``; returns the path. A file
    already there is replaced only if it is a figure valuechain wrote (:func:`check_out`)."""
    path = check_out(path)
    ext = path.suffix.lower()
    with style():  # written under a temporary name and renamed into place: never half a figure
        write_replacing(path, lambda tmp: fig.savefig(tmp, dpi=DPI, format=ext[1:], metadata=_metadata(ext)))
    return path


def _metadata(ext: str) -> dict:
    """The creator metadata by which a figure is recognised as valuechain's (plot_options.is_our_figure)."""
    if ext == ".png":
        return {"Software": CREATOR}
    if ext == ".pdf":
        return {"Creator": CREATOR, "CreationDate": None}  # no date: reproducible files
    return {"Creator": CREATOR, "Date": None}


def colours(n: int) -> list:
    """``n`` series colours that do not repeat: the Okabe-Ito palette for up to 8 series, evenly
    spaced colours of the (colour-blind safe, monotone in lightness) viridis map beyond."""
    if n <= len(PALETTE):
        return PALETTE[:n]
    cmap = mpl.colormaps["viridis"]
    return [mpl.colors.to_hex(cmap(v)) for v in [i / (n - 1) * 0.92 for i in range(n)]]


def caption(ax, text: str) -> None:
    """A small caption line across the top of the figure saying what the marks mean (what
    whiskers or bands are), wrapped to the figure's width; constrained layout makes room for it."""
    import textwrap

    fig = ax.figure
    chars = max(40, int(fig.get_figwidth() * 72 / 3.1))  # ~3.1 pt per character at 6 pt
    old = getattr(fig, "_valuechain_caption", "")
    body = f"{old} {text}".strip()
    fig._valuechain_caption = body
    fig.suptitle(textwrap.fill(body, chars), x=0.01, ha="left", fontsize=6, color="#333333")


NOISE = "simulation noise only"  # what the intervals cover, until parameter uncertainty is propagated


def thousands(*axes) -> None:
    """Tick labels with thousands separators (``12,500``); at most four ticks on a horizontal axis
    (long labels must not touch at column width), six on a vertical one."""
    for axis in axes:
        nbins = 4 if isinstance(axis, mpl.axis.XAxis) else 6
        axis.set_major_locator(mpl.ticker.MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]))
        axis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:,.10g}" if abs(v) < 1000 else f"{v:,.0f}"))


def close(fig: Figure) -> None:
    plt.close(fig)
