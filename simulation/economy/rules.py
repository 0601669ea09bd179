"""The firms' yearly rules as pure functions on numpy arrays (or scalars).

Every function takes values in and returns values out, with no hidden state, so the
vectorized engine applies it to all firms at once and the reference engine applies it to
one agent at a time. Money is in yuan, quantities in the stage's physical unit per year.
"""

from __future__ import annotations

import numpy as np
from scipy import special

# ----------------------------------------------------------------------------- tax


def holiday_tax_rate(tax_year, exempt_years, half_years, half_rate, base_rate):
    """Corporate income tax rate in the firm's ``tax_year``-th year of revenue (1 = first).

    Years 1..E exempt, E+1..E+H at ``half_rate`` or the firm's own ``base_rate`` if that is lower
    (a holiday never raises tax: a firm on the 15% preferential rate pays 12.5%, half the statutory
    25%, and one on a 10% rate keeps its 10%), then ``base_rate`` ("two exempt, three half": E=2,
    H=3, half_rate = 25%/2). ``tax_year < 1`` (no revenue yet) gives 0.
    """
    t = np.asarray(tax_year)
    half = np.minimum(half_rate, base_rate)
    rate = np.where(t <= exempt_years, 0.0, np.where(t <= exempt_years + half_years, half, base_rate))
    rate = np.where(t < 1, 0.0, rate)
    return rate if rate.ndim else float(rate)


def geometric_sum(w, first, last):
    """``sum_{h=first}^{last} w**h`` (0 when last < first); w in (0, 1)."""
    first = np.asarray(first, dtype=float)
    last = np.asarray(last, dtype=float)
    total = (w ** first - w ** (last + 1.0)) / (1.0 - w)
    return np.where(last >= first, total, 0.0)


def pv_tax_weight(tax_year_now, exempt_years, half_years, half_rate, base_rate, w, first_h, last_h):
    """``sum_h w**h * rate(tax_year_now + h)`` for h in [first_h, last_h], in closed form
    (``rate`` as in ``holiday_tax_rate``: the half-rate years at the lower of the two rates)."""
    y0 = np.asarray(tax_year_now, dtype=float)
    half_rate = np.minimum(half_rate, base_rate)
    half_first = np.maximum(first_h, exempt_years + 1 - y0)
    half_last = np.minimum(last_h, exempt_years + half_years - y0)
    base_first = np.maximum(first_h, exempt_years + half_years + 1 - y0)
    return half_rate * geometric_sum(w, half_first, half_last) + base_rate * geometric_sum(w, base_first, last_h)


LOAN_TERM_YEARS = 10  # fixed-asset loans amortise linearly over this many years (assumption)

ABOVE_SCALE_SALES_YUAN = 20_000_000.0
"""The NBS threshold of the industrial statistics above scale (规模以上工业): firms with at least 20
million yuan of main-business revenue a year, since 2011 (5 million before). Source: a
question-and-answer page restating the Beihai municipal government's explanation (mashanggame.com;
docs/calibration.md §14.9). The stage column ``output_above_scale`` counts the output of the firms
whose sales at factory-gate prices reach it (``firm.firm_year``)."""


def subsidy_annuity(beta, years):
    """PV per yuan borrowed now of one point-year of interest subsidy for ``years`` years.

    The subsidy is paid in years 1..N on the balance outstanding, which falls by 1/term a
    year: ``sum_{a=1..N} beta**a * (1 - 1/term)**(a-1)``.
    """
    return beta * geometric_sum(beta * (1.0 - 1.0 / LOAN_TERM_YEARS), 0.0, np.asarray(years, dtype=float) - 1.0)


def profitability_index(margin_yuan_per_unit, utilisation, capital_yuan_per_unit, depreciation_rate,
                        discount_rate, build_lag_years, horizon_years, tax_year_now, exempt_years,
                        half_years, half_rate, base_rate, debt_share, subsidy_points, subsidy_years):
    """q = PV of one unit of new capacity per yuan of capital cost, minus 1.

    The unit is ordered now (h = 0), produces from h = 1 + lag for ``horizon_years`` years,
    decays at the depreciation rate and earns ``utilisation * margin`` a year, taxed at the
    firm's schedule (depreciation deductible). A share ``debt_share`` of the cost is borrowed
    with an interest subsidy of ``subsidy_points`` percentage points for ``subsidy_years`` (paid
    on the amortising balance, see ``subsidy_annuity``).
    ``q > 0`` means the increment pays.
    """
    beta = 1.0 / (1.0 + discount_rate)
    w = beta * (1.0 - depreciation_rate)
    first_h = 1.0 + build_lag_years
    last_h = build_lag_years + horizon_years
    cash = utilisation * margin_yuan_per_unit
    taxable = cash - depreciation_rate * capital_yuan_per_unit
    tax_weight = pv_tax_weight(tax_year_now, exempt_years, half_years, half_rate, base_rate, w, first_h, last_h)
    pv = cash * geometric_sum(w, first_h, last_h) - np.maximum(taxable, 0.0) * tax_weight
    loan = debt_share * capital_yuan_per_unit
    pv_subsidy = subsidy_points / 100.0 * loan * subsidy_annuity(beta, subsidy_years)
    return (pv + pv_subsidy) / capital_yuan_per_unit - 1.0


# ----------------------------------------------------------------------------- investment, entry, exit


def investment_rate_of_value(value_per_yuan, depreciation_rate, adjustment_cost, max_rate, zero=0.0):
    """Gross investment per unit of capacity under convex adjustment costs (Hayashi 1982).

    With installation costs ``(phi / 2) (I/K - delta)**2 K`` per yuan of capital, a firm that
    values one more yuan of capital at ``value_per_yuan`` (marginal q, the PV of an increment per
    yuan it costs) invests ``I/K = delta + (value - 1) / phi``: it replaces wear at q = 0, expands
    in proportion to q above it and shrinks below it (not below zero gross investment), capped at
    ``max_rate``. ``phi`` is ``firms.adjustment_cost`` (docs/calibration.md).

    ``zero``: 0, or an array of zeros shaped like ``value_per_yuan`` (faster for numpy).
    """
    rate = (value_per_yuan - 1.0) / adjustment_cost + depreciation_rate
    return np.minimum(np.maximum(rate, zero), max_rate)


def scratch(value, *others):
    """``out=`` for a numpy function: ``value`` itself when it is an array (a temporary the caller
    owns, no longer needs, and shaped like the result: like its broadcast with ``others``, if given),
    else None (numpy returns a new array or number).

    Writing results over temporaries instead of allocating new arrays keeps the firm-year's
    working memory small and in the processor's cache.
    """
    if isinstance(value, np.ndarray) and (not others or np.broadcast(value, *others).shape == value.shape):
        return value
    return None


def finance_investment(desired_yuan, cash_yuan, debt_yuan, capital_yuan, debt_share, max_debt_to_capital,
                       zero=0.0):
    """Split investment into new loans and own funds, limited by cash and borrowing capacity.

    Returns ``(investment, new_loans)``. Loans cover ``debt_share`` of the cost (more if cash
    is short) up to ``max_debt_to_capital * capital - debt``; own funds cover the rest.
    ``zero``: 0, or an array of zeros shaped like the others (faster for numpy). Each step writes
    over a temporary of its own (``scratch``): the same numbers as the plain form
    ``min(max(debt_share * invest, invest - own), max(max_debt_to_capital * capital - debt, 0))``.
    """
    own = np.maximum(cash_yuan, zero)
    headroom = max_debt_to_capital * capital_yuan
    headroom = np.subtract(headroom, debt_yuan, out=scratch(headroom, debt_yuan))
    headroom = np.maximum(headroom, zero, out=scratch(headroom, zero))
    invest = own + headroom
    invest = np.minimum(desired_yuan, invest, out=scratch(invest, desired_yuan))
    short = np.subtract(invest, own, out=scratch(own, invest))  # what own funds cannot cover
    loans = debt_share * invest
    loans = np.maximum(loans, short, out=scratch(loans, short))
    return invest, np.minimum(loans, headroom, out=scratch(loans, headroom))


def entry_probability(q, hurdle, dispersion):
    """Chance that a potential investor builds a new plant of value ``1 + q`` per yuan it costs.

    Investors differ in the return they require above the firms' discount rate (their hurdle: the
    option value of waiting, information and location costs; Dixit & Pindyck 1994): logistic with
    median ``hurdle`` and scale ``dispersion``, ``1 / (1 + exp(-(q - hurdle) / dispersion))``.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * (np.asarray(q, dtype=float) - hurdle) / dispersion))


ZERO_SHORTCUT_MAX_MEAN = 100.0  # ``poisson_from_uniform``: exp(-100) = 3.7e-44, a normal number


def poisson_from_uniform(u, mean):
    """Poisson draws by inverting the CDF at uniforms ``u``: the smallest k with P(N <= k) >= u.

    One uniform per draw whatever the mean, so paired scenarios that differ in one cell's mean
    draw the same numbers everywhere else. The search starts at the normal approximation with
    its skewness correction (``k ~ m + sqrt(m) z + (z^2 - 1) / 6``) and steps to the exact
    answer, which is a few steps away for any mean (no underflow of ``exp(-mean)`` for large ones).
    Each step evaluates the CDF only for the draws still moving; a draw well below
    ``P(N = 0) = exp(-mean)`` is 0 without a search (most cells: entry and closures are rare).
    """
    u, mean = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(mean, dtype=float))
    count = np.zeros(u.shape, dtype=np.int64)
    # a mean of 0 draws 0 (often most cells: no entrant where entry does not pay), and so does a
    # uniform below P(N = 0) by a margin far beyond the CDF's rounding (1e-9 of it; only for means
    # up to ``ZERO_SHORTCUT_MAX_MEAN``, where exp(-mean) is far from underflow)
    zero = (u < np.exp(-np.minimum(mean, ZERO_SHORTCUT_MAX_MEAN)) * (1.0 - 1e-9)) & (mean <= ZERO_SHORTCUT_MAX_MEAN)
    some = (mean > 0) & (u > 0) & ~zero
    u, mean = u[some], mean[some]
    z = special.ndtri(np.clip(u, 1e-300, 1.0 - 1e-16))
    k = np.clip(np.floor(mean + np.sqrt(mean) * z + (z * z - 1.0) / 6.0), 0.0, None)
    rising = np.flatnonzero(special.pdtr(k, mean) < u)  # too low: step up until the CDF reaches u
    check_below = k > 0  # draws that did not rise: may the one below reach u too?
    check_below[rising] = False
    while rising.size:
        k[rising] += 1.0
        rising = rising[special.pdtr(k[rising], mean[rising]) < u[rising]]
    falling = np.flatnonzero(check_below)
    falling = falling[special.pdtr(k[falling] - 1.0, mean[falling]) >= u[falling]]
    while falling.size:  # the one below reaches u too: step down
        k[falling] -= 1.0
        falling = falling[(k[falling] > 0) & (special.pdtr(k[falling] - 1.0, mean[falling]) >= u[falling])]
    count[some] = k
    return count


def exits(loss_years, equity_yuan, loss_years_limit):
    """A firm exits after ``loss_years_limit`` consecutive years of cash losses or with negative equity."""
    return (loss_years >= loss_years_limit) | (equity_yuan < 0.0)
