"""Input-output maths as pure functions (after pymrio's ``iomath``).

Notation: ``A[i, j]`` is the quantity of good i used per unit of output of good j
(technical coefficients), ``x`` gross output, ``f`` final demand, ``v`` primary cost per
unit of output. Quantities may be physical (units per unit) or monetary (yuan per yuan);
the algebra is the same.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, get_lapack_funcs


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


def solve_lower_triangular(system: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``x`` with ``system[..., :, :] @ x[..., :] = rhs[...]`` for a stack of lower-triangular systems.

    Each system is solved by LAPACK's ``trtrs`` called exactly as ``scipy.linalg.solve_triangular``
    calls it for one system (so the answers are the same bits), one call per system without that
    function's per-system checks and batching loop (about 60 us a system of the chain's size, 90% of a
    batch's stage accounts). Raises as it does: ``ValueError`` for NaN or inf, ``LinAlgError`` if singular.
    """
    n = system.shape[-1]
    systems = np.asarray(system, dtype=float).reshape(-1, n, n)
    columns = np.asarray(rhs, dtype=float).reshape(-1, n, 1)
    if not (np.isfinite(systems).all() and np.isfinite(columns).all()):
        raise ValueError("array must not contain infs or NaNs")
    trtrs, = get_lapack_funcs(("trtrs",), (systems, columns))
    x = np.empty(columns.shape)
    for i, (a, b) in enumerate(zip(systems, columns)):
        if a.flags.f_contiguous:  # (a 1 x 1 system) as solve_triangular: Fortran order as it is
            x[i], info = trtrs(a, b, lower=1, trans=0, unitdiag=0)
        else:  # C order: the transposed system, upper triangular
            x[i], info = trtrs(a.T, b, lower=0, trans=1, unitdiag=0)
        if info > 0:
            raise LinAlgError(f"singular matrix: resolution failed at diagonal {info - 1}")
    return x.reshape(np.shape(rhs))
