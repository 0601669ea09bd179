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


def check_main_guard(what: str = "run_scenario") -> None:
    """Fail fast where worker processes could not start: the local pool's workers are fresh
    interpreters ("forkserver" or "spawn", ``executors.pool_context``) that import the main script
    again, so a script that calls ``what`` at module level, outside ``if __name__ == "__main__":``,
    would start the work again in every worker (which then fails, run after run). Raised in the
    parent, before any work, and in a worker that is importing such a script. Notebooks,
    ``python -c`` and guarded calls pass."""
    import ast
    import multiprocessing
    import sys

    hint = (f"{what} with workers > 1 starts 'spawn' worker processes that import the main script again: "
            f"put the call under `if __name__ == \"__main__\":` (or use workers=1)")
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(hint + " [raised in a worker importing the script]")
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path or not str(path).endswith(".py"):
        return
    spec_name = getattr(getattr(main, "__spec__", None), "name", "") or ""
    if spec_name == "__main__" or spec_name.endswith(".__main__"):
        return  # ``python -m package``: spawn does not import a package's __main__ again
    frame = sys._getframe(1)
    while frame is not None and not (frame.f_globals is main.__dict__ and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return  # not called from the script's top level (e.g. from a thread or a callback)
    line = frame.f_lineno
    try:
        tree = ast.parse(open(path, encoding="utf-8").read())
    except (OSError, SyntaxError, ValueError):
        return

    def is_guard(node: ast.AST) -> bool:
        if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
            return False
        names = [node.test.left, *node.test.comparators]
        return any(isinstance(n, ast.Name) and n.id == "__name__" for n in names) and \
            any(isinstance(n, ast.Constant) and n.value == "__main__" for n in names)

    guarded = any(is_guard(n) and n.lineno <= line <= (n.end_lineno or n.lineno) for n in ast.walk(tree))
    if not guarded:
        raise RuntimeError(f"{path}, line {line}: {hint}")


def child_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(n)


def run_replication(scenario: LoadedScenario, replication: int, seed: np.random.SeedSequence,
                    engine: str = "vectorized") -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """One run of the model; returns (stage frame, fiscal frame, run record)."""
    return _runs(scenario, [replication], [seed], engine)[0]


def run_replications(scenario: LoadedScenario, replications: list[int], seeds: list[np.random.SeedSequence],
                     engine: str = "vectorized") -> list[tuple[pd.DataFrame, pd.DataFrame, dict]]:
    """Runs of the model, side by side in one batched model (issue 17, ``abm.batch``; the
    reference engine runs them one at a time): per run (stage frame, fiscal frame, run record),
    the same as ``run_replication`` gives for each. A run's ``duration_s`` is its share of the
    batch's time."""
    return _runs(scenario, replications, seeds, engine)


def _runs(scenario: LoadedScenario, replications: list[int], seeds: list[np.random.SeedSequence],
          engine: str) -> list[tuple[pd.DataFrame, pd.DataFrame, dict]]:
    outs = []
    for recorder, run, record in _run_models(scenario, replications, seeds, engine):
        t1 = time.perf_counter()
        keys = {"scenario": scenario.name, "replication": record["replication"]}
        stages = recorder.stage_frame(run).assign(**keys)
        fiscal = recorder.fiscal_frame(run).assign(**keys)
        order = ["scenario", "replication", "year", "sector", "stage", "tier"]
        stages, fiscal = keys_first(stages, order), keys_first(fiscal, order)
        record["duration_s"] += time.perf_counter() - t1
        outs.append((stages, fiscal, record))
    return outs


def run_batch(scenario: LoadedScenario, replications: list[int], seeds: list[np.random.SeedSequence],
              engine: str = "vectorized", scenarios: list[LoadedScenario] | None = None) -> list[tuple]:
    """Runs of the model side by side (one batched model; the reference engine: one at a time);
    per run its recorder, its index in the recorder and its run record (``duration_s``: its share
    of the batch's time). ``scenarios``: one per run (sweep points of one ``abm.batch.batch_key``;
    default: all ``scenario``)."""
    return _run_models(scenario, replications, seeds, engine, scenarios)


def _run_models(scenario: LoadedScenario, replications: list[int], seeds: list[np.random.SeedSequence],
                engine: str, scenarios: list[LoadedScenario] | None = None) -> list[tuple]:
    from ..abm.model import ValueChainModel

    scenarios = scenarios or [scenario] * len(seeds)
    t0 = time.perf_counter()
    if engine != "vectorized" or len(seeds) == 1:
        models = [(ValueChainModel(sc, rng=s, engine=engine, replication=r), 0) for sc, r, s in
                  zip(scenarios, replications, seeds)]
        for model, _ in models:
            model.run()
    else:
        batch = ValueChainModel(scenarios[0], rngs=list(seeds), replication=replications[0], scenarios=scenarios)
        batch.run()
        models = [(batch, run) for run in range(len(seeds))]
    share_s = (time.perf_counter() - t0) / len(seeds)
    return [(model.recorder, run, {"scenario": sc.name, "replication": replication, "seed": sc.spec.seed,
                                   "spawn_key": list(seed.spawn_key), "status": "ok", "duration_s": share_s})
            for (model, run), sc, replication, seed in zip(models, scenarios, replications, seeds)]


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
    if executor is None and workers <= 1:  # in this process: the replications side by side, in batches
        from ..abm.batch import runs_that_fit

        size = runs_that_fit(scenario)
        outs = [out for a in range(0, len(seeds), size)
                for out in run_replications(scenario, list(range(a, min(a + size, len(seeds)))), seeds[a:a + size],
                                            engine)]
    else:
        from .executors import process_pool

        if executor is None:
            check_main_guard("run_scenario")
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
