"""Investment attraction and partner-province support (招商引资, 对标招商, 援疆).

Scenario block ``policy.investment_attraction``: ``rules`` (targeting + ``investor_multiplier``,
which multiplies the potential entrants of the targeted cells; ``extra_investors_per_year``, outside
investors a year brought to the targeted stage, e.g. by partner provinces, shared over zones like
the stage's own; ``placed_plants_per_year``, new plants a year that a drive places in the targeted
stage whatever a plant is expected to earn (relocation quotas, free standing factories), shared
over zones the same way; ``large_placed_plants_per_year``, more placed plants a year of
``capacity_per_large_placed_plant`` units a year each (0: the stage's new-plant size), shared the
same way: a size mix of the drive's plants in one rule (docs/calibration.md §14.20); ``orders_per_placed_plant``,
the orders a placed plant brings from its parent firm, as a share of its capacity (0-1; 0: it brings
none); ``incentive_million_yuan_per_project``, paid to each new plant; time paths; the last matching
rule wins).

Effect: more new plants in ``economy.year.entry_means`` (the channels ``CellTerms.
entrant_multiplier``, which scales the cell's potential entrants, ``economy.year.
potential_entrants``, and ``extra_entrants``, outside investors added to the stage's pool: the same
chance that a plant pays meets more investors, also in stages with no firms yet; and
``placed_plants``, added to the Poisson mean of new plants without that chance, so they come
however little a plant would earn, drawn from the same uniforms). Placed plants are built like
other new plants (the stage's plant size and build lag), are paid the incentive and leave by the
normal exit rules. Large placed plants are part of the same draw: of a cell's ``n`` new plants
(Poisson at the mean of all of them, uniform ``u``) the large ones are the Poisson draw at their own
mean from the same ``u`` (``large_plant_counts``: at most ``n``, since a Poisson quantile rises with
the mean; exactly Poisson at that mean), built at their capacity; the rest as before. The
incentive lowers the plant's cost to its investor (``entry_paid_factor``).
Fiscal cost: incentives paid, incentive x new plants (placed ones included).

Orders of the parent firms (docs/calibration.md §14.19): a relocated plant brings the orders its
parent placed in the east, so the drive adds demand for the stage's regional output with its
capacity. A new plant of the cell carries ``orders_per_placed_plant`` x its capacity x the share of
placed plants in the cell's expected new plants (``new_plant_orders``: the expected orders of a new
plant, since placed and market plants come from one Poisson draw); they add to the stage's demand
at the reference price, from the year the plant produces until it exits (``with_orders``): to the
exports its variety sells at the market price (``armington.reference_exports``) in a differentiated
stage, to the outside demand it can reach in a price-taking one. The orders stay with a plant whose
owner a successor replaces (``economy.turnover``) and are fixed in units a year.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ...config.targets import Rule, _Strict, _time_path, rule_value
from ..rules import poisson_from_uniform
from ..targeting import target_mask
from .base import Lever


class AttractionRule(Rule):
    investor_multiplier: _time_path(0.0, 1000.0) = Field(default_factory=lambda: {-1: 1.0})
    extra_investors_per_year: _time_path(0.0, 1e5) = Field(default_factory=lambda: {-1: 0.0})
    placed_plants_per_year: _time_path(0.0, 1e5) = Field(default_factory=lambda: {-1: 0.0})
    large_placed_plants_per_year: _time_path(0.0, 1e5) = Field(default_factory=lambda: {-1: 0.0})
    capacity_per_large_placed_plant: _time_path(0.0, 1e9) = Field(default_factory=lambda: {-1: 0.0})
    orders_per_placed_plant: _time_path(0.0, 1.0) = Field(default_factory=lambda: {-1: 0.0})
    incentive_million_yuan_per_project: _time_path(0.0, 1e5) = Field(default_factory=lambda: {-1: 0.0})


class InvestmentAttraction(_Strict):
    """More outside investors and placed plants in targeted stages; fiscal cost = incentives paid
    per new plant."""

    rules: list[AttractionRule] = Field(default_factory=list)


def terms(block: InvestmentAttraction, chain, year: int, price, t):
    if not (block.rules):  # nothing to set: the neutral terms stand (and a year costs nothing more)
        return t
    shape = t.entrant_multiplier.shape
    multiplier, extra, placed, incentive = np.ones(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape)
    orders, large, large_capacity = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for rule in block.rules:  # each part of a rule does nothing before its first year
        m = target_mask(rule, chain)
        for table, path, scale in ((multiplier, rule.investor_multiplier, 1.0),
                                   (extra, rule.extra_investors_per_year, 1.0),
                                   (placed, rule.placed_plants_per_year, 1.0),
                                   (large, rule.large_placed_plants_per_year, 1.0),
                                   (large_capacity, rule.capacity_per_large_placed_plant, 1.0),
                                   (orders, rule.orders_per_placed_plant, 1.0),
                                   (incentive, rule.incentive_million_yuan_per_project, 1e6)):
            value = rule_value(path, year)
            if value is not None:
                table[m] = value * scale
    # a large plant of capacity 0 is one of the stage's new-plant size
    large_capacity = np.where(large_capacity > 0, large_capacity, np.asarray(chain.plant_capacity)[:, None])
    return t.set(entrant_multiplier=multiplier, extra_entrants=extra, placed_plants=placed,
                 placed_large_plants=large, placed_large_capacity=large_capacity,
                 placed_orders_share=orders, entry_incentive=incentive)


def new_plant_orders(orders_share: np.ndarray, plant_capacity: np.ndarray, placed_mean: np.ndarray,
                     mean: np.ndarray) -> np.ndarray:
    """Units a year of parent orders a new plant of each cell brings: ``orders_share`` x its capacity
    x the chance it is a placed plant, placed plants' mean over all new plants' (0 where none come)."""
    placed_share = np.divide(placed_mean, mean, out=np.zeros(np.shape(mean)), where=mean > 0)
    return orders_share * plant_capacity * placed_share


def large_plant_counts(u: np.ndarray, count: np.ndarray, large_mean: np.ndarray) -> np.ndarray:
    """Large placed plants among each cell's ``count`` new plants drawn at uniforms ``u``: the
    Poisson draw at ``large_mean`` from the same uniforms (a quantile that rises with the mean, so
    never more than ``count``; the minimum only guards the rounding)."""
    return np.minimum(poisson_from_uniform(u, large_mean), count)


def large_plant_layout(count: np.ndarray, large: np.ndarray) -> np.ndarray:
    """For the new plants laid out cell by cell (``np.repeat(cells, count)``): True for the first
    ``large`` of each cell, the large placed plants."""
    rank = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return rank < np.repeat(large, count)


def with_orders(demand: np.ndarray, reference: np.ndarray | None, orders: np.ndarray, sigma: np.ndarray):
    """The stages' outside demand and variety references with the plants' parent orders (units a
    year by stage) added at the reference price: to ``reference`` (the exports the variety sells at
    the market price) where ``sigma > 0``, to ``demand`` elsewhere. Returns both."""
    variety = sigma > 0
    demand = demand + np.where(variety, 0.0, orders)
    return demand, (None if reference is None else reference + np.where(variety, orders, 0.0))


def fiscal_cost(f):
    """Yuan: incentive per new plant x new plants."""
    return f.entry_incentive * f.entries_cell


LEVER = Lever(
    key="investment_attraction", label="investment attraction", schema=InvestmentAttraction, terms=terms,
    fiscal_cost=fiscal_cost, cost_reads=("entry_incentive", "entries_cell"),
    cost_definition="incentives paid: incentive per project x new plants",
    rule_lists=lambda block: {"rules": block.rules},
)
