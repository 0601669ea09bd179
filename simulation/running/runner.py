"""Replications of a scenario: child seeds, an executor, tidy results.

Replication k runs with the k-th child of ``numpy.random.SeedSequence(seed)`` (common random
numbers: replication k of any scenario with the same seed sees the same random stream).
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config.scenario import LoadedScenario
from ..schema import keys_first


@dataclass
class Results:
    """Tidy results of one scenario: ``stages`` (year x stage metrics), ``fiscal`` (by lever), ``runs``."""

    scenario: LoadedScenario
    stages: pd.DataFrame
    fiscal: pd.DataFrame
    runs: pd.DataFrame
    meta: dict = field(default_factory=dict)


def child_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(n)


def run_replication(scenario: LoadedScenario, replication: int, seed: np.random.SeedSequence,
                    engine: str = "vectorized") -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """One run of the model; returns (stage frame, fiscal frame, run record)."""
    from ..abm.model import ValueChainModel

    t0 = time.perf_counter()
    model = ValueChainModel(scenario, rng=seed, engine=engine, replication=replication)
    model.run()
    keys = {"scenario": scenario.name, "replication": replication}
    stages = model.recorder.stage_frame().assign(**keys)
    fiscal = model.recorder.fiscal_frame().assign(**keys)
    record = {**keys, "seed": scenario.spec.seed, "spawn_key": list(seed.spawn_key),
              "status": "ok", "duration_s": time.perf_counter() - t0}
    order = ["scenario", "replication", "year", "sector", "stage", "tier"]
    stages, fiscal = keys_first(stages, order), keys_first(fiscal, order)
    return stages, fiscal, record


def run_scenario(scenario: LoadedScenario, replications: int | None = None, seed: int | None = None,
                 workers: int = 1, executor: Executor | None = None, engine: str = "vectorized") -> Results:
    """Run all replications of ``scenario`` (serially, on a process pool, or on ``executor``)."""
    updates = {}
    if replications is not None:
        updates["replications"] = replications
    if seed is not None:
        updates["seed"] = seed
    if updates:
        scenario = scenario.with_overrides(**updates)
    spec = scenario.spec
    seeds = child_seeds(spec.seed, spec.replications)
    started = time.time()
    if executor is None and workers <= 1:
        outs = [run_replication(scenario, k, s, engine) for k, s in enumerate(seeds)]
    else:
        from .executors import process_pool

        own = executor is None
        pool = executor or process_pool(workers)
        try:
            futures = [pool.submit(run_replication, scenario, k, s, engine) for k, s in enumerate(seeds)]
            outs = [f.result() for f in futures]
        finally:
            if own:
                pool.shutdown()
    stages = pd.concat([o[0] for o in outs], ignore_index=True)
    fiscal = pd.concat([o[1] for o in outs], ignore_index=True)
    runs = pd.DataFrame([o[2] for o in outs])
    return Results(scenario, stages, fiscal, runs, {"started": started, "finished": time.time()})
