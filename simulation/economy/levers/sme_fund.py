"""SME development fund taking equity (中小企业发展基金; 股权投资、跟进投资; 合理分担风险).

Scenario block ``policy.sme_fund``: ``rules`` (targeting + ``stake_share`` of the capital cost of
eligible new plants, a time path; ``buyback_years`` and ``buyback_return``: the investor buys the
stake back at par plus that yearly return after that many years, the usual exit of a government
guidance fund; the last matching rule wins), ``max_project_million_yuan`` (small firms: a stage's
standard new plant costing at most this is eligible; assumption), ``failure_rate_per_year`` (the
share of funded plants a year that fail and never buy the stake back; assumption) and
``budget_discount_rate`` (the budget's opportunity cost of money; assumption: a long government
bond yield).

Effect: the stake lowers the investor's own capital need now; repaying it later at a return below
the investor's discount rate ``r`` is a saving of ``stake x (1 - ((1 + return) / (1 + r))^years)`` per
yuan of the plant (the channel ``CellTerms.sme_investor_share``, folded into ``entry_paid_factor`` in
``coefficients.issue12_coefficients``), which raises entry in the targeted cells.

Fiscal cost, booked when the plant is built: the fund's expected loss plus its opportunity cost,
``stake x capital cost x (1 - ((1 - failure) (1 + return) / (1 + budget rate))^years)``: the stake
minus the present value, at the budget's discount rate, of the buyback it expects.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ...config.targets import Rule, _Strict, _time_path, rule_value
from ..targeting import target_mask
from .base import Lever


class SMERule(Rule):
    stake_share: _time_path(0.0, 1.0)
    buyback_years: int = Field(default=5, ge=0, le=30)
    buyback_return: float = Field(default=0.0, ge=0, le=1)


class SMEFund(_Strict):
    """Equity stakes in small firms' new plants; fiscal cost = expected loss + opportunity cost."""

    max_project_million_yuan: float = Field(default=200.0, gt=0, le=1e6)  # assumption
    failure_rate_per_year: float = Field(default=0.03, ge=0, le=1)  # assumption
    budget_discount_rate: float = Field(default=0.03, ge=0, le=1)  # assumption: 10-year bond yield, 2016
    rules: list[SMERule] = Field(default_factory=list)


def terms(block: SMEFund, chain, year: int, price, t):
    if not (block.rules):  # nothing to set: the neutral terms stand (and a year costs nothing more)
        return t
    shape = t.sme_investor_share.shape
    stake, years, ret = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    small = (chain.plant_capacity * chain.capital_cost <= block.max_project_million_yuan * 1e6)[:, None]
    for rule in block.rules:
        value = rule_value(rule.stake_share, year)
        if value is None:  # before its first year the rule does nothing
            continue
        m = target_mask(rule, chain) & small
        stake[m], years[m], ret[m] = value, rule.buyback_years, rule.buyback_return
    keep = ((1.0 - block.failure_rate_per_year) * (1.0 + ret) / (1.0 + block.budget_discount_rate)) ** years
    return t.set(sme_investor_share=stake, sme_years=years, sme_return=ret, sme_cost_share=stake * (1.0 - keep))


def fiscal_cost(f):
    """Yuan: the fund's cost share (expected loss + opportunity cost per yuan) x new plants' capital cost."""
    return f.sme_cost_share * f.entry_capex


LEVER = Lever(
    key="sme_fund", label="SME fund equity", schema=SMEFund, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("sme_cost_share", "entry_capex"),
    cost_definition="stake - PV at the budget rate of the expected buyback (expected loss + opportunity cost)",
    rule_lists=lambda block: {"rules": block.rules},
)
