"""Unit tests of the pure rules: tax schedules, present values, investment and finance."""

import numpy as np
import plain_rules
import pytest
from valuechain.simulation.economy import rules


def test_two_exempt_three_half_then_preferential_or_statutory():
    years = np.arange(1, 9)
    pref = rules.holiday_tax_rate(years, 2, 3, 0.125, 0.15)
    np.testing.assert_array_equal(pref, [0, 0, 0.125, 0.125, 0.125, 0.15, 0.15, 0.15])
    stat = rules.holiday_tax_rate(years, 2, 3, 0.125, 0.25)
    np.testing.assert_array_equal(stat, [0, 0, 0.125, 0.125, 0.125, 0.25, 0.25, 0.25])


def test_a_holiday_never_raises_tax_above_the_firms_own_rate():
    """Hand-computed: a firm on 10% (below half the statutory 25%) keeps 10% in its half years; one on
    15% pays 12.5%; the PV weight follows the same schedule."""
    years = np.arange(1, 8)
    np.testing.assert_array_equal(rules.holiday_tax_rate(years, 2, 3, 0.125, 0.10),
                                  [0, 0, 0.10, 0.10, 0.10, 0.10, 0.10])
    np.testing.assert_array_equal(rules.holiday_tax_rate(years, 2, 3, 0.125, 0.15),
                                  [0, 0, 0.125, 0.125, 0.125, 0.15, 0.15])
    for base in (0.0, 0.05, 0.10, 0.125, 0.15, 0.25):
        assert np.all(rules.holiday_tax_rate(np.arange(0, 12), 2, 3, 0.125, base) <= base)
    w = 0.9
    explicit = sum(w**h * (0.10 if 3 <= h <= 5 else (0.10 if h > 5 else 0.0)) for h in range(1, 21))
    assert rules.pv_tax_weight(0, 2, 3, 0.125, 0.10, w, 1, 20) == pytest.approx(explicit, rel=1e-12)


def test_five_exempt_special_zone():
    rates = rules.holiday_tax_rate(np.arange(1, 8), 5, 0, 0.125, 0.15)
    np.testing.assert_array_equal(rates, [0, 0, 0, 0, 0, 0.15, 0.15])


def test_no_revenue_yet_pays_nothing_and_scalars_work():
    assert rules.holiday_tax_rate(0, 0, 0, 0.125, 0.25) == 0.0
    assert rules.holiday_tax_rate(1, 0, 0, 0.125, 0.25) == 0.25
    assert isinstance(rules.holiday_tax_rate(3, 2, 3, 0.125, 0.25), float)


def test_pv_tax_weight_equals_explicit_sum():
    w = 0.85
    for y0 in (-2, 1, 3, 6):
        explicit = sum(w**h * rules.holiday_tax_rate(y0 + h, 2, 3, 0.125, 0.25) for h in range(2, 22))
        closed = rules.pv_tax_weight(y0, 2, 3, 0.125, 0.25, w, 2, 21)
        assert closed == pytest.approx(explicit, rel=1e-12)


def test_profitability_index_matches_discounted_cash_flow():
    margin, u, k, d, r, lag, T = 900.0, 0.9, 5000.0, 0.08, 0.08, 1, 20
    beta, pv = 1 / (1 + r), 0.0
    for h in range(1 + lag, lag + T + 1):
        survive = (1 - d) ** h
        cash = u * margin
        pv += beta**h * survive * (cash - 0.25 * (cash - d * k))
    q = rules.profitability_index(margin, u, k, d, r, lag, T, 5, 0, 0, 0.125, 0.25, 0.6, 0.0, 0)
    assert q == pytest.approx(pv / k - 1, rel=1e-12)
    # a tax holiday and an interest subsidy both raise q
    q_hol = rules.profitability_index(margin, u, k, d, r, lag, T, -lag, 2, 3, 0.125, 0.25, 0.6, 0.0, 0)
    q_sub = rules.profitability_index(margin, u, k, d, r, lag, T, 5, 0, 0, 0.125, 0.25, 0.6, 2.0, 5)
    assert q_hol > q and q_sub > q
    # 2 points on the 60% borrowed, paid in years 1-5 on a balance amortising over 10 years
    paid = sum(beta**a * 0.9 ** (a - 1) for a in range(1, 6))
    assert q_sub - q == pytest.approx(0.02 * 0.6 * paid, rel=1e-12)


def test_investment_rate_replaces_depreciation_at_q_zero_and_is_capped():
    assert plain_rules.investment_rate(0.0, 0.08, 10.0, 0.3) == pytest.approx(0.08)  # q = 0: replace wear
    assert plain_rules.investment_rate(0.5, 0.08, 10.0, 0.3) == pytest.approx(0.08 + 0.05)  # delta + q / phi
    assert plain_rules.investment_rate(-0.5, 0.08, 10.0, 0.3) == pytest.approx(0.08 - 0.05)
    assert plain_rules.investment_rate(-1.5, 0.08, 10.0, 0.3) == 0.0  # no negative gross investment
    assert plain_rules.investment_rate(10.0, 0.08, 10.0, 0.3) == 0.3  # the cap
    qs = np.linspace(-0.7, 1.0, 20)
    assert np.all(np.diff(plain_rules.investment_rate(qs, 0.08, 10.0, 5.0)) > 0)  # rising in q above the floor


def test_finance_investment_respects_cash_and_borrowing_limits():
    inv, loans = rules.finance_investment(100.0, 50.0, 0.0, 1000.0, 0.6, 0.8)
    assert (inv, loans) == (100.0, 60.0)
    inv, loans = rules.finance_investment(100.0, 30.0, 0.0, 1000.0, 0.6, 0.8)  # cash short: borrow more
    assert (inv, loans) == (100.0, 70.0)
    inv, loans = rules.finance_investment(100.0, 10.0, 790.0, 1000.0, 0.6, 0.8)  # 10 of headroom
    assert (inv, loans) == (20.0, 10.0)
    inv, loans = rules.finance_investment(100.0, 0.0, 0.0, 1000.0, 0.6, 0.8)  # no cash: all borrowed
    assert (inv, loans) == (100.0, 100.0)


def test_entry_probability_is_logistic_around_the_hurdle():
    assert rules.entry_probability(0.3, 0.3, 0.1) == pytest.approx(0.5)
    assert rules.entry_probability(0.3 + 0.1 * np.log(3), 0.3, 0.1) == pytest.approx(0.75)  # logit 3:1
    p = rules.entry_probability(np.array([-1.0, 0.0, 0.1, 0.3, 1.0]), 0.3, 0.1)
    assert p[0] < 1e-5 and np.all(np.diff(p) > 0) and p[-1] < 1


def test_poisson_from_uniform_matches_the_poisson_distribution():
    rng = np.random.default_rng(3)
    for mean in (0.0, 0.3, 2.5, 12.0):
        draws = rules.poisson_from_uniform(rng.random(200_000), np.full(200_000, mean))
        assert draws.mean() == pytest.approx(mean, abs=0.03 + 0.01 * mean)
        assert draws.var() == pytest.approx(mean, abs=0.05 + 0.02 * mean)
    # monotone in the uniform: a larger mean never gives fewer entrants for the same u
    u = rng.random(1000)
    more, fewer = rules.poisson_from_uniform(u, np.full(1000, 2.0)), rules.poisson_from_uniform(u, np.full(1000, 1.0))
    assert np.all(more >= fewer)


def test_poisson_from_uniform_is_the_inverse_cdf_for_small_and_large_means():
    """Same draws as scipy's Poisson quantile function, including means where exp(-mean) underflows."""
    from scipy import stats

    rng = np.random.default_rng(5)
    u = rng.random(50_000)
    mean = rng.choice([0.0, 1e-9, 0.01, 0.7, 4.0, 35.0, 800.0, 2_000.0, 1e5], size=u.size)
    assert np.array_equal(rules.poisson_from_uniform(u, mean), stats.poisson.ppf(u, mean).astype(np.int64))


def _poisson_by_full_search(u, mean):
    """The search of ``poisson_from_uniform`` before its shortcuts: every draw from the normal guess,
    each step evaluating the CDF of all draws."""
    from scipy import special

    u, mean = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(mean, dtype=float))
    count = np.zeros(u.shape, dtype=np.int64)
    some = (mean > 0) & (u > 0)
    u, mean = u[some], mean[some]
    z = special.ndtri(np.clip(u, 1e-300, 1.0 - 1e-16))
    k = np.clip(np.floor(mean + np.sqrt(mean) * z + (z * z - 1.0) / 6.0), 0.0, None)
    below = special.pdtr(k, mean) < u
    while below.any():
        k = k + below
        below = special.pdtr(k, mean) < u
    above = (k > 0) & (special.pdtr(k - 1.0, mean) >= u)
    while above.any():
        k = k - above
        above = (k > 0) & (special.pdtr(k - 1.0, mean) >= u)
    count[some] = k
    return count


def test_poisson_draws_near_the_zero_shortcut_are_those_of_the_full_search():
    """A uniform below P(N = 0) = exp(-mean) (less a margin) draws 0 without a search: draws at and
    around that edge, for tiny to large means and uniforms near 1, are those of the full search."""
    from scipy import stats

    rng = np.random.default_rng(11)
    mean = np.exp(rng.uniform(-40.0, 7.0, 200_000))
    edge = np.minimum(np.exp(-mean) * (1.0 + rng.uniform(-1e-8, 1e-8, mean.size)), 1.0 - 2.0**-53)
    near_one = np.minimum(1.0 - rng.random(mean.size) * np.exp(rng.uniform(-36.0, 0.0, mean.size)), 1.0 - 2.0**-53)
    for u in (edge, near_one, rng.random(mean.size)):
        draws = rules.poisson_from_uniform(u, mean)
        assert np.array_equal(draws, _poisson_by_full_search(u, mean))
    short = mean <= rules.ZERO_SHORTCUT_MAX_MEAN  # (scipy's quantile is -1 at u = 0, which large means reach)
    assert np.array_equal(rules.poisson_from_uniform(edge, mean)[short],
                          stats.poisson.ppf(edge[short], mean[short]).astype(np.int64))


def test_poisson_from_uniform_at_the_ends_of_the_unit_interval():
    """u = 0 draws 0 at once whatever the mean (no walk down from the normal guess)."""
    assert rules.poisson_from_uniform(0.0, 1e12) == 0
    assert rules.poisson_from_uniform(np.array([0.0, 0.5]), np.array([3.0, 0.0])).tolist() == [0, 0]
    from scipy import stats

    u_top = 1.0 - 2.0**-53  # the largest uniform numpy draws
    assert rules.poisson_from_uniform(u_top, 4.0) == stats.poisson.ppf(u_top, 4.0) == 29


def test_finance_investment_broadcasts():
    invest, loans = rules.finance_investment(np.array([100.0, 100.0]), np.array([50.0, 0.0]), np.zeros(2),
                                             np.array([1000.0]), 0.6, 0.8)
    assert invest.tolist() == [100.0, 100.0] and loans.tolist() == [60.0, 100.0]
