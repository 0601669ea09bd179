"""The faster numpy forms of the firms' year give the same bits as the plain forms they replace
(``engine.capacity_within``, ``firm.as_float``, the first sales rewritten at their rows), and a
firm's year on random states is the same on arrays as on one firm's scalars, bit for bit, with and
without the levers' branches (tax holidays, interest subsidy, employment subsidies)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA
from valuechain.simulation.abm.engine import capacity_within
from valuechain.simulation.abm.model import ValueChainModel
from valuechain.simulation.config.scenario import load_scenario
from valuechain.simulation.economy import firm
from valuechain.simulation.economy.coefficients import Spread

LEVERS = {
    "none": [],
    "holidays and interest subsidy": [
        "policy.tax.holidays=[{zones: [difficult_area], exempt_years: 2, half_years: 3}]",
        "policy.interest_subsidy.rules=[{stages: [parts], fixed_asset_points: 2, fixed_asset_years: 5,"
        " working_capital_points: 3, working_capital_years: 2}]"],
    "employment subsidies": [
        "policy.employment_subsidy.rules=[{stages: [parts, metal], social_insurance_yuan_per_worker_year: 12000,"
        " years: 2, training_yuan_per_new_worker: 3000}]"],
}


def bits(value) -> tuple:
    a = np.asarray(value)
    return a.dtype.str, a.shape, a.tobytes()


def test_capacity_within_is_the_product_with_the_test():
    rng = np.random.default_rng(7)
    n = 5000
    capacity = np.where(rng.random(n) < 0.2, 0.0, rng.lognormal(8.0, 1.0, n))  # a fifth without capacity
    inv_productivity = rng.lognormal(0.0, 0.3, n)
    threshold = rng.choice([np.inf, -np.inf, 0.0, 1.0, 1.2], n)
    threshold[:50] = inv_productivity[:50]  # at the threshold exactly: produces
    plain = capacity * (inv_productivity <= threshold)
    assert bits(capacity_within(capacity, inv_productivity, threshold)) == bits(plain)
    assert capacity_within(capacity, inv_productivity, threshold)[:50].tolist() == capacity[:50].tolist()


def test_as_float_products_are_the_boolean_products():
    x = np.array([-3.0, -0.0, 0.0, 2.5, np.inf, -np.inf, 1e-308])
    with np.errstate(invalid="ignore"):  # inf x 0 is nan either way
        for mask in (np.array([True, False, True, False, False, True, True]), np.ones(7, bool), np.zeros(7, bool)):
            assert bits(x * firm.as_float(mask)) == bits(x * mask)
    assert firm.as_float(True) is True and firm.as_float(np.bool_(False)) == 0  # numbers stay as they are


def random_state(rng, n: int, year: int) -> dict:
    """Firms of every kind: idle (no capacity), not producing, selling for the first time, not yet
    started (no revenue, loans only), with losses behind them, short of cash, deep in debt."""
    capacity = np.where(rng.random(n) < 0.15, 0.0, rng.lognormal(7.0, 1.0, n))
    working = capacity * (rng.random(n) < 0.8)
    first_revenue = rng.choice([year - 5, year - 1, year, year + 1, firm.NO_REVENUE_YET], n).astype(np.int32)
    return {
        "capacity": capacity, "working_capacity": working, "inv_productivity": rng.lognormal(0.0, 0.3, n),
        "debt": np.where(rng.random(n) < 0.2, 0.0, rng.lognormal(17.0, 1.5, n)),
        "cash": rng.normal(0.0, 5e6, n),
        "sub_debt_base": np.where(rng.random(n) < 0.5, 0.0, rng.lognormal(15.0, 1.0, n)),
        "first_revenue_year": first_revenue, "loss_years": rng.integers(0, 4, n).astype(np.int16),
        "pending_total": np.where(rng.random(n) < 0.5, 0.0, rng.lognormal(6.0, 1.0, n)),
    }


@pytest.mark.parametrize("levers", list(LEVERS))
def test_a_firm_year_on_random_states_is_the_same_on_arrays_as_on_scalars(levers):
    model = ValueChainModel(load_scenario(DATA / "tiny.yaml", LEVERS[levers]), rng=3)
    model.step()
    model.step()
    k, year = model.last_year.coefficients, model.year - 1
    if levers != "none":  # the branches under test are taken
        assert (k.has_holidays and k.has_interest_subsidy) or k.has_labour_subsidy
    rng = np.random.default_rng(11)
    n = 600
    cells = rng.integers(0, k.threshold.size, n)
    state = random_state(rng, n, year)
    before = {name: value.copy() for name, value in state.items()}
    out = firm.firm_year(k, Spread(k, lambda v: v[cells]), cells, state, year, np.zeros(n))
    for name, value in state.items():  # the state the firms start from is left as it was
        assert bits(value) == bits(before[name]), name
    # first sales: the firms producing that had not sold before, and only they, start this year
    selling = (out["X"] > 0) & (state["first_revenue_year"] > year)
    assert selling.any() and (~selling).any()
    assert bits(out["first_revenue_year"]) == bits(np.where(selling, year, state["first_revenue_year"]))
    for i in range(n):  # the reference engine's scalars: the same firm, the same bits
        one = {name: value[i].item() for name, value in state.items()}
        scalar = firm.firm_year(k, Spread(k, lambda v, cell=cells[i]: v[cell]), int(cells[i]), one, year)
        for name, value in scalar.items():
            assert np.ndim(value) == 0
            assert np.asarray(value, dtype=float).tobytes() == np.asarray(
                np.broadcast_to(out[name], cells.shape)[i], dtype=float).tobytes(), (name, i)
