"""Directions of policy effects on the default chain, with the same seeds (paired runs)."""

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from valuechain.simulation.config.scenario import load_scenario
from valuechain.simulation.running.runner import run_scenario

SCEN = ROOT / "scenarios"
FAST = ["replications=3", "horizon.years=10"]


def run(file="baseline.yaml", *overrides):
    return run_scenario(load_scenario(SCEN / file, FAST + list(overrides)))


def by_stage(res, col):
    return res.stages.groupby("stage")[col].sum()


@pytest.fixture(scope="module")
def baseline():
    return run()


def test_cheaper_power_raises_investment_more_in_electricity_intensive_stages(baseline):
    """Power at 0.30 instead of 0.40 yuan/kWh everywhere: stages where power is >= 25% of the
    output price (aluminium, polysilicon, industrial silicon, calcium carbide for chlor-alkali/PVC)
    expand investment more than every stage where it is <= 1.2% and that buys nothing from them
    (their direct buyers gain too, through more and cheaper local supply)."""
    chain = load_scenario(SCEN / "baseline.yaml").chain
    power_share = pd.Series(chain.kwh * 0.40 / chain.price0, index=chain.order)
    intensive = power_share[power_share >= 0.25].index
    buys_from_intensive = chain.A[[chain.index[s] for s in intensive]].sum(axis=0) > 0
    light = power_share[(power_share <= 0.012).to_numpy() & ~buys_from_intensive].index
    assert {"electrolytic_aluminium", "polysilicon", "calcium_carbide"} <= set(intensive) and len(light) >= 5
    cheap = run("baseline.yaml", "policy.electricity_price.default=0.30")
    change = (by_stage(cheap, "investment") / by_stage(baseline, "investment") - 1).dropna()
    assert change[intensive].min() > change[light.intersection(change.index)].max()
    assert change[intensive].min() > 0


def test_yarn_freight_subsidy_raises_textile_exports(baseline):
    sub = run("baseline.yaml", "policy.freight_subsidy.rules=[{stages: [cotton_yarn], yuan_per_t: 800}]")
    assert by_stage(sub, "exports")["cotton_yarn"] > by_stage(baseline, "exports")["cotton_yarn"]
    fc = sub.fiscal.groupby("lever").fiscal_cost.sum()
    assert fc["freight_subsidy"] > 0 and fc.drop("freight_subsidy").abs().max() == 0


def test_tax_holiday_raises_entries(baseline):
    holiday = run("tax_holiday.yaml")
    assert holiday.stages.entries.sum() > baseline.stages.entries.sum()
    assert holiday.fiscal.groupby("lever").fiscal_cost.sum()["tax"] > 0


def test_interest_subsidy_raises_investment_in_capital_intensive_stages(baseline):
    """2 points on fixed-asset loans for everyone: the five most capital-intensive stages (capital
    per yuan of output) all invest more, and so does the region. (The subsidy's value per yuan of
    capital is the same everywhere, so incumbents' investment rate rises alike, ``delta + q / phi``;
    where the extra yuan go beyond that depends on which stages' new plants it lifts over the
    entry hurdle, not on capital intensity.)"""
    sub = run("baseline.yaml", "policy.interest_subsidy.rules=[{fixed_asset_points: 2.0, fixed_asset_years: 5}]")
    chain = load_scenario(SCEN / "baseline.yaml").chain
    intensity = pd.Series(chain.capital_cost / chain.price0, index=chain.order)  # capital per yuan of output
    present = by_stage(baseline, "investment") > 0
    ranked = intensity[present[present].index].sort_values()
    heavy = ranked.index[-5:]
    extra = by_stage(sub, "investment") - by_stage(baseline, "investment")  # million yuan
    assert (extra[heavy] > 0).all() and extra.sum() > 0


def test_every_lever_at_zero_reproduces_the_baseline_exactly(baseline):
    zero = run(
        "baseline.yaml",
        "policy.electricity_price.rules=[{sectors: [textiles_apparel], price_yuan_per_kwh: 0.40}]",
        "policy.freight_subsidy.rules=[{stages: [cotton_yarn], yuan_per_t: 0},"
        " {stages: [garments], share_of_sales: 0}]",
        "policy.tax.holidays=[{zones: [difficult_area], exempt_years: 0, half_years: 0}]",
        "policy.interest_subsidy.rules=[{sectors: [textiles_apparel], fixed_asset_points: 0,"
        " working_capital_points: 0}]",
    )
    pd.testing.assert_frame_equal(baseline.stages, zero.stages)
    np.testing.assert_array_equal(baseline.fiscal.fiscal_cost, zero.fiscal.fiscal_cost)


def test_package_raises_downstream_investment_and_costs_money(baseline):
    pkg = run("policy_package_2016.yaml")
    deep = lambda r: r.stages[r.stages.tier == "deep"].investment.sum()  # noqa: E731
    assert deep(pkg) > deep(baseline)
    assert pkg.fiscal.fiscal_cost.sum() > 0
