"""The calibrated behaviour's moments (valuechain.simulation.running.moments) against their targets."""

import pytest
from valuechain.simulation import load_scenario
from valuechain.simulation.running import moments


@pytest.fixture(scope="module")
def base():
    return load_scenario("baseline", ["replications=6"])


def test_user_cost_elasticity_of_investment_lies_in_the_empirical_band(base):
    value, how = moments.user_cost_elasticity(base)
    low, high = moments.TARGETS["user_cost_elasticity"][:2]
    assert low <= value <= high, how


def test_a_demand_slump_lowers_chemicals_output():
    """10% chemicals demand slump 2019-2021: paired 95% interval of the output change below zero."""
    res = moments.demand_slump(load_scenario("baseline", ["replications=10"]), "chemicals")
    assert res["high"] < 0


def test_a_boom_grows_capacity_fast():
    """Under the 2016 package cotton yarn capacity grows at least 30% in its best year (the region's
    spindles grew about 36-41% a year in 2014-16)."""
    pkg = moments.run_scenario(load_scenario("policy_package_2016", ["replications=4"]))
    growth, where = moments.largest_capacity_growth(pkg.stages, "cotton_yarn")
    assert 0.30 <= growth <= 0.60, where


def test_no_stage_year_idles_beside_imports_in_the_baseline(base):
    st = moments.run_scenario(base).stages
    assert moments.idle_beside_imports(st, base.chain) <= moments.TARGETS["idle_beside_imports"][1]
