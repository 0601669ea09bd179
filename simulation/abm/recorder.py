"""Yearly records per stage and per lever, kept as arrays and turned into tidy frames.

The yearly step only files arrays away (the firms' cell sums, the year's coefficients and market
outcomes); ``economy.accounts`` computes the accounts of all years at once when a frame is asked.
Columns and units: ``schema``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..economy import accounts
from ..economy.coefficients import CellCoefficients
from ..economy.levers import LEVERS
from ..schema import STAGE_COLUMNS

COUNTS = ("firms", "entries", "exits", "successions")  # stage columns held as integers


class Recorder:
    """Keeps what each year's stage accounts need and makes the tidy frames of a run.

    Runs side by side (``abm.batch``): each year's arrays hold every run's cells (or stages) one
    run after the other; ``accounts(run)`` and the frames take one run's part."""

    def __init__(self, chain, runs: int = 1):
        self.chain = chain
        self.runs = runs
        self.years: list[dict] = []
        self._accounts: tuple[int, tuple[dict, dict, _Stacked, _Stacked]] | None = None  # (years, :meth:`_booked`)

    def record(self, year: int, firms: np.ndarray, k: CellCoefficients, sums, stage_values: dict,
               cell_values: dict) -> None:
        """File this year's inputs to the accounts (the arrays are the year's own: nothing rewrites them).

        ``firms``: living firms per cell at year end; ``sums``: the firms' flows by cell
        (``accounts.CELL_SUMS``); ``stage_values``: ``accounts.STAGE_VALUES`` by stage.
        """
        self.years.append({
            "year": year, "firms": firms, **{name: getattr(sums, name) for name in accounts.CELL_SUMS},
            **{name: getattr(k, name) for name in accounts.COEFFICIENTS},
            **{name: stage_values[name] for name in accounts.STAGE_VALUES},
            **{name: cell_values[name] for name in accounts.MODEL_CELLS},  # issue 12
        })

    def _stacked(self, name: str, width: int) -> np.ndarray:
        """``name`` over the years recorded: an array (years, runs, width)."""
        values = [r[name] for r in self.years]
        if not all(np.ndim(v) for v in values):  # a number in some year: the same in every cell
            values = [np.broadcast_to(np.asarray(v, dtype=float), (self.runs * width,)) for v in values]
        return np.stack(values).astype(float, copy=False).reshape(len(values), self.runs, width)

    def _booked(self) -> tuple[dict, dict, dict, dict]:
        """The accounts booked so far for the years recorded: (stage rows, fiscal costs, the recorded
        arrays (years, runs, width) by name of the cells, of the stages), each made when first asked
        (``accounts.stage_accounts`` reads only what the rows asked need), for all runs at once."""
        if self._accounts is None or self._accounts[0] != len(self.years):
            n = self.chain.n_stages
            cells = _Stacked(self._stacked, ("firms",) + accounts.CELL_SUMS + accounts.COEFFICIENTS
                             + accounts.MODEL_CELLS, 3 * n)
            self._accounts = (len(self.years), ({}, {}, cells, _Stacked(self._stacked, accounts.STAGE_VALUES, n)))
        return self._accounts[1]

    def accounts(self, run: int = 0, names=STAGE_COLUMNS, with_fiscal: bool = True) -> tuple[dict, dict]:
        """Stage accounts (the rows ``names``) and fiscal costs by lever of one run (as
        :meth:`accounts_all`), arrays (years, stages) (``economy.accounts``, booked for all runs at once)."""
        rows, fiscal = self.accounts_all(names, with_fiscal)
        return {name: rows[name][:, run] for name in names}, {name: v[:, run] for name, v in fiscal.items()}

    def _keys(self, repeat: int = 1) -> dict:
        """year, sector, stage, tier for each year x ``repeat`` x stage."""
        c = self.chain
        n, years = c.n_stages, np.array([r["year"] for r in self.years], dtype=np.int64)
        tile = len(years) * repeat
        return {"year": np.repeat(years, repeat * n), "sector": np.tile(c.sector, tile),
                "stage": np.tile(c.order, tile), "tier": np.tile(c.tier, tile)}

    def stage_columns(self, run: int = 0, names=STAGE_COLUMNS) -> dict[str, np.ndarray]:
        """The stage frame's columns as arrays: the keys (year, sector, stage, tier), then ``names``
        (counts as integers)."""
        rows, _ = self.accounts(run, names, with_fiscal=False)
        return {**self._keys(), **{name: rows[name].ravel().astype(np.int64) if name in COUNTS
                                   else rows[name].ravel() for name in names}}

    def batch_columns(self, runs: list[int], names=STAGE_COLUMNS, tile_keys: bool = True
                      ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The stage columns (keys first, then ``names``) and the fiscal costs by lever of ``runs``
        at once, one run's rows after the other (each run's rows as :meth:`stage_columns` and
        :meth:`fiscal_costs` give them, value for value): one array per column for all the runs.
        ``tile_keys=False``: the keys (year, sector, stage, tier) of one run only (they are the same
        for every run), for a caller that repeats them itself."""
        rows, fiscal = self.accounts_all(names)
        take = np.asarray(runs, dtype=np.int64)

        def stacked(v: np.ndarray) -> np.ndarray:  # (years, runs, stages) -> the runs' rows, run by run
            return np.ascontiguousarray(v[:, take].transpose(1, 0, 2)).ravel()

        keys = self._keys()
        stage = {name: np.tile(v, len(take)) for name, v in keys.items()} if tile_keys else dict(keys)
        stage.update({name: stacked(rows[name]).astype(np.int64) if name in COUNTS else stacked(rows[name])
                      for name in names})
        return stage, {lever.key: stacked(fiscal[lever.key]) for lever in LEVERS}

    def accounts_all(self, names=STAGE_COLUMNS, with_fiscal: bool = True) -> tuple[dict, dict]:
        """Stage accounts (the rows ``names``) and fiscal costs of every run (booked if
        ``with_fiscal``, else those booked so far), arrays (years, runs, stages)."""
        rows, fiscal, cells, stages = self._booked()
        missing = [name for name in names if name not in rows]
        if missing:
            rows.update(accounts.stage_accounts(self.chain, cells, stages, missing))
        if with_fiscal and not fiscal:
            fiscal.update(accounts.fiscal_costs(accounts.Attributes(cells)))
        return rows, fiscal

    def fiscal_costs(self, run: int = 0) -> dict[str, np.ndarray]:
        """Each lever's fiscal cost (million yuan) on the stage frame's rows, in ``LEVERS`` order."""
        _, fiscal = self.accounts(run, ())
        return {lever.key: fiscal[lever.key].ravel() for lever in LEVERS}

    def stage_frame(self, run: int = 0) -> pd.DataFrame:
        return pd.DataFrame(self.stage_columns(run))

    def fiscal_frame(self, run: int = 0) -> pd.DataFrame:
        _, fiscal = self.accounts(run, ())
        keys = [lever.key for lever in LEVERS]
        costs = np.stack([fiscal[key] for key in keys], axis=1)  # (years, levers, stages)
        return pd.DataFrame({**self._keys(len(keys)),
                             "lever": np.tile(np.repeat(keys, self.chain.n_stages), len(self.years)),
                             "fiscal_cost": costs.ravel()})


class _Stacked(dict):
    """The recorded arrays (years, runs, width) by name, each stacked when first read."""

    def __init__(self, stack, names: tuple[str, ...], width: int):
        super().__init__()
        self._stack, self._names, self._width = stack, frozenset(names), width

    def __missing__(self, name: str) -> np.ndarray:
        if name not in self._names:
            raise KeyError(name)
        self[name] = value = self._stack(name, self._width)
        return value
