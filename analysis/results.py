"""Loading results and the derived measures: processing depth, local sourcing, yield per yuan."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass
class RunSet:
    """A results directory: ``stages`` and ``fiscal`` tidy frames, ``runs`` and the ``manifest``."""

    stages: pd.DataFrame
    fiscal: pd.DataFrame
    runs: pd.DataFrame
    manifest: dict


def load_results(directory: str | Path) -> RunSet:
    """Read a run set written by ``valuechain run`` (or ``simulation.store.write_results``)."""
    d = Path(directory)
    manifest_path = d / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"{d}: no manifest.json (not a finished results directory)")
    files = sorted(d.glob("stages_rep*.parquet"))
    stages = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return RunSet(stages, pd.read_parquet(d / "fiscal_cost.parquet"), pd.read_parquet(d / "runs.parquet"),
                  json.loads(manifest_path.read_text()))


KEYS = ["scenario", "replication", "year"]


def processing_depth(stages: pd.DataFrame, by: list[str] | None = None) -> pd.Series:
    """Share of value added made in downstream (``tier == 'deep'``) stages."""
    by = KEYS + (by or [])
    va = stages.groupby(by).value_added.sum()
    deep = stages[stages.tier == "deep"].groupby(by).value_added.sum().reindex(va.index, fill_value=0.0)
    return (deep / va).rename("processing_depth")


def local_sourcing_ratio(stages: pd.DataFrame, by: list[str] | None = None) -> pd.Series:
    """Chain inputs bought from local suppliers / all chain inputs bought, in value.

    ``local_inputs`` (at the local price) over ``local_inputs + imported_inputs`` (at the
    delivered import price), both recorded for the buying stage.
    """
    by = KEYS + (by or [])
    sums = stages.groupby(by)[["local_inputs", "imported_inputs"]].sum()
    return (sums.local_inputs / (sums.local_inputs + sums.imported_inputs)).rename("local_sourcing_ratio")
