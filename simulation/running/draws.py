"""Runs that cover parameter uncertainty: N parameter draws x R replications.

Draw ``d`` (a Latin-hypercube point over ``scenarios/parameters/firms_ranges.yaml``, seeded by
the scenario's seed) sets the firms' behavioural keys; replication ``r`` of every draw runs with
the r-th child of ``numpy.random.SeedSequence(seed)``, exactly as ``run_scenario`` does, so draws
share their random numbers (common random numbers: differences between draws are the
parameters', not the noise's). The runs are numbered ``replication = d x R + r``; ``runs`` holds
``draw``, ``draw_replication`` and the drawn values. A scenario run the same way (same seed,
draws and replications) pairs run for run with this one.
"""

from __future__ import annotations

import time

import pandas as pd

from ..config.parameters import ParameterRanges, draw_parameters, load_parameter_ranges, split_key
from ..config.scenario import LoadedScenario
from .runner import Results, child_seeds, run_replication

INTERVAL_REPLICATIONS = "replications"
INTERVAL_PARAMETERS = "parameters+replications"


def run_with_draws(scenario: LoadedScenario, parameter_draws: int, replications: int | None = None,
                   seed: int | None = None, workers: int = 1, engine: str = "vectorized",
                   ranges: ParameterRanges | None = None) -> Results:
    """All ``parameter_draws x replications`` runs of ``scenario`` as one :class:`Results`."""
    updates = {k: v for k, v in (("replications", replications), ("seed", seed)) if v is not None}
    if updates:
        scenario = scenario.with_overrides(**updates)
    ranges = ranges or load_parameter_ranges()
    spec = scenario.spec
    draws = draw_parameters(ranges, parameter_draws, spec.seed)
    seeds = child_seeds(spec.seed, spec.replications)
    blocks = {"firms": spec.firms.model_dump(), "shocks": spec.shocks.model_dump()}
    jobs = []
    for d, values in enumerate(draws):
        drawn = {block: dict(current) for block, current in blocks.items()}
        for key, value in values.items():
            block, name = split_key(key)
            drawn[block][name] = value
        sc = scenario.with_overrides(**drawn)
        jobs += [(sc, d * spec.replications + r, s, d, r) for r, s in enumerate(seeds)]
    started = time.time()
    if workers <= 1:
        outs = [run_replication(sc, k, s, engine) for sc, k, s, _, _ in jobs]
    else:
        from .executors import process_pool

        pool = process_pool(workers)
        try:
            futures = [pool.submit(run_replication, sc, k, s, engine) for sc, k, s, _, _ in jobs]
            outs = [f.result() for f in futures]
        finally:
            pool.shutdown()
    records = []
    for (_, _, _, d, r), out in zip(jobs, outs):
        records.append({**out[2], "draw": d, "draw_replication": r,
                        **{".".join(split_key(k)): v for k, v in draws[d].items()}})
    meta = {
        "started": started,
        "finished": time.time(),
        "manifest_extra": {
            "interval": INTERVAL_PARAMETERS,
            "interval_note": (f"{parameter_draws} parameter draw(s) x {spec.replications} replication(s): "
                              "runs differ in the firms' behavioural parameters and in their random numbers"),
            "parameter_draws": draws,
            "parameter_ranges_file": ranges.file,
            "parameter_ranges": {k: r.model_dump() for k, r in ranges.drawn.items()},
            "runs": len(jobs),
        },
    }
    return Results(scenario,
                   pd.concat([o[0] for o in outs], ignore_index=True),
                   pd.concat([o[1] for o in outs], ignore_index=True),
                   pd.DataFrame(records), meta)
