"""Capital grants (专项资金 补助/奖励/后补助; first-of-kind equipment 首台套; technical upgrading 技术改造).

Scenario block ``policy.capital_grants``: ``rules`` (targeting + ``share``, the share of eligible
capital expenditure paid to the investor, a time path; ``cap_million_yuan_per_project``, the most
one project gets; the last matching rule wins) and an optional ``envelope``
(``million_yuan_per_year``, a time path: grants stop when it is spent).

Effect: a new unit of capacity costs its investor ``1 - share`` of its capital cost (the channel
``CellTerms.grant_share``, folded into ``capex_paid_factor`` in ``coefficients.issue12_coefficients``),
for incumbents' increments and new plants alike. A *project* is a stage's standard new plant
(``new_plant_capacity_units`` x capital cost): the cap turns into the share ``min(share, cap / plant
cost)``. Investors plan on the full share; where the year's claims exceed the envelope every
claim is paid pro rata and the investors bear the shortfall from their cash
(``abm.lever_steps.grant_envelope``); before the envelope's first year there is none (no limit).
Fiscal cost: the grants paid.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ...config.targets import Rule, _Strict, _time_path, rule_value
from ..targeting import target_mask
from .base import Lever


class GrantRule(Rule):
    share: _time_path(0.0, 1.0)
    cap_million_yuan_per_project: float | None = Field(default=None, ge=0, le=1e6)


class Envelope(_Strict):
    million_yuan_per_year: _time_path(0.0, 1e9)  # required: an envelope without an amount is an error


class CapitalGrants(_Strict):
    """Grants for a share of capital expenditure; fiscal cost = grants paid (within the envelope)."""

    rules: list[GrantRule] = Field(default_factory=list)
    envelope: Envelope | None = None


def terms(block: CapitalGrants, chain, year: int, price, t):
    if not (block.rules or block.envelope is not None):  # nothing to set: the neutral terms stand
        return t
    share = np.zeros(t.grant_share.shape)
    plant_cost = chain.plant_capacity * chain.capital_cost  # yuan: a project
    for rule in block.rules:
        value = rule_value(rule.share, year)
        if value is None:  # before its first year the rule does nothing
            continue
        per_stage = np.full(chain.n_stages, value)
        if rule.cap_million_yuan_per_project is not None:
            per_stage = np.minimum(per_stage, rule.cap_million_yuan_per_project * 1e6 / plant_cost)
        share = np.where(target_mask(rule, chain), per_stage[:, None], share)
    budget = np.inf
    if block.envelope is not None:
        amount = rule_value(block.envelope.million_yuan_per_year, year)
        budget = np.inf if amount is None else amount * 1e6
    return t.set(grant_share=share, grant_budget=budget,
                 track_orders=t.track_orders or block.envelope is not None)


def paid_ratio(claims_yuan: float, budget_yuan: float) -> float:
    """Share of the year's claims the envelope pays (1 while it is not spent)."""
    if claims_yuan <= budget_yuan:
        return 1.0
    return budget_yuan / claims_yuan


def fiscal_cost(f):
    """Yuan: grants paid (the share of the year's orders at full capital cost, within the envelope)."""
    return f.grant_paid


LEVER = Lever(
    key="capital_grants", label="capital grants", schema=CapitalGrants, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("grant_paid",),
    cost_definition="grants paid: share x capital cost of the year's orders, capped per project, within the envelope",
    rule_lists=lambda block: {"rules": block.rules},
)
