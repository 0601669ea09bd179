"""The options of ``valuechain plot`` that can be checked before any results or plotting library are
read: the figure file's format and folder, the options each kind uses, the ones it needs.

Only the standard library and the input error are imported here, so a bad option is refused at once
(``valuechain.analysis`` imports pandas and matplotlib, several seconds on a cold start).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .outfile import check_out_file
from .simulation.config.errors import InputError

FORMATS = {".png", ".pdf", ".svg"}  # by the extension of --out: PNG at 300 dpi, PDF or SVG as vectors

# which options each kind reads (the rest are refused, not silently ignored)
APPLIES = {
    "paths": {"baseline", "metric", "difference", "unpaired", "sector", "tier", "stage"},
    "effects": {"baseline", "metric", "by", "unpaired", "sector", "tier", "stage", "year", "cumulative", "pv"},
    "frontier": {"baseline", "metric", "year", "cumulative", "pv"},
    "heatmap": {"metric", "x", "y", "year", "cumulative", "pv"},
    "sobol": {"metric", "year", "cumulative", "pv"},
    "chain": {"baseline", "metric", "year", "cumulative", "pv"},
}
OPTIONAL = ("baseline", "by", "difference", "unpaired", "sector", "tier", "stage", "x", "y", "year", "cumulative",
            "pv")
NEEDS_BASELINE = ("effects", "chain")


CREATOR = "valuechain"  # the creator metadata analysis.style.save writes into every figure
# how that metadata reads in each format's bytes: PNG's tEXt chunk near its start, PDF's Info
# dictionary near its end, SVG's RDF block near its start
_SIGNED = ((b"\x89PNG\r\n\x1a\n", b"tEXtSoftware\x00" + CREATOR.encode()),
           (b"%PDF-", b"/Creator (" + CREATOR.encode() + b")"),
           (b"<?xml", b"<dc:title>" + CREATOR.encode() + b"</dc:title>"))


def is_our_figure(path: Path) -> bool:
    """True if the file ``path`` is a figure valuechain wrote (its creator metadata is valuechain's)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return any(data.startswith(magic) and mark in data for magic, mark in _SIGNED)


def check_out(path: str | Path, overwrite: bool = True) -> Path:
    """``path`` as a Path if a figure can be written there: a known format, an existing folder, and no
    file there but a figure valuechain wrote (replaced only with ``overwrite``; see
    :func:`~valuechain.outfile.check_out_file`)."""
    path = Path(path)
    ext = path.suffix.lower()
    if path.is_dir():  # (whatever its name: a folder named results.v2 too)
        raise InputError(str(path), "--out", f"is a directory; name the file to write, e.g. {path / 'figure.png'} "
                         "(.png, .pdf or .svg)")
    if not ext:
        raise InputError(str(path), "--out", f"has no extension; name the file to write, e.g. "
                         f"{path.with_suffix('.png')} (.png, .pdf or .svg)")
    if ext not in FORMATS:
        raise InputError(str(path), "--out", f"unsupported figure format '{ext}'; use .png, .pdf or .svg")
    if not path.parent.exists():
        raise InputError(str(path), "--out", "directory does not exist")
    return check_out_file(path, "--out", overwrite, is_our_figure)


def check_options(args: Any) -> None:
    """Refuse an option that the figure ``args.kind`` does not use, naming the kinds that do, and a
    missing option it needs."""
    for opt in OPTIONAL:
        given = getattr(args, opt, None)
        if given in (None, False, []) or opt in APPLIES[args.kind]:
            continue
        users = [k for k, used in APPLIES.items() if opt in used]
        raise InputError(f"--{opt}", "", f"does not apply to --kind {args.kind}; it is read by --kind "
                         f"{', '.join(users)}", given)
    if args.kind == "paths" and args.difference and not args.baseline:
        raise InputError("--difference", "", "needs --baseline DIR (the paired effect is against the baseline)")
    if args.kind in NEEDS_BASELINE and not args.baseline:
        raise InputError("--baseline", "", f"--kind {args.kind} needs --baseline DIR (the results to compare with)")


def check_plot_args(args: Any) -> Path:
    """Every check of ``valuechain plot``'s options that reads no data; returns the figure's path."""
    out = check_out(args.out, overwrite=args.overwrite)
    check_options(args)
    return out
