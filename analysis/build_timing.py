"""When a model order is built and paid for, in calendar time (docs/calibration.md §14.10).

The model has one investment decision a year: an order of year t at build lag L produces from
t + 1 + L and its whole capital cost is booked in t. The record dates stocks at a year's end
(spindles "by end-2015") and counts investment when it is spent (完成投资额). The back-test reads
a model order of year t as a project started at a uniform time within t that takes L years plus
``construction_months`` to build, spending at an even rate while it is built. Two pure maps
follow:

* :func:`installed_by_year_end`: the share of a year's starts built by the end of the year it
  would complete in, ``f = 1 - months / 12`` (the rest finishes early in the next year), whatever
  the lag. The model wears capacity and closes firms within year t and adds the capacity it
  ordered at the start of the year it produces in, ``X(t + 1) = X(t) - wear(t) - exits(t) +
  A(t + 1)`` (``A``: the arrivals); the stock at the end of t is then the capacity of t + 1 less
  the share of its arrivals not yet built, ``X(t + 1) - (1 - f) A(t + 1)``
  (:func:`end_of_year_stock`): all of year t's wear and exits, and the share f of the arrivals.
* :func:`spending_weights`: the shares of an order's cost spent in t, t + 1, ... for build lag L;
  :func:`as_spent` spreads each stage's investment by them, with the orders placed before the
  first year (still being paid for in it) from the start's capacity under construction and a
  steady state (:func:`carried_orders`).

The lags are the chain's (a lever that changes a stage's build lag, e.g. a faster approval, is not
followed here).
"""

from __future__ import annotations

import numpy as np


def installed_by_year_end(construction_months: float) -> float:
    """Share of the projects started in a year (uniformly over it) that are built by its end
    (lag 0), or by the end of the year before their first full year of production (lag L)."""
    return 1.0 - construction_months / 12.0


def _ramp_integral(x: float) -> float:
    """Integral from -inf to x of clip(u, 0, 1) du."""
    if x <= 0:
        return 0.0
    return 0.5 * x * x if x <= 1 else x - 0.5


def spending_weights(build_lag_years: int, construction_months: float) -> np.ndarray:
    """Shares of an order's cost spent in the order year t and the years after (summing to 1):
    a start s uniform in [0, 1) of year t, spending evenly over [s, s + T], T = L + months / 12.
    The share of year t + k is E_s |[s, s + T] n [k, k + 1]| / T, exactly."""
    T = build_lag_years + construction_months / 12.0
    years = int(np.ceil(T)) + 1
    H = _ramp_integral
    w = np.array([(H(T - k + 1) - H(T - k)) - (H(1 - k) - H(-k)) for k in range(years)]) / T
    return w[: int(np.flatnonzero(w > 1e-12)[-1]) + 1]  # no trailing empty year


def end_of_year_stock(values: np.ndarray, arrivals: np.ndarray, construction_months: float) -> np.ndarray:
    """The stock at the end of each year from the model's capacity of each year (the capacity
    producing in it; last axis = years, consecutive) and its arrivals (``arrivals[..., j]``: the
    capacity ordered earlier that joins at the start of year j, same shape):
    ``X(t + 1) - (1 - f) A(t + 1)``. The result has one year fewer at the end and one more at the
    start: the end of the year before the first is the first year's capacity (the chain's start is
    the stock at the start of its year)."""
    f = installed_by_year_end(construction_months)
    inner = values[..., 1:] - (1.0 - f) * arrivals[..., 1:]
    return np.concatenate([values[..., :1], inner], axis=-1)


def arrivals(orders_units: np.ndarray, build_lag_years: int, before_start_units: np.ndarray) -> np.ndarray:
    """Capacity joining at the start of each year (last axis = years, consecutive) from the units
    ordered in each year (``orders_units``), which join ``1 + build_lag_years`` years later, plus
    the units joining from orders placed before the start (``before_start_units[..., j]``: joining
    in year j; the model's replacement of wear at the start and its capacity under construction)."""
    out = np.array(before_start_units, dtype=float)
    shift = 1 + build_lag_years
    n = orders_units.shape[-1]
    if shift < n:
        out[..., shift:] += orders_units[..., : n - shift]
    return out


def carried_orders(first_year_orders: float, build_lag_years: int, capital_yuan_per_unit: float,
                   pipeline_units: dict[int, float], start_year: int, years_back: int) -> np.ndarray:
    """Orders (money) placed in the ``years_back`` years before the start, latest first: at the
    first year's level (a steady state, an assumption) plus the capacity under construction at the
    start at its capital cost, in the year it was ordered (arrival - 1 - lag)."""
    orders = np.full(years_back, float(first_year_orders))
    for arrival, units in pipeline_units.items():
        back = start_year - (arrival - 1 - build_lag_years)  # 1 = the year before the start
        if units and 1 <= back <= years_back:
            orders[back - 1] += units * capital_yuan_per_unit
    return orders


def as_spent(orders: np.ndarray, weights: np.ndarray, carried: np.ndarray) -> np.ndarray:
    """Spending by year from the orders of each year (``orders``: the model's investment, one value
    a year, consecutive) and the orders before the first year (``carried``, latest first):
    ``spent(t) = sum_k weights[k] orders(t - k)``."""
    n = orders.size
    full = np.concatenate([carried[::-1], orders])  # oldest carried first
    lead = carried.size
    return np.array([sum(weights[k] * full[lead + t - k] for k in range(weights.size) if lead + t - k >= 0)
                     for t in range(n)])
