"""What the levers set: the terms a firm of each (stage, zone) cell faces in a year.

Every lever writes only its own fields (``economy.levers``); ``economy.coefficients`` folds the
terms, prices and market outcomes into the per-cell coefficients of the firms' year. Tables have
shape ``(n_stages, 3)`` (zones: ordinary, difficult area, special zone).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np


@dataclass(frozen=True)
class CellTerms:
    """Lever values for one year, as (stage, zone) tables (a neutral value where no lever acts)."""

    power_price: np.ndarray  # yuan/kWh paid (electricity_price)
    power_counts: np.ndarray  # bool: (reference - price) x kWh is a fiscal cost (electricity_price)
    reference_power_price: float  # yuan/kWh, the supply cost the power gap is measured against
    subsidy_per_unit: np.ndarray  # yuan per unit shipped out (freight_subsidy)
    tax_base_rate: np.ndarray  # corporate income tax rate outside holidays (tax)
    holiday_exempt: np.ndarray  # years at rate 0 from the first revenue year (tax)
    holiday_half: np.ndarray  # then years at half the statutory rate (tax)
    holiday_from: np.ndarray  # first revenue year from which the holiday applies (1e9: none) (tax)
    statutory_rate: float  # benchmark of the tax expenditure (tax)
    fixed_points: np.ndarray  # interest subsidy on fixed-asset loans, percentage points (interest_subsidy)
    fixed_years: np.ndarray  # years a loan is subsidised (interest_subsidy)
    wc_points: np.ndarray  # interest subsidy on working capital, percentage points (interest_subsidy)
    wc_years: np.ndarray  # years from the firm's start (interest_subsidy)
    wc_from: np.ndarray  # year the working-capital subsidy starts (interest_subsidy)

    @classmethod
    def neutral(cls, n_stages: int) -> CellTerms:
        """No lever acting: zeros, no holiday, no subsidy (each lever then sets its own fields)."""
        shape = (n_stages, 3)
        values = {f.name: np.zeros(shape) for f in fields(cls)}
        values.update(power_counts=np.zeros(shape, dtype=bool), holiday_from=np.full(shape, 1e9),
                      wc_from=np.full(shape, 1e9), reference_power_price=0.0, statutory_rate=0.0)
        return cls(**values)

    def set(self, **changes) -> CellTerms:
        return replace(self, **changes)
