"""Electricity price: the industrial power price paid by targeted firms.

Scenario block ``policy.electricity_price``: ``default`` (yuan/kWh, a number or ``{year: value}``),
``rules`` (targeting + ``price_yuan_per_kwh``, the last matching rule wins), the supply cost
``reference_yuan_per_kwh``. Effect: power per unit of output costs ``kWh/productivity x price``.
Fiscal cost: ``(reference - price) x kWh`` where the rule counts it (captive smelter power that costs
the budget nothing: ``counts_as_fiscal_cost: false``; a price above the reference is negative cost,
i.e. revenue).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ...config.targets import Rule, _Strict, _time_path, rule_value, value_at
from ..targeting import target_mask
from .base import Lever


class ElectricityRule(Rule):
    price_yuan_per_kwh: _time_path(0.0, 5.0)
    counts_as_fiscal_cost: bool | None = None


class ElectricityPrice(_Strict):
    """Industrial power price; fiscal cost = (reference - price) x kWh where it counts."""

    reference_yuan_per_kwh: float = Field(default=0.40, gt=0, le=5)
    default: _time_path(0.0, 5.0) = Field(default_factory=lambda: {-1: 0.40})
    counts_as_fiscal_cost: bool = True
    rules: list[ElectricityRule] = Field(default_factory=list)


def terms(ep: ElectricityPrice, chain, year: int, price, t):
    shape = t.power_price.shape
    power = np.full(shape, value_at(ep.default, year, ep.reference_yuan_per_kwh))
    counts = np.full(shape, ep.counts_as_fiscal_cost)
    for rule in ep.rules:
        m = target_mask(rule, chain)
        rule_price = rule_value(rule.price_yuan_per_kwh, year)
        if rule_price is not None:  # before its first year the rule does nothing
            power[m] = rule_price
            if rule.counts_as_fiscal_cost is not None:
                counts[m] = rule.counts_as_fiscal_cost
    return t.set(power_price=power, power_counts=counts, reference_power_price=ep.reference_yuan_per_kwh)


def fiscal_cost(f):
    """Yuan: the power gap (reference - price where it counts) x kWh used (kWh per unit x output / productivity)."""
    return f.power_gap * f.kwh_y * f.Y


LEVER = Lever(
    key="electricity_price", label="electricity price", schema=ElectricityPrice, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("power_gap", "kwh_y", "Y"),
    cost_definition="(reference_yuan_per_kwh - price) x kWh, where the rule counts it",
    rule_lists=lambda ep: {"rules": ep.rules},
)
