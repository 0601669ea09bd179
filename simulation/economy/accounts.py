"""Stage accounts and each lever's fiscal cost, from the firms' summed flows (pure functions).

The firms' year returns sums by (stage, zone) cell of X = output and Y = output / productivity and
of the non-linear flows (profit, tax, interest subsidy, investment, exits); with the year's
coefficients these give every stage account exactly (``economy.coefficients``). Arrays are
(years, cells) and (years, stages): one call books a whole run.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..schema import MONEY, MONEY_SCALE
from .iomath import solve_lower_triangular
from .levers import LEVERS
from .targeting import to_stage

CELL_SUMS = ("X", "Y", "X_above_scale", "investment", "exits", "profit", "debt_start", "interest_subsidy",
             "tax_paid", "taxable", "labour_subsidy")
"""The firms' flows summed by cell each year (``engine.settle``)."""
MODEL_CELLS = ("entry_capex", "entries_cell", "capacity_cells", "grant_paid", "removed_capacity", "successions_cell")
"""Issue 12: what the model books by cell each year for the other levers (``abm.model``): new plants'
capital cost (yuan) and number, capacity at the start of the year, grants paid (yuan, after the
envelope), capacity closed by the backward-capacity rule; and firms succeeded (``economy.turnover``)."""
ACCOUNT_COEFFICIENTS = ("inputs_y", "labour_y", "sales_x", "materials_x", "power_gap", "kwh_y", "dep_per_unit",
                        "interest_x", "interest_y", "subsidy_x", "interest_rate", "tech_factor",
                        "capex_paid_factor")
COEFFICIENTS = tuple(dict.fromkeys(ACCOUNT_COEFFICIENTS + tuple(
    name for lever in LEVERS for name in lever.cost_reads if name not in CELL_SUMS + MODEL_CELLS)))
"""The coefficients the accounts and the levers' fiscal costs read (kept by the recorder each year)."""
STAGE_VALUES = ("capacity", "output", "exports", "local_sales", "local_ratio", "entries", "entry_investment",
                "price", "import_price", "material_imported", "material_local", "local_price")
"""What the accounts read by stage each year."""


def unit_costs(A, local_ratio, import_price, primary_per_unit) -> np.ndarray:
    """Cost pass-through: ``c_j = sum_i A_ij (r_i c_i + (1 - r_i) m_i) + v_j``, i.e.
    ``(I - A^T diag(r)) c = A^T ((1 - r) m) + v``, a triangular system (stages in topological order).

    With every input local (r = 1) this is the Leontief price model ``c = (I - A^T)^-1 v``. The
    arrays are one year's (stages) or years' (years, stages): one solve of the stacked systems.
    """
    r, m, v = (np.asarray(a, dtype=float) for a in (local_ratio, import_price, primary_per_unit))
    system = np.eye(r.shape[-1]) - A.T * r[..., None, :]
    imported = (1 - r) * m
    rhs = (np.stack([A.T @ row for row in imported.reshape(-1, r.shape[-1])]).reshape(r.shape)  # year by year
           + v)
    return solve_lower_triangular(system, rhs)


def fiscal_costs(k) -> dict[str, np.ndarray]:
    """Each lever's fiscal cost in million yuan by stage (``k``: flows and coefficients by cell)."""
    return {lever.key: to_stage(lever.fiscal_cost(k)) * MONEY_SCALE for lever in LEVERS}


def stage_accounts(chain, cells: dict[str, np.ndarray], stages: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """Stage accounts (money in million yuan) and fiscal costs by lever, arrays (years, stages).

    ``cells``: ``firms``, ``CELL_SUMS`` and ``COEFFICIENTS`` as (years, cells); ``stages``:
    ``STAGE_VALUES`` as (years, stages). Runs side by side (``abm.batch``): (years, runs, cells) and
    (years, runs, stages), booked in one call, each run as alone.
    """
    c = chain
    n_stages = stages["capacity"].shape[-1]

    def zone0(per_cell):  # a coefficient that is the same in every zone of a stage
        return per_cell.reshape(*per_cell.shape[:-1], n_stages, 3)[..., 0]

    k, X, Y, capacity = cells, cells["X"], cells["Y"], stages["capacity"]
    x = to_stage(X)
    power_labour = np.divide(to_stage(Y * (k["inputs_y"] + k["labour_y"])), x,
                             out=zone0(k["inputs_y"] + k["labour_y"]).copy(), where=x > 0)
    tech = zone0(k["tech_factor"])  # per-unit primary inputs relative to the chain's (technical change)
    primary = c.other_inputs * tech + power_labour
    sales = to_stage(k["sales_x"] * X)
    # power is valued at its supply cost: a discount booked as fiscal cost is a subsidy, not value added
    intermediate = to_stage(k["materials_x"] * X + (k["inputs_y"] + k["power_gap"] * k["kwh_y"]) * Y)
    rows = {
        "firms": to_stage(k["firms"]),
        "capacity": capacity,
        "output": stages["output"],
        # the above-scale firms' share of the firms' output, of the stage's output (equal to it where
        # every producing firm is above scale, never more than it)
        "output_above_scale": stages["output"] * np.divide(to_stage(k["X_above_scale"]), x, out=np.zeros_like(x),
                                                           where=x > 0),
        "utilisation": np.divide(stages["output"], capacity, out=np.zeros_like(capacity), where=capacity > 0),
        "value_added": sales - intermediate,
        # incumbents' orders at their full capital cost (issue 12: grants and land pay a share of it)
        "investment": to_stage(k["investment"] / k["capex_paid_factor"]) + stages["entry_investment"],
        "employment": to_stage(Y) * (c.workers * tech),
        "exports": stages["exports"],
        "local_sales": stages["local_sales"],
        "imported_inputs": x * stages["material_imported"],
        "entries": stages["entries"],
        "exits": to_stage(k["exits"]),
        "successions": to_stage(k["successions_cell"]),
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
        "electricity_kwh": to_stage(k["kwh_y"] * Y),  # issue 12: kWh used (the energy-saving fund saves some)
        "unit_cost": unit_costs(c.A, stages["local_ratio"], stages["import_price"], primary),
    }
    for name in MONEY:
        rows[name] = rows[name] * MONEY_SCALE
    return rows, fiscal_costs(SimpleNamespace(**cells))
