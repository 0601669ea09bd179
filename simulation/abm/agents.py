"""Firms as Mesa agents: light handles over the model's firm arrays.

A ``FirmAgent`` stores only its row number; its attributes read the arrays, so a user can
inspect firms the Mesa way (``model.firm_agents()``) while the vectorized engine never
creates an object per firm. The reference engine calls ``begin_year``, ``plan`` and ``step``
on each agent in turn; they apply the same rules as the vectorized engine, to one firm.
"""

from __future__ import annotations

import mesa
import numpy as np

from ..config.chain import ZONES
from ..economy import firm
from ..economy.coefficients import CellCoefficients, Spread
from .state import PENDING_SLOTS


class FirmAgent(mesa.Agent):
    """One enterprise: a stage of a chain, a zone, capacity, productivity, debt and cash."""

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = row

    def _get(self, name: str):
        return self.model.state.raw(name)[..., self.row]

    def _set(self, name: str, value) -> None:
        self.model.state.raw(name)[..., self.row] = value

    cell = property(lambda self: int(self._get("cell")))
    stage = property(lambda self: self.cell // 3)
    stage_name = property(lambda self: self.model.chain.order[self.stage])
    sector = property(lambda self: self.model.chain.sector_of(self.stage_name))
    zone = property(lambda self: ZONES[self.cell % 3])
    capacity = property(lambda self: float(self._get("capacity")))
    productivity = property(lambda self: 1.0 / float(self._get("inv_productivity")))
    debt = property(lambda self: float(self._get("debt")))
    cash = property(lambda self: float(self._get("cash")))
    first_revenue_year = property(lambda self: int(self._get("first_revenue_year")))
    alive = property(lambda self: self.row >= 0 and bool(self._get("alive")))

    def __repr__(self) -> str:
        return (f"FirmAgent(id={self.unique_id}, stage={self.stage_name}, zone={self.zone}, "
                f"capacity={self.capacity:.4g}, cash={self.cash:.4g}, debt={self.debt:.4g})")

    # ---- the reference engine's yearly rules, one agent at a time
    def begin_year(self, year: int) -> None:
        pending = self._get("pending")
        self._set("capacity", self.capacity + pending[year % PENDING_SLOTS])
        pending[year % PENDING_SLOTS] = 0.0

    def plan(self, threshold, threshold_high) -> tuple[float, float, float, float]:
        """Capacity, capacity put to work at the expected price (``tests/plain_rules.produces``) and
        at import parity, and capacity under construction."""
        inv_phi = float(self._get("inv_productivity"))
        producing = inv_phi <= threshold[self.cell]
        high = inv_phi <= threshold_high[self.cell]
        return self.capacity, self.capacity * producing, self.capacity * high, float(self._get("pending").sum())

    def step(self, k: CellCoefficients, year: int) -> dict:
        """Accounts, tax, investment and financing for this year (``firm.firm_year``)."""
        model, cell = self.model, self.cell
        st = model.state
        state = {
            "capacity": self.capacity, "inv_productivity": float(self._get("inv_productivity")),
            "debt": self.debt, "cash": self.cash,
            "sub_debt_base": float(firm.subsidised_debt(st.raw("sub_debt")[:, self.row: self.row + 1],
                                                        k.fixed_years[cell: cell + 1] if st.vintages else None,
                                                        year)[0]),
            "first_revenue_year": self.first_revenue_year, "loss_years": int(self._get("loss_years")),
            "pending_total": float(self._get("pending").sum()),
        }
        out = firm.firm_year(k, Spread(k, lambda per_cell: per_cell[cell]), cell, state, year)
        for name in ("cash", "debt", "capacity", "first_revenue_year", "loss_years"):
            self._set(name, out[name])
        # the cell's build lag this year (the chain's, unless an approval lag changes it; issue 12)
        self._get("pending")[(year + 1 + int(k.build_lag[cell])) % PENDING_SLOTS] += out["new_units"]
        if k.track_orders:
            self._set("ordered", out["new_units"])
        if st.vintages:
            self._get("sub_debt")[year % st.vintages] = out["new_loans"] * k.subsidised_loans[cell]
        return out

    def leave(self) -> None:
        """Exit: the firm's capacity, loans and cash leave the economy."""
        self.model.state.remove(np.array([self.row]))
        self.row = -1
        self.remove()
