"""The Mesa model: owns the random generator, the firms' state, the stage markets and the records.

A year (``step``):
1. prices (trend x policy price paths x a lognormal shock common to a sector), outside demand
   (at the trend price), lever tables;
2. each firm's plan: produce up to capacity if its expected price (local sales at the local price,
   the rest at its export netback) covers unit variable cost (``firm.production_threshold``);
3. stage markets, downstream first: local buyers take local output first, the rest is exported
   up to outside demand (``markets.solve``);
4. each firm's accounts, tax, investment and financing (``firm.firm_year``, applied by the engine);
5. entry (Poisson number of new plants per stage and zone, rising in a new plant's q) and exit;
6. records per stage and lever.
The firm-level work is done by an engine: ``vectorized`` (all firms at once, numpy) or
``reference`` (each Mesa agent's ``step`` in turn); both call the same rule functions.
"""

from __future__ import annotations

import mesa
import numpy as np
from mesa.agent import AgentSet

from ..config.chain import SECTORS, ZONES
from ..config.scenario import LoadedScenario
from ..economy import firm, markets, rules
from ..economy.policy import demand_multiplier, price_multiplier, year_policy
from .agents import FirmAgent
from .engine import ENGINES
from .recorder import Recorder
from .state import MAX_BUILD_LAG, PENDING_SLOTS, SPARE_MIN, FirmState, to_stage

ENTRY_ROOM_YEARS = 4  # spare rows per cell: years of entry at the highest rate (every potential entrant builds)


class ValueChainModel(mesa.Model):
    """Firms along a chain under a policy scenario.

    Parameters: ``scenario`` (a :class:`LoadedScenario`), ``rng`` (a seed, ``SeedSequence`` or
    ``Generator`` passed to ``mesa.Model``), ``engine`` (``"vectorized"`` or ``"reference"``).
    """

    def __init__(self, scenario: LoadedScenario, rng=None, engine: str = "vectorized", replication: int = 0):
        if isinstance(rng, np.random.SeedSequence):
            rng = np.random.default_rng(rng)
        super().__init__(rng=rng)
        # Common random numbers across scenarios: each year's draws come from a stream derived from
        # this root (itself drawn from the model's generator), so what year t draws does not depend
        # on how many draws earlier years needed (entry counts differ between policy scenarios).
        self._stream_root = int(self.rng.integers(2**63))
        self.scenario = scenario
        self.spec = scenario.spec
        self.chain = scenario.chain
        self.replication = replication
        self.year = self.spec.horizon.start
        f = self.spec.firms
        years_max = max([r.fixed_asset_years for r in self.spec.policy.interest_subsidy.rules] + [0])
        zs = self.spec.firms.zone_shares
        self.zone_shares = np.array([zs.ordinary, zs.difficult_area, zs.special_zone])
        # room in every cell for ENTRY_ROOM_YEARS of entry at the highest rate before a rebuild (on
        # the default chain at 100k firms none is needed in 15 years); a cell that runs out doubles
        # its room (``FirmState.add``)
        entry_rate = f.potential_entrants_per_stage * f.scale * np.tile(self.zone_shares, self.chain.n_stages)
        entry_room = np.ceil(ENTRY_ROOM_YEARS * entry_rate)
        self.state = FirmState(self.chain.n_stages * 3, subsidy_vintages=years_max,
                               min_spare=np.maximum(entry_room.astype(np.int64), SPARE_MIN) if f.entry else SPARE_MIN)
        c0 = self.chain
        self.local_ratio = (c0.initial_capacity > 0).astype(float)  # last year's local supply ratio
        # share of its output a stage expects to sell locally: first year, local buyers at full capacity
        self.expected_local_share = np.minimum(1.0, np.divide(c0.A @ c0.initial_capacity, c0.initial_capacity,
                                                              out=np.zeros(c0.n_stages),
                                                              where=c0.initial_capacity > 0))
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
        inv_productivity = 1.0 / self._draw_productivity(n)
        age = rng.integers(0, f.initial_age_max_years, size=n)
        capital = capacity * c.capital_cost[stage]
        cell = stage * 3 + zone
        order = np.argsort(cell, kind="stable")
        rows, mapping = self.state.add(
            cell[order], lag=c.build_lag[stage[order]], inv_productivity=inv_productivity[order],
            capacity=capacity[order],
            debt=(0.5 * f.debt_share * capital)[order], cash=(0.1 * capital)[order],
            first_revenue_year=(self.year - 1 - age)[order],
        )
        # steady-state pipeline: what incumbents ordered to replace wear arrives in the first lag years
        pending = self.state.raw("pending")
        for ahead in range(1, MAX_BUILD_LAG + 1):
            arriving = ahead <= c.build_lag[stage[order]]
            replacement = c.depreciation[stage[order]] * capacity[order]
            pending[(self.year + ahead) % PENDING_SLOTS, rows] = replacement * arriving
        self.engine.added(rows, mapping)

    def local_price(self, price: np.ndarray, subsidy_mean: np.ndarray) -> np.ndarray:
        """Price of a local sale: between the sellers' mean export netback and the buyers' import
        price, at ``firms.local_price_share`` of the way (0: sellers get their netback, the
        calibration of the default chain; 0.5: buyer and seller split the freight saved), or
        further where local buyers were short last year: a stage that met only a share r of
        local demand sells at least ``1 - r`` of the way to import parity (scarcity)."""
        c = self.chain
        netback = price - c.freight_out + subsidy_mean
        # where local buyers could not get enough last year (they imported), sellers can ask more
        share = np.maximum(self.spec.firms.local_price_share, 1.0 - self.local_ratio)
        return netback + share * (price + c.freight_in - netback)

    def _draw_productivity(self, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
        return rng_lognormal(rng or self.rng, self.spec.firms.productivity_sd, n)

    def stream(self, year: int, purpose: int) -> np.random.Generator:
        """Generator for one purpose (0 prices, 1 entry counts, 2 entrants) in one year, from the model's root."""
        return np.random.default_rng(np.random.SeedSequence(self._stream_root, spawn_key=(year, purpose)))

    def subsidised_debt(self, sub_debt: np.ndarray, spread, year: int):
        """Balance of fixed-asset loans still within their subsidy years, per firm.

        The loans of year Y0 are subsidised in years Y0+1 .. Y0+N (N by cell) and amortise
        linearly: in year Y0+a the balance is ``loan * (1 - 1/term)**(a-1)``.
        """
        vintages = sub_debt.shape[0]
        total = np.zeros(sub_debt.shape[1])
        years = spread(self._fixed_years) if vintages else None
        for age in range(1, vintages + 1):
            weight = firm.AMORTISATION ** (age - 1) * (age <= years)
            total += sub_debt[(year - age) % vintages] * weight
        return total

    # ------------------------------------------------------------------ one year
    def step(self) -> None:
        spec, c, year = self.spec, self.chain, self.year
        t = year - spec.horizon.start
        f = spec.firms
        # the year's three streams, made together while the interpreter's caches are warm
        prices_rng, entry_rng, entrants_rng = (self.stream(year, purpose) for purpose in range(3))
        shock = prices_rng.normal(0.0, 1.0, len(SECTORS))[c.sector_id]  # common within a sector
        sigma = spec.shocks.price_volatility
        trend = c.price0 * (1.0 + c.price_growth) ** t * price_multiplier(spec, c, year)
        price = trend * np.exp(sigma * shock - 0.5 * sigma**2)
        # outside demand the region can reach: it follows the trend price (the region is a price
        # taker; a year's price shock changes what a unit earns, not how much can be sold)
        demand = (c.demand0 * f.scale * (1.0 + c.demand_growth) ** t * (trend / c.price0) ** (-c.elasticity)
                  * demand_multiplier(spec, c, year))
        pol = year_policy(spec, c, year, price)
        self._fixed_years = pol.fixed_years.ravel()
        subsidy_mean = pol.subsidy_per_unit @ self.zone_shares
        import_price = price + c.freight_in
        export_price = price - c.freight_out
        local_price = self.local_price(price, subsidy_mean)
        local_price_trend = self.local_price(trend, subsidy_mean)
        expected_material = c.A.T @ (self.local_ratio * local_price + (1 - self.local_ratio) * import_price)

        # production plans, then the stage markets (downstream first)
        self.engine.begin_year(year)
        threshold = firm.production_threshold(c, pol, export_price, expected_material, local_price,
                                              self.expected_local_share)
        capacity_cells, producing_cells, pipeline_cells = self.engine.plan(threshold)
        capacity = to_stage(capacity_cells)
        built_or_building = capacity + to_stage(pipeline_cells)
        q = markets.solve(c.A, to_stage(producing_cells), demand, f.capacity_limits)
        stage_values = {
            "local_share": np.divide(q.local_sales, q.output, out=np.zeros(c.n_stages), where=q.output > 0),
            "local_price": local_price, "export_price": export_price,
            "material_local": c.A.T @ (q.local_ratio * local_price),
            "material_imported": c.A.T @ ((1 - q.local_ratio) * import_price),
            # a new unit is sold locally where local buyers still import, else shipped out
            "marginal_export_share": (q.local_ratio >= 1.0) * 1.0,
            "expected_netback": np.where(q.local_ratio >= 1.0, trend - c.freight_out, local_price_trend),
            "expected_material": c.A.T @ (q.local_ratio * local_price_trend
                                          + (1 - q.local_ratio) * (trend + c.freight_in)),
            # sales a unit of new capacity can expect: demand over capacity already there or being built
            "utilisation": np.minimum(1.0, np.divide(q.local_demand + demand, built_or_building,
                                                     out=np.ones(c.n_stages), where=built_or_building > 0)),
            "stage_ratio": q.utilisation,
        }
        k = firm.cell_coefficients(c, spec, pol, stage_values, threshold)
        self.last_year = {"policy": pol, "stage_values": stage_values, "coefficients": k}  # for inspection
        if f.entry:  # decided on this year's q before the firms' year is settled (which it does not use)
            plants, plants_inv_productivity = self._entry_decisions(k, entry_rng, entrants_rng)
        sums = self.engine.settle(k, year)
        entrants, entry_investment = (self._entry(k, plants, plants_inv_productivity) if f.entry
                                      else (np.zeros(c.n_stages, dtype=np.int64), 0.0))
        self.local_ratio = q.local_ratio
        self.expected_local_share = np.minimum(1.0, np.divide(q.local_demand, capacity, out=np.zeros(c.n_stages),
                                                              where=capacity > 0))
        self.recorder.record(year, q, k, sums, stage_values, capacity, entrants, entry_investment,
                             price, import_price)
        self.year += 1
        if self.year >= spec.horizon.start + spec.horizon.years:
            self.running = False

    # ------------------------------------------------------------------ entry
    def _entry_decisions(self, k: dict, count_rng: np.random.Generator,
                         entrants_rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Potential investors per (stage, zone) cell build a plant with probability rising in q:
        the number of new plants per cell and their 1/productivity.

        Investors judge a plant of average productivity (1) by the increment value incumbents use
        (``q``); a plant built draws its own productivity.
        """
        c, f = self.chain, self.spec.firms
        cells = np.arange(c.n_stages * 3)
        if k["has_holidays"]:
            holiday = (self.year + 1 + k["build_lag"]) >= k["holiday_from"]
            tax_weight = k["tax_weight_k"][(cells * 2 + holiday) * k["slots"]]  # slot 0: no revenue yet
        else:
            tax_weight = k["base_tax_weight_k"]
        q_new = firm.increment_q(lambda name: k[name], 1.0, tax_weight)
        mean = (f.potential_entrants_per_stage * f.scale * np.tile(self.zone_shares, c.n_stages)
                * rules.entry_probability(q_new, f.entry_sensitivity))
        count = rules.poisson_from_uniform(count_rng.random(mean.size), mean)
        total = int(count.sum())
        return count, (1.0 / self._draw_productivity(total, entrants_rng) if total else np.zeros(0))

    def _entry(self, k: dict, count: np.ndarray, inv_productivity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Place the new plants (``count`` per cell): each produces after the build lag and gets the
        full tax holiday of its cell. Returns plants and their investment per stage."""
        c, f = self.chain, self.spec.firms
        investment = np.zeros(c.n_stages)
        if inv_productivity.size:
            cell = np.repeat(np.arange(c.n_stages * 3), count)
            stage = cell // 3
            size = c.plant_capacity[stage]
            cost = size * c.capital_cost[stage]
            loans = f.debt_share * cost
            rows, mapping = self.state.add(
                cell, lag=c.build_lag[stage], debt=loans, inv_productivity=inv_productivity,
                first_revenue_year=firm.NO_REVENUE_YET,
            )
            arrival = (self.year + 1 + c.build_lag[stage]) % PENDING_SLOTS
            self.state.raw("pending")[arrival, rows] = size
            if self.state.vintages:
                self.state.raw("sub_debt")[self.year % self.state.vintages, rows] = loans * k["subsidised_loans"][cell]
            investment = np.bincount(stage, weights=cost, minlength=c.n_stages)
            self.engine.added(rows, mapping)
        return count.reshape(c.n_stages, 3).sum(axis=1), investment

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
