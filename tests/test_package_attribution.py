"""The back-test's pre-package path (the rules in force at the end of 2013 only) and the attribution
of the recorded history's gap to no policy (benchmarks/package_attribution.py; docs/calibration.md
§14.15)."""

import copy
import importlib.util

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from valuechain.simulation import load_scenario, run_scenario

from valuechain.cli import main

PACKAGE_LEVERS = ("electricity_price", "capacity_rules", "interest_subsidy", "employment_subsidy",
                  "investment_attraction")  # nothing of them was in force at the end of 2013


def _attribution_module():
    spec = importlib.util.spec_from_file_location("package_attribution", ROOT / "benchmarks" / "package_attribution.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_pre_package_path_is_the_recorded_history_with_only_the_rules_in_force_at_the_end_of_2013():
    rec, pre = load_scenario("history_2014_recorded"), load_scenario("history_2014_pre_package")
    cf = load_scenario("history_2014_counterfactual")
    a, b, none = rec.spec.model_dump(), pre.spec.model_dump(), cf.spec.model_dump()
    assert {k for k in a if a[k] != b[k]} == {"name", "description", "policy"}
    # the recorded history without the rules decided from 2014 on: of the freight and tax rules, the
    # ones in force from the start (2014) with no later announcement (the 2011 rules), all holidays
    expected = copy.deepcopy(a["policy"])
    for lever in PACKAGE_LEVERS:
        expected[lever] = none["policy"][lever]
    freight = [r for r in expected["freight_subsidy"]["rules"]
               if r["announced"] is None and min(r["yuan_per_t"] or r["share_of_sales"]) == 2014]
    assert [(r["stages"], r["yuan_per_t"]) for r in freight] == [(["cotton_yarn"], {2014: 700.0}),
                                                                (["grey_fabric", "dyed_fabric"], {2014: 500.0})]
    expected["freight_subsidy"]["rules"] = freight
    tax = [r for r in expected["tax"]["rules"] if r["announced"] is None]
    assert [(r["tiers"], r["rate"]) for r in tax] == [(["rough", "deep"], {2014: 0.15})]
    expected["tax"]["rules"] = tax
    assert len(expected["tax"]["holidays"]) == 2
    assert b["policy"] == expected
    for lever in PACKAGE_LEVERS:
        assert b["policy"][lever] != a["policy"][lever]  # each left-out lever is one the history uses


def test_the_pre_package_path_keeps_the_2011_freight_rates_to_the_end_of_the_horizon():
    from valuechain.simulation.economy.levers import year_terms

    sc = load_scenario("history_2014_pre_package")
    c = sc.chain

    def paid(year, stage):
        t = year_terms(sc.spec.policy, c, year, c.price0, known_by=year)
        return t.subsidy_per_unit[c.index[stage], 0] / c.weight_t[c.index[stage]]

    for year in (2014, 2016, 2024):  # no 2014 package (yarn 800, fabric 1,000) and no 2024 notice (yarn 500)
        assert (paid(year, "cotton_yarn"), paid(year, "dyed_fabric"), paid(year, "garments")) == (700, 500, 0)


def test_valuechain_list_lists_the_three_history_scenarios(capsys):
    assert main(["list"]) == 0
    section = capsys.readouterr().out.split("scenarios (valuechain run NAME):\n")[1].split("sweeps")[0]
    names = {line.split()[0] for line in section.splitlines() if line.strip()}
    assert {"history_2014_recorded", "history_2014_pre_package", "history_2014_counterfactual"} <= names


def test_the_history_is_the_pre_package_path_until_the_package_is_known_and_the_2011_rules_raise_spinning():
    """Same seeds: 2014 is identical under the history and the pre-package path (the package is
    known from 2015, nothing else is decided in 2014), while the 2011 rules (15% tax, holidays,
    700 yuan/t for yarn) already give more yarn and more spinning capacity than no policy."""
    over = ["firms.scale=0.2", "replications=1", "horizon.years=3"]
    rec, pre, cf = (run_scenario(load_scenario(n, over)).stages.drop(columns="scenario") for n in
                    ("history_2014_recorded", "history_2014_pre_package", "history_2014_counterfactual"))
    pd.testing.assert_frame_equal(rec[rec.year == 2014], pre[pre.year == 2014])
    assert not rec[rec.year == 2015].equals(pre[pre.year == 2015])  # the drive's plants from 2015

    def yarn(st, column, year):
        return float(st[(st.stage == "cotton_yarn") & (st.year == year)][column].sum())

    assert yarn(pre, "output", 2014) > 1.5 * yarn(cf, "output", 2014)
    assert yarn(pre, "capacity", 2016) > yarn(cf, "capacity", 2016)
    assert yarn(rec, "capacity", 2016) > yarn(pre, "capacity", 2016)  # the package's levers add to it


def test_the_attribution_pairs_runs_and_its_differences_add_up():
    mod = _attribution_module()
    runs = np.arange(4)
    base = 10.0 * runs ** 2  # runs differ widely; every path moves each run by the same amount

    def path(shift):
        return pd.DataFrame({"series": "s", "year": 2016, "replication": runs, "value": base + shift})

    table = mod.attribution({"history": path(7.0), "no_drive": path(4.0), "pre_package": path(1.0),
                             "no_policy": path(0.0)})
    r = table.loc[("s", 2016)]
    assert (r.history, r.pre_package, r.no_policy) == (base.mean() + 7, base.mean() + 1, base.mean())
    # paired run for run: each difference is exact in every run, so its range has no width
    for name, value in (("package", 6.0), ("drive", 3.0), ("levers", 3.0), ("rules11", 1.0)):
        assert (r[name], r[f"{name}_low"], r[f"{name}_high"]) == pytest.approx((value, value, value))
    assert r.package == pytest.approx(r.drive + r.levers)
    line = mod.format_attribution(table.rename(index={"s": "spindles"})).splitlines()[1]
    assert line.split()[:3] == ["spindles", "million", "spindles"] and "6.0 [6.0, 6.0]" in line
