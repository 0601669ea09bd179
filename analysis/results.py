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
    """Chain inputs bought locally / all chain inputs, in units valued at the seller's price.

    Local purchases equal local sales of the supplying stages; imported chain inputs are
    valued at their delivered cost, so the ratio is ``local value / (local + imported)``.
    """
    by = KEYS + (by or [])
    local_value = (stages.local_sales * stages.price).groupby([stages[k] for k in by]).sum() * 1e-6
    imported = stages.groupby(by).imported_inputs.sum()
    return (local_value / (local_value + imported)).rename("local_sourcing_ratio")


def per_fiscal_cost(stages: pd.DataFrame, fiscal: pd.DataFrame, baseline_stages: pd.DataFrame,
                    baseline_fiscal: pd.DataFrame, metric: str = "value_added") -> pd.DataFrame:
    """Change in ``metric`` (summed over the horizon) per 10,000 yuan of extra fiscal cost, by replication.

    Paired by replication (common random numbers). Money metrics (million yuan) give yuan per
    10,000 yuan of fiscal cost; ``employment`` (workers, summed over years = job-years) gives
    job-years per 10,000 yuan.
    """
    def totals(st, fc):
        m = st.groupby("replication")[metric].sum()
        c = fc.groupby("replication").fiscal_cost.sum()
        return m, c

    m1, c1 = totals(stages, fiscal)
    m0, c0 = totals(baseline_stages, baseline_fiscal)
    d_metric, d_cost = m1 - m0, c1 - c0
    metric_scale = 1.0 if metric in ("employment", "firms", "entries", "exits") else 1e6  # money: million yuan
    per_10k = d_metric * metric_scale / (d_cost * 1e6) * 1e4
    return pd.DataFrame({f"delta_{metric}": d_metric, "delta_fiscal_cost": d_cost, f"{metric}_per_10k_yuan": per_10k})
