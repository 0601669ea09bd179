"""Tests for simulation.yamlio: safe YAML loading, inherits, --set and one-line errors."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pydantic
import pytest
from valuechain.simulation.config.errors import InputError
from valuechain.simulation.config.nearest import closest_key, did_you_mean
from valuechain.simulation.config.yamlio import (
    apply_set,
    deep_merge,
    format_validation_error,
    load_yaml_mapping,
    load_yaml_text,
    parse_yaml_value,
    resolve_inherits,
    valid_keys_at,
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_line(excinfo: pytest.ExceptionInfo[InputError]) -> str:
    return excinfo.value.line()


# --- load_yaml_mapping ------------------------------------------------------------------------


def test_loads_mapping_and_normal_aliases(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        "defaults: &d {price: 0.3, years: 5}\na: *d\nb:\n  <<: *d\n  price: 0.4\nc: [*d, *d]\n",
    )
    data = load_yaml_mapping(path)
    assert data["a"] == {"price": 0.3, "years": 5}
    assert data["b"] == {"price": 0.4, "years": 5}
    assert data["c"] == [data["a"], data["a"]]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(InputError) as excinfo:
        load_yaml_mapping(path)
    assert excinfo.value.key == ""
    assert error_line(excinfo) == f"{path}: file not found"


def test_invalid_yaml_reports_first_problem_with_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "name: x\nhorizon: [1, 2\nseed: 3\n")
    with pytest.raises(InputError) as excinfo:
        load_yaml_mapping(path)
    assert excinfo.value.key == ""
    assert re.fullmatch(
        re.escape(f"{path}: not valid YAML: ") + r".*\(line 3, column \d+\)", error_line(excinfo)
    )


def test_python_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "evil.yaml", "a: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(InputError, match="not valid YAML: could not determine a constructor"):
        load_yaml_mapping(path)


def test_directory_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        load_yaml_mapping(tmp_path)


@pytest.mark.parametrize(
    ("text", "got"), [("- 1\n- 2\n", "list"), ("42\n", "int"), ("", "empty file")]
)
def test_top_level_must_be_mapping(tmp_path: Path, text: str, got: str) -> None:
    path = write(tmp_path, "s.yaml", text)
    with pytest.raises(InputError) as excinfo:
        load_yaml_mapping(path)
    assert excinfo.value.key == ""
    assert excinfo.value.got == got
    assert error_line(excinfo) == (
        f"{path}: top level must be a mapping of keys to values (got {got})"
    )


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "seed: 1\nname: x\nseed: 2\n")
    with pytest.raises(InputError) as excinfo:
        load_yaml_mapping(path)
    assert excinfo.value.key == "seed"
    assert error_line(excinfo) == f"{path}: seed: duplicated key (line 3); each key may appear once"


def test_duplicate_nested_key_reports_dotted_path(tmp_path: Path) -> None:
    text = (
        "policy:\n"
        "  electricity_price:\n"
        "    default: 0.3\n"
        "    by_stage:\n"
        "      - {stage: smelting, price: 0.2, price: 0.25}\n"
        "    default: 0.4\n"
    )
    path = write(tmp_path, "s.yaml", text)
    with pytest.raises(InputError) as excinfo:
        load_yaml_mapping(path)
    assert excinfo.value.key == "policy.electricity_price.by_stage.0.price"
    assert excinfo.value.message == "duplicated key (line 5); each key may appear once"

    write(tmp_path, "s.yaml", text.replace(", price: 0.25", ""))
    with pytest.raises(InputError) as excinfo:
        load_yaml_mapping(path)
    assert excinfo.value.key == "policy.electricity_price.default"
    assert excinfo.value.message == "duplicated key (line 6); each key may appear once"


def billion_laughs(levels: int = 9) -> str:
    names = "abcdefghijklmnop"
    lines = ["a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for i in range(1, levels):
        lines.append(f"{names[i]}: &{names[i]} [" + ", ".join([f"*{names[i - 1]}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_rejected_quickly(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.yaml", billion_laughs())
    start = time.perf_counter()
    with pytest.raises(InputError) as excinfo:
        load_yaml_mapping(path)
    assert time.perf_counter() - start < 2.0
    assert error_line(excinfo) == f"{path}: too many YAML aliases/nodes (possible alias bomb)"


def test_many_alias_uses_rejected() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 1001) + "]\n"
    with pytest.raises(InputError, match=r"^f\.yaml: too many YAML aliases/nodes"):
        load_yaml_text(text, "f.yaml")


def test_recursive_alias_rejected() -> None:
    with pytest.raises(InputError) as excinfo:
        load_yaml_text("a: &a [1, {b: *a}]\n", "f.yaml")
    assert excinfo.value.line() == (
        "f.yaml: a.1.b: recursive YAML alias (an anchor used inside itself)"
    )


def test_deep_nesting_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not valid YAML"):
        load_yaml_text("a: " + "[" * 1000 + "]" * 1000, "f.yaml")


# --- parse_yaml_value -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.30", 0.3), ("[1, 2]", [1, 2]), ("{a: 1}", {"a": 1}), ("true", True), ("abc", "abc")],
)
def test_parse_yaml_value(text: str, value: object) -> None:
    parsed = parse_yaml_value(text, "--set", "k")
    assert parsed == value
    assert type(parsed) is type(value)


def test_parse_yaml_value_errors_name_the_key() -> None:
    with pytest.raises(InputError, match=r"^--set: policy\.x: not valid YAML: .*\(got \[1, 2\)$"):
        parse_yaml_value("[1, 2", "--set", "policy.x")
    with pytest.raises(InputError, match=r"^--set: k\.a: duplicated key"):
        parse_yaml_value("{a: 1, a: 2}", "--set", "k")


# --- closest_key, deep_merge ------------------------------------------------------------------


def test_closest_key() -> None:
    assert closest_key("horizn", ["horizon", "seed", "policy"]) == "horizon"
    assert closest_key("zzz", ["horizon", "seed"]) is None
    assert did_you_mean("horizn", ["horizon", "seed"]) == "; did you mean 'horizon'?"
    assert did_you_mean("zzz", ["horizon", "seed"]) == ""


def test_deep_merge_merges_mappings_and_replaces_the_rest() -> None:
    base = {"policy": {"tax": {"rate": 0.25, "brackets": [1, 2]}, "subsidy": 1}, "seed": 1}
    override = {"policy": {"tax": {"brackets": [3]}}, "seed": 2, "name": "mix"}
    base_before = {"policy": {"tax": {"rate": 0.25, "brackets": [1, 2]}, "subsidy": 1}, "seed": 1}
    override_before = {"policy": {"tax": {"brackets": [3]}}, "seed": 2, "name": "mix"}

    merged = deep_merge(base, override)

    assert merged == {
        "policy": {"tax": {"rate": 0.25, "brackets": [3]}, "subsidy": 1},
        "seed": 2,
        "name": "mix",
    }
    assert base == base_before and override == override_before
    merged["policy"]["tax"]["brackets"].append(4)
    assert override["policy"]["tax"]["brackets"] == [3]


# --- resolve_inherits -------------------------------------------------------------------------


def test_inherits_deep_merges_and_rewrites_chain(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "mixes").mkdir()
    write(
        tmp_path / "base",
        "baseline.yaml",
        "name: baseline\nchain: chains/region.yaml\nseed: 1\npolicy: {tax: {rate: 0.25}}\n",
    )
    path = write(
        tmp_path / "mixes",
        "mix.yaml",
        "inherits: ../base/baseline.yaml\nname: mix\npolicy: {tax: {holiday_years: 2}}\n",
    )

    data = resolve_inherits(path)

    assert "inherits" not in data
    assert data["name"] == "mix"
    assert data["seed"] == 1
    assert data["policy"] == {"tax": {"rate": 0.25, "holiday_years": 2}}
    assert Path(data["chain"]).is_absolute()
    assert Path(data["chain"]) == (tmp_path / "base" / "chains" / "region.yaml").resolve()


def test_chain_name_without_yaml_suffix_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "chain: aluminium\nbase: other.yml\n")
    data = resolve_inherits(path)
    assert data["chain"] == "aluminium"
    assert data["base"] == str((tmp_path / "other.yml").resolve())


def test_inherits_loop(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "inherits: b.yaml\nseed: 1\n")
    b = write(tmp_path, "b.yaml", "inherits: a.yaml\nseed: 2\n")
    with pytest.raises(InputError) as excinfo:
        resolve_inherits(a)
    assert error_line(excinfo) == f"{b}: inherits: inheritance loop: a.yaml -> b.yaml -> a.yaml"


def test_inherits_itself(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "inherits: a.yaml\n")
    with pytest.raises(InputError, match="inheritance loop: a.yaml -> a.yaml$"):
        resolve_inherits(a)


def test_inherited_file_missing(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "inherits: gone.yaml\n")
    with pytest.raises(InputError) as excinfo:
        resolve_inherits(a)
    assert error_line(excinfo) == (f"{a}: inherits: inherited file not found (looked for {tmp_path.resolve()}"
                                   "/gone.yaml; not a built-in scenario either) (got gone.yaml)")


def test_inherits_a_bare_name_is_a_built_in_scenario_unless_that_file_is_beside(tmp_path: Path) -> None:
    from valuechain.simulation.config.builtin import data_dir

    a = write(tmp_path, "a.yaml", "inherits: baseline\nname: a\n")
    assert resolve_inherits(a) == {**resolve_inherits(data_dir() / "baseline.yaml"), "name": "a"}
    write(tmp_path, "baseline", "seed: 5\n")  # a file of that very name beside it comes first
    assert resolve_inherits(a) == {"seed": 5, "name": "a"}


def test_inherits_a_built_in_file_name_is_refused_with_the_name_to_write(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "inherits: baseline.yaml\n")
    with pytest.raises(InputError) as excinfo:
        resolve_inherits(a)
    assert error_line(excinfo) == (f"{a}: inherits: inherited file not found (looked for {tmp_path.resolve()}"
                                   "/baseline.yaml; for the built-in scenario write 'baseline' (no .yaml)) "
                                   "(got baseline.yaml)")


@pytest.mark.parametrize("value", ["[a.yaml]", "3", "''"])
def test_inherits_must_be_a_file_name(tmp_path: Path, value: str) -> None:
    a = write(tmp_path, "a.yaml", f"inherits: {value}\n")
    with pytest.raises(InputError, match=rf"^{re.escape(str(a))}: inherits: must be a file name"):
        resolve_inherits(a)


def test_errors_in_inherited_file_name_that_file(tmp_path: Path) -> None:
    parent = write(tmp_path, "parent.yaml", "seed: 1\nseed: 2\n")
    child = write(tmp_path, "child.yaml", "inherits: parent.yaml\n")
    with pytest.raises(InputError) as excinfo:
        resolve_inherits(child)
    assert excinfo.value.file == str(parent)
    assert excinfo.value.key == "seed"


# --- apply_set --------------------------------------------------------------------------------


def test_apply_set_creates_nested_keys_and_parses_values() -> None:
    data = {"policy": {"tax": {"rate": 0.25}}, "seed": 1}
    out = apply_set(data, "policy.electricity_price.default=0.30", "--set")
    out = apply_set(out, "policy.tax.enabled = true", "--set")
    assert out["policy"]["electricity_price"]["default"] == 0.3
    assert isinstance(out["policy"]["electricity_price"]["default"], float)
    assert out["policy"]["tax"] == {"rate": 0.25, "enabled": True}
    assert data == {"policy": {"tax": {"rate": 0.25}}, "seed": 1}


def test_apply_set_value_may_contain_equals_and_index_lists() -> None:
    data = {"name": "x", "rules": [{"yuan_per_t": 10}, {"yuan_per_t": 20}]}
    out = apply_set(data, "name=a=b", "--set")
    assert out["name"] == "a=b"
    out = apply_set(data, "rules.1.yuan_per_t=25", "--set")
    assert out["rules"] == [{"yuan_per_t": 10}, {"yuan_per_t": 25}]
    assert data["rules"][1] == {"yuan_per_t": 20}


@pytest.mark.parametrize(
    ("assignment", "line"),
    [
        ("policy.tax", "--set: expected KEY=VALUE (got policy.tax)"),
        ("=0.3", "--set: empty key (got =0.3)"),
        ("policy..tax=1", "--set: policy..tax: empty part in dotted key (got policy..tax=1)"),
        ("seed.x=1", "--set: seed: cannot set 'x': the value here is not a mapping (got 1)"),
    ],
)
def test_apply_set_errors(assignment: str, line: str) -> None:
    with pytest.raises(InputError) as excinfo:
        apply_set({"seed": 1}, assignment, "--set")
    assert excinfo.value.file == "--set"
    assert error_line(excinfo) == line


# --- format_validation_error and valid_keys_at ------------------------------------------------


class Horizon(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    start: int
    years: int = pydantic.Field(gt=0)


class Rule(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    yuan_per_t: float = pydantic.Field(ge=0)


class FreightSubsidy(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    rules: list[Rule] = []


class Policy(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)
    freight_subsidy: FreightSubsidy | None = None
    regions: dict[str, Rule] = {}
    tax_rate: float = pydantic.Field(0.0, alias="taxRate")


class Scenario(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    horizon: Horizon
    policy: Policy | None = None


def first_error(data: dict) -> InputError:
    with pytest.raises(pydantic.ValidationError) as excinfo:
        Scenario.model_validate(data)
    return format_validation_error("s.yaml", excinfo.value, Scenario)


HORIZON = {"start": 2016, "years": 5}


def test_unknown_key_suggests_close_key() -> None:
    # "horizon" is also missing; the unknown key is reported first as it explains the other.
    err = first_error({"horizn": HORIZON})
    assert err.key == "horizn"
    assert err.line().startswith("s.yaml: horizn: unknown key; did you mean 'horizon'?")


def test_unknown_nested_key_follows_optional_list_and_dict() -> None:
    policy = {"freight_subsidy": {"rules": [{"yuan_per_tt": 3}]}}
    err = first_error({"horizon": HORIZON, "policy": policy})
    assert err.key == "policy.freight_subsidy.rules.0.yuan_per_tt"
    assert err.message == "unknown key; did you mean 'yuan_per_t'?"

    err = first_error({"horizon": HORIZON, "policy": {"regions": {"north": {"yuan_pert": 1}}}})
    assert err.key == "policy.regions.north.yuan_pert"
    assert err.message == "unknown key; did you mean 'yuan_per_t'?"


def test_unknown_key_uses_alias_and_omits_far_suggestions() -> None:
    err = first_error({"horizon": HORIZON, "policy": {"taxrate": 0.1}})
    assert err.message == "unknown key; did you mean 'taxRate'?"
    err = first_error({"horizon": HORIZON, "zzzzzz": 1})
    assert err.line() == "s.yaml: zzzzzz: unknown key (got 1)"


def test_missing_and_bad_values() -> None:
    err = first_error({"horizon": {"start": 2016}})
    assert err.line() == "s.yaml: horizon.years: required key is missing"
    err = first_error({"horizon": {"start": 2016, "years": 0}})
    assert err.line() == "s.yaml: horizon.years: input should be greater than 0 (got 0)"
    policy = {"freight_subsidy": {"rules": [{"yuan_per_t": "lots"}]}}
    err = first_error({"horizon": HORIZON, "policy": policy})
    assert err.key == "policy.freight_subsidy.rules.0.yuan_per_t"
    assert err.message.startswith("input should be a valid number")
    assert err.got == "lots"


def test_format_without_model_gives_no_suggestion() -> None:
    with pytest.raises(pydantic.ValidationError) as excinfo:
        Scenario.model_validate({"horizn": HORIZON})
    assert format_validation_error("s.yaml", excinfo.value).message == "unknown key"


def test_valid_keys_at() -> None:
    assert valid_keys_at(Scenario, []) == ["horizon", "policy"]
    assert valid_keys_at(Scenario, ["policy"]) == ["freight_subsidy", "regions", "taxRate"]
    assert valid_keys_at(Scenario, ["policy", "freight_subsidy", "rules", 0]) == ["yuan_per_t"]
    assert valid_keys_at(Scenario, ["policy", "regions", "north"]) == ["yuan_per_t"]
    assert valid_keys_at(Scenario, ["policy", "regions"]) == []
    assert valid_keys_at(Scenario, ["nothing", "here"]) == []


def test_apply_set_with_valid_paths_rejects_unknown_key_early() -> None:
    def valid(parts: list[str]) -> list[str]:
        return valid_keys_at(Scenario, parts)

    with pytest.raises(InputError) as excinfo:
        apply_set({}, "horizon.yaers=3", "--set", valid)
    assert excinfo.value.line() == "--set: horizon.yaers: unknown key; did you mean 'years'?"
    out = apply_set({}, "policy.regions.north.yuan_per_t=2", "--set", valid)
    assert out == {"policy": {"regions": {"north": {"yuan_per_t": 2}}}}
