"""The folded per-cell coefficients (economy.coefficients) against the plain rules they stand for."""

import numpy as np
import plain_rules
import pytest
from conftest import DATA, ROOT
from valuechain.simulation.abm.model import ValueChainModel
from valuechain.simulation.config.scenario import load_scenario
from valuechain.simulation.economy import coefficients, firm, rules
from valuechain.simulation.economy.coefficients import Spread


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
    k, pol, sv = last.coefficients, last.terms, last.market
    for cell in range(c.n_stages * 3):
        s, z = divmod(cell, 3)
        power_labour = c.kwh[s] * pol.power_price[s, z] + c.workers[s] * c.wage[s]
        for inv_phi in (0.8, 1.0, 1.25):
            margin = (sv.expected_netback[s] + sv.marginal_export_share[s] * pol.subsidy_per_unit[s, z]
                      - sv.expected_material[s]
                      - c.other_inputs[s] - power_labour * inv_phi)
            for slot in range(k.slots):
                for holiday in (0, 1):
                    idx = (cell * 2 + holiday) * k.slots + slot
                    q_firm = firm.increment_q(Spread(k, lambda v, cell=cell: v[cell]), inv_phi, k.tax_weight_k[idx])
                    q_rule = rules.profitability_index(
                        margin, sv.utilisation[s], c.capital_cost[s], c.depreciation[s], f.discount_rate,
                        c.build_lag[s], f.evaluation_years, -c.build_lag[s] if slot == 0 else slot,
                        pol.holiday_exempt[s, z] * holiday, pol.holiday_half[s, z] * holiday, 0.125,
                        pol.tax_base_rate[s, z], f.debt_share, pol.fixed_points[s, z], pol.fixed_years[s, z])
                    assert q_firm == pytest.approx(q_rule, rel=1e-12, abs=1e-12)


def test_production_threshold_is_the_rule_produces(year_one):
    sc, model = year_one
    c, last = sc.chain, model.last_year
    k, pol = last.coefficients, last.terms
    expected_material = c.A.T @ np.full(c.n_stages, 1000.0)  # any material cost will do for this identity
    export_price = c.price0 * np.linspace(0.6, 1.1, c.n_stages)
    local_price = c.price0 * 0.95
    local_share = np.array([0.7, 0.2, 0.0])
    threshold = coefficients.production_threshold(c, pol, export_price, expected_material, local_price, local_share)
    for cell in range(c.n_stages * 3):
        s, z = divmod(cell, 3)
        price = local_share[s] * local_price[s] + (1 - local_share[s]) * (export_price[s] + pol.subsidy_per_unit[s, z])
        for productivity in np.linspace(0.3, 3.0, 28):
            uvc = plain_rules.unit_variable_cost(expected_material[s], c.other_inputs[s], c.kwh[s],
                                                 pol.power_price[s, z], c.workers[s], c.wage[s], productivity)
            assert (1 / productivity <= threshold[cell]) == plain_rules.produces(price, uvc)
    assert k.threshold.shape == (c.n_stages * 3,)


def test_a_firm_year_on_scalars_equals_the_same_firm_in_arrays(year_one):
    sc, model = year_one
    k = model.last_year.coefficients
    cells = np.array([0, 4, 8])
    state = {"capacity": np.array([5e4, 2e4, 3e3]), "inv_productivity": np.array([0.9, 1.1, 1.0]),
             "debt": np.array([1e8, 5e7, 2e7]), "cash": np.array([1e7, -1e6, 0.0]),
             "sub_debt_base": np.array([0.0, 0.0, 1e7]), "first_revenue_year": np.array([2010, 2016, 1_000_000]),
             "loss_years": np.array([0, 2, 0]), "pending_total": np.array([0.0, 1e3, 5e3])}
    arrays = firm.firm_year(k, Spread(k, lambda v: v[cells]), cells, state, 2016)
    for i, cell in enumerate(cells):
        one = {name: value[i].item() for name, value in state.items()}
        scalar = firm.firm_year(k, Spread(k, lambda v, cell=cell: v[cell]), int(cell), one, 2016)
        for name, value in scalar.items():
            assert np.ndim(value) == 0
            assert value == pytest.approx(np.broadcast_to(arrays[name], cells.shape)[i], rel=1e-12), name


def test_folded_desired_investment_equals_the_plain_rule():
    """The per-cell lines of ``desire_lines`` against q -> investment rate -> yuan, over productivities
    from hopeless to capped, in every cell."""
    sc = load_scenario(DATA / "tiny.yaml", ["firms.max_investment_rate=0.1", "policy.electricity_price.default=0.30",
                                            "policy.tax.rules=[{tiers: [deep], rate: 0.15}]"])
    model = ValueChainModel(sc, rng=3)
    model.step()
    k = model.last_year.coefficients
    n_cells = sc.chain.n_stages * 3
    inv_phi = np.tile(np.geomspace(0.05, 20.0, 400), n_cells)
    cells = np.repeat(np.arange(n_cells), 400)
    cap = np.linspace(1.0, 5e4, inv_phi.size)
    g = Spread(k, lambda v: v[cells])
    folded = firm.desired_investment(k, g, inv_phi, cap)
    q = firm.increment_q(g, inv_phi, g.base_tax_weight_k)
    rate = plain_rules.investment_rate(q, g.depreciation, k.adjustment_cost, k.max_rate)
    plain = rate * cap * g.capital_cost
    assert np.allclose(folded, plain, rtol=1e-9, atol=1e-9 * plain.max())
    # all three pieces occur: no investment, the q-rule, the cap
    assert (plain == 0).any() and (rate == k.max_rate).any() and ((rate > 0) & (rate < k.max_rate)).any()


def test_run_constants_are_the_same_every_year():
    """The engine keeps coefficients.RUN_CONSTANTS spread over the firms across years: they must not move
    with prices, policy paths or markets."""
    sc = load_scenario(ROOT / "scenarios" / "policy_package_2016.yaml", ["replications=1"])
    model = ValueChainModel(sc, rng=2)
    model.step()
    first = {name: getattr(model.last_year.coefficients, name).copy() for name in coefficients.RUN_CONSTANTS}
    for _ in range(4):
        model.step()
        for name, values in first.items():
            assert np.array_equal(getattr(model.last_year.coefficients, name), values), name


def test_without_holidays_the_base_tax_weight_is_the_rule():
    sc = load_scenario(DATA / "tiny.yaml", ["policy.tax.rules=[{tiers: [deep], rate: 0.15}]"])
    model = ValueChainModel(sc, rng=3)
    model.step()
    c, f = sc.chain, sc.spec.firms
    k, pol = model.last_year.coefficients, model.last_year.terms
    assert not k.has_holidays and k.tax_weight_k is None
    for cell in range(c.n_stages * 3):
        s, z = divmod(cell, 3)
        w = (1 - c.depreciation[s]) / (1 + f.discount_rate)
        lag = c.build_lag[s]
        for tax_year_now in (-lag, 1, 7):
            weight = rules.pv_tax_weight(tax_year_now, 0, 0, 0.125, pol.tax_base_rate[s, z], w, 1 + lag,
                                         lag + f.evaluation_years)
            assert k.base_tax_weight_k[cell] * c.capital_cost[s] == pytest.approx(weight, rel=1e-12)


def test_folded_desired_investment_at_the_cost_paid_equals_the_plain_rule():
    """Issue 12: with grants and land support the investor pays ``paid`` x capital cost per new unit:
    yuan paid = paid C x rate(q at the cost paid), q = value / paid - 1, in the folded lines too."""
    sc = load_scenario(DATA / "tiny.yaml", ["firms.max_investment_rate=0.1", "policy.electricity_price.default=0.30",
                                            "policy.capital_grants.rules=[{stages: [metal, parts], share: 0.3}]",
                                            "policy.land_support.rules=[{stages: [parts], discount: 1}]"])
    model = ValueChainModel(sc, rng=3)
    model.step()
    k = model.last_year.coefficients
    assert k.has_capex_factor and k.capex_paid_factor.min() < 0.7
    n_cells = sc.chain.n_stages * 3
    inv_phi = np.tile(np.geomspace(0.05, 20.0, 400), n_cells)
    cells = np.repeat(np.arange(n_cells), 400)
    cap = np.linspace(1.0, 5e4, inv_phi.size)
    g = Spread(k, lambda v: v[cells])
    folded = firm.desired_investment(k, g, inv_phi, cap)
    slow = firm.desired_investment(k, g, inv_phi, cap, g.base_tax_weight_k)
    paid = g.capex_paid_factor
    q = (firm.increment_q(g, inv_phi, g.base_tax_weight_k) + 1.0) / paid - 1.0
    rate = plain_rules.investment_rate(q, g.depreciation, k.adjustment_cost, k.max_rate)
    plain = rate * cap * g.capital_cost * paid
    assert np.allclose(folded, plain, rtol=1e-9, atol=1e-9 * plain.max())
    assert np.allclose(slow, plain, rtol=1e-9, atol=1e-9 * plain.max())
    assert (plain == 0).any() and (rate == k.max_rate).any() and ((rate > 0) & (rate < k.max_rate)).any()
