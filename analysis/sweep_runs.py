"""The points of a sweep as runs, read one point at a time (``compare``, ``cost`` and the plots on a sweep).

:func:`analysis.runs_from_sweep` of a loaded sweep holds every stage-year of every run at once
(``load_sweep``). :class:`SweepRuns` is the same mapping, label -> :class:`~analysis.compare.Run`,
built from the sweep's index only: a point's runs are read (only their row groups, each batch
file's SHA-256 checked once; the last row group decoded is kept for the next point, whose runs
it often holds: ``sweep.LastRowGroup``) when the point is asked for, and dropped when the caller drops it, so
``compare_many``, ``cost_report`` and ``plot_paths`` reduce each point to its outcomes while reading
and hold one point's stage-years at a time, whatever the size of the sweep. A point read this way
equals the same point of ``runs_from_sweep(load_sweep(directory))``, frame for frame
(``tests/test_sweep_streaming.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa

from .results import verify_file
from .run import Run, point_label
from .sweep import (
    BATCH_FILE,
    OLD_RUN_FILE,
    TIDY_KEYS,
    LastRowGroup,
    _read_manifest,
    _read_runs,
    load_sweep_index,
    verify_store,
)


class SweepRuns(Mapping):
    """label -> :class:`Run` of each point of a finished sweep with a finished run, in point order
    (the labels of :func:`analysis.runs_from_sweep`), read when asked for."""

    def __init__(self, directory: str | Path):
        from .comparable import point_scenario

        self.directory = Path(directory)
        verify_store(self.directory, _read_manifest(self.directory, allow_incomplete=False))
        self.sweep = load_sweep_index(self.directory)
        runs = self.sweep.runs
        ok = runs[runs.status == "ok"]
        self._ok = {int(p): g for p, g in ok.groupby("point", sort=True)}
        self._all = {int(p): g for p, g in runs.groupby("point")}
        points = self.sweep.points.set_index("point")
        self._params = self.sweep.points.drop(columns=["overrides", "name"])
        self._labels: dict[str, int] = {}
        self._scenario: dict[int, dict] = {}
        for p in self._ok:
            row = points.loc[p] if p in points.index else pd.Series(dtype=object)
            label = point_label(row, self.sweep.parameters, p)
            label = label if label not in self._labels else f"{label} (point {p})"
            self._labels[label] = p
            self._scenario[p] = point_scenario(self.sweep.manifest.get("base_scenario", {}), row.get("overrides"))
        self._verified: set[str] = set()
        self._cache = LastRowGroup()  # the last row group read: the next point's runs are often in it

    def __len__(self) -> int:
        return len(self._labels)

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def source(self, label: str) -> str:
        """Where the point's run comes from, for messages (``Run.source``), without reading it."""
        return f"{self.sweep.manifest.get('name', 'sweep')}: {label}"

    def __getitem__(self, label: str) -> Run:
        p = self._labels[label]
        ok = self._ok[p]
        check = "sha256" in ok.columns  # stores from before checksums have none
        if check:
            shas = ok["file_sha256"] if "file_sha256" in ok.columns else ok["sha256"]
            for file, sha in zip(ok["file"], shas):
                ours = BATCH_FILE.fullmatch(str(file)) or OLD_RUN_FILE.fullmatch(str(file))
                if file not in self._verified and ours:  # another name: _read_runs refuses it
                    verify_file(self.directory / str(file), sha)
                    self._verified.add(file)
        stages, fiscal = [], []
        for st, fc, _ in _read_runs(self.directory, ok, verify=False, cache=self._cache):  # checked above, once
            stages.append(st)
            fiscal.append(fc)
        manifest = {**self.sweep.manifest, "scenario": self._scenario[p]}
        return Run(self._tidy(stages, label), self._tidy(fiscal, label), self._all[p], manifest, self.source(label))

    def _tidy(self, tables: list[pa.Table], label: str) -> pd.DataFrame:
        """The point's rows as ``load_sweep`` gives them (runs in (point, replication) order, the
        parameters joined), ``scenario`` set to the point's label (:func:`runs_from_sweep`)."""
        from ..simulation.schema import keys_first

        if not tables:
            return pd.DataFrame(columns=TIDY_KEYS)
        frame = pa.concat_tables(tables).to_pandas()
        frame = frame.sort_values(["point", "replication"], kind="stable", ignore_index=True)
        frame = frame.merge(self._params, on="point", how="left")
        frame = keys_first(frame, ["scenario", "point", *[c for c in self._params.columns if c != "point"]])
        return frame.assign(scenario=label)
