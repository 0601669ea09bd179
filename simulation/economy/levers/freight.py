"""Freight subsidy: paid per unit of the targeted goods shipped out of the region.

Scenario block ``policy.freight_subsidy.rules``: targeting + exactly one of ``yuan_per_t`` (times
the stage's tonnes per unit), ``share_of_sales`` (of the destination price) or
``share_of_freight`` (of the outbound freight); the last matching rule wins. Effect: an exported
unit earns its netback plus the subsidy (so the local opportunity cost of the good rises too).
Fiscal cost: the subsidy paid on the units shipped out.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from ...config.targets import Rule, _Strict, _time_path, rule_value
from ..targeting import target_mask
from .base import Lever


class FreightRule(Rule):
    yuan_per_t: _time_path(0.0, 1e5) | None = None
    share_of_sales: _time_path(0.0, 1.0) | None = None
    share_of_freight: _time_path(0.0, 1.0) | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> FreightRule:
        given = [k for k in ("yuan_per_t", "share_of_sales", "share_of_freight") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of yuan_per_t, share_of_sales, share_of_freight")
        return self


class FreightSubsidy(_Strict):
    """Subsidy on goods shipped out of the region; the last matching rule applies."""

    rules: list[FreightRule] = Field(default_factory=list)


def terms(block: FreightSubsidy, chain, year: int, price, t):
    subsidy = np.zeros(t.subsidy_per_unit.shape)
    for rule in block.rules:
        if rule.yuan_per_t is not None:
            value, base = rule_value(rule.yuan_per_t, year), chain.weight_t
        elif rule.share_of_sales is not None:
            value, base = rule_value(rule.share_of_sales, year), price
        else:
            value, base = rule_value(rule.share_of_freight, year), chain.freight_out
        if value is None:  # before its first year the rule does nothing
            continue
        subsidy = np.where(target_mask(rule, chain), (value * base)[:, None], subsidy)
    return t.set(subsidy_per_unit=subsidy)


def fiscal_cost(f):
    """Yuan: the subsidy per unit exported x output (``subsidy_x`` is the exported share x subsidy)."""
    return f.subsidy_x * f.X


LEVER = Lever(
    key="freight_subsidy", label="freight subsidy", schema=FreightSubsidy, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("subsidy_x", "X"),
    cost_definition="subsidy paid on the units shipped out of the region",
    rule_lists=lambda block: {"rules": block.rules},
)
