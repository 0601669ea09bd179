"""The README's Quick start is true: two set-up commands and the test command, the main job runs."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash)?\n(.*?)```", section, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_quick_start_has_install_main_job_and_test_command():
    commands = quick_start_commands()
    assert commands == ['pip install -e ".[test]"', "valuechain run baseline", "pytest"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[0] in ci and "\npytest" in ci


def test_main_command_runs_as_written(tmp_path):
    """Run the README's main command in a fresh, empty folder, as a new user would."""
    argv = shlex.split(quick_start_commands()[1])
    exe = Path(sys.executable).parent / argv[0]
    proc = subprocess.run([str(exe), *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "value_added" in proc.stdout and "results/baseline" in proc.stdout
    out = tmp_path / "results" / "baseline"
    names = sorted(p.name for p in out.iterdir())
    manifest = json.loads((out / "manifest.json").read_text())
    reps = manifest["replications"]
    assert names == sorted(["fiscal_cost.parquet", "manifest.json", "runs.parquet"]
                           + [f"stages_rep{k:04d}.parquet" for k in range(reps)])
    assert manifest["status"] == "complete" and manifest["scenario"]["name"] == "baseline"
