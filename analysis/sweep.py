"""Loading a sweep's results (written by ``valuechain sweep`` / ``simulation.run_sweep``).

The tidy frames have the keys ``scenario, point, <varied keys>, replication, year, sector,
stage, tier`` followed by the metrics (stages) or ``lever, fiscal_cost`` (fiscal). Replication
``k`` of every point shares its random stream (common random numbers), so point-minus-point
differences taken within a replication are paired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..simulation.schema import keys_first

TIDY_KEYS = ["scenario", "point", "replication", "year", "sector", "stage", "tier"]


@dataclass
class SweepResults:
    """A sweep directory: tidy ``stages`` and ``fiscal`` frames joined with the parameters,
    the ``runs`` index, the ``points`` table and the ``manifest`` (``sweep.json`` if unfinished)."""

    stages: pd.DataFrame
    fiscal: pd.DataFrame
    runs: pd.DataFrame
    points: pd.DataFrame
    manifest: dict

    @property
    def parameters(self) -> list[str]:
        """The varied dotted scenario keys (the parameter columns)."""
        return list(self.manifest.get("parameters", []))


def _split(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stage and fiscal rows of one run file."""
    table = pq.read_table(path)
    columns = json.loads(table.schema.metadata[b"valuechain.run"])["columns"]
    frames = []
    for name in ("stages", "fiscal"):
        part = table.filter(pc.equal(table["table"], name)).select(columns[name])
        frames.append(part.to_pandas())
    return frames[0], frames[1]


def load_sweep(directory: str | Path, allow_incomplete: bool = False) -> SweepResults:
    """Read a sweep directory; only runs with ``status == "ok"`` contribute rows.

    Without ``allow_incomplete`` the sweep must have finished (``manifest.json`` exists);
    with it, the runs finished so far are loaded (e.g. to look at an interrupted sweep).
    """
    d = Path(directory)
    manifest_path = d / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
    elif allow_incomplete and (d / "sweep.json").exists():
        manifest = json.loads((d / "sweep.json").read_text())
    else:
        raise FileNotFoundError(f"{d}: no manifest.json (not a finished sweep; allow_incomplete=True to "
                                f"load the runs finished so far)")
    runs = pd.read_parquet(d / "runs.parquet")
    points = pd.read_parquet(d / "points.parquet")
    ok = runs[runs.status == "ok"]
    stages, fiscal = [], []
    for file in ok.file:
        st, fc = _split(d / file)
        stages.append(st)
        fiscal.append(fc)
    params = points.drop(columns=["overrides", "name"])

    def tidy(frames: list[pd.DataFrame]) -> pd.DataFrame:
        if not frames:
            return pd.DataFrame(columns=TIDY_KEYS)
        frame = pd.concat(frames, ignore_index=True).merge(params, on="point", how="left")
        first = ["scenario", "point", *[c for c in params.columns if c != "point"]]
        return keys_first(frame, first)

    return SweepResults(tidy(stages), tidy(fiscal), runs, points, manifest)
