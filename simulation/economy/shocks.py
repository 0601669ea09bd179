"""The scenario's shocks by year: price paths and demand shifts, by stage.

A demand shift ``change`` for a stage's outside market moves its demand curve ``D = size (1 +
g)^t (p / p0)^(-sigma)`` (``sigma``: the stage's ``demand.price_elasticity`` times ``shocks.demand_elasticity_factor``,
:func:`demand_elasticity`). The market clears
with the rest of the market's supply answering the price with elasticity ``eta``
(``shocks.market_supply_elasticity``): the price is multiplied by ``(1 + change)^(1 / (sigma +
eta))`` and the quantity the region can ship by ``(1 + change)`` at the old price, i.e. by
``(1 + change)^(eta / (sigma + eta))`` at the new one. The region is a price taker: a slump reaches
its firms as a lower price (the marginal ones stop producing, investment falls) and, where its
outside demand binds, as lower sales. A shift given as ``price_factor`` f is the shift that moves
the price by f at the run's elasticities, ``change = f^(sigma + eta) - 1`` (a recorded price
stays the recorded price whatever ``eta`` a parameter draw gives).
"""

from __future__ import annotations

import numpy as np

from ..config.chain import Chain
from .targeting import target_mask


def demand_elasticity(spec, chain: Chain) -> np.ndarray:
    """Each stage's outside-demand price elasticity in this scenario: the chain's
    ``demand.price_elasticity`` times ``shocks.demand_elasticity_factor`` (1: the chain's own)."""
    return chain.elasticity * spec.shocks.demand_elasticity_factor


def price_multiplier(spec, chain: Chain, year: int) -> np.ndarray:
    """Cumulative effect of the scenario's price paths on each stage's trend price in ``year``."""
    mult = np.ones(chain.n_stages)
    for path in spec.shocks.price_paths:
        start = spec.horizon.start if path.from_year == -1 else path.from_year
        years = max(0, year - start + 1)
        stages = target_mask(path, chain).any(axis=1)
        mult[stages] *= (1.0 + path.change_per_year) ** years
    return mult


def demand_price_multiplier(spec, chain: Chain, year: int) -> np.ndarray:
    """The market price effect of the demand shifts in force in ``year``, by stage (see above)."""
    return demand_multiplier(spec, chain, year) ** (1.0 / (demand_elasticity(spec, chain)
                                                         + spec.shocks.market_supply_elasticity))


def demand_multiplier(spec, chain: Chain, year: int) -> np.ndarray:
    """Demand slowdowns (or booms) in force in ``year``, by stage (shifts of the demand curve)."""
    mult = np.ones(chain.n_stages)
    sigma_eta = demand_elasticity(spec, chain) + spec.shocks.market_supply_elasticity
    for shock in spec.shocks.demand:
        if shock.from_year <= year <= shock.to_year:
            stages = target_mask(shock, chain).any(axis=1)
            if shock.price_factor is None:
                mult[stages] *= 1.0 + shock.change
            else:
                mult[stages] *= shock.price_factor ** sigma_eta[stages]
    return mult
