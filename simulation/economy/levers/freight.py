"""Freight subsidy: paid per unit of the targeted goods shipped out of the region.

Scenario block ``policy.freight_subsidy.rules``: targeting + exactly one of ``yuan_per_t`` (times
the stage's tonnes per unit), ``share_of_sales`` (of the destination price) or
``share_of_freight`` (of the outbound freight); the last matching rule wins. Effect: an exported
unit earns its netback plus the subsidy (so the local opportunity cost of the good rises too).
Fiscal cost: the subsidy paid on the units shipped out.

Conditional rate (issue 12): a ``yuan_per_t`` rule may add ``local_input_yuan_per_t``, the rate
paid when the good is made from local inputs (the region's fabric subsidy: 900 yuan/t from local
yarn, 500 otherwise), with ``local_inputs`` naming the input stages that count (default: all the
stage's chain inputs). The rule then pays ``yuan_per_t + (local rate - yuan_per_t) x r`` per tonne,
where ``r`` is the local share of those inputs last year (their local supply ratios, weighted by
input value at base prices; the channels ``CellTerms.local_bonus_per_unit`` and
``local_bonus_weights``, folded by ``with_local_inputs``, which the model calls with last year's
local supply ratios).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from ...config.targets import Rule, _Strict, _time_path, rule_value
from ..iomath import input_value
from ..targeting import target_mask
from .base import Lever


class FreightRule(Rule):
    yuan_per_t: _time_path(0.0, 1e5) | None = None
    share_of_sales: _time_path(0.0, 1.0) | None = None
    share_of_freight: _time_path(0.0, 1.0) | None = None
    local_input_yuan_per_t: _time_path(0.0, 1e5) | None = None  # issue 12: rate for goods of local inputs
    local_inputs: list[str] = Field(default_factory=list)  # input stages that count (default: all)

    @model_validator(mode="after")
    def _one_kind(self) -> FreightRule:
        given = [k for k in ("yuan_per_t", "share_of_sales", "share_of_freight") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of yuan_per_t, share_of_sales, share_of_freight")
        if (self.local_input_yuan_per_t is not None or self.local_inputs) and self.yuan_per_t is None:
            raise ValueError("local_input_yuan_per_t and local_inputs go with yuan_per_t")
        return self


class FreightSubsidy(_Strict):
    """Subsidy on goods shipped out of the region; the last matching rule applies."""

    rules: list[FreightRule] = Field(default_factory=list)


def terms(block: FreightSubsidy, chain, year: int, price, t):
    subsidy = np.zeros(t.subsidy_per_unit.shape)
    bonus, weights = np.zeros(subsidy.shape), np.zeros((chain.n_stages, chain.n_stages))
    for rule in block.rules:
        mask = target_mask(rule, chain)
        local = rule_value(rule.local_input_yuan_per_t, year) if rule.yuan_per_t is not None else None
        if local is not None and rule_value(rule.yuan_per_t, year) is not None:
            extra = (local - rule_value(rule.yuan_per_t, year)) * chain.weight_t
            bonus = np.where(mask, extra[:, None], bonus)
            counted = np.zeros(chain.n_stages, dtype=bool)
            counted[[chain.index[s] for s in rule.local_inputs] if rule.local_inputs else slice(None)] = True
            value = chain.A * (chain.price0 * counted)[:, None]  # yuan of counted inputs per unit, base prices
            total = value.sum(axis=0)
            share = np.divide(value, total, out=np.zeros_like(value), where=total > 0)
            stages = mask.any(axis=1)
            weights[:, stages] = share[:, stages]
        elif (rule_value(rule.yuan_per_t, year) if rule.yuan_per_t is not None else
              rule_value(rule.share_of_sales if rule.share_of_sales is not None else rule.share_of_freight,
                         year)) is not None:
            bonus = np.where(mask, 0.0, bonus)  # a later rule without a local rate replaces it
        if rule.yuan_per_t is not None:
            value, base = rule_value(rule.yuan_per_t, year), chain.weight_t
        elif rule.share_of_sales is not None:
            value, base = rule_value(rule.share_of_sales, year), price
        else:
            value, base = rule_value(rule.share_of_freight, year), chain.freight_out
        if value is None:  # before its first year the rule does nothing
            continue
        subsidy = np.where(target_mask(rule, chain), (value * base)[:, None], subsidy)
    if np.any(bonus != 0):
        return t.set(subsidy_per_unit=subsidy, local_bonus_per_unit=bonus, local_bonus_weights=weights)
    return t.set(subsidy_per_unit=subsidy)


def with_local_inputs(t, local_ratio):
    """The conditional rates folded in: ``subsidy + bonus x`` the local share of the counted inputs
    (``local_ratio``: last year's share of each stage's local demand met locally). Issue 12."""
    if not np.any(t.local_bonus_per_unit != 0):
        return t
    share = input_value(t.local_bonus_weights, local_ratio)  # weights[:, j] @ ratio, run by run
    return t.set(subsidy_per_unit=t.subsidy_per_unit + t.local_bonus_per_unit * share[:, None])


def fiscal_cost(f):
    """Yuan: the subsidy per unit exported x output (``subsidy_x`` is the exported share x subsidy)."""
    return f.subsidy_x * f.X


LEVER = Lever(
    key="freight_subsidy", label="freight subsidy", schema=FreightSubsidy, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("subsidy_x", "X"),
    cost_definition="subsidy paid on the units shipped out of the region",
    rule_lists=lambda block: {"rules": block.rules},
    stage_lists=lambda block: {f"rules.{i}.local_inputs": r.local_inputs for i, r in enumerate(block.rules)},
    reads_price=lambda block: any(r.share_of_sales is not None for r in block.rules),
)
