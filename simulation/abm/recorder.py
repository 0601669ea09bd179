"""Yearly records per stage and per lever, kept as arrays and turned into tidy frames.

Money is in million yuan (``MONEY_SCALE``), quantities in each stage's physical unit per
year, employment in workers. ``UNITS`` documents every column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular

from ..schema import LEVERS, MONEY, MONEY_SCALE, STAGE_COLUMNS
from .state import to_stage


def unit_costs(A, local_ratio, import_price, primary_per_unit) -> np.ndarray:
    """Cost pass-through: ``c_j = sum_i A_ij (r_i c_i + (1 - r_i) m_i) + v_j``, i.e.
    ``(I - A^T diag(r)) c = A^T ((1 - r) m) + v``, a triangular system (stages in topological order).

    With every input local (r = 1) this is the Leontief price model ``c = (I - A^T)^-1 v``.
    """
    system = np.eye(len(primary_per_unit)) - A.T * local_ratio
    return solve_triangular(system, A.T @ ((1 - local_ratio) * import_price) + primary_per_unit, lower=True)


CELL_SUMS = ("X", "Y", "investment", "exits", "profit", "debt_start", "interest_subsidy", "tax_paid", "taxable")
COEFFICIENTS = ("inputs_y", "labour_y", "sales_x", "materials_x", "power_gap", "kwh_y", "dep_per_unit",
                "interest_x", "interest_y", "subsidy_x", "interest_rate", "statutory_rate")


class Recorder:
    """Keeps what each year's stage accounts need (cell sums of the firms' flows, the year's
    coefficients and market outcomes) and computes the accounts of all years at once when
    ``stage_frame`` / ``fiscal_frame`` ask: the yearly step only files arrays away."""

    def __init__(self, model):
        self.model = model
        self.years: list[dict] = []
        self._accounts: tuple[int, tuple[dict, dict]] | None = None  # (years recorded, accounts)

    def record(self, year, q, k, sums, stage_values, capacity, entrants, entry_investment, price,
               import_price) -> None:
        """File this year's inputs to the accounts (the arrays are the year's own: nothing rewrites them)."""
        self.years.append({
            "year": year, "firms": self.model.engine.count(), "capacity": capacity, "output": q.output,
            "exports": q.exports, "local_sales": q.local_sales, "local_ratio": q.local_ratio, "entries": entrants,
            "entry_investment": entry_investment, "price": price, "import_price": import_price,
            **{name: sums[name] for name in CELL_SUMS}, **{name: k[name] for name in COEFFICIENTS},
            **{name: stage_values[name] for name in ("material_imported", "material_local", "local_price")},
        })

    def _stacked(self, name: str, width: int) -> np.ndarray:
        """``name`` over the years recorded: an array (years, width)."""
        return np.stack([np.broadcast_to(np.asarray(r[name], dtype=float), (width,)) for r in self.years])

    def accounts(self) -> tuple[dict, dict]:
        """Stage accounts and fiscal costs by lever, arrays (years, stages), from the cell sums of
        X = output and Y = output / productivity (see ``firm``)."""
        if self._accounts is None or self._accounts[0] != len(self.years):
            self._accounts = (len(self.years), self._compute())
        return self._accounts[1]

    def _compute(self) -> tuple[dict, dict]:
        c = self.model.chain
        n_cells, n_stages = 3 * c.n_stages, c.n_stages
        cells = {name: self._stacked(name, n_cells) for name in ("firms",) + CELL_SUMS + COEFFICIENTS}
        stages = {name: self._stacked(name, n_stages) for name in (
            "capacity", "output", "exports", "local_sales", "local_ratio", "entries", "entry_investment",
            "price", "import_price", "material_imported", "material_local", "local_price")}

        def zone0(per_cell):  # a coefficient that is the same in every zone of a stage
            return per_cell.reshape(len(self.years), n_stages, 3)[:, :, 0]

        k, X, Y, capacity = cells, cells["X"], cells["Y"], stages["capacity"]
        x = to_stage(X)
        power_labour = np.divide(to_stage(Y * (k["inputs_y"] + k["labour_y"])), x,
                                 out=zone0(k["inputs_y"] + k["labour_y"]).copy(), where=x > 0)
        primary = c.other_inputs + power_labour
        sales = to_stage(k["sales_x"] * X)
        # power is valued at its supply cost: a discount booked as fiscal cost is a subsidy, not value added
        intermediate = to_stage(k["materials_x"] * X + (k["inputs_y"] + k["power_gap"] * k["kwh_y"]) * Y)
        rows = {
            "firms": to_stage(k["firms"]),
            "capacity": capacity,
            "output": stages["output"],
            "utilisation": np.divide(stages["output"], capacity, out=np.zeros_like(capacity), where=capacity > 0),
            "value_added": sales - intermediate,
            "investment": to_stage(k["investment"]) + stages["entry_investment"],
            "employment": to_stage(Y) * c.workers,
            "exports": stages["exports"],
            "local_sales": stages["local_sales"],
            "imported_inputs": x * stages["material_imported"],
            "entries": stages["entries"],
            "exits": to_stage(k["exits"]),
            "profit": to_stage(k["profit"]),
            "labour_cost": to_stage(k["labour_y"] * Y),
            "depreciation": zone0(k["dep_per_unit"]) * capacity,
            "interest": to_stage(k["interest_rate"] * k["debt_start"] + k["interest_x"] * X + k["interest_y"] * Y
                              - k["interest_subsidy"]),
            "tax_paid": to_stage(k["tax_paid"]),
            "local_sales_value": stages["local_sales"] * stages["local_price"],
            "local_inputs": x * stages["material_local"],
            "sales": sales,
            "intermediate_inputs": intermediate,
            "price": stages["price"],
            "unit_cost": np.stack([unit_costs(c.A, r, m, v) for r, m, v in
                                   zip(stages["local_ratio"], stages["import_price"], primary)]),
        }
        for name in MONEY:
            rows[name] = rows[name] * MONEY_SCALE
        fiscal = {
            "electricity_price": to_stage(k["power_gap"] * k["kwh_y"] * Y),
            "freight_subsidy": to_stage(k["subsidy_x"] * X),
            "tax": to_stage(k["statutory_rate"] * k["taxable"] - k["tax_paid"]),  # tax expenditure
            "interest_subsidy": to_stage(k["interest_subsidy"]),
        }
        return rows, {lever: v * MONEY_SCALE for lever, v in fiscal.items()}

    def _keys(self, repeat: int = 1) -> dict:
        """year, sector, stage, tier for each year x ``repeat`` x stage."""
        c = self.model.chain
        n, years = c.n_stages, np.array([r["year"] for r in self.years], dtype=np.int64)
        tile = len(years) * repeat
        return {"year": np.repeat(years, repeat * n), "sector": np.tile(c.sector, tile),
                "stage": np.tile(c.order, tile), "tier": np.tile(c.tier, tile)}

    def stage_frame(self) -> pd.DataFrame:
        rows, _ = self.accounts()
        df = pd.DataFrame({**self._keys(), **{name: rows[name].ravel() for name in STAGE_COLUMNS}})
        for name in ("firms", "entries", "exits"):
            df[name] = df[name].astype(np.int64)
        return df

    def fiscal_frame(self) -> pd.DataFrame:
        _, fiscal = self.accounts()
        costs = np.stack([fiscal[lever] for lever in LEVERS], axis=1)  # (years, levers, stages)
        return pd.DataFrame({**self._keys(len(LEVERS)),
                             "lever": np.tile(np.repeat(LEVERS, self.model.chain.n_stages), len(self.years)),
                             "fiscal_cost": costs.ravel()})
