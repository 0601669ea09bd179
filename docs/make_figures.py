"""Regenerate the figures shown in the README (run from the repository root):

    python docs/make_figures.py              # all figures
    python docs/make_figures.py backtest     # only the back-test figure (about a minute and a half)

It does what these commands do, with the scenario files' own settings (10 replications,
2016-2030, the full firm population), and keeps the results in a temporary folder:

    valuechain run scenarios/baseline.yaml --out results/baseline
    valuechain run scenarios/policy_package_2016.yaml --out results/policy_package_2016
    valuechain plot results/policy_package_2016 --kind chain --baseline results/baseline \\
        --out docs/figures/chain_package_vs_baseline.png --overwrite
    valuechain backtest --parameter-draws 10 --out results/backtest   # then copy backtest.png
        # to docs/figures/backtest.png (20 replications x 10 parameter draws, 2014-2024)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from valuechain.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"


def make(workers: int = 2, out: Path = FIGURES) -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="valuechain_docs_") as tmp:
        results = Path(tmp)
        for name in ("baseline", "policy_package_2016"):
            code = main(["run", str(ROOT / "scenarios" / f"{name}.yaml"), "--out", str(results / name),
                         "--workers", str(workers)])
            if code:
                sys.exit(code)
        code = main(["plot", str(results / "policy_package_2016"), "--kind", "chain", "--baseline",
                     str(results / "baseline"), "--out", str(out / "chain_package_vs_baseline.png"),
                     "--overwrite"])
        if code:
            sys.exit(code)


def make_backtest(workers: int = 2, out: Path = FIGURES) -> None:
    """The back-test figure: the recorded history against the record, parameter draws included."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="valuechain_docs_") as tmp:
        code = main(["backtest", "--parameter-draws", "10", "--out", tmp, "--workers", str(workers)])
        if code:
            sys.exit(code)
        shutil.copyfile(Path(tmp) / "backtest.png", out / "backtest.png")


def cli(argv: list[str] | None = None) -> None:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Writes docs/figures/"
                                "chain_package_vs_baseline.png and backtest.png unless --out-dir is given.")
    p.add_argument("which", nargs="?", choices=["all", "backtest"], default="all",
                   help="all figures (default) or only the back-test figure")
    p.add_argument("--workers", type=int, default=2, help="processes per run (default 2)")
    p.add_argument("--out-dir", type=Path, default=FIGURES, help="folder for the figures (default docs/figures)")
    args = p.parse_args(argv)  # --help prints this and exits before anything is run or written
    if args.which == "all":
        make(args.workers, args.out_dir)
    make_backtest(args.workers, args.out_dir)


if __name__ == "__main__":
    cli()
