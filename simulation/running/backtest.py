"""The back-test runs: the recorded policy history and its no-policy counterfactual from 2014.

Both scenarios (``history_2014_recorded``, ``history_2014_counterfactual``) run with the same
seed, replications and, with ``parameter_draws``, the same parameter draws, so they pair run for
run. An override of a ``policy.`` key changes the recorded history only: the counterfactual is the
history without any policy, so only the chain, firm and shock keys reach both. Scoring and plotting
are in ``analysis.backtest``.
"""

from __future__ import annotations

from ..config.scenario import load_scenario
from .backtest_defaults import BACKTEST_REPLICATIONS  # noqa: F401  (the command's default, re-exported)
from .draws import run_with_draws
from .runner import Results, run_scenario

RECORDED = "history_2014_recorded"
COUNTERFACTUAL = "history_2014_counterfactual"


def run_history(replications: int | None = None, parameter_draws: int = 0, seed: int | None = None,
                overrides: list[str] | None = None, workers: int = 1,
                recorded: str = RECORDED, counterfactual: str = COUNTERFACTUAL) -> dict[str, Results]:
    """``{"recorded": Results, "counterfactual": Results}``; ``overrides`` are ``KEY=VALUE``, for
    both scenarios except ``policy.`` keys, which change the recorded history only
    (:func:`overrides_for`)."""
    out = {}
    for key, name in (("recorded", recorded), ("counterfactual", counterfactual)):
        scenario = load_scenario(name, overrides_for(key, overrides or []))
        if parameter_draws:
            out[key] = run_with_draws(scenario, parameter_draws, replications=replications, seed=seed,
                                      workers=workers)
        else:
            out[key] = run_scenario(scenario, replications=replications, seed=seed, workers=workers)
    return out


def overrides_for(key: str, overrides: list[str]) -> list[str]:
    """The ``KEY=VALUE`` overrides one back-test scenario takes: all of them for the recorded history
    (``key`` "recorded"); for the no-policy counterfactual all but the ``policy.`` keys, so that a
    policy tried on the history is measured against no policy."""
    if key == "recorded":
        return list(overrides)
    return [o for o in overrides if not o.split("=", 1)[0].strip().startswith("policy.")]
