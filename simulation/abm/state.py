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
"""

from __future__ import annotations

import numpy as np

MAX_BUILD_LAG = 3
PENDING_SLOTS = MAX_BUILD_LAG + 1  # ring buffer: capacity arriving in year Y sits in slot Y % 4
SPARE_SHARE = 0.02  # free slots kept per cell when the layout is rebuilt (besides room for entry)
SPARE_MIN = 8

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
}
FILL = {"inv_productivity": 1.0, "firm_id": -1}  # values of free rows (others are zero)


class FirmState:
    """Arrays of firm attributes in cell blocks; ``sub_debt[Y % K]`` holds subsidised loans of year Y."""

    def __init__(self, n_cells: int, subsidy_vintages: int = 0, min_spare: np.ndarray | int = SPARE_MIN):
        self.n_cells = n_cells
        self.min_spare = np.broadcast_to(np.asarray(min_spare, dtype=np.int64), (n_cells,)).copy()
        self.vintages = subsidy_vintages  # years of subsidised loans kept (0: no interest subsidy)
        self.starts = np.zeros(n_cells + 1, dtype=np.int64)
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
        return np.diff(self.starts)

    def _layout(self, need: np.ndarray) -> np.ndarray:
        """Set ``starts`` for regions holding ``need`` firms per cell plus spare room; returns the sizes."""
        spare = np.maximum(np.ceil(need * SPARE_SHARE).astype(np.int64), self.min_spare)
        sizes = need + np.maximum(spare, 2 * self.recent_entry)  # and two years of the cell's recent entry
        self.starts = np.concatenate([[0], np.cumsum(sizes)])
        return sizes

    def _allocate(self, need: np.ndarray) -> dict[str, np.ndarray]:
        sizes = self._layout(need)
        n = self.n
        arrays = {}
        for name, (dtype, rows) in FIELDS.items():
            shape = (rows, n) if rows else (n,)
            arrays[name] = np.full(shape, FILL.get(name, 0), dtype=dtype)
        arrays["sub_debt"] = np.zeros((self.vintages, n))
        arrays["cell"][:] = np.repeat(np.arange(self.n_cells), sizes)
        return arrays

    def _rebuild(self, extra: np.ndarray) -> np.ndarray:
        """New layout with room for ``extra`` more firms per cell; returns old row -> new row (-1: dropped).

        Living firms keep their order and fill the head of their cell's new region: each new row
        gathers its old row (one ``take`` per field row), then the free rows get their fill values.
        """
        old, old_starts = self._arrays, self.starts
        keep = old["alive"]
        alive_per_cell = np.bincount(old["cell"][keep], minlength=self.n_cells)
        sizes = self._layout(alive_per_cell + extra)
        n, starts = self.n, self.starts[:-1]
        rows_old = np.flatnonzero(keep)  # already in cell order
        new_cell = np.repeat(np.arange(self.n_cells), sizes)
        filled = (np.arange(n) - starts[new_cell]) < alive_per_cell[new_cell]  # the head of each region
        rows_new = np.flatnonzero(filled)
        free = np.flatnonzero(~filled)
        source = np.zeros(n, dtype=np.int64)
        source[rows_new] = rows_old
        arrays = {}
        for name, arr in old.items():
            new = np.empty(arr.shape[:-1] + (n,), dtype=arr.dtype)
            for row_new, row_old in zip(np.atleast_2d(new), np.atleast_2d(arr)):  # 1-D views of each row
                if rows_old.size:  # (an empty layout has nothing to take from)
                    row_old.take(source, out=row_new, mode="clip")  # "clip": unbuffered (indices are valid)
                row_new[free] = FILL.get(name, 0)
            arrays[name] = new
        arrays["cell"][:] = new_cell
        self._arrays = arrays
        self._dead = self._dead[:0]
        self.used = alive_per_cell.copy()
        mapping = np.full(int(old_starts[-1]), -1, dtype=np.int64)
        mapping[rows_old] = rows_new
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
        return np.add.reduceat(values, self.starts[:-1])

    # ------------------------------------------------------------------ entry
    def add(self, cells: np.ndarray, **values) -> tuple[np.ndarray, np.ndarray | None]:
        """Place new firms of the given (sorted) cells; returns their rows and, after a rebuild,
        the old-row -> new-row mapping (else None).

        A new firm takes the row of a firm of its cell that has left, if there is one, else a free
        slot; the fields it is not given hold fill values (zero)."""
        cells = np.asarray(cells, dtype=np.int64)
        count = np.bincount(cells, minlength=self.n_cells)
        if self.used.any():  # (not the first placement of the population)
            self.recent_entry = np.maximum(self.recent_entry // 2, count)
        dead = np.sort(self._dead)  # rows of firms that left, in cell order
        dead_per_cell = np.bincount(self._arrays["cell"][dead], minlength=self.n_cells)
        reused = np.minimum(count, dead_per_cell)
        mapping = None
        overflow = self.used + count - reused > self.sizes
        if np.any(overflow):
            # a cell that ran out of room gets twice the spare room from now on (amortised growth),
            # and every cell room for two years of its recent entry; placing the first firms of a
            # cell is not running out
            self.min_spare[overflow & (self.used > 0)] *= 2
            mapping = self._rebuild(count)  # drops the dead rows
            dead, dead_per_cell, reused = dead[:0], np.zeros_like(count), np.zeros_like(count)
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
        """Exit: the rows stay in place, dead and inert (no capacity, loans, cash or orders)."""
        arrays = self._arrays
        self.alive_count -= np.bincount(arrays["cell"][rows], minlength=self.n_cells)
        arrays["alive"][rows] = False
        self._dead = np.concatenate([self._dead, rows])
        for name in ("capacity", "debt", "cash", "ordered"):
            arrays[name][rows] = 0.0
        arrays["pending"][:, rows] = 0.0
        arrays["sub_debt"][:, rows] = 0.0
