"""Regenerate the figures shown in the README (run from the repository root):

    python docs/make_figures.py              # all figures
    python docs/make_figures.py backtest     # only the back-test figure (about half a minute)

It does what these commands do, with the scenario files' own settings (10 replications,
2016-2030, the full firm population), and keeps the results in a temporary folder:

    valuechain run scenarios/baseline.yaml --out results/baseline
    valuechain run scenarios/policy_package_2016.yaml --out results/policy_package_2016
    valuechain plot results/policy_package_2016 --kind chain --baseline results/baseline \\
        --out docs/figures/chain_package_vs_baseline.png
    valuechain backtest --parameter-draws 10 --out results/backtest   # then copy backtest.png
        # to docs/figures/backtest.png (5 replications x 10 parameter draws, 2014-2024)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from valuechain.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"


def make(workers: int = 2) -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="valuechain_docs_") as tmp:
        results = Path(tmp)
        for name in ("baseline", "policy_package_2016"):
            code = main(["run", str(ROOT / "scenarios" / f"{name}.yaml"), "--out", str(results / name),
                         "--workers", str(workers)])
            if code:
                sys.exit(code)
        code = main(["plot", str(results / "policy_package_2016"), "--kind", "chain", "--baseline",
                     str(results / "baseline"), "--out", str(FIGURES / "chain_package_vs_baseline.png")])
        if code:
            sys.exit(code)


def make_backtest(workers: int = 2) -> None:
    """The back-test figure: the recorded history against the record, parameter draws included."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="valuechain_docs_") as tmp:
        code = main(["backtest", "--parameter-draws", "10", "--out", tmp, "--workers", str(workers)])
        if code:
            sys.exit(code)
        shutil.copyfile(Path(tmp) / "backtest.png", FIGURES / "backtest.png")


if __name__ == "__main__":
    if sys.argv[1:] != ["backtest"]:
        make()
    make_backtest()
