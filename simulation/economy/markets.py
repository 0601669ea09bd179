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
          capacity_limits: bool = True, capacity_at_import_parity: np.ndarray | None = None) -> Quantities:
    """Stage outputs for one year; ``A[i, j]`` = units of i per unit of j, topological order.

    ``producing_capacity``: capacity of the firms that produce at their expected price;
    ``capacity_at_import_parity``: of those that produce at import parity (default: the same).
    The arrays are one run's stages (length n) or runs side by side (length runs x n, run b's
    stage s at ``b * n + s``; ``abm.batch``): one pass over the n stages settles every run, and
    each run's numbers do not depend on the others.
    """
    n = A.shape[0]
    shape = np.shape(outside_demand)
    low = np.asarray(producing_capacity, dtype=float).reshape(-1, n)
    high = low if capacity_at_import_parity is None else np.asarray(capacity_at_import_parity, float).reshape(-1, n)
    demand = np.broadcast_to(np.asarray(outside_demand, dtype=float), shape).reshape(-1, n)
    x = np.zeros(low.shape)
    local_demand = np.zeros(low.shape)
    used = low.copy()
    up = np.zeros(low.shape, dtype=bool)
    theta = np.zeros(low.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(n - 1, -1, -1):
            L = (x * A[i]).sum(axis=-1)  # what local buyers need: sum_j A[i, j] x_j, row by row
            local_demand[:, i] = L
            lo, hi, f = low[:, i], high[:, i], demand[:, i]
            if not capacity_limits:
                x[:, i] = np.where(lo > 0, L + f, 0.0)
                continue
            ample = L <= lo
            rises = ~ample & (hi > lo)  # short at the netback: the price rises toward import parity
            short = ~ample & ~rises  # short even at import parity: buyers import the rest
            x[:, i] = np.where(ample, np.where(lo > 0, np.minimum(lo, L + f), 0.0),
                               np.where(rises, np.minimum(hi, L), lo))
            up[:, i] = rises
            used[:, i] = np.where(rises, hi, lo)
            theta[:, i] = np.where(rises, np.minimum(1.0, (L - lo) / (hi - lo)), np.where(short, 1.0, 0.0))
    local_sales = np.minimum(x, local_demand)
    ratio = np.divide(local_sales, local_demand, out=np.ones(x.shape), where=local_demand > 0)
    util = np.divide(x, used, out=np.zeros(x.shape), where=used > 0)
    flat = [v.reshape(shape) for v in (x, local_sales, x - local_sales, local_demand, ratio, util, up, theta)]
    return Quantities(*flat)
