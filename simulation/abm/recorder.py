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


class Recorder:
    """Keeps what each year's stage accounts need and makes the tidy frames of a run."""

    def __init__(self, chain):
        self.chain = chain
        self.years: list[dict] = []
        self._accounts: tuple[int, tuple[dict, dict]] | None = None  # (years recorded, accounts)

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
        """``name`` over the years recorded: an array (years, width)."""
        return np.stack([np.broadcast_to(np.asarray(r[name], dtype=float), (width,)) for r in self.years])

    def accounts(self) -> tuple[dict, dict]:
        """Stage accounts and fiscal costs by lever, arrays (years, stages) (``economy.accounts``)."""
        if self._accounts is None or self._accounts[0] != len(self.years):
            n_stages = self.chain.n_stages
            cells = {name: self._stacked(name, 3 * n_stages)
                     for name in ("firms",) + accounts.CELL_SUMS + accounts.COEFFICIENTS + accounts.MODEL_CELLS}
            stages = {name: self._stacked(name, n_stages) for name in accounts.STAGE_VALUES}
            self._accounts = (len(self.years), accounts.stage_accounts(self.chain, cells, stages))
        return self._accounts[1]

    def _keys(self, repeat: int = 1) -> dict:
        """year, sector, stage, tier for each year x ``repeat`` x stage."""
        c = self.chain
        n, years = c.n_stages, np.array([r["year"] for r in self.years], dtype=np.int64)
        tile = len(years) * repeat
        return {"year": np.repeat(years, repeat * n), "sector": np.tile(c.sector, tile),
                "stage": np.tile(c.order, tile), "tier": np.tile(c.tier, tile)}

    def stage_frame(self) -> pd.DataFrame:
        rows, _ = self.accounts()
        df = pd.DataFrame({**self._keys(), **{name: rows[name].ravel() for name in STAGE_COLUMNS}})
        for name in ("firms", "entries", "exits", "successions"):
            df[name] = df[name].astype(np.int64)
        return df

    def fiscal_frame(self) -> pd.DataFrame:
        _, fiscal = self.accounts()
        keys = [lever.key for lever in LEVERS]
        costs = np.stack([fiscal[key] for key in keys], axis=1)  # (years, levers, stages)
        return pd.DataFrame({**self._keys(len(keys)),
                             "lever": np.tile(np.repeat(keys, self.chain.n_stages), len(self.years)),
                             "fiscal_cost": costs.ravel()})
