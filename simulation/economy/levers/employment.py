"""Employment subsidies (textiles: 新疆籍人员社保补贴 social insurance; 岗前培训 pre-job training).

Scenario block ``policy.employment_subsidy``: ``rules`` (targeting +
``social_insurance_yuan_per_worker_year``, paid for the workers a firm recruits (招录的新疆籍人员:
a firm whose first revenue year is the rule's first year or later, for its first ``years`` years;
a firm already selling before the rule gets none for the workforce it had), on the
``local_worker_share`` of its workers that is hired locally; ``training_yuan_per_new_worker``, paid
per worker in a firm's first revenue year, when all its workers are new; time paths; the last matching rule wins).

Effect: lower labour cost for the eligible firms (the channels ``CellTerms.labour_subsidy_per_worker``,
``labour_subsidy_years``, ``labour_subsidy_from``, ``training_grant_per_worker``; paid in
``firm.firm_year``), and a new plant values the subsidies it will get (``labour_value_k`` in
``coefficients.issue12_coefficients``, used by ``entry_means``), so more plants enter the targeted
stages and employ more. Incumbents' hires for expansions get neither subsidy (simplification).
Fiscal cost: the subsidies paid.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ...config.targets import Rule, _Strict, _time_path, rule_value
from ..targeting import first_active_year, target_mask
from .base import Lever


class EmploymentRule(Rule):
    social_insurance_yuan_per_worker_year: _time_path(0.0, 1e6) = Field(default_factory=lambda: {-1: 0.0})
    years: int = Field(default=3, ge=0, le=50)
    local_worker_share: float = Field(default=1.0, ge=0, le=1)
    training_yuan_per_new_worker: _time_path(0.0, 1e6) = Field(default_factory=lambda: {-1: 0.0})


class EmploymentSubsidy(_Strict):
    """Social-insurance and training subsidies per worker; fiscal cost = subsidies paid."""

    rules: list[EmploymentRule] = Field(default_factory=list)


def terms(block: EmploymentSubsidy, chain, year: int, price, t):
    if not (block.rules):  # nothing to set: the neutral terms stand (and a year costs nothing more)
        return t
    shape = t.labour_subsidy_per_worker.shape
    si, years, start, training = np.zeros(shape), np.zeros(shape), np.full(shape, 1e9), np.zeros(shape)
    for rule in block.rules:  # each part of a rule does nothing before its first year
        m = target_mask(rule, chain)
        value = rule_value(rule.social_insurance_yuan_per_worker_year, year)
        if value is not None:
            si[m] = value * rule.local_worker_share
            years[m] = rule.years
            start[m] = first_active_year(rule.social_insurance_yuan_per_worker_year, 0.0)
        value = rule_value(rule.training_yuan_per_new_worker, year)
        if value is not None:
            training[m] = value
    return t.set(labour_subsidy_per_worker=si, labour_subsidy_years=years, labour_subsidy_from=start,
                 training_grant_per_worker=training)


def fiscal_cost(f):
    """Yuan: social-insurance and training subsidies paid to the firms."""
    return f.labour_subsidy


LEVER = Lever(
    key="employment_subsidy", label="employment subsidies", schema=EmploymentSubsidy, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("labour_subsidy",),
    cost_definition="subsidies paid: social insurance per local worker for N years + training per new worker",
    rule_lists=lambda block: {"rules": block.rules},
)
