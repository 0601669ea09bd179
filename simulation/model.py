"""The Mesa model: owns the random generator, the firms' state, the stage markets and the records.

A year (``step``):
1. prices and demand (trend x policy price paths x a lognormal shock), lever tables;
2. each firm's plan: produce up to capacity if its export netback covers unit variable cost;
3. stage markets, downstream first: local buyers take local output first, the rest is exported
   up to outside demand (``markets.solve``);
4. each firm's accounts, tax, investment and financing (``firm.settle``);
5. entry (Poisson number of new plants per stage and zone, rising in a new plant's q) and exit;
6. records per stage and lever.
The firm-level work is done by an engine: ``vectorized`` (all firms at once, numpy) or
``reference`` (each Mesa agent's ``step`` in turn); both call the same rule functions.
"""

from __future__ import annotations

import mesa
from mesa.agent import AgentSet
import numpy as np

from . import markets, rules
from .agents import FirmAgent
from .chain import ZONES
from .engine import ENGINES
from .policy import demand_multiplier, price_multiplier, year_policy
from .recorder import Recorder
from .scenario import LoadedScenario
from .state import MAX_BUILD_LAG, NO_REVENUE_YET, FirmState


class ValueChainModel(mesa.Model):
    """Firms along a chain under a policy scenario.

    Parameters: ``scenario`` (a :class:`LoadedScenario`), ``rng`` (a seed, ``SeedSequence`` or
    ``Generator`` passed to ``mesa.Model``), ``engine`` (``"vectorized"`` or ``"reference"``).
    """

    def __init__(self, scenario: LoadedScenario, rng=None, engine: str = "vectorized", replication: int = 0):
        if isinstance(rng, np.random.SeedSequence):
            rng = np.random.default_rng(rng)
        super().__init__(rng=rng)
        self.scenario = scenario
        self.spec = scenario.spec
        self.chain = scenario.chain
        self.replication = replication
        self.year = self.spec.horizon.start
        f = self.spec.firms
        years_max = max([r.fixed_asset_years for r in self.spec.policy.interest_subsidy.rules] + [1])
        self.state = FirmState(capacity=1024, subsidy_vintages=years_max)
        zs = self.spec.firms.zone_shares
        self.zone_shares = np.array([zs.ordinary, zs.difficult_area, zs.special_zone])
        n_s = self.chain.n_stages
        self.local_ratio = (self.chain.initial_capacity > 0).astype(float)  # last year's local supply ratio
        self.utilisation = np.ones(n_s)
        self.recorder = Recorder(self)
        self.engine = ENGINES[engine](self)
        self._populate(f)
        self.running = True

    # ------------------------------------------------------------------ population
    def _populate(self, f) -> None:
        c = self.chain
        rng = self.rng
        counts = np.rint(c.initial_firms * f.scale).astype(np.int64)
        counts = np.where(c.initial_capacity > 0, np.maximum(counts, 1), 0)
        counts = np.maximum(counts, f.min_per_stage)
        stage = np.repeat(np.arange(c.n_stages), counts)
        n = stage.size
        size = rng.lognormal(0.0, 0.6 if f.productivity_sd > 0 else 0.0, n)
        total = np.bincount(stage, weights=size, minlength=c.n_stages)
        stage_cap = np.where(c.initial_capacity > 0, c.initial_capacity * f.scale, c.plant_capacity * counts)
        capacity = size / total[stage] * stage_cap[stage] if n else size
        zone = rng.choice(len(ZONES), size=n, p=self.zone_shares)
        productivity = self._draw_productivity(n)
        age = rng.integers(0, f.initial_age_max_years, size=n)
        capital = capacity * c.capital_cost[stage]
        self.state.add(
            n, alive=True, stage=stage, zone=zone, cell=stage * 3 + zone, productivity=productivity,
            capacity=capacity, debt=0.5 * f.debt_share * capital, cash=0.1 * capital,
            first_revenue_year=self.year - 1 - age, entry_year=self.year - 1 - age, loss_years=0,
        )
        self.engine.added(np.arange(n))

    def _draw_productivity(self, n: int) -> np.ndarray:
        sd = self.spec.firms.productivity_sd
        return rng_lognormal(self.rng, sd, n)

    # ------------------------------------------------------------------ one year
    def step(self) -> None:
        spec, c = self.spec, self.chain
        t = self.year - spec.horizon.start
        f = spec.firms
        shock = self.rng.normal(0.0, 1.0, c.n_stages)
        sigma = spec.shocks.price_volatility
        trend = c.price0 * (1.0 + c.price_growth) ** t * price_multiplier(spec, c, self.year)
        price = trend * np.exp(sigma * shock - 0.5 * sigma**2)
        demand = (c.demand0 * f.scale * (1.0 + c.demand_growth) ** t * (price / c.price0) ** (-c.elasticity)
                  * demand_multiplier(spec, c, self.year))
        pol = year_policy(spec, c, self.year, price)
        subsidy_avg = pol.subsidy_per_unit @ self.zone_shares
        local_price = price - c.freight_out + subsidy_avg  # sellers' average netback
        import_price = price + c.freight_in
        expected_material = c.A.T @ (self.local_ratio * local_price + (1 - self.local_ratio) * import_price)

        self.engine.begin_year()
        producing = self.engine.plan(price - c.freight_out, expected_material, pol)
        q = markets.solve(c.A, producing, demand, f.capacity_limits)
        local_share = np.divide(q.local_sales, q.output, out=np.zeros(c.n_stages), where=q.output > 0)
        material_local = c.A.T @ (q.local_ratio * local_price)
        material_imported = c.A.T @ ((1 - q.local_ratio) * import_price)
        stage_capacity = self.engine.stage_sum_capacity()
        utilisation = np.divide(q.output, stage_capacity, out=np.ones(c.n_stages), where=stage_capacity > 0)
        ctx = dict(
            year=self.year, price=price, trend=trend, local_price=local_price, pol=pol,
            local_share=local_share, material_local=material_local, material_imported=material_imported,
            utilisation=utilisation, stage_ratio=q.utilisation, export_price=price - c.freight_out,
            material_cost=material_local + material_imported, expected_netback=trend - c.freight_out,
            import_price=import_price, local_ratio=q.local_ratio, stage_capacity=stage_capacity,
        )
        sums = self.engine.settle(ctx)
        self.entry_investment = np.zeros(c.n_stages)
        entrants = self._entry(ctx) if f.entry else np.zeros(c.n_stages, dtype=np.int64)
        self.local_ratio = q.local_ratio
        self.utilisation = utilisation
        self.recorder.record(self.year, q, sums, entrants, price, ctx, pol)
        self.year += 1
        if self.year >= spec.horizon.start + spec.horizon.years:
            self.running = False

    # ------------------------------------------------------------------ entry
    def _entry(self, ctx) -> np.ndarray:
        """Potential investors per stage and zone build a plant with probability rising in q."""
        c, f, pol = self.chain, self.spec.firms, ctx["pol"]
        z = len(ZONES)
        netback = ctx["expected_netback"][:, None] + pol.subsidy_per_unit
        uvc = rules.unit_variable_cost(
            (ctx["material_local"] + ctx["material_imported"])[:, None], c.other_inputs[:, None],
            c.kwh[:, None], pol.power_price, c.workers[:, None], c.wage[:, None], 1.0)
        lag = c.build_lag[:, None].astype(float)
        first_rev = self.year + 1 + lag
        has_holiday = first_rev >= pol.holiday_from
        u = np.where(ctx["utilisation"] > 0, ctx["utilisation"], 1.0)[:, None]
        q_new = rules.profitability_index(
            netback - uvc, u, c.capital_cost[:, None], c.depreciation[:, None], f.discount_rate, lag,
            f.evaluation_years, -lag, np.where(has_holiday, pol.holiday_exempt, 0.0),
            np.where(has_holiday, pol.holiday_half, 0.0), pol.statutory_rate / 2, pol.tax_base_rate,
            f.debt_share, pol.fixed_points, pol.fixed_years)
        self.entry_q = q_new
        mean = f.potential_entrants_per_stage * f.scale * self.zone_shares[None, :] * rules.entry_probability(
            q_new, f.entry_sensitivity)
        count = self.rng.poisson(mean).ravel()
        total = int(count.sum())
        if total:
            cell = np.repeat(np.arange(c.n_stages * z), count)
            stage, zone = cell // z, cell % z
            size = c.plant_capacity[stage]
            cost = size * c.capital_cost[stage]
            loans = f.debt_share * cost
            lag_s = c.build_lag[stage]
            rows = self.state.add(
                total, alive=True, stage=stage, zone=zone, cell=cell, productivity=self._draw_productivity(total),
                capacity=0.0, debt=loans, cash=0.0, first_revenue_year=NO_REVENUE_YET, entry_year=self.year,
                loss_years=0,
            )
            self.state.raw("pending")[lag_s, rows] = size
            eligible = (pol.fixed_points.ravel()[cell] > 0) & (pol.fixed_years.ravel()[cell] > 0)
            self.state.raw("sub_debt")[0, rows] = np.where(eligible, loans, 0.0)
            self.entry_investment = np.bincount(stage, weights=cost, minlength=c.n_stages)
            self.engine.added(rows)
        return count.reshape(c.n_stages, z).sum(axis=1)

    # ------------------------------------------------------------------ inspection
    def firm_agents(self) -> AgentSet:
        """The living firms as Mesa agents (light handles over the arrays)."""
        return self.engine.agent_set()

    def run(self) -> None:
        while self.running:
            self.step()


def rng_lognormal(rng: np.random.Generator, sd: float, n: int) -> np.ndarray:
    """Mean-one lognormal draws (all ones when ``sd`` is 0, without using the generator)."""
    if sd == 0:
        return np.ones(n)
    return rng.lognormal(-0.5 * sd**2, sd, n)


__all__ = ["ValueChainModel", "FirmAgent", "MAX_BUILD_LAG"]
