"""Hostile inputs: size limit before parsing, only regular files, symlink loops, booleans that are
not numbers, year keys written differently, NaN/inf in every numeric field (walking the schema),
the memory estimate, the deep-inherits limit and the workers cap. Each case: exit 2 (or an
InputError), the exact one line, nothing written."""

from __future__ import annotations

import copy
import os
import shutil
import time
import typing
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml
from valuechain.simulation.config.chain import ChainFile, chain_from_dict, load_chain
from valuechain.simulation.config.errors import InputError
from valuechain.simulation.config.scenario import Scenario, scenario_from_dict
from valuechain.simulation.running.executors import cap_workers, default_workers

from valuechain.cli import main

NOT_A_BOOLEAN = "must be a number, not a boolean (YAML reads yes, no, on and off as booleans)"  # the exact words

DATA = Path(__file__).resolve().parent / "data"

# a scenario with one item in every list of the schema (three freight rules: one of each kind)
FULL = """
name: full
chain: tiny_chain.yaml
horizon: {start: 2016, years: 5}
firms:
  scale: 1.0
  min_per_stage: 0
  productivity_sd: 0.15
  zone_shares: {ordinary: 0.75, difficult_area: 0.2, special_zone: 0.05}
  potential_entrants_per_firm: 0.15
  potential_entrants_per_stage: 3
  entry_hurdle_q: 0.45
  entry_dispersion_q: 0.1
  adjustment_cost: 40
  max_investment_rate: 0.3
  exit_after_loss_years: 3
  closure_rate_per_year: 0.05
  interest_rate: 0.049
  discount_rate: 0.08
  debt_share: 0.6
  max_debt_to_capital: 0.8
  working_capital_share: 0.25
  evaluation_years: 20
  local_price_share: 0.0
  initial_age_max_years: 10
  technical_change_per_year: 0.005
policy:
  electricity_price:
    reference_yuan_per_kwh: 0.4
    default: {2016: 0.4, 2018: 0.35}
    rules: [{stages: [metal], price_yuan_per_kwh: 0.3, announced: 2016}]
  freight_subsidy:
    rules:
      - {stages: [parts], yuan_per_t: 100, local_input_yuan_per_t: 150, local_inputs: [metal], announced: 2016}
      - {stages: [parts], share_of_sales: 0.01}
      - {stages: [parts], share_of_freight: 0.2}
  tax:
    statutory_rate: 0.25
    default_rate: 0.25
    rules: [{stages: [parts], rate: 0.15, announced: 2016}]
    holidays: [{stages: [parts], exempt_years: 2, half_years: 3, from_year: 2016, announced: 2016}]
  interest_subsidy:
    rules: [{stages: [metal], fixed_asset_points: 1.0, fixed_asset_years: 5, working_capital_points: 0.5,
             working_capital_years: 3, announced: 2016}]
  capital_grants:
    rules: [{stages: [parts], share: 0.1, cap_million_yuan_per_project: 10, announced: 2016}]
    envelope: {million_yuan_per_year: 100}
  land_support:
    land_share_of_capital: 0.05
    rules: [{stages: [parts], discount: 0.5, announced: 2016}]
  fast_track:
    rules: [{stages: [parts], years_saved: 1, announced: 2016}]
  investment_attraction:
    rules: [{stages: [parts], investor_multiplier: 2, extra_investors_per_year: 1, placed_plants_per_year: 1,
             large_placed_plants_per_year: 1, capacity_per_large_placed_plant: 20000,
             orders_per_placed_plant: 0.4, incentive_million_yuan_per_project: 1, announced: 2016}]
  sme_fund:
    max_project_million_yuan: 200
    failure_rate_per_year: 0.03
    budget_discount_rate: 0.03
    rules: [{stages: [parts], stake_share: 0.2, buyback_years: 5, buyback_return: 0.01, announced: 2016}]
  employment_subsidy:
    rules: [{stages: [parts], social_insurance_yuan_per_worker_year: 1000, years: 3, local_worker_share: 0.8,
             training_yuan_per_new_worker: 100, announced: 2016}]
  energy_saving:
    rules: [{stages: [metal], retrofit_share_per_year: {2016: 0.2}, saving_share: 0.05, grant_yuan_per_unit: 300,
             announced: 2016}]
  capacity_rules:
    caps:
      - {stages: [metal], max_capacity_units: 1000000, announced: 2016}
      - {stages: [parts], water_quota_m3_per_year: 1000000, water_m3_per_unit: 25}
    removals: [{stages: [ore], share_per_year: 0.05, to_year: 2020, compensation_yuan_per_unit: 100,
                announced: 2016}]
shocks:
  price_volatility: 0.05
  market_supply_elasticity: 2.0
  armington_elasticity: 4.0
  demand_elasticity_factor: 1.0
  price_paths: [{stages: [ore], from_year: 2017, change_per_year: 0.01}]
  demand: [{stages: [parts], from_year: 2018, to_year: 2019, change: 0.1},
           {stages: [ore], from_year: 2017, to_year: 2017, price_factor: 1.2}]
replications: 1
seed: 3
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("tiny.yaml", "tiny_chain.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): b"<other>" if not (p.is_file() or p.is_dir()) else
            (p.read_bytes() if p.is_file() else b"<dir>") for p in folder.rglob("*")}


def bad(argv: list[str], folder: Path, capsys) -> str:
    """Exit status 2, one line on stderr, nothing written; returns the line."""
    before = snapshot(folder)
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert snapshot(folder) == before and out == ""
    return lines[0]


# --- files ------------------------------------------------------------------------------------------


def test_size_limit_is_checked_before_parsing(folder: Path, capsys, monkeypatch) -> None:
    big = folder / "big.yaml"
    with open(big, "wb") as fh:  # 20 MB (sparse): reading or parsing it would take minutes
        fh.truncate(20_000_000)
    t0 = time.monotonic()
    line = bad(["run", "big.yaml"], folder, capsys)
    assert line == ("error: big.yaml: file is 20,000,000 bytes; input files may have at most 10,000,000 "
                    "(set VALUECHAIN_MAX_INPUT_BYTES to allow more)")
    assert time.monotonic() - t0 < 2
    monkeypatch.setenv("VALUECHAIN_MAX_INPUT_BYTES", "50")
    line = bad(["run", "tiny.yaml"], folder, capsys)
    assert line.startswith("error: tiny.yaml: file is ") and "at most 50 " in line


@pytest.mark.parametrize("where", ["scenario", "inherits", "chain", "base"])
def test_fifo_and_device_are_refused_without_opening_them(folder: Path, capsys, where: str) -> None:
    os.mkfifo(folder / "pipe.yaml")  # opening it for reading would block forever
    for target, kind in (("pipe.yaml", "a FIFO (named pipe)"), ("/dev/zero", "a character device")):
        if where == "scenario":
            argv, file = ["run", target], target
        elif where == "inherits":
            (folder / "s.yaml").write_text(f"inherits: {target}\nname: s\n")
            argv, file = ["run", "s.yaml"], target
        elif where == "chain":
            link = folder / "dev_chain.yaml"
            link.unlink(missing_ok=True)
            link.symlink_to(target if target.startswith("/") else folder / target)
            (folder / "s.yaml").write_text("name: s\nchain: dev_chain.yaml\n")
            argv, file = ["run", "s.yaml"], str(link)
        else:
            (folder / "sw.yaml").write_text(f"base: {target}\nparameters: {{seed: [1]}}\n")
            argv, file = ["sweep", "sw.yaml"], str(folder / target) if target == "pipe.yaml" else target
        line = bad(argv, folder, capsys)
        assert line == f"error: {file}: cannot read file: not a regular file ({kind})", line


@pytest.mark.parametrize("key", ["inherits", "chain"])
def test_symlink_loop_is_an_input_error(folder: Path, capsys, key: str) -> None:
    os.symlink(folder / "loop_b.yaml", folder / "loop_a.yaml")
    os.symlink(folder / "loop_a.yaml", folder / "loop_b.yaml")
    (folder / "s.yaml").write_text(f"name: s\n{key}: loop_a.yaml\n")
    line = bad(["run", "s.yaml"], folder, capsys)
    if key == "inherits":
        assert line == "error: s.yaml: inherits: symlink loop (a link that points back to itself) (got loop_a.yaml)"
    else:  # the chain's name is kept as written (resolved only to its folder): the read finds the loop
        assert line == f"error: {folder}/loop_a.yaml: symlink loop (a link that points back to itself)"


def test_deep_inherits_has_its_own_message(folder: Path, capsys) -> None:
    (folder / "f0.yaml").write_text("name: deep\nchain: tiny_chain.yaml\n")
    for i in range(1, 1500):
        (folder / f"f{i}.yaml").write_text(f"inherits: f{i - 1}.yaml\n")
    line = bad(["run", "f1499.yaml"], folder, capsys)
    assert line == ("error: f1450.yaml: inherits: too deep: at most 50 files may inherit one from another "
                    "(this chain starts at f1499.yaml)")


# --- values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "key"), [
    ("replications: yes", "replications"), ("seed: true", "seed"),
    ("firms: {scale: true}", "firms.scale"), ("horizon: {years: on}", "horizon.years"),
    ("firms: {interest_rate: yes}", "firms.interest_rate"),
])
def test_booleans_are_not_numbers_in_a_scenario(folder: Path, capsys, text: str, key: str) -> None:
    (folder / "b.yaml").write_text(f"inherits: tiny.yaml\n{text}\n")
    line = bad(["run", "b.yaml"], folder, capsys)
    assert line == f"error: b.yaml: {key}: {NOT_A_BOOLEAN} (got True)"


def test_booleans_are_not_numbers_on_the_command_line_in_a_chain_or_a_sweep(folder: Path, capsys) -> None:
    line = bad(["run", "tiny.yaml", "--set", "firms.scale=yes"], folder, capsys)
    assert line == f"error: --set: firms.scale: {NOT_A_BOOLEAN} (got True)"
    holiday = "policy.tax.holidays=[{exempt_years: 2, announced: true}]"
    line = bad(["run", "tiny.yaml", "--set", holiday], folder, capsys)
    assert line == f"error: --set: policy.tax.holidays.0.announced: {NOT_A_BOOLEAN} (got True)"
    line = bad(["run", "tiny.yaml", "--seed", "true"], folder, capsys)
    assert line == "error: valuechain run: argument --seed: invalid int value: 'true' (see --help)"
    line = bad(["compare", "a", "b", "--pv", "nan"], folder, capsys)
    assert line == "error: valuechain compare: argument --pv: must be a finite number (got 'nan') (see --help)"
    text = (folder / "tiny_chain.yaml").read_text().replace("build_lag_years: 1", "build_lag_years: true", 1)
    (folder / "tiny_chain.yaml").write_text(text)
    line = bad(["validate", "tiny_chain.yaml"], folder, capsys)
    assert line == f"error: tiny_chain.yaml: stages.ore.build_lag_years: {NOT_A_BOOLEAN} (got True)"
    shutil.copy(DATA / "tiny_chain.yaml", folder / "tiny_chain.yaml")
    (folder / "sw.yaml").write_text("base: tiny.yaml\nparameters: {firms.interest_rate: [true, 0.05]}\n")
    line = bad(["sweep", "sw.yaml", "--dry-run"], folder, capsys)
    assert line == (f"error: sw.yaml: parameters.firms.interest_rate: {NOT_A_BOOLEAN} at point 0 "
                    "(got True)")
    (folder / "sw.yaml").write_text("base: tiny.yaml\nreplications: yes\nparameters: {seed: [1]}\n")
    line = bad(["sweep", "sw.yaml", "--dry-run"], folder, capsys)
    assert line == f"error: sw.yaml: replications: {NOT_A_BOOLEAN} (got True)"


@pytest.mark.parametrize("value, message", [
    (".inf", "must be a finite number (got inf)"),  # a plain number: no year, the value once
    ("-.inf", "must be a finite number (got -inf)"),
    ("9", "must be between 0.0 and 5.0 (got 9)"),
    ("{2016: .nan}", "2016: must be a finite number (got nan)"),  # a time path: the year at fault
    ("{2016: 0.3, 2018: .inf}", "2018: must be a finite number (got inf)"),
    ("{2016: 0.3, 2018: 9}", "2018: must be between 0.0 and 5.0 (got 9)"),
    ("{2016: 0.3, 2018: abc}", "2018: must be a number (got abc)"),
    ("{x: 0.3}", "year keys must be whole years (got x)"),
])
def test_a_bad_time_path_names_the_year_and_shows_the_value_once(folder: Path, capsys, value: str,
                                                                 message: str) -> None:
    (folder / "y.yaml").write_text(f"inherits: tiny.yaml\nname: y\npolicy:\n  electricity_price:\n"
                                   f"    default: {value}\n")
    assert bad(["validate", "y.yaml"], folder, capsys) == f"error: y.yaml: policy.electricity_price.default: {message}"


def test_a_sweep_point_with_a_non_finite_value_shows_it_once(folder: Path, capsys) -> None:
    (folder / "sw.yaml").write_text("base: tiny.yaml\nparameters:\n"
                                    "  policy.electricity_price.default: {values: [0.3, .inf]}\n")
    assert bad(["validate", "sw.yaml"], folder, capsys) == (
        "error: sw.yaml: parameters.policy.electricity_price.default: must be a finite number at point 1 (got inf)")


@pytest.mark.parametrize("value, message", [
    ("placed_plants_per_year: -1", "placed_plants_per_year: must be between 0.0 and 100000.0 (got -1)"),
    ("placed_plants_per_year: {2017: .nan}",
     "placed_plants_per_year: 2017: must be a finite number (got nan)"),
    ("placed_plants_per_year: {2017: .inf}",
     "placed_plants_per_year: 2017: must be a finite number (got inf)"),
    ("placed_plant_per_year: 3", "placed_plant_per_year: unknown key; did you mean 'placed_plants_per_year'? (got 3)"),
    # the parent orders a placed plant brings, a share of its capacity (docs/calibration.md §14.19)
    ("orders_per_placed_plant: -0.1", "orders_per_placed_plant: must be between 0.0 and 1.0 (got -0.1)"),
    ("orders_per_placed_plant: 1.5", "orders_per_placed_plant: must be between 0.0 and 1.0 (got 1.5)"),
    ("orders_per_placed_plant: {2017: .nan}",
     "orders_per_placed_plant: 2017: must be a finite number (got nan)"),
    ("order_per_placed_plant: 0.4",
     "order_per_placed_plant: unknown key; did you mean 'orders_per_placed_plant'? (got 0.4)"),
    # the large placed plants and their size (docs/calibration.md §14.20)
    ("large_placed_plants_per_year: -1", "large_placed_plants_per_year: must be between 0.0 and 100000.0 (got -1)"),
    ("capacity_per_large_placed_plant: -5",
     "capacity_per_large_placed_plant: must be between 0.0 and 1000000000.0 (got -5)"),
    ("capacity_per_large_placed_plant: {2017: .inf}",
     "capacity_per_large_placed_plant: 2017: must be a finite number (got inf)"),
    ("capacity_per_large_placed_plants: 1100", "capacity_per_large_placed_plants: unknown key; did you mean "
     "'capacity_per_large_placed_plant'? (got 1100)"),
])
def test_bad_placed_plants_name_the_file_and_the_key(folder: Path, capsys, value: str, message: str) -> None:
    text = ("inherits: tiny.yaml\nname: y\npolicy:\n  investment_attraction:\n"
            f"    rules: [{{stages: [parts], {value}}}]\n")
    (folder / "y.yaml").write_text(text)
    line = bad(["run", "y.yaml"], folder, capsys)
    assert line == f"error: y.yaml: policy.investment_attraction.rules.0.{message}"


@pytest.mark.parametrize("other", ["0x7E0", "2_016", "03740"])
def test_year_keys_are_compared_as_years(folder: Path, capsys, other: str) -> None:
    text = f"inherits: tiny.yaml\npolicy:\n  tax:\n    default_rate: {{2016: 0.1, {other}: 0.2}}\n"
    (folder / "y.yaml").write_text(text)
    line = bad(["run", "y.yaml"], folder, capsys)
    assert line == f"error: y.yaml: policy.tax.default_rate.{other}: duplicated key (line 4); each key may appear once"
    line = bad(["run", "tiny.yaml", "--set", f"policy.tax.default_rate={{2016: 0.1, {other}: 0.2}}"], folder, capsys)
    assert "duplicated key" in line


def test_memory_estimate_is_refused_up_front(folder: Path, capsys, monkeypatch) -> None:
    t0 = time.monotonic()
    line = bad(["run", "tiny.yaml", "--set", "firms.scale=10000", "--set", "firms.potential_entrants_per_stage=1e6"],
               folder, capsys)
    # (340,000 initial firms + 1e6 x 10,000 x 3 stages x 10 years outside investors) x 1.15 ** 10
    assert line.startswith("error: --set: firms.scale: a run would hold up to 1,213,668,696,203 firms "
                           "(about 485,467.5 GB over 10 years); the budget is 4.0 GB")
    baseline = str(Path(__file__).parents[1] / "scenarios" / "baseline.yaml")
    line = bad(["run", baseline, "--set", "firms.scale=10000"], folder, capsys)
    assert "firms.scale: a run would hold up to 263,356,000 firms (about 105.3 GB over 15 years)" in line
    assert time.monotonic() - t0 < 5
    monkeypatch.setenv("VALUECHAIN_MEMORY_BUDGET_BYTES", "1000")
    line = bad(["run", "tiny.yaml"], folder, capsys)
    assert "the budget is 0.0 GB" in line and line.startswith("error: tiny.yaml: firms.scale: a run would hold up to")


def test_a_bad_kernels_choice_is_refused_up_front(folder: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("VALUECHAIN_KERNELS", "fast")
    assert bad(["run", "tiny.yaml"], folder, capsys) == "error: VALUECHAIN_KERNELS: must be numba or numpy (got fast)"


def test_workers_are_capped_at_the_runs_and_a_multiple_of_the_cores() -> None:
    assert cap_workers(1024, 2) == 2
    assert cap_workers(1024, 10**6) == 4 * default_workers()
    assert cap_workers(3, 10**6) == min(3, 4 * default_workers())


# --- NaN and infinity in every numeric field, found by walking the schema -------------------------


def _members(ann: Any) -> list[Any]:
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _members(typing.get_args(ann)[0])
    if origin in (typing.Union, __import__("types").UnionType):
        return [m for a in typing.get_args(ann) for m in _members(a)]
    return [] if ann is type(None) else [ann]


def numeric_paths(model: type[pydantic.BaseModel], data: dict, path: str, covered: set[str]) -> list[str]:
    """Every numeric leaf of ``data`` that ``model``'s schema declares; ``covered`` collects the
    schema's numeric fields seen (``Model.field``), to check that the data has each of them."""
    out = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key not in data:
            continue
        value, sub = data[key], f"{path}.{key}" if path else key
        for m in _members(field.annotation):
            origin, args = typing.get_origin(m), typing.get_args(m)
            if isinstance(m, type) and issubclass(m, pydantic.BaseModel):
                out += numeric_paths(m, value, sub, covered)
            elif origin is list and args and isinstance(args[0], type) and issubclass(args[0], pydantic.BaseModel):
                for i, item in enumerate(value):
                    out += numeric_paths(args[0], item, f"{sub}.{i}", covered)
            elif origin is dict and isinstance(args[1], type) and issubclass(args[1], pydantic.BaseModel):
                for k, item in value.items():
                    out += numeric_paths(args[1], item, f"{sub}.{k}", covered)
            elif m in (int, float):
                covered.add(f"{model.__name__}.{name}")
                out.append(sub)
            elif origin is dict and float in _members(args[1]):
                covered.add(f"{model.__name__}.{name}")
                out += [f"{sub}.{k}" for k in value] if isinstance(value, dict) else [sub]
            else:
                continue
            break
    return out


def schema_numeric_fields(model: type[pydantic.BaseModel], seen: set | None = None) -> set[str]:
    seen = set() if seen is None else seen
    found = set()
    for name, field in model.model_fields.items():
        for m in _members(field.annotation):
            origin, args = typing.get_origin(m), typing.get_args(m)
            inner = [a for a in (m, *args) if isinstance(a, type) and issubclass(a, pydantic.BaseModel)]
            if inner:
                if inner[0] not in seen:
                    seen.add(inner[0])
                    found |= schema_numeric_fields(inner[0], seen)
            elif m in (int, float) or (origin is dict and float in _members(args[1])):
                found.add(f"{model.__name__}.{name}")
    return found


def set_path(data: dict, path: str, value: Any) -> dict:
    data = copy.deepcopy(data)
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(parts[-1]) if isinstance(node, list) else parts[-1]] = value
    return data


@pytest.mark.parametrize("bad_value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused_in_every_chain_and_scenario_field(bad_value: float) -> None:
    chain_data = yaml.safe_load((DATA / "tiny_chain.yaml").read_text())
    chain_data["stages"]["ore"]["price_growth_per_year"] = 0.01  # a default: write it, to vary it
    chain_data["stages"]["ore"]["initial"]["under_construction_units"] = {2017: 100.0}  # likewise
    chain_data["stages"]["ore"]["recorded_firms_per_plant"] = 2.0  # likewise
    chain_data["stages"]["ore"]["new_plant_productivity"] = 0.8  # likewise
    scenario_data = yaml.safe_load(FULL)
    chain = load_chain(DATA / "tiny_chain.yaml")
    scenario_from_dict(scenario_data, "full.yaml", chain=chain)  # valid as written
    cases = [(ChainFile, chain_data, lambda d: chain_from_dict(d, "chain.yaml")),
             (Scenario, scenario_data, lambda d: scenario_from_dict(d, "full.yaml", chain=chain))]
    for model, data, validate in cases:
        covered: set[str] = set()
        paths = numeric_paths(model, data, "", covered)
        assert covered == schema_numeric_fields(model)  # the data reaches every numeric field
        for path in paths:
            with pytest.raises(InputError) as info:
                validate(set_path(data, path, bad_value))
            assert path.startswith(info.value.key), (path, info.value.line())
    assert len(paths) > 40
