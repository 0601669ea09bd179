"""Data flows one way: analysis reads results and chains but never loads the engine."""

import subprocess
import sys

from conftest import ROOT


def test_analysis_does_not_import_the_engine():
    code = ("import sys, analysis; "
            "loaded = [m for m in ('simulation.engine', 'simulation.model', 'simulation.firm', 'mesa') "
            "if m in sys.modules]; print(loaded)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
