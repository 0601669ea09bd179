"""Land support (用地保障: allocation 划拨, lease-then-sell 先租后让, no premium for a higher plot ratio).

Scenario block ``policy.land_support``: ``land_share_of_capital`` (the part of a stage's
``capital_yuan_per_unit_capacity`` that is the land premium; default 0.05, an assumption: the
chain's capital cost includes land, so the baseline already pays it) and ``rules`` (targeting +
``discount``, the share of the land premium waived, a time path: 1 = allocation free of charge;
the last matching rule wins).

Effect: a new unit of capacity (incumbents' increments and new plants) costs its investor
``discount x land share`` less (the channel ``CellTerms.land_discount_share``, folded into
``capex_paid_factor`` in ``coefficients.issue12_coefficients``). Fiscal cost: the land revenue
forgone, ``discount x land share x capital cost`` of the year's new capacity.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ...config.targets import Rule, _Strict, _time_path, rule_value
from ..targeting import target_mask
from .base import Lever


class LandRule(Rule):
    discount: _time_path(0.0, 1.0)


class LandSupport(_Strict):
    """Land premium waived on new capacity; fiscal cost = land revenue forgone."""

    land_share_of_capital: float = Field(default=0.05, ge=0, le=1)  # assumption (docs/calibration.md)
    rules: list[LandRule] = Field(default_factory=list)


def terms(block: LandSupport, chain, year: int, price, t):
    if not (block.rules):  # nothing to set: the neutral terms stand (and a year costs nothing more)
        return t
    discount = np.zeros(t.land_discount_share.shape)
    for rule in block.rules:
        value = rule_value(rule.discount, year)
        if value is not None:  # before its first year the rule does nothing
            discount[target_mask(rule, chain)] = value
    return t.set(land_discount_share=discount * block.land_share_of_capital)


def fiscal_cost(f):
    """Yuan: land share x discount x capital cost of the year's new capacity (incumbents' and new plants')."""
    return f.land_discount_share * (f.investment / f.capex_paid_factor + f.entry_capex)


LEVER = Lever(
    key="land_support", label="land support", schema=LandSupport, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("land_discount_share", "investment", "capex_paid_factor", "entry_capex"),
    cost_definition="land revenue forgone: discount x land share x capital cost of the year's new capacity",
    rule_lists=lambda block: {"rules": block.rules},
)
