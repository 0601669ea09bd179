"""Shared test settings: non-interactive matplotlib, paths to test data."""

import shutil
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


# a grid sweep of the tiny chain with common random numbers: 4 points x 3 replications
CRN = """
name: crn_grid
base: tiny.yaml
design: grid
parameters:
  policy.electricity_price.default: {low: 0.25, high: 0.45, levels: 4}
replications: 3
seed: 11
"""


@pytest.fixture
def tiny_folder(tmp_path: Path, monkeypatch) -> Path:
    """A working folder holding the tiny scenario and chain (``tests/data``), made the current one."""
    for name in ("tiny.yaml", "tiny_chain.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path
