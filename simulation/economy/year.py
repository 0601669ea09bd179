"""The economics of one year, in the order it runs, as pure functions of typed records.

prices and demand (``year_prices``) -> lever terms (``levers.year_terms``) -> production plans
(``coefficients.production_threshold``) -> stage markets (``markets.solve``) -> the market record
(``stage_market``) -> per-cell coefficients (``coefficients.cell_coefficients``) -> the firms'
year (the engine, ``firm.firm_year``) and entry (``entry_means``) -> accounts and fiscal costs
(``accounts``). The Mesa model only schedules these steps and keeps the state between years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import firm, rules
from .coefficients import CellCoefficients, StageMarket
from .iomath import input_value
from .markets import Quantities
from .shocks import demand_elasticity, demand_multiplier, demand_price_multiplier, price_multiplier
from .terms import CellTerms


@dataclass(frozen=True)
class YearPrices:
    """Prices and outside demand by stage in one year (yuan per unit; units per year)."""

    trend: np.ndarray  # trend price x the scenario's price paths
    price: np.ndarray  # trend x this year's lognormal shock (common within a sector)
    demand: np.ndarray  # outside demand the region can reach
    import_price: np.ndarray  # price + inbound freight
    export_price: np.ndarray  # price - outbound freight


@dataclass(frozen=True)
class Year:
    """One year's economy as the model last computed it (for inspection: ``model.last_year``)."""

    prices: YearPrices
    terms: CellTerms
    quantities: Quantities
    capacity_at_import_parity: np.ndarray  # by stage: the firms that cover their cost at import parity
    market: StageMarket
    coefficients: CellCoefficients


@dataclass(frozen=True)
class Technology:
    """Per-unit primary inputs by stage in one year: the chain's, lowered by technical change."""

    factor: float  # (1 - firms.technical_change_per_year) ** years since the start
    other_inputs: np.ndarray  # yuan per unit
    kwh: np.ndarray  # kWh per unit (at productivity 1)
    workers: np.ndarray  # workers per unit-year (at productivity 1)
    wage: np.ndarray  # yuan per worker-year


def year_technology(chain, f, years_since_start: int) -> Technology:
    """Cost-reducing technical change: other inputs, power and labour per unit fall by
    ``firms.technical_change_per_year`` a year (chain materials stay at fixed coefficients, so the
    Leontief matrix does not move); docs/calibration.md gives the source and range."""
    factor = (1.0 - f.technical_change_per_year) ** years_since_start
    return Technology(factor, chain.other_inputs * factor, chain.kwh * factor, chain.workers * factor, chain.wage)


def year_prices(spec, chain, year: int, shock: np.ndarray) -> YearPrices:
    """Market prices follow their trend, the price paths, the demand shifts (``shocks``) and
    ``shock`` (standard normal by stage); outside demand follows the trend price (the region is a
    price taker: a year's shock changes what a unit earns, not how much can be sold)."""
    t = year - spec.horizon.start
    sigma = spec.shocks.price_volatility
    trend = (chain.price0 * (1.0 + chain.price_growth) ** t * price_multiplier(spec, chain, year)
             * demand_price_multiplier(spec, chain, year))
    price = trend * np.exp(sigma * shock - 0.5 * sigma**2)
    demand = (chain.demand0 * spec.firms.scale * (1.0 + chain.demand_growth) ** t
              * (trend / chain.price0) ** (-demand_elasticity(spec, chain)) * demand_multiplier(spec, chain, year))
    return YearPrices(trend, price, demand, price + chain.freight_in, price - chain.freight_out)


def local_price(chain, share, price, subsidy_mean) -> np.ndarray:
    """Price of a local sale: ``share`` of the way from the sellers' mean export netback (price -
    freight out + their mean freight subsidy) to the buyers' import parity (price + freight in).

    ``share`` by stage: ``firms.local_price_share`` where local supply is ample (0: sellers get their
    netback, the calibration of the default chain; 0.5: buyer and seller split the freight saved),
    and the market's clearing position where local buyers were short (``markets.solve``).
    """
    netback = price - chain.freight_out + subsidy_mean
    return netback + share * (price + chain.freight_in - netback)


def stage_market(chain, prices: YearPrices, q: Quantities, local_now, local_trend,
                 built_or_building) -> StageMarket:
    """The year's market outcome as the coefficients need it; ``local_now`` / ``local_trend``: the
    local price at this year's and at trend prices; ``built_or_building``: capacity there or ordered."""
    A = chain.A
    trend = prices.trend
    return StageMarket(
        local_share=np.divide(q.local_sales, q.output, out=np.zeros(chain.n_stages), where=q.output > 0),
        local_price=local_now, export_price=prices.export_price,
        material_local=input_value(A, q.local_ratio * local_now),
        material_imported=input_value(A, (1 - q.local_ratio) * prices.import_price),
        # a new unit is sold locally where local buyers still import, else shipped out
        marginal_export_share=(q.local_ratio >= 1.0) * 1.0,
        expected_netback=np.where(q.local_ratio >= 1.0, trend - chain.freight_out, local_trend),
        expected_material=input_value(A, q.local_ratio * local_trend
                                      + (1 - q.local_ratio) * (trend + chain.freight_in)),
        # sales a unit of new capacity can expect: demand over capacity already there or being built
        utilisation=np.minimum(1.0, np.divide(q.local_demand + prices.demand, built_or_building,
                                              out=np.ones(chain.n_stages), where=built_or_building > 0)),
        stage_ratio=q.utilisation,
    )


def potential_entrants(f, zone_shares: np.ndarray, firms_per_cell: np.ndarray) -> np.ndarray:
    """Potential investors per (stage, zone) cell a year: ``potential_entrants_per_firm`` for each
    firm of the cell (a market's size brings its own investors: a large stage draws more than a
    small one) plus the stage's outside investors, ``potential_entrants_per_stage x scale`` split
    by the zone shares (this is how stages the region lacks can appear)."""
    n_stages = firms_per_cell.size // 3
    return (f.potential_entrants_per_firm * firms_per_cell
            + f.potential_entrants_per_stage * f.scale * np.tile(zone_shares, n_stages))


def entry_means(k: CellCoefficients, chain, f, zone_shares: np.ndarray, year: int,
                firms_per_cell: np.ndarray) -> np.ndarray:
    """Expected new plants per (stage, zone) cell: potential investors x the chance a plant pays,
    plus the plants a drive places whatever they earn (``investment_attraction``'s placed plants).

    Investors judge a plant of average productivity by the increment value incumbents use
    (``firm.increment_q``), with the tax holiday the plant would get when it first sells. A new
    plant's average productivity is the stage's ``new_plant_productivity`` (1 unless the chain
    sets it), the same factor ``ValueChainModel._entry`` gives the plants it builds.
    """
    cells = np.arange(chain.n_stages * 3)
    if k.has_holidays:
        holiday_from = k.holiday_from if k.plan_holiday_from is None else k.plan_holiday_from
        holiday = (year + 1 + k.build_lag) >= holiday_from
        tax_weight = k.tax_weight_k[(cells * 2 + holiday) * k.slots]  # slot 0: no revenue yet
    else:
        tax_weight = k.base_tax_weight_k
    # issue 12: a plant's labour subsidies add to its value; it costs its investor entry_paid_factor x
    # its capital cost (grants, land, the SME fund's stake, the attraction incentive)
    inv_productivity = 1.0 / np.repeat(chain.new_plant_productivity, 3)  # per cell (stage x zone)
    q_new = (firm.increment_value(k, inv_productivity, tax_weight) + k.labour_value_k) / k.entry_paid_factor - 1.0
    chance = rules.entry_probability(q_new, f.entry_hurdle_q, f.entry_dispersion_q)
    # issue 12 (investment_attraction): the cells' potential investors x the lever's multiplier, plus
    # the outside investors it brings to the stage, shared over zones like the stage's own
    shares = np.tile(zone_shares, chain.n_stages)
    investors = (potential_entrants(f, zone_shares, firms_per_cell) * k.entrant_multiplier
                 + k.extra_entrants * f.scale * shares)
    # and the plants the drive places a year, shared over zones the same way, not x the chance
    return investors * chance + placed_means(k, chain, f, zone_shares)


def placed_means(k: CellCoefficients, chain, f, zone_shares: np.ndarray) -> np.ndarray:
    """Expected placed plants per (stage, zone) cell (``investment_attraction``): the stage's placed
    plants a year x scale, shared over zones like the stage's outside investors; the large placed
    plants (``large_placed_means``) included."""
    placed = k.placed_plants + k.placed_large_plants if k.placed_large_plants.any() else k.placed_plants
    return placed * f.scale * np.tile(zone_shares, chain.n_stages)


def large_placed_means(k: CellCoefficients, chain, f, zone_shares: np.ndarray) -> np.ndarray:
    """Expected large placed plants per cell (``investment_attraction``'s
    ``large_placed_plants_per_year``), x scale and shared over zones like the placed plants."""
    return k.placed_large_plants * f.scale * np.tile(zone_shares, chain.n_stages)
