"""The scenario's shocks by year: price paths and demand shifts, by stage."""

from __future__ import annotations

import numpy as np

from ..config.chain import Chain
from .targeting import target_mask


def price_multiplier(spec, chain: Chain, year: int) -> np.ndarray:
    """Cumulative effect of the scenario's price paths on each stage's trend price in ``year``."""
    mult = np.ones(chain.n_stages)
    for path in spec.shocks.price_paths:
        start = spec.horizon.start if path.from_year == -1 else path.from_year
        years = max(0, year - start + 1)
        stages = target_mask(path, chain).any(axis=1)
        mult[stages] *= (1.0 + path.change_per_year) ** years
    return mult


def demand_multiplier(spec, chain: Chain, year: int) -> np.ndarray:
    """Demand slowdowns (or booms) in force in ``year``, by stage."""
    mult = np.ones(chain.n_stages)
    for shock in spec.shocks.demand:
        if shock.from_year <= year <= shock.to_year:
            mult[target_mask(shock, chain).any(axis=1)] *= 1.0 + shock.change
    return mult
