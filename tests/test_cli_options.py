"""Command-line options refused with one exact line, exit status 2 and nothing written: the numeric
range of ``cost --power-opportunity``, options given without the one they qualify, abbreviations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CRN, DATA, ROOT

from valuechain.cli import main

TINY = str(DATA / "tiny.yaml")


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli_options")
    runs = {"base": [], "power": ["--set", "policy.electricity_price.default=0.30"]}
    for name, extra in runs.items():
        assert main(["run", TINY, "--out", str(root / name), "--replications", "2", *extra]) == 0
    return {name: root / name for name in runs}


def refused(capsys, argv: list[str]) -> str:
    """The one stderr line of a command that must exit 2 (returned, or argparse's SystemExit) and print
    nothing on stdout."""
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    assert status == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, (out, err)
    return err.rstrip("\n")


@pytest.mark.parametrize("value, got", [("nan", "nan"), ("inf", "inf"), ("-inf", "-inf"), ("-5", "-5.0"),
                                        ("5.01", "5.01"), ("250", "250.0")])
def test_power_opportunity_outside_0_to_5_yuan_per_kwh_is_refused(tiny_runs, tmp_path, capsys, value, got):
    csv = tmp_path / "cost.csv"
    line = refused(capsys, ["cost", str(tiny_runs["power"]), str(tiny_runs["base"]), "--csv", str(csv),
                            f"--power-opportunity={value}"])
    assert line == ("error: --power-opportunity: must be between 0 and 5 yuan/kWh (documented range 0.25-0.40) "
                    f"(got {got})")
    assert not csv.exists()


@pytest.mark.parametrize("value", ["0", "0.25", "5"])
def test_power_opportunity_inside_the_range_is_read(tiny_runs, capsys, value):
    assert main(["cost", str(tiny_runs["power"]), str(tiny_runs["base"]), "--power-opportunity", value]) == 0
    assert f"electricity lever at its shadow price {float(value)} yuan/kWh" in capsys.readouterr().out


def test_captive_without_power_opportunity_is_refused(tiny_runs, tmp_path, capsys):
    csv = tmp_path / "cost.csv"
    line = refused(capsys, ["cost", str(tiny_runs["power"]), str(tiny_runs["base"]), "--captive", "--csv", str(csv)])
    assert line == ("error: --captive: needs --power-opportunity YUAN_PER_KWH (captive power is counted only at "
                    "the shadow price of power)")
    assert not csv.exists()


@pytest.mark.parametrize("argv, nearest", [(["run", TINY, "--replication", "3"], "--replications"),
                                           (["cost", "a", "b", "--power-opp", "0.3"], "--power-opportunity"),
                                           (["backtest", "--replication", "1"], "--replications")])
def test_an_abbreviated_option_is_refused_not_expanded(tmp_path, monkeypatch, capsys, argv, nearest):
    """Refused by the subcommand's parser, which names its nearest option."""
    monkeypatch.chdir(tmp_path)
    given = " ".join(argv[-2:])
    assert refused(capsys, argv) == (f"error: valuechain {argv[0]}: unrecognized arguments: {given}; did you mean "
                                     f"'{nearest}'? (see --help)")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_option_with_no_near_one_gets_no_suggestion(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert refused(capsys, ["run", TINY, "--zzzz", "extra"]) == ("error: valuechain run: unrecognized arguments: "
                                                                 "--zzzz extra (see --help)")
    # the shared dashes do not make a match: '--foo' is not near '--out', nor '--set' near '--quiet'
    assert refused(capsys, ["run", TINY, "--foo"]) == ("error: valuechain run: unrecognized arguments: --foo "
                                                       "(see --help)")
    assert refused(capsys, ["sweep", "s.yaml", "--set", "x=1"]) == ("error: valuechain sweep: unrecognized arguments: "
                                                                    "--set x=1 (see --help)")
    assert refused(capsys, ["run", TINY, "--replications=2", "extra"]) == (
        "error: valuechain run: unrecognized arguments: extra (see --help)")
    assert list(tmp_path.iterdir()) == []


def test_cost_overwrite_without_csv_is_refused(tiny_runs, capsys):
    assert refused(capsys, ["cost", str(tiny_runs["power"]), str(tiny_runs["base"]), "--overwrite"]) == (
        "error: --overwrite: needs --csv FILE (cost writes no file without it)")


def test_help_lists_each_command_once(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: valuechain [-h] [--version] [--debug] COMMAND ...\n")
    for name in ("run", "backtest", "sweep", "compare", "cost", "plot", "validate", "list"):
        assert out.count(f"valuechain {name}") == 1, name
    assert "positional arguments" not in out


# ----------------------------------------------------------------------------- base: and inherits: of a built-in
SWEEP = """\
name: my_sweep
base: {base}
design: grid
parameters:
  policy.electricity_price.default: [0.30, 0.35]
"""


@pytest.mark.parametrize("key", ["base", "inherits"])
def test_a_built_in_written_as_a_yaml_file_gets_the_name_to_write(tmp_path, capsys, key):
    """``base: baseline.yaml`` and ``inherits: baseline.yaml`` beside which no such file is: the same hint."""
    sweep = tmp_path / "my.yaml"
    text = SWEEP.format(base="baseline.yaml")
    if key == "inherits":
        sweep = tmp_path / "s.yaml"
        text = "inherits: baseline.yaml\nname: s\n"
    sweep.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    line = refused(capsys, ["sweep" if key == "base" else "run", str(sweep), "--out", str(out)])
    what = "base scenario file" if key == "base" else "inherited file"
    assert line == (f"error: {sweep}: {key}: {what} not found (looked for {tmp_path.resolve()}/baseline.yaml; for "
                    "the built-in scenario write 'baseline' (no .yaml)) (got baseline.yaml)")
    assert not out.exists()


def test_the_base_of_an_inherited_sweep_file_is_looked_up_beside_the_file_that_writes_it(tmp_path, capsys):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.yaml").write_text(SWEEP.format(base="sweep_base_levers.yaml"), encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text("inherits: shared/common.yaml\nname: mine\ndesign: grid\n", encoding="utf-8")
    line = refused(capsys, ["sweep", str(mine), "--out", str(tmp_path / "out")])
    common = tmp_path / "shared" / "common.yaml"
    assert line == (f"error: {common} (inherited by {mine}): base: base scenario file not found (looked for "
                    f"{common.parent.resolve()}/sweep_base_levers.yaml; for the built-in scenario write "
                    "'sweep_base_levers' (no .yaml)) (got sweep_base_levers.yaml)")
    assert not (tmp_path / "out").exists()


def test_the_readme_sweep_example_runs_from_any_folder(tmp_path, capsys):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = text.split("```yaml\nname: my_power_x_freight\n", 1)[1].split("```", 1)[0]
    sweep = tmp_path / "my.yaml"
    sweep.write_text("name: my_power_x_freight\n" + example, encoding="utf-8")
    assert main(["validate", str(sweep)]) == 0
    assert capsys.readouterr().out == f"ok: {sweep}: sweep with 20 point(s) on 'sweep_base_levers'\n"


# ----------------------------------------------------------------------------- backtest --out DIR [--overwrite]
BT = ["backtest", "--replications", "1", "--set", "firms.scale=0.2"]  # small and fast: warned about, not refused
BT_FILES = ["backtest.csv", "backtest.json", "backtest.png", "backtest_counterfactual.csv", "backtest_factors.csv"]
SCALE_WARNING = ("warning: firms.scale is 0.2, not 1: the region's levels no longer match the record's, so the "
                 "table's errors and checks do not score the model")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_backtest_refuses_a_folder_that_holds_no_back_test_before_running(tmp_path, capsys, overwrite):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes\n", encoding="utf-8")
    line = refused(capsys, [*BT, "--out", str(out), *overwrite])
    assert line == (f"error: {out}: --out: directory exists and is not empty, and holds no back-test "
                    "(backtest.json); choose another --out")
    assert snapshot(out) == {"notes.txt": b"my notes\n"}


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_backtest_is_never_written_beside_a_runs_manifest(tiny_runs, capsys, overwrite):
    before = snapshot(tiny_runs["base"])
    line = refused(capsys, [*BT, "--out", str(tiny_runs["base"]), *overwrite])
    assert line == (f"error: {tiny_runs['base']}: --out: holds a run's results (manifest.json); a back-test is "
                    "not written beside them; choose another --out")
    assert snapshot(tiny_runs["base"]) == before


def test_a_previous_back_test_is_replaced_only_with_overwrite_and_run_does_not_write_beside_it(tmp_path, capsys):
    from valuechain.simulation.checksums import sha256_file

    out = tmp_path / "bt"
    assert main([*BT, "--out", str(out)]) == 0
    assert capsys.readouterr().err == SCALE_WARNING + "\n"
    assert sorted(p.name for p in out.iterdir()) == BT_FILES
    manifest = json.loads((out / "backtest.json").read_text())
    assert manifest["kind"] == "valuechain backtest" and manifest["status"] == "complete"
    assert manifest["files"] == {name: sha256_file(out / name) for name in BT_FILES if name != "backtest.json"}
    first = snapshot(out)

    line = refused(capsys, [*BT, "--out", str(out), "--seed", "3"])
    assert line == f"error: {out}: --out: holds a previous back-test; pass --overwrite to replace it"
    assert snapshot(out) == first

    (out / "notes.txt").write_text("mine\n", encoding="utf-8")  # not the toolkit's: kept
    assert main([*BT, "--out", str(out), "--seed", "3", "--overwrite"]) == 0
    assert capsys.readouterr().err == SCALE_WARNING + "\n"
    second = snapshot(out)
    assert sorted(second) == sorted([*BT_FILES, "notes.txt"]) and second["notes.txt"] == b"mine\n"
    assert second["backtest.csv"] != first["backtest.csv"]  # another seed: the table was replaced

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(CRN.replace("base: tiny.yaml", f"base: {DATA / 'tiny.yaml'}"), encoding="utf-8")
    for writer in (["run", TINY, "--replications", "1"], ["sweep", str(sweep), "--workers", "1"]):
        line = refused(capsys, [*writer, "--out", str(out), "--overwrite"])
        kind = "run" if writer[0] == "run" else "sweep"
        assert line == (f"error: {out}: --out: holds a back-test's results (backtest.json); a {kind} is not "
                        "written beside them; choose another --out")
    assert snapshot(out) == second



def test_the_scale_warning_is_for_firms_scale_other_than_1_only():
    from valuechain.cli import scale_warning

    assert scale_warning(1.0) is None
    assert scale_warning(0.2) == SCALE_WARNING
    assert scale_warning(2) == SCALE_WARNING.replace("0.2", "2")


def test_a_back_test_killed_while_writing_leaves_a_folder_the_next_overwrite_cleans(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "bt"
    env = {**os.environ, "VALUECHAIN_TEST_KILL_AT": "before-replace:backtest.png"}
    argv = [sys.executable, "-m", "valuechain", *BT, "--out", str(out)]
    assert subprocess.run(argv, env=env, capture_output=True).returncode == -9
    manifest = json.loads((out / "backtest.json").read_text())
    assert manifest["status"] == "writing" and "backtest.png" in manifest["files"]
    assert not (out / "backtest.png").exists() and any(p.name.startswith(".backtest.png.tmp-") for p in out.iterdir())
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 2 and "holds a previous back-test; pass --overwrite" in done.stderr
    assert subprocess.run([*argv, "--overwrite"], capture_output=True).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == BT_FILES  # the killed writer's temporary file removed
    assert json.loads((out / "backtest.json").read_text())["status"] == "complete"


# ----------------------------------------------------------------------------- did you mean
def test_a_misspelt_built_in_name_gets_the_nearest_of_those_the_command_accepts(tmp_path, monkeypatch, capsys):
    from valuechain.simulation.config.builtin import builtin_names, builtin_scenarios

    monkeypatch.chdir(tmp_path)
    scenarios, sweeps = builtin_names("scenario"), builtin_names("sweep")
    assert sorted(scenarios + sweeps) == builtin_scenarios() and "baseline" in scenarios
    assert "sweep_power_x_freight" in sweeps and "sweep_base_levers" in scenarios  # a base scenario, not a sweep
    assert refused(capsys, ["run", "basline"]) == ("error: basline: no such file, nor a built-in scenario of that "
                                                   f"name; did you mean 'baseline'? (built-in: {', '.join(scenarios)})")
    assert refused(capsys, ["sweep", "sweep_power_x_frieght"]) == (
        "error: sweep_power_x_frieght: no such file, nor a built-in sweep of that name; did you mean "
        f"'sweep_power_x_freight'? (built-in: {', '.join(sweeps)})")
    assert refused(capsys, ["run", "zzzz"]) == ("error: zzzz: no such file, nor a built-in scenario of that name "
                                                f"(built-in: {', '.join(scenarios)})")
    assert list(tmp_path.iterdir()) == []


def test_a_misspelt_metric_or_grouping_gets_the_nearest_one(tiny_runs, tmp_path, monkeypatch, capsys):
    from valuechain.analysis.compare import METRICS

    monkeypatch.chdir(tmp_path)
    power, base = str(tiny_runs["power"]), str(tiny_runs["base"])
    metric = ("error: --metric: unknown metric 'valu_added'; did you mean 'value_added'? (choose one of "
              f"{', '.join(METRICS)})")
    by = "error: --by: unknown grouping 'sectr'; did you mean 'sector'? (choose one of sector, stage, tier, lever)"
    assert refused(capsys, ["compare", power, base, "--metric", "valu_added"]) == metric
    assert refused(capsys, ["compare", power, base, "--by", "sectr"]) == by
    assert refused(capsys, ["plot", power, "--kind", "paths", "--out", "x.png", "--metric", "valu_added"]) == metric
    assert refused(capsys, ["plot", power, "--kind", "effects", "--baseline", base, "--out", "x.png",
                            "--by", "sectr"]) == by
    assert refused(capsys, ["compare", power, base, "--metric", "zzzz"]) == (
        f"error: --metric: unknown metric 'zzzz' (choose one of {', '.join(METRICS)})")
    assert refused(capsys, ["cost", power, base, "--metric", "valu_added"]) == (
        "error: valuechain cost: argument --metric: invalid choice: 'valu_added'; did you mean 'value_added'? "
        "(choose from value_added, employment, downstream_investment, cost_per_job_year) (see --help)")
    assert refused(capsys, ["plot", power, "--kind", "frontir", "--out", "x.png"]) == (
        "error: valuechain plot: argument --kind: invalid choice: 'frontir'; did you mean 'frontier'? "
        "(choose from paths, effects, frontier, heatmap, sobol, chain) (see --help)")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- help texts
def test_every_option_has_a_help_text_and_list_names_what_it_lists(capsys):
    import argparse

    from valuechain.cli import _parser

    parser = _parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    missing = [f"{name} {a.option_strings[0]}" for name, sub in subs.items() for a in sub._actions
               if a.option_strings and not a.help]
    assert missing == []
    assert subs["list"].description.startswith("List the built-in chains, scenarios and sweeps,")
    stage = next(a for a in subs["plot"]._actions if "--stage" in a.option_strings)
    assert stage.help == "paths, effects: only this stage (repeatable)"


def test_the_interval_rate_and_horizon_options_say_what_they_do_with_their_units(capsys):
    import argparse

    from valuechain.cli import _parser

    subs = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)).choices

    def help_of(command: str, option: str) -> str:
        action = next(a for a in subs[command]._actions if option in a.option_strings)
        return action.help % {"default": action.default}  # as argparse prints it ('%%' is '%')

    assert help_of("cost", "--interval") == (
        "how the interval of each ratio (per 10,000 yuan of cost; the cost per job-year in yuan) is computed over "
        "the paired replications, or over the parameter draws when both sides were run with them: fieller "
        "(default; unbounded where the cost's interval includes zero), delta (delta method) or replication (t "
        "interval of each replication's, or each draw's, own ratio)")
    assert help_of("cost", "--rate") == "discount rate a year for present values, a fraction (default 0.08, i.e. 8%)"
    for command in ("compare", "plot"):  # one wording for both
        assert help_of(command, "--year") == "one simulated year only, e.g. 2020"
        assert help_of(command, "--cumulative") == ("summed over the simulated years (the default; processing_depth: "
                                                    "its value-added-weighted mean over them)")
        assert help_of(command, "--pv") == ("present value: the years discounted at RATE a year (a fraction, e.g. "
                                            "0.05 for 5%) to the first simulated year")
    with pytest.raises(SystemExit):  # the help prints (a lone '%' would make argparse fail here)
        _parser().parse_args(["plot", "--help"])
    assert "(a fraction, e.g. 0.05 for 5%)" in " ".join(capsys.readouterr().out.split())
