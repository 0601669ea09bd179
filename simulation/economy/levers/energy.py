"""Energy-saving fund (节能减排专项资金: awards and grants for energy-saving retrofits).

Scenario block ``policy.energy_saving``: ``rules`` (targeting + ``retrofit_share_per_year``, the
share of the cells' capacity retrofitted each year, ``{first year: share}``, accumulating from its
first year up to all capacity; ``saving_share``, the cut in kWh per unit of a retrofitted unit;
``grant_yuan_per_unit``, the retrofit's capital cost per unit of capacity, paid by the fund; the
last matching rule wins).

Effect: electricity per unit falls to ``1 - saving x share retrofitted`` of the chain's (the channel
``CellTerms.kwh_factor``, folded into the power cost and ``kwh_y`` in ``coefficients``), which lowers
unit cost (and the electricity lever's cost per unit); the results' ``electricity_kwh`` shows the
kWh used, so ``compare --metric electricity_kwh`` gives the kWh saved. The share applies to all the
cell's capacity, new capacity too (new plants are built to the retrofitted standard).
Fiscal cost: grants paid, ``grant per unit x capacity retrofitted this year`` (the year's new share
x the cell's capacity at the start of the year).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from ...config.targets import Rule, _Strict, _time_path, rule_value
from ..targeting import target_mask
from .base import Lever


class RetrofitRule(Rule):
    retrofit_share_per_year: _time_path(0.0, 1.0)
    saving_share: float = Field(ge=0, le=1)
    grant_yuan_per_unit: float = Field(ge=0, le=1e9)

    @field_validator("retrofit_share_per_year")
    @classmethod
    def _dated(cls, v: dict[int, float]) -> dict[int, float]:
        if -1 in v:
            raise ValueError("give {first year: share}: retrofits accumulate from their first year")
        return v


class EnergySaving(_Strict):
    """Grants for retrofits cutting kWh per unit; fiscal cost = grants paid."""

    rules: list[RetrofitRule] = Field(default_factory=list)


def retrofitted(path: dict[int, float], year: int) -> float:
    """Share of capacity retrofitted by the end of ``year``: the yearly shares summed from the first, at most 1."""
    first = min(path)
    return min(1.0, sum(rule_value(path, y) for y in range(first, year + 1))) if year >= first else 0.0


def terms(block: EnergySaving, chain, year: int, price, t):
    if not (block.rules):  # nothing to set: the neutral terms stand (and a year costs nothing more)
        return t
    shape = t.kwh_factor.shape
    factor, step, grant = np.ones(shape), np.zeros(shape), np.zeros(shape)
    for rule in block.rules:
        done = retrofitted(rule.retrofit_share_per_year, year)
        if year < min(rule.retrofit_share_per_year):  # before its first year the rule does nothing
            continue
        m = target_mask(rule, chain)
        factor[m] = 1.0 - rule.saving_share * done
        step[m] = done - retrofitted(rule.retrofit_share_per_year, year - 1)
        grant[m] = rule.grant_yuan_per_unit
    return t.set(kwh_factor=factor, retrofit_step=step, retrofit_cost=grant)


def fiscal_cost(f):
    """Yuan: grant per unit x the year's newly retrofitted share x the cell's capacity."""
    return f.retrofit_cost * f.retrofit_step * f.capacity_cells


LEVER = Lever(
    key="energy_saving", label="energy-saving fund", schema=EnergySaving, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("retrofit_cost", "retrofit_step", "capacity_cells"),
    cost_definition="retrofit grants paid: grant per unit x capacity retrofitted this year",
    rule_lists=lambda block: {"rules": block.rules},
)
