"""The back-test runs: the recorded policy history and its no-policy counterfactual from 2014.

Both scenarios (``history_2014_recorded``, ``history_2014_counterfactual``) run with the same
seed, replications and, with ``parameter_draws``, the same parameter draws, so they pair run for
run. Scoring and plotting are in ``analysis.backtest``.
"""

from __future__ import annotations

from ..config.scenario import load_scenario
from .draws import run_with_draws
from .runner import Results, run_scenario

RECORDED = "history_2014_recorded"
COUNTERFACTUAL = "history_2014_counterfactual"


def run_history(replications: int | None = None, parameter_draws: int = 0, seed: int | None = None,
                overrides: list[str] | None = None, workers: int = 1,
                recorded: str = RECORDED, counterfactual: str = COUNTERFACTUAL) -> dict[str, Results]:
    """``{"recorded": Results, "counterfactual": Results}``; ``overrides`` are ``KEY=VALUE`` for both."""
    out = {}
    for key, name in (("recorded", recorded), ("counterfactual", counterfactual)):
        scenario = load_scenario(name, overrides or [])
        if parameter_draws:
            out[key] = run_with_draws(scenario, parameter_draws, replications=replications, seed=seed,
                                      workers=workers)
        else:
            out[key] = run_scenario(scenario, replications=replications, seed=seed, workers=workers)
    return out
