"""The region's own variety in differentiated stages: a price that falls as it sells more.

Most stages sell a commodity whose price the region takes as given (its outside demand bounds how
much it can ship at that price). A stage the chain marks ``demand.differentiated`` instead sells a
variety of its own (Armington 1969): outside buyers take more of it only at a lower price
relative to the market's, ``e = E (p_r / p)^(-sigma)``, so the region's price for exports ``e`` is

    p_r = p x (e / E)^(-1 / sigma),

with ``E`` the exports it sells at the market price: its exports at the start (the base-year
capacity less what local buyers use; one plant's output where the stage is absent), moving with the
market's demand (its growth, the price trend and the demand shifts, ``year.year_prices``). The
price clears the variety's market in the same year against the supply curve of the stage's firms
(``clearing_factors``): no capacity idles for want of buyers while a lower price would sell it,
and investors value a new unit at the price the capacity there or being built will fetch. sigma
(``shocks.armington_elasticity``) is a trade elasticity (docs/calibration.md §10.6); ``sigma`` below is
by stage, 0 in the price-taking stages. Pure functions; ``abm.model`` applies them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .year import YearPrices

MIN_EXPORT_SHARE = 0.05  # exports below 5% of E are priced as 5%: a cap of 0.05^(-1/sigma) on the price factor


def reference_exports(chain, scale: float, demand: np.ndarray) -> np.ndarray:
    """``E`` by stage this year: base-year exports (at least one plant's output) x the market's
    demand now over its base level (``demand`` = ``YearPrices.demand``)."""
    cap0 = chain.initial_capacity * scale
    base = np.maximum(cap0 - chain.A @ cap0, chain.plant_capacity)
    level0 = chain.demand0 * scale
    return base * np.divide(demand, level0, out=np.ones_like(demand), where=level0 > 0)


def demanded_factor(quantity: np.ndarray, reference: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """The price factor at which outside buyers take ``quantity`` of the variety, capped where they take
    less than ``MIN_EXPORT_SHARE`` of ``reference``."""
    return np.maximum(quantity / reference, MIN_EXPORT_SHARE) ** (-1.0 / sigma)


def price_factor(sigma: np.ndarray, exports: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``p_r / p`` by stage: ``demanded_factor(e)`` in the variety stages, 1 elsewhere."""
    on = sigma > 0
    factor = np.ones(sigma.size)
    factor[on] = demanded_factor(exports[on], reference[on], sigma[on])
    return factor


def clearing_factors(stage: np.ndarray, break_even: np.ndarray, capacity: np.ndarray, local_use: np.ndarray,
                     reference: np.ndarray, sigma: np.ndarray, runs: int = 1) -> np.ndarray:
    """The price factor that clears each variety stage's market this year, given its firms.

    ``stage``: each producing-capable firm's variety stage (0..n-1); ``break_even``: the price factor
    at which it covers its unit variable cost; ``capacity``: its capacity; ``local_use``,
    ``reference`` (``E``) and ``sigma`` by variety stage. Supply at factor phi is the capacity of the
    firms with ``break_even <= phi`` less local use; outside demand is ``E phi^(-sigma)``. With the
    firms in order of break-even, the first firm k whose entry makes supply at its break-even meet
    demand there is the marginal one: the market clears at the price where the firms before it meet
    demand, ``demanded_factor(S_(k-1) - L)``, if that lies below k's break-even (k stays out), else
    at k's break-even (k produces: a step of the supply curve). If demand exceeds supply with every
    firm producing, at the price where all the supply sells.

    ``runs``: the stages of that many runs side by side (``abm.batch``; run b's variety stages are
    ``b * n / runs ..``): the running sums restart at each run's first stage (``cumsum_by_run``), so
    each run's factors are the bits of a call with its stages and firms alone.
    """
    n = reference.size
    order = stage_order(stage, break_even)
    st, be, cap = stage[order], np.maximum(break_even[order], 1e-9), capacity[order]
    per_stage = np.bincount(st, weights=cap, minlength=n)
    per_run = n // runs
    before = (cumsum_by_run(per_stage, np.arange(n) // per_run, runs) - per_stage)[st]  # the run's earlier stages
    supply = cumsum_by_run(cap, st // per_run, runs) - before  # the stage's firms up to this one
    excess = supply - local_use[st] - reference[st] * be ** (-sigma[st])
    phi = demanded_factor(per_stage - local_use, reference, sigma)  # every firm produces
    met = np.flatnonzero(excess >= 0)
    if met.size:
        first = met[np.r_[True, st[met][1:] != st[met][:-1]]]  # the marginal firm of each stage
        s = st[first]
        between = demanded_factor(supply[first] - cap[first] - local_use[s], reference[s], sigma[s])
        phi[s] = np.minimum(between, be[first] * (1.0 + 1e-9))  # (the marginal firm's own threshold holds)
    return phi


def stage_order(stage: np.ndarray, break_even: np.ndarray) -> np.ndarray:
    """The firms by stage, then by break-even, ties in their order: ``np.lexsort((break_even, stage))``,
    the same permutation in about a tenth of the time where no two firms of a stage break even at
    the same factor (numpy's quicksort of the break-evens, then a stable radix sort of the stages;
    the stable sort of floats is a merge sort many times slower); with such ties, ``np.lexsort``."""
    order = np.argsort(break_even)  # not stable: a tie is found below
    small = stage.size and 0 <= int(stage.min()) and int(stage.max()) < 2**15
    order = order[np.argsort(stage[order].astype(np.int16) if small else stage[order], kind="stable")]
    s, b = stage[order], break_even[order]
    if np.any((s[1:] == s[:-1]) & ((b[1:] == b[:-1]) | np.isnan(b[1:]))):  # (NaNs: last, and tied)
        return np.lexsort((break_even, stage))
    return order


def cumsum_by_run(values: np.ndarray, run: np.ndarray, runs: int) -> np.ndarray:
    """``np.cumsum`` of ``values`` restarting at each run (``run``: each value's run, in order), bit for
    bit the cumulative sums of each run's values alone (each run's row of a table, summed along it)."""
    if runs == 1:
        return np.cumsum(values)
    count = np.bincount(run, minlength=runs)
    rank = np.arange(values.size) - (np.cumsum(count) - count)[run]  # position within its run
    table = np.zeros((runs, int(count.max(initial=0))))
    table[run, rank] = values
    return np.cumsum(table, axis=1)[run, rank]


def at_factor(chain, prices: YearPrices, factor: np.ndarray, trend_factor: np.ndarray | None = None) -> YearPrices:
    """The prices the region's sellers get: price (and, with ``trend_factor``, the trend) x the
    variety's factor, export netbacks with them; buyers' import parity stays the market's."""
    price = prices.price * factor
    return replace(prices, price=price, export_price=price - chain.freight_out,
                   trend=prices.trend if trend_factor is None else prices.trend * trend_factor)


def unbounded_demand(sigma: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Outside demand for the market clearing: unbounded in the variety stages (their price clears)."""
    return np.where(sigma > 0, np.inf, demand)
