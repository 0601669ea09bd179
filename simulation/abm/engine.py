"""Engines apply the firm rules each year: all firms at once, or one Mesa agent at a time.

Both call the same :func:`economy.firm.firm_year` — the vectorized engine with arrays of
all firms, the reference engine with one agent's scalars — and both return the firms' flows
summed by cell (stage x zone), a :class:`CellSums`, from which ``economy.accounts`` builds the
stage accounts. An engine works on the firms' state it is given and never calls back into the
model (the reference engine holds the model only to make Mesa agents).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from mesa.agent import AgentSet

from ..economy import firm
from ..economy.coefficients import CellCoefficients, Spread
from .agents import FirmAgent
from .compiled import _loaded_kernels, compiled_kernels, finance_kernels  # noqa: F401 (``engine.compiled_kernels``: also here)
from .memory import keep_freed_memory
from .state import PENDING_SLOTS, FirmState

NO_ROWS = np.zeros(0, dtype=np.int64)
MAX_LAG_SLICES = 16  # a chunk's new capacity is booked by slices of cells of one lag up to this many, else by lag
SUMMED = ("X", "Y", "X_above_scale", "debt_start", "profit", "tax_paid", "taxable", "interest_subsidy", "investment",
          "labour_subsidy")


@dataclass(frozen=True)
class CellSums:
    """The firms' flows of one year summed by cell (yuan; X = output, Y = output / productivity)."""

    X: np.ndarray
    Y: np.ndarray
    X_above_scale: np.ndarray  # X of the firms whose sales reach ``rules.ABOVE_SCALE_SALES_YUAN``
    debt_start: np.ndarray
    profit: np.ndarray
    tax_paid: np.ndarray
    taxable: np.ndarray
    interest_subsidy: np.ndarray
    investment: np.ndarray
    labour_subsidy: np.ndarray  # employment subsidies received (issue 12)
    exits: np.ndarray  # firms that left


class Chunk(NamedTuple):
    """A range of rows and the cells it covers (``VectorEngine.chunks``)."""

    rows: slice
    cells: slice
    sizes: np.ndarray  # rows of each cell inside the range
    local: np.ndarray  # where each cell's rows start, counted from the range's start
    lag_runs: LagRuns  # (local rows, build lag in years): slices of cells whose stages share a lag, or each lag's mask
    kept: dict  # coefficients.RUN_CONSTANTS spread over the range's rows, kept until the layout changes
    segment_cells: np.ndarray | None  # the cell of each segment (``sizes``, ``local``), if the range holds a gap
    real: np.ndarray | None  # ... and which segments are cells (``FirmState.segments``)

    def per_segment(self, per_cell: np.ndarray) -> np.ndarray:
        """A per-cell array (or a table, a row per cell) for each segment of rows (a cell's rows, or a gap's)."""
        return per_cell[self.cells] if self.real is None else per_cell.take(self.segment_cells, axis=0)

    def cell_totals(self, totals: np.ndarray) -> np.ndarray:
        """Totals by segment (``np.add.reduceat`` at ``local``) by cell: the gaps' dropped."""
        return totals if self.real is None else totals[self.real]


def chunk_bounds(starts: np.ndarray, cells_per_run: int, chunk_rows: int,
                 run_ends: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Row ranges of the chunks: a run alone is cut every ``chunk_rows`` rows from its start; runs
    side by side (``abm.batch``) are cut at the same rows of each run, and elsewhere only between
    cells, at most ``chunk_rows`` apart where possible.

    A cell's totals are summed chunk by chunk, so a cell cut in a run alone is cut at the same row
    beside other runs and a cell whole in a run alone is whole beside them: each run's sums are
    the same bits. ``run_ends``: where each run's cells end (before its gap; default: where the next
    run starts).
    """
    n = int(starts[-1])
    run_starts = starts[:-1:cells_per_run]
    if run_ends is None:
        run_ends = np.r_[run_starts[1:], n]
    forced = np.concatenate([np.arange(a + chunk_rows, b, chunk_rows) for a, b in zip(run_starts, run_ends)]
                            + [np.array([n])]).astype(np.int64)  # the cuts of each run alone, and the end
    bounds, a = [], 0
    while a < n:
        cut = int(forced[np.searchsorted(forced, a, side="right")])
        if cut > a + chunk_rows:  # a cut between cells, as far as the chunk may reach
            between = int(starts[np.searchsorted(starts, a + chunk_rows, side="right") - 1])
            cut = between if between > a else cut
        bounds.append((a, cut))
        a = cut
    return bounds


def new_chunk(a: int, b: int, lo: np.ndarray, hi: np.ndarray, cells_of: np.ndarray, real: np.ndarray | None,
              lag_by_cell: np.ndarray) -> Chunk:
    """The chunk of rows ``[a, b)``, whose segments span ``[lo, hi)`` with cells ``cells_of`` (``real``:
    which segments are cells' regions, None: all; ``lag_by_cell``: each cell's build lag)."""
    gap = real is not None and not real.all()
    cells = slice(int(cells_of[0]), int(cells_of[-1]) + 1)
    return Chunk(slice(a, b), cells, hi - lo, lo - a, LagRuns(a, lo, hi, lag_by_cell[cells_of]), {},
                 cells_of if gap else None, np.flatnonzero(real) if gap else None)


class LagRuns:
    """A chunk's ``lag_runs``: (local rows, build lag in years) of the slices of cells whose stages
    share a lag, or (many slices: runs side by side) each lag's rows as a mask; made on first use
    (numpy's settle path books new capacity by them; the compiled kernel reads each cell's lag)."""

    __slots__ = ("_at", "_lo", "_hi", "_lags", "_runs")

    def __init__(self, at: int, lo: np.ndarray, hi: np.ndarray, lags: np.ndarray):
        self._at, self._lo, self._hi, self._lags, self._runs = at, lo, hi, lags, None

    def __iter__(self):
        if self._runs is None:
            a, lo, hi, lags = self._at, self._lo, self._hi, self._lags
            change = np.flatnonzero(np.diff(lags)) + 1  # cells where the lag differs from the cell before
            first, last = np.r_[0, change], np.r_[change, lags.size] - 1
            if first.size <= MAX_LAG_SLICES:
                self._runs = [(slice(int(lo[i] - a), int(hi[j] - a)), int(lags[i])) for i, j in zip(first, last)]
            else:  # many runs of cells (runs side by side): the rows of each lag at once, as a mask
                lag_by_row = np.repeat(lags, hi - lo)
                self._runs = [(lag_by_row == lag, int(lag)) for lag in np.unique(lags)]
        return iter(self._runs)


def capacity_within(capacity: np.ndarray, inv_productivity: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """``capacity * (inv_productivity <= threshold)``: the capacity of the firms at or below a threshold
    of 1/productivity, the same numbers (the test is written as 1.0 / 0.0 and multiplied in place:
    a product with booleans is about twice as slow)."""
    within = np.less_equal(inv_productivity, threshold, out=np.empty_like(capacity), casting="unsafe")
    within *= capacity
    return within


class VectorEngine:
    """All firms at once on numpy arrays kept in cell blocks (``state.FirmState``).

    Per-cell coefficients reach the firms by ``np.repeat`` and totals come back by
    ``np.add.reduceat``; dead and free rows are inert (no capacity, cash or debt). The rows are
    processed in chunks of ``CHUNK_ROWS`` so that the temporaries of a firm-year stay in the
    processor's cache, while numpy's fixed cost per call stays small next to the work of a call
    (larger and smaller chunks, and threads over chunks, ran no faster on a 2-core machine).
    """

    CHUNK_ROWS = 32_768

    def __init__(self, state: FirmState, chain, model=None):
        keep_freed_memory()  # the chunks' temporaries reuse freed memory instead of faulting in new pages
        self.st = state
        self.chain = chain
        self._handles: dict[int, FirmAgent] = {}  # firm_id -> handle, made on request
        self._plan_key = None
        self._chunks: list[Chunk] = []
        self._kept_chunks: dict[tuple, Chunk] = {}  # the chunks by their rows and segments (``chunks``)
        self._planned: list = []  # per chunk: capacity put to work and under construction, plan -> settle
        self._zeros = np.zeros(0)  # as long as the longest chunk, read only
        self._kernels = compiled_kernels()  # None: numpy's path throughout
        self._table = None  # the settle kernel's coefficient table, kept across years (``kernels.coefficient_table``)
        self._finance = finance_kernels()  # ``kernels_finance``, or None with ``_kernels``

    def chunks(self) -> list[Chunk]:
        """The layout cut into ranges of at most ``CHUNK_ROWS`` rows (recomputed after a rebuild).

        A range whose rows and segments are the same as before the rebuild keeps its chunk, and
        with it the coefficients kept spread over its rows (runs side by side: a run rebuilt in
        place changes only the chunks that hold its rows)."""
        st = self.st
        key = (st.rebuilds, st.n)
        if key != self._plan_key:
            begins, segment_cell, real = st.segments()
            lag_by_cell = np.repeat(self.chain.build_lag, 3)
            run_ends = st.ends[st.cells_per_run - 1::st.cells_per_run]
            before, self._kept_chunks = self._kept_chunks, {}
            for a, b in chunk_bounds(st.starts, st.cells_per_run, self.CHUNK_ROWS, run_ends):
                c0 = int(np.searchsorted(begins, a, side="right")) - 1  # the chunk's segments
                c1 = int(np.searchsorted(begins, b, side="left"))
                lo = np.maximum(begins[c0:c1], a)
                hi = np.minimum(begins[c0 + 1: c1 + 1], b)
                cells_of = segment_cell[c0:c1]
                of_cells = None if real is None else real[c0:c1]
                signature = (a, b, lo.tobytes(), hi.tobytes(), cells_of.tobytes(),
                             None if of_cells is None else of_cells.tobytes())
                chunk = before.get(signature)
                if chunk is None:
                    chunk = new_chunk(a, b, lo, hi, cells_of, of_cells, lag_by_cell)
                self._kept_chunks[signature] = chunk
            self._chunks = list(self._kept_chunks.values())
            self._zeros = np.zeros(max((c.rows.stop - c.rows.start for c in self._chunks), default=0))
            self._zeros.flags.writeable = False
            self._plan_key = key
        return self._chunks

    def begin_year(self, year: int) -> None:
        """Capacity ordered earlier arrives."""
        st = self.st
        slot = st.pending[year % PENDING_SLOTS]
        np.add(st.capacity, slot, out=st.capacity)
        slot[:] = 0.0

    def plan(self, threshold: np.ndarray, threshold_high: np.ndarray) -> tuple[np.ndarray, ...]:
        """Capacity by cell: all, of the firms that produce at the expected price (``threshold``),
        of those that would produce at import parity (``threshold_high``), and under construction."""
        totals = [np.zeros(self.st.n_cells) for _ in range(4)]
        self._planned = []
        for chunk in self.chunks():
            for total, part in zip(totals, self._plan_chunk(chunk, threshold, threshold_high)):
                total[chunk.cells] += part
        return tuple(totals)

    def _plan_chunk(self, chunk: Chunk, threshold: np.ndarray, threshold_high: np.ndarray):
        st, rows = self.st, chunk.rows
        cap = st.capacity[rows]
        inv_phi = st.inv_productivity[rows]
        pending = st.pending[:, rows]
        building = pending[0] + pending[1]  # the slots added row by row: faster than sum(axis=0)
        for slot in pending[2:]:
            building += slot
        working = capacity_within(cap, inv_phi, np.repeat(chunk.per_segment(threshold), chunk.sizes))
        self._planned.append((working, building))  # reused by settle: nothing changes in between
        local = chunk.local
        high = capacity_within(cap, inv_phi, np.repeat(chunk.per_segment(threshold_high), chunk.sizes))
        return tuple(chunk.cell_totals(np.add.reduceat(v, local)) for v in (cap, working, high, building))

    def settle(self, k: CellCoefficients, year: int) -> CellSums:
        """Each firm's year (``firm.firm_year``); returns the flows summed by cell and the exits."""
        st = self.st
        sums = {name: np.zeros(st.n_cells) for name in SUMMED}
        leaving = [NO_ROWS]
        kernel, table = None, None
        if self._kernels is not None and self._kernels.covers(k, st.vintages):
            kernel = self._kernels.settle_rows
            table = self._table = self._kernels.coefficient_table(k, self._table)
        elif self._finance is not None and self._finance.covers_finance(k, st.vintages):
            kernel, table = self._finance.settle_rows, self._finance.finance_table(k)  # interest subsidies, holidays
        for chunk, planned in zip(self.chunks(), self._planned):
            if kernel is not None and chunk.sizes.all():  # (a segment without rows: numpy's path)
                self._reprice_working(chunk, planned[0], k)
                parts, gone = kernel(k, table, chunk, st, *planned, year)
            else:
                parts, gone = self._settle_chunk(chunk, planned, k, year)
            for name, part in parts.items():
                sums[name][chunk.cells] += part
            leaving.append(gone)
        leaving = np.concatenate(leaving)
        sums["exits"] = np.bincount(st.cell[leaving], minlength=st.n_cells)
        self._remove(leaving)
        return CellSums(**sums)

    def _settle_chunk(self, chunk: Chunk, planned, k: CellCoefficients, year: int):
        """numpy's path of a chunk's year, the reference (``kernels.settle_rows`` the compiled one)."""
        st, rows, sizes = self.st, chunk.rows, chunk.sizes
        working, building = planned
        self._reprice_working(chunk, working, k)

        def spread(per_cell):
            return chunk.per_segment(per_cell).repeat(sizes)

        state = {
            "capacity": st.capacity[rows], "inv_productivity": st.inv_productivity[rows], "debt": st.debt[rows],
            "cash": st.cash[rows], "working_capacity": working,
            "sub_debt_base": (firm.subsidised_debt(st.sub_debt[:, rows], spread(k.fixed_years) if st.vintages
                                                   else None, year) if k.has_interest_subsidy else 0.0),
            "first_revenue_year": st.first_revenue_year[rows], "loss_years": st.loss_years[rows],
            "pending_total": building,
        }
        zero = self._zeros[: rows.stop - rows.start]  # read only
        out = firm.firm_year(k, Spread(k, spread, chunk.kept), st.cell[rows], state, year, zero)
        # totals first: some outputs (debt_start) are views of the state about to be overwritten;
        # a flow that is zero for everyone comes back as a scalar 0 and needs no sum
        parts = {name: chunk.cell_totals(np.add.reduceat(out[name], chunk.local)) for name in SUMMED
                 if np.ndim(out[name])}
        for name in ("cash", "debt", "capacity", "first_revenue_year", "loss_years"):
            st.raw(name)[rows] = out[name]
        pending, new_units = st.pending[:, rows], out["new_units"]
        if k.has_lag_change:  # issue 12: the cell's build lag this year (approval lag), firm by firm
            slot = (year + 1 + spread(k.build_lag)) % PENDING_SLOTS
            pending[slot, np.arange(slot.size)] += new_units
        else:
            for run, lag in chunk.lag_runs:  # new capacity arrives after the build lag
                slot = pending[(year + 1 + lag) % PENDING_SLOTS]
                if isinstance(run, slice):
                    slot[run] += new_units[run]
                else:  # the lag's rows of many cells: a masked add is three times faster than a gather
                    np.add(slot, new_units, out=slot, where=run)
        if k.track_orders:  # issue 12: the year's orders, for the grant envelope and capacity caps
            st.raw("ordered")[rows] = new_units
        if st.vintages:
            st.sub_debt[year % st.vintages, rows] = out["new_loans"] * spread(k.subsidised_loans)
        leaving = out["exit"] & st.alive[rows]
        return parts, (rows.start + np.flatnonzero(leaving)) if np.any(leaving) else NO_ROWS

    def _reprice_working(self, chunk: Chunk, working: np.ndarray, k: CellCoefficients) -> None:
        """The capacity put to work in the cells selling at a cleared local price (``k.priced_up``),
        planned at the expected price: recomputed at the year's threshold, in place (few cells: their
        rows only)."""
        st, rows, sizes = self.st, chunk.rows, chunk.sizes
        up = np.flatnonzero(chunk.per_segment(k.priced_up)) if k.priced_up is not None else NO_ROWS
        if up.size:
            at = np.repeat(chunk.local[up] - np.cumsum(sizes[up]) + sizes[up], sizes[up]) + np.arange(sizes[up].sum())
            rows_up = at + rows.start
            working[at] = st.capacity[rows_up] * (st.inv_productivity[rows_up]
                                                  <= np.repeat(chunk.per_segment(k.threshold)[up], sizes[up]))

    def close(self, rows: np.ndarray) -> None:
        """Close firms by policy (issue 12: backward-capacity removal)."""
        self._remove(rows)

    def _remove(self, rows: np.ndarray) -> None:
        st = self.st
        if self._handles:
            for row in rows:
                handle = self._handles.pop(int(st.firm_id[row]), None)
                if handle is not None:
                    handle.row = -1  # the firm has left; its row may be reused after a rebuild
                    handle.remove()
        st.remove(rows)

    def succeeded(self, rows: np.ndarray, old_ids: np.ndarray) -> None:
        """Successors took over these rows (``FirmState.succeed``): the handles of the firms that left go."""
        if not self._handles:  # no one asked for agents
            return
        for fid in old_ids:
            handle = self._handles.pop(int(fid), None)
            if handle is not None:
                handle.row = -1
                handle.remove()

    def added(self, rows: np.ndarray, mapping: np.ndarray | None) -> None:
        """New firms need no objects; after a layout rebuild, handles learn their new rows."""
        if mapping is not None:
            for handle in self._handles.values():
                handle.row = int(mapping[handle.row])

    def count(self) -> np.ndarray:
        return self.st.alive_count.copy()

    def agent_set(self, model) -> AgentSet:
        """Light Mesa agents over the living firms' rows (made on request, kept across years)."""
        st = self.st
        for row in np.flatnonzero(st.alive):
            fid = int(st.firm_id[row])
            if fid not in self._handles:
                self._handles[fid] = FirmAgent(model, int(row))
        return AgentSet([self._handles[f] for f in sorted(self._handles)], random=model.random)


class ReferenceEngine:
    """One Mesa agent at a time, as idiomatic Mesa code: ``agents.do(...)`` each phase."""

    def __init__(self, state: FirmState, chain, model):
        self.model = model  # Mesa agents belong to a model; the engine never calls it
        self.n_cells = chain.n_stages * 3
        self.agents = AgentSet([], random=model.random)

    def begin_year(self, year: int) -> None:
        self.agents.do("begin_year", year)

    def plan(self, threshold: np.ndarray, threshold_high: np.ndarray) -> tuple[np.ndarray, ...]:
        totals = [np.zeros(self.n_cells) for _ in range(4)]
        for agent in self.agents:
            for total, part in zip(totals, agent.plan(threshold, threshold_high)):
                total[agent.cell] += part
        return tuple(totals)

    def settle(self, k: CellCoefficients, year: int) -> CellSums:
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
        return CellSums(**sums)

    def close(self, rows: np.ndarray) -> None:
        """Close firms by policy (issue 12: backward-capacity removal)."""
        closing = set(int(r) for r in rows)
        for agent in [a for a in self.agents if a.row in closing]:
            agent.leave()
            self.agents.remove(agent)

    def succeeded(self, rows: np.ndarray, old_ids: np.ndarray) -> None:
        """Successors took over these rows (``FirmState.succeed``): each gets an agent of its own."""
        closing = set(int(r) for r in rows)
        for agent in [a for a in self.agents if a.row in closing]:
            agent.row = -1
            agent.remove()
            self.agents.remove(agent)
        self.added(rows, None)

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

    def agent_set(self, model) -> AgentSet:
        return self.agents


ENGINES = {"vectorized": VectorEngine, "reference": ReferenceEngine}
