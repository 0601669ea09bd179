"""One meaning for time paths: a rule applies from its first year on and does nothing before it
(earlier rules and the default stay in force), for every lever; a holiday exists from its
announcement; a holiday never raises a firm's tax above its own rate."""

import numpy as np
import pandas as pd
import pytest
from conftest import DATA
from valuechain.simulation.abm.model import ValueChainModel
from valuechain.simulation.config.scenario import load_scenario
from valuechain.simulation.running.runner import run_scenario

TINY = DATA / "tiny.yaml"  # 2016 for 8 years
COMMON = ["replications=2", "horizon.years=8"]
EARLY = {  # lever: (an earlier rule in force from the start, the same cells' later rule from 2020)
    "electricity_price": ("{stages: [metal], price_yuan_per_kwh: 0.30}",
                          "{stages: [metal], price_yuan_per_kwh: {2020: 0.20}}"),
    "freight_subsidy": ("{stages: [metal], yuan_per_t: 800}", "{stages: [metal], yuan_per_t: {2020: 300}}"),
    "tax": ("{stages: [metal], rate: 0.15}", "{stages: [metal], rate: {2020: 0.10}}"),
    "interest_subsidy": ("{stages: [parts], fixed_asset_points: 2, working_capital_points: 3}",
                         "{stages: [parts], fixed_asset_points: {2020: 4}, working_capital_points: {2020: 1}}"),
}


def frames(*overrides):
    res = run_scenario(load_scenario(TINY, [*COMMON, *overrides]))
    return res.stages, res.fiscal


@pytest.mark.parametrize("lever", sorted(EARLY))
def test_a_rule_does_nothing_before_its_first_year(lever):
    earlier, later = EARLY[lever]
    key = f"policy.{lever}.rules"
    base_st, base_fc = frames(f"{key}=[{earlier}]")
    both_st, both_fc = frames(f"{key}=[{earlier}, {later}]")
    before, after = both_st.year < 2020, both_st.year >= 2020
    pd.testing.assert_frame_equal(both_st[before], base_st[before])
    pd.testing.assert_frame_equal(both_fc[both_fc.year < 2020], base_fc[base_fc.year < 2020])
    # from 2020 the later rule is in force and changes something
    assert not both_st[after].reset_index(drop=True).equals(base_st[after].reset_index(drop=True))


def test_an_unannounced_holiday_changes_nothing_before_its_announcement():
    base_st, base_fc = frames()
    hol = "policy.tax.holidays=[{exempt_years: 5, from_year: 2020}]"
    st, fc = frames(hol)
    pd.testing.assert_frame_equal(st[st.year < 2020], base_st[base_st.year < 2020])
    pd.testing.assert_frame_equal(fc[fc.year < 2020], base_fc[base_fc.year < 2020])
    # announced in 2016, investors foresee it: more plants are started before 2020
    st_known, _ = frames(hol.replace("from_year: 2020", "from_year: 2020, announced: 2016"))
    assert st_known[st_known.year < 2020].entries.sum() > base_st[base_st.year < 2020].entries.sum()


def test_holiday_tax_is_never_above_the_firms_own_rate():
    """Firms on a 10% rate with "two exempt, three half": the half years stay at 10%, never 12.5%."""
    sc = load_scenario(TINY, ["policy.tax.default_rate=0.10", "policy.tax.holidays=[{exempt_years: 2, half_years: 3}]",
                              "firms.initial_age_max_years=3"])
    model = ValueChainModel(sc, rng=4)
    taxed = 0.0
    for _ in range(8):
        model.step()
        k, rec = model.last_year.coefficients, model.recorder.years[-1]
        assert np.all(rec["tax_paid"] <= k.base_rate * rec["taxable"] * (1 + 1e-12) + 1e-9)
        taxed += rec["tax_paid"].sum()
    assert taxed > 0  # the check was not empty


CUT = "policy.electricity_price.rules=[{stages: [metal], price_yuan_per_kwh: {2020: 0.20}%s}]"


def test_investors_expect_an_announced_rule_and_only_an_announced_one():
    """A power cut for metal from 2020: unannounced (announced = its first year), nothing changes
    before 2020; announced in 2016, investors expect it (metal invests more before 2020, while the
    cut itself costs nothing before 2020); with expectations "current" they do not."""
    base_st, base_fc = frames()
    quiet_st, _ = frames(CUT % "")
    told_st, told_fc = frames(CUT % ", announced: 2016")
    myopic_st, _ = frames(CUT % ", announced: 2016", "firms.expectations=current")
    early = base_st.year < 2020
    pd.testing.assert_frame_equal(quiet_st[early], base_st[early])
    pd.testing.assert_frame_equal(myopic_st[early], base_st[early])
    metal_before = lambda st: st[(st.stage == "metal") & (st.year < 2020)].investment.sum()  # noqa: E731
    assert metal_before(told_st) > metal_before(base_st)
    assert told_fc[(told_fc.year < 2020) & (told_fc.lever == "electricity_price")].fiscal_cost.sum() == 0


def test_a_policy_known_from_the_start_is_static():
    from valuechain.simulation.economy.levers import is_static

    sc = load_scenario(TINY, [CUT % ", announced: 2016"])
    assert not is_static(sc.spec.policy, 2016)
    assert is_static(load_scenario(TINY).spec.policy, 2016)
    assert not is_static(load_scenario(TINY, ["policy.tax.holidays=[{exempt_years: 2, from_year: 2018}]"]).spec.policy,
                         2016)
