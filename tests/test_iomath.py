"""Input-output maths against the textbook two-sector example (Miller & Blair, 2009, ch. 2)."""

import numpy as np
import pytest
from valuechain.simulation.config.chain import load_chain
from valuechain.simulation.economy import iomath

Z = np.array([[150.0, 500.0], [200.0, 100.0]])  # interindustry flows
x = np.array([1000.0, 2000.0])  # gross output
f = np.array([350.0, 1700.0])  # final demand: x - Z 1


def test_technical_coefficients():
    np.testing.assert_allclose(iomath.technical_coefficients(Z, x), [[0.15, 0.25], [0.20, 0.05]])


def test_leontief_inverse_and_quantity_model():
    A = iomath.technical_coefficients(Z, x)
    L = iomath.leontief_inverse(A)
    np.testing.assert_allclose(L, [[1.2541, 0.3300], [0.2640, 1.1221]], atol=5e-5)
    np.testing.assert_allclose(iomath.leontief_quantity(A, f), x, rtol=1e-12)
    np.testing.assert_allclose(iomath.output_multipliers(A), [1.5182, 1.4521], atol=5e-5)


def test_price_model_returns_unit_prices_in_value_terms():
    A = iomath.technical_coefficients(Z, x)
    v = 1 - A.sum(axis=0)  # value added per unit of output: 0.65 and 0.70
    np.testing.assert_allclose(iomath.leontief_price(A, v), [1.0, 1.0], rtol=1e-12)
    # value added generated per unit of final demand adds up to one in value terms
    np.testing.assert_allclose(iomath.value_added_multipliers(A, v), [1.0, 1.0], rtol=1e-12)


def test_zero_output_column_and_singular_system():
    np.testing.assert_array_equal(iomath.technical_coefficients(Z, np.array([1000.0, 0.0]))[:, 1], [0.0, 0.0])
    with pytest.raises(ValueError, match="not productive"):
        iomath.leontief_inverse(np.array([[1.0, 0.0], [0.0, 0.5]]))


def test_default_chain_is_productive_and_acyclic():
    chain = load_chain("xinjiang")
    A = chain.A
    assert np.allclose(np.tril(A), 0.0)  # topological order: inputs come from earlier stages
    L = iomath.leontief_inverse(A)
    assert (L >= -1e-12).all() and (np.diag(L) >= 1).all()


def test_solve_lower_triangular_is_solve_triangular_bit_for_bit():
    from scipy.linalg import LinAlgError, solve_triangular

    solve_lower_triangular = iomath.solve_lower_triangular
    rng = np.random.default_rng(7)
    n = 9
    A = np.tril(rng.random((n, n)) * 0.3, k=-1).T  # inputs from earlier stages only
    r = rng.random((4, 3, n))  # (years, runs, stages), as the stage accounts stack them
    system = np.eye(n) - A.T * r[..., None, :]
    rhs = rng.random((4, 3, n)) * 1e3
    x = solve_lower_triangular(system, rhs)
    expected = solve_triangular(system, rhs[..., None], lower=True)[..., 0]
    assert x.shape == rhs.shape and np.array_equal(x.view(np.int64), expected.view(np.int64))
    assert np.allclose(np.einsum("...ij,...j->...i", system, x), rhs)
    one = solve_lower_triangular(system[1, 2], rhs[1, 2])
    assert np.array_equal(one, solve_triangular(system[1, 2], rhs[1, 2], lower=True))
    assert solve_lower_triangular(np.array([[2.0]]), np.array([3.0])).tolist() == [1.5]
    with pytest.raises(LinAlgError, match="singular matrix: resolution failed at diagonal 0"):
        solve_lower_triangular(np.array([[0.0, 0.0], [1.0, 1.0]]), np.ones(2))
    with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
        solve_lower_triangular(np.eye(2), np.array([np.nan, 1.0]))
