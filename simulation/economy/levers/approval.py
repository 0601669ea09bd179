"""Fast-track approval (特事特办; parallel approval 并联审批; one-stop service 一站式服务).

Scenario block ``policy.fast_track``: ``rules`` (targeting + ``years_saved``, whole years cut from
the delay between an investment or entry decision and capacity in use, a time path; the last
matching rule wins). The chain's ``build_lag_years`` includes approval; the lever shortens it (never
below 0) for the orders and plants decided while it is in force (the channel ``CellTerms.lag_change``,
folded into ``build_lag`` in ``coefficients.cell_coefficients``). A shorter lag raises a plant's
present value (its cash starts earlier), so investment and entry rise, and new capacity arrives
sooner (the engines deliver it after the cell's lag of the year).

Fiscal cost: none. Fast-track approval costs administrative effort, not a subsidy; the fiscal
table books 0 for it.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from ...config.targets import Rule, _Strict, _time_path, rule_value
from ..targeting import target_mask
from .base import Lever


class FastTrackRule(Rule):
    years_saved: _time_path(0.0, 3.0)

    @field_validator("years_saved")
    @classmethod
    def _whole(cls, v: dict[int, float]) -> dict[int, float]:
        if any(x != int(x) for x in v.values()):
            raise ValueError("years_saved must be whole years (the model's year is its time step)")
        return v


class FastTrack(_Strict):
    """Shorter approval before construction; costs the budget nothing (administrative effort)."""

    rules: list[FastTrackRule] = Field(default_factory=list)


def terms(block: FastTrack, chain, year: int, price, t):
    if not (block.rules):  # nothing to set: the neutral terms stand (and a year costs nothing more)
        return t
    change = np.zeros(t.lag_change.shape)
    for rule in block.rules:
        value = rule_value(rule.years_saved, year)
        if value is not None:  # before its first year the rule does nothing
            change[target_mask(rule, chain)] = -value
    return t.set(lag_change=change)


def fiscal_cost(f):
    """Yuan: 0 (administrative effort, no subsidy)."""
    return np.zeros_like(f.X)


LEVER = Lever(
    key="fast_track", label="fast-track approval", schema=FastTrack, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("X",),
    cost_definition="0: costs administrative effort, not subsidy",
    rule_lists=lambda block: {"rules": block.rules},
)
