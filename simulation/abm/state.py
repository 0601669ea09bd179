"""Firm state as a structure of arrays, kept in blocks by (stage, zone) cell.

Rows of cell c live in the region ``[starts[c], starts[c + 1])``: its living and dead firms
first, then free slots. Because the regions are contiguous and in cell order, a per-cell
coefficient reaches every firm with ``np.repeat`` and per-cell totals come from
``np.add.reduceat`` — both far cheaper than a gather or ``np.bincount`` over random cells.

Exit marks a row dead (its capacity, cash and debt become zero, so it adds nothing to any
sum); entry takes the dead rows of the entrant's cell first, then its free slots. Only when a
cell runs out of slots is the whole layout rebuilt, with dead rows dropped and spare room per
cell (a fiftieth of its firms, and at least about four years of the highest entry, doubled for a
cell each time it runs out), so rebuilds are rare and entry costs amortised O(1) per firm: no
year copies all arrays.

Runs side by side (``abm.batch``): ``runs`` runs of one chain keep their cells one after the other
(run b's cell c is cell ``b * cells_per_run + c``). Everything a run does to its rows is what it
would do alone: its layout is rebuilt only when one of *its* cells runs out of room, and its
record of recent entry moves only when it places firms, so each run's cells hold the same rows in
the same order as in a run alone (and so give the same sums, bit for bit). After each run's cells
the batch keeps a *gap* of free rows (a run alone has none), so that a run rebuilt within its rows and
gap is rebuilt in place without moving the others; only when one outgrows them do all runs move
(each with a new gap: about once a batch). A gap is its own segment of rows: it adds nothing to a
cell's sums (``segments``).
"""

from __future__ import annotations

import numpy as np

from .compiled import compiled_kernels

MAX_BUILD_LAG = 3
PENDING_SLOTS = MAX_BUILD_LAG + 1  # ring buffer: capacity arriving in year Y sits in slot Y % 4
SPARE_SHARE = 0.02  # free slots kept per cell when the layout is rebuilt (besides room for entry)
SPARE_MIN = 8
GAP_SHARE = 0.08  # runs side by side: rows left free after a run's cells when the runs move (``_rebuild``);
# a gap row costs a firm-year's passes, a move of the batch costs about eight years of gaps (8%: about one move)
GAP_MIN = 64

FIELDS: dict[str, tuple[type, int]] = {
    # name: (dtype, rows); rows > 0 makes a 2-D array of shape (rows, firms), 0 a 1-D array
    "alive": (np.bool_, 0),
    "cell": (np.int32, 0),  # stage * 3 + zone
    "lag": (np.int8, 0),  # build lag of the firm's stage, years
    "inv_productivity": (np.float64, 0),  # 1 / productivity
    "capacity": (np.float64, 0),  # units per year, producing now
    "pending": (np.float64, PENDING_SLOTS),  # capacity under construction, by year of arrival % 4
    "debt": (np.float64, 0),  # fixed-asset loans, yuan
    "cash": (np.float64, 0),
    "first_revenue_year": (np.int32, 0),
    "loss_years": (np.int16, 0),
    "firm_id": (np.int64, 0),  # stable identity (rows move when the layout is rebuilt)
    "ordered": (np.float64, 0),  # units ordered this year (kept only when ``k.track_orders``; issue 12)
    "parent_orders": (np.float64, 0),  # units a year of its parent's orders a placed plant brought (attraction)
}
FILL = {"inv_productivity": 1.0, "firm_id": -1}  # values of free rows (others are zero)


class FirmState:
    """Arrays of firm attributes in cell blocks; ``sub_debt[Y % K]`` holds subsidised loans of year Y."""

    def __init__(self, n_cells: int, subsidy_vintages: int = 0, min_spare: np.ndarray | int = SPARE_MIN,
                 runs: int = 1):
        self.n_cells = n_cells
        self.runs = runs
        self.cells_per_run = n_cells // runs
        self.min_spare = np.broadcast_to(np.asarray(min_spare, dtype=np.int64), (n_cells,)).copy()
        self.vintages = subsidy_vintages  # years of subsidised loans kept (0: no interest subsidy)
        self.starts = np.zeros(n_cells + 1, dtype=np.int64)  # where each cell's region starts, and the end
        self.ends = np.zeros(n_cells, dtype=np.int64)  # ... and ends (a run's last cell: before the run's gap)
        self.gaps = np.zeros(runs, dtype=np.int64)  # free rows after each run's cells (runs side by side)
        self._segments = None
        self.used = np.zeros(n_cells, dtype=np.int64)  # rows taken (alive or dead) at the start of each region
        self.alive_count = np.zeros(n_cells, dtype=np.int64)  # living firms per cell
        self.recent_entry = np.zeros(n_cells, dtype=np.int64)  # entrants per cell, decaying by half a call
        self.next_id = 0
        self.rebuilds = 0
        self._arrays = self._allocate(np.zeros(n_cells, dtype=np.int64))
        self._dead = np.zeros(0, dtype=np.int64)  # rows of firms that left, free for entrants of their cell

    # ------------------------------------------------------------------ layout
    @property
    def n(self) -> int:
        """Rows in the layout, free slots included."""
        return int(self.starts[-1])

    @property
    def sizes(self) -> np.ndarray:
        """Rows of each cell's region."""
        return self.ends - self.starts[:-1]

    def _sizes_for(self, need: np.ndarray) -> np.ndarray:
        """Region sizes holding ``need`` firms per cell plus spare room."""
        spare = np.maximum(np.ceil(need * SPARE_SHARE).astype(np.int64), self.min_spare)
        return need + np.maximum(spare, 2 * self.recent_entry)  # and two years of the cell's recent entry

    def _place(self, sizes: np.ndarray, gaps: np.ndarray) -> None:
        """Set ``starts`` and ``ends`` for cell regions of ``sizes`` rows, each run followed by its gap."""
        padded = sizes.copy()
        padded[self.cells_per_run - 1::self.cells_per_run] += gaps
        self.starts = np.concatenate([[0], np.cumsum(padded)])
        self.ends = self.starts[:-1] + sizes
        self.gaps = gaps
        self._segments = None

    def _layout(self, need: np.ndarray) -> np.ndarray:
        """Set ``starts`` for regions holding ``need`` firms per cell plus spare room; returns the sizes."""
        sizes = self._sizes_for(need)
        self._place(sizes, self.gaps)
        return sizes

    def segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The rows as segments: where each starts (and the end), the cell of each (a gap: its run's
        last cell) and which are cells' regions (None: all, there are no gaps)."""
        if self._segments is None:
            if not self.gaps.any():
                self._segments = (self.starts, np.arange(self.n_cells), None)
            else:
                last = np.flatnonzero(self.gaps) * self.cells_per_run + self.cells_per_run - 1
                begins = np.concatenate([self.starts[:-1], self.ends[last]])
                order = np.argsort(begins, kind="stable")
                cell = np.concatenate([np.arange(self.n_cells), last])[order]
                real = np.concatenate([np.ones(self.n_cells, bool), np.zeros(last.size, bool)])[order]
                self._segments = (np.append(begins[order], self.n), cell, real)
        return self._segments

    def per_row(self, per_cell: np.ndarray) -> np.ndarray:
        """A per-cell array spread over the rows (a gap's rows: its run's last cell)."""
        begins, cell, real = self.segments()
        return np.repeat(per_cell, self.sizes) if real is None else np.repeat(per_cell[cell], np.diff(begins))

    def run_cells(self, per_run: np.ndarray) -> np.ndarray:
        """A value per run spread over the run's cells."""
        return np.repeat(per_run, self.cells_per_run)

    def by_run(self, per_cell: np.ndarray) -> np.ndarray:
        """A per-cell array as (runs, cells of a run)."""
        return per_cell.reshape(self.runs, self.cells_per_run)

    def _allocate(self, need: np.ndarray) -> dict[str, np.ndarray]:
        self._layout(need)
        return self._free_arrays()

    def _free_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for the layout with every row free (fill values; each row's cell)."""
        n = self.n
        arrays = {}
        for name, (dtype, rows) in FIELDS.items():
            shape = (rows, n) if rows else (n,)
            fill = FILL.get(name, 0)  # (zeros: memory the system hands out zeroed, touched when written)
            arrays[name] = np.full(shape, fill, dtype=dtype) if fill else np.zeros(shape, dtype=dtype)
        arrays["sub_debt"] = np.zeros((self.vintages, n))
        arrays["cell"][:] = self.per_row(np.arange(self.n_cells))
        return arrays

    def _rebuild(self, extra: np.ndarray, runs: np.ndarray) -> np.ndarray:
        """New layout for the ``runs`` (bool per run) with room for ``extra`` more firms per cell;
        returns old row -> new row (-1: dropped).

        In a rebuilt run, living firms keep their order and fill the head of their cell's new region,
        dead rows are dropped and the free rows get their fill values. Runs side by side: where every
        rebuilt run's new regions fit in its rows and gap, the runs are rebuilt there and no other
        row moves (``_rebuild_in_place``); else every run gets a new gap and the other runs' regions
        move unchanged, every row (one slice copy for each).
        """
        rebuilt = self.run_cells(runs)
        alive_per_cell = np.where(rebuilt, self.alive_count, 0)  # (living firms: rows alive)
        sizes = np.where(rebuilt, self._sizes_for(alive_per_cell + extra), self.sizes)
        run_rows = self.by_run(sizes).sum(axis=1)
        if self.runs > 1:
            room = np.diff(self.starts[::self.cells_per_run])  # each run's rows and gap
            if np.all(run_rows[runs] <= room[runs]):
                return self._rebuild_in_place(sizes, runs, rebuilt, alive_per_cell, room - run_rows)
            gaps = np.maximum(np.ceil(GAP_SHARE * run_rows).astype(np.int64), GAP_MIN)
        else:
            gaps = self.gaps
        if not self.used.any():  # nothing placed yet (the first layout): every row free
            old_n = self.n
            self._place(sizes, gaps)
            self._arrays = self._free_arrays()
            self.rebuilds += 1
            return np.full(old_n, -1, dtype=np.int64)
        old, old_starts, old_ends = self._arrays, self.starts, self.ends
        old_alive = old["alive"]
        self._place(sizes, gaps)
        kernels = compiled_kernels()
        if kernels is not None:  # the same rows in compiled passes
            if runs.all():
                return self._rebuild_compiled(kernels, old, rebuilt, alive_per_cell)
            return self._rebuild_some_compiled(kernels, old, old_starts, old_ends, runs, rebuilt, alive_per_cell)
        n, per_run = self.n, self.cells_per_run
        rows_new, rows_old, free, cells_new = [], [], [], []
        for run in np.flatnonzero(runs):  # the rebuilt runs' regions, from their living rows
            c0, c1 = run * per_run, (run + 1) * per_run
            a_old, b_old, a_new = int(old_starts[c0]), int(old_starts[c1]), int(self.starts[c0])
            cell = np.repeat(np.arange(c0, c1), sizes[c0:c1])
            head = (np.arange(cell.size) + a_new - self.starts[cell]) < alive_per_cell[cell]
            rows_new.append(a_new + np.flatnonzero(head))
            rows_old.append(a_old + np.flatnonzero(old_alive[a_old:b_old]))
            free.append(a_new + np.flatnonzero(~head))
            free.append(np.arange(a_new + cell.size, int(self.starts[c1])))  # its gap
            cells_new.append((a_new, np.concatenate([cell, np.full(int(gaps[run]), c1 - 1)])))
        spans = []  # the other runs' cells, moved: (new row, old row, rows)
        for run in np.flatnonzero(~runs):
            c0, c1 = run * per_run, (run + 1) * per_run
            a_old, a_new, end_new = int(old_starts[c0]), int(self.starts[c0]), int(self.ends[c1 - 1])
            spans.append((a_new, a_old, int(old_ends[c1 - 1]) - a_old))
            free.append(np.arange(end_new, int(self.starts[c1])))  # its new gap
            cells_new.append((end_new, np.full(int(gaps[run]), c1 - 1)))
        rows_new, rows_old, free = (np.concatenate(v) for v in (rows_new, rows_old, free))
        source = None
        if not spans:  # every run rebuilt (a run alone): each new row gathers its old row in one pass
            source = np.zeros(n, dtype=np.int64)
            source[rows_new] = rows_old
        arrays = {}
        for name, arr in old.items():
            new = np.empty(arr.shape[:-1] + (n,), dtype=arr.dtype)
            for new_at, old_at, length in spans:
                new[..., new_at:new_at + length] = arr[..., old_at:old_at + length]
            if source is not None and not rows_old.size:  # nothing alive (the first layout): every row free
                new[...] = FILL.get(name, 0)
                arrays[name] = new
                continue
            for row_new, row_old in zip(np.atleast_2d(new), np.atleast_2d(arr)):  # 1-D views of each row
                if source is not None:
                    row_old.take(source, out=row_new, mode="clip")  # "clip": unbuffered (indices are valid)
                else:
                    row_new[rows_new] = row_old.take(rows_old)
                row_new[free] = FILL.get(name, 0)
            arrays[name] = new
        for at, cell in cells_new:
            arrays["cell"][at:at + cell.size] = cell
        self._arrays = arrays
        mapping = np.full(int(old_starts[-1]), -1, dtype=np.int64)
        mapping[rows_old] = rows_new
        for new_at, old_at, length in spans:
            mapping[old_at:old_at + length] = np.arange(new_at, new_at + length)
        dead = self._dead[~rebuilt[old["cell"][self._dead]]]  # the moved runs keep their dead rows
        self._dead = mapping[dead]
        self.used = np.where(rebuilt, alive_per_cell, self.used)
        self.rebuilds += 1
        return mapping

    def _rebuild_compiled(self, kernels, old: dict[str, np.ndarray], rebuilt: np.ndarray,
                          alive_per_cell: np.ndarray) -> np.ndarray:
        """``_rebuild`` of every run (the new layout placed) with the compiled kernels: the new rows,
        their cells and the moves of consecutive living rows in one pass (``kernels.rebuilt_rows``),
        then each field's row by those moves and a fill of the free rows (``kernels.rebuilt_field``)
        instead of a gather through a row index; the same arrays, bit for bit."""
        old_alive = old["alive"]
        mapping = np.empty(old_alive.size, dtype=np.int64)
        cell = np.empty(self.n, dtype=FIELDS["cell"][0])
        spans = np.empty((int(alive_per_cell.sum()), 3), dtype=np.int64)
        moves = kernels.rebuilt_rows(old_alive, self.starts, alive_per_cell, mapping, cell, spans)
        if moves < 0 or np.count_nonzero(old_alive) != spans.shape[0]:
            raise RuntimeError("FirmState: the rows alive are not the cells' living firms (alive_count)")
        self._arrays = self._moved_fields(kernels, old, spans[:moves], alive_per_cell, cell)
        self._dead = np.zeros(0, dtype=np.int64)  # (every run's dead rows dropped)
        self.used = np.where(rebuilt, alive_per_cell, self.used)
        self.rebuilds += 1
        return mapping

    def _moved_fields(self, kernels, old: dict[str, np.ndarray], spans: np.ndarray, heads: np.ndarray,
                      cell: np.ndarray) -> dict[str, np.ndarray]:
        """Every field in the new layout (placed): the old rows moved by ``spans`` and the fill value
        past each cell's ``heads`` rows (``kernels.rebuilt_field``), ``cell`` the new rows' cells."""
        arrays = {}
        for name, arr in old.items():
            if name == "cell":
                arrays[name] = cell
                continue
            new = np.empty(arr.shape[:-1] + (self.n,), dtype=arr.dtype)
            fill = arr.dtype.type(FILL.get(name, 0))
            for row_new, row_old in zip(np.atleast_2d(new), np.atleast_2d(arr)):  # 1-D views of each row
                kernels.rebuilt_field(row_old, spans, self.starts, heads, fill, row_new)
            arrays[name] = new
        return arrays

    def _rebuild_some_compiled(self, kernels, old: dict[str, np.ndarray], old_starts: np.ndarray,
                               old_ends: np.ndarray, runs: np.ndarray, rebuilt: np.ndarray,
                               alive_per_cell: np.ndarray) -> np.ndarray:
        """``_rebuild`` of the ``runs`` (not all; the new layout placed, every run with a new gap) with
        the compiled kernels: the rebuilt runs' living rows into their cells' heads and the other runs'
        cells moved whole (``kernels.rebuilt_some_rows``), then each field by those moves with its fill
        in every other row of a rebuilt run and in every new gap (``kernels.rebuilt_field``); the same
        arrays, bit for bit, as numpy's path."""
        old_alive = old["alive"]
        heads = np.where(rebuilt, alive_per_cell, self.ends - self.starts[:-1])  # moved: the whole cell
        mapping = np.empty(old_alive.size, dtype=np.int64)
        cell = np.empty(self.n, dtype=FIELDS["cell"][0])
        spans = np.empty((int(alive_per_cell.sum()) + self.runs, 3), dtype=np.int64)
        moves = kernels.rebuilt_some_rows(old_alive, old["cell"], old_starts, old_ends, self.starts, heads, runs,
                                          self.cells_per_run, mapping, cell, spans)
        if moves < 0:
            raise RuntimeError("FirmState: the rows alive are not the cells' living firms (alive_count)")
        self._arrays = self._moved_fields(kernels, old, spans[:moves], heads, cell)
        dead = self._dead[~rebuilt[old["cell"][self._dead]]]  # the moved runs keep their dead rows
        self._dead = mapping[dead]
        self.used = np.where(rebuilt, alive_per_cell, self.used)
        self.rebuilds += 1
        return mapping

    def _rebuild_in_place(self, sizes: np.ndarray, runs: np.ndarray, rebuilt: np.ndarray,
                          alive_per_cell: np.ndarray, gaps_left: np.ndarray) -> np.ndarray:
        """``_rebuild`` of runs whose new regions (``sizes``) fit in their rows and gap: the rows of
        every such run are refilled where they are, all runs in one pass per field (the living rows
        gathered in order into their cells' heads, every other row of those runs to its fill
        value); the rest of the batch is untouched."""
        arrays, per_run = self._arrays, self.cells_per_run
        self._dead = self._dead[~rebuilt[arrays["cell"][self._dead]]]  # the rebuilt runs' dead rows go
        self._place(sizes, np.where(runs, gaps_left, self.gaps))  # (every run starts where it did)
        kernels = compiled_kernels()
        if kernels is not None:  # the same rows in compiled passes over the rebuilt runs' rows only
            return self._rebuild_in_place_compiled(kernels, rebuilt, alive_per_cell)
        first = np.flatnonzero(runs) * per_run
        span = ranges(self.starts[first], self.starts[first + per_run])  # the rebuilt runs' rows and gaps
        living = span[arrays["alive"][span]]  # (in order: each run's cells' living firms)
        cells = np.flatnonzero(rebuilt)
        heads = ranges(self.starts[cells], self.starts[cells] + alive_per_cell[cells])
        head = np.zeros(self.n, dtype=bool)
        head[heads] = True
        free = span[~head[span]]
        for name, arr in arrays.items():
            for row in np.atleast_2d(arr) if name != "cell" else ():  # 1-D views of each row
                row[heads] = row.take(living)
                row[free] = FILL.get(name, 0)
        arrays["cell"][span] = np.repeat(cells, np.diff(self.starts)[cells])  # (a gap: its run's last cell)
        mapping = np.arange(self.n, dtype=np.int64)
        mapping[span] = -1
        mapping[living] = heads
        self.used = np.where(rebuilt, alive_per_cell, self.used)
        self.rebuilds += 1
        return mapping

    def _rebuild_in_place_compiled(self, kernels, rebuilt: np.ndarray, alive_per_cell: np.ndarray) -> np.ndarray:
        """``_rebuild_in_place`` (the new layout placed) with the compiled kernels: the moves, the new
        rows' cells and the mapping in one pass over the rebuilt runs' rows
        (``kernels.rebuilt_in_place_rows``), then each field's row moved and filled there
        (``kernels.rebuilt_in_place_field``), with no array as long as the layout but the mapping; the
        same arrays, bit for bit."""
        arrays = self._arrays
        cells = np.flatnonzero(rebuilt)
        heads = int(alive_per_cell[cells].sum())
        living, head_rows = np.empty(heads, dtype=np.int64), np.empty(heads, dtype=np.int64)
        mapping = np.arange(self.n, dtype=np.int64)
        m, k = kernels.rebuilt_in_place_rows(arrays["alive"], self.starts, cells, alive_per_cell, living, head_rows,
                                             arrays["cell"], mapping)
        if m != k:
            raise RuntimeError("FirmState: the rows alive are not the cells' living firms (alive_count)")
        living = living[:m]
        moved = np.empty(m)  # (eight bytes a row: room for any field's values)
        for name, arr in arrays.items():
            if name == "cell":
                continue
            fill = arr.dtype.type(FILL.get(name, 0))
            buffer = moved.view(arr.dtype)[:m] if arr.dtype.itemsize <= 8 else np.empty(m, dtype=arr.dtype)
            for row in np.atleast_2d(arr):  # 1-D views of each row
                kernels.rebuilt_in_place_field(row, living, head_rows, cells, self.starts, alive_per_cell, fill, buffer)
        self.used = np.where(rebuilt, alive_per_cell, self.used)
        self.rebuilds += 1
        return mapping

    # ------------------------------------------------------------------ access
    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("_arrays")
        if arrays is None or name not in arrays:
            raise AttributeError(name)
        return arrays[name]

    def raw(self, name: str) -> np.ndarray:
        return self._arrays[name]

    def cell_sum(self, values: np.ndarray) -> np.ndarray:
        """Per-cell totals of a per-row array (free and dead rows must hold zero)."""
        begins, _, real = self.segments()
        totals = np.add.reduceat(values, begins[:-1])
        return totals if real is None else totals[real]

    # ------------------------------------------------------------------ entry
    def add(self, cells: np.ndarray, **values) -> tuple[np.ndarray, np.ndarray | None]:
        """Place new firms of the given (sorted) cells; returns their rows and, after a rebuild,
        the old-row -> new-row mapping (else None).

        A new firm takes the row of a firm of its cell that has left, if there is one, else a free
        slot; the fields it is not given hold fill values (zero)."""
        cells = np.asarray(cells, dtype=np.int64)
        count = np.bincount(cells, minlength=self.n_cells)
        # a run's record of recent entry moves when it places firms (not with its first population)
        placing = self.by_run(count).any(axis=1) & self.by_run(self.used).any(axis=1)
        self.recent_entry = np.where(self.run_cells(placing), np.maximum(self.recent_entry // 2, count),
                                     self.recent_entry)
        mapping = None
        dead_per_cell = np.bincount(self._arrays["cell"][self._dead], minlength=self.n_cells)
        overflow = self.used + count - np.minimum(count, dead_per_cell) > self.sizes
        if np.any(overflow):
            # a cell that ran out of room gets twice the spare room from now on (amortised growth),
            # and every cell of its run room for two years of its recent entry; placing the first
            # firms of a cell is not running out
            self.min_spare[overflow & (self.used > 0)] *= 2
            mapping = self._rebuild(count, self.by_run(overflow).any(axis=1))  # drops those runs' dead rows
        dead = np.sort(self._dead)  # rows of firms that left, in cell order
        dead_per_cell = np.bincount(self._arrays["cell"][dead], minlength=self.n_cells)
        reused = np.minimum(count, dead_per_cell)
        rank = np.arange(cells.size) - np.repeat(np.cumsum(count) - count, count)  # within the cell
        recycled = rank < reused[cells]  # the first entrants of a cell take its dead rows
        rows = (self.starts[:-1] + self.used - reused)[cells] + rank  # the others, its next free slots
        taken = (np.cumsum(dead_per_cell) - dead_per_cell)[cells][recycled] + rank[recycled]
        rows[recycled] = dead[taken]
        self._dead = np.delete(dead, taken)
        self.used += count - reused
        self.alive_count += count
        arrays = self._arrays
        for name in FIELDS.keys() - {"cell"}:  # a recycled row keeps nothing of the firm that left
            arrays[name][..., rows[recycled]] = FILL.get(name, 0)
        arrays["sub_debt"][:, rows[recycled]] = 0.0
        arrays["alive"][rows] = True
        arrays["firm_id"][rows] = np.arange(self.next_id, self.next_id + cells.size)
        self.next_id += cells.size
        for name, v in values.items():
            arrays[name][..., rows] = v
        return rows, mapping

    def succeed(self, rows: np.ndarray, inv_productivity: np.ndarray) -> None:
        """Successors take over these firms' plants (``economy.turnover``): a new identity and
        productivity and no loss record; capacity, orders, loans, cash and tax position stay."""
        arrays = self._arrays
        arrays["firm_id"][rows] = np.arange(self.next_id, self.next_id + rows.size)
        self.next_id += rows.size
        arrays["inv_productivity"][rows] = inv_productivity
        arrays["loss_years"][rows] = 0

    def remove(self, rows: np.ndarray) -> None:
        """Exit: the rows stay in place, dead and inert (no capacity, loans, cash or orders, a parent's
        orders leave with the plant)."""
        arrays = self._arrays
        self.alive_count -= np.bincount(arrays["cell"][rows], minlength=self.n_cells)
        arrays["alive"][rows] = False
        self._dead = np.concatenate([self._dead, rows])
        for name in ("capacity", "debt", "cash", "ordered", "parent_orders"):
            arrays[name][rows] = 0.0
        arrays["pending"][:, rows] = 0.0
        arrays["sub_debt"][:, rows] = 0.0


def ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The rows ``lo[i] .. hi[i] - 1`` of every i, one after the other."""
    size = hi - lo
    return np.arange(size.sum()) + np.repeat(lo - (np.cumsum(size) - size), size)
