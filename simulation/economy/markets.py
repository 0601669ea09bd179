"""Stage markets, cleared in the same year: how much each stage produces, sells locally and exports.

Stages are in topological order (upstream first), so one pass from downstream to upstream
settles the year: a stage's local demand is what its local buyers need for the output they have
already decided, ``L_i = sum_j A[i, j] x_j``. The local price lies between the sellers' export
netback and the buyers' import parity (spatial price equilibrium; Samuelson 1952, Takayama &
Judge 1971):

- enough local supply at the netback (``K_low >= L_i``, the capacity of the firms that produce at
  their expected price): local buyers are served first (it saves them the inbound freight), the
  rest is exported up to outside demand ``f_i``: ``x_i = min(K_low, L_i + f_i)``, price at netback;
- local buyers short at the netback: the local price rises, which brings in the firms that cover
  their cost at import parity (``K_high``); it clears at ``x_i = L_i`` if they suffice (its
  position between netback and import parity: ``theta = (L_i - K_low) / (K_high - K_low)``), and
  otherwise sits at import parity with ``x_i = K_high`` and buyers importing the rest.

So no capacity that covers its variable cost at import parity idles while local buyers import.
Without capacity limits ``x = A x + f``, i.e. the Leontief solution ``x = (I - A)^-1 f``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Quantities:
    output: np.ndarray  # units per year, by stage
    local_sales: np.ndarray  # units sold to local downstream buyers
    exports: np.ndarray  # units shipped out of the region
    local_demand: np.ndarray  # units local buyers need
    local_ratio: np.ndarray  # share of local demand met locally (1 where there is none)
    utilisation: np.ndarray  # output / capacity of the firms producing (0 where nothing produces)
    priced_up: np.ndarray  # bool: local buyers were short at the netback, the local price rose
    price_position: np.ndarray  # local price between netback (0) and import parity (1)


def solve(A: np.ndarray, producing_capacity: np.ndarray, outside_demand: np.ndarray,
          capacity_limits: bool = True, capacity_at_import_parity: np.ndarray | None = None,
          levels: list[np.ndarray] | None = None) -> Quantities:
    """Stage outputs for one year; ``A[i, j]`` = units of i per unit of j, topological order.

    ``producing_capacity``: capacity of the firms that produce at their expected price;
    ``capacity_at_import_parity``: of those that produce at import parity (default: the same).
    The arrays are one run's stages (length n) or runs side by side (length runs x n, run b's
    stage s at ``b * n + s``; ``abm.batch``): one pass over the n stages settles every run, and
    each run's numbers do not depend on the others. ``levels``: ``buyer_levels(A)``, if the caller
    keeps it.
    """
    n = A.shape[0]
    shape = np.shape(outside_demand)
    low = np.asarray(producing_capacity, dtype=float).reshape(-1, n)
    high = low if capacity_at_import_parity is None else np.asarray(capacity_at_import_parity, float).reshape(-1, n)
    demand = np.broadcast_to(np.asarray(outside_demand, dtype=float), shape).reshape(-1, n)
    x = np.zeros(low.shape)
    local_demand = np.zeros(low.shape)
    for stages in buyer_levels(A) if levels is None else levels:  # stages whose buyers have decided
        # what local buyers need, L_i = sum_j A[i, j] x_j, summed row by row (a stage not yet settled
        # buys nothing from these: A[i, j] = 0, so its x_j = 0 adds nothing)
        L = (x[:, None, :] * A[stages][None, :, :]).sum(axis=-1)
        local_demand[:, stages] = L
        lo, hi, f = low[:, stages], high[:, stages], demand[:, stages]
        if not capacity_limits:
            x[:, stages] = np.where(lo > 0, L + f, 0.0)
        else:  # ample: buyers served, the rest exported; short: the price rises toward import parity
            x[:, stages] = np.where(L <= lo, np.where(lo > 0, np.minimum(lo, L + f), 0.0),
                                    np.where(hi > lo, np.minimum(hi, L), lo))
    L = local_demand
    if capacity_limits:
        rises = (L > low) & (high > low)  # short at the netback: the price rises toward import parity
        short = (L > low) & ~rises  # short even at import parity: buyers import the rest
        up, used = rises, np.where(rises, high, low)
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = np.where(rises, np.minimum(1.0, (L - low) / (high - low)), np.where(short, 1.0, 0.0))
    else:
        up, used, theta = np.zeros(low.shape, dtype=bool), low, np.zeros(low.shape)
    local_sales = np.minimum(x, local_demand)
    ratio = np.divide(local_sales, local_demand, out=np.ones(x.shape), where=local_demand > 0)
    util = np.divide(x, used, out=np.zeros(x.shape), where=used > 0)
    flat = [v.reshape(shape) for v in (x, local_sales, x - local_sales, local_demand, ratio, util, up, theta)]
    return Quantities(*flat)


def buyer_levels(A: np.ndarray) -> list[np.ndarray]:
    """The stages in groups that can be settled together, downstream first: a stage's level is the
    longest chain of local buyers below it (0: no local buyer), so every buyer of a stage is in an
    earlier group."""
    n = A.shape[0]
    buys = A > 0  # buys[i, j]: stage j uses stage i
    level = np.zeros(n, dtype=np.int64)
    for _ in range(n):
        below = np.where(buys, level[None, :] + 1, 0).max(axis=1, initial=0)
        if np.array_equal(below, level):
            break
        level = below
    return [np.flatnonzero(level == k) for k in range(int(level.max(initial=0)) + 1)]
