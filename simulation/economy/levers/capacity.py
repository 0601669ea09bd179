"""Capacity rules: caps on named stages and the removal of backward capacity (淘汰落后产能).

Scenario block ``policy.capacity_rules``:

- ``caps``: targeting (``stages``, ``sectors``, ``tiers``; a cap is on each targeted stage's total,
  so ``zones`` cannot be given) + either ``max_capacity_units`` (a time path; e.g. the
  electrolytic-aluminium ceiling from 2017) or a water-based cap, ``water_quota_m3_per_year`` (a
  time path) / ``water_m3_per_unit`` (e.g. coal chemicals, 在综合考虑水资源分布和生态环境承载力前提下).
  Capacity there or ordered may not exceed the cap: this year's orders beyond it are refused
  (incumbents' by the same share, refunded; then new plants only while they fit). A cap cannot
  remove capacity already there, and does nothing before its first year. With
  ``halts_under_construction: true`` it also halts the capacity under construction (ordered in
  earlier years) beyond it, every firm's by the same share, its spending lost (the 2017 halt of
  unapproved smelters being built); otherwise capacity already ordered still arrives.
- ``removals``: targeting + ``share_per_year`` (a time path) of the stage's capacity closed each
  year, least productive firms first (a firm that is still building is not backward capacity),
  until ``to_year``; ``compensation_yuan_per_unit`` closed (a time path, default 0).

The rules act on the firms' state once a year, after the firms' year (``abm.lever_steps``), through
``CellTerms.capacity_cap`` and ``removal_share``. Fiscal cost: the compensation paid for the
capacity closed (a cap costs the budget nothing).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from ...config.targets import Rule, _Strict, _time_path, rule_value
from ..targeting import target_mask
from .base import Lever


class CapRule(Rule):
    max_capacity_units: _time_path(0.0, 1e13) | None = None
    water_quota_m3_per_year: _time_path(0.0, 1e13) | None = None
    water_m3_per_unit: float | None = Field(default=None, gt=0, le=1e6)
    halts_under_construction: bool = False  # also halt capacity ordered in earlier years beyond the cap

    @model_validator(mode="after")
    def _one_kind(self) -> CapRule:
        if self.zones:
            raise ValueError("a capacity cap is on a stage's total: give stages, sectors or tiers, not zones")
        water = self.water_quota_m3_per_year is not None
        if (self.max_capacity_units is not None) == water:
            raise ValueError("give exactly one of max_capacity_units, water_quota_m3_per_year")
        if water != (self.water_m3_per_unit is not None):
            raise ValueError("a water-based cap needs both water_quota_m3_per_year and water_m3_per_unit")
        return self

    def cap(self, year: int) -> float | None:
        if self.max_capacity_units is not None:
            return rule_value(self.max_capacity_units, year)
        quota = rule_value(self.water_quota_m3_per_year, year)
        return None if quota is None else quota / self.water_m3_per_unit


class RemovalRule(Rule):
    share_per_year: _time_path(0.0, 1.0)
    to_year: int = Field(default=3000, ge=0, le=3000)
    compensation_yuan_per_unit: _time_path(0.0, 1e9) = Field(default_factory=lambda: {-1: 0.0})


class CapacityRules(_Strict):
    """Capacity caps and backward-capacity removal; fiscal cost = compensation for capacity closed."""

    caps: list[CapRule] = Field(default_factory=list)
    removals: list[RemovalRule] = Field(default_factory=list)


def terms(block: CapacityRules, chain, year: int, price, t):
    if not (block.caps or block.removals):  # nothing to set: the neutral terms stand (and a year costs nothing more)
        return t
    shape = t.capacity_cap.shape
    cap, halts = np.full(shape, np.inf), np.zeros(shape)
    for rule in block.caps:
        value = rule.cap(year)
        if value is not None:  # before its first year the rule does nothing
            m = target_mask(rule, chain)
            cap[m] = value
            halts[m] = float(rule.halts_under_construction)
    share, compensation = np.zeros(shape), np.zeros(shape)
    for rule in block.removals:
        value = rule_value(rule.share_per_year, year)
        if value is None or year > rule.to_year:
            continue
        m = target_mask(rule, chain)
        share[m] = value
        compensation[m] = rule_value(rule.compensation_yuan_per_unit, year) or 0.0
    return t.set(capacity_cap=cap, cap_halts_building=halts, removal_share=share, removal_compensation=compensation,
                 track_orders=t.track_orders or bool(block.caps))


def refused_share(cap, committed, ordered):
    """Per stage, the share of this year's orders refused so that committed capacity stays within the cap."""
    excess = np.where(np.isfinite(cap), committed - cap, 0.0)
    share = np.divide(excess, ordered, out=np.zeros_like(excess), where=ordered > 0)
    return np.clip(share, 0.0, 1.0)


def halted_share(cap, halts, committed, building):
    """Per stage, the share of the capacity under construction halted so that committed capacity
    comes down to the cap as far as halting can bring it (stages whose cap halts construction)."""
    excess = np.where(np.isfinite(cap) & (halts > 0), committed - cap, 0.0)
    share = np.divide(excess, building, out=np.zeros_like(excess), where=building > 0)
    return np.clip(share, 0.0, 1.0)


def plants_that_fit(cap, committed, plant_capacity, plants):
    """New plants per (stage, zone) that fit under each stage's cap, earlier zones first."""
    room = np.where(np.isfinite(cap), np.maximum(cap - committed, 0.0), np.inf)
    fit = np.where(np.isfinite(room), np.floor(room / plant_capacity), np.inf)
    before = np.cumsum(plants, axis=1) - plants  # plants of earlier zones of the stage
    return np.clip(np.minimum(plants, fit[:, None] - before), 0, None).astype(plants.dtype)


def backward_rows(stage, inv_productivity, capacity, share):
    """Positions (in the given rows) of the firms closed: per stage, the least productive first,
    until ``share`` of the stage's capacity is closed (the firm that reaches it closes too)."""
    order = np.lexsort((-inv_productivity, stage))  # by stage, least productive first (stable)
    cap = capacity[order]
    st = stage[order]
    total = np.bincount(st, weights=cap, minlength=len(share))
    start = np.cumsum(cap) - cap
    first = np.searchsorted(st, st)  # first position of the row's stage
    before = start - start[first]  # capacity of less productive firms of the stage
    return order[before < share[st] * total[st]]


def fiscal_cost(f):
    """Yuan: compensation per unit x capacity closed."""
    return f.removal_compensation * f.removed_capacity


LEVER = Lever(
    key="capacity_rules", label="capacity rules", schema=CapacityRules, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("removal_compensation", "removed_capacity"),
    cost_definition="compensation paid per unit of backward capacity closed (caps cost nothing)",
    rule_lists=lambda block: {"caps": block.caps, "removals": block.removals},
)
