"""Engines apply the firm rules each year: all firms at once, or one Mesa agent at a time.

Both call the same :func:`simulation.firm.firm_year` — the vectorized engine with arrays of
all firms, the reference engine with one agent's scalars — and both return sums by cell
(stage x zone), from which the model builds the stage accounts.
"""

from __future__ import annotations

import numpy as np
from mesa.agent import AgentSet

from . import firm
from .agents import FirmAgent
from .state import PENDING_SLOTS

SUMMED = ("X", "Y", "debt_start", "profit", "tax_paid", "taxable", "interest_subsidy", "investment")


class VectorEngine:
    """All firms at once on numpy arrays kept in cell blocks (``state.FirmState``).

    Per-cell coefficients reach the firms by ``np.repeat`` and totals come back by
    ``np.add.reduceat``; dead and free rows are inert (no capacity, cash or debt). The rows are
    processed in chunks of ``CHUNK_ROWS`` so that the ~100 temporaries of a firm-year stay in
    the processor's cache instead of streaming every array through main memory each time.
    """

    CHUNK_ROWS = 16_384

    def __init__(self, model):
        self.model = model
        self._handles: dict[int, FirmAgent] = {}  # firm_id -> handle, made on request
        self._plan_key = None
        self._chunks: list = []
        self._planned: list = []  # per chunk: capacity put to work and under construction, plan -> settle

    @property
    def st(self):
        return self.model.state

    def chunks(self) -> list[tuple[slice, slice, np.ndarray, np.ndarray]]:
        """Row ranges with their cells: (rows, cells, rows per cell in range, local region starts)."""
        st = self.st
        key = (st.rebuilds, st.n)
        if key != self._plan_key:
            self._chunks = []
            starts = st.starts
            for a in range(0, st.n, self.CHUNK_ROWS):
                b = min(a + self.CHUNK_ROWS, st.n)
                c0 = int(np.searchsorted(starts, a, side="right")) - 1
                c1 = int(np.searchsorted(starts, b, side="left"))
                lo = np.maximum(starts[c0:c1], a)
                hi = np.minimum(starts[c0 + 1: c1 + 1], b)
                self._chunks.append((slice(a, b), slice(c0, c1), hi - lo, lo - a))
            lag_by_cell = np.repeat(self.model.chain.build_lag, 3)
            self._lags = {cells.start: np.unique(lag_by_cell[cells]) for _, cells, _, _ in self._chunks}
            self._plan_key = key
        return self._chunks

    def begin_year(self, year: int) -> None:
        """Capacity ordered earlier arrives."""
        st = self.st
        slot = st.pending[year % PENDING_SLOTS]
        np.add(st.capacity, slot, out=st.capacity)
        slot[:] = 0.0

    def plan(self, threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Capacity (all, of the firms that produce, and under construction) by cell."""
        st = self.st

        def task(chunk):
            rows, cells, sizes, local = chunk
            cap = st.capacity[rows]
            works = st.inv_productivity[rows] <= np.repeat(threshold[cells], sizes)
            building = st.pending[:, rows].sum(axis=0)
            working = cap * works
            self._planned.append((working, building))  # reused by settle: nothing changes in between
            return np.add.reduceat(cap, local), np.add.reduceat(working, local), np.add.reduceat(building, local)

        chunks = self.chunks()
        self._planned = []
        totals = [np.zeros(st.n_cells) for _ in range(3)]
        for (_, cells, _, _), parts in zip(chunks, map(task, chunks)):
            for total, part in zip(totals, parts):
                total[cells] += part
        return tuple(totals)

    def settle(self, k: dict, year: int) -> dict:
        st, m = self.st, self.model

        def task(chunk_and_plan):
            (rows, cells, sizes, local), (working, building) = chunk_and_plan

            def spread(per_cell):
                return np.repeat(per_cell[cells], sizes)

            pending = st.pending[:, rows]
            state = {
                "capacity": st.capacity[rows], "inv_productivity": st.inv_productivity[rows], "debt": st.debt[rows],
                "cash": st.cash[rows], "working_capacity": working,
                "sub_debt_base": (m.subsidised_debt(st.sub_debt[:, rows], spread, year)
                                  if k["has_interest_subsidy"] else 0.0),
                "first_revenue_year": st.first_revenue_year[rows], "loss_years": st.loss_years[rows],
                "pending_total": building,
            }
            out = firm.firm_year(k, lambda name: spread(k[name]), st.cell[rows], state, year)
            # totals first: some outputs (debt_start) are views of the state about to be overwritten;
            # a flow that is zero for everyone comes back as a scalar 0 and needs no sum
            parts = {name: np.add.reduceat(out[name], local) for name in SUMMED if np.ndim(out[name])}
            st.cash[rows] = out["cash"]
            st.debt[rows] = out["debt"]
            st.capacity[rows] = out["capacity"]
            st.first_revenue_year[rows] = out["first_revenue_year"]
            st.loss_years[rows] = out["loss_years"]
            lags = self._lags[cells.start]
            if lags.size == 1:
                slot = pending[(year + 1 + int(lags[0])) % PENDING_SLOTS]
                slot += out["new_units"]
            else:
                lag = st.lag[rows]
                for lag_value in lags:
                    slot = pending[(year + 1 + int(lag_value)) % PENDING_SLOTS]
                    np.add(slot, out["new_units"], out=slot, where=lag == lag_value)
            if st.vintages:
                st.sub_debt[year % st.vintages, rows] = out["new_loans"] * spread(k["subsidised_loans"])
            return parts, rows.start + np.flatnonzero(out["exit"] & st.alive[rows])

        chunks = self.chunks()
        sums = {name: np.zeros(st.n_cells) for name in SUMMED}
        leaving = [np.zeros(0, dtype=np.int64)]
        for (_, cells, _, _), (parts, gone) in zip(chunks, map(task, zip(chunks, self._planned))):
            for name, part in parts.items():
                sums[name][cells] += part
            leaving.append(gone)
        leaving = np.concatenate(leaving)
        sums["exits"] = np.bincount(st.cell[leaving], minlength=st.n_cells)
        self._remove(leaving)
        return sums

    def _remove(self, rows: np.ndarray) -> None:
        st = self.st
        if self._handles:
            for row in rows:
                handle = self._handles.pop(int(st.firm_id[row]), None)
                if handle is not None:
                    handle.row = -1  # the firm has left; its row may be reused after a rebuild
                    handle.remove()
        st.remove(rows)

    def added(self, rows: np.ndarray, mapping: np.ndarray | None) -> None:
        """New firms need no objects; after a layout rebuild, handles learn their new rows."""
        if mapping is not None:
            for handle in self._handles.values():
                handle.row = int(mapping[handle.row])

    def count(self) -> np.ndarray:
        return self.st.alive_count.copy()

    def agent_set(self) -> AgentSet:
        st = self.st
        for row in np.flatnonzero(st.alive):
            fid = int(st.firm_id[row])
            if fid not in self._handles:
                self._handles[fid] = FirmAgent(self.model, int(row))
        return AgentSet([self._handles[f] for f in sorted(self._handles)], random=self.model.random)


class ReferenceEngine:
    """One Mesa agent at a time, as idiomatic Mesa code: ``agents.do(...)`` each phase."""

    def __init__(self, model):
        self.model = model
        self.n_cells = model.chain.n_stages * 3
        self.agents = AgentSet([], random=model.random)

    def begin_year(self, year: int) -> None:
        self.agents.do("begin_year", year)

    def plan(self, threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        capacity, producing, pipeline = np.zeros(self.n_cells), np.zeros(self.n_cells), np.zeros(self.n_cells)
        for agent in self.agents:
            total, used, building = agent.plan(threshold)
            capacity[agent.cell] += total
            producing[agent.cell] += used
            pipeline[agent.cell] += building
        return capacity, producing, pipeline

    def settle(self, k: dict, year: int) -> dict:
        sums = {name: np.zeros(self.n_cells) for name in SUMMED}
        sums["exits"] = np.zeros(self.n_cells, dtype=np.int64)
        leaving = []
        for agent in self.agents:
            out = agent.step(k, year)
            for name in SUMMED:
                sums[name][agent.cell] += out[name]
            if out["exit"]:
                leaving.append(agent)
        for agent in leaving:
            sums["exits"][agent.cell] += 1
            agent.leave()
            self.agents.remove(agent)
        return sums

    def added(self, rows: np.ndarray, mapping: np.ndarray | None) -> None:
        if mapping is not None:
            for agent in self.agents:
                agent.row = int(mapping[agent.row])
        for row in rows:
            self.agents.add(FirmAgent(self.model, int(row)))

    def count(self) -> np.ndarray:
        total = np.zeros(self.n_cells, dtype=np.int64)
        for agent in self.agents:
            total[agent.cell] += 1
        return total

    def agent_set(self) -> AgentSet:
        return self.agents


ENGINES = {"vectorized": VectorEngine, "reference": ReferenceEngine}
