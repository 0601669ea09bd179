"""Engines apply the firm rules each year: all firms at once, or one Mesa agent at a time.

Both engines build the same per-firm inputs with :func:`firm_inputs` (arrays of stage values
indexed by the firms' stages, or scalars for one firm) and call the same
``firm.plan`` / ``firm.settle``, so they agree to rounding.
"""

from __future__ import annotations

import mesa
from mesa.agent import AgentSet
import numpy as np

from . import firm
from .agents import FirmAgent

FLOWS = (
    "output", "sales", "exports", "imported_inputs", "intermediate_inputs", "value_added", "employment",
    "profit", "tax_paid", "investment", "primary_cost", "fiscal_power", "freight_subsidy", "fiscal_tax",
    "interest_subsidy", "local_inputs",
)


def firm_inputs(model, ctx: dict, stage, cell) -> dict:
    """Stage and policy values a firm (``stage``, ``cell`` ints) or many firms (arrays) need."""
    c, fs, pol = model.chain, model.spec.firms, ctx["pol"]
    return {
        "year": ctx["year"],
        "local_share": ctx["local_share"][stage],
        "export_price": ctx["export_price"][stage],
        "local_price": ctx["local_price"][stage],
        "subsidy": pol.subsidy_per_unit.ravel()[cell],
        "material_local": ctx["material_local"][stage],
        "material_imported": ctx["material_imported"][stage],
        "material_cost": ctx["material_cost"][stage],
        "other": c.other_inputs[stage],
        "kwh": c.kwh[stage],
        "power_price": pol.power_price.ravel()[cell],
        "power_counts": pol.power_counts.ravel()[cell],
        "reference_power_price": pol.reference_power_price,
        "workers": c.workers[stage],
        "wage": c.wage[stage],
        "depreciation": c.depreciation[stage],
        "capital_cost": c.capital_cost[stage],
        "build_lag": c.build_lag[stage],
        "interest_rate": fs.interest_rate,
        "working_capital_share": fs.working_capital_share,
        "fixed_points": pol.fixed_points.ravel()[cell],
        "fixed_years": pol.fixed_years.ravel()[cell],
        "wc_points": pol.wc_points.ravel()[cell],
        "wc_years": pol.wc_years.ravel()[cell],
        "wc_from": pol.wc_from.ravel()[cell],
        "holiday_from": pol.holiday_from.ravel()[cell],
        "exempt": pol.holiday_exempt.ravel()[cell],
        "half": pol.holiday_half.ravel()[cell],
        "half_rate": pol.statutory_rate / 2.0,
        "base_rate": pol.tax_base_rate.ravel()[cell],
        "statutory_rate": pol.statutory_rate,
        "expected_netback": ctx["expected_netback"][stage] + pol.subsidy_per_unit.ravel()[cell],
        "utilisation": ctx["utilisation"][stage],
        "discount_rate": fs.discount_rate,
        "horizon": fs.evaluation_years,
        "debt_share": fs.debt_share,
        "max_debt_to_capital": fs.max_debt_to_capital,
        "elasticity": fs.investment_elasticity,
        "max_rate": fs.max_investment_rate,
        "loss_limit": fs.exit_after_loss_years,
        "exit_enabled": fs.exit,
    }


class VectorEngine:
    """All firms at once on numpy arrays (dead rows are inert: zero capacity, cash and debt)."""

    def __init__(self, model):
        self.model = model
        self._handles: dict[int, FirmAgent] = {}

    @property
    def st(self):
        return self.model.state

    def begin_year(self) -> None:
        st = self.st
        st.capacity[:] += st.pending[0]
        st.pending[:-1] = st.pending[1:]
        st.pending[-1] = 0.0
        sub = st.sub_debt
        sub[1:] = sub[:-1] * (1.0 - 1.0 / firm.LOAN_TERM_YEARS)
        sub[0] = 0.0

    def plan(self, netback_by_stage, material_by_stage, pol) -> np.ndarray:
        st, c = self.st, self.model.chain
        stage, cell = st.stage, st.cell
        _, self._producing = firm.plan(
            netback_by_stage[stage], material_by_stage[stage], c.other_inputs[stage], c.kwh[stage],
            pol.power_price.ravel()[cell], c.workers[stage], c.wage[stage], st.productivity, st.capacity)
        return np.bincount(stage, weights=self._producing, minlength=c.n_stages)

    def stage_sum_capacity(self) -> np.ndarray:
        return np.bincount(self.st.stage, weights=self.st.capacity, minlength=self.model.chain.n_stages)

    def settle(self, ctx: dict) -> dict:
        st, c = self.st, self.model.chain
        stage = st.stage
        inputs = firm_inputs(self.model, ctx, stage, st.cell)
        years = np.arange(st.vintages)[:, None]
        sub_base = (st.sub_debt * (years < inputs["fixed_years"][None, :])).sum(axis=0)
        state = {
            "output": self._producing * ctx["stage_ratio"][stage], "productivity": st.productivity,
            "capacity": st.capacity, "debt": st.debt, "cash": st.cash, "sub_debt_base": sub_base,
            "first_revenue_year": st.first_revenue_year, "loss_years": st.loss_years,
            "pending_total": st.pending.sum(axis=0),
        }
        out = firm.settle(inputs, state)
        out["output"] = state["output"]
        st.cash[:] = out["cash"]
        st.debt[:] = out["debt"]
        st.capacity[:] = out["capacity"]
        st.first_revenue_year[:] = out["first_revenue_year"]
        st.loss_years[:] = out["loss_years"]
        n = len(stage)
        new_units = out["new_units"]
        for lag in np.unique(c.build_lag):
            mask = c.build_lag[stage] == lag
            st.pending[lag][mask] += new_units[mask]
        subsidised = (inputs["fixed_points"] > 0) & (inputs["fixed_years"] > 0)
        st.sub_debt[0] += np.where(subsidised, out["new_loans"], 0.0)
        sums = {k: np.bincount(stage, weights=out[k], minlength=c.n_stages) for k in FLOWS}
        leaving = np.flatnonzero(out["exit"] & st.alive) if n else np.array([], dtype=int)
        sums["exits"] = np.bincount(stage[leaving], minlength=c.n_stages)
        self._remove(leaving)
        return sums

    def _remove(self, rows: np.ndarray) -> None:
        st = self.st
        st.alive[rows] = False
        for name in ("capacity", "debt", "cash"):
            getattr(st, name)[rows] = 0.0
        st.pending[:, rows] = 0.0
        st.sub_debt[:, rows] = 0.0
        for row in rows:
            handle = self._handles.pop(int(row), None)
            if handle is not None:
                handle.remove()

    def added(self, rows: np.ndarray) -> None:
        """New firms need no objects: handles are made on request."""

    def stage_count(self) -> np.ndarray:
        return np.bincount(self.st.stage, weights=self.st.alive, minlength=self.model.chain.n_stages)

    def agent_set(self) -> AgentSet:
        for row in np.flatnonzero(self.st.alive):
            if int(row) not in self._handles:
                self._handles[int(row)] = FirmAgent(self.model, int(row))
        return AgentSet([self._handles[r] for r in sorted(self._handles)], random=self.model.random)


class ReferenceEngine:
    """One Mesa agent at a time: ``agents.do("plan")``, markets, then ``agents.do("step")``."""

    def __init__(self, model):
        self.model = model
        self.agents = AgentSet([], random=model.random)

    def begin_year(self) -> None:
        self.agents.do("begin_year")

    def plan(self, netback_by_stage, material_by_stage, pol) -> np.ndarray:
        self._plan_ctx = (netback_by_stage, material_by_stage, pol)
        total = np.zeros(self.model.chain.n_stages)
        for agent in self.agents:
            total[agent.stage] += agent.plan(*self._plan_ctx)
        return total

    def stage_sum_capacity(self) -> np.ndarray:
        total = np.zeros(self.model.chain.n_stages)
        for agent in self.agents:
            total[agent.stage] += agent.capacity
        return total

    def settle(self, ctx: dict) -> dict:
        n_s = self.model.chain.n_stages
        sums = {k: np.zeros(n_s) for k in FLOWS}
        sums["exits"] = np.zeros(n_s, dtype=np.int64)
        leaving = []
        for agent in self.agents:
            out = agent.step(ctx)
            for k in FLOWS:
                sums[k][agent.stage] += out[k]
            if out["exit"]:
                leaving.append(agent)
        for agent in leaving:
            sums["exits"][agent.stage] += 1
            agent.leave()
            self.agents.remove(agent)
        return sums

    def added(self, rows: np.ndarray) -> None:
        for row in rows:
            self.agents.add(FirmAgent(self.model, int(row)))

    def stage_count(self) -> np.ndarray:
        total = np.zeros(self.model.chain.n_stages)
        for agent in self.agents:
            total[agent.stage] += 1
        return total

    def agent_set(self) -> AgentSet:
        return self.agents


ENGINES = {"vectorized": VectorEngine, "reference": ReferenceEngine}
