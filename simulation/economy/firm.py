"""One firm-year, written once for arrays (all firms) and scalars (one Mesa agent).

Everything that is the same for all firms of a (stage, zone) *cell* — prices, lever values,
technology — is folded each year into per-cell coefficients by
``coefficients.cell_coefficients`` (a frozen ``CellCoefficients``, arrays of length
``n_stages * 3``). A firm differs only by its state: capacity, the inverse of its productivity,
debt, cash, subsidised loans, first revenue year and loss record.
Productivity saves power and labour; materials (chain inputs and other inputs) are used at
fixed coefficients. With ``X`` = output and ``Y`` = output / productivity, every flow is linear
in (X, Y):

    sales = s_x X,  materials = m_x X,  power = i_y Y,  labour = l_y Y,
    profit = (s_x + subsidy_x - m_x) X - (i_y + l_y) Y - depreciation - interest

so the stage accounts need only the sums of X and Y by cell; tax, interest, investment and
exit are non-linear and are summed firm by firm.
"""

from __future__ import annotations

import numpy as np

from . import rules
from .coefficients import CellCoefficients

LOAN_TERM_YEARS = rules.LOAN_TERM_YEARS
scratch = rules.scratch  # ``out=`` over a temporary the caller owns (an array), else None
AMORTISATION = 1.0 - 1.0 / LOAN_TERM_YEARS
NO_REVENUE_YET = 1_000_000  # first_revenue_year of a firm that has not sold anything yet
def firm_year(k: CellCoefficients, g, cell, state: dict, year: int, zero=0.0) -> dict:
    """Book one year for firms with the given state (arrays for many firms, scalars for one).

    ``k`` holds per-cell coefficients (``coefficients.cell_coefficients``) and ``g.name`` is
    coefficient ``name`` for the firm(s) (``coefficients.Spread``): ``k.name[cell]`` for one firm,
    or the per-cell array spread over all firms. ``cell`` is only needed to look up the tax tables when the scenario
    has tax holidays. ``state``: capacity, inv_productivity, debt, cash, sub_debt_base,
    first_revenue_year, loss_years, pending_total and, optionally, working_capacity (capacity of
    the firms whose price covers unit variable cost, as computed when planning). ``zero``: 0, or
    zeros shaped like the state (numpy takes the maximum with an array twice as fast as with the
    number 0). Returns flows and the new state.

    Interest at rate r on fixed-asset debt and on working capital (a share of variable costs)
    is folded into the coefficients: ``profit = profit_x X - cost_y Y - dep cap - r debt``.
    Each operation here is a pass over all firms, and this function is most of a year's time.
    """
    cap, inv_phi, debt0 = state["capacity"], state["inv_productivity"], state["debt"]
    working = state.get("working_capacity")  # capacity put to work, if the caller already has it
    if working is None:
        working = cap * (inv_phi <= g.threshold)  # production pays (``production_threshold``)
    X = working * g.stage_ratio  # output: producing firms at the stage's rate
    Y = X * inv_phi
    # the output of the firms whose sales at factory-gate prices reach the statistics' scale threshold
    if isinstance(X, np.ndarray):  # the test written as 1.0 / 0.0: a product with booleans is twice as slow
        X_above_scale = np.greater_equal(X, g.above_scale_units, out=np.empty_like(X), casting="unsafe")
        X_above_scale *= X
    else:
        X_above_scale = X * (X >= g.above_scale_units)
    produced = X > 0
    first_rev = state["first_revenue_year"]
    started_before = first_rev <= year
    started = started_before | produced
    first_sales = np.greater(produced, started_before)  # producing, and not started before
    if isinstance(first_sales, np.ndarray):  # few firms sell for the first time in a year: rewrite only them
        at = np.flatnonzero(first_sales)
        if at.size:
            first_rev = first_rev.copy()
            first_rev[at] = year
    elif first_sales:
        first_rev = np.where(first_sales, year, first_rev)
    depreciation_yuan = g.dep_per_unit * cap
    # ``x -= ...`` below writes over temporaries made here, never over the state or coefficients
    cash_flow = g.profit_x * X  # before tax and repayment
    cash_flow -= g.cost_y * Y
    cash_flow -= k.interest_rate * debt0
    if k.has_interest_subsidy:
        wc_eligible = (year - np.maximum(first_rev, g.wc_from)) < g.wc_years
        interest_subsidy = (g.fixed_rate * state["sub_debt_base"]
                            + (g.wc_rate_x * X + g.wc_rate_y * Y) * as_float(wc_eligible))
        cash_flow += interest_subsidy
    else:
        interest_subsidy = 0.0
    if k.has_labour_subsidy:  # issue 12: social insurance for N years, training in the first revenue year
        # social insurance for the workers a firm recruits: a firm first selling in the rule's first
        # year or later (all its workers recruited then), for its first N years; not the workforce
        # of a firm already there
        recruited = (first_rev >= g.emp_from) & ((year - first_rev) < g.emp_years)
        labour_subsidy = (g.emp_y * Y * as_float(recruited)
                          + g.train_y * Y * as_float(first_rev == year))
        cash_flow += labour_subsidy
    else:
        labour_subsidy = 0.0
    profit = cash_flow - depreciation_yuan

    # corporate income tax by the firm's schedule (holidays count from the first revenue year)
    taxable = np.maximum(profit, zero)
    if k.has_holidays:
        slots = k.slots
        holiday = first_rev >= g.holiday_from
        tax_year = np.clip(year - first_rev + 1, 0, slots - 1)
        idx = (cell * 2 + holiday) * slots + tax_year
        rate = np.take(k.tax_rate, idx)
        if k.plan_holiday_from is not None:  # investors do not yet know every holiday in force
            idx = (cell * 2 + (first_rev >= g.plan_holiday_from)) * slots + tax_year
        tax_weight_k = np.take(k.tax_weight_k, idx)
    elif k.has_interest_subsidy:
        rate, tax_weight_k = g.base_rate * as_float(started), None
    else:
        # a firm that has not started has no output, so its profit (- depreciation - interest)
        # is not positive and the rate applied to it does not matter
        rate, tax_weight_k = g.base_rate, None
    tax = rate * taxable
    debt = debt0 * AMORTISATION
    cash = cash_flow - tax
    cash -= debt0 - debt  # repayment
    cash += state["cash"]

    # investment: q of one more unit of capacity, limited by cash and borrowing
    capital_cost = g.capital_cost
    desired = desired_investment(k, g, inv_phi, cap, tax_weight_k, zero)
    capital = cap + state["pending_total"]
    capital *= capital_cost
    invest, loans = rules.finance_investment(desired, cash, debt, capital, k.debt_share,
                                             k.max_debt_to_capital, zero)
    # consecutive years in which the firm, once producing, lost cash (firms still building count none)
    loss_years = (state["loss_years"] + 1) * ((cash_flow < 0) & started)
    # equity: investing turns cash and new loans into capital, which leaves it unchanged
    leaving = rules.exits(loss_years, cash + capital - debt, k.loss_limit) if k.exit_enabled else False
    cash -= invest - loans
    debt += loans
    return {
        "X": X, "Y": Y, "X_above_scale": X_above_scale, "debt_start": debt0, "profit": profit, "tax_paid": tax,
        "taxable": taxable,
        "interest_subsidy": interest_subsidy, "investment": invest, "labour_subsidy": labour_subsidy,
        # issue 12: a yuan the investor pays buys 1 / capex_paid_factor yuan of capacity
        "new_units": invest * (g.units_per_yuan_paid if k.has_capex_factor else g.units_per_yuan),
        "new_loans": loans, "cash": cash, "debt": debt, "capacity": cap * g.survival,
        "first_revenue_year": first_rev, "loss_years": loss_years, "exit": leaving,
    }


def desired_investment(k: CellCoefficients, g, inv_phi, cap, tax_weight_k=None, zero=0.0):
    """Yuan a firm wants to invest: the Hayashi rate ``rules.investment_rate_of_value`` of
    ``increment_value`` x capacity x capital cost.

    ``tax_weight_k``: the firms' PV tax weights, or None where they are the cell's base weight.
    Then the whole rule is a per-cell piecewise-linear function of 1/productivity and takes 8
    passes over the firms instead of 14 (``desire_lines``); ``tests/test_firm.py`` checks it
    against the plain form below.
    """
    if tax_weight_k is None:
        paid = k.has_capex_factor  # issue 12: the lines at the cost the investor pays
        untaxed = g.desire_b_untaxed * inv_phi
        untaxed = np.subtract(g.desire_a_untaxed_paid if paid else g.desire_a_untaxed, untaxed, out=scratch(untaxed))
        taxed = g.desire_b_taxed * inv_phi
        taxed = np.subtract(g.desire_a_taxed_paid if paid else g.desire_a_taxed, taxed, out=scratch(taxed))
        per_unit = np.minimum(untaxed, taxed, out=scratch(untaxed))
        per_unit = np.maximum(per_unit, zero, out=scratch(per_unit))
        per_unit = np.minimum(per_unit, g.desire_max_paid if paid else g.desire_max,
                              out=scratch(per_unit))
        per_unit *= cap
        return per_unit
    value = increment_value(g, inv_phi, tax_weight_k, zero)
    if k.has_capex_factor:  # issue 12: value per yuan the investor pays, and yuan paid
        value = value / g.capex_paid_factor
        rate = rules.investment_rate_of_value(value, g.depreciation, k.adjustment_cost, k.max_rate, zero)
        return rate * cap * (g.capital_cost * g.capex_paid_factor)
    rate = rules.investment_rate_of_value(value, g.depreciation, k.adjustment_cost, k.max_rate, zero)
    return rate * cap * g.capital_cost


def increment_value(g, inv_phi, tax_weight_k, zero=0.0):
    """PV of one more unit of capacity per yuan of its capital cost (``1 + rules.profitability_index``).

    Per unit and year: cash = utilisation x (expected netback - materials - primary cost x
    1/productivity), taxed at the firm's schedule (PV weight per yuan of capital
    ``tax_weight_k``, depreciation deductible), plus the value of subsidised loans.
    """
    cash = g.util_margin - g.util_cost_y * inv_phi
    return cash * g.annuity_k - np.maximum(cash - g.dep_per_unit, zero) * tax_weight_k + g.subsidy_value_k


def increment_q(g, inv_phi, tax_weight_k):
    """q of one more unit of capacity: PV per yuan of capital cost minus 1 (``rules.profitability_index``)."""
    return increment_value(g, inv_phi, tax_weight_k) - 1.0


def as_float(mask):
    """A boolean array as 1.0 / 0.0 (a number left as it is): ``x * as_float(mask)`` is ``x * mask``,
    the same numbers, but numpy multiplies two float arrays about twice as fast as floats by booleans."""
    return mask.astype(np.float64) if isinstance(mask, np.ndarray) else mask


def subsidised_debt(sub_debt: np.ndarray, years: np.ndarray | None, year: int) -> np.ndarray:
    """Balance of fixed-asset loans still within their subsidy years, per firm.

    ``sub_debt[Y % K]`` holds the subsidised loans of year Y (K vintages); ``years``: each firm's
    subsidy years. The loans of year Y0 are subsidised in years Y0+1 .. Y0+N and amortise
    linearly: in year Y0+a the balance is ``loan * (1 - 1/term)**(a-1)``.
    """
    vintages = sub_debt.shape[0]
    total = np.zeros(sub_debt.shape[1])
    for age in range(1, vintages + 1):
        weight = AMORTISATION ** (age - 1) * (age <= years)
        total += sub_debt[(year - age) % vintages] * weight
    return total
