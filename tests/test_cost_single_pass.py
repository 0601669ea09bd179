"""``cost_report`` reads each scenario once (a sweep's points one at a time) and reduces the
deadweight and the direct/indirect effects in that one pass: the tables equal the scenario-by-scenario
definitions (:func:`deadweight`, and the effects computed lever by lever from
:func:`targeted_stages` and the stage sums, the way ``direct_indirect`` did before it reduced each
metric once for every lever)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest
from sweep_mixes import SMALL, mix_sweep, sweep_and_base
from valuechain.analysis import cost_report, load_sweep, runs_from_sweep
from valuechain.analysis.compare import as_run, summarize, yearly
from valuechain.analysis.fiscal import run_chain
from valuechain.analysis.impacts import _lever_costs, deadweight, io_indirect_value_added, targeted_stages
from valuechain.analysis.sweep_runs import SweepRuns
from valuechain.simulation import schema

MIX = mix_sweep(
    f"  - {{name: power_030, set: {{{SMALL}, policy.electricity_price.default: 0.30}}}}\n",
)
METRICS = ("value_added", "employment", "investment")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("single_pass")
    return sweep_and_base(d, MIX)


class Counting(Mapping):
    """A mapping that counts how often each key's value is read."""

    def __init__(self, inner: Mapping):
        self.inner, self.reads = inner, {}

    def __getitem__(self, key):
        self.reads[key] = self.reads.get(key, 0) + 1
        return self.inner[key]

    def __iter__(self):
        return iter(self.inner)

    def __len__(self) -> int:
        return len(self.inner)


def effects_lever_by_lever(name: str, run, base, chain, confidence: float = 0.95) -> list[dict]:
    """The direct/indirect rows of one scenario, each lever's stage sums computed afresh."""
    dc = _lever_costs(run, base)
    active = [lv for lv in schema.LEVERS if dc[lv].abs().max() > 1e-12]
    rows = []
    for lv in [None] + (active if len(active) > 1 else []):
        target = targeted_stages(run, base, lv)
        for metric in METRICS:
            y1 = yearly(run, metric, "stage").groupby(["stage", "replication"])[metric].sum()
            y0 = yearly(base, metric, "stage").groupby(["stage", "replication"])[metric].sum()
            d = y1.sub(y0, fill_value=0.0)
            reps = sorted(set(y1.index.get_level_values(1)) & set(y0.index.get_level_values(1)))
            inside = d.index.get_level_values("stage").isin(target)
            direct = d[inside].groupby(level="replication").sum().reindex(reps, fill_value=0.0)
            indirect = d[~inside].groupby(level="replication").sum().reindex(reps, fill_value=0.0)
            row = {"scenario": name, "lever": lv or "all", "metric": metric, "n": len(reps),
                   "targeted": ", ".join(target)}
            for key, series in (("direct", direct), ("indirect", indirect), ("total", direct + indirect)):
                s = summarize(series.to_numpy(), confidence)
                row.update({key: s["effect"], f"{key}_low": s["ci_low"], f"{key}_high": s["ci_high"]})
            if metric == "value_added":
                dx = (yearly(run, "output", "stage").groupby("stage")["output"].sum()
                      - yearly(base, "output", "stage").groupby("stage")["output"].sum()) / len(reps)
                row["io_indirect"] = io_indirect_value_added(chain, dx.reindex(target).fillna(0.0))
            rows.append(row)
    return rows


def test_cost_report_reads_each_point_of_a_sweep_once(sweep) -> None:
    d, base = sweep
    points = Counting(SweepRuns(d))
    cost_report(points, base)
    assert points.reads == {label: 1 for label in points.inner}


def test_cost_report_deadweight_and_effects_equal_their_scenario_by_scenario_definitions(sweep) -> None:
    d, base_dir = sweep
    whole = runs_from_sweep(load_sweep(d))
    base = as_run(base_dir)
    report = cost_report(SweepRuns(d), base)
    dw = pd.concat([deadweight({name: run}, base) for name, run in whole.items()], ignore_index=True)
    pd.testing.assert_frame_equal(report.deadweight, dw, check_exact=True)
    chain = run_chain(base)
    rows = [r for name, run in whole.items() for r in effects_lever_by_lever(name, run, base, chain)]
    assert {r["lever"] for r in rows} > {"all"}  # the mix of four levers has a row per active lever
    pd.testing.assert_frame_equal(report.effects, pd.DataFrame(rows), check_exact=True)
