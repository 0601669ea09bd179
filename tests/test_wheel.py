"""The wheel works: built, installed into a fresh virtual environment and run from a folder whose own
analysis.py and simulation.py would shadow a toolkit importable under those generic names."""

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    (path,) = dist.glob("valuechain-*.whl")
    return path


def test_the_wheel_holds_the_package_and_its_built_in_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("valuechain/__init__.py", "valuechain/cli.py", "valuechain/simulation/abm/model.py",
                 "valuechain/simulation/economy/levers/electricity.py", "valuechain/analysis/compare.py",
                 "valuechain/scenarios/baseline.yaml", "valuechain/scenarios/chains/xinjiang.yaml"):
        assert name in names, name
    assert not any(n.startswith(("simulation/", "analysis/", "tests/")) for n in names)


def test_installed_wheel_runs_baseline_from_a_folder_that_shadows_generic_names(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    # the dependencies come from this interpreter's site-packages (a .pth file adds them; the
    # toolkit itself is not there: this environment has it installed in editable mode, elsewhere)
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "notebook_folder"
    work.mkdir()
    (work / "analysis.py").write_text("raise ImportError('the user analysis.py was imported')\n")
    (work / "simulation.py").write_text("raise ImportError('the user simulation.py was imported')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run = subprocess.run([str(env_dir / "bin" / "valuechain"), "run", "baseline", "--replications", "1",
                          "--set", "horizon.years=3", "--name", "baseline"], cwd=work, capture_output=True,
                         text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (work / "results" / "baseline" / "manifest.json").exists()
    holiday = Path(builtin_dir(py, env)) / "tax_holiday.yaml"
    code = ("import valuechain, valuechain.simulation as s, valuechain.analysis as a; "
            "r = a.load_results('results/baseline'); "
            f"print(valuechain.__file__.startswith({str(env_dir)!r}), s.load_scenario({str(holiday)!r}).name, "
            "len(r.stages) > 0)")
    api = subprocess.run([str(py), "-c", code], cwd=work, capture_output=True, text=True, env=env, timeout=300)
    assert api.returncode == 0, api.stderr
    assert api.stdout.split() == ["True", "tax_holiday", "True"]


def builtin_dir(py: Path, env: dict) -> str:
    code = "from valuechain.simulation.config.builtin import data_dir; print(data_dir())"
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()
