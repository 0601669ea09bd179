"""Input-output maths as pure functions (after pymrio's ``iomath``).

Notation: ``A[i, j]`` is the quantity of good i used per unit of output of good j
(technical coefficients), ``x`` gross output, ``f`` final demand, ``v`` primary cost per
unit of output. Quantities may be physical (units per unit) or monetary (yuan per yuan);
the algebra is the same.
"""

from __future__ import annotations

import numpy as np


def technical_coefficients(Z: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``A = Z diag(x)^-1``: inputs per unit of output; columns with zero output give 0."""
    Z = np.asarray(Z, dtype=float)
    x = np.asarray(x, dtype=float)
    inv = np.divide(1.0, x, out=np.zeros_like(x), where=x != 0)
    return Z * inv[np.newaxis, :]


def leontief_inverse(A: np.ndarray) -> np.ndarray:
    """``L = (I - A)^-1``; raises ``ValueError`` if ``I - A`` is singular."""
    A = np.asarray(A, dtype=float)
    n = A.shape[0]
    try:
        return np.linalg.inv(np.eye(n) - A)
    except np.linalg.LinAlgError as exc:
        raise ValueError("I - A is singular: the chain is not productive") from exc


def leontief_quantity(A: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Gross output meeting final demand: ``x = (I - A)^-1 f``."""
    A = np.asarray(A, dtype=float)
    return np.linalg.solve(np.eye(A.shape[0]) - A, np.asarray(f, dtype=float))


def leontief_price(A: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Unit costs (cost-push prices) from primary costs: ``p = (I - A^T)^-1 v``.

    ``p_j = sum_i A[i, j] p_i + v_j``: each good's unit cost is the cost of its inputs
    plus its primary cost per unit.
    """
    A = np.asarray(A, dtype=float)
    return np.linalg.solve(np.eye(A.shape[0]) - A.T, np.asarray(v, dtype=float))


def output_multipliers(A: np.ndarray) -> np.ndarray:
    """Type-I output multipliers: column sums of the Leontief inverse.

    Entry j is the total output of all stages needed per unit of final demand for j.
    """
    return leontief_inverse(A).sum(axis=0)


def value_added_multipliers(A: np.ndarray, va_per_unit: np.ndarray) -> np.ndarray:
    """Value added generated in the whole chain per unit of final demand for each good."""
    return np.asarray(va_per_unit, dtype=float) @ leontief_inverse(A)


def input_value(A: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``sum_i A[i, j] v_i`` for every stage j: the value of a unit's chain inputs at the per-unit
    values ``v`` of the goods (``A.T @ v``), for one run (``v`` of length n) or for runs side by
    side (``v`` of length runs x n, run b's stage s at ``b * n + s``; ``abm.batch``).

    Summed as products along a contiguous last axis, so each run's result is the same bits
    whatever the number of runs beside it (a matrix product need not be: BLAS rounds a
    matrix-vector and a matrix-matrix product differently).
    """
    n = A.shape[0]
    v = np.asarray(values, dtype=float)
    by_run = v.reshape(-1, 1, n)
    return (np.ascontiguousarray(A.T)[None] * by_run).sum(axis=-1).reshape(v.shape)


def row_dot(table: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``table @ weights`` for a (rows, k) table, summed row by row (the same bits for any number of rows)."""
    return (table * weights).sum(axis=-1)
