"""Ownership turnover: firms that close for reasons outside the model, and the successors that take
over their plants.

Each year a producing firm closes with probability ``closure_rate_per_year`` (the exogenous exit
shock of Melitz 2003 and Ghironi & Melitz 2005: owners retire, fall out with partners, lose a
customer or a licence). The closing firm is the less productive of two producing firms of its
cell drawn at random, so closures fall more often on weak firms (firms' productivity declines
before they exit: Brandt, Van Biesebroeck & Zhang 2009, NBER WP 15152). A successor takes over the
plant as a going concern — capacity, plants under construction, loans and cash — with its own
productivity (a fresh draw, as an entrant's) and no loss record. It keeps the plant's tax
position: an enterprise built on another's assets is not a *new* enterprise for the income-tax
holidays (State Taxation Administration, Guo Shui Fa [2006] 103: not if more than 25% of its
assets come from an existing enterprise), so the holiday clock and the new-firm subsidies run on.

So turnover moves the entry and exit *rates* to what firm registers record without moving
capacity; the economy's response to policy runs through new plants and incumbents' investment
(``year.entry_means``, ``rules.investment_rate_of_value``). Pure functions; ``abm.model`` applies them.
"""

from __future__ import annotations

import numpy as np

from .rules import poisson_from_uniform


def closure_counts(u: np.ndarray, producing_per_cell: np.ndarray, rate_per_year: float) -> np.ndarray:
    """Closures per cell this year: Poisson with mean ``rate x producing firms`` by inversion of one
    uniform per cell (paired scenarios draw the same numbers cell by cell), at most the cell's firms."""
    mean = rate_per_year * producing_per_cell
    return np.minimum(poisson_from_uniform(u, mean), producing_per_cell).astype(np.int64)


def pick_closures(per_cell: np.ndarray, counts: np.ndarray, u_pairs: np.ndarray,
                  inv_productivity_of) -> np.ndarray:
    """Positions (into the producing firms, listed in cell order) of the firms that close, sorted.

    ``per_cell``: producing firms per cell; ``counts``: closures per cell (``closure_counts``);
    ``u_pairs``: uniforms of shape (closures, 2); ``inv_productivity_of(positions)``: the firms'
    1/productivity. Closure j of cell c draws two of c's firms and closes the less productive one
    (the larger 1/productivity). A firm drawn twice closes once, so a cell may close slightly fewer
    than ``counts`` (at most the duplicates; rare unless a cell has very few firms).
    """
    first = np.cumsum(per_cell) - per_cell  # where each cell's firms start in the list
    cell = np.repeat(np.arange(counts.size), counts)
    n = per_cell[cell, None]
    picks = first[cell, None] + np.minimum((u_pairs * n).astype(np.int64), n - 1)
    inv = inv_productivity_of(picks)
    weaker = np.sort(np.where(inv[:, 0] >= inv[:, 1], picks[:, 0], picks[:, 1]))
    return weaker[np.r_[True, weaker[1:] != weaker[:-1]]] if weaker.size else weaker
