"""The policy levers, one module each, and their registry.

``LEVERS`` lists them in the order the scenario schema, the results' fiscal table, the cost
tables and the plots use. To add a lever: write its module (see ``base.py``) and add its
``LEVER`` here; nothing else reads lever names.
"""

from __future__ import annotations

import numpy as np

from . import (
    approval,
    attraction,
    capacity,
    electricity,
    employment,
    energy,
    freight,
    grants,
    interest,
    land,
    sme_fund,
    tax,
)
from .base import Lever

LEVERS: tuple[Lever, ...] = (electricity.LEVER, freight.LEVER, tax.LEVER, interest.LEVER,
                             # issue 12: the policy's other levers
                             grants.LEVER, land.LEVER, approval.LEVER, attraction.LEVER, sme_fund.LEVER,
                             employment.LEVER, energy.LEVER, capacity.LEVER)
BY_KEY = {lever.key: lever for lever in LEVERS}


def announced_block(lever: Lever, block, known_by: int):
    """The lever's block with only the rules announced by ``known_by`` (``Rule.announced_year``)."""
    lists = lever.rule_lists(block)
    return block.model_copy(update={name: [r for r in rules if r.announced_year <= known_by]
                                    for name, rules in lists.items()})


def year_terms(policy, chain, year: int, price, known_by: int | None = None):
    """Every lever's terms for ``year`` (``price``: the market price by stage); with ``known_by``,
    as investors in that year expect them: only the rules announced by then."""
    from ..terms import CellTerms

    t = CellTerms.neutral(chain.n_stages)
    for lever in LEVERS:
        block = getattr(policy, lever.key)
        if known_by is not None:
            block = announced_block(lever, block, known_by)
        t = lever.terms(block, chain, year, price, t)
    return t


def is_static(policy, start: int) -> bool:
    """True when every lever value is known from ``start`` and never changes after it (no time path
    has a later year, no rule is announced later): investors' expected terms are today's."""
    for lever in LEVERS:
        block = getattr(policy, lever.key)
        paths = [v for v in block.__dict__.values() if isinstance(v, dict)]
        for rules in lever.rule_lists(block).values():
            for r in rules:
                if r.announced_year > start:
                    return False
                paths += [v for v in r.__dict__.values() if isinstance(v, dict)]
        if any(y > start for path in paths for y in path):
            return False
    return True


def reads_price(policy) -> bool:
    """True when some lever's terms depend on the year's market price (``Lever.reads_price``)."""
    return any(lever.reads_price is not None and lever.reads_price(getattr(policy, lever.key)) for lever in LEVERS)


def planning_terms(policy, chain, year: int, price, lags: np.ndarray):
    """The terms investors in ``year`` expect when a new unit starts producing (year + 1 + the
    stage's build lag), from the rules announced by ``year``: their paths as announced."""
    from dataclasses import fields

    from ..terms import CellTerms

    by_lag = {int(lag): year_terms(policy, chain, year + 1 + int(lag), price, known_by=year)
              for lag in np.unique(lags)}
    if len(by_lag) == 1:
        return next(iter(by_lag.values()))
    rows = np.arange(chain.n_stages)
    values = {}
    for f in fields(CellTerms):
        first = getattr(next(iter(by_lag.values())), f.name)
        if isinstance(first, np.ndarray):
            stacked = np.stack([getattr(by_lag[int(lag)], f.name)[s] for s, lag in zip(rows, lags)])
            values[f.name] = stacked
        else:
            values[f.name] = first
    return CellTerms(**values)


__all__ = ["LEVERS", "BY_KEY", "Lever", "year_terms", "planning_terms", "is_static", "reads_price"]
