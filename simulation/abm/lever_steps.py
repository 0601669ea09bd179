"""Issue 12: the levers that act on the firms' state at one point of the year, after the firms' year.

The model calls these in order after ``engine.settle``: capacity caps (orders beyond a stage's
ceiling are refused, incumbents' first, then new plants), the grant envelope (grants beyond the
year's budget are not paid: the investors bear the shortfall) and the removal of backward capacity
(the least productive firms of named stages close). Each works on the shared ``FirmState``, so the
vectorized and the reference engine see the same result. The rules themselves (which cells, how
much) are in their lever modules (``economy.levers.capacity``, ``economy.levers.grants``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..economy.levers import capacity as capacity_rules
from ..economy.levers import grants
from ..economy.targeting import to_stage
from .state import PENDING_SLOTS


def _per_row(state, per_cell: np.ndarray) -> np.ndarray:
    return state.per_row(per_cell)


def capacity_caps(state, chain, k, terms, sums, year: int, plants, plants_inv_productivity):
    """Refuse this year's orders beyond each capped stage's ceiling; returns (sums, plants, draws).

    Committed capacity = capacity (after this year's wear) + everything ordered and not yet there.
    Where it exceeds the cap, incumbents' orders of the year are cut by the same share (their
    payment refunded to cash); where the cap halts construction, the capacity still under
    construction is then cut by the same share for every firm (no refund); then new plants are
    built only while they fit."""
    cap = terms.capacity_cap[:, 0]
    if not np.isfinite(cap).any():
        return sums, plants, plants_inv_productivity
    committed = to_stage(state.cell_sum(state.capacity + state.pending.sum(axis=0)))
    ordered = to_stage(state.cell_sum(state.ordered))
    refuse = capacity_rules.refused_share(cap, committed, ordered)
    if np.any(refuse > 0):
        refused = _per_row(state, np.repeat(refuse, 3)) * state.ordered
        slot = (year + 1 + _per_row(state, k.build_lag)) % PENDING_SLOTS
        pending = state.raw("pending")
        rows = np.arange(state.n)
        pending[slot, rows] = np.maximum(pending[slot, rows] - refused, 0.0)
        refund = refused * _per_row(state, k.capex_paid_factor * k.capital_cost)
        state.raw("cash")[:] += refund
        state.raw("ordered")[:] -= refused
        sums = replace(sums, investment=sums.investment - state.cell_sum(refund))
        committed = committed - refuse * ordered
    halts = terms.cap_halts_building[:, 0]
    if np.any(halts > 0):  # then the capacity under construction beyond the cap (its spending is lost)
        pending = state.raw("pending")
        building = to_stage(state.cell_sum(pending.sum(axis=0)))
        halt = capacity_rules.halted_share(cap, halts, committed, building)
        if np.any(halt > 0):
            pending *= 1.0 - _per_row(state, np.repeat(halt, 3))
            committed = committed - halt * building
    if plants is not None:
        allowed = capacity_rules.plants_that_fit(cap, committed, chain.plant_capacity, plants.reshape(-1, 3))
        keep = allowed.ravel()
        if np.any(keep < plants):
            rank = np.arange(plants.sum()) - np.repeat(np.cumsum(plants) - plants, plants)
            plants_inv_productivity = plants_inv_productivity[rank < np.repeat(keep, plants)]
            plants = keep
    return sums, plants, plants_inv_productivity


def grant_envelope(state, k, terms, sums, entry_capex: np.ndarray) -> np.ndarray:
    """Grants paid by cell (yuan): the grant share of this year's orders at full capital cost, cut
    pro rata where a run's claims exceed the year's envelope; each investor then bears its shortfall."""
    claims = k.grant_share * (sums.investment / k.capex_paid_factor + entry_capex)
    ratio = np.array([grants.paid_ratio(total, terms.grant_budget)
                      for total in state.by_run(claims).sum(axis=1)])  # a run's claims, summed alone
    if np.any(ratio < 1.0):
        ratio_cells = state.run_cells(ratio)
        shortfall = _per_row(state, 1.0 - ratio_cells) * _per_row(state, k.grant_share * k.capital_cost)
        state.raw("cash")[:] -= shortfall * state.ordered
        return claims * ratio_cells
    return claims


def remove_backward_capacity(state, engine, terms, sums):
    """Close the least productive firms of stages with a removal share this year; returns (sums,
    capacity closed by cell). Firms still building (no capacity yet) are not backward capacity.
    Runs side by side (``abm.batch``) choose their firms one run at a time, as each would alone."""
    removed = np.zeros(state.n_cells)
    share = terms.removal_share[:, 0]
    if not np.any(share > 0):
        return sums, removed
    stage_of_row = state.cell // 3
    candidates = state.alive & (state.capacity > 0) & (share[stage_of_row] > 0)
    stages_per_run = state.cells_per_run // 3
    run_rows = state.starts[::state.cells_per_run]  # where each run's rows start, and the end
    closing = []
    for run in range(state.runs):
        rows = run_rows[run] + np.flatnonzero(candidates[run_rows[run]:run_rows[run + 1]])
        first_stage = run * stages_per_run
        chosen = capacity_rules.backward_rows(stage_of_row[rows] - first_stage, state.inv_productivity[rows],
                                              state.capacity[rows], share[first_stage:first_stage + stages_per_run])
        closing.append(rows[chosen])
    closing = np.concatenate(closing)
    if closing.size:
        cells = state.cell[closing]
        removed = np.bincount(cells, weights=state.capacity[closing], minlength=state.n_cells)
        sums = replace(sums, exits=sums.exits + np.bincount(cells, minlength=state.n_cells))
        engine.close(closing)
    return sums, removed
