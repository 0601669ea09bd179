"""The Mesa model: owns the random generator and the firms' state, and schedules the year.

A year (``step``) runs one way through ``economy.year``: prices and demand -> the levers' terms
-> production plans and stage markets -> the year's per-cell coefficients -> entry decisions and
the firms' year (the engine: ``vectorized``, all firms at once on numpy arrays, or ``reference``,
each Mesa agent's ``step`` in turn; both call ``economy.firm.firm_year``) -> records, whose stage
accounts and fiscal costs ``economy.accounts`` books. Market economics lives in ``economy``; this
class keeps what carries from one year to the next and draws the random numbers.
"""

from __future__ import annotations

from dataclasses import replace

import mesa
import numpy as np
from mesa.agent import AgentSet

from ..config.chain import SECTORS, ZONES
from ..config.errors import InputError
from ..config.scenario import LoadedScenario
from ..economy import armington, coefficients, firm, markets, turnover
from ..economy import year as economy_year
from ..economy.iomath import input_value, row_dot
from ..economy.levers import attraction, freight, interest, is_static, planning_terms, reads_price, year_terms
from ..economy.rules import poisson_from_uniform
from ..economy.targeting import to_stage
from ..economy.terms import CellTerms
from ..economy.year import (
    entry_means,
    large_placed_means,
    local_price,
    placed_means,
    stage_market,
    year_prices,
    year_technology,
)
from . import lever_steps
from .agents import FirmAgent
from .batch import StackedChain, batch_key, run_generator, stack_prices, stack_terms
from .compiled import compiled_kernels
from .engine import ENGINES
from .recorder import Recorder
from .state import MAX_BUILD_LAG, PENDING_SLOTS, SPARE_MIN, FirmState
from .streams import year_generators

ENTRY_ROOM_YEARS = 4  # spare rows per cell: years of entry (``__init__``)
ENTRY_ROOM_SHARE = 0.1  # ... at this share of the incumbents' pool building
STREAM_PURPOSES = 4  # a run's random streams a year (``ValueChainModel.stream``)


class ValueChainModel(mesa.Model):
    """Firms along a chain under a policy scenario.

    Parameters: ``scenario`` (a :class:`LoadedScenario`), ``rng`` (a seed, ``SeedSequence`` or
    ``Generator`` passed to ``mesa.Model``), ``engine`` (``"vectorized"`` or ``"reference"``).

    Runs side by side (issue 17, ``abm.batch``): with ``rngs`` (one seed per run, instead of
    ``rng``) the model advances ``len(rngs)`` runs of the scenario together, each drawing from its
    own generator exactly what it would alone, so that run b's results (``recorder.stage_frame(b)``)
    are bit for bit those of ``ValueChainModel(scenario, rng=rngs[b])``. With ``scenarios`` (one per
    run, the same ``batch.batch_key``), run b is a run of ``scenarios[b]``: its levers' values may
    differ from the others' (a year whose levers would switch the arithmetic in some runs only
    raises ``coefficients.BatchMismatch``). Only the vectorized engine.
    """

    def __init__(self, scenario: LoadedScenario, rng=None, engine: str = "vectorized", replication: int = 0,
                 rngs=None, scenarios=None):
        if rngs is not None:
            if rng is not None or engine != "vectorized" or not len(rngs):
                raise ValueError("runs side by side: give rngs (one per run) instead of rng, vectorized engine")
            rng, more = rngs[0], list(rngs[1:])
        else:
            more = []
        scenarios = list(scenarios) if scenarios is not None else [scenario] * (1 + len(more))
        distinct = list({id(sc): sc for sc in scenarios}.values())
        if len(scenarios) != 1 + len(more) or (len(distinct) > 1 and len({batch_key(sc) for sc in distinct}) != 1):
            raise ValueError("runs side by side: one scenario per run, all with the same batch.batch_key")
        if isinstance(rng, np.random.SeedSequence):
            rng = np.random.default_rng(rng)
        super().__init__(rng=rng)
        self.runs = 1 + len(more)
        self.generators = [self.rng] + [run_generator(r) for r in more]
        # Common random numbers across scenarios: each year's draws come from a stream derived from
        # this root (itself drawn from the run's generator), so what year t draws does not depend
        # on how many draws earlier years needed (entry counts differ between policy scenarios).
        self._stream_roots = [int(g.integers(2**63)) for g in self.generators]
        self._stream_root = self._stream_roots[0]
        self.scenario = scenario
        self.spec = scenario.spec
        # the runs' distinct levers: terms are computed once for each (``_year_terms``)
        policies = list(dict.fromkeys(id(sc.spec.policy) for sc in scenarios))
        self._policies = [next(sc.spec.policy for sc in scenarios if id(sc.spec.policy) == key) for key in policies]
        self._policy_of_run = [policies.index(id(sc.spec.policy)) for sc in scenarios]
        self.chain = scenario.chain
        self.stacked = StackedChain(self.chain, self.runs)  # the runs' stages side by side (one run: the chain's)
        self.replication = replication
        self.year = self.spec.horizon.start
        f = self.spec.firms
        years_max = interest.subsidy_vintages(self.spec.policy.interest_subsidy)
        zs = self.spec.firms.zone_shares
        self.zone_shares = np.array([zs.ordinary, zs.difficult_area, zs.special_zone])
        # room in every cell for ENTRY_ROOM_YEARS of the outside investors all building and of a
        # tenth of the incumbents' own pool (``ENTRY_ROOM_SHARE``): more would carry idle rows
        # through every pass; a cell that runs out doubles its room (``FirmState.add``)
        initial_cells = np.repeat(self._initial_counts(f), 3) * np.tile(self.zone_shares, self.chain.n_stages)
        outside = f.potential_entrants_per_stage * f.scale * np.tile(self.zone_shares, self.chain.n_stages)
        entry_room = np.ceil(ENTRY_ROOM_YEARS * (outside + ENTRY_ROOM_SHARE * f.potential_entrants_per_firm
                                                 * initial_cells))
        # (by cell, so that the runs' copies tile to every cell of the batch)
        min_spare = np.maximum(entry_room.astype(np.int64), SPARE_MIN) if f.entry else np.full(entry_room.shape,
                                                                                                SPARE_MIN)
        self.state = FirmState(self.stacked.n_stages * 3, subsidy_vintages=years_max,
                               min_spare=np.tile(min_spare, self.runs), runs=self.runs)
        c0 = self.chain
        # share of its output a stage expects to sell locally: first year, local buyers at full capacity
        expected_local_share = np.minimum(1.0, np.divide(c0.A @ c0.initial_capacity, c0.initial_capacity,
                                                         out=np.zeros(c0.n_stages), where=c0.initial_capacity > 0))
        c = self.stacked
        self.local_ratio = (c.initial_capacity > 0).astype(float)  # last year's local supply ratio
        self.local_share_last = np.full(c.n_stages, self.spec.firms.local_price_share)  # and its price position
        self.expected_local_share = np.tile(expected_local_share, self.runs)
        # issue 11: the elasticity of demand for the region's variety by stage (0: a price taker); without
        # capacity limits outside demand is given (the Leontief case) and no variety price clears it
        self.varieties = bool(self.chain.differentiated.any()) and self.spec.firms.capacity_limits
        self.sigma = np.tile(np.where(self.chain.differentiated & self.varieties, self.spec.shocks.armington_elasticity,
                                      0.0), self.runs)
        self.recorder = Recorder(self.chain, self.runs)
        self._static_policy = is_static(self.spec.policy, self.spec.horizon.start)  # expected terms = today's
        self._terms_read_price = [reads_price(policy) for policy in self._policies]
        self._terms_kept: tuple[int | None, dict] = (None, {})  # (year, known_by -> terms): ``_year_terms``
        self.engine = ENGINES[engine](self.state, self.stacked, self)
        # investment_attraction: some plant brought its parent's orders (``FirmState.parent_orders``), and
        # the orders a new plant of each cell brings this year (``_entry_decisions``; None: none)
        self._parent_orders_on = False
        self._new_plant_orders: np.ndarray | None = None
        # the large placed plants among this year's new plants per cell (``_entry_decisions``; None: none)
        self._large_plants: np.ndarray | None = None
        self._populate(f)
        self.running = True

    # ------------------------------------------------------------------ population
    def _initial_counts(self, f) -> np.ndarray:
        """Firms per stage at the start: the chain's firms x scale (at least one where there is capacity)."""
        c = self.chain
        counts = np.rint(c.initial_firms * f.scale).astype(np.int64)
        counts = np.where(c.initial_capacity > 0, np.maximum(counts, 1), 0)
        return np.maximum(counts, f.min_per_stage)

    def _populate(self, f) -> None:
        """Each run's first firms, drawn from its own generator, placed together."""
        c = self.chain
        counts = self._initial_counts(f)
        stage = np.repeat(np.arange(c.n_stages), counts)
        n = stage.size
        total_cells = c.n_stages * 3
        stage_cap = np.where(c.initial_capacity > 0, c.initial_capacity * f.scale, c.plant_capacity * counts)
        # each run's draws from its generator, in its order; then the arithmetic of all runs at once,
        # arrays (runs, firms) whose rows are what each run computes alone
        draws = [(rng.lognormal(0.0, 0.6 if f.productivity_sd > 0 else 0.0, n),
                  rng.choice(len(ZONES), size=n, p=self.zone_shares), self._draw_productivity(n, rng),
                  rng.integers(0, f.initial_age_max_years, size=n)) for rng in self.generators]
        size, zone, productivity, age = ((values[0][None] if self.runs == 1 else np.stack(values))  # (one run: no copy)
                                         for values in zip(*draws))
        del draws
        runs = np.arange(self.runs)[:, None]
        total = np.bincount((runs * c.n_stages + stage).ravel(), weights=size.ravel(),  # each run's sums alone
                            minlength=self.runs * c.n_stages).reshape(self.runs, c.n_stages)
        capacity = size / total[:, stage] * stage_cap[stage] if n else size
        capital = capacity * c.capital_cost[stage]
        cell = stage * 3 + zone
        # each run's firms in cell order (a stable sort: of int16 cells, numpy's radix sort)
        order = (np.argsort(cell.astype(np.int16) if total_cells < 2**15 else cell, axis=1, kind="stable")
                 + runs * n).ravel()
        placed = {name: values.ravel()[order] for name, values in (
            ("cell", runs * total_cells + cell), ("inv_productivity", 1.0 / productivity), ("capacity", capacity),
            ("debt", 0.5 * f.debt_share * capital), ("cash", 0.1 * capital),
            ("first_revenue_year", self.year - 1 - age))}
        stage_of_firm = np.tile(stage, self.runs)[order]
        rows, mapping = self.state.add(placed.pop("cell"), lag=c.build_lag[stage_of_firm], **placed)
        # steady-state pipeline: what incumbents ordered to replace wear arrives in the first lag years
        pending = self.state.raw("pending")
        for ahead in range(1, MAX_BUILD_LAG + 1):
            arriving = ahead <= c.build_lag[stage_of_firm]
            replacement = c.depreciation[stage_of_firm] * placed["capacity"]
            pending[(self.year + ahead) % PENDING_SLOTS, rows] = replacement * arriving
        # capacity already under construction at the start (chain ``initial.under_construction_units``),
        # owned by the stage's incumbents in proportion to their capacity
        for arrival, units in c.initial_pipeline.items():
            ahead = arrival - self.year
            if not 1 <= ahead <= MAX_BUILD_LAG:
                bad = c.order[int(np.flatnonzero(units)[0])] if units.any() else c.order[0]
                raise InputError(str(c.path or c.name), f"stages.{bad}.initial.under_construction_units.{arrival}",
                                 f"must arrive 1-{MAX_BUILD_LAG} years after the scenario's start {self.year}")
            per_unit = np.divide(units, c.initial_capacity, out=np.zeros(c.n_stages), where=c.initial_capacity > 0)
            pending[arrival % PENDING_SLOTS, rows] += placed["capacity"] * per_unit[stage_of_firm]
        self.engine.added(rows, mapping)

    def _draw_productivity(self, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
        return rng_lognormal(rng or self.rng, self.spec.firms.productivity_sd, n)

    def stream(self, year: int, purpose: int, run: int = 0) -> np.random.Generator:
        """Generator for one purpose (0 prices, 1 entry counts, 2 entrants, 3 turnover) in one year, from the
        run's root (``step`` makes a year's with ``streams.year_generators``: the same generators, faster)."""
        return np.random.default_rng(np.random.SeedSequence(self._stream_roots[run], spawn_key=(year, purpose)))

    def _year_terms(self, year: int, price: np.ndarray, known_by: int | None = None) -> CellTerms:
        """The levers' terms of every run: once for each of the runs' levers, or run by run where
        they read the price; ``known_by``: as investors expect them (``levers.planning_terms``).
        Terms that read no price are the same at the year's second call (after the variety
        prices): they are kept for the year."""
        reads = any(self._terms_read_price)
        if not reads and self._terms_kept[0] == year and known_by in self._terms_kept[1]:
            return self._terms_kept[1][known_by]
        c = self.chain
        prices = price.reshape(self.runs, -1)

        def terms(policy: int, p: np.ndarray) -> CellTerms:
            if known_by is None:
                return year_terms(self._policies[policy], c, year, p)
            return planning_terms(self._policies[policy], c, year, p, c.build_lag)

        shared = {policy: terms(policy, prices[0]) for policy, reads in enumerate(self._terms_read_price) if not reads}
        stacked = stack_terms([shared[policy] if policy in shared else terms(policy, prices[run])
                               for run, policy in enumerate(self._policy_of_run)])
        if not reads:
            if self._terms_kept[0] != year:
                self._terms_kept = (year, {})
            self._terms_kept[1][known_by] = stacked
        return stacked

    # ------------------------------------------------------------------ one year
    def step(self) -> None:
        spec, c, year, f = self.spec, self.stacked, self.year, self.spec.firms
        # each run's four streams of the year (``stream``: prices, entry counts, entrants, turnover), made together
        streams = year_generators(self._stream_roots, year, STREAM_PURPOSES)
        shock = np.stack([s[0].normal(0.0, 1.0, len(SECTORS))[self.chain.sector_id] for s in streams])
        market_prices = stack_prices(year_prices(spec, self.chain, year, shock), self.runs, self.chain.n_stages)
        self.engine.begin_year(year)  # capacity ordered earlier arrives
        # variety stages (economy.armington): the exports the region's variety sells at the market price
        n = self.chain.n_stages
        reference = (np.tile(armington.reference_exports(self.chain, f.scale, market_prices.demand[:n]), self.runs)
                     if self.varieties else None)
        if self._parent_orders_on:  # investment_attraction: the producing plants' parent orders add to demand
            demand, reference = attraction.with_orders(market_prices.demand, reference, self._parent_orders(),
                                                       self.sigma)
            market_prices = replace(market_prices, demand=demand)
        tech = year_technology(c, f, year - spec.horizon.start)
        p = market_prices
        plans = self._plans(p, tech)
        if self.varieties:  # the price at which this year's supply sells
            p = armington.at_factor(c, market_prices, self._variety_factors(market_prices, plans, tech, reference))
            plans = self._plans(p, tech)
        terms, plan, subsidy_mean, expected_material, threshold = plans
        threshold_high = coefficients.import_parity_threshold(tech, terms, p.import_price, expected_material)

        # production plans, then the stage markets cleared downstream first (``markets.solve``)
        capacity_cells, producing_cells, high_cells, pipeline_cells = self.engine.plan(threshold, threshold_high)
        capacity = to_stage(capacity_cells)
        demand = armington.unbounded_demand(self.sigma, p.demand) if self.varieties else p.demand
        q = markets.solve(c.A, to_stage(producing_cells), demand, f.capacity_limits, to_stage(high_cells),
                          c.buyer_levels)
        if self.varieties:  # the varieties' prices clear their outside demand this year
            building = np.maximum(capacity + to_stage(pipeline_cells) - q.local_demand, 0.0)
            p = armington.at_factor(c, market_prices, armington.price_factor(self.sigma, q.exports, reference),
                                    armington.price_factor(self.sigma, building, reference))
            p = replace(p, demand=demand)
        share = np.maximum(f.local_price_share, q.price_position)
        local_now = local_price(c, share, p.price, subsidy_mean)
        local_trend = local_price(c, share, p.trend, subsidy_mean)
        market = stage_market(c, p, q, local_now, local_trend, capacity + to_stage(pipeline_cells))
        up = np.repeat(q.priced_up, 3)
        k = coefficients.cell_coefficients(c, f, terms, market, np.where(up, threshold_high, threshold),
                                           up if up.any() else None, tech, plan)
        self.last_year = economy_year.Year(p, terms, q, to_stage(high_cells), market, k)  # for inspection
        if f.entry:  # decided on this year's q before the firms' year is settled (which it does not use)
            plants, plants_inv_productivity = self._entry_decisions(k, [s[1] for s in streams],
                                                                    [s[2] for s in streams])
        sums = self.engine.settle(k, year)
        # issue 12: capacity caps refuse orders beyond the stage's ceiling (incumbents', then new plants)
        if f.entry:
            sums, plants, plants_inv_productivity = lever_steps.capacity_caps(
                self.state, c, k, terms, sums, year, plants, plants_inv_productivity)
        else:
            sums, _, _ = lever_steps.capacity_caps(self.state, c, k, terms, sums, year, None, None)
        entry_capex = np.zeros(c.n_stages * 3)
        entrants, entry_investment = (self._entry(k, plants, plants_inv_productivity, entry_capex) if f.entry
                                      else (np.zeros(c.n_stages, dtype=np.int64), 0.0))
        # issue 12: grants within their envelope; backward capacity closed (least productive first)
        grant_paid = lever_steps.grant_envelope(self.state, k, terms, sums, entry_capex)
        sums, removed = lever_steps.remove_backward_capacity(self.state, self.engine, terms, sums)
        successions = (self._turnover([s[3] for s in streams])
                       if f.exit and f.closure_rate_per_year > 0
                       else np.zeros(c.n_stages * 3, dtype=np.int64))
        cell_values = {"successions_cell": successions, "entry_capex": entry_capex,
                       "entries_cell": plants if f.entry else np.zeros(c.n_stages * 3),
                       "capacity_cells": capacity_cells, "grant_paid": grant_paid, "removed_capacity": removed}
        self.local_ratio = q.local_ratio
        self.local_share_last = share
        self.expected_local_share = np.minimum(1.0, np.divide(q.local_demand, capacity, out=np.zeros(c.n_stages),
                                                              where=capacity > 0))
        self.recorder.record(year, self.engine.count(), k, sums, {
            "capacity": capacity, "output": q.output, "exports": q.exports, "local_sales": q.local_sales,
            "local_ratio": q.local_ratio, "entries": entrants, "entry_investment": entry_investment,
            "price": p.price, "import_price": p.import_price, "material_imported": market.material_imported,
            "material_local": market.material_local, "local_price": market.local_price}, cell_values)
        self.year += 1
        if self.year >= spec.horizon.start + spec.horizon.years:
            self.running = False

    def _turnover(self, rngs: list[np.random.Generator] | np.random.Generator) -> np.ndarray:
        """Ownership turnover (``economy.turnover``): producing firms close at the scenario's rate and
        successors take over their plants; each run draws from its own stream (one run: a generator
        will do). Returns successions per cell."""
        rngs = [rngs] if isinstance(rngs, np.random.Generator) else rngs
        st, n_cells = self.state, self.state.n_cells
        rows = np.flatnonzero(st.capacity > 0)  # the producing firms, in cell order (other rows hold no capacity)
        per_cell = np.diff(np.searchsorted(rows, st.starts))
        u = np.concatenate([rng.random(st.cells_per_run) for rng in rngs])
        counts = turnover.closure_counts(u, per_cell, self.spec.firms.closure_rate_per_year)
        totals = st.by_run(counts).sum(axis=1)
        if not totals.any():
            return counts
        inv_phi = st.inv_productivity
        pairs = np.concatenate([rng.random((int(total), 2)) for rng, total in zip(rngs, totals)])
        kernels = compiled_kernels()  # None: numpy's path (the reference); else the same picks compiled
        if kernels is None:
            closing = rows[turnover.pick_closures(per_cell, counts, pairs, lambda positions: inv_phi[rows[positions]])]
            successions = np.bincount(st.cell[closing], minlength=n_cells)
        else:
            successions = np.zeros(n_cells, dtype=np.int64)
            closing = kernels.closing_rows(per_cell, counts, pairs, rows, inv_phi, st.cell, successions)
        closing_per_run = st.by_run(successions).sum(axis=1)
        successors = [1.0 / self._draw_productivity(int(m), rng) for rng, m in zip(rngs, closing_per_run) if m]
        old_ids = st.firm_id[closing]  # (a copy: rows picked by index)
        st.succeed(closing, np.concatenate(successors) if successors else np.zeros(0))
        self.engine.succeeded(closing, old_ids)
        return successions

    def _plans(self, p, tech) -> tuple:
        """The year's lever terms (as they are and as investors plan on them), the sellers' mean
        subsidy, the inputs' expected cost and which firms produce (their 1/productivity threshold)."""
        c, f = self.stacked, self.spec.firms
        terms = self._year_terms(self.year, p.price)
        terms = freight.with_local_inputs(terms, self.local_ratio)  # issue 12: conditional freight subsidy
        plan = (terms if self._static_policy or f.expectations == "current"
                else freight.with_local_inputs(self._year_terms(self.year, p.price, known_by=self.year),
                                               self.local_ratio))
        subsidy_mean = row_dot(terms.subsidy_per_unit, self.zone_shares)
        # sellers plan at the local price of an ample market; buyers expect last year's clearing price
        local_ample = local_price(c, f.local_price_share, p.price, subsidy_mean)
        local_expected = local_price(c, self.local_share_last, p.price, subsidy_mean)
        expected_material = input_value(c.A, self.local_ratio * local_expected
                                        + (1 - self.local_ratio) * p.import_price)
        threshold = coefficients.production_threshold(tech, terms, p.export_price, expected_material, local_ample,
                                                      self.expected_local_share)
        return terms, plan, subsidy_mean, expected_material, threshold

    def _variety_factors(self, market_prices, plans, tech, reference) -> np.ndarray:
        """Each stage's price factor (1 outside the variety stages) clearing the region's variety
        market against its firms' supply this year (``armington.clearing_factors``, all runs in one
        call: its sums along the firms of a run's stages restart at each run). A firm's threshold is
        linear in the price, so its break-even factor follows from the thresholds at the market
        price and at twice it (the levers' terms held at the market price)."""
        c, st = self.stacked, self.state
        terms, _, subsidy_mean, expected_material, t1 = plans
        doubled = armington.at_factor(c, market_prices, np.where(self.sigma > 0, 2.0, 1.0))
        local_ample = local_price(c, self.spec.firms.local_price_share, doubled.price, subsidy_mean)
        t2 = coefficients.production_threshold(tech, terms, doubled.export_price, expected_material, local_ample,
                                               self.expected_local_share)
        on = np.flatnonzero(self.sigma > 0)
        cells = (on[:, None] * 3 + np.arange(3)).ravel()  # the variety stages' cells; their rows are blocks
        lo, size = st.starts[cells], st.ends[cells] - st.starts[cells]
        rows = np.arange(size.sum()) + np.repeat(lo - (np.cumsum(size) - size), size)
        cell = np.repeat(cells, size)
        capacity = st.capacity[rows]
        keep = capacity > 0
        rows, cell, capacity = rows[keep], cell[keep], capacity[keep]
        slope = t2[cell] - t1[cell]
        finite = np.isfinite(t1[cell]) & np.isfinite(t2[cell]) & (slope > 0)
        gap = st.inv_productivity[rows] - np.where(finite, t1[cell], 0.0)
        break_even = np.where(finite, 1.0 + gap / np.where(finite, slope, 1.0),
                              np.where(t1[cell] == np.inf, 0.0, np.inf))
        position = np.repeat(np.arange(on.size), 3)[np.searchsorted(cells, cell)]  # variety stage of each firm
        stage_capacity = np.bincount(position, weights=capacity, minlength=on.size)
        factor = np.ones(c.n_stages)
        factor[on] = armington.clearing_factors(position, break_even, capacity,
                                                self.expected_local_share[on] * stage_capacity, reference[on],
                                                self.sigma[on], self.runs)
        return factor

    # ------------------------------------------------------------------ entry
    def _entry_decisions(self, k, count_rngs: list[np.random.Generator],
                         entrants_rngs: list[np.random.Generator]) -> tuple[np.ndarray, np.ndarray]:
        """The number of new plants per (stage, zone) cell (Poisson, mean ``economy.year.entry_means``)
        and their 1/productivity (a plant built draws its own productivity); each run draws from its
        own streams."""
        mean = entry_means(k, self.stacked, self.spec.firms, self.zone_shares, self.year, self.state.alive_count)
        c = self.stacked
        large = k.placed_large_plants.any()
        large_mean = large_placed_means(k, c, self.spec.firms, self.zone_shares) if large else None
        self._new_plant_orders = None  # the orders a new plant brings: only where a rule gives placed plants orders
        if k.placed_orders_share.any():
            placed = placed_means(k, c, self.spec.firms, self.zone_shares)
            if large:  # the others' expected orders: of the placed plants not large over the new plants not large
                placed, mean_other = np.maximum(placed - large_mean, 0.0), np.maximum(mean - large_mean, 0.0)
            self._new_plant_orders = attraction.new_plant_orders(k.placed_orders_share, np.repeat(c.plant_capacity, 3),
                                                                 placed, mean_other if large else mean)
        cells_per_run = self.state.cells_per_run
        uniforms = np.concatenate([rng.random(cells_per_run) for rng in count_rngs])
        count = poisson_from_uniform(uniforms, mean)
        self._large_plants = attraction.large_plant_counts(uniforms, count, large_mean) if large else None
        totals = self.state.by_run(count).sum(axis=1)
        draws = [1.0 / self._draw_productivity(int(total), rng) for total, rng in zip(totals, entrants_rngs) if total]
        return count, (np.concatenate(draws) if draws else np.zeros(0))

    def _entry(self, k, count: np.ndarray, inv_productivity: np.ndarray,
               entry_capex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Place the new plants (``count`` per cell): each produces after the build lag and gets the
        full tax holiday of its cell. Returns plants and their investment per stage (at full capital
        cost; ``entry_capex`` receives it by cell)."""
        c, f = self.stacked, self.spec.firms
        investment = np.zeros(c.n_stages)
        if inv_productivity.size:
            cell = np.repeat(np.arange(c.n_stages * 3), count)
            stage = cell // 3
            size = c.plant_capacity[stage]
            large = None
            if self._large_plants is not None:  # the first of a cell's new plants are its large placed ones
                # (at most the plants a capacity cap kept)
                large = attraction.large_plant_layout(count, np.minimum(self._large_plants, count))
                size = np.where(large, k.placed_large_capacity[cell], size)
            # a new plant's 1/productivity: its own draw over the stage's new-plant productivity (chain key)
            inv_productivity = inv_productivity / c.new_plant_productivity[stage]
            cost = size * c.capital_cost[stage]
            # issue 12: the investor pays entry_paid_factor of the cost (grants, land, SME fund, incentive)
            # and the plant waits for the cell's build lag this year (an approval lag may change it)
            loans = f.debt_share * (cost * k.entry_paid_factor[cell])
            lag = k.build_lag[cell]
            orders = {} if self._new_plant_orders is None else {"parent_orders": self._new_plant_orders[cell]}
            if orders and large is not None:  # a large placed plant brings the share of its own capacity
                orders["parent_orders"] = np.where(large, k.placed_orders_share[cell] * size, orders["parent_orders"])
            self._parent_orders_on |= bool(orders and orders["parent_orders"].any())
            rows, mapping = self.state.add(
                cell, lag=lag, debt=loans, inv_productivity=inv_productivity,
                first_revenue_year=firm.NO_REVENUE_YET, ordered=size, **orders,
            )
            entry_capex += np.bincount(cell, weights=cost, minlength=entry_capex.size)
            arrival = (self.year + 1 + lag) % PENDING_SLOTS
            self.state.raw("pending")[arrival, rows] = size
            if self.state.vintages:
                self.state.raw("sub_debt")[self.year % self.state.vintages, rows] = loans * k.subsidised_loans[cell]
            investment = np.bincount(stage, weights=cost, minlength=c.n_stages)
            self.engine.added(rows, mapping)
        return count.reshape(c.n_stages, 3).sum(axis=1), investment

    def _parent_orders(self) -> np.ndarray:
        """Units a year of parent orders by stage: those of the plants producing now (a plant's
        orders come when it first produces and leave when it exits)."""
        st = self.state
        return to_stage(st.cell_sum(np.where(st.capacity > 0, st.parent_orders, 0.0)))

    # ------------------------------------------------------------------ inspection
    def firm_agents(self) -> AgentSet:
        """The living firms as Mesa agents (light handles over the arrays)."""
        return self.engine.agent_set(self)

    def run(self) -> None:
        while self.running:
            self.step()


def rng_lognormal(rng: np.random.Generator, sd: float, n: int) -> np.ndarray:
    """Mean-one lognormal draws (all ones when ``sd`` is 0, without using the generator)."""
    if sd == 0:
        return np.ones(n)
    return rng.lognormal(-0.5 * sd**2, sd, n)


__all__ = ["ValueChainModel", "FirmAgent", "MAX_BUILD_LAG"]
