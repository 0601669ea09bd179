"""Interest subsidy: percentage points off the interest on targeted firms' loans.

Scenario block ``policy.interest_subsidy.rules``: targeting + ``fixed_asset_points`` (on the
fixed-asset loans of each year's investment, for ``fixed_asset_years`` years on the amortising
balance) and ``working_capital_points`` (on working capital, for ``working_capital_years`` from
the firm's start or the subsidy's first year); the last matching rule wins. Effect: lower interest
cost, and the PV of the subsidy raises the value of new capacity. Fiscal cost: the subsidy paid.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ...config.targets import Rule, _Strict, _time_path, rule_value
from ..targeting import first_active_year, target_mask
from .base import Lever


class InterestRule(Rule):
    fixed_asset_points: _time_path(0.0, 20.0) = Field(default_factory=lambda: {-1: 0.0})
    fixed_asset_years: int = Field(default=5, ge=0, le=30)
    working_capital_points: _time_path(0.0, 20.0) = Field(default_factory=lambda: {-1: 0.0})
    working_capital_years: int = Field(default=3, ge=0, le=30)


class InterestSubsidy(_Strict):
    """Interest subsidy in percentage points on loans; the last matching rule applies."""

    rules: list[InterestRule] = Field(default_factory=list)


def terms(block: InterestSubsidy, chain, year: int, price, t):
    shape = t.fixed_points.shape
    fixed_p, fixed_y = np.zeros(shape), np.zeros(shape)
    wc_p, wc_y, wc_from = np.zeros(shape), np.zeros(shape), np.full(shape, 1e9)
    for rule in block.rules:  # each part of a rule does nothing before its first year
        m = target_mask(rule, chain)
        points = rule_value(rule.fixed_asset_points, year)
        if points is not None:
            fixed_p[m] = points
            fixed_y[m] = rule.fixed_asset_years
        points = rule_value(rule.working_capital_points, year)
        if points is not None:
            wc_p[m] = points
            wc_y[m] = rule.working_capital_years
            wc_from[m] = first_active_year(rule.working_capital_points, 0.0)
    return t.set(fixed_points=fixed_p, fixed_years=fixed_y, wc_points=wc_p, wc_years=wc_y, wc_from=wc_from)


def subsidy_vintages(block: InterestSubsidy) -> int:
    """Years of subsidised fixed-asset loans the firms' state must keep (the longest rule's)."""
    return max([r.fixed_asset_years for r in block.rules] + [0])


def fiscal_cost(f):
    """Yuan: the interest subsidy paid to the firms."""
    return f.interest_subsidy


LEVER = Lever(
    key="interest_subsidy", label="interest subsidy", schema=InterestSubsidy, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("interest_subsidy",),
    cost_definition="interest subsidy paid (points x subsidised loan balances and working capital)",
    rule_lists=lambda block: {"rules": block.rules},
)
