"""The year's per-cell coefficients: prices, market outcomes and lever terms folded for the firms.

Everything that is the same for all firms of a (stage, zone) *cell* is folded each year into a
frozen :class:`CellCoefficients` (arrays of length ``n_stages * 3``), which the firms' year
(``economy.firm``) reads. Productivity saves power and labour; materials are used at fixed
coefficients. With ``X`` = output and ``Y`` = output / productivity, the linear flows are

    sales = sales_x X,  materials = materials_x X,  power = inputs_y Y,  labour = labour_y Y,
    profit = profit_x X - cost_y Y - depreciation - interest on debt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import rules
from .terms import CellTerms

RUN_CONSTANTS = frozenset({"capital_cost", "depreciation", "dep_per_unit", "survival", "units_per_yuan", "desire_max"})
"""Coefficients that depend only on the chain and the firms' settings, the same every year of a run
(an engine may keep them spread over the firms from one year to the next)."""


class BatchMismatch(ValueError):
    """Runs side by side (``abm.batch``) whose scenarios take different branches of the year's
    arithmetic (a lever acting in some runs and not in others): they cannot share one batch.
    ``labels``: where known, one per run side by side, equal for runs that took the same branch
    (so that a caller can put each branch's runs in a batch of their own)."""

    def __init__(self, message: str, labels=None):
        super().__init__(message)
        self.labels = None if labels is None else np.asarray(labels)


def runs_agree(chain, condition: np.ndarray) -> bool:
    """``condition.any()`` for one run; for runs side by side (``chain.runs``, arrays of runs x cells)
    the same answer in every run, else :class:`BatchMismatch`: a switch of the year's arithmetic
    must be the same for all runs of a batch, so that each computes what it computes alone."""
    per_run = np.asarray(condition).reshape(getattr(chain, "runs", 1), -1).any(axis=1)
    if per_run.all() != per_run.any():
        raise BatchMismatch("runs side by side differ in which levers act", per_run)
    return bool(per_run[0])


def holiday_slots(chain, terms: CellTerms, plan: CellTerms) -> int:
    """Tax-year slots of the holiday tables: the longest holiday (exempt + half years) + 2 of any run
    side by side. A run with a shorter holiday gets the same numbers as alone: its tables
    (``tax_tables``) are the same bits in every slot past its own longest holiday + 1 (the base rate,
    and a tax weight whose holiday sums are empty), and a firm's tax year is clipped to the last slot."""
    runs = getattr(chain, "runs", 1)

    def longest(t):
        return (t.holiday_exempt.reshape(runs, -1).max(axis=1) + t.holiday_half.reshape(runs, -1).max(axis=1))

    return int(np.maximum(np.maximum(longest(terms), longest(plan)), 0).max()) + 2


@dataclass(frozen=True)
class StageMarket:
    """This year's market outcome by stage, as the coefficients need it (arrays by stage)."""

    local_share: np.ndarray  # share of output sold to local buyers
    local_price: np.ndarray  # yuan per unit sold locally
    export_price: np.ndarray  # market price - outbound freight, yuan per unit
    material_local: np.ndarray  # yuan of local chain inputs per unit of output
    material_imported: np.ndarray  # yuan of imported chain inputs (with inbound freight) per unit
    marginal_export_share: np.ndarray  # 1 if a new unit is shipped out, 0 if sold locally
    expected_netback: np.ndarray  # what a new unit earns at trend prices, before any freight subsidy
    expected_material: np.ndarray  # chain inputs per unit at trend prices
    utilisation: np.ndarray  # sales a unit of new capacity can expect
    stage_ratio: np.ndarray  # output / producing capacity this year


@dataclass(frozen=True)
class CellCoefficients:
    """Per-cell coefficients of one year (arrays of length n_stages x 3, or scalars where the same
    for all). Money in yuan, quantities in the stage's unit; ``_x`` per unit of output, ``_y`` per
    unit of output / productivity, ``_k`` per yuan of capital."""

    # production
    threshold: np.ndarray  # largest 1/productivity at which production pays (at the cleared local price)
    priced_up: np.ndarray | None  # bool per cell where the local price rose to clear (None: nowhere)
    stage_ratio: np.ndarray  # output / producing capacity
    # linear accounts
    sales_x: np.ndarray
    above_scale_units: np.ndarray  # output whose sales per recorded firm reach ``rules.ABOVE_SCALE_SALES_YUAN``
    subsidy_x: np.ndarray  # freight subsidy received per unit of output
    materials_x: np.ndarray  # chain and other inputs
    inputs_y: np.ndarray  # power at the price paid
    labour_y: np.ndarray
    kwh_y: np.ndarray
    tech_factor: float  # per-unit primary inputs relative to the chain's (technical change)
    power_gap: np.ndarray  # yuan/kWh booked as fiscal cost (reference - price where it counts)
    profit_x: np.ndarray
    cost_y: np.ndarray
    interest_x: np.ndarray  # interest on working capital
    interest_y: np.ndarray
    interest_rate: float
    dep_per_unit: np.ndarray  # depreciation, yuan per unit of capacity
    # interest subsidy
    has_interest_subsidy: bool
    fixed_rate: np.ndarray  # share of the subsidised fixed-asset balance paid back
    fixed_years: np.ndarray
    wc_rate_x: np.ndarray
    wc_rate_y: np.ndarray
    wc_from: np.ndarray
    wc_years: np.ndarray
    subsidised_loans: np.ndarray  # 1 where this year's new loans are subsidised
    subsidy_value_k: np.ndarray  # PV of the subsidy per yuan of capital
    # tax
    has_holidays: bool
    statutory_rate: float
    base_rate: np.ndarray
    holiday_from: np.ndarray
    plan_holiday_from: np.ndarray | None  # the holidays investors know of, where they differ (None: the same)
    slots: int  # tax-year slots of the holiday tables (0: none)
    tax_rate: np.ndarray | None  # (cells, 2, slots) flattened, or None
    tax_weight_k: np.ndarray | None
    base_tax_weight_k: np.ndarray
    # investment
    capital_cost: np.ndarray
    depreciation: np.ndarray
    survival: np.ndarray
    units_per_yuan: np.ndarray
    build_lag: np.ndarray
    annuity_k: np.ndarray
    util_margin: np.ndarray
    util_cost_y: np.ndarray
    adjustment_cost: float  # phi of the Hayashi investment rule
    max_rate: float
    desire_a_untaxed: np.ndarray
    desire_b_untaxed: np.ndarray
    desire_a_taxed: np.ndarray
    desire_b_taxed: np.ndarray
    desire_max: np.ndarray
    # financing and exit
    debt_share: float
    max_debt_to_capital: float
    exit_enabled: bool
    loss_limit: int
    # issue 12: the other levers (``issue12_coefficients``)
    has_capex_factor: bool  # some cell's investor pays less than the capital cost
    capex_paid_factor: np.ndarray  # share of a new unit's capital cost the investor pays
    desire_a_untaxed_paid: np.ndarray  # desire lines at the cost paid
    desire_a_taxed_paid: np.ndarray
    desire_max_paid: np.ndarray  # desire_max at the cost paid
    units_per_yuan_paid: np.ndarray  # new units per yuan the investor pays
    entry_paid_factor: np.ndarray  # share of a new plant's capital cost its investor pays
    plant_cost: np.ndarray  # yuan: a new plant's capital cost
    grant_share: np.ndarray
    land_discount_share: np.ndarray
    sme_cost_share: np.ndarray
    entry_incentive: np.ndarray
    entrant_multiplier: np.ndarray
    extra_entrants: np.ndarray
    placed_plants: np.ndarray
    placed_large_plants: np.ndarray  # of them at their own size (placed_large_capacity, units a year)
    placed_large_capacity: np.ndarray
    placed_orders_share: np.ndarray  # parent orders per placed plant, share of its capacity
    has_lag_change: bool  # the build lag differs from the chain's somewhere
    track_orders: bool  # firms' orders of the year kept in the state (``FirmState.ordered``)
    has_labour_subsidy: bool
    emp_y: np.ndarray  # labour subsidy per unit of output / productivity
    train_y: np.ndarray  # training grant per unit of output / productivity, first revenue year
    emp_years: np.ndarray
    emp_from: np.ndarray
    labour_value_k: np.ndarray  # PV per yuan of capital of a new plant's labour subsidies
    retrofit_step: np.ndarray
    retrofit_cost: np.ndarray
    removal_compensation: np.ndarray


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


def production_threshold(tech, terms: CellTerms, export_price, expected_material, local_price,
                         local_share) -> np.ndarray:
    """Per cell, the largest 1/productivity at which the expected price covers unit variable cost.

    The expected price mixes local sales (share ``local_share`` of output, at ``local_price``) and
    exports (at the export netback: price - freight + the cell's subsidy). A firm produces iff
    ``price >= materials + (power + labour) / productivity`` (``tests/plain_rules.produces``), i.e. iff
    ``1/productivity <= (price - materials) / (power + labour)``.
    """
    z = 3
    share = np.repeat(local_share, z)
    expected_price = (share * np.repeat(local_price, z)
                      + (1 - share) * (np.repeat(export_price, z) + terms.subsidy_per_unit.ravel()))
    netback = expected_price - np.repeat(expected_material + tech.other_inputs, z)
    kwh = np.repeat(tech.kwh, z) * terms.kwh_factor.ravel()  # issue 12: energy-saving retrofits (1: none)
    primary = np.repeat(tech.workers * tech.wage, z) + kwh * terms.power_price.ravel()
    return np.divide(netback, primary, out=np.where(netback >= 0, np.inf, -np.inf), where=primary > 0)


def import_parity_threshold(tech, terms: CellTerms, import_price, expected_material) -> np.ndarray:
    """Per cell, the largest 1/productivity at which all output sold locally at import parity covers
    unit variable cost: the firms a local shortage brings in (``markets.solve``)."""
    z = 3
    netback = np.repeat(import_price - expected_material - tech.other_inputs, z)
    primary = np.repeat(tech.workers * tech.wage, z) + np.repeat(tech.kwh, z) * terms.power_price.ravel()
    return np.divide(netback, primary, out=np.where(netback >= 0, np.inf, -np.inf), where=primary > 0)


def cell_coefficients(chain, f, terms: CellTerms, market: StageMarket, threshold: np.ndarray,
                      priced_up: np.ndarray | None = None, tech=None,
                      plan: CellTerms | None = None) -> CellCoefficients:
    """Fold this year's prices, market outcome (``market``) and lever terms into per-cell coefficients.

    ``f``: the scenario's ``firms`` settings; ``threshold``: the year's production threshold per
    cell (at import parity where the local price rose, ``priced_up`` per cell); ``tech``: the year's
    per-unit primary inputs (``year.Technology``; default: the chain's); ``plan``: the terms
    investors expect for new capacity (``levers.planning_terms``; default: this year's), from which
    the value of an increment, investment and entry are computed, while the year's flows use
    ``terms``.
    """
    tech = chain if tech is None else tech
    plan = terms if plan is None else plan
    z = 3
    rep = lambda v: np.repeat(np.asarray(v, dtype=float), z)  # noqa: E731  stage -> cell
    power = terms.power_price.ravel()
    subsidy = terms.subsidy_per_unit.ravel()
    share = rep(market.local_share)
    sales_x = share * rep(market.local_price) + (1 - share) * rep(market.export_price)
    subsidy_x = (1 - share) * subsidy
    chain_x = rep(market.material_local) + rep(market.material_imported)
    materials_x = chain_x + rep(tech.other_inputs)  # chain inputs and other inputs, per unit of output
    kwh = rep(tech.kwh) * terms.kwh_factor.ravel()  # issue 12: energy-saving retrofits (1: none)
    inputs_y = kwh * power
    labour_y = rep(tech.workers) * rep(chain.wage)
    cost_y = inputs_y + labour_y
    if plan is terms:
        plan_subsidy, plan_cost_y = subsidy, cost_y
    else:
        plan_subsidy = plan.subsidy_per_unit.ravel()
        # issue 12: the retrofits investors expect (energy_saving) in the power a new unit will use
        plan_cost_y = rep(tech.kwh) * plan.kwh_factor.ravel() * plan.power_price.ravel() + labour_y
    capital_cost, depreciation, lag = rep(chain.capital_cost), rep(chain.depreciation), rep(chain.build_lag)
    lag = np.clip(lag + terms.lag_change.ravel(), 0, None)  # issue 12: approval lag (fast_track < 0)
    beta = 1.0 / (1.0 + f.discount_rate)
    w = beta * (1.0 - depreciation)
    first_h, last_h = 1.0 + lag, lag + f.evaluation_years
    annuity = rules.geometric_sum(w, first_h, last_h)  # PV of a unit's yearly cash over its horizon
    has_holidays = runs_agree(chain, (terms.holiday_exempt + terms.holiday_half > 0)
                              | (plan.holiday_exempt + plan.holiday_half > 0))
    if has_holidays:
        slots = holiday_slots(chain, terms, plan)
        def tables(t):
            return tax_tables(t.holiday_exempt.ravel(), t.holiday_half.ravel(), t.statutory_rate / 2,
                              t.tax_base_rate.ravel(), lag, w, first_h, last_h, slots)

        rate_t, weight_t = tables(terms)
        if plan is not terms:  # the rates paid now, the weights investors expect
            weight_t = tables(plan)[1]
        base_tax_weight = weight_t[:, 0, -1]
        tax_rate, tax_weight_k = rate_t.ravel(), (weight_t / capital_cost[:, None, None]).ravel()
    else:  # every year of every firm at the base rate: no tables needed
        base_tax_weight = plan.tax_base_rate.ravel() * annuity
        slots, tax_rate, tax_weight_k = 0, None, None
    fixed_points = terms.fixed_points.ravel()
    subsidy_value_k = (plan.fixed_points.ravel() / 100.0 * f.debt_share
                       * rules.subsidy_annuity(beta, plan.fixed_years.ravel()))
    plan_holiday_from = (None if plan is terms or np.array_equal(plan.holiday_from, terms.holiday_from)
                         else plan.holiday_from.ravel())
    r = f.interest_rate
    util = rep(market.utilisation)
    util_margin = util * (rep(market.expected_netback) + rep(market.marginal_export_share)
                          * plan_subsidy - rep(market.expected_material) - rep(tech.other_inputs))
    util_cost_y = util * plan_cost_y
    annuity_k = annuity / capital_cost
    base_tax_weight_k = base_tax_weight / capital_cost
    dep_per_unit = depreciation * capital_cost
    wc_x, wc_y = f.working_capital_share * materials_x, f.working_capital_share * cost_y  # working capital / unit
    lines = desire_lines(util_margin, util_cost_y, annuity_k, base_tax_weight_k, dep_per_unit, subsidy_value_k,
                         depreciation, capital_cost, f.max_investment_rate, f.adjustment_cost)
    extra = issue12_coefficients(chain, tech, f, terms, plan, util, capital_cost, depreciation, lines, w, first_h,
                                 last_h)
    return CellCoefficients(
        **extra,
        threshold=threshold, priced_up=priced_up, stage_ratio=rep(market.stage_ratio),
        sales_x=sales_x, above_scale_units=np.divide(rules.ABOVE_SCALE_SALES_YUAN * rep(chain.recorded_firms_per_plant),
                                                     sales_x, out=np.full_like(sales_x, np.inf), where=sales_x > 0),
        subsidy_x=subsidy_x, materials_x=materials_x, inputs_y=inputs_y, labour_y=labour_y,
        kwh_y=kwh, tech_factor=getattr(tech, "factor", 1.0),
        power_gap=np.where(terms.power_counts.ravel(), terms.reference_power_price - power, 0.0),
        profit_x=sales_x + subsidy_x - materials_x - r * wc_x, cost_y=cost_y + r * wc_y,
        interest_x=r * wc_x, interest_y=r * wc_y, interest_rate=r, dep_per_unit=dep_per_unit,
        has_interest_subsidy=runs_agree(chain, (terms.fixed_points > 0) | (terms.wc_points > 0)),
        fixed_rate=fixed_points / 100.0, fixed_years=terms.fixed_years.ravel(),
        wc_rate_x=terms.wc_points.ravel() / 100.0 * wc_x, wc_rate_y=terms.wc_points.ravel() / 100.0 * wc_y,
        wc_from=terms.wc_from.ravel(), wc_years=terms.wc_years.ravel(),
        subsidised_loans=((fixed_points > 0) & (terms.fixed_years.ravel() > 0)) * 1.0,
        subsidy_value_k=subsidy_value_k,
        has_holidays=has_holidays, statutory_rate=terms.statutory_rate, base_rate=terms.tax_base_rate.ravel(),
        holiday_from=terms.holiday_from.ravel(), plan_holiday_from=plan_holiday_from, slots=slots,
        tax_rate=tax_rate, tax_weight_k=tax_weight_k,
        base_tax_weight_k=base_tax_weight_k,
        capital_cost=capital_cost, depreciation=depreciation, survival=1.0 - depreciation,
        units_per_yuan=1.0 / capital_cost, build_lag=lag.astype(np.intp), annuity_k=annuity_k,
        util_margin=util_margin, util_cost_y=util_cost_y, adjustment_cost=f.adjustment_cost,
        max_rate=f.max_investment_rate, **lines,
        debt_share=f.debt_share, max_debt_to_capital=f.max_debt_to_capital,
        exit_enabled=f.exit, loss_limit=f.exit_after_loss_years,
    )


MIN_PAID_SHARE = 0.05  # the investor pays at least this share of a new unit's capital cost (issue 12)


def issue12_coefficients(chain, tech, f, terms: CellTerms, plan: CellTerms, util, capital_cost, depreciation, lines, w,
                         first_h, last_h) -> dict:
    """Issue 12: the other levers' channels folded for the firms, at this single point.

    The investor pays ``capex_paid_factor`` x capital cost per new unit (capital grants and land
    support; at least ``MIN_PAID_SHARE``); an entrant's plant costs it ``entry_paid_factor`` x its
    capital cost (also the SME fund's stake and the attraction incentive). Firms keep valuing and
    depreciating capacity at the chain's capital cost; only what an order costs the investor changes.
    """
    z = 3
    paid = np.maximum(1.0 - terms.grant_share.ravel() - terms.land_discount_share.ravel(), MIN_PAID_SHARE)
    offset = capital_cost * (depreciation - 1.0 / f.adjustment_cost)
    plant_cost = np.repeat(chain.plant_capacity, z) * capital_cost
    sme = terms.sme_investor_share.ravel()
    stake_years, stake_return = terms.sme_years.ravel(), terms.sme_return.ravel()
    # the fund's stake is bought back at par plus ``stake_return`` a year after ``stake_years``: the
    # investor saves the stake now and pays its buyback later, at the firms' discount rate
    sme_saving = sme * (1.0 - ((1.0 + stake_return) / (1.0 + f.discount_rate)) ** stake_years)
    entry_paid = np.maximum(paid - sme_saving - terms.entry_incentive.ravel() / plant_cost, MIN_PAID_SHARE)
    rep_workers = np.repeat(tech.workers, z)
    emp_y = rep_workers * terms.labour_subsidy_per_worker.ravel()
    train_y = rep_workers * terms.training_grant_per_worker.ravel()
    years = terms.labour_subsidy_years.ravel()
    # PV per yuan of capital of the labour subsidies a new plant of productivity 1 gets (before tax),
    # as investors expect them (``plan``: the rules announced so far, in force when it produces)
    plan_years = plan.labour_subsidy_years.ravel()
    labour_value_k = util * (rep_workers * plan.labour_subsidy_per_worker.ravel()
                             * rules.geometric_sum(w, first_h, np.minimum(first_h + plan_years - 1.0, last_h))
                             + rep_workers * plan.training_grant_per_worker.ravel() * w ** first_h) / capital_cost
    return {
        "has_capex_factor": runs_agree(chain, paid != 1.0), "capex_paid_factor": paid,
        # the Hayashi lines at the cost paid: yuan paid = paid C (delta + (V / paid - 1) / phi), i.e. the
        # lines' offset C (delta - 1 / phi) scaled by ``paid``, the same slope (``desire_lines``)
        **{f"{name}_paid": lines[name] + (paid - 1.0) * offset for name in ("desire_a_untaxed", "desire_a_taxed")},
        "desire_max_paid": f.max_investment_rate * paid * capital_cost,
        "units_per_yuan_paid": 1.0 / (paid * capital_cost),
        "entry_paid_factor": entry_paid, "plant_cost": plant_cost,
        "grant_share": terms.grant_share.ravel(), "land_discount_share": terms.land_discount_share.ravel(),
        "sme_cost_share": terms.sme_cost_share.ravel(), "entry_incentive": terms.entry_incentive.ravel(),
        "entrant_multiplier": terms.entrant_multiplier.ravel(), "extra_entrants": terms.extra_entrants.ravel(),
        "placed_plants": terms.placed_plants.ravel(), "placed_orders_share": terms.placed_orders_share.ravel(),
        "placed_large_plants": terms.placed_large_plants.ravel(),
        "placed_large_capacity": terms.placed_large_capacity.ravel(),
        "has_lag_change": runs_agree(chain, terms.lag_change != 0), "track_orders": terms.track_orders,
        "has_labour_subsidy": runs_agree(chain, (emp_y > 0) | (train_y > 0)),
        "emp_y": emp_y, "train_y": train_y, "emp_years": years, "emp_from": terms.labour_subsidy_from.ravel(),
        "labour_value_k": labour_value_k,
        "retrofit_step": terms.retrofit_step.ravel(), "retrofit_cost": terms.retrofit_cost.ravel(),
        "removal_compensation": terms.removal_compensation.ravel(),
    }


def desire_lines(util_margin, util_cost_y, annuity_k, tax_weight_k, dep_per_unit, subsidy_value_k, depreciation,
                 capital_cost, max_rate, adjustment_cost) -> dict:
    """Per cell, ``desired_investment`` per unit of capacity as ``min(max(min(untaxed, taxed), 0), desire_max)``.

    With ``c = util_margin - util_cost_y / productivity`` (a unit's yearly cash), the value per
    yuan is ``V = c annuity - max(c - dep, 0) tax_weight + subsidy``, the smaller of two lines in c
    (untaxed, and taxed above depreciation, as the weight is not negative); the Hayashi rate
    ``delta + (V - 1) / phi`` (``rules.investment_rate_of_value``), floored at 0 and capped at
    ``max_rate``, times the capital cost, keeps that form: each line becomes
    ``capital_cost (delta - 1/phi) + (capital_cost / phi) V``, i.e. ``a - b / productivity``.
    """
    scale = capital_cost / adjustment_cost
    offset = capital_cost * (depreciation - 1.0 / adjustment_cost)
    taxed_slope = annuity_k - tax_weight_k
    return {
        "desire_a_untaxed": offset + scale * (util_margin * annuity_k + subsidy_value_k),
        "desire_b_untaxed": scale * util_cost_y * annuity_k,
        "desire_a_taxed": offset + scale * (util_margin * taxed_slope + dep_per_unit * tax_weight_k + subsidy_value_k),
        "desire_b_taxed": scale * util_cost_y * taxed_slope,
        "desire_max": max_rate * capital_cost,
    }


class Spread:
    """The coefficients as the firms of a block of rows see them: ``g.name`` is the per-cell array
    ``name`` spread over the rows (``spread(per_cell)``), or, for one firm, its cell's value."""

    __slots__ = ("_k", "_spread", "_kept")

    def __init__(self, k: CellCoefficients, spread, kept: dict | None = None):
        self._k, self._spread, self._kept = k, spread, kept

    def __getattr__(self, name: str):
        kept = self._kept
        if kept is not None and name in RUN_CONSTANTS:
            value = kept.get(name)
            if value is None:
                value = kept[name] = self._spread(getattr(self._k, name))
                if isinstance(value, np.ndarray):
                    value.flags.writeable = False
            return value
        return self._spread(getattr(self._k, name))
