"""docs/calibration.md §0, the numbers in force for the 2014 history: every row's value (and range)
equals the loaded chain, series mapping, scenario and parameter ranges, and its "fitted on"
records are exactly the records observed.FITTED lists."""

import re

import pytest
from conftest import ROOT
from valuechain.simulation import load_scenario
from valuechain.simulation.config.observed import FITTED
from valuechain.simulation.config.parameters import load_parameter_ranges
from valuechain.simulation.config.yamlio import load_yaml_mapping

DOC = ROOT / "docs" / "calibration.md"


def _rows() -> list[dict]:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index("<!-- numbers-in-force: start -->"), text.index("<!-- numbers-in-force: end -->")
    lines = [line for line in text[start:end].splitlines() if line.startswith("| `")]
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 6, line
        rows.append({"key": cells[0].strip("`"), "value": cells[1], "unit": cells[2], "source": cells[3],
                     "range": cells[4], "fitted_on": cells[5]})
    return rows


def _walk(data, parts: list[str]):
    for part in parts:
        if isinstance(data, list):
            data = data[int(part)]
        elif part in data:
            data = data[part]
        else:
            data = data[int(part)]  # a year of a time path
    return data


@pytest.fixture(scope="module")
def loaded():
    return {"chain": load_yaml_mapping(ROOT / "scenarios/chains/xinjiang_2014.yaml")["stages"],
            "series": load_yaml_mapping(ROOT / "scenarios/observed/xinjiang_series.yaml"),
            "history": load_scenario("history_2014_recorded").spec.model_dump()}


def _value(loaded: dict, key: str):
    head, *rest = key.split(".")
    if head == "series":
        series = loaded["series"]
        return _walk(series, rest) if rest[0] == "build_timing" else _walk(series["series"], rest)
    return _walk(loaded[head], rest)


def test_the_table_names_the_numbers_of_the_2014_history():
    keys = [r["key"] for r in _rows()]
    assert len(keys) == len(set(keys)) >= 50
    for needed in ("chain.viscose_fibre.initial.under_construction_units.2016",
                   "chain.electrolytic_aluminium.initial.under_construction_units.2017",
                   "series.textile_fixed_asset_investment.factor",
                   "history.policy.investment_attraction.rules.0.placed_plants_per_year.2015",
                   "history.shocks.demand.0.price_factor", "history.firms.adjustment_cost"):
        assert needed in keys
    assert all(r["unit"] and r["source"] for r in _rows())


def test_every_value_in_the_table_is_the_loaded_value(loaded):
    for row in _rows():
        expected = _value(loaded, row["key"])
        got = float(row["value"].replace(",", ""))
        assert got == pytest.approx(float(expected), rel=1e-12, abs=1e-15), row["key"]


def test_every_range_in_the_table_is_the_parameter_draws_range():
    ranges = load_parameter_ranges().ranges
    drawn = {}
    for row in _rows():
        if row["range"]:
            m = re.fullmatch(r"([0-9.]+)-([0-9.]+)( \(not drawn\))?", row["range"])
            assert m, row["range"]
            name = row["key"].removeprefix("history.").removeprefix("firms.")
            drawn[name] = (float(m.group(1)), float(m.group(2)), m.group(3) is None)
    assert set(drawn) == set(ranges)  # every documented range, and only those, in the table
    for name, (low, high, draw) in drawn.items():
        r = ranges[name]
        assert (low, high, draw) == (pytest.approx(r.low), pytest.approx(r.high), r.draw), name


def test_the_fitted_on_column_is_the_list_of_fitted_records():
    named = set()
    for row in _rows():
        if row["fitted_on"]:
            series, year = row["fitted_on"].rsplit(" ", 1)
            named.add((series, int(year)))
    assert named == set(FITTED)
