"""Firms as Mesa agents: light handles over the model's firm arrays.

A ``FirmAgent`` stores only its row number; its attributes read the arrays, so a user can
inspect firms the Mesa way (``model.firm_agents()``) while the vectorized engine never
creates an object per firm. The reference engine calls ``plan`` and ``step`` on each agent.
"""

from __future__ import annotations

import mesa
import numpy as np

from . import firm
from .chain import ZONES


class FirmAgent(mesa.Agent):
    """One enterprise: a stage of a chain, a zone, capacity, productivity, debt and cash."""

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = row

    # ---- attributes read from the arrays
    def _get(self, name: str):
        return self.model.state.raw(name)[..., self.row]

    def _set(self, name: str, value) -> None:
        self.model.state.raw(name)[..., self.row] = value

    stage = property(lambda self: int(self._get("stage")))
    cell = property(lambda self: int(self._get("cell")))
    stage_name = property(lambda self: self.model.chain.order[self.stage])
    sector = property(lambda self: self.model.chain.sector_of(self.stage_name))
    zone = property(lambda self: ZONES[int(self._get("zone"))])
    capacity = property(lambda self: float(self._get("capacity")))
    productivity = property(lambda self: float(self._get("productivity")))
    debt = property(lambda self: float(self._get("debt")))
    cash = property(lambda self: float(self._get("cash")))
    first_revenue_year = property(lambda self: int(self._get("first_revenue_year")))
    alive = property(lambda self: bool(self._get("alive")))

    def __repr__(self) -> str:
        return (f"FirmAgent(id={self.unique_id}, stage={self.stage_name}, zone={self.zone}, "
                f"capacity={self.capacity:.4g}, cash={self.cash:.4g}, debt={self.debt:.4g})")

    # ---- the reference engine's yearly rules, one agent at a time
    def begin_year(self) -> None:
        pending = self._get("pending").copy()
        self._set("capacity", self.capacity + pending[0])
        self._set("pending", np.append(pending[1:], 0.0))
        sub = self._get("sub_debt").copy()
        self._set("sub_debt", np.append(0.0, sub[:-1] * (1.0 - 1.0 / firm.LOAN_TERM_YEARS)))

    def plan(self, netback_by_stage, material_by_stage, pol) -> float:
        c, s, cell = self.model.chain, self.stage, self.cell
        _, self._producing = firm.plan(
            netback_by_stage[s], material_by_stage[s], c.other_inputs[s], c.kwh[s],
            pol.power_price.ravel()[cell], c.workers[s], c.wage[s], self.productivity, self.capacity)
        return float(self._producing)

    def step(self, ctx: dict) -> dict:
        from .engine import firm_inputs

        model, s = self.model, self.stage
        inputs = firm_inputs(model, ctx, s, self.cell)
        sub = self._get("sub_debt")
        state = {
            "output": float(self._producing) * ctx["stage_ratio"][s], "productivity": self.productivity,
            "capacity": self.capacity, "debt": self.debt, "cash": self.cash,
            "sub_debt_base": float(sum(sub[k] for k in range(len(sub)) if k < inputs["fixed_years"])),
            "first_revenue_year": self.first_revenue_year, "loss_years": int(self._get("loss_years")),
            "pending_total": float(self._get("pending").sum()),
        }
        out = firm.settle(inputs, state)
        out["output"] = state["output"]
        for name in ("cash", "debt", "capacity", "first_revenue_year", "loss_years"):
            self._set(name, out[name])
        pending = self._get("pending")
        pending[int(inputs["build_lag"])] += out["new_units"]
        self._set("pending", pending)
        if inputs["fixed_points"] > 0 and inputs["fixed_years"] > 0:
            sub = self._get("sub_debt")
            sub[0] += out["new_loans"]
            self._set("sub_debt", sub)
        return out

    def leave(self) -> None:
        """Exit: the firm's capacity, loans and cash leave the economy."""
        for name in ("capacity", "debt", "cash", "pending", "sub_debt"):
            self._set(name, 0.0)
        self._set("alive", False)
        self.remove()
