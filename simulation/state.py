"""Firm state as a structure of arrays, one row per firm ever created.

Rows are never moved: an exiting firm is marked dead, an entrant is appended. The arrays grow
by doubling, so entry costs amortised O(1) per firm and exit copies nothing. Views of the
first ``n`` rows are what the engines work on.
"""

from __future__ import annotations

import numpy as np

MAX_BUILD_LAG = 3
NO_REVENUE_YET = 1_000_000  # first_revenue_year of a firm that has not sold anything yet

FIELDS: dict[str, tuple[type, int]] = {
    # name: (dtype, columns); columns > 0 make 2-D arrays of shape (columns, rows), 0 a 1-D array
    "alive": (np.bool_, 0),
    "stage": (np.int32, 0),
    "zone": (np.int8, 0),
    "cell": (np.int32, 0),  # stage * 3 + zone: index into the policy tables
    "productivity": (np.float64, 0),
    "capacity": (np.float64, 0),  # units per year, producing now
    "pending": (np.float64, MAX_BUILD_LAG + 1),  # pending[k]: capacity arriving in k + 1 years
    "debt": (np.float64, 0),  # fixed-asset loans, yuan
    "cash": (np.float64, 0),
    "first_revenue_year": (np.int32, 0),
    "entry_year": (np.int32, 0),
    "loss_years": (np.int16, 0),
}


class FirmState:
    """Arrays of firm attributes; ``sub_debt[k]`` holds subsidised loans taken k years ago."""

    def __init__(self, capacity: int = 1024, subsidy_vintages: int = 1):
        self.n = 0
        self.vintages = max(1, subsidy_vintages)
        self._alloc = max(16, capacity)
        self._arrays: dict[str, np.ndarray] = {}
        for name, (dtype, cols) in self._fields().items():
            shape = (cols, self._alloc) if cols else (self._alloc,)
            self._arrays[name] = np.zeros(shape, dtype=dtype)

    def _fields(self) -> dict[str, tuple[type, int]]:
        return {**FIELDS, "sub_debt": (np.float64, self.vintages)}

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("_arrays")
        if arrays is None or name not in arrays:
            raise AttributeError(name)
        a = arrays[name]
        return a[..., : self.n]

    def raw(self, name: str) -> np.ndarray:
        """The whole backing array (for in-place row writes)."""
        return self._arrays[name]

    def add(self, count: int, **values: np.ndarray | float) -> np.ndarray:
        """Append ``count`` firms; returns their row numbers."""
        need = self.n + count
        if need > self._alloc:
            new_alloc = max(need, 2 * self._alloc)
            for name, a in self._arrays.items():
                grown = np.zeros(a.shape[:-1] + (new_alloc,), dtype=a.dtype)
                grown[..., : self.n] = a[..., : self.n]
                self._arrays[name] = grown
            self._alloc = new_alloc
        rows = np.arange(self.n, need)
        for name, v in values.items():
            self._arrays[name][..., rows] = v
        self.n = need
        return rows

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._arrays.values())
