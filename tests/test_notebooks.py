"""The worked-example notebooks run top to bottom (from the repository root, on small settings)."""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = ["01_quickstart.ipynb", "02_compare_policy_mixes.ipynb", "03_sweep_and_sensitivity.ipynb"]
TIMEOUT_S = 120  # per cell


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend shows the figures
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    client = NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    figures = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if "image/png" in o.get("data", {})]
    assert figures, "the notebook should show its figures"


def test_notebooks_match_their_generator():
    """The committed notebooks are what notebooks/make_notebooks.py writes (edit the generator)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "notebooks" / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, nb in module.build().items():
        committed = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        strip = lambda book: json.dumps([(c.cell_type, c.source) for c in book.cells])  # noqa: E731
        assert strip(committed) == strip(nb), name
