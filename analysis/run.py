"""A run set with where it came from, the chain it used, and the label of a sweep's point (shared by
``compare``, ``fiscal`` and ``sweep_runs``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Run:
    """A run set with where it came from (a directory or a scenario name), for messages."""

    stages: pd.DataFrame
    fiscal: pd.DataFrame
    runs: pd.DataFrame
    manifest: dict
    source: str

    @property
    def name(self) -> str:
        names = self.stages["scenario"].unique() if "scenario" in self.stages else []
        return str(names[0]) if len(names) == 1 else self.source

    @property
    def label(self) -> str:
        """The name for titles: a run made with ``--set`` and no ``--name`` shows its overrides,
        e.g. ``baseline with policy.electricity_price.default=0.30``."""
        overrides = self.manifest.get("overrides") or []
        in_file = self.manifest.get("scenario_name_in_file")
        if overrides and in_file and self.name not in (in_file,) and self.name.startswith(in_file):
            return f"{in_file} with {', '.join(overrides)}"
        return self.name


def run_chain(run: Run):
    """The chain a run used (from its manifest's ``chain_file``), or None."""
    from ..simulation.config.chain import load_chain
    from ..simulation.config.errors import InputError

    path = run.manifest.get("chain_file")
    try:
        return load_chain(path) if path else None
    except (InputError, OSError):
        return None


def point_label(row: Mapping, parameters: list[str], point: int) -> str:
    """A sweep point's label: its mix name, else ``key=value`` of each varied key (the last part of
    the dotted key, e.g. ``default=0.3, yuan_per_t=500``), else ``point <i>``."""
    name = row.get("name") if hasattr(row, "get") else None
    if isinstance(name, str) and name:
        return name
    parts = []
    for key in parameters:
        v = row.get(key) if hasattr(row, "get") else None
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            continue
        short = ".".join(key.split(".")[-2:]) if key.split(".")[-1] in ("default", "scale") else key.split(".")[-1]
        parts.append(f"{short}={v:.4g}" if isinstance(v, (int, float, np.number)) else f"{short}={v}")
    return ", ".join(parts) if parts else f"point {point}"
