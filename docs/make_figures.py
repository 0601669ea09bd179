"""Regenerate the figures shown in the README (run from the repository root):

    python docs/make_figures.py

It does what these commands do, with the scenario files' own settings (10 replications,
2016-2030, the full firm population), and keeps the results in a temporary folder:

    valuechain run scenarios/baseline.yaml --out results/baseline
    valuechain run scenarios/policy_package_2016.yaml --out results/policy_package_2016
    valuechain plot results/policy_package_2016 --kind chain --baseline results/baseline \\
        --out docs/figures/chain_package_vs_baseline.png
"""

from __future__ import annotations

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


if __name__ == "__main__":
    make()
