"""Stage markets: how much each stage produces, sells locally and exports.

Stages are in topological order (upstream first), so one pass from downstream to upstream
settles the year: a stage's local demand is what its local buyers need for the output they
have already decided, ``sum_j A[i, j] x_j``; local buyers take local output first (it saves
them the inbound freight), the rest is exported up to outside demand ``f_i``:

    x_i = min(K_i, sum_j A[i, j] x_j + f_i)        (K_i: capacity of the producing firms)

Without capacity limits ``x = A x + f``, i.e. the Leontief solution ``x = (I - A)^-1 f``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Quantities:
    output: np.ndarray  # units per year, by stage
    local_sales: np.ndarray  # units sold to local downstream buyers
    exports: np.ndarray  # units shipped out of the region
    local_demand: np.ndarray  # units local buyers need
    local_ratio: np.ndarray  # share of local demand met locally (1 where there is none)
    utilisation: np.ndarray  # output / producing capacity (0 where nothing produces)


def solve(A: np.ndarray, producing_capacity: np.ndarray, outside_demand: np.ndarray,
          capacity_limits: bool = True) -> Quantities:
    """Stage outputs for one year; ``A[i, j]`` = units of i per unit of j, topological order."""
    n = len(outside_demand)
    x = np.zeros(n)
    local_demand = np.zeros(n)
    for i in range(n - 1, -1, -1):
        local_demand[i] = A[i] @ x
        wanted = local_demand[i] + outside_demand[i]
        if producing_capacity[i] <= 0:
            x[i] = 0.0
        elif capacity_limits:
            x[i] = min(producing_capacity[i], wanted)
        else:
            x[i] = wanted
    local_sales = np.minimum(x, local_demand)
    ratio = np.divide(local_sales, local_demand, out=np.ones(n), where=local_demand > 0)
    util = np.divide(x, producing_capacity, out=np.zeros(n), where=producing_capacity > 0)
    return Quantities(x, local_sales, x - local_sales, local_demand, ratio, util)
