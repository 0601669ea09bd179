"""The README's Quick start is true: two set-up commands and the test command, the main job runs."""

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from valuechain.analysis import load_results, processing_depth


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


@pytest.fixture(scope="module")
def quick_start_run(tmp_path_factory):
    """The README's main command run once in a fresh, empty folder, as a new user would."""
    folder = tmp_path_factory.mktemp("quick_start")
    argv = shlex.split(quick_start_commands()[1])
    exe = Path(sys.executable).parent / argv[0]
    proc = subprocess.run([str(exe), *argv[1:]], cwd=folder, capture_output=True, text=True, timeout=300)
    return proc, folder


def test_main_command_runs_as_written(quick_start_run):
    proc, folder = quick_start_run
    assert proc.returncode == 0, proc.stderr
    assert "value_added" in proc.stdout and "results/baseline" in proc.stdout
    out = folder / "results" / "baseline"
    names = sorted(p.name for p in out.iterdir())
    manifest = json.loads((out / "manifest.json").read_text())
    reps = manifest["replications"]
    assert names == sorted(["fiscal_cost.parquet", "manifest.json", "runs.parquet"]
                           + [f"stages_rep{k:04d}.parquet" for k in range(reps)])
    assert manifest["status"] == "complete" and manifest["scenario"]["name"] == "baseline"


def test_baseline_paragraph_quotes_what_the_quick_start_run_gives(quick_start_run):
    """The numbers of "The no-policy baseline" are those of `valuechain run baseline` (mean of its
    replications, first and last year), as rounded in the README: deep value added in bn yuan,
    processing depth in %, total value added in bn yuan. The test fails if either side drifts."""
    proc, folder = quick_start_run
    assert proc.returncode == 0, proc.stderr
    section = (ROOT / "README.md").read_text().split("### The no-policy baseline", 1)[1].split("\n### ", 1)[0]
    section = " ".join(section.split())
    quoted = re.search(r"their value added goes from about ([\d.]+) to ([\d.]+) bn yuan and processing depth "
                       r"\(their share of value added\) from ([\d.]+)% to ([\d.]+)%", section)
    totals = re.search(r"Value added is about (\d+) bn yuan in (\d{4}) and (\d+) bn in (\d{4})", section)
    assert quoted and totals, section
    res = load_results(folder / "results" / "baseline")
    stages, n = res.stages, res.stages.replication.nunique()
    first, last = stages.year.min(), stages.year.max()
    assert (int(totals[2]), int(totals[4])) == (first, last)
    deep_bn = stages[stages.tier == "deep"].groupby("year").value_added.sum() / n / 1000
    total_bn = stages.groupby("year").value_added.sum() / n / 1000
    depth_pct = processing_depth(res).groupby("year").mean() * 100
    assert [float(x) for x in quoted.groups()] == [round(deep_bn[first], 1), round(deep_bn[last], 1),
                                                  round(depth_pct[first], 1), round(depth_pct[last], 1)]
    assert (int(totals[1]), int(totals[3])) == (round(total_bn[first]), round(total_bn[last]))


def python_blocks() -> list[str]:
    """Every ```python block of the README, in order."""
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_python_snippets_run_as_scripts(tmp_path):
    """Each Python snippet is a complete script: saved to a file and run with `python FILE` in a folder
    holding the scenarios (after the Quick start's run, as the README says), it exits 0."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    argv = shlex.split(quick_start_commands()[1])
    exe = Path(sys.executable).parent / argv[0]
    proc = subprocess.run([str(exe), *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    blocks = python_blocks()
    assert len(blocks) >= 4 and any("run_sweep" in b for b in blocks) and any("load_results" in b for b in blocks)
    for i, block in enumerate(blocks):
        script = tmp_path / f"snippet_{i}.py"
        script.write_text(block)
        proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, f"snippet {i}:\n{block}\n{proc.stderr[-3000:]}"
    assert (tmp_path / "results" / "mixes" / "manifest.json").is_file()


UNGUARDED = """\
from valuechain.simulation import run_sweep

summary = run_sweep({sweep!r}, out="out", workers=2, progress=False)
"""
GUARDED = """\
import sys

from valuechain.simulation import run_sweep

if __name__ == "__main__":
    summary = run_sweep({sweep!r}, out="out", workers=2, progress=False)
    sys.exit(1 if summary.n_failed else 0)
"""


def test_a_script_without_main_guard_fails_fast(tmp_path):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"name: s\nbase: {ROOT / 'tests' / 'data' / 'tiny.yaml'}\ndesign: grid\nreplications: 2\n"
                     "parameters:\n  policy.tax.default_rate: [0.15, 0.25]\n")
    (tmp_path / "bad.py").write_text(UNGUARDED.format(sweep=str(sweep)))
    proc = subprocess.run([sys.executable, "bad.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last == (f"RuntimeError: {tmp_path / 'bad.py'}, line 3: run_sweep with workers > 1 starts 'spawn' worker "
                    "processes that import the main script again: put the call under "
                    "`if __name__ == \"__main__\":` (or use workers=1)")
    assert not (tmp_path / "out").exists()  # refused before anything was written
    (tmp_path / "good.py").write_text(GUARDED.format(sweep=str(sweep)))
    proc = subprocess.run([sys.executable, "good.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["ok"] == 4


def test_make_figures_help_writes_nothing():
    figure = ROOT / "docs" / "figures" / "chain_package_vs_baseline.png"
    before = figure.stat().st_mtime_ns
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "make_figures.py"), "--help"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and "usage:" in proc.stdout
    assert figure.stat().st_mtime_ns == before


def test_backtest_table_agrees_with_the_summary_line_it_sits_under():
    """The back-test section's table of checks and held-out records gives the counts of the summary
    line quoted above it (within ±25%, ±50%, record inside the model's 95% range), and each row's
    yes/no follows from its range and record."""
    section = (ROOT / "README.md").read_text().split("## Back-test: 2014-2024 against the record", 1)[1]
    section = section.split("\n## ", 1)[0]
    line = re.search(r"```\n(in sample: .*?)\n```", section)[1]
    rows = [[c.strip() for c in r.strip().strip("|").split("|")] for r in section.splitlines()
            if r.startswith("| ") and not r.startswith("| series") and r.count("|") == 10]
    assert len(rows) >= 30

    def number(text: str) -> float:
        return float(text.replace(",", ""))

    count = {}
    roles = {"check": ("check", "check (chose a setting)"), "free": ("check",), "held out": ("held out",)}
    for role, labels in roles.items():
        mine = [r for r in rows if r[7] in labels]
        errors = [abs(number(r[6].rstrip("%"))) / 100 for r in mine]
        for r in mine:
            low, high = (number(x) for x in r[4].split("-"))
            if r[8] == "yes":
                assert low <= number(r[5]) <= high, r
            elif r[8] == "no":  # outside, or on a rounded edge
                assert not low < number(r[5]) < high, r
        count[role] = (len(mine), sum(e <= 0.25 for e in errors), sum(e <= 0.50 for e in errors),
                       sum(r[8] == "yes" for r in mine))
    n, k25, _, inside = count["check"]
    assert f"{n} checks, of which {k25} within ±25% ({inside} inside the model's 95% range)" in line
    n_free, k25_free, _, _ = count["free"]
    if n_free < n:  # some checks chose a setting (observed.CHOSE): the others are counted too
        assert f"and of the {n_free} checks that chose no setting {k25_free} within ±25%;" in line
    n, k25, k50, inside = count["held out"]
    assert (f"{n} held out, of which {k25} within ±25% and {k50} within ±50% ({inside} inside the model's 95% "
            "range)") in line


def readme_command_lines() -> dict[str, str]:
    """The README's "## Command line" block as {command: its usage after the name}, continuation lines
    joined and ``# ...`` comments dropped; ``valuechain --version`` is listed under ``--version``."""
    section = (ROOT / "README.md").read_text().split("## Command line", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, flags=re.S)[1]
    entries: list[str] = []
    for line in block.splitlines():
        text = line.split("#", 1)[0].strip()
        if line.startswith("valuechain "):
            entries.append(text)
        elif text:
            entries[-1] += " " + text
    return {entry.split()[1]: entry for entry in entries}


def test_readme_command_list_agrees_with_the_parser():
    """Every subcommand of the parser is in the README's command list and nothing else is; each entry
    starts with the synopsis `valuechain --help` prints (name, positional arguments, required options,
    by the parser's metavars) and names exactly the subcommand's optional options."""
    import argparse

    from valuechain.cli import _parser, command_synopses

    parser = _parser()
    readme = readme_command_lines()
    assert readme.pop("--version") == "valuechain --version"
    synopses = dict(command_synopses(parser))
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert sorted(readme) == sorted(subs)
    for name, entry in readme.items():
        synopsis = next(s for s in synopses if s.split()[1] == name)
        head, _, rest = entry.partition(" [")
        assert head == synopsis, name
        options = {o for a in subs[name]._actions if a.option_strings and not a.required
                   and a.help != argparse.SUPPRESS for o in a.option_strings} - {"-h", "--help"}
        assert set(re.findall(r"--[a-z][\w-]*", rest)) == options, name
