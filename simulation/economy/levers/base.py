"""What a lever is: one module holding its scenario block, its yearly terms and its fiscal cost.

A lever module defines the pydantic schema of its block under ``policy:`` (rules with targeting
keys and time paths), ``terms(block, chain, year, price, terms) -> terms`` (the cells' terms it
sets this year, ``economy.terms.CellTerms``) and ``fiscal_cost(flows) -> yuan per cell``, where
``flows`` has the firms' summed flows and the year's coefficients as attributes (arrays over
cells, or years x cells: the same code books one year or a run), and registers itself as a
:class:`Lever` in ``economy.levers.LEVERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel

from ...config.chain import Chain
from ..terms import CellTerms


@dataclass(frozen=True)
class Lever:
    key: str  # the block under ``policy:`` and the ``lever`` of the fiscal table
    label: str  # display name
    schema: type[BaseModel]  # the block's schema
    terms: Callable[[Any, Chain, int, np.ndarray, CellTerms], CellTerms]
    fiscal_cost: Callable[[Any], np.ndarray]  # yuan per cell (and year)
    cost_reads: tuple[str, ...]  # flows and coefficients ``fiscal_cost`` reads
    cost_definition: str  # how the cost is booked, in words
    rule_lists: Callable[[Any], dict[str, list]]  # key below the block -> rules (their stages are checked)
    unit: str = "million yuan"
    # key below the block -> stage names that must exist, besides the rules' ``stages`` (issue 12)
    stage_lists: Callable[[Any], dict[str, list[str]]] | None = None
    # True when the block's terms depend on the year's market price (``terms``' ``price``): runs
    # side by side then need their terms run by run (issue 17, ``abm.batch``)
    reads_price: Callable[[Any], bool] | None = None
