"""Runs side by side (issue 17): B runs of one chain advanced together as one chain of B x n stages.

Run b's stage s is stage ``b * n + s`` and its cell c is cell ``b * 3n + c``, so everything the
year computes per stage or per cell is computed for every run at once by the same code that books
one run (a run alone is B = 1): elementwise arithmetic does not care how long its arrays are, and
the few sums across stages (``iomath.input_value``, ``markets.solve``) and across firms
(``engine.chunk_bounds``, ``state.FirmState``) are written so that a run's numbers do not depend
on the runs beside it. What depends only on the scenario (prices' trends, the levers' terms) is
computed once per batch and repeated for each run.
"""

from __future__ import annotations

import json
from dataclasses import fields

import mesa
import numpy as np

from ..economy import markets
from ..economy.coefficients import BatchMismatch  # noqa: F401  (re-exported: what a batch raises)
from ..economy.terms import CellTerms
from ..economy.year import YearPrices

PER_STAGE = ("weight_t", "price0", "price_growth", "other_inputs", "kwh", "workers", "wage", "capital_cost",
             "depreciation", "build_lag", "demand0", "demand_growth", "elasticity", "initial_capacity",
             "initial_firms", "plant_capacity", "recorded_firms_per_plant", "new_plant_productivity", "freight_out",
             "freight_in", "sector_id")
"""The chain's per-stage arrays the year reads (``StackedChain`` repeats them for each run)."""
SHARED_TERMS = ("local_bonus_weights",)  # (stages, stages) tables: the same for every run of a batch


class StackedChain:
    """``runs`` copies of a chain's stages side by side: the per-stage arrays repeated for each run
    (``PER_STAGE``), the input-output matrix ``A`` of one run (``iomath.input_value`` applies it
    run by run) and the levels its markets settle in (``markets.buyer_levels``)."""

    def __init__(self, chain, runs: int):
        self.base = chain
        self.runs = runs
        self.A = chain.A
        self.buyer_levels = markets.buyer_levels(chain.A)  # the order the markets settle in
        self.stages_per_run = chain.n_stages
        self.n_stages = runs * chain.n_stages
        for name in PER_STAGE:
            setattr(self, name, np.tile(getattr(chain, name), runs))


MODEL_BYTES = 256 << 20  # runs side by side: at most about this much memory for one batched model
MAX_RUNS = 200  # ... and at most this many runs in it (beyond, the per-year costs are already small)
ROW_BYTES = 8 * 24 * 2  # a firm row: about 24 eight-byte fields, and as much again in a year's temporaries
RECORD_BYTES_PER_CELL_YEAR = 8 * 40  # what the recorder keeps a year per cell (sums and coefficients)


def runs_that_fit(scenario, budget_bytes: int = MODEL_BYTES) -> int:
    """How many runs of ``scenario`` one batched model holds within ``budget_bytes``: its firm rows
    (the initial firms with room for entry, twice) and its records, per run."""
    spec, chain = scenario.spec, scenario.chain
    firms = float(np.maximum(np.rint(chain.initial_firms * spec.firms.scale), spec.firms.min_per_stage).sum())
    rows = 2.0 * firms + 3 * chain.n_stages * 64  # entry room and spare slots (``model.ENTRY_ROOM_YEARS``)
    per_run = rows * ROW_BYTES + spec.horizon.years * 3 * chain.n_stages * RECORD_BYTES_PER_CELL_YEAR
    return int(max(1, min(MAX_RUNS, budget_bytes // per_run)))


def batch_key(scenario) -> str:
    """Runs of scenarios with the same key can go side by side: the same chain and the same
    scenario apart from the name and the levers' values (each run's levers give its own terms;
    ``coefficients.runs_agree`` and ``stack_terms`` refuse, with ``BatchMismatch``, a batch whose
    levers switch the year's arithmetic in some runs and not in others), with the same years of
    subsidised loans and the same knowledge of the levers' future."""
    from ..economy.levers import interest, is_static
    from ..schema import chain_hash

    spec = scenario.spec
    rest = spec.model_dump(mode="json", exclude={"name", "description", "policy", "seed", "replications"})
    return json.dumps([rest, chain_hash(scenario.chain), interest.subsidy_vintages(spec.policy.interest_subsidy),
                       is_static(spec.policy, spec.horizon.start)], sort_keys=True)


def run_generator(rng) -> np.random.Generator:
    """The generator a run alone owns (``mesa.Model(rng=...)``, after ``ValueChainModel`` turns a
    ``SeedSequence`` into a generator): a run beside others draws exactly what it would alone."""
    if isinstance(rng, np.random.SeedSequence):
        rng = np.random.default_rng(rng)
    return mesa.Model(rng=rng).rng


def stack_terms(per_run: list[CellTerms]) -> CellTerms:
    """The runs' terms side by side: their (stage, zone) tables one after the other, the scenario's
    scalars and shared tables from the first (one run: its terms unchanged).

    Runs of one policy share one terms object: each table is stacked once per distinct object and
    repeated for its runs with one ``take``."""
    if len(per_run) == 1:
        return per_run[0]
    first = per_run[0]
    distinct = list({id(t): t for t in per_run}.values())
    which = np.array([next(i for i, d in enumerate(distinct) if d is t) for t in per_run]) if len(distinct) > 1 \
        else np.zeros(len(per_run), dtype=np.int64)
    values = {}
    for f in fields(CellTerms):
        value = getattr(first, f.name)
        if isinstance(value, np.ndarray) and f.name not in SHARED_TERMS:
            tables = np.stack([getattr(t, f.name) for t in distinct])
            value = tables.take(which, axis=0).reshape((-1,) + value.shape[1:])
        elif any(t is not first and not np.array_equal(getattr(t, f.name), value) for t in distinct):
            raise BatchMismatch(f"runs side by side differ in {f.name}",
                                np.take(same_value_labels([getattr(t, f.name) for t in distinct]), which))
        values[f.name] = value
    return CellTerms(**values)


def same_value_labels(values: list) -> list[int]:
    """Per value, the position of the first equal one (``np.array_equal``; a value equal to none
    before it, a NaN among them, is its own)."""
    return [next((i for i, v in enumerate(values[:j]) if np.array_equal(v, value)), j)
            for j, value in enumerate(values)]


def stack_prices(prices: YearPrices, runs: int, stages_per_run: int) -> YearPrices:
    """Prices by run, from arrays by stage (the same for every run) or (runs, stages), as one
    array of runs x stages each."""
    shape = (runs, stages_per_run)
    return YearPrices(**{f.name: np.broadcast_to(getattr(prices, f.name), shape).reshape(-1)
                         for f in fields(YearPrices)})
