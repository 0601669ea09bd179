"""The folded per-cell coefficients of simulation.firm against the plain rules they stand for."""

import numpy as np
import pytest
from conftest import DATA

from simulation import firm, rules
from simulation.model import ValueChainModel
from simulation.scenario import load_scenario


@pytest.fixture(scope="module")
def year_one():
    sc = load_scenario(DATA / "tiny.yaml", [
        "policy.electricity_price.default=0.30",
        "policy.freight_subsidy.rules=[{stages: [metal], zones: [difficult_area], yuan_per_t: 800}]",
        "policy.tax.rules=[{tiers: [deep], rate: 0.15}]",
        "policy.tax.holidays=[{zones: [difficult_area], exempt_years: 2, half_years: 3}]",
        "policy.interest_subsidy.rules=[{stages: [parts], fixed_asset_points: 2, fixed_asset_years: 5}]",
    ])
    model = ValueChainModel(sc, rng=3)
    model.step()
    return sc, model


def test_increment_q_is_the_profitability_index(year_one):
    sc, model = year_one
    c, f, last = sc.chain, sc.spec.firms, model.last_year
    k, pol, sv = last["coefficients"], last["policy"], last["stage_values"]
    for cell in range(c.n_stages * 3):
        s, z = divmod(cell, 3)
        power_labour = c.kwh[s] * pol.power_price[s, z] + c.workers[s] * c.wage[s]
        for inv_phi in (0.8, 1.0, 1.25):
            margin = (sv["expected_netback"][s] + sv["marginal_export_share"][s] * pol.subsidy_per_unit[s, z]
                      - sv["expected_material"][s]
                      - c.other_inputs[s] - power_labour * inv_phi)
            for slot in range(k["slots"]):
                for holiday in (0, 1):
                    idx = (cell * 2 + holiday) * k["slots"] + slot
                    q_firm = firm.increment_q(lambda name, cell=cell: k[name][cell], inv_phi, k["tax_weight_k"][idx])
                    q_rule = rules.profitability_index(
                        margin, sv["utilisation"][s], c.capital_cost[s], c.depreciation[s], f.discount_rate,
                        c.build_lag[s], f.evaluation_years, -c.build_lag[s] if slot == 0 else slot,
                        pol.holiday_exempt[s, z] * holiday, pol.holiday_half[s, z] * holiday, 0.125,
                        pol.tax_base_rate[s, z], f.debt_share, pol.fixed_points[s, z], pol.fixed_years[s, z])
                    assert q_firm == pytest.approx(q_rule, rel=1e-12, abs=1e-12)


def test_production_threshold_is_the_rule_produces(year_one):
    sc, model = year_one
    c, last = sc.chain, model.last_year
    k, pol = last["coefficients"], last["policy"]
    expected_material = c.A.T @ np.full(c.n_stages, 1000.0)  # any material cost will do for this identity
    export_price = c.price0 * np.linspace(0.6, 1.1, c.n_stages)
    local_price = c.price0 * 0.95
    local_share = np.array([0.7, 0.2, 0.0])
    threshold = firm.production_threshold(c, pol, export_price, expected_material, local_price, local_share)
    for cell in range(c.n_stages * 3):
        s, z = divmod(cell, 3)
        price = local_share[s] * local_price[s] + (1 - local_share[s]) * (export_price[s] + pol.subsidy_per_unit[s, z])
        for productivity in np.linspace(0.3, 3.0, 28):
            uvc = rules.unit_variable_cost(expected_material[s], c.other_inputs[s], c.kwh[s], pol.power_price[s, z],
                                           c.workers[s], c.wage[s], productivity)
            assert (1 / productivity <= threshold[cell]) == rules.produces(price, uvc)
    assert k["threshold"].shape == (c.n_stages * 3,)


def test_a_firm_year_on_scalars_equals_the_same_firm_in_arrays(year_one):
    sc, model = year_one
    k = model.last_year["coefficients"]
    cells = np.array([0, 4, 8])
    state = {"capacity": np.array([5e4, 2e4, 3e3]), "inv_productivity": np.array([0.9, 1.1, 1.0]),
             "debt": np.array([1e8, 5e7, 2e7]), "cash": np.array([1e7, -1e6, 0.0]),
             "sub_debt_base": np.array([0.0, 0.0, 1e7]), "first_revenue_year": np.array([2010, 2016, 1_000_000]),
             "loss_years": np.array([0, 2, 0]), "pending_total": np.array([0.0, 1e3, 5e3])}
    arrays = firm.firm_year(k, lambda name: k[name][cells], cells, state, 2016)
    for i, cell in enumerate(cells):
        one = {name: value[i].item() for name, value in state.items()}
        scalar = firm.firm_year(k, lambda name, cell=cell: k[name][cell], int(cell), one, 2016)
        for name, value in scalar.items():
            assert np.ndim(value) == 0
            assert value == pytest.approx(np.broadcast_to(arrays[name], cells.shape)[i], rel=1e-12), name
