"""Stage accounts and each lever's fiscal cost, from the firms' summed flows (pure functions).

The firms' year returns sums by (stage, zone) cell of X = output and Y = output / productivity and
of the non-linear flows (profit, tax, interest subsidy, investment, exits); with the year's
coefficients these give every stage account exactly (``economy.coefficients``). Arrays are
(years, cells) and (years, stages): one call books a whole run.
"""

from __future__ import annotations

import functools

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
    """Each lever's fiscal cost in million yuan by stage (``k``: flows and coefficients by cell, as
    attributes)."""
    return {lever.key: to_stage(lever.fiscal_cost(k)) * MONEY_SCALE for lever in LEVERS}


class Attributes:
    """A mapping's items as attributes (what the levers' ``fiscal_cost`` reads), each read from the
    mapping when first asked (a lazy mapping then stacks only what the levers read)."""

    def __init__(self, mapping):
        self._mapping = mapping

    def __getattr__(self, name: str):
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


def stage_accounts(chain, cells, stages, names=None) -> dict[str, np.ndarray]:
    """Stage accounts (money in million yuan), arrays (years, stages): the rows ``names`` (default
    every row of ``schema.STAGE_COLUMNS``), each computed only if asked (the cost pass-through of
    ``unit_cost`` is most of the work, and a sweep keeps it only with ``--columns all``).

    ``cells``: ``firms``, ``CELL_SUMS`` and ``COEFFICIENTS`` as (years, cells); ``stages``:
    ``STAGE_VALUES`` as (years, stages); mappings, read only for what the rows asked need. Runs side
    by side (``abm.batch``): (years, runs, cells) and (years, runs, stages), booked in one call, each
    run as alone. The fiscal costs: :func:`fiscal_costs`.
    """
    c, k = chain, cells
    n_stages = stages["capacity"].shape[-1]

    def zone0(per_cell):  # a coefficient that is the same in every zone of a stage
        return per_cell.reshape(*per_cell.shape[:-1], n_stages, 3)[..., 0]

    @functools.cache
    def x():
        return to_stage(k["X"])

    @functools.cache
    def tech():  # per-unit primary inputs relative to the chain's (technical change)
        return zone0(k["tech_factor"])

    @functools.cache
    def sales():
        return to_stage(k["sales_x"] * k["X"])

    @functools.cache
    def intermediate():  # power is valued at its supply cost: a discount booked as fiscal cost is a subsidy, not VA
        return to_stage(k["materials_x"] * k["X"] + (k["inputs_y"] + k["power_gap"] * k["kwh_y"]) * k["Y"])

    def primary():
        power_labour = np.divide(to_stage(k["Y"] * (k["inputs_y"] + k["labour_y"])), x(),
                                 out=zone0(k["inputs_y"] + k["labour_y"]).copy(), where=x() > 0)
        return c.other_inputs * tech() + power_labour

    def utilisation():
        capacity = stages["capacity"]
        return np.divide(stages["output"], capacity, out=np.zeros_like(capacity), where=capacity > 0)

    rows = {
        "firms": lambda: to_stage(k["firms"]),
        "capacity": lambda: stages["capacity"],
        "output": lambda: stages["output"],
        # the above-scale firms' share of the firms' output, of the stage's output (equal to it where
        # every producing firm is above scale, never more than it)
        "output_above_scale": lambda: stages["output"] * np.divide(to_stage(k["X_above_scale"]), x(),
                                                                   out=np.zeros_like(x()), where=x() > 0),
        "utilisation": utilisation,
        "value_added": lambda: sales() - intermediate(),
        # incumbents' orders at their full capital cost (issue 12: grants and land pay a share of it)
        "investment": lambda: to_stage(k["investment"] / k["capex_paid_factor"]) + stages["entry_investment"],
        "employment": lambda: to_stage(k["Y"]) * (c.workers * tech()),
        "exports": lambda: stages["exports"],
        "local_sales": lambda: stages["local_sales"],
        "imported_inputs": lambda: x() * stages["material_imported"],
        "entries": lambda: stages["entries"],
        "exits": lambda: to_stage(k["exits"]),
        "successions": lambda: to_stage(k["successions_cell"]),
        "profit": lambda: to_stage(k["profit"]),
        "labour_cost": lambda: to_stage(k["labour_y"] * k["Y"]),
        "depreciation": lambda: zone0(k["dep_per_unit"]) * stages["capacity"],
        "interest": lambda: to_stage(k["interest_rate"] * k["debt_start"] + k["interest_x"] * k["X"]
                                     + k["interest_y"] * k["Y"] - k["interest_subsidy"]),
        "tax_paid": lambda: to_stage(k["tax_paid"]),
        "local_sales_value": lambda: stages["local_sales"] * stages["local_price"],
        "local_inputs": lambda: x() * stages["material_local"],
        "sales": sales,
        "intermediate_inputs": intermediate,
        "price": lambda: stages["price"],
        "electricity_kwh": lambda: to_stage(k["kwh_y"] * k["Y"]),  # issue 12: kWh used (energy saving saves some)
        "unit_cost": lambda: unit_costs(c.A, stages["local_ratio"], stages["import_price"], primary()),
    }
    booked = {}
    for name in rows if names is None else names:
        booked[name] = rows[name]() * MONEY_SCALE if name in MONEY else rows[name]()
    return booked
