"""Yearly records per stage and per lever, kept as arrays and turned into tidy frames.

Money is in million yuan (``MONEY_SCALE``), quantities in each stage's physical unit per
year, employment in workers. ``UNITS`` documents every column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular

from .state import to_stage

MONEY_SCALE = 1e-6  # yuan -> million yuan
UNITS = {
    "firms": "firms alive at year end",
    "capacity": "stage unit per year (producing capacity at the start of the year)",
    "output": "stage unit per year",
    "utilisation": "output / capacity",
    "value_added": "million yuan (sales at factory gate - intermediate inputs; subsidies excluded)",
    "investment": "million yuan (incumbents' expansion and replacement + new plants)",
    "employment": "workers",
    "exports": "stage unit per year shipped out of the region",
    "local_sales": "stage unit per year sold to local downstream stages",
    "imported_inputs": "million yuan of chain inputs bought outside the region, with inbound freight",
    "entries": "new plants started this year",
    "exits": "firms that left this year",
    "profit": "million yuan, before income tax",
    "labour_cost": "million yuan of wages",
    "depreciation": "million yuan (capacity x capital cost x depreciation rate)",
    "interest": "million yuan of interest paid on fixed-asset and working-capital loans, net of subsidy",
    "tax_paid": "million yuan of corporate income tax",
    "local_sales_value": "million yuan of local sales at the local price (sellers' mean netback)",
    "local_inputs": "million yuan of chain inputs bought from local suppliers",
    "sales": "million yuan at factory-gate prices",
    "intermediate_inputs": "million yuan (chain inputs, other inputs, electricity at its supply cost)",
    "price": "yuan per stage unit (destination market)",
    "unit_cost": "yuan per stage unit, variable cost with local inputs valued at cost",
    "fiscal_cost": "million yuan",
}
STAGE_COLUMNS = list(UNITS)[:-1]
MONEY = {"local_sales_value", "local_inputs", "value_added", "investment", "imported_inputs", "profit", "tax_paid",
         "sales", "intermediate_inputs", "labour_cost", "depreciation", "interest"}
LEVERS = ("electricity_price", "freight_subsidy", "tax", "interest_subsidy")


def keys_first(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The same frame with the ``keys`` columns first (the tidy layout's convention)."""
    return frame[list(keys) + [c for c in frame.columns if c not in keys]]


def unit_costs(A, local_ratio, import_price, primary_per_unit) -> np.ndarray:
    """Cost pass-through: ``c_j = sum_i A_ij (r_i c_i + (1 - r_i) m_i) + v_j``, i.e.
    ``(I - A^T diag(r)) c = A^T ((1 - r) m) + v``, a triangular system (stages in topological order).

    With every input local (r = 1) this is the Leontief price model ``c = (I - A^T)^-1 v``.
    """
    system = np.eye(len(primary_per_unit)) - A.T * local_ratio
    return solve_triangular(system, A.T @ ((1 - local_ratio) * import_price) + primary_per_unit, lower=True)


class Recorder:
    """Collects one row of stage totals per year; ``stage_frame`` / ``fiscal_frame`` make tidy tables."""

    def __init__(self, model):
        self.model = model
        self.stage_rows: list[dict] = []
        self.fiscal_rows: list[dict] = []

    def record(self, year, q, k, sums, stage_values, capacity, entrants, entry_investment, price,
               import_price) -> None:
        """Stage accounts from the cell sums of X = output and Y = output / productivity (see ``firm``)."""
        c, engine = self.model.chain, self.model.engine
        X, Y = sums["X"], sums["Y"]
        stage = to_stage
        x = stage(X)
        power_labour = np.divide(stage(Y * (k["inputs_y"] + k["labour_y"])), x,
                                 out=(k["inputs_y"] + k["labour_y"]).reshape(-1, 3)[:, 0].copy(), where=x > 0)
        primary = c.other_inputs + power_labour
        sales = stage(k["sales_x"] * X)
        # power is valued at its supply cost: a discount booked as fiscal cost is a subsidy, not value added
        intermediate = stage(k["materials_x"] * X + (k["inputs_y"] + k["power_gap"] * k["kwh_y"]) * Y)
        row = {
            "firms": stage(engine.count()),
            "capacity": capacity,
            "output": q.output,
            "utilisation": np.divide(q.output, capacity, out=np.zeros(c.n_stages), where=capacity > 0),
            "value_added": sales - intermediate,
            "investment": stage(sums["investment"]) + entry_investment,
            "employment": stage(Y) * c.workers,
            "exports": q.exports,
            "local_sales": q.local_sales,
            "imported_inputs": x * stage_values["material_imported"],
            "entries": entrants,
            "exits": stage(sums["exits"]),
            "profit": stage(sums["profit"]),
            "labour_cost": stage(k["labour_y"] * Y),
            "depreciation": k["dep_per_unit"].reshape(-1, 3)[:, 0] * capacity,
            "interest": stage(k["interest_rate"] * sums["debt_start"] + k["interest_x"] * X + k["interest_y"] * Y
                              - sums["interest_subsidy"]),
            "tax_paid": stage(sums["tax_paid"]),
            "local_sales_value": q.local_sales * stage_values["local_price"],
            "local_inputs": x * stage_values["material_local"],
            "sales": sales,
            "intermediate_inputs": intermediate,
            "price": price,
            "unit_cost": unit_costs(c.A, q.local_ratio, import_price, primary),
        }
        for name in MONEY:
            row[name] = row[name] * MONEY_SCALE
        self.stage_rows.append({"year": year, **row})
        fiscal = {
            "electricity_price": stage(k["power_gap"] * k["kwh_y"] * Y),
            "freight_subsidy": stage(k["subsidy_x"] * X),
            "tax": stage(k["statutory_rate"] * sums["taxable"] - sums["tax_paid"]),  # tax expenditure
            "interest_subsidy": stage(sums["interest_subsidy"]),
        }
        self.fiscal_rows.append({"year": year, **{lever: v * MONEY_SCALE for lever, v in fiscal.items()}})

    def stage_frame(self) -> pd.DataFrame:
        c = self.model.chain
        n = c.n_stages
        frames = []
        for rec in self.stage_rows:
            data = {"year": np.full(n, rec["year"], dtype=np.int64), "sector": c.sector, "stage": c.order,
                    "tier": c.tier}
            data.update({k: np.asarray(rec[k], dtype=float) for k in STAGE_COLUMNS})
            frames.append(pd.DataFrame(data))
        df = pd.concat(frames, ignore_index=True)
        for k in ("firms", "entries", "exits"):
            df[k] = df[k].astype(np.int64)
        return df

    def fiscal_frame(self) -> pd.DataFrame:
        c = self.model.chain
        frames = []
        for rec in self.fiscal_rows:
            for lever in LEVERS:
                frames.append(pd.DataFrame({"year": rec["year"], "sector": c.sector, "stage": c.order, "tier": c.tier,
                                            "lever": lever, "fiscal_cost": rec[lever]}))
        return pd.concat(frames, ignore_index=True)
