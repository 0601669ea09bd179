"""Yearly records per stage and per lever, kept as arrays and turned into tidy frames.

Money is in million yuan (``MONEY_SCALE``), quantities in each stage's physical unit per
year, employment in workers. ``UNITS`` documents every column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MONEY_SCALE = 1e-6  # yuan -> million yuan
UNITS = {
    "firms": "firms alive at year end",
    "capacity": "stage unit per year (producing capacity at the start of the year)",
    "output": "stage unit per year",
    "utilisation": "output / capacity",
    "value_added": "million yuan (sales at factory gate - intermediate inputs)",
    "investment": "million yuan (incumbents' expansion and replacement + new plants)",
    "employment": "workers",
    "exports": "stage unit per year shipped out of the region",
    "local_sales": "stage unit per year sold to local downstream stages",
    "imported_inputs": "million yuan of chain inputs bought outside the region, with inbound freight",
    "entries": "new plants started this year",
    "exits": "firms that left this year",
    "profit": "million yuan, before income tax",
    "tax_paid": "million yuan of corporate income tax",
    "local_sales_value": "million yuan of local sales at the local price (sellers' average netback)",
    "local_inputs": "million yuan of chain inputs bought from local suppliers",
    "sales": "million yuan at factory-gate prices",
    "intermediate_inputs": "million yuan (chain inputs, other inputs, electricity)",
    "price": "yuan per stage unit (destination market)",
    "unit_cost": "yuan per stage unit, variable cost with local inputs valued at cost",
    "fiscal_cost": "million yuan",
}
STAGE_COLUMNS = list(UNITS)[:-1]
MONEY = {"local_sales_value", "local_inputs", "value_added", "investment", "imported_inputs", "profit", "tax_paid", "sales", "intermediate_inputs"}
LEVERS = {
    "electricity_price": "fiscal_power",
    "freight_subsidy": "freight_subsidy",
    "tax": "fiscal_tax",
    "interest_subsidy": "interest_subsidy",
}


def unit_costs(A, local_ratio, import_price, primary_per_unit) -> np.ndarray:
    """Cost pass-through: ``c_j = sum_i A_ij (r_i c_i + (1 - r_i) m_i) + v_j``, upstream first.

    With every input local (r = 1) this is the Leontief price model ``c = (I - A^T)^-1 v``.
    """
    n = len(primary_per_unit)
    cost = np.zeros(n)
    for j in range(n):
        col = A[:, j]
        cost[j] = col @ (local_ratio * cost + (1 - local_ratio) * import_price) + primary_per_unit[j]
    return cost


class Recorder:
    def __init__(self, model):
        self.model = model
        self.stage_rows: list[dict] = []
        self.fiscal_rows: list[dict] = []

    def record(self, year, q, sums, entrants, price, ctx, pol) -> None:
        c, engine = self.model.chain, self.model.engine
        nominal = c.other_inputs + c.kwh * pol.power_price[:, 0] + c.workers * c.wage
        primary = np.divide(sums["primary_cost"], q.output, out=nominal.copy(), where=q.output > 0)
        capacity = ctx["stage_capacity"]
        investment = sums["investment"] + self.model.entry_investment
        row = {
            "firms": engine.stage_count(),
            "capacity": capacity,
            "output": q.output,
            "utilisation": np.divide(q.output, capacity, out=np.zeros(c.n_stages), where=capacity > 0),
            "value_added": sums["value_added"],
            "investment": investment,
            "employment": sums["employment"],
            "exports": q.exports,
            "local_sales": q.local_sales,
            "imported_inputs": sums["imported_inputs"],
            "entries": entrants,
            "exits": sums["exits"],
            "profit": sums["profit"],
            "tax_paid": sums["tax_paid"],
            "local_sales_value": q.local_sales * ctx["local_price"],
            "local_inputs": sums["local_inputs"],
            "sales": sums["sales"],
            "intermediate_inputs": sums["intermediate_inputs"],
            "price": price,
            "unit_cost": unit_costs(c.A, q.local_ratio, ctx["import_price"], primary),
        }
        for k in MONEY:
            row[k] = row[k] * MONEY_SCALE
        self.stage_rows.append({"year": year, **row})
        self.fiscal_rows.append({"year": year, **{lever: sums[key] * MONEY_SCALE for lever, key in LEVERS.items()}})

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
