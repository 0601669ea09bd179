"""The policy levers, one module each, and their registry.

``LEVERS`` lists them in the order the scenario schema, the results' fiscal table, the cost
tables and the plots use. To add a lever: write its module (see ``base.py``) and add its
``LEVER`` here; nothing else reads lever names.
"""

from __future__ import annotations

from . import electricity, freight, interest, tax
from .base import Lever

LEVERS: tuple[Lever, ...] = (electricity.LEVER, freight.LEVER, tax.LEVER, interest.LEVER)
BY_KEY = {lever.key: lever for lever in LEVERS}


def year_terms(policy, chain, year: int, price):
    """Every lever's terms for ``year`` (``price``: this year's market price by stage)."""
    from ..terms import CellTerms

    t = CellTerms.neutral(chain.n_stages)
    for lever in LEVERS:
        t = lever.terms(getattr(policy, lever.key), chain, year, price, t)
    return t


__all__ = ["LEVERS", "BY_KEY", "Lever", "year_terms"]
