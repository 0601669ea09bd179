"""Command-line options refused with one exact line, exit status 2 and nothing written: the numeric
range of ``cost --power-opportunity``, options given without the one they qualify, abbreviations."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA, ROOT

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


@pytest.mark.parametrize("argv", [["run", TINY, "--replication", "3"], ["cost", "a", "b", "--power-opp", "0.3"],
                                  ["backtest", "--replication", "1"]])
def test_an_abbreviated_option_is_refused_not_expanded(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    given = " ".join(argv[-2:])
    assert refused(capsys, argv) == f"error: valuechain: unrecognized arguments: {given} (see --help)"
    assert list(tmp_path.iterdir()) == []


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
