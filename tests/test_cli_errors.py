"""The CLI's error contract.

Bad input: exit status 2, exactly one line ``error: FILE: key.path: what is wrong (got VALUE)`` on
stderr, no traceback, nothing written. Internal failure: exit status 1, one line, the traceback
only with ``--debug``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DATA, ROOT

from valuechain.cli import main

BASE = """\
name: tiny
description: tiny test scenario
chain: tiny_chain.yaml
horizon: {start: 2016, years: 10}
replications: 2
seed: 7
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def scenario(folder: Path, text: str, name: str = "tiny_bad.yaml") -> Path:
    """A scenario file next to a copy of the tiny chain."""
    shutil.copy(DATA / "tiny_chain.yaml", folder / "tiny_chain.yaml")
    return write(folder, name, text)


def chain_text(**replace: str) -> str:
    """tiny_chain.yaml with some lines replaced (exact old line -> new text)."""
    text = (DATA / "tiny_chain.yaml").read_text(encoding="utf-8")
    for old, new in replace.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


CYCLE = {"    other_inputs_yuan_per_unit: 600\n": "    inputs: {parts: 0.1}\n    other_inputs_yuan_per_unit: 600\n"}
ZERO_PRICE = {"    price_yuan_per_unit: 16000\n": "    price_yuan_per_unit: 0\n"}
UNKNOWN_INPUT = {"    inputs: {ore: 2.0}\n": "    inputs: {oar: 2.0}\n"}
NO_SOURCE = {"    sources: {default: \"assumption: test\", electricity_kwh_per_unit: "
             "\"docs/calibration.md §2.2: 13,599 kWh/t (2016), rounded\"}\n":
             "    sources: {electricity_kwh_per_unit: \"docs/calibration.md §2.2\"}\n"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>" for p in folder.rglob("*")}


def invoke(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``main(argv)`` in-process; returns (exit status, stdout, stderr)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    """stderr must be exactly one line starting with ``error: `` and without a traceback."""
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    assert err.endswith("\n")
    line = lines[0]
    assert line.startswith("error: "), line
    assert "Traceback" not in err
    return line


def run_bad(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], expect_status: int = 2) -> str:
    """``valuechain run ARGV --out tmp/out``: checks status, one line, no output dir; returns the line."""
    out = tmp_path / "out"
    before = snapshot(tmp_path)
    code, stdout, err = invoke(["run", *argv, "--out", str(out)], capsys)
    assert code == expect_status, err
    line = one_error_line(err)
    assert not out.exists()
    assert snapshot(tmp_path) == before  # nothing written anywhere else either
    assert stdout == ""
    return line


# --- files that cannot be read as a scenario mapping -------------------------------------------


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nope.yaml"
    line = run_bad([str(path)], tmp_path, capsys)
    assert line == f"error: {path}: file not found"


def test_not_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, "a: [1, 2\n")
    line = run_bad([str(path)], tmp_path, capsys)
    assert line.startswith(f"error: {path}: not valid YAML: ")
    assert "line 2" in line


def test_top_level_is_a_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, "- name: tiny\n- horizon: {years: 3}\n")
    line = run_bad([str(path)], tmp_path, capsys)
    assert line == f"error: {path}: top level must be a mapping of keys to values (got list)"


def test_alias_bomb_rejected_quickly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = "abcdefghi"  # 9 levels of 9 -> 9**9 leaves if expanded
    lines = ["a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for prev, name in zip(names, names[1:]):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    path = scenario(tmp_path, "\n".join(lines) + "\n")
    t0 = time.perf_counter()
    line = run_bad([str(path)], tmp_path, capsys)
    assert time.perf_counter() - t0 < 2.0
    assert line.startswith(f"error: {path}: ")
    assert "alias bomb" in line


# --- scenario contents ---------------------------------------------------------------------------

SCENARIO_CASES = [
    # id, scenario text, key path, substrings the line must also contain
    ("typo_top_level", BASE + "horizn: {years: 3}\n", "horizn", ["unknown key", "did you mean 'horizon'"]),
    ("unknown_nested_key", BASE + "firms: {scael: 2}\n", "firms.scael", ["unknown key", "did you mean 'scale'"]),
    (
        "duplicated_key",
        BASE.replace("horizon: {start: 2016, years: 10}", "horizon: {start: 2016, years: 10, years: 3}"),
        "horizon.years",
        ["duplicated key", "line 4"],
    ),
    ("wrong_type", BASE.replace("replications: 2", "replications: many"), "replications", ["integer", "(got many)"]),
    (
        "negative_electricity_price",
        BASE + "policy: {electricity_price: {default: -0.1}}\n",
        "policy.electricity_price.default",
        ["between 0.0 and 5.0", "(got -0.1)"],
    ),
    (
        "tax_rate_above_one",
        BASE + "policy: {tax: {statutory_rate: 1.5}}\n",
        "policy.tax.statutory_rate",
        ["less than or equal to 1", "(got 1.5)"],
    ),
    (
        "unknown_stage_in_targeting",
        BASE + "policy:\n  freight_subsidy:\n    rules: [{stages: [yran], yuan_per_t: 800}]\n",
        "policy.freight_subsidy.rules.0.stages.0",
        ["unknown stage in chain 'tiny'", "(got yran)"],
    ),
    (
        "unknown_sector_in_targeting",
        BASE + "policy:\n  tax:\n    rules: [{sectors: [metal_procesing], rate: 0.15}]\n",
        "policy.tax.rules.0.sectors.0",
        ["'metal_processing'", "(got metal_procesing)"],
    ),
    # issue 12: the other levers' keys
    (
        "grant_share_above_one",
        BASE + "policy:\n  capital_grants:\n    rules: [{stages: [parts], share: 1.5}]\n",
        "policy.capital_grants.rules.0.share",
        ["between 0.0 and 1.0", "(got 1.5)"],
    ),
    (
        "land_discount_below_zero",
        BASE + "policy:\n  land_support:\n    rules: [{tiers: [deep], discount: -0.2}]\n",
        "policy.land_support.rules.0.discount",
        ["between 0.0 and 1.0", "(got -0.2)"],
    ),
    (
        "sme_stake_above_one",
        BASE + "policy:\n  sme_fund:\n    rules: [{tiers: [deep], stake_share: 2}]\n",
        "policy.sme_fund.rules.0.stake_share",
        ["between 0.0 and 1.0", "(got 2)"],
    ),
    (
        "negative_grant",
        BASE + "policy:\n  energy_saving:\n    rules: [{stages: [metal], retrofit_share_per_year: {2016: 0.1},"
        " saving_share: 0.05, grant_yuan_per_unit: -300}]\n",
        "policy.energy_saving.rules.0.grant_yuan_per_unit",
        ["greater than or equal to 0", "(got -300)"],
    ),
    (
        "negative_incentive",
        BASE + "policy:\n  investment_attraction:\n    rules: [{stages: [parts],"
        " incentive_million_yuan_per_project: -1}]\n",
        "policy.investment_attraction.rules.0.incentive_million_yuan_per_project",
        ["between 0.0 and", "(got -1)"],
    ),
    (
        "negative_training_grant",
        BASE + "policy:\n  employment_subsidy:\n    rules: [{stages: [parts], training_yuan_per_new_worker: -10}]\n",
        "policy.employment_subsidy.rules.0.training_yuan_per_new_worker",
        ["between 0.0 and", "(got -10)"],
    ),
    (
        "cap_below_zero",
        BASE + "policy:\n  capacity_rules:\n    caps: [{stages: [metal], max_capacity_units: -5}]\n",
        "policy.capacity_rules.caps.0.max_capacity_units",
        ["between 0.0 and", "(got -5)"],
    ),
    (
        "unknown_stage_in_capacity_rule",
        BASE + "policy:\n  capacity_rules:\n    removals: [{stages: [metl], share_per_year: 0.05}]\n",
        "policy.capacity_rules.removals.0.stages.0",
        ["unknown stage in chain 'tiny'", "did you mean 'metal'", "(got metl)"],
    ),
    (
        "cap_with_zones",
        BASE + "policy:\n  capacity_rules:\n    caps: [{stages: [metal], zones: [ordinary], max_capacity_units: 5}]\n",
        "policy.capacity_rules.caps.0",
        ["a capacity cap is on a stage's total"],
    ),
    (
        "water_cap_without_water_per_unit",
        BASE + "policy:\n  capacity_rules:\n    caps: [{stages: [metal], water_quota_m3_per_year: 5}]\n",
        "policy.capacity_rules.caps.0",
        ["needs both water_quota_m3_per_year and water_m3_per_unit"],
    ),
    (
        "envelope_without_amount",
        BASE + "policy:\n  capital_grants:\n    rules: [{tiers: [deep], share: 0.1}]\n    envelope: {}\n",
        "policy.capital_grants.envelope.million_yuan_per_year",
        ["required key is missing"],
    ),
    (
        "fractional_years_saved",
        BASE + "policy:\n  fast_track:\n    rules: [{tiers: [deep], years_saved: 0.5}]\n",
        "policy.fast_track.rules.0.years_saved",
        ["whole years"],
    ),
    (
        "unknown_local_input",
        BASE + "policy:\n  freight_subsidy:\n    rules: [{stages: [metal], yuan_per_t: 500,"
        " local_input_yuan_per_t: 900, local_inputs: [oer]}]\n",
        "policy.freight_subsidy.rules.0.local_inputs.0",
        ["unknown stage in chain 'tiny'", "(got oer)"],
    ),
    ("zero_years", BASE.replace("years: 10", "years: 0"), "horizon.years", ["greater than or equal to 1", "(got 0)"]),
    (
        "zero_replications",
        BASE.replace("replications: 2", "replications: 0"),
        "replications",
        ["greater than or equal to 1", "(got 0)"],
    ),
]


@pytest.mark.parametrize(
    ("text", "key", "contains"), [c[1:] for c in SCENARIO_CASES], ids=[c[0] for c in SCENARIO_CASES]
)
def test_bad_scenario_contents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str, contains: list[str]
) -> None:
    path = scenario(tmp_path, text)
    line = run_bad([str(path)], tmp_path, capsys)
    assert f"tiny_bad.yaml: {key}:" in line
    assert line.startswith(f"error: {path}: {key}: "), line
    for part in contains:
        assert part in line, line
    assert line.count("(got ") <= 1, line  # the offending value is shown once


# --- chain files ------------------------------------------------------------------------------------

CHAIN_CASES = [
    ("cycle", CYCLE, "stages.ore.inputs", ["cycle", "ore -> parts -> metal -> ore"]),
    ("zero_price", ZERO_PRICE, "stages.metal.price_yuan_per_unit", ["greater than 0", "(got 0)"]),
    ("unknown_input", UNKNOWN_INPUT, "stages.metal.inputs.oar", ["input is not a stage of this chain"]),
    ("no_source", NO_SOURCE, "stages.metal.sources", ["no source for", "assumption"]),
]


@pytest.mark.parametrize(("replace", "key", "contains"), [c[1:] for c in CHAIN_CASES], ids=[c[0] for c in CHAIN_CASES])
def test_run_with_bad_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], replace: dict[str, str], key: str, contains: list[str]
) -> None:
    chain = write(tmp_path, "bad_chain.yaml", chain_text(**replace))
    path = scenario(tmp_path, BASE.replace("tiny_chain.yaml", "bad_chain.yaml"))
    line = run_bad([str(path)], tmp_path, capsys)
    # the problem is inside the chain file: name that file and the key in it
    assert f"bad_chain.yaml: {key}:" in line
    assert line.startswith(f"error: {chain.resolve()}: {key}: "), line
    for part in contains:
        assert part in line, line


@pytest.mark.parametrize(("replace", "key", "contains"), [c[1:] for c in CHAIN_CASES], ids=[c[0] for c in CHAIN_CASES])
def test_validate_bad_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], replace: dict[str, str], key: str, contains: list[str]
) -> None:
    chain = write(tmp_path, "bad_chain.yaml", chain_text(**replace))
    before = snapshot(tmp_path)
    code, _, err = invoke(["validate", str(chain)], capsys)
    assert code == 2
    line = one_error_line(err)
    assert line.startswith(f"error: {chain}: {key}: "), line
    for part in contains:
        assert part in line, line
    assert snapshot(tmp_path) == before


def test_validate_good_then_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, "bad_chain.yaml", chain_text(**CYCLE))
    code, out, err = invoke(["validate", str(DATA / "tiny_chain.yaml"), str(DATA / "tiny.yaml"), str(bad)], capsys)
    assert code == 2
    assert "ok: " in out and "chain 'tiny' with 3 stages" in out
    assert one_error_line(err).startswith(f"error: {bad}: stages.ore.inputs: ")


def test_validate_checks_every_file_one_line_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_chain = write(tmp_path, "bad_chain.yaml", chain_text(**CYCLE))
    missing = tmp_path / "missing.yaml"
    files = [bad_chain, DATA / "tiny_chain.yaml", missing, DATA / "tiny.yaml"]
    code, out, err = invoke(["validate", *map(str, files)], capsys)
    assert code == 2
    assert out.splitlines() == [f"ok: {DATA / 'tiny_chain.yaml'}: chain 'tiny' with 3 stages",
                                f"ok: {DATA / 'tiny.yaml'}: scenario 'tiny' on chain 'tiny'"]
    lines = err.splitlines()
    assert len(lines) == 2 and "Traceback" not in err
    assert lines[0].startswith(f"error: {bad_chain}: stages.ore.inputs: ")
    assert lines[1] == f"error: {missing}: file not found"


def test_validate_takes_a_built_in_name_as_run_does(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(["validate", "baseline", "xinjiang_2014", "basline"], capsys)
    assert code == 2
    assert out == ("ok: baseline: scenario 'baseline' on chain 'xinjiang'\n"
                   "ok: xinjiang_2014: chain 'xinjiang_2014' with 35 stages\n")
    assert err.startswith("error: basline: no such file, nor a built-in scenario or sweep of that name; did you mean "
                          "'baseline'? (built-in: baseline, ")


def test_validate_all_good_is_status_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(["validate", str(DATA / "tiny_chain.yaml"), str(DATA / "tiny.yaml")], capsys)
    assert (code, err, len(out.splitlines())) == (0, "", 2)


def test_run_with_missing_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, BASE.replace("tiny_chain.yaml", "no_such_chain.yaml"))
    line = run_bad([str(path)], tmp_path, capsys)
    assert line.startswith(f"error: {path}: chain: file not found")
    assert "no_such_chain.yaml" in line


# --- inherits -----------------------------------------------------------------------------------------


def test_inherits_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = scenario(tmp_path, "inherits: b.yaml\n" + BASE, name="a.yaml")
    b = write(tmp_path, "b.yaml", "inherits: a.yaml\nseed: 3\n")
    line = run_bad([str(a)], tmp_path, capsys)
    assert line.startswith(f"error: {b}: inherits: ")
    assert "inheritance loop: a.yaml -> b.yaml -> a.yaml" in line


def copies_of_the_package(folder: Path, baseline: dict[str, str] | None = None) -> None:
    """``baseline.yaml`` (lines replaced: old -> new) and ``good.yaml`` (policy_package_2016.yaml,
    which inherits it) copied from the built-in scenarios into ``folder``."""
    text = (ROOT / "scenarios" / "baseline.yaml").read_text(encoding="utf-8")
    for old, new in (baseline or {}).items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    write(folder, "baseline.yaml", text)
    shutil.copy(ROOT / "scenarios" / "policy_package_2016.yaml", folder / "good.yaml")


def test_validate_names_the_inherited_file_that_holds_the_bad_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    copies_of_the_package(tmp_path, {"\nseed:": "\nsede:"})
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke(["validate", "good.yaml"], capsys)
    assert code == 2 and out == ""
    assert one_error_line(err) == ("error: baseline.yaml (inherited by good.yaml): sede: unknown key; "
                                   "did you mean 'seed'? (got 20160101)")


def test_a_bad_key_written_in_the_including_file_stays_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    copies_of_the_package(tmp_path)
    good = tmp_path / "good.yaml"
    good.write_text(good.read_text(encoding="utf-8").replace("rate: {2016: 0.15}", "rate: {2016: 1.5}"),
                    encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke(["validate", "good.yaml"], capsys)
    assert code == 2
    assert one_error_line(err).startswith("error: good.yaml: policy.tax.rules.0.rate: ")


def test_run_names_the_file_two_inherits_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario(tmp_path, BASE.replace("replications: 2", "replications: 0"), name="a.yaml")
    write(tmp_path, "b.yaml", "inherits: a.yaml\nseed: 3\n")
    c = write(tmp_path, "c.yaml", "inherits: b.yaml\nname: c\n")
    line = run_bad([str(c)], tmp_path, capsys)
    assert line == (f"error: {tmp_path / 'a.yaml'} (inherited by {c}): replications: "
                    "input should be greater than or equal to 1 (got 0)")


def test_a_copied_built_in_scenario_validates_elsewhere_when_it_inherits_a_built_in_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (ROOT / "scenarios" / "policy_package_2016.yaml").read_text(encoding="utf-8")
    write(tmp_path, "good.yaml", text)  # as shipped: inherits: baseline.yaml, not beside the copy
    write(tmp_path, "named.yaml", text.replace("\ninherits: baseline.yaml\n", "\ninherits: baseline\n"))
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke(["validate", "named.yaml"], capsys)
    assert (code, out, err) == (0, "ok: named.yaml: scenario 'policy_package_2016' on chain 'xinjiang'\n", "")
    code, out, err = invoke(["validate", "good.yaml"], capsys)
    assert code == 2 and out == ""
    assert one_error_line(err) == (f"error: good.yaml: inherits: inherited file not found (looked for "
                                   f"{tmp_path.resolve()}/baseline.yaml; for the built-in scenario write "
                                   "'baseline' (no .yaml)) (got baseline.yaml)")


def test_inherits_a_built_in_name_gives_the_same_scenario_as_the_built_in_file(tmp_path: Path) -> None:
    from valuechain.simulation.config.scenario import load_scenario

    text = (ROOT / "scenarios" / "policy_package_2016.yaml").read_text(encoding="utf-8")
    named = write(tmp_path, "named.yaml", text.replace("\ninherits: baseline.yaml\n", "\ninherits: baseline\n"))
    assert load_scenario(named).spec == load_scenario("policy_package_2016").spec


# --- the command line ---------------------------------------------------------------------------------


def test_set_unknown_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, BASE)
    line = run_bad([str(path), "--set", "horizon.yaers=3"], tmp_path, capsys)
    assert line.startswith("error: --set: horizon.yaers: unknown key")
    assert "did you mean 'years'" in line


def test_set_bad_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, BASE)
    line = run_bad([str(path), "--set", "horizon.years=-1"], tmp_path, capsys)
    assert line.startswith("error: --set: horizon.years: ")
    assert line.endswith("(got -1)")


def test_set_without_equals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, BASE)
    line = run_bad([str(path), "--set", "horizon.years"], tmp_path, capsys)
    assert line.startswith("error: --set: expected KEY=VALUE")


@pytest.mark.parametrize(("option", "value"), [("--replications", "0"), ("--seed", "-1"), ("--workers", "0")])
def test_bad_number_on_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    path = scenario(tmp_path, BASE)
    line = run_bad([str(path), option, value], tmp_path, capsys)
    assert line.startswith(f"error: {option}: must be between ")
    assert line.endswith(f"(got {value})")


def test_usage_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, BASE)
    line = run_bad([str(path), "--replicatons", "3"], tmp_path, capsys)
    assert "--replicatons" in line


def test_existing_out_dir_not_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, BASE)
    out = tmp_path / "out"
    out.mkdir()
    notes = write(out, "notes.txt", "my notes\n")
    before = snapshot(tmp_path)
    code, stdout, err = invoke(["run", str(path), "--out", str(out)], capsys)
    assert code == 2
    line = one_error_line(err)
    # not "pass --overwrite": a folder valuechain never wrote is refused with it too (as backtest does)
    assert line == (f"error: {out}: --out: directory exists and is not empty, and holds no run's results "
                    "(manifest.json); choose another --out")
    assert notes.read_text() == "my notes\n"
    assert snapshot(tmp_path) == before
    assert stdout == ""


def test_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, BASE)
    out = write(tmp_path, "out", "not a directory\n")
    code, _, err = invoke(["run", str(path), "--out", str(out)], capsys)
    assert code == 2
    assert "not a directory" in one_error_line(err)
    assert out.read_text() == "not a directory\n"


# --- internal failures ------------------------------------------------------------------------------


def _boom(*args, **kwargs):
    raise RuntimeError("boom")


def test_internal_error_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # cmd_run does `from .runner import run_scenario` when called, so patch the runner module
    monkeypatch.setattr("valuechain.simulation.running.runner.run_scenario", _boom)
    path = scenario(tmp_path, BASE)
    line = run_bad([str(path)], tmp_path, capsys, expect_status=1)
    assert "boom" in line
    assert line.startswith("error: internal failure: RuntimeError: boom")
    assert "--debug" in line


@pytest.mark.parametrize("where", ["before", "after"])
def test_internal_error_with_debug_shows_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.setattr("valuechain.simulation.running.runner.run_scenario", _boom)
    path = scenario(tmp_path, BASE)
    out = tmp_path / "out"
    args = ["run", str(path), "--out", str(out)]
    argv = ["--debug", *args] if where == "before" else [*args, "--debug"]
    code, _, err = invoke(argv, capsys)
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: boom" in err
    assert err.splitlines()[-1].startswith("error: internal failure: RuntimeError: boom")
    assert not out.exists()


# --- through the installed console script -------------------------------------------------------------


def test_console_script_exit_status(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("valuechain")
    if not exe.exists():
        pytest.skip("valuechain console script not installed next to this python")
    path = tmp_path / "nope.yaml"
    out = tmp_path / "out"
    proc = subprocess.run(
        [str(exe), "run", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode == 2
    assert proc.stderr == f"error: {path}: file not found\n"
    assert not out.exists()


# --- plot options are refused before pandas and matplotlib are imported -------------------------------

PLOT_REFUSALS = [
    (["--kind", "paths", "--out", "fig/p.jpg"],
     "error: fig/p.jpg: --out: unsupported figure format '.jpg'; use .png, .pdf or .svg"),
    (["--kind", "paths", "--out", "fig"],
     "error: fig: --out: is a directory; name the file to write, e.g. fig/figure.png (.png, .pdf or .svg)"),
    (["--kind", "paths", "--out", "fig/p"],
     "error: fig/p: --out: has no extension; name the file to write, e.g. fig/p.png (.png, .pdf or .svg)"),
    (["--kind", "effects", "--baseline", "B", "--x", "a", "--out", "fig/p.png"],
     "error: --x: does not apply to --kind effects; it is read by --kind heatmap (got a)"),
    (["--kind", "chain", "--out", "fig/p.png"],
     "error: --baseline: --kind chain needs --baseline DIR (the results to compare with)"),
    (["--kind", "effects", "--out", "fig/p.png"],
     "error: --baseline: --kind effects needs --baseline DIR (the results to compare with)"),
    (["--kind", "paths", "--out", "no_such_folder/p.png"],
     "error: no_such_folder/p.png: --out: directory does not exist"),
]


@pytest.mark.parametrize(("options", "line"), PLOT_REFUSALS, ids=[" ".join(c[0][:2]) + c[0][-1] for c in PLOT_REFUSALS])
def test_plot_refuses_a_bad_option_before_importing_the_plotting_libraries(
    tmp_path: Path, options: list[str], line: str
) -> None:
    (tmp_path / "fig").mkdir()
    code = ("import sys\nfrom valuechain.cli import main\nstatus = main(sys.argv[1:])\n"
            "print(status, [m for m in ('matplotlib', 'valuechain.analysis') if m in sys.modules])\n")
    done = subprocess.run([sys.executable, "-c", code, "plot", "NO_RESULTS", *options], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout == "2 []\n"
    assert done.stderr == line + "\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["fig"]


def test_plot_option_checks_read_no_data(tmp_path: Path) -> None:
    from valuechain.cli import _parser
    from valuechain.plot_options import check_plot_args

    args = _parser().parse_args(["plot", str(tmp_path / "absent"), "--kind", "paths", "--out", str(tmp_path / "p.svg")])
    assert check_plot_args(args) == tmp_path / "p.svg"  # good options pass though no results exist


@pytest.mark.parametrize("name", ["", " "])
def test_an_empty_scenario_name_is_one_line_naming_it(tmp_path, capsys, name):
    line = run_bad([name], tmp_path, capsys)
    assert line.startswith(f"error: {name!r}: an empty name: give a scenario file or built-in name (built-in: "
                           "baseline, ")
