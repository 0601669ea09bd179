"""analysis.cost / fiscal / impacts: net = gross - tax change, PV(0) = sum, sign-aware rankings, labelled
zero cost, deadweight 0 and 1 in the analytic cases, direct + indirect = total, shadow power, multipliers."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATA
from scipy import stats
from valuechain.analysis import compare
from valuechain.analysis.compare import Run
from valuechain.analysis.cost import (
    cost_effectiveness,
    cost_report,
    fieller,
    format_cost_report,
    is_cost_csv,
    rank_costs,
    rank_mixes,
    ratio_row,
)
from valuechain.analysis.fiscal import (
    VAT_RATE,
    FiscalRules,
    present_value,
    shadow_costs,
    value_at,
    yearly_costs,
)
from valuechain.analysis.impacts import deadweight, direct_indirect, multiplier_table
from valuechain.simulation import schema
from valuechain.simulation.config.chain import load_chain

from valuechain.cli import main

TINY = str(DATA / "tiny.yaml")
LEVERS = schema.LEVERS


def frames(name: str, stage_values: dict, costs: dict, reps: int = 4, years=(2016, 2017, 2018), seed=1) -> Run:
    """A hand-made run: ``stage_values[stage] = {column: f(rep, year)}``, ``costs[(stage, lever)] = f(rep, year)``."""
    rows, fis = [], []
    for k in range(reps):
        for y in years:
            for stage, cols in stage_values.items():
                row = {"scenario": name, "replication": k, "year": y, "sector": "equipment", "stage": stage,
                       "tier": "deep" if stage == "deep" else "rough"}
                for col in ("value_added", "investment", "employment", "output", "capacity", "exports", "tax_paid"):
                    f = cols.get(col, 0.0)
                    row[col] = float(f(k, y) if callable(f) else f)
                rows.append(row)
                for lv in LEVERS:
                    f = costs.get((stage, lv), 0.0)
                    fis.append({**{c: row[c] for c in schema.TIDY_KEYS}, "lever": lv,
                                "fiscal_cost": float(f(k, y) if callable(f) else f)})
    runs = pd.DataFrame({"scenario": name, "replication": range(reps), "seed": seed})
    return Run(pd.DataFrame(rows), pd.DataFrame(fis), runs, {}, name)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("cost")
    runs = {"base": [], "power": ["--set", "policy.electricity_price.default=0.30"],
            "dear_power": ["--set", "policy.electricity_price.default=0.45"],
            "captive": ["--set", "policy.electricity_price.rules=[{stages: [metal], price_yuan_per_kwh: 0.30, "
                        "counts_as_fiscal_cost: false}]"],
            "fast": ["--set", "policy.fast_track.rules=[{stages: [parts], years_saved: 1}]"],
            "zone_holiday": ["--set",
                             "policy.tax.holidays=[{zones: [difficult_area], exempt_years: 2, from_year: 2016}]"],
            "fast_zone": ["--set", "policy.fast_track.rules=[{zones: [difficult_area], years_saved: 1}]"]}
    for name, extra in runs.items():
        assert main(["run", TINY, "--out", str(root / name), "--replications", "4", *extra]) == 0
    return {name: root / name for name in runs}


# ----------------------------------------------------------------------------- net cost and present value
def test_net_cost_is_gross_minus_induced_tax_exactly():
    base = frames("base", {"a": {"value_added": 100, "tax_paid": 10}}, {})
    pol = frames("pol", {"a": {"value_added": lambda k, y: 130 + k, "tax_paid": 14}},
                 {("a", "freight_subsidy"): 20, ("a", "tax"): 3})
    rules = FiscalRules(vat_rate=0.13, vat_share=0.5, cit_share=0.4)
    yc = yearly_costs(pol, base, rules)
    assert np.array_equal(yc["net"], yc["gross"] - yc["tax_change"])
    # induced CIT at the statutory rate = d(tax_paid + tax expenditure) = (14 + 3) - 10 = 7
    d_va = np.array([30.0 + k for k in range(4) for _ in range(3)])
    assert np.allclose(yc["tax_change"], 0.4 * 7 + 0.5 * 0.13 * d_va, rtol=0, atol=1e-12)
    # the region bears the tax lever's cost at its CIT share: 20 + 0.4 x 3 (the consolidated budget: 23)
    assert np.allclose(yc["gross"], 21.2, rtol=0, atol=1e-12) and np.allclose(yc["gross_tax"], 1.2, rtol=0, atol=1e-12)
    # by lever the net costs add up to the total
    assert np.allclose(yc[[f"net_{lv}" for lv in LEVERS]].sum(axis=1), yc["net"], rtol=1e-13)
    # consolidated budget: net = d(subsidies) - d(tax_paid) - d(VAT)
    gov = yearly_costs(pol, base, FiscalRules.for_perspective("government", vat_rate=0.13))
    assert np.allclose(gov["net"], 20 - 4 - 0.13 * d_va) and np.allclose(gov["gross"], 23.0)
    report = cost_report({"pol": pol}, base, rules=rules, rate=0.05, effects=False)
    c = report.costs.iloc[0]
    assert np.isclose(c["net"], c["gross"] - c["tax_change"], rtol=1e-13)
    assert np.isclose(c["net_pv"], c["gross_pv"] - c["tax_change_pv"], rtol=1e-13)


def test_a_tax_holiday_costs_the_region_its_share_of_the_tax_it_forgoes():
    """Hand-computed: a firm taxed 25 on its profit gets a full holiday and grows (profit taxable at
    the statutory rate 35, value added +50). The budget forgoes 35 - 0 at the statutory rate; the
    region (40% of income tax) bears 14 of it, gets back 40% of the statutory tax on the extra base,
    0.4 x (35 - 25) = 4, and half of the VAT 0.13 x 50: its net cost 14 - 4 - 3.25 = 6.75 = the 10
    of income tax it used to collect less the VAT gained. The consolidated budget: 35 - 10 - 6.5 =
    18.5 = 25 - 6.5. (The old code charged the region the whole 35: net 27.75.)"""
    base = frames("base", {"a": {"value_added": 100, "tax_paid": 25}}, {})
    pol = frames("pol", {"a": {"value_added": 150, "tax_paid": 0}}, {("a", "tax"): 35})
    region = yearly_costs(pol, base, FiscalRules(vat_rate=0.13, vat_share=0.5, cit_share=0.4))
    assert np.allclose(region[["gross", "gross_tax", "tax_cit", "tax_cit_paid", "tax_vat", "net"]],
                       [14.0, 14.0, 4.0, -10.0, 3.25, 6.75], rtol=0, atol=1e-12)
    gov = yearly_costs(pol, base, FiscalRules.for_perspective("government", vat_rate=0.13))
    assert np.allclose(gov[["gross", "tax_cit", "tax_vat", "net"]], [35.0, 10.0, 6.5, 18.5], rtol=0, atol=1e-12)


def test_deadweight_share_weights_the_levers_by_their_cost_to_the_budget():
    """A tax cut on unchanged output (deadweight 1) and a freight subsidy on new exports (deadweight
    0), each booked at 10 a year: the region bears 4 of the cut and 10 of the subsidy, so 4/14 of its
    gross cost is deadweight; the consolidated budget 10/20."""
    base = frames("base", {"a": {"output": 100, "exports": 0}}, {})
    pol = frames("pol", {"a": {"output": 100, "exports": 50}}, {("a", "tax"): 10, ("a", "freight_subsidy"): 10})
    for perspective, share in (("region", 4 / 14), ("government", 0.5)):
        c = cost_report({"pol": pol}, base, perspective=perspective, effects=False).costs.iloc[0]
        assert np.isclose(c["deadweight_share"], share, rtol=1e-12), perspective


@pytest.mark.parametrize("perspective", ["region", "government"])
def test_net_cost_is_other_levers_less_the_budgets_share_of_tax_paid_and_vat(perspective):
    """The identity the referee checked: net = the other levers' gross cost - s_CIT x d(tax paid) -
    s_VAT x v x dVA, whatever the tax lever costs (it cancels at the budget's share)."""
    years = (2015, 2016, 2017, 2018, 2019, 2020)
    base = frames("base", {"a": {"value_added": lambda k, y: 100 + k, "tax_paid": lambda k, y: 10 + 0.5 * k},
                           "b": {"value_added": 50, "tax_paid": 4}}, {("b", "tax"): 1.0}, years=years)
    pol = frames("pol", {"a": {"value_added": lambda k, y: 130 + 3 * k + (y - 2015), "tax_paid": lambda k, y: 6 + k},
                         "b": {"value_added": lambda k, y: 55 + y - 2015, "tax_paid": 2}},
                 {("a", "tax"): lambda k, y: 7.0 + k, ("b", "tax"): 2.5, ("a", "freight_subsidy"): lambda k, y: 3 + k,
                  ("b", "electricity_price"): 11.0, ("a", "capital_grants"): lambda k, y: y - 2014}, years=years)
    rules = FiscalRules.for_perspective(perspective)
    yc = yearly_costs(pol, base, rules)
    yrs = yc.index.get_level_values("year")
    s_cit = np.array([value_at(rules.cit_share, y) for y in yrs])
    s_vat = np.array([value_at(rules.vat_share, y) for y in yrs])
    vat = np.array([value_at(rules.vat_rate, y) for y in yrs])
    sums = [r.stages.groupby(["replication", "year"])[["value_added", "tax_paid"]].sum().reindex(yc.index)
            for r in (pol, base)]
    d_paid = (sums[0]["tax_paid"] - sums[1]["tax_paid"]).to_numpy()
    d_va = (sums[0]["value_added"] - sums[1]["value_added"]).to_numpy()
    other = yc["gross"] - yc["gross_tax"]
    assert np.allclose(other, [3 + k + 11 + y - 2014 for k, y in yc.index], rtol=0, atol=1e-12)
    expected = other - s_cit * d_paid - s_vat * vat * d_va
    assert np.allclose(yc["net"], expected, rtol=1e-9, atol=0)
    assert np.allclose(yc["tax_cit"], yc["tax_cit_paid"] + yc["gross_tax"], rtol=1e-12, atol=1e-12)
    assert np.allclose(yc["gross_tax"], s_cit * np.array([7.0 + k + 2.5 - 1.0 for k, _ in yc.index]), rtol=1e-12)


def test_present_value_at_zero_is_the_sum():
    base = frames("base", {"a": {"value_added": 100}}, {})
    pol = frames("pol", {"a": {"value_added": lambda k, y: 100 + (y - 2015) * (k + 1)}},
                 {("a", "electricity_price"): lambda k, y: 10.0 * (y - 2015) + k})
    yc = yearly_costs(pol, base)
    assert present_value(yc, 0.0).equals(yc.groupby(level="replication").sum())
    pv = present_value(yc["gross"], 0.1)
    manual = (yc["gross"] / 1.1 ** (yc.index.get_level_values("year") - 2016)).groupby(level="replication").sum()
    assert np.allclose(pv, manual, rtol=1e-13) and (pv < yc["gross"].groupby(level="replication").sum()).all()
    report = cost_report({"pol": pol}, base, rate=0.0, effects=False)
    c = report.costs.iloc[0]
    assert c["gross_pv"] == c["gross"] and c["net_pv"] == c["net"]


def test_default_tax_rates_and_shares():
    assert value_at(VAT_RATE, 2016) == 0.17 and value_at(VAT_RATE, 2020) == 0.13 and value_at(VAT_RATE, 2030) == 0.13
    assert np.isclose(value_at(VAT_RATE, 2019), 0.1375)
    r = FiscalRules()
    assert value_at(r.cit_share, 2016) == 0.40 and value_at(r.vat_share, 2018) == 0.50
    assert np.isclose(value_at(r.vat_share, 2016), 0.25 / 3 + 0.5 * 2 / 3)
    g = FiscalRules.for_perspective("government")
    assert value_at(g.vat_share, 2016) == 1.0 and value_at(g.cit_share, 2016) == 1.0


# ----------------------------------------------------------------------------- signs and intervals
def test_revenue_raising_lever_never_ranks_above_a_cost_positive_one():
    base = frames("base", {"a": {"value_added": 1000}}, {})
    # dear power: raises revenue (cost -10) and destroys value added (-500): old ratio +50 per yuan
    dear = frames("dear", {"a": {"value_added": lambda k, y: 500 - k}}, {("a", "electricity_price"): -10})
    cheap = frames("cheap", {"a": {"value_added": lambda k, y: 1001 + k}}, {("a", "electricity_price"): 100})
    free = frames("free", {"a": {"value_added": 1100}}, {})
    ce = cost_effectiveness({"dear": dear, "cheap": cheap, "free": free}, base, ["value_added"])
    ranked = rank_mixes(ce)
    assert list(ranked["scenario"]) == ["cheap", "free", "dear"]
    assert list(ranked["status"]) == ["costs money", "costs nothing", "raises revenue"]
    dear_row = ranked.set_index("scenario").loc["dear"]
    assert dear_row["ratio"] < 0  # value added lost per 10,000 yuan raised
    report = cost_report({"dear": dear, "cheap": cheap, "free": free}, base, effects=False)
    assert list(rank_costs(report, "value_added", "gross")["scenario"]) == ["cheap", "free", "dear"]
    # net of induced VAT the free lever raises revenue, and dear power costs money (lost VAT) for a loss
    for basis in ("gross", "net"):
        r = rank_costs(report, "value_added", basis)
        money = np.flatnonzero(r["status"] == "costs money")
        revenue = np.flatnonzero(r["status"] == "raises revenue")
        assert len(money) and len(revenue) and money.max() < revenue.min()
    net = rank_costs(report, "value_added", "net").set_index("scenario")
    assert net.loc["free", "status"] == "raises revenue" and net.loc["dear", "ratio"] < 0


DRAW_COST = [10.0, 12.0, 9.0, 14.0]  # per parameter draw: mean extra cost (million yuan) ...
DRAW_VA = [40.0, 60.0, 27.0, 70.0]  # ... and mean extra value added
WITHIN_COST, WITHIN_VA = [-2.0, 0.0, 2.0], [3.0, 0.0, -3.0]  # replication noise within a draw, mean zero


def drawn(run: Run, replications: int) -> Run:
    """``run`` as if run with parameter draws: replication k is draw k // replications."""
    reps = run.runs["replication"]
    runs = run.runs.assign(draw=reps // replications, draw_replication=reps % replications)
    manifest = {"interval": "parameters+replications", "parameter_draws": [{}] * (len(reps) // replications)}
    return Run(run.stages, run.fiscal, runs, manifest, run.source)


def draw_table(replications: int) -> tuple[Run, Run]:
    """4 parameter draws x ``replications`` runs of one year; with 3 the runs scatter around the draw means."""
    noise = (lambda x, k: x[k % 3]) if replications == 3 else (lambda x, k: 0.0)
    n = 4 * replications
    base = frames("base", {"a": {"value_added": 100}}, {}, reps=n, years=(2016,))
    pol = frames("pol", {"a": {"value_added": lambda k, y: 100 + DRAW_VA[k // replications] + noise(WITHIN_VA, k)}},
                 {("a", "freight_subsidy"): lambda k, y: DRAW_COST[k // replications] + noise(WITHIN_COST, k)},
                 reps=n, years=(2016,))
    return drawn(pol, replications), drawn(base, replications)


def test_with_parameter_draws_the_draw_is_the_unit_of_the_intervals():
    """Hand-computed on 4 draws: the ratio of the draw means with Fieller's interval on them, t on 3
    degrees of freedom; the range of the per-draw ratios beside it; 3 replications a draw give the
    same interval as 1 (the replications of a draw share its parameters: they do not narrow it)."""
    y, c = np.array(DRAW_VA), np.array(DRAW_COST)
    t = stats.t.ppf(0.975, 3)
    v = np.cov(y, c, ddof=1) / 4
    # Fieller: the R with (mean(y) - R mean(c))^2 <= t^2 var(mean(y) - R mean(c)), a quadratic a R^2 + b R + q <= 0
    a = c.mean() ** 2 - t * t * v[1, 1]
    b = -2 * (y.mean() * c.mean() - t * t * v[0, 1])
    q = y.mean() ** 2 - t * t * v[0, 0]
    low, high = (-b - np.sqrt(b * b - 4 * a * q)) / (2 * a), (-b + np.sqrt(b * b - 4 * a * q)) / (2 * a)
    half = t * y.std(ddof=1) / 2  # compare: t interval of the mean effect over the draws
    found = {}
    for reps in (3, 1):
        pol, base = draw_table(reps)
        r = cost_report({"pol": pol}, base, rate=0.0, effects=False).ratios
        row = r[(r.basis == "gross") & (r.metric == "value_added")].iloc[0]
        assert row["n"] == 4
        assert np.isclose(row["ratio"], y.mean() / c.mean() * 1e4, rtol=1e-12)
        assert np.allclose([row["ci_low"], row["ci_high"]], [low * 1e4, high * 1e4], rtol=1e-9)
        assert np.allclose([row["draw_min"], row["draw_max"]], [(y / c).min() * 1e4, (y / c).max() * 1e4], rtol=1e-12)
        ce = cost_effectiveness({"pol": pol}, base, ["value_added"]).iloc[0]
        assert np.allclose([ce["ci_low"], ce["ci_high"]], [low * 1e4, high * 1e4], rtol=1e-9) and ce["n"] == 4
        eff = compare(pol, base).iloc[0]
        assert eff["n"] == 4 and np.allclose([eff["ci_low"], eff["ci_high"]], [y.mean() - half, y.mean() + half],
                                             rtol=1e-12)
        found[reps] = (row["ci_low"], row["ci_high"], eff["ci_low"], eff["ci_high"])
    assert np.allclose(found[3], found[1], rtol=1e-12)
    text = format_cost_report(cost_report({"pol": pol}, base, rate=0.0, effects=False))
    assert "over the 4 parameter draws, each the mean of its paired replications (t on 3 degrees of freedom" in text
    assert f"{(y / c).min() * 1e4:,.0f} to {(y / c).max() * 1e4:,.0f}" in text  # the range over the draws


def test_cost_per_job_year_is_pv_cost_over_discounted_job_years():
    """100 million yuan paid in 2016 for 10 more jobs in each of 2016-2018: at 8% the cost per
    additional job-year is 1e8 / (10 (1 + 1/1.08 + 1/1.08^2)) yuan, PV cost over PV job-years (over
    undiscounted job-years it would be 1e8 / 30), and the table says so."""
    base = frames("base", {"a": {"employment": 100}}, {})
    pol = frames("pol", {"a": {"employment": lambda k, y: 110 + 0.1 * k}},
                 {("a", "freight_subsidy"): lambda k, y: (100.0 + k) if y == 2016 else 0.0})
    report = cost_report({"pol": pol}, base, rate=0.08, effects=False)
    r = report.ratios.set_index(["basis", "metric"]).loc[("gross", "cost_per_job_year")]
    jobs = np.array([10 + 0.1 * k for k in range(4)]) * (1 + 1 / 1.08 + 1 / 1.08**2)
    assert np.isclose(r["ratio"], np.mean(100.0 + np.arange(4)) * 1e6 / jobs.mean(), rtol=1e-12)
    assert r["unit"] == "yuan per additional discounted job-year"
    text = format_cost_report(report)
    assert "yuan per discounted job-year" in text and "PV cost / PV job-years" in text


def test_a_row_whose_cost_may_be_zero_ranks_after_every_established_one():
    """Referee's case: a lever booked at zero whose net cost is a little induced tax lost (mean
    +0.1, interval including zero) has a huge ratio with an unbounded interval; it ranks after the
    package that reliably costs money, after the lever that costs nothing and after the one that
    reliably raises revenue (the old order put it first)."""
    base = frames("base", {"a": {"value_added": 1000}}, {})
    package = frames("package", {"a": {"value_added": lambda k, y: 1100 + k}}, {("a", "freight_subsidy"): 100})
    fast = frames("fast", {"a": {"value_added": lambda k, y: 1050 + k}},
                  {("a", "capital_grants"): lambda k, y: 0.1 + (-1) ** k})  # mean 0.1, sd 1: not established
    free = frames("free", {"a": {"value_added": 1001}}, {})
    dear = frames("dear", {"a": {"value_added": lambda k, y: 900 - k}}, {("a", "electricity_price"): -10})
    ce = cost_effectiveness({"fast": fast, "dear": dear, "free": free, "package": package}, base, ["value_added"])
    ratios = ce.set_index("scenario")
    assert ratios.loc["fast", "status"] == "costs money" and not ratios.loc["fast", "reliable"]
    assert ratios.loc["fast", "ratio"] > ratios.loc["package", "ratio"]  # a bargain, on its face
    ranked = rank_mixes(ce)
    assert list(ranked["scenario"]) == ["package", "free", "dear", "fast"]
    assert list(ranked["rank"]) == [1, 2, 3, 4] and not ranked["ci_overlaps_next"].iloc[2]
    report = cost_report({"fast": fast, "dear": dear, "free": free, "package": package}, base, effects=False)
    assert list(rank_costs(report, "value_added", "gross")["scenario"]) == ["package", "free", "dear", "fast"]


def test_zero_cost_lever_is_labelled_not_nan():
    base = frames("base", {"a": {"value_added": 100, "employment": 10}}, {("a", "electricity_price"): 5})
    captive = frames("captive", {"a": {"value_added": 150, "employment": 12}}, {("a", "electricity_price"): 5})
    ce = cost_effectiveness({"captive": captive}, base)
    assert (ce["status"] == "costs nothing").all()
    assert not ce[["ratio", "ci_low", "ci_high"]].isna().any().any()
    assert ce.set_index("metric").loc["value_added", "ratio"] == np.inf
    report = cost_report({"captive": captive}, base, effects=False)
    numeric = report.ratios.select_dtypes("number")
    assert not numeric.isna().any().any()
    assert set(report.ratios.loc[report.ratios["basis"] == "gross", "status"]) == {"costs nothing"}
    # net of the VAT and income tax on the extra value added it raises revenue
    assert set(report.ratios.loc[report.ratios["basis"] == "net", "status"]) == {"raises revenue"}
    row = ratio_row(np.zeros(4), np.zeros(4))
    assert row["ratio"] == 0.0 and row["status"] == "costs nothing"


def test_fieller_interval_is_unbounded_when_the_cost_interval_includes_zero():
    rng = np.random.default_rng(3)
    dc = rng.normal(0.5, 5.0, 10)  # cost not distinguishable from zero
    dy = 3.0 * dc + rng.normal(0, 1, 10)
    r = ratio_row(dy, dc, method="fieller")
    if r["status"] == "costs money":
        assert not r["reliable"] and r["ci_low"] == -np.inf and r["ci_high"] == np.inf
    # a well-measured cost: bounded interval that holds the point estimate, close to the delta method
    dc = rng.normal(100, 5, 12)
    dy = 2.0 * dc + rng.normal(0, 5, 12)
    f, d = ratio_row(dy, dc, method="fieller"), ratio_row(dy, dc, method="delta")
    assert f["reliable"] and f["ci_low"] < f["ratio"] < f["ci_high"]
    assert np.isclose(f["ci_low"], d["ci_low"], rtol=0.01) and np.isclose(f["ci_high"], d["ci_high"], rtol=0.01)
    # textbook case: equal variances, no covariance -> roots of the quadratic
    lo, hi = fieller(2.0, 1.0, np.diag([0.01, 0.01]), 2.0)
    assert np.isclose((2 - lo) ** 2, 4 * (0.01 + lo**2 * 0.01)) and np.isclose((2 - hi) ** 2, 4 * (0.01 + hi**2 * 0.01))


# ----------------------------------------------------------------------------- deadweight
def test_deadweight_is_zero_for_a_lever_on_new_capacity_the_baseline_lacks():
    base = frames("base", {"old": {"output": 100, "capacity": 100}, "new": {"output": 0, "capacity": 0}}, {})
    pol = frames("pol", {"old": {"output": 100, "capacity": 100}, "new": {"output": 50, "capacity": 60}},
                 {("new", "interest_subsidy"): 7, ("new", "electricity_price"): 3})
    dw = deadweight({"pol": pol}, base).set_index("lever")
    assert dw.loc["interest_subsidy", "deadweight_share"] == 0.0
    assert dw.loc["electricity_price", "deadweight_share"] == 0.0
    assert dw.loc["tax", "status"] == "no cost"
    st = deadweight({"pol": pol}, base, by_stage=True).set_index(["lever", "stage"])
    # 3 years x 7 million yuan for 60 additional units of capacity a year
    assert np.isclose(st.loc[("interest_subsidy", "new"), "cost_per_additional_unit"], 21e6 / 180)


def test_deadweight_is_one_for_a_transfer_on_unchanged_output():
    base = frames("base", {"a": {"output": lambda k, y: 100 + k, "exports": 80}}, {})
    pol = frames("pol", {"a": {"output": lambda k, y: 100 + k, "exports": 80}},
                 {("a", "electricity_price"): 4, ("a", "freight_subsidy"): 2})
    dw = deadweight({"pol": pol}, base).set_index("lever")
    assert dw.loc["electricity_price", "deadweight_share"] == 1.0
    assert dw.loc["freight_subsidy", "deadweight_share"] == 1.0
    # half the output is new: half the cost is deadweight
    half = frames("half", {"a": {"output": lambda k, y: 2 * (100 + k), "exports": 80}}, {("a", "tax"): 4})
    assert np.isclose(deadweight({"h": half}, base).set_index("lever").loc["tax", "deadweight_share"], 0.5)


# ----------------------------------------------------------------------------- direct and indirect
def test_direct_plus_indirect_is_total():
    base = frames("base", {"a": {"value_added": 10}, "b": {"value_added": 20}, "c": {"value_added": 5}}, {})
    pol = frames("pol", {"a": {"value_added": lambda k, y: 14 + k}, "b": {"value_added": 23},
                         "c": {"value_added": 5.5}}, {("a", "freight_subsidy"): 1, ("b", "tax"): 1})
    e = direct_indirect({"pol": pol}, base, ["value_added"]).set_index("lever")
    assert e.loc["all", "targeted"] == "a, b"
    assert np.isclose(e.loc["all", "indirect"], 0.5 * 3)
    assert np.isclose(e.loc["freight_subsidy", "direct"], 3 * 5.5)  # 3 years x mean(4 + k) over k = 0..3
    for _, row in e.iterrows():
        assert row["direct"] + row["indirect"] == row["total"]


def test_io_indirect_pairs_the_replications_both_sides_have():
    """A scenario with 2 replications against a 6-replication baseline: the Leontief prediction uses
    the 2 paired replications only. Metal (targeted) gains 30 t a year over 3 years in each pair, so
    df = 90 t; metal uses 2 t of ore a t, so x_ore = 180 t at 3,000 - 600 - 100 x 0.40 = 2,360 yuan
    of value added a t: 0.4248 million yuan (the old code set the 2 scenario replications against
    all 6 of the baseline's, whose outputs run higher)."""
    chain = load_chain(DATA / "tiny_chain.yaml")
    base = frames("base", {"ore": {"output": 500}, "metal": {"output": lambda k, y: 100 + 50 * k}}, {}, reps=6)
    pol = frames("pol", {"ore": {"output": 500}, "metal": {"output": lambda k, y: 130 + 50 * k}},
                 {("metal", "freight_subsidy"): 1}, reps=2)
    row = direct_indirect({"pol": pol}, base, ["value_added"], chain=chain).iloc[0]
    assert row["targeted"] == "metal" and row["n"] == 2
    assert np.isclose(row["io_indirect"], 180 * 2360 * 1e-6, rtol=1e-12)
    paired = Run(base.stages[base.stages.replication < 2], base.fiscal[base.fiscal.replication < 2],
                 base.runs[base.runs.replication < 2], {}, "base")
    same = direct_indirect({"pol": pol}, paired, ["value_added"], chain=chain).iloc[0]
    assert row["io_indirect"] == same["io_indirect"]


def test_direct_indirect_on_real_runs(tiny):
    e = direct_indirect({"power": tiny["power"]}, tiny["base"], ["value_added", "employment"],
                        chain=load_chain(DATA / "tiny_chain.yaml"))
    total = compare(tiny["power"], tiny["base"]).loc[0, "effect"]
    va = e[e["metric"] == "value_added"].iloc[0]
    assert np.isclose(va["direct"] + va["indirect"], va["total"], rtol=1e-12) and np.isclose(va["total"], total)
    assert np.isfinite(va["io_indirect"])


def test_a_lever_booked_at_zero_targets_the_stages_its_rules_name(tiny):
    """Fast-track approval costs nothing, so no booked cost marks its stages: the stages its rules
    name do (direct = parts, the rest indirect); a rule the baseline has too names nothing, nor
    does one for every stage of a zone where the lever's cost marks the stages (a zone's tax
    holiday: the stages its cost reaches are direct); for a lever booked at zero it names them all."""
    from valuechain.analysis.compare import as_run
    from valuechain.analysis.impacts import _lever_costs, rule_stages, targeted_stages

    fast, base = as_run(tiny["fast"]), as_run(tiny["base"])
    assert rule_stages(fast, base) == {"fast_track": {"parts"}}
    assert targeted_stages(fast, base) == ["parts"] and targeted_stages(fast, fast) == []
    holiday = as_run(tiny["zone_holiday"])
    assert rule_stages(holiday, base, costed={"tax"}) == {}
    costs = _lever_costs(holiday, base)["tax"].abs()
    assert targeted_stages(holiday, base) == list(dict.fromkeys(costs[costs > 1e-12].index.get_level_values("stage")))
    assert targeted_stages(as_run(tiny["fast_zone"]), base) == ["ore", "metal", "parts"]  # booked at zero: all
    e = direct_indirect({"fast": fast}, base, ["value_added"]).set_index("lever")
    assert list(e.index) == ["all"] and e.loc["all", "targeted"] == "parts"
    d = compare(fast, base, by="stage").set_index("stage")["effect"]
    assert np.isclose(e.loc["all", "direct"], d["parts"], rtol=1e-12)
    assert np.isclose(e.loc["all", "indirect"], d.drop("parts").sum(), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- power and multipliers
def test_shadow_cost_of_power_rescales_the_fiscal_cost(tiny):
    from valuechain.analysis.compare import as_run

    p, b = as_run(tiny["power"]), as_run(tiny["base"])
    fiscal = yearly_costs(p, b)["gross_electricity_price"]
    at_ref = shadow_costs(p, b, 0.40).reindex(fiscal.index)
    assert np.allclose(at_ref, fiscal, rtol=1e-9)  # (0.40 - 0.30) x the scenario's kWh, less 0 in the baseline
    # at w = the scenario's 0.30 only the baseline's term is left, over the same cells: -(0.30 - 0.40) x its kWh
    base_kwh = b.stages.groupby(["replication", "year"])["electricity_kwh"].sum() * schema.MONEY_SCALE
    at_price = shadow_costs(p, b, 0.30).reindex(fiscal.index)
    assert np.allclose(at_price, 0.10 * base_kwh.reindex(fiscal.index), rtol=1e-9) and (at_price > 0).all()
    half = shadow_costs(p, b, 0.35).reindex(fiscal.index)  # linear in w
    assert np.allclose(half, 0.5 * (at_ref + at_price), rtol=1e-9)
    # below both prices the cut still gives up the rent on the power the baseline sold at 0.40: a cost
    assert (shadow_costs(p, b, 0.25) > 0).all()
    cap = as_run(tiny["captive"])
    assert yearly_costs(cap, b)["gross"].abs().max() == 0  # captive power costs the budget nothing
    assert shadow_costs(cap, b, 0.40).abs().max() == 0  # ... unless asked
    assert (shadow_costs(cap, b, 0.40, captive=True) > 0).all()
    # captive power stays out where the other run of the pair books its power: at the reference, the booked cost
    booked = yearly_costs(cap, p)["gross_electricity_price"]
    assert np.allclose(shadow_costs(cap, p, 0.40).reindex(booked.index), booked, rtol=1e-9) and (booked < 0).all()


def test_multiplier_table_on_the_tiny_chain():
    chain = load_chain(DATA / "tiny_chain.yaml")
    t = multiplier_table(chain).set_index("stage")
    assert t.loc["ore", "output_multiplier"] == 1.0  # nothing upstream of ore
    # metal: 2 t ore (3,000 yuan each) per t of metal (16,000 yuan) -> 0.375 yuan per yuan
    assert np.isclose(t.loc["metal", "output_multiplier"], 1.375)
    va_ore = (3000 - 600 - 100 * 0.40) / 3000
    assert np.isclose(t.loc["ore", "va_per_yuan_total"], va_ore)
    assert np.isclose(t.loc["metal", "va_per_yuan_total"], t.loc["metal", "va_per_yuan_direct"] + 0.375 * va_ore)
    assert np.isclose(t.loc["ore", "va_multiplier_type1"], 1.0)  # total / direct, nothing upstream
    # a stage whose inputs cost more than its price has no type-I ratio (not +inf)
    dear = load_chain(DATA / "tiny_chain.yaml")
    dear.other_inputs[dear.order.index("ore")] = 3500.0
    u = multiplier_table(dear).set_index("stage")
    assert u.loc["ore", "va_per_yuan_direct"] < 0 and np.isnan(u.loc["ore", "va_multiplier_type1"])


# ----------------------------------------------------------------------------- command line
def test_cost_command_prints_units_and_writes_csv(tiny, tmp_path, capsys):
    out = tmp_path / "cost.csv"
    folder = tmp_path / "mixes"
    folder.mkdir()
    for name in ("power", "dear_power", "captive"):
        (folder / name).symlink_to(tiny[name], target_is_directory=True)
    assert main(["cost", str(folder), str(tiny["base"]), "--csv", str(out), "--power-opportunity", "0.25",
                 "--captive", "--multipliers", "--by-year"]) == 0
    text = capsys.readouterr().out
    assert "million yuan" in text and "Fieller 95%" in text and "present value at 8.0%" in text
    assert "raises revenue" in text and "Leontief multipliers" in text
    table = pd.read_csv(out)
    assert {"scenario", "basis", "metric", "ratio", "status", "gross", "net"} <= set(table.columns)
    ranked = table[(table.metric == "value_added") & (table.basis == "gross")].set_index("scenario")
    assert ranked.loc["dear_power", "status"] == "raises revenue" and ranked.loc["power", "status"] == "costs money"
    assert main(["cost", str(tiny["power"]), str(tiny["base"]), "--rate", "20"]) == 2
    assert "rate" in capsys.readouterr().err


def test_the_csv_writes_a_row_that_costs_nothing_with_its_status_and_no_ratio(tiny, tmp_path, capsys):
    """A scenario identical to the baseline costs nothing: the printed table says "costs nothing" in
    place of a ratio, and so does the CSV (empty ratio, se and interval, not inf, -inf and inf); a
    cost per job-year of a scenario that raises revenue likewise. Every other row is the report's."""
    import shutil

    folder = tmp_path / "mixes"
    folder.mkdir()
    shutil.copytree(tiny["base"], folder / "same")  # the baseline's runs under another name: zero cost
    for name in ("power", "dear_power"):
        shutil.copytree(tiny[name], folder / name)
    out = tmp_path / "cost.csv"
    assert main(["cost", str(folder), str(tiny["base"]), "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    ratios = printed.split("\nPer 10,000 yuan of cost in present value")[1].split("\n\n")[0].splitlines()
    same = [line.split() for line in ratios if line.split()[:1] == ["same"]]
    assert same == [["same", basis] + ["costs", "nothing"] * 4 for basis in ("gross", "net")]
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    shown_by_status = [r for r in rows if r["scenario"] == "same" or
                       (r["metric"] == "cost_per_job_year" and r["status"] != "costs money")]
    assert {r["status"] for r in rows if r["scenario"] == "same"} == {"costs nothing"}
    assert len([r for r in rows if r["scenario"] == "same"]) == 8  # 4 metrics x gross, net
    assert {(r["scenario"], r["status"]) for r in shown_by_status if r["scenario"] != "same"} == {
        ("dear_power", "raises revenue")}
    for r in shown_by_status:
        assert (r["ratio"], r["se"], r["ci_low"], r["ci_high"]) == ("", "", "", ""), r
    report = cost_report({name: folder / name for name in ("dear_power", "power", "same")}, tiny["base"])  # as read
    assert len(report.ratios) == len(rows)
    for r, (_, want) in zip(rows, report.ratios.iterrows()):
        assert (r["scenario"], r["basis"], r["metric"], r["status"]) == (want.scenario, want.basis, want.metric,
                                                                        want.status)
        if r not in shown_by_status:
            assert [float(r[c]) for c in ("ratio", "se", "ci_low", "ci_high")] == pytest.approx(
                [want.ratio, want.se, want.ci_low, want.ci_high], rel=1e-12)


def test_mcpf_scales_net_cost_and_rate_zero_matches_cost_effectiveness(tiny):
    one = cost_report({"power": tiny["power"]}, tiny["base"], rate=0.0, effects=False)
    dear = cost_report({"power": tiny["power"]}, tiny["base"], rate=0.0, mcpf=1.3, effects=False)
    assert np.isclose(dear.costs.loc[0, "economic"], 1.3 * one.costs.loc[0, "net"], rtol=1e-12)
    assert np.isclose(one.costs.loc[0, "economic"], one.costs.loc[0, "net"], rtol=0)
    # gross ratios on undiscounted sums are the gross-only table's ratios
    ce = cost_effectiveness({"power": tiny["power"]}, tiny["base"]).set_index("metric")
    gross = one.ratios[one.ratios["basis"] == "gross"].set_index("metric")
    for metric in ("value_added", "employment", "downstream_investment"):
        assert np.isclose(gross.loc[metric, "ratio"], ce.loc[metric, "ratio"], rtol=1e-10)
        assert np.isclose(gross.loc[metric, "ci_low"], ce.loc[metric, "ci_low"], rtol=1e-10)
    by_year = one.by_year.set_index("year")
    assert np.isclose(by_year["net"].sum(), one.costs.loc[0, "net"], rtol=1e-12)


# ----------------------------------------------------------------------------- tester's cost-per-job-year cases
def job_year_mixes() -> tuple[dict, Run]:
    """``fast``: booked at a mean 0.1 a year (sd 1, not established) for 50 more jobs a year, a cost per
    job-year far below the ``package``'s, which reliably pays 100 a year for 10 jobs."""
    base = frames("base", {"a": {"value_added": 1000, "employment": 100}}, {})
    package = frames("package", {"a": {"value_added": lambda k, y: 1100 + k, "employment": lambda k, y: 110 + 0.2 * k}},
                     {("a", "freight_subsidy"): lambda k, y: 100.0 + k})
    fast = frames("fast", {"a": {"value_added": lambda k, y: 1050 + k, "employment": lambda k, y: 150 + 0.1 * k}},
                  {("a", "capital_grants"): lambda k, y: 0.1 + (-1) ** k})
    return {"fast": fast, "package": package}, base


def test_a_cost_per_job_year_whose_cost_may_be_zero_ranks_after_an_established_one():
    """The cost per job-year follows the rule of every other metric: a row whose cost's interval
    includes zero is unreliable (its bounded Fieller interval, from the well-measured jobs, includes
    negative costs) and ranks after the package that reliably costs money, however low its ratio
    (before: reliable from the jobs alone, and first)."""
    mixes, base = job_year_mixes()
    report = cost_report(mixes, base, effects=False)
    r = report.ratios.set_index(["scenario", "basis", "metric"])
    fast = r.loc[("fast", "gross", "cost_per_job_year")]
    assert fast["status"] == "costs money" and fast["ci_low"] < 0 and np.isfinite(fast["ci_high"])
    assert not fast["reliable"] and not r.loc[("fast", "gross", "value_added"), "reliable"]
    assert r.loc[("package", "gross", "cost_per_job_year"), "reliable"]
    assert fast["ratio"] < r.loc[("package", "gross", "cost_per_job_year"), "ratio"]  # a bargain, on its face
    for basis in ("gross", "net"):
        assert list(rank_costs(report, "cost_per_job_year", basis)["scenario"]) == ["package", "fast"]
    text = format_cost_report(report, "cost_per_job_year", "gross")
    ranking = text.split("\nRanking by ")[1].split("\n\n")[0].splitlines()
    assert ranking[0].startswith("yuan of gross cost per additional discounted job-year (lowest first) (levers "
                                 "that cost money first;")
    assert [line.split()[:2] for line in ranking[2:]] == [["1", "package"], ["2", "fast"]]
    assert ranking[3].rstrip().endswith("(unreliable)")


def test_the_csv_writes_unbounded_intervals_empty_in_the_printed_units(tmp_path):
    """An unbounded interval is written empty, its row unreliable, as the table prints
    '[unbounded] (unreliable)' (before: -inf and inf); the employment ratio's unit is the printed
    'discounted job-years' (before: 'worker-years')."""
    from valuechain.analysis.cost import csv_table

    mixes, base = job_year_mixes()
    report = cost_report(mixes, base, effects=False)
    out = tmp_path / "cost.csv"
    csv_table(report).to_csv(out, index=False)
    with out.open(newline="") as fh:
        rows = {(r["scenario"], r["basis"], r["metric"]): r for r in csv.DictReader(fh)}
    va = rows[("fast", "gross", "value_added")]
    assert (va["status"], va["reliable"], va["ci_low"], va["ci_high"]) == ("costs money", "False", "", "")
    want = report.ratios.set_index(["scenario", "basis", "metric"]).loc[("fast", "gross", "value_added")]
    assert float(va["ratio"]) == pytest.approx(want["ratio"], rel=1e-12)
    assert want["ci_low"] == -np.inf and want["ci_high"] == np.inf
    printed = format_cost_report(report)
    assert f"{want['ratio']:,.0f} [unbounded] (unreliable)" in printed
    bounded = rows[("package", "gross", "employment")]
    assert bounded["reliable"] == "True" and float(bounded["ci_low"]) < float(bounded["ratio"]) < float(
        bounded["ci_high"])
    assert rows[("package", "gross", "employment")]["unit"] == "discounted job-years per 10,000 yuan"
    assert "discounted job-years" in printed and "worker-years" not in printed


def test_with_mcpf_or_power_at_a_shadow_price_the_net_basis_is_labelled_economic(tiny, tmp_path, capsys):
    """--basis net ranks by the economic cost (MCPF x net, power at its shadow price): table, ranking
    and CSV call it 'economic' and show the economic PV (before: 'net cost PV' over the economic
    cost); with MCPF 1 and no shadow price it is the net cost and called 'net'."""
    from valuechain.analysis.cost import _num

    out = tmp_path / "cost.csv"
    assert main(["cost", str(tiny["power"]), str(tiny["base"]), "--csv", str(out), "--power-opportunity",
                 "0.25"]) == 0
    text = capsys.readouterr().out
    report = cost_report({"power": tiny["power"]}, tiny["base"], power_opportunity=0.25, effects=False)
    net_pv, economic_pv = report.costs.loc[0, "net_pv"], report.costs.loc[0, "economic_pv"]
    assert abs(net_pv - economic_pv) > 1e-3 * abs(net_pv)  # the shadow price makes them differ
    ranking = text.split("\nRanking by ")[1].split("\n\n")[0].splitlines()
    assert ranking[0].startswith("value added (yuan) per 10,000 yuan of economic cost (")
    assert ranking[1].split()[:4] == ["rank", "scenario", "status", "economic"]
    assert f" {_num(economic_pv)} " in ranking[2] and f" {_num(net_pv)} " not in ranking[2]
    ratios = text.split("\nPer 10,000 yuan of cost in present value")[1].split("\n\n")[0].splitlines()
    assert [line.split()[1] for line in ratios[2:]] == ["gross", "economic"]
    table = pd.read_csv(out)
    net = table[table["basis"] == "net"]
    assert set(net["cost_measure"]) == {"economic"} and np.allclose(net["cost"], economic_pv, rtol=1e-12)
    assert set(table.loc[table["basis"] == "gross", "cost_measure"]) == {"gross"}
    plain = cost_report({"power": tiny["power"]}, tiny["base"], effects=False)
    assert set(plain.ratios.loc[plain.ratios["basis"] == "net", "cost_measure"]) == {"net"}
    assert "of net cost (" in format_cost_report(plain)


def test_booked_at_zero_is_said_only_of_a_lever_the_scenarios_use(tiny):
    """'Booked at 0 by definition: fast-track approval' is printed when a compared scenario has a
    fast-track rule, not for a package without one (before: always)."""
    import dataclasses

    mixes, base = job_year_mixes()
    line = "Booked at 0 by definition: fast-track approval (costs administrative effort, not subsidy)"
    assert line not in format_cost_report(cost_report(mixes, base, effects=False))
    assert "Booked at 0" not in format_cost_report(cost_report({"power": tiny["power"]}, tiny["base"]))  # as run
    rule = {"tiers": ["deep"], "years_saved": {"2016": 1.0}}
    fast = dataclasses.replace(mixes["fast"], manifest={"scenario": {"policy": {"fast_track": {"rules": [rule]}}}})
    text = format_cost_report(cost_report({"fast": fast, "package": mixes["package"]}, base, effects=False))
    assert text.splitlines().count(line) == 1


def test_a_run_with_parameter_draws_against_one_without_is_refused_in_one_line(tiny, tmp_path, capsys):
    """cost and compare of a run with parameter draws against a baseline without say so in one line
    and what to do (before: 'replication 2 did not use the same spawn_key ... (got (np.int64(0),))')."""
    drawn = tmp_path / "drawn"
    assert main(["run", TINY, "--out", str(drawn), "--replications", "2", "--parameter-draws", "2",
                 "--set", "policy.electricity_price.default=0.30"]) == 0
    capsys.readouterr()
    want = (f"{drawn} was run with 2 parameter draws and {tiny['base']} without, so their replications are not "
            f"paired; run {tiny['base']}'s scenario again with the same --parameter-draws 2 --replications 2")
    for command in (["cost", str(drawn), str(tiny["base"])], ["compare", str(drawn), str(tiny["base"])]):
        assert main(command) == 2
        assert capsys.readouterr().err == f"error: {drawn}: manifest.parameter_draws: {want}\n"


def test_compare_says_its_fiscal_cost_is_all_levels_of_governments_as_cost_perspective_government(tiny, tmp_path,
                                                                                                  capsys):
    """compare --metric fiscal_cost is the gross cost of cost --perspective government, not of cost's
    default region perspective (a tax cut costs the region only its share): its header says so."""
    from valuechain.analysis.compare import FISCAL_PERSPECTIVE, compare, format_table

    tax = tmp_path / "tax"
    assert main(["run", TINY, "--out", str(tax), "--replications", "4", "--set", "policy.tax.default_rate=0.15"]) == 0
    capsys.readouterr()
    assert main(["compare", str(tax), str(tiny["base"]), "--metric", "fiscal_cost", "--pv", "0.08"]) == 0
    head = capsys.readouterr().out.splitlines()[:3]
    assert head[2] == FISCAL_PERSPECTIVE == (
        "perspective: fiscal_cost is what the model books for the levers, all levels of government (valuechain "
        "cost --perspective government, its gross cost); valuechain cost defaults to the region's budget "
        "(--perspective region: the income-tax lever at the region's share of the tax)")
    effect = compare(tax, tiny["base"], "fiscal_cost", pv=0.08).loc[0, "effect"]
    government = cost_report({"tax": tax}, tiny["base"], perspective="government", effects=False)
    region = cost_report({"tax": tax}, tiny["base"], effects=False)
    assert np.isclose(effect, government.costs.loc[0, "gross_pv"], rtol=1e-9)
    assert np.isclose(region.costs.loc[0, "gross_pv"], 0.4 * effect, rtol=1e-9)  # the region's 40% CIT share
    assert FISCAL_PERSPECTIVE not in format_table(compare(tax, tiny["base"], "value_added"))


def test_a_scenario_with_no_booked_cost_ranks_after_every_booked_one_on_the_net_basis():
    """A scenario whose gross cost is zero (its lever booked at 0, like fast-track approval) but whose
    net cost is a reliably positive tax lost ranks last on the net basis, however low its cost per
    job-year, and is labelled 'booked at 0': its net cost is not what the lever costs (before: ranked
    first, a bargain by omission). On the gross basis it is 'costs nothing', after the package."""
    base = frames("base", {"a": {"value_added": 1000, "employment": 100, "tax_paid": 50}}, {})
    package = frames("package", {"a": {"value_added": lambda k, y: 1100 + k, "employment": lambda k, y: 110 + 0.2 * k,
                                       "tax_paid": 50}},
                     {("a", "freight_subsidy"): lambda k, y: 100.0 + k})
    fast = frames("fast", {"a": {"value_added": lambda k, y: 1002 + 0.1 * k, "employment": lambda k, y: 150 + 0.1 * k,
                                 "tax_paid": lambda k, y: 40 - 0.1 * k}}, {})
    # a booked cost whose interval includes zero: its sign is not established, yet it is booked
    shaky = frames("shaky", {"a": {"value_added": lambda k, y: 1050 + k, "employment": 105, "tax_paid": 50}},
                   {("a", "freight_subsidy"): lambda k, y: [30.0, -25.0, 20.0, -20.0][k]})
    report = cost_report({"fast": fast, "package": package}, base, effects=False)
    r = report.ratios.set_index(["scenario", "basis", "metric"])
    assert r.loc[("fast", "gross", "cost_per_job_year"), "status"] == "costs nothing"
    with_shaky = cost_report({"fast": fast, "shaky": shaky, "package": package}, base, effects=False)
    for metric in ("cost_per_job_year", "value_added"):  # booked at 0 after the unsure booked cost too
        ranked = rank_costs(with_shaky, metric, "net")
        assert not ranked.set_index("scenario").loc["shaky", "reliable"]
        assert list(ranked["scenario"]) == ["package", "shaky", "fast"]
    net_fast, net_pkg = r.loc[("fast", "net", "cost_per_job_year")], r.loc[("package", "net", "cost_per_job_year")]
    assert net_fast["status"] == "costs money" and net_fast["reliable"]
    assert net_fast["ratio"] < net_pkg["ratio"]  # a bargain on its face
    for metric in ("cost_per_job_year", "value_added"):
        ranked = rank_costs(report, metric, "net")
        assert list(ranked["scenario"]) == ["package", "fast"]
        assert list(ranked["booked_at_zero"]) == [False, True]
    assert "booked_at_zero" not in rank_costs(report, "value_added", "gross")
    text = format_cost_report(report, "cost_per_job_year", "net")
    ranking = text.split("\nRanking by ")[1].split("\n\n")[0].splitlines()
    assert "and those with no booked cost, 'booked at 0')" in ranking[0]
    assert ranking[2].split()[:2] == ["1", "package"] and "(booked at 0)" not in ranking[2]
    assert ranking[3].split()[:2] == ["2", "fast"] and "costs money (booked at 0)" in ranking[3]


def test_the_csv_replaces_only_a_table_valuechain_wrote_and_only_with_overwrite(tiny, tmp_path, capsys):
    """--csv FILE: a file valuechain did not write (README.md) is refused, --overwrite or not, and so is a
    directory; its own table only with --overwrite. All before any work (nothing printed), exit 2, one
    line naming the file and option, the file's bytes unchanged."""
    argv = ["cost", str(tiny["power"]), str(tiny["base"]), "--csv"]
    readme = tmp_path / "README.md"
    readme.write_bytes(b"# mine\n")
    folder = tmp_path / "baseline"
    folder.mkdir()
    for extra, line in [([str(readme)], f"error: {readme}: --csv: exists and valuechain did not write it; "
                         "valuechain replaces only files it wrote; move it or choose another name"),
                        ([str(readme), "--overwrite"], f"error: {readme}: --csv: exists and valuechain did not "
                         "write it; valuechain replaces only files it wrote; move it or choose another name"),
                        ([str(folder)], f"error: {folder}: --csv: is a directory; name the file to write")]:
        assert main([*argv, *extra]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err == line + "\n"
    assert readme.read_bytes() == b"# mine\n" and not any(folder.iterdir())
    table = tmp_path / "cost.csv"
    assert main([*argv, str(table)]) == 0
    first = table.read_bytes()
    assert is_cost_csv(table) and not is_cost_csv(readme)  # how valuechain knows its own table again
    capsys.readouterr()
    assert main([*argv, str(table), "--rate", "0.05"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (f"error: {table}: --csv: exists (written by valuechain); pass --overwrite to "
                                 "replace it\n")
    assert table.read_bytes() == first
    assert main([*argv, str(table), "--rate", "0.05", "--overwrite"]) == 0
    fresh = tmp_path / "fresh.csv"
    assert main([*argv, str(fresh), "--rate", "0.05"]) == 0
    assert table.read_bytes() == fresh.read_bytes() != first  # replaced by the 5% table, whole
    fresh.unlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "baseline", "cost.csv"]  # no temporaries


def test_a_csv_that_fails_while_writing_leaves_the_old_table_and_no_temporary(tiny, tmp_path, capsys, monkeypatch):
    """--csv is written under a temporary name and renamed into place: a failure half-way leaves the
    previous table as it was and no other file."""
    table = tmp_path / "cost.csv"
    argv = ["cost", str(tiny["power"]), str(tiny["base"]), "--csv", str(table)]
    assert main(argv) == 0
    before = table.read_bytes()

    def half_then_fail(self, target, **kwargs):
        Path(target).write_bytes(before[:40])
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    assert main([*argv, "--overwrite", "--rate", "0.05"]) == 1  # an internal failure, one line
    assert "error: internal failure: OSError: disk full" in capsys.readouterr().err
    assert table.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cost.csv"]


def test_compare_with_one_replication_prints_no_interval_and_no_p_value(tiny, tmp_path, capsys):
    """With one replication a side there is no standard error: se, the interval and the p-value are
    printed n/a (the p-value was printed '<1e-4', as if the effect were established)."""
    one, base = tmp_path / "one", tmp_path / "base1"
    assert main(["run", TINY, "--out", str(one), "--replications", "1", "--set",
                 "policy.electricity_price.default=0.30"]) == 0
    assert main(["run", TINY, "--out", str(base), "--replications", "1"]) == 0
    capsys.readouterr()
    assert main(["compare", str(one), str(base)]) == 0
    header, row = [line.split() for line in capsys.readouterr().out.splitlines()[-2:]]
    values = dict(zip(header, row))
    assert values["n"] == "1" and values["effect"] != "n/a"
    assert [values[k] for k in ("se", "ci_low", "ci_high", "p_value")] == ["n/a"] * 4


@pytest.mark.parametrize("argv", [["cost", "--rate", "8"], ["compare", "--pv", "8"], ["cost", "--rate", "1"]])
def test_a_discount_rate_given_in_percent_is_refused(tiny, capsys, argv):
    """8 for 8% would discount at 800% a year: refused before any results are read, exit 2."""
    command, option, value = argv
    assert main([command, str(tiny["power"]), str(tiny["base"]), option, value]) == 2
    out, err = capsys.readouterr()
    example = "0.08 for 8%" if option == "--rate" else "0.05 for 5%"
    assert out == "" and err == (f"error: {option}: discount rate must be a fraction a year between -1 and 1 "
                                 f"({example}) (got {float(value)})\n")


def test_the_budget_rules_are_described_in_words():
    assert FiscalRules.for_perspective("region").describe() == (
        "region budget: VAT rate 0.17 from 1994, 0.1633 from 2018, 0.1375 from 2019, 0.13 from 2020; "
        "VAT share 0.25 from 1994, 0.4167 from 2016, 0.5 from 2017; CIT share 0.4")
    assert FiscalRules.for_perspective("government").describe().endswith("; VAT share 1; CIT share 1")
