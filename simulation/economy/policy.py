"""Levers and shocks turned into per-year tables over (stage, zone).

Each table has shape ``(n_stages, 3)`` (zones: ordinary, difficult area, special zone); a firm
reads its value at ``table.flat[stage * 3 + zone]``. Rules apply in the order written and the
last matching rule wins, so a general rule followed by a zone-specific one gives the zone a
different rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.chain import SECTORS, ZONES, Chain
from ..config.scenario import Scenario, Target, value_at

N_ZONES = len(ZONES)


def target_mask(rule: Target, chain: Chain) -> np.ndarray:
    """Boolean ``(n_stages, 3)`` mask of the (stage, zone) cells a rule targets."""
    stage_ok = np.ones(chain.n_stages, dtype=bool)
    if rule.sectors:
        stage_ok &= np.isin(chain.sector_id, [SECTORS.index(s) for s in rule.sectors])
    if rule.stages:
        stage_ok &= np.isin(np.arange(chain.n_stages), [chain.index[s] for s in rule.stages])
    if rule.tiers:
        stage_ok &= np.isin(chain.tier, rule.tiers)
    zone_ok = np.ones(N_ZONES, dtype=bool)
    if rule.zones:
        zone_ok = np.isin(np.array(ZONES), rule.zones)
    return stage_ok[:, None] & zone_ok[None, :]


def first_active_year(path: dict[int, float], neutral: float) -> int:
    """First year in which a time path differs from its neutral value (-1: from the start)."""
    for year, x in path.items():
        if x != neutral:
            return year
    return 10**9


@dataclass
class YearPolicy:
    """Lever values for one year, as (stage, zone) tables."""

    power_price: np.ndarray  # yuan/kWh paid
    power_counts: np.ndarray  # bool: (reference - price) is a fiscal cost
    subsidy_per_unit: np.ndarray  # yuan per unit exported
    tax_base_rate: np.ndarray
    holiday_exempt: np.ndarray  # years
    holiday_half: np.ndarray  # years
    holiday_from: np.ndarray  # first revenue year from which the holiday applies
    fixed_points: np.ndarray  # interest subsidy, percentage points
    fixed_years: np.ndarray
    wc_points: np.ndarray
    wc_years: np.ndarray
    wc_from: np.ndarray  # year the working-capital subsidy starts
    reference_power_price: float
    statutory_rate: float


def year_policy(spec: Scenario, chain: Chain, year: int, price: np.ndarray) -> YearPolicy:
    """All lever tables in ``year``; ``price`` is this year's market price by stage."""
    n = chain.n_stages
    shape = (n, N_ZONES)
    pol = spec.policy
    ep = pol.electricity_price
    power = np.full(shape, value_at(ep.default, year, ep.reference_yuan_per_kwh))
    counts = np.full(shape, ep.counts_as_fiscal_cost)
    for rule in ep.rules:
        m = target_mask(rule, chain)
        rule_price = value_at(rule.price_yuan_per_kwh, year, np.nan)  # before its first year: no change
        if not np.isnan(rule_price):
            power[m] = rule_price
        if rule.counts_as_fiscal_cost is not None:
            counts[m] = rule.counts_as_fiscal_cost

    subsidy = np.zeros(shape)
    for rule in pol.freight_subsidy.rules:
        m = target_mask(rule, chain)
        if rule.yuan_per_t is not None:
            per_unit = value_at(rule.yuan_per_t, year, 0.0) * chain.weight_t
        elif rule.share_of_sales is not None:
            per_unit = value_at(rule.share_of_sales, year, 0.0) * price
        else:
            per_unit = value_at(rule.share_of_freight, year, 0.0) * chain.freight_out
        subsidy = np.where(m, per_unit[:, None], subsidy)

    tax = pol.tax
    base = np.full(shape, value_at(tax.default_rate, year, tax.statutory_rate))
    for rule in tax.rules:
        base[target_mask(rule, chain)] = value_at(rule.rate, year, tax.statutory_rate)
    exempt = np.zeros(shape)
    half = np.zeros(shape)
    hol_from = np.full(shape, 1e9)  # 1e9: no holiday
    for h in tax.holidays:
        m = target_mask(h, chain)
        exempt[m], half[m], hol_from[m] = h.exempt_years, h.half_years, h.from_year

    fixed_p, fixed_y = np.zeros(shape), np.zeros(shape)
    wc_p, wc_y, wc_from = np.zeros(shape), np.zeros(shape), np.full(shape, 1e9)
    for rule in pol.interest_subsidy.rules:
        m = target_mask(rule, chain)
        fixed_p[m] = value_at(rule.fixed_asset_points, year, 0.0)
        fixed_y[m] = rule.fixed_asset_years
        wc_p[m] = value_at(rule.working_capital_points, year, 0.0)
        wc_y[m] = rule.working_capital_years
        wc_from[m] = first_active_year(rule.working_capital_points, 0.0)
    return YearPolicy(power, counts, subsidy, base, exempt, half, hol_from, fixed_p, fixed_y, wc_p, wc_y,
                      wc_from, ep.reference_yuan_per_kwh, tax.statutory_rate)


def price_multiplier(spec: Scenario, chain: Chain, year: int) -> np.ndarray:
    """Cumulative effect of the scenario's price paths on each stage's trend price in ``year``."""
    mult = np.ones(chain.n_stages)
    for path in spec.shocks.price_paths:
        start = spec.horizon.start if path.from_year == -1 else path.from_year
        years = max(0, year - start + 1)
        stages = target_mask(path, chain).any(axis=1)
        mult[stages] *= (1.0 + path.change_per_year) ** years
    return mult


def demand_multiplier(spec: Scenario, chain: Chain, year: int) -> np.ndarray:
    """Demand slowdowns (or booms) in force in ``year``, by stage."""
    mult = np.ones(chain.n_stages)
    for shock in spec.shocks.demand:
        if shock.from_year <= year <= shock.to_year:
            mult[target_mask(shock, chain).any(axis=1)] *= 1.0 + shock.change
    return mult
