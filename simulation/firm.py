"""One firm-year, composed from the rules: the same function serves arrays and scalars.

``plan`` decides production; ``settle`` books the year's accounts, tax, investment and
financing and returns the firm's new state. Inputs are stage values already looked up for the
firm (and this year's lever values for its stage and zone), so the function is pure.
"""

from __future__ import annotations

import numpy as np

from . import rules

LOAN_TERM_YEARS = 10  # fixed-asset loans amortise linearly over this many years (assumption)


def plan(netback, material_cost, other, kwh, power_price, workers, wage, productivity, capacity):
    """Unit variable cost and the capacity the firm puts to work this year."""
    uvc = rules.unit_variable_cost(material_cost, other, kwh, power_price, workers, wage, productivity)
    return uvc, np.where(rules.produces(netback, uvc), capacity, 0.0)


def settle(f: dict, s: dict) -> dict:
    """Book one year for a firm (or many at once).

    ``f`` holds stage and policy values for the firm; ``s`` its state and this year's output.
    Returns flows (for the records) and the new state.
    """
    acc = rules.firm_accounts(
        s["output"], f["local_share"], f["export_price"], f["local_price"], f["subsidy"],
        f["material_local"], f["material_imported"], f["other"], f["kwh"], f["power_price"],
        f["workers"], f["wage"], s["productivity"], f["depreciation"] * s["capacity"] * f["capital_cost"],
        s["debt"], f["interest_rate"], f["working_capital_share"], s["sub_debt_base"], f["fixed_points"],
        np.where(f["year"] - np.maximum(s["first_revenue_year"], f["wc_from"]) < f["wc_years"], f["wc_points"], 0.0),
    )
    year = f["year"]
    first_rev = np.where((s["output"] > 0) & (s["first_revenue_year"] > year), year, s["first_revenue_year"])
    has_holiday = first_rev >= f["holiday_from"]
    tax_year = year - first_rev + 1
    rate = rules.holiday_tax_rate(tax_year, np.where(has_holiday, f["exempt"], 0.0),
                                  np.where(has_holiday, f["half"], 0.0), f["half_rate"], f["base_rate"])
    tax, tax_expenditure = rules.income_tax(acc["profit"], rate, f["statutory_rate"])
    depreciation = f["depreciation"] * s["capacity"] * f["capital_cost"]
    principal = s["debt"] / LOAN_TERM_YEARS
    cash = s["cash"] + acc["profit"] - tax + depreciation - principal
    debt = s["debt"] - principal
    capacity = s["capacity"] * (1.0 - f["depreciation"])

    # investment: value of one more unit of capacity under expected prices and this firm's schedule
    uvc = rules.unit_variable_cost(f["material_cost"], f["other"], f["kwh"], f["power_price"], f["workers"],
                                   f["wage"], s["productivity"])
    margin = f["expected_netback"] - uvc
    q = rules.profitability_index(
        margin, f["utilisation"], f["capital_cost"], f["depreciation"], f["discount_rate"], f["build_lag"],
        f["horizon"], np.where(first_rev > year, -f["build_lag"], tax_year),
        np.where(has_holiday, f["exempt"], 0.0), np.where(has_holiday, f["half"], 0.0),
        f["half_rate"], f["base_rate"], f["debt_share"], f["fixed_points"], f["fixed_years"])
    rate_inv = rules.investment_rate(q, f["depreciation"], f["elasticity"], f["max_rate"])
    capital = (s["capacity"] + s["pending_total"]) * f["capital_cost"]
    desired = rate_inv * s["capacity"] * f["capital_cost"]
    invest, loans = rules.finance_investment(desired, cash, debt, capital, f["debt_share"], f["max_debt_to_capital"])
    cash = cash - (invest - loans)
    debt = debt + loans
    equity = cash + capital + invest - debt
    made_loss = acc["profit"] < 0
    loss_years = np.where(first_rev <= year, np.where(made_loss, s["loss_years"] + 1, 0), s["loss_years"])
    exit_now = f["exit_enabled"] & rules.exits(loss_years, equity, f["loss_limit"])
    power_gap = np.where(f["power_counts"], f["reference_power_price"] - f["power_price"], 0.0)
    return {
        **acc,
        "tax_paid": tax,
        "fiscal_tax": tax_expenditure,
        "fiscal_power": power_gap * acc["kwh"],
        "primary_cost": acc["intermediate_inputs"] - acc["imported_inputs"]
        - s["output"] * f["material_local"] + acc["labour_cost"],
        "local_inputs": s["output"] * f["material_local"],
        "investment": invest,
        "new_units": invest / f["capital_cost"],
        "new_loans": loans,
        "cash": cash,
        "debt": debt,
        "capacity": capacity,
        "first_revenue_year": first_rev,
        "loss_years": loss_years,
        "exit": exit_now,
    }
