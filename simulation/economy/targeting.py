"""Rules turned into (stage, zone) tables: which cells a rule targets.

Each table has shape ``(n_stages, 3)`` (zones: ordinary, difficult area, special zone); a firm
reads its value at ``table.flat[stage * 3 + zone]``. Rules apply in the order written and the
last matching rule wins, so a general rule followed by a zone-specific one gives the zone a
different rate.
"""

from __future__ import annotations

import numpy as np

from ..config.chain import SECTORS, ZONES, Chain
from ..config.targets import Target

N_ZONES = len(ZONES)


def target_mask(rule: Target, chain: Chain) -> np.ndarray:
    """Boolean ``(n_stages, 3)`` mask of the (stage, zone) cells a rule targets."""
    stage_ok = np.ones(chain.n_stages, dtype=bool)
    if rule.sectors:
        stage_ok &= np.isin(chain.sector_id, [SECTORS.index(s) for s in rule.sectors])
    if rule.stages:
        stage_ok &= np.isin(np.arange(chain.n_stages), [chain.index[s] for s in rule.stages])
    if rule.tiers:
        stage_ok &= np.isin(chain.tier, rule.tiers)
    zone_ok = np.ones(N_ZONES, dtype=bool)
    if rule.zones:
        zone_ok = np.isin(np.array(ZONES), rule.zones)
    return stage_ok[:, None] & zone_ok[None, :]


def to_stage(cells: np.ndarray) -> np.ndarray:
    """Sum a per-cell (stage x zone) array over zones (along its last axis)."""
    return cells.reshape(*cells.shape[:-1], -1, 3).sum(axis=-1)


def first_active_year(path: dict[int, float], neutral: float) -> int:
    """First year in which a time path differs from its neutral value (-1: from the start)."""
    for year, x in path.items():
        if x != neutral:
            return year
    return 10**9
