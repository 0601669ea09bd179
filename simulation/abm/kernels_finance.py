"""A compiled kernel (numba) of the settle step in the years of interest subsidies and tax holidays.

``kernels.settle_rows`` settles the years without them; this module settles the years
``kernels.covers`` leaves out because of an interest subsidy (the fixed-asset subsidy on the
subsidised-loan vintages, ``firm.subsidised_debt``, and the working-capital subsidy), a tax holiday
(each firm's tax rate and PV tax weight looked up in the holiday tables, investment from
``firm.increment_value`` and ``rules.investment_rate_of_value``, investors' own holidays
``plan_holiday_from``) or subsidised-loan vintages kept in the state (``FirmState.sub_debt``: the
year's new loans booked into their vintage, as the engine does after ``firm.firm_year``).

The same IEEE double operations as numpy's path (``engine.VectorEngine._settle_chunk``), in the
same order (no fast-math: no reassociation, no fused multiply-add), ``np.maximum`` /
``np.minimum`` as numpy computes them (``kernels.maximum``, ``kernels.minimum``) and the sums by
segment as ``np.add.reduceat`` (``kernels.close_block``, ``segment_sums``), the financing as
``kernels.financed``: the same bits (``tests/test_kernels_finance.py``). The only power,
``AMORTISATION ** (age - 1)`` of a vintage's weight,
is computed by Python as numpy's path does and handed to the kernel. Years with an employment
subsidy, an investor cost factor (capital grants, land support) or order tracking stay on numpy's
path (:func:`covers_finance`).

Compiled on first call and cached beside this file (``cache=True``). numba's cache is keyed on
this file only, so the helpers it imports from ``kernels`` are stamped here (:data:`HELPERS_STAMP`,
checked by ``tests/test_kernels_finance.py``): a change to them fails that test until the stamp is
updated, and updating it changes this file, which makes numba compile this kernel afresh.
"""

from __future__ import annotations

import numpy as np

from ..economy.coefficients import CellCoefficients
from ..economy.firm import AMORTISATION
from .kernels import (
    BLOCK,
    COEFFICIENTS,
    MAX_DEPTH,
    SCALARS,
    _leaves,
    close_block,
    financed,
    jit,
    maximum,
    minimum,
    segment_sums,
)

HELPERS_STAMP = "df8aa9273e598455"
"""The first 16 hex digits of :func:`helpers_stamp` for the helpers this kernel was compiled with."""


def helpers_stamp() -> str:
    """SHA-256 of the source of the helpers imported from ``kernels`` and of the constants read
    with them (what this module's machine code builds in)."""
    import hashlib
    import inspect

    from . import kernels

    digest = hashlib.sha256()
    for f in (kernels.maximum, kernels.minimum, kernels.block_sum, kernels._leaves, kernels._combine,
              kernels.financed, kernels.close_block, kernels.segment_sums):
        digest.update(inspect.getsource(f.py_func).encode())
    digest.update(repr((kernels.BLOCK, kernels.MAX_DEPTH, kernels.COEFFICIENTS, kernels.SCALARS)).encode())
    return digest.hexdigest()[:16]


FINANCE = ("fixed_rate", "fixed_years", "wc_rate_x", "wc_rate_y", "wc_from", "wc_years", "subsidised_loans",
           "holiday_from", "plan_holiday_from", "util_margin", "util_cost_y", "annuity_k", "subsidy_value_k",
           "depreciation")
"""The per-cell coefficients :func:`settle_rows` reads besides ``kernels.COEFFICIENTS``, in the order of its
finance table's columns (``plan_holiday_from``: ``holiday_from`` where investors know the same holidays)."""
SUMMED = ("X", "Y", "X_above_scale", "debt_start", "profit", "tax_paid", "taxable", "investment", "interest_subsidy")
"""The flows the kernel sums by segment, in its order (``interest_subsidy`` kept only in the years it is paid)."""
FINANCE_SCALARS = (*SCALARS, "adjustment_cost", "max_rate")


def covers_finance(k: CellCoefficients, vintages: int) -> bool:
    """Whether this kernel computes the year: one ``kernels.covers`` leaves to numpy's path for an
    interest subsidy, a tax holiday or subsidised-loan vintages only (no employment subsidy,
    investor cost factor or order tracking), the firms' financial settings single numbers."""
    return (bool(k.has_interest_subsidy or k.has_holidays or vintages)
            and not (k.has_labour_subsidy or k.has_capex_factor or k.track_orders)
            and (not k.has_holidays or (k.slots > 0 and k.tax_rate is not None and k.tax_weight_k is not None))
            and all(np.ndim(getattr(k, name)) == 0 for name in FINANCE_SCALARS))


def finance_table(k: CellCoefficients) -> tuple[np.ndarray, np.ndarray]:
    """The year's per-cell coefficients the kernel reads, a row per cell: ``kernels.COEFFICIENTS``'
    columns and ``FINANCE``'s."""
    n = np.size(k.stage_ratio)

    def column(name):
        value = k.holiday_from if name == "plan_holiday_from" and k.plan_holiday_from is None else getattr(k, name)
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
    return (np.stack([column(name) for name in COEFFICIENTS], axis=1),
            np.stack([column(name) for name in FINANCE], axis=1))


NO_TABLE = np.zeros(1)  # the holiday tables of a year without holidays (never read)


def settle_rows(k: CellCoefficients, tables, chunk, st, working: np.ndarray, building: np.ndarray, year: int):
    """One year of the chunk's firms, as ``firm.firm_year`` and ``VectorEngine._settle_chunk`` in the
    years :func:`covers_finance` (``tables``: :func:`finance_table`): the state written in place
    (cash, debt, capacity, first revenue year, loss years, capacity on order, this year's vintage of
    subsidised loans) and returned: the flows summed by cell (``SUMMED``; ``interest_subsidy`` in
    the years it is paid) and the rows that leave (the state's)."""
    table, finance = tables
    rows = chunk.rows
    sums = np.empty((len(SUMMED), chunk.local.size))
    leaving = np.empty(rows.stop - rows.start, dtype=np.int64)
    vintages = int(st.vintages)
    # ``firm.subsidised_debt``'s weights: each vintage's amortised share, the power computed by Python as there
    weights = np.array([AMORTISATION ** (age - 1) for age in range(1, vintages + 1)], dtype=np.float64)
    holidays = bool(k.has_holidays)
    gone = _settle(chunk.per_segment(table), chunk.per_segment(finance), chunk.local.astype(np.int64, copy=False),
                   st.raw("cell")[rows], int(year), float(k.interest_rate), float(k.debt_share),
                   float(k.max_debt_to_capital), int(k.loss_limit), bool(k.exit_enabled), float(k.adjustment_cost),
                   float(k.max_rate), bool(k.has_interest_subsidy), holidays, k.plan_holiday_from is not None,
                   int(k.slots) if holidays else 1, k.tax_rate if holidays else NO_TABLE,
                   k.tax_weight_k if holidays else NO_TABLE, weights,
                   st.raw("capacity")[rows], st.raw("inv_productivity")[rows], st.raw("debt")[rows],
                   st.raw("cash")[rows], working, st.raw("first_revenue_year")[rows], st.raw("loss_years")[rows],
                   building, st.raw("alive")[rows], st.raw("pending")[:, rows], st.raw("sub_debt")[:, rows],
                   AMORTISATION, sums, leaving)
    names = SUMMED if k.has_interest_subsidy else SUMMED[:-1]
    parts = {name: chunk.cell_totals(sums[i]) for i, name in enumerate(names)}
    return parts, rows.start + leaving[:gone]


N_SUMMED = len(SUMMED)


@jit
def _settle(table, finance, local, cell, year, interest_rate, debt_share, max_debt_to_capital, loss_limit,
            exit_enabled, adjustment_cost, max_rate, has_interest, has_holidays, has_plan_holidays, slots_tax,
            tax_rate, tax_weight, weights, cap, inv_phi, debt, cash, working, first_rev, loss_years, building, alive,
            pending, sub_debt, amortisation, sums, leaving):
    """The kernel of :func:`settle_rows` (``table``, ``finance``: the coefficients, a row per segment):
    ``firm.firm_year`` without the switches :func:`covers_finance` excludes, line for line
    (``firm.subsidised_debt``, the interest subsidy, the holiday tables, ``desired_investment``'s
    lines or ``increment_value`` and ``rules.investment_rate_of_value``, ``rules.finance_investment``,
    ``rules.exits``), then the engine's booking of new capacity and subsidised loans; each segment's
    sums as ``kernels._settle``'s; returns how many rows leave."""
    n, n_seg, slots = cap.size, local.size, pending.shape[0]
    vintages = sub_debt.shape[0]
    this_vintage = np.uint64(year % vintages if vintages else 0)
    slot_of_age = np.empty(max(vintages, 1), dtype=np.uint64)  # the vintage of each age, (year - age) % vintages
    for age in range(1, vintages + 1):
        slot_of_age[age - 1] = (year - age) % vintages
    weight_of_age = np.empty(max(vintages, 1))
    year_f = np.float64(year)
    longest = 1
    for s in range(n_seg):
        longest = max(longest, (local[s + 1] if s + 1 < n_seg else n) - local[s])
    flows = np.empty((N_SUMMED, BLOCK))
    first = np.empty(N_SUMMED)
    block_sizes = np.empty(longest // 32 + 2, dtype=np.int64)
    block_sums = np.empty((N_SUMMED, block_sizes.size))
    todo, size, left, done = (np.empty(MAX_DEPTH, dtype=np.int64), np.empty(MAX_DEPTH, dtype=np.int64),
                              np.empty(MAX_DEPTH), np.empty(MAX_DEPTH, dtype=np.bool_))
    gone = 0
    for s in range(n_seg):
        lo = local[s]
        hi = local[s + 1] if s + 1 < n_seg else n
        c = table[s]  # the columns of kernels.COEFFICIENTS
        stage_ratio, above, dep_per_unit, profit_x, cost_y = c[0], c[1], c[2], c[3], c[4]
        base_rate, capital_cost, b_untaxed, a_untaxed, b_taxed = c[5], c[6], c[7], c[8], c[9]
        a_taxed, desire_max, survival, units_per_yuan, build_lag = c[10], c[11], c[12], c[13], c[14]
        e = finance[s]  # the columns of FINANCE
        fixed_rate, fixed_years, wc_rate_x, wc_rate_y, wc_from = e[0], e[1], e[2], e[3], e[4]
        wc_years, subsidised_loans, holiday_from, plan_holiday_from, util_margin = e[5], e[6], e[7], e[8], e[9]
        util_cost_y, annuity_k, subsidy_value_k, depreciation = e[10], e[11], e[12], e[13]
        arriving = pending[(year + 1 + np.int64(build_lag)) % slots]  # the slot of the cell's build lag
        for age in range(1, vintages + 1):  # firm.subsidised_debt's weights in the cell
            weight_of_age[age - 1] = weights[age - 1] * np.float64(age <= fixed_years)
        n_blocks = _leaves(hi - lo - 1, block_sizes, 0, todo)
        block, at = 0, np.uint64(1)
        block_end = at + np.uint64(block_sizes[0])
        for i in range(np.uint64(lo), np.uint64(hi)):
            j = i - np.uint64(lo)
            X = working[i] * stage_ratio
            Y = X * inv_phi[i]
            X_above = np.float64(X >= above) * X
            produced = X > 0
            started_before = first_rev[i] <= year
            started = started_before or produced
            if produced and not started_before:
                first_rev[i] = year
            fr = np.int64(first_rev[i])  # the first revenue year after this year's (as numpy's path reads it)
            depreciation_yuan = dep_per_unit * cap[i]
            debt0 = debt[i]
            cash_flow = profit_x * X
            cash_flow -= cost_y * Y
            cash_flow -= interest_rate * debt0
            interest_subsidy = 0.0
            if has_interest:
                sub_debt_base = 0.0  # firm.subsidised_debt: the vintages still within their subsidy years
                for a in range(vintages):
                    sub_debt_base += sub_debt[slot_of_age[a], i] * weight_of_age[a]
                wc_eligible = np.float64((year_f - maximum(np.float64(fr), wc_from)) < wc_years)
                interest_subsidy = fixed_rate * sub_debt_base + (wc_rate_x * X + wc_rate_y * Y) * wc_eligible
                cash_flow += interest_subsidy
            profit = cash_flow - depreciation_yuan
            taxable = maximum(profit, 0.0)
            tax_weight_k = 0.0
            if has_holidays:  # the firm's slot of the holiday tables
                tax_year = min(max(year - fr + 1, 0), slots_tax - 1)
                holiday = np.int64(np.float64(fr) >= holiday_from)
                rate = tax_rate[(np.int64(cell[i]) * 2 + holiday) * slots_tax + tax_year]
                if has_plan_holidays:  # investors do not yet know every holiday in force
                    holiday = np.int64(np.float64(fr) >= plan_holiday_from)
                tax_weight_k = tax_weight[(np.int64(cell[i]) * 2 + holiday) * slots_tax + tax_year]
            elif has_interest:
                rate = base_rate * np.float64(started)
            else:
                rate = base_rate
            tax = rate * taxable
            new_debt = debt0 * amortisation
            new_cash = cash_flow - tax
            new_cash -= debt0 - new_debt
            new_cash += cash[i]
            if has_holidays:  # firm.increment_value, rules.investment_rate_of_value
                unit_cash = util_margin - util_cost_y * inv_phi[i]
                value = unit_cash * annuity_k - maximum(unit_cash - dep_per_unit, 0.0) * tax_weight_k + subsidy_value_k
                invest_rate = (value - 1.0) / adjustment_cost + depreciation
                invest_rate = minimum(maximum(invest_rate, 0.0), max_rate)
                desired = invest_rate * cap[i] * capital_cost
            else:  # firm.desired_investment: the cell's piecewise-linear lines of 1/productivity
                untaxed = a_untaxed - b_untaxed * inv_phi[i]
                taxed = a_taxed - b_taxed * inv_phi[i]
                desired = minimum(maximum(minimum(untaxed, taxed), 0.0), desire_max) * cap[i]
            capital = (cap[i] + building[i]) * capital_cost
            invest, loans = financed(desired, new_cash, new_debt, capital, debt_share, max_debt_to_capital)
            losses = (loss_years[i] + 1) * (cash_flow < 0 and started)
            if exit_enabled and alive[i] and (losses >= loss_limit or new_cash + capital - new_debt < 0.0):
                leaving[gone] = i
                gone += 1
            new_cash -= invest - loans
            new_debt += loans
            if j == 0:
                first[0], first[1], first[2], first[3] = X, Y, X_above, debt0
                first[4], first[5], first[6], first[7] = profit, tax, taxable, invest
                first[8] = interest_subsidy
            else:
                q = j - at
                flows[0, q] = X
                flows[1, q] = Y
                flows[2, q] = X_above
                flows[3, q] = debt0
                flows[4, q] = profit
                flows[5, q] = tax
                flows[6, q] = taxable
                flows[7, q] = invest
                flows[8, q] = interest_subsidy
                if j + np.uint64(1) == block_end:  # the block is complete
                    block, at, block_end = close_block(flows, block_sums, block, at, block_end, block_sizes, n_blocks)
            cash[i] = new_cash
            debt[i] = new_debt
            cap[i] = cap[i] * survival
            loss_years[i] = losses
            arriving[i] += invest * units_per_yuan
            if vintages:  # this year's loans, subsidised in the cells where they are
                sub_debt[this_vintage, i] = loans * subsidised_loans
        segment_sums(first, flows, block_sums, block, n_blocks, hi - lo - 1, sums, s, size, left, done)
    return gone
