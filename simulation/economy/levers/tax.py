"""Corporate income tax: rates by rule and tax holidays counted from a firm's first revenue year.

Scenario block ``policy.tax``: ``statutory_rate`` (the benchmark, 25%), ``default_rate``, ``rules``
(targeting + ``rate``, e.g. the Western Development 15%), ``holidays`` (targeting +
``exempt_years``, ``half_years``, ``from_year``: firms whose first revenue year is that year or
later get years at 0, then years at half the statutory rate or their own rate if lower; no
investor plans on it before ``announced``, by default ``from_year``).
Effect: the tax schedule of each firm and the tax weight in the value of new capacity.
Fiscal cost: tax expenditure, the statutory rate x taxable profit minus the tax paid.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ...config.targets import Rule, _Strict, _time_path, rule_value, value_at
from ..targeting import target_mask
from .base import Lever


class TaxRule(Rule):
    rate: _time_path(0.0, 1.0)


class Holiday(Rule):
    """Exempt years then half-rate years, counted from the firm's first revenue year."""

    exempt_years: int = Field(ge=0, le=20)
    half_years: int = Field(default=0, ge=0, le=20)
    from_year: int = Field(default=-1, ge=-1, le=3000)  # firms whose first revenue is this year or later

    @property
    def first_year(self) -> int:
        """A holiday acts on the firms whose first revenue year is ``from_year`` or later."""
        return self.from_year


class Tax(_Strict):
    """Corporate income tax; tax expenditure is measured against the statutory rate."""

    statutory_rate: float = Field(default=0.25, ge=0, le=1)
    default_rate: _time_path(0.0, 1.0) = Field(default_factory=lambda: {-1: 0.25})
    rules: list[TaxRule] = Field(default_factory=list)
    holidays: list[Holiday] = Field(default_factory=list)


def terms(tax: Tax, chain, year: int, price, t):
    shape = t.tax_base_rate.shape
    base = np.full(shape, value_at(tax.default_rate, year, tax.statutory_rate))
    for rule in tax.rules:
        rate = rule_value(rule.rate, year)
        if rate is not None:  # before its first year the rule does nothing
            base[target_mask(rule, chain)] = rate
    exempt = np.zeros(shape)
    half = np.zeros(shape)
    hol_from = np.full(shape, 1e9)  # 1e9: no holiday
    for h in tax.holidays:  # in force for its cohort; investors plan on it once announced (levers.year_terms)
        m = target_mask(h, chain)
        exempt[m], half[m], hol_from[m] = h.exempt_years, h.half_years, h.from_year
    return t.set(tax_base_rate=base, holiday_exempt=exempt, holiday_half=half, holiday_from=hol_from,
                 statutory_rate=tax.statutory_rate)


def fiscal_cost(f):
    """Yuan: tax expenditure, statutory rate x taxable profit - tax paid."""
    return f.statutory_rate * f.taxable - f.tax_paid


LEVER = Lever(
    key="tax", label="corporate income tax", schema=Tax, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("statutory_rate", "taxable", "tax_paid"),
    cost_definition="statutory rate x taxable profit - tax paid (tax expenditure)",
    rule_lists=lambda tax: {"rules": tax.rules, "holidays": tax.holidays},
)
