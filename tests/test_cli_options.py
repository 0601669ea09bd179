"""Command-line options refused with one exact line, exit status 2 and nothing written: the numeric
range of ``cost --power-opportunity``, options given without the one they qualify, abbreviations."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA

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
