"""One firm-year, written once for arrays (all firms) and scalars (one Mesa agent).

Everything that is the same for all firms of a (stage, zone) *cell* — prices, lever values,
technology — is folded each year into per-cell coefficients by :func:`cell_coefficients`
(arrays of length ``n_stages * 3``). A firm differs only by its state: capacity, the inverse
of its productivity, debt, cash, subsidised loans, first revenue year and loss record.
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

LOAN_TERM_YEARS = rules.LOAN_TERM_YEARS
AMORTISATION = 1.0 - 1.0 / LOAN_TERM_YEARS
NO_REVENUE_YET = 1_000_000  # first_revenue_year of a firm that has not sold anything yet
RUN_CONSTANTS = frozenset({"capital_cost", "depreciation", "dep_per_unit", "survival", "units_per_yuan", "desire_max"})
"""Coefficients of ``cell_coefficients`` that depend only on the chain and the firms' settings, the
same every year of a run (an engine may keep them spread over the firms from one year to the next)."""


def tax_tables(exempt, half, half_rate, base_rate, lag, w, first_h, last_h, slots: int):
    """Per cell, holiday (0/1) and tax-year slot: the tax rate now and the PV tax weight of an increment.

    Slot 0 is a firm with no revenue yet (rate 0; an increment's first output year is its
    first tax year, i.e. ``tax_year_now = -lag``); slot s >= 1 is the s-th year of revenue,
    the last slot standing for every later year. Returns two arrays of shape (cells, 2, slots).
    """
    cells = len(base_rate)
    s = np.arange(slots, dtype=float)[None, None, :]
    on = np.array([0.0, 1.0])[None, :, None]
    ex = exempt[:, None, None] * on
    hf = half[:, None, None] * on
    base = base_rate[:, None, None]
    rate = rules.holiday_tax_rate(s, ex, hf, half_rate, base)
    y0 = np.where(s == 0, -lag[:, None, None], s)
    weight = rules.pv_tax_weight(y0, ex, hf, half_rate, base, w[:, None, None], first_h[:, None, None],
                                 last_h[:, None, None])
    shape = (cells, 2, slots)
    return np.broadcast_to(rate, shape).copy(), np.broadcast_to(weight, shape).copy()


def firm_year(k: dict, g, cell, state: dict, year: int, zero=0.0) -> dict:
    """Book one year for firms with the given state (arrays for many firms, scalars for one).

    ``k`` holds per-cell coefficients (``cell_coefficients``) and ``g(name)`` returns
    coefficient ``name`` for the firm(s): ``k[name][cell]`` for one firm, or the per-cell array
    spread over all firms. ``cell`` is only needed to look up the tax tables when the scenario
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
        working = cap * (inv_phi <= g("threshold"))  # production pays (``production_threshold``)
    X = working * g("stage_ratio")  # output: producing firms at the stage's rate
    Y = X * inv_phi
    produced = X > 0
    first_rev = state["first_revenue_year"]
    started_before = first_rev <= year
    started = started_before | produced
    first_sales = np.greater(produced, started_before)  # producing, and not started before
    if np.any(first_sales):  # few firms sell for the first time in a year: test before rewriting them all
        first_rev = np.where(first_sales, year, first_rev)
    depreciation_yuan = g("dep_per_unit") * cap
    # ``x -= ...`` below writes over temporaries made here, never over the state or coefficients
    cash_flow = g("profit_x") * X  # before tax and repayment
    cash_flow -= g("cost_y") * Y
    cash_flow -= k["interest_rate"] * debt0
    if k["has_interest_subsidy"]:
        wc_eligible = (year - np.maximum(first_rev, g("wc_from"))) < g("wc_years")
        interest_subsidy = (g("fixed_rate") * state["sub_debt_base"]
                            + (g("wc_rate_x") * X + g("wc_rate_y") * Y) * wc_eligible)
        cash_flow += interest_subsidy
    else:
        interest_subsidy = 0.0
    profit = cash_flow - depreciation_yuan

    # corporate income tax by the firm's schedule (holidays count from the first revenue year)
    taxable = np.maximum(profit, zero)
    if k["has_holidays"]:
        slots = k["slots"]
        holiday = first_rev >= g("holiday_from")
        idx = (cell * 2 + holiday) * slots + np.clip(year - first_rev + 1, 0, slots - 1)
        rate, tax_weight_k = np.take(k["tax_rate"], idx), np.take(k["tax_weight_k"], idx)
    elif k["has_interest_subsidy"]:
        rate, tax_weight_k = g("base_rate") * started, None
    else:
        # a firm that has not started has no output, so its profit (- depreciation - interest)
        # is not positive and the rate applied to it does not matter
        rate, tax_weight_k = g("base_rate"), None
    tax = rate * taxable
    debt = debt0 * AMORTISATION
    cash = cash_flow - tax
    cash -= debt0 - debt  # repayment
    cash += state["cash"]

    # investment: q of one more unit of capacity, limited by cash and borrowing
    capital_cost = g("capital_cost")
    desired = desired_investment(k, g, inv_phi, cap, tax_weight_k, zero)
    capital = cap + state["pending_total"]
    capital *= capital_cost
    invest, loans = rules.finance_investment(desired, cash, debt, capital, k["debt_share"],
                                             k["max_debt_to_capital"], zero)
    # consecutive years in which the firm, once producing, lost cash (firms still building count none)
    loss_years = (state["loss_years"] + 1) * ((cash_flow < 0) & started)
    # equity: investing turns cash and new loans into capital, which leaves it unchanged
    leaving = rules.exits(loss_years, cash + capital - debt, k["loss_limit"]) if k["exit_enabled"] else False
    cash -= invest - loans
    debt += loans
    return {
        "X": X, "Y": Y, "debt_start": debt0, "profit": profit, "tax_paid": tax, "taxable": taxable,
        "interest_subsidy": interest_subsidy, "investment": invest, "new_units": invest * g("units_per_yuan"),
        "new_loans": loans, "cash": cash, "debt": debt, "capacity": cap * g("survival"),
        "first_revenue_year": first_rev, "loss_years": loss_years, "exit": leaving,
    }


def desired_investment(k: dict, g, inv_phi, cap, tax_weight_k=None, zero=0.0):
    """Yuan a firm wants to invest: ``rules.investment_rate`` of ``increment_value`` x capacity x capital cost.

    ``tax_weight_k``: the firms' PV tax weights, or None where they are the cell's base weight.
    Then, with the investment elasticity at 1, the whole rule is a per-cell piecewise-linear
    function of 1/productivity and takes 8 passes over the firms instead of 14 (``desire_lines``);
    ``tests/test_firm.py`` checks it against the plain form below.
    """
    if tax_weight_k is None and k["elasticity"] == 1.0:
        untaxed = g("desire_b_untaxed") * inv_phi
        untaxed = np.subtract(g("desire_a_untaxed"), untaxed, out=scratch(untaxed))
        taxed = g("desire_b_taxed") * inv_phi
        taxed = np.subtract(g("desire_a_taxed"), taxed, out=scratch(taxed))
        per_unit = np.minimum(untaxed, taxed, out=scratch(untaxed))
        per_unit = np.maximum(per_unit, zero, out=scratch(per_unit))
        per_unit = np.minimum(per_unit, g("desire_max"), out=scratch(per_unit))
        per_unit *= cap
        return per_unit
    if tax_weight_k is None:
        tax_weight_k = g("base_tax_weight_k")
    value = increment_value(g, inv_phi, tax_weight_k, zero)
    rate = rules.investment_rate_of_value(value, g("depreciation"), k["elasticity"], k["max_rate"], zero)
    return rate * cap * g("capital_cost")


def increment_value(g, inv_phi, tax_weight_k, zero=0.0):
    """PV of one more unit of capacity per yuan of its capital cost (``1 + rules.profitability_index``).

    Per unit and year: cash = utilisation x (expected netback - materials - primary cost x
    1/productivity), taxed at the firm's schedule (PV weight per yuan of capital
    ``tax_weight_k``, depreciation deductible), plus the value of subsidised loans.
    """
    cash = g("util_margin") - g("util_cost_y") * inv_phi
    return cash * g("annuity_k") - np.maximum(cash - g("dep_per_unit"), zero) * tax_weight_k + g("subsidy_value_k")


def increment_q(g, inv_phi, tax_weight_k):
    """q of one more unit of capacity: PV per yuan of capital cost minus 1 (``rules.profitability_index``)."""
    return increment_value(g, inv_phi, tax_weight_k) - 1.0


def scratch(value):
    """``out=`` for a numpy function: ``value`` itself when it is an array (a temporary the caller
    owns, no longer needs, and shaped like the result), else None (a number: numpy returns a new one).

    Writing results over temporaries instead of allocating new arrays keeps the firm-year's
    working memory small and in the processor's cache.
    """
    return value if isinstance(value, np.ndarray) else None


def production_threshold(chain, pol, export_price, expected_material, local_price, local_share) -> np.ndarray:
    """Per cell, the largest 1/productivity at which the expected price covers unit variable cost.

    The expected price mixes local sales (share ``local_share`` of output, at ``local_price``) and
    exports (at the export netback: price - freight + the cell's subsidy). A firm produces iff
    ``price >= materials + (power + labour) / productivity`` (``rules.produces``), i.e. iff
    ``1/productivity <= (price - materials) / (power + labour)``.
    """
    z = 3
    share = np.repeat(local_share, z)
    expected_price = (share * np.repeat(local_price, z)
                      + (1 - share) * (np.repeat(export_price, z) + pol.subsidy_per_unit.ravel()))
    netback = expected_price - np.repeat(expected_material + chain.other_inputs, z)
    primary = np.repeat(chain.workers * chain.wage, z) + np.repeat(chain.kwh, z) * pol.power_price.ravel()
    return np.divide(netback, primary, out=np.where(netback >= 0, np.inf, -np.inf), where=primary > 0)


def cell_coefficients(chain, spec, pol, stage_values: dict, threshold: np.ndarray) -> dict:
    """Fold this year's prices, market outcomes and levers into per-cell coefficients.

    ``stage_values`` (arrays by stage): ``local_share`` of sales, ``local_price``,
    ``export_price`` (market price - freight), ``material_local`` / ``material_imported`` (yuan
    of chain inputs per unit of output, imported ones with inbound freight),
    ``expected_netback`` (what a new unit earns at trend prices, before any freight subsidy),
    ``marginal_export_share`` (1 if a new unit is shipped out, 0 if sold locally),
    ``expected_material`` (chain inputs per unit at trend prices), ``utilisation`` (expected for
    new capacity) and ``stage_ratio``;
    ``threshold`` is this year's ``production_threshold``.
    """
    f = spec.firms
    z = 3
    rep = lambda v: np.repeat(np.asarray(v, dtype=float), z)  # noqa: E731  stage -> cell
    power = pol.power_price.ravel()
    subsidy = pol.subsidy_per_unit.ravel()
    share = rep(stage_values["local_share"])
    sales_x = share * rep(stage_values["local_price"]) + (1 - share) * rep(stage_values["export_price"])
    subsidy_x = (1 - share) * subsidy
    chain_x = rep(stage_values["material_local"]) + rep(stage_values["material_imported"])
    materials_x = chain_x + rep(chain.other_inputs)  # chain inputs and other inputs, per unit of output
    inputs_y = rep(chain.kwh) * power
    labour_y = rep(chain.workers) * rep(chain.wage)
    cost_y = inputs_y + labour_y
    capital_cost, depreciation, lag = rep(chain.capital_cost), rep(chain.depreciation), rep(chain.build_lag)
    beta = 1.0 / (1.0 + f.discount_rate)
    w = beta * (1.0 - depreciation)
    first_h, last_h = 1.0 + lag, lag + f.evaluation_years
    annuity = rules.geometric_sum(w, first_h, last_h)  # PV of a unit's yearly cash over its horizon
    has_holidays = bool(np.any(pol.holiday_exempt + pol.holiday_half > 0))
    if has_holidays:
        slots = int(max(pol.holiday_exempt.max() + pol.holiday_half.max(), 0)) + 2
        rate_t, weight_t = tax_tables(pol.holiday_exempt.ravel(), pol.holiday_half.ravel(), pol.statutory_rate / 2,
                                      pol.tax_base_rate.ravel(), lag, w, first_h, last_h, slots)
        base_tax_weight = weight_t[:, 0, -1]
        holiday_tables = {"slots": slots, "tax_rate": rate_t.ravel(),
                          "tax_weight_k": (weight_t / capital_cost[:, None, None]).ravel()}
    else:  # every year of every firm at the base rate: no tables needed
        base_tax_weight = pol.tax_base_rate.ravel() * annuity
        holiday_tables = {"slots": 0, "tax_rate": None, "tax_weight_k": None}
    fixed_points = pol.fixed_points.ravel()
    subsidy_value_k = fixed_points / 100.0 * f.debt_share * rules.subsidy_annuity(beta, pol.fixed_years.ravel())
    r = f.interest_rate
    util = rep(stage_values["utilisation"])
    util_margin = util * (rep(stage_values["expected_netback"]) + rep(stage_values["marginal_export_share"])
                          * subsidy - rep(stage_values["expected_material"]) - rep(chain.other_inputs))
    util_cost_y = util * cost_y
    annuity_k = annuity / capital_cost
    base_tax_weight_k = base_tax_weight / capital_cost
    dep_per_unit = depreciation * capital_cost
    wc_x, wc_y = f.working_capital_share * materials_x, f.working_capital_share * cost_y  # working capital / unit
    return {
        "threshold": threshold, "stage_ratio": rep(stage_values["stage_ratio"]),
        "wc_from": pol.wc_from.ravel(), "wc_years": pol.wc_years.ravel(),
        "fixed_rate": fixed_points / 100.0,
        "wc_rate_x": pol.wc_points.ravel() / 100.0 * wc_x, "wc_rate_y": pol.wc_points.ravel() / 100.0 * wc_y,
        "interest_rate": r, "dep_per_unit": dep_per_unit,
        "profit_x": sales_x + subsidy_x - materials_x - r * wc_x, "cost_y": cost_y + r * wc_y,
        "holiday_from": pol.holiday_from.ravel(), **holiday_tables, "statutory_rate": pol.statutory_rate,
        "util_margin": util_margin, "util_cost_y": util_cost_y,
        "has_holidays": has_holidays,
        "has_interest_subsidy": bool(np.any(pol.fixed_points > 0) or np.any(pol.wc_points > 0)),
        "base_rate": pol.tax_base_rate.ravel(), "base_tax_weight_k": base_tax_weight_k,
        "capital_cost": capital_cost, "annuity_k": annuity_k,
        "subsidy_value_k": subsidy_value_k,
        "build_lag": lag.astype(np.intp),
        "subsidised_loans": ((fixed_points > 0) & (pol.fixed_years.ravel() > 0)) * 1.0,
        "depreciation": depreciation, "survival": 1.0 - depreciation, "units_per_yuan": 1.0 / capital_cost,
        "elasticity": f.investment_elasticity, "max_rate": f.max_investment_rate,
        **desire_lines(util_margin, util_cost_y, annuity_k, base_tax_weight_k, dep_per_unit, subsidy_value_k,
                       depreciation, capital_cost, f.max_investment_rate),
        "debt_share": f.debt_share, "max_debt_to_capital": f.max_debt_to_capital,
        "exit_enabled": f.exit, "loss_limit": f.exit_after_loss_years,
        # linear account coefficients, for the stage totals
        "sales_x": sales_x, "subsidy_x": subsidy_x, "materials_x": materials_x, "inputs_y": inputs_y,
        "interest_x": r * wc_x, "interest_y": r * wc_y,
        "labour_y": labour_y, "kwh_y": rep(chain.kwh),
        "power_gap": np.where(pol.power_counts.ravel(), pol.reference_power_price - power, 0.0),
    }


def desire_lines(util_margin, util_cost_y, annuity_k, tax_weight_k, dep_per_unit, subsidy_value_k, depreciation,
                 capital_cost, max_rate) -> dict:
    """Per cell, ``desired_investment`` per unit of capacity as ``min(max(min(untaxed, taxed), 0), desire_max)``.

    With ``c = util_margin - util_cost_y / productivity`` (a unit's yearly cash), the value per
    yuan is ``c annuity - max(c - dep, 0) tax_weight + subsidy``, the smaller of two lines in c
    (untaxed, and taxed above depreciation, as the weight is not negative); the investment rate
    ``depreciation x max(value, 0)`` capped at ``max_rate``, times the capital cost, keeps
    that form with each line scaled by ``depreciation x capital cost``. Each line is
    ``a - b / productivity``.
    """
    scale = depreciation * capital_cost
    taxed_slope = annuity_k - tax_weight_k
    return {
        "desire_a_untaxed": scale * (util_margin * annuity_k + subsidy_value_k),
        "desire_b_untaxed": scale * util_cost_y * annuity_k,
        "desire_a_taxed": scale * (util_margin * taxed_slope + dep_per_unit * tax_weight_k + subsidy_value_k),
        "desire_b_taxed": scale * util_cost_y * taxed_slope,
        "desire_max": max_rate * capital_cost,
    }
