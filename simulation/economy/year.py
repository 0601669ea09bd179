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
from .markets import Quantities
from .shocks import demand_multiplier, price_multiplier
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
    market: StageMarket
    coefficients: CellCoefficients


def year_prices(spec, chain, year: int, shock: np.ndarray) -> YearPrices:
    """Market prices follow their trend, the price paths and ``shock`` (standard normal by stage);
    outside demand follows the trend price (the region is a price taker: a year's shock changes
    what a unit earns, not how much can be sold)."""
    t = year - spec.horizon.start
    sigma = spec.shocks.price_volatility
    trend = chain.price0 * (1.0 + chain.price_growth) ** t * price_multiplier(spec, chain, year)
    price = trend * np.exp(sigma * shock - 0.5 * sigma**2)
    demand = (chain.demand0 * spec.firms.scale * (1.0 + chain.demand_growth) ** t
              * (trend / chain.price0) ** (-chain.elasticity) * demand_multiplier(spec, chain, year))
    return YearPrices(trend, price, demand, price + chain.freight_in, price - chain.freight_out)


def local_price(chain, local_price_share: float, local_ratio, price, subsidy_mean) -> np.ndarray:
    """Price of a local sale: between the sellers' mean export netback and the buyers' import
    price, at ``local_price_share`` of the way (0: sellers get their netback, the calibration of
    the default chain; 0.5: buyer and seller split the freight saved), or further where local
    buyers were short last year: a stage that met only a share r of local demand sells at least
    ``1 - r`` of the way to import parity (scarcity)."""
    netback = price - chain.freight_out + subsidy_mean
    share = np.maximum(local_price_share, 1.0 - local_ratio)
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
        material_local=A.T @ (q.local_ratio * local_now),
        material_imported=A.T @ ((1 - q.local_ratio) * prices.import_price),
        # a new unit is sold locally where local buyers still import, else shipped out
        marginal_export_share=(q.local_ratio >= 1.0) * 1.0,
        expected_netback=np.where(q.local_ratio >= 1.0, trend - chain.freight_out, local_trend),
        expected_material=A.T @ (q.local_ratio * local_trend + (1 - q.local_ratio) * (trend + chain.freight_in)),
        # sales a unit of new capacity can expect: demand over capacity already there or being built
        utilisation=np.minimum(1.0, np.divide(q.local_demand + prices.demand, built_or_building,
                                              out=np.ones(chain.n_stages), where=built_or_building > 0)),
        stage_ratio=q.utilisation,
    )


def entry_means(k: CellCoefficients, chain, f, zone_shares: np.ndarray, year: int) -> np.ndarray:
    """Expected new plants per (stage, zone) cell: potential investors x the chance a plant pays.

    Investors judge a plant of average productivity (1) by the increment value incumbents use
    (``firm.increment_q``), with the tax holiday the plant would get when it first sells.
    """
    cells = np.arange(chain.n_stages * 3)
    if k.has_holidays:
        holiday = (year + 1 + k.build_lag) >= k.holiday_from
        tax_weight = k.tax_weight_k[(cells * 2 + holiday) * k.slots]  # slot 0: no revenue yet
    else:
        tax_weight = k.base_tax_weight_k
    q_new = firm.increment_q(k, 1.0, tax_weight)
    return (f.potential_entrants_per_stage * f.scale * np.tile(zone_shares, chain.n_stages)
            * rules.entry_probability(q_new, f.entry_sensitivity))
