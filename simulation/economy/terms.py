"""What the levers set: the terms a firm of each (stage, zone) cell faces in a year.

Every lever writes only its own fields (``economy.levers``); ``economy.coefficients`` folds the
terms, prices and market outcomes into the per-cell coefficients of the firms' year. Tables have
shape ``(n_stages, 3)`` (zones: ordinary, difficult area, special zone).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

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
    # --- issue 12: the policy's other levers, each through a generic channel (neutral defaults) ---
    grant_share: np.ndarray  # share of a new unit's capital cost paid by a grant (capital_grants)
    grant_budget: float  # yuan a year the grants may pay (inf: no envelope) (capital_grants)
    track_orders: bool  # the model needs each firm's orders of the year (grant envelope, capacity caps)
    land_discount_share: np.ndarray  # share of the capital cost forgone as land revenue (land_support)
    lag_change: np.ndarray  # years added to the build lag of new capacity and plants (fast_track: < 0)
    entrant_multiplier: np.ndarray  # x potential entrants of the cell (investment_attraction)
    extra_entrants: np.ndarray  # more outside investors a year in the stage (investment_attraction)
    placed_plants: np.ndarray  # new plants a year placed in the stage whatever they earn (investment_attraction)
    placed_large_plants: np.ndarray  # more placed plants a year, of their own size (investment_attraction)
    placed_large_capacity: np.ndarray  # units a year of a large placed plant (investment_attraction)
    placed_orders_share: np.ndarray  # parent orders per placed plant, share of its capacity (investment_attraction)
    entry_incentive: np.ndarray  # yuan paid per new plant (investment_attraction)
    sme_investor_share: np.ndarray  # share of a new plant's cost the fund's stake saves the investor (sme_fund)
    sme_years: np.ndarray  # years until the fund's stake is bought back (sme_fund)
    sme_return: np.ndarray  # yearly return at which it is bought back (sme_fund)
    sme_cost_share: np.ndarray  # fund's expected loss + opportunity cost per yuan of plant cost (sme_fund)
    labour_subsidy_per_worker: np.ndarray  # yuan per worker-year within the subsidy years (employment_subsidy)
    labour_subsidy_years: np.ndarray  # a firm's first years, if it started in the rule's first year or later
    labour_subsidy_from: np.ndarray  # rule's first year (1e9: none) (employment_subsidy)
    training_grant_per_worker: np.ndarray  # yuan per worker in a firm's first revenue year (employment_subsidy)
    kwh_factor: np.ndarray  # x electricity per unit (energy_saving: 1 - saving x share retrofitted)
    retrofit_step: np.ndarray  # share of the cell's capacity retrofitted this year (energy_saving)
    retrofit_cost: np.ndarray  # yuan of grant per unit of capacity retrofitted (energy_saving)
    capacity_cap: np.ndarray  # units: the stage's capacity ceiling, same in its zones (inf: none) (capacity_rules)
    cap_halts_building: np.ndarray  # 1: the ceiling also halts capacity under construction beyond it (capacity_rules)
    removal_share: np.ndarray  # share of the stage's capacity closed this year, least productive first (capacity_rules)
    removal_compensation: np.ndarray  # yuan per unit of capacity closed (capacity_rules)
    local_bonus_per_unit: np.ndarray  # extra freight subsidy per unit at a fully local input share (freight_subsidy)
    local_bonus_weights: np.ndarray  # (stages, stages): local-input share of j = weights[:, j] @ local ratio

    @classmethod
    def neutral(cls, n_stages: int) -> CellTerms:
        """No lever acting: zeros, no holiday, no subsidy (each lever then sets its own fields)."""
        shape = (n_stages, 3)
        values = {f.name: np.zeros(shape) for f in fields(cls)}
        values.update(power_counts=np.zeros(shape, dtype=bool), holiday_from=np.full(shape, 1e9),
                      wc_from=np.full(shape, 1e9), reference_power_price=0.0, statutory_rate=0.0,
                      # issue 12 channels: neutral = the baseline bit for bit
                      grant_budget=np.inf, track_orders=False, entrant_multiplier=np.ones(shape),
                      labour_subsidy_from=np.full(shape, 1e9), kwh_factor=np.ones(shape),
                      capacity_cap=np.full(shape, np.inf), local_bonus_weights=np.zeros((n_stages, n_stages)))
        return cls(**values)

    def set(self, **changes) -> CellTerms:
        """These terms with some fields changed: ``dataclasses.replace``, without its call of
        ``__init__`` with every field (a lever's change costs a tenth of it; no field is derived)."""
        unknown = changes.keys() - _FIELD_NAMES
        if unknown:
            raise TypeError(f"CellTerms has no field {sorted(unknown)[0]!r}")
        changed = object.__new__(type(self))
        changed.__dict__.update(self.__dict__, **changes)
        return changed


_FIELD_NAMES = frozenset(f.name for f in fields(CellTerms))
