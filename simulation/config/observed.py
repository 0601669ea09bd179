"""Observed series for the back-test: the record (CSV, one row per series and year) and how the
model's results map onto each series (YAML).

``scenarios/observed/xinjiang_record.csv`` has the columns ``series, year, value, unit, source,
use, note``; every row needs a source, a unit and a year, and ``use`` follows the calibration rule
of docs/calibration.md §1: ``calibration`` for years up to 2017, ``validation`` from 2018. The
mapping file ``scenarios/observed/xinjiang_series.yaml`` defines each series as
``factor x sum(column over stages)``, or the ratio of two such sums, with the source of its factor,
and its ``timing``: ``in_year`` (the model's value of the year), ``end_of_year`` (a stock at the
year's end) or ``as_spent`` (investment when it is spent), the last two by the file's
``build_timing`` (docs/calibration.md §14.10). A bad row or key is one line naming the file and
the row (:class:`InputError`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from .base import StrictModel
from .builtin import data_dir
from .errors import InputError
from .yamlio import load_yaml_mapping

LAST_CALIBRATION_YEAR = 2017  # docs/calibration.md §1: data up to 2017 calibrate, 2018 on validate
COLUMNS = ("series", "year", "value", "unit", "source", "use", "note")
SERIES_NAME = r"^[a-z][a-z0-9_]*$"


class _Strict(StrictModel):
    """Unknown keys, booleans as numbers and NaN/infinity refused (config.base.StrictModel)."""


class ObservedRow(_Strict):
    """One recorded value: a series in one year, with its unit, source and use."""

    series: str = Field(pattern=SERIES_NAME)
    year: int = Field(ge=1900, le=2200)
    value: float
    unit: str = Field(min_length=1)
    source: str = Field(min_length=1)
    use: Literal["calibration", "validation"]
    note: str = ""

    @field_validator("use")
    @classmethod
    def _use_follows_the_year(cls, use: str, info: ValidationInfo) -> str:
        year = info.data.get("year")
        if year is None:
            return use
        expected = "calibration" if year <= LAST_CALIBRATION_YEAR else "validation"
        if use != expected:
            raise ValueError(f"use must be '{expected}' for {year} (calibration up to "
                             f"{LAST_CALIBRATION_YEAR}, validation from {LAST_CALIBRATION_YEAR + 1})")
        return use


class StageSum(_Strict):
    """The sum of one results column over some stages."""

    column: str = Field(min_length=1)
    stages: list[str] = Field(min_length=1)


Timing = Literal["in_year", "end_of_year", "as_spent"]


class SeriesSpec(_Strict):
    """How the model's stage results map onto one observed series."""

    unit: str = Field(min_length=1)
    label: str = Field(min_length=1)
    numerator: StageSum
    denominator: StageSum | None = None
    factor: float = Field(gt=0)
    factor_source: str = Field(min_length=1)
    timing: Timing = "in_year"


class BuildTiming(_Strict):
    """How long a model order takes to build beyond its build lag, read by the ``end_of_year``
    and ``as_spent`` series (``analysis.build_timing``)."""

    construction_months: float = Field(gt=0, lt=12)
    source: str = Field(min_length=1)


class SeriesFile(_Strict):
    record: str = Field(min_length=1)
    textile_manufacturing: list[str] = Field(default_factory=list)  # a YAML anchor, kept for readers
    build_timing: BuildTiming | None = None
    series: dict[str, SeriesSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Observed:
    """The record (validated rows) and the series mapping, checked against each other."""

    rows: tuple[ObservedRow, ...]
    series: dict[str, SeriesSpec]
    record_file: str
    series_file: str
    build_timing: BuildTiming | None = None

    def frame(self):
        """The record as a DataFrame with the columns of the CSV."""
        import pandas as pd

        return pd.DataFrame([r.model_dump() for r in self.rows], columns=list(COLUMNS))


def default_series_file() -> Path:
    return data_dir() / "observed" / "xinjiang_series.yaml"


def load_record(path: str | Path) -> tuple[ObservedRow, ...]:
    """Read and validate the record CSV; the first bad row is an :class:`InputError` naming it."""
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise InputError(file, "", "no such file")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = tuple(reader.fieldnames or ())
        missing = [c for c in COLUMNS if c != "note" and c not in header]
        if missing:
            raise InputError(file, "header", f"missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
        unknown = [c for c in header if c not in COLUMNS]
        if unknown:
            raise InputError(file, "header", f"unknown column(s) {', '.join(unknown)}; expected {', '.join(COLUMNS)}")
        rows, seen = [], set()
        for line, raw in enumerate(reader, start=2):  # line 1 is the header
            data = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            data = {k: v for k, v in data.items() if v != "" or k in ("source", "unit", "note")}
            label = f"row {line}" + (f" ({data.get('series')} {data.get('year')})" if data.get("series") else "")
            try:
                row = ObservedRow.model_validate(data)
            except ValidationError as exc:
                err = exc.errors()[0]
                key = ".".join(str(p) for p in err["loc"]) or "row"
                msg = err["msg"].removeprefix("Value error, ")
                if err["type"] == "missing":
                    msg = "is required"
                elif err["type"] == "string_too_short":
                    msg = "must not be empty"
                raise InputError(file, f"{label}: {key}", msg, err.get("input") if err["type"] != "missing" else None,
                                 show_got=err["type"] not in ("missing", "string_too_short")) from None
            if (row.series, row.year) in seen:
                raise InputError(file, label, "a second row for this series and year")
            seen.add((row.series, row.year))
            rows.append(row)
    if not rows:
        raise InputError(file, "", "no rows")
    return tuple(rows)


def load_observed(series_file: str | Path | None = None) -> Observed:
    """The series mapping and the record it names (relative to the mapping file), cross-checked."""
    path = Path(series_file) if series_file is not None else default_series_file()
    file = str(path)
    data = load_yaml_mapping(path)
    try:
        spec = SeriesFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(file, ".".join(str(p) for p in err["loc"]), err["msg"]) from None
    from ..schema import STAGE_COLUMNS  # here: the schema imports the levers, which import the config

    for name, s in spec.series.items():
        for part in ("numerator", "denominator"):
            summed = getattr(s, part)
            if summed is not None and summed.column not in STAGE_COLUMNS:
                raise InputError(file, f"series.{name}.{part}.column",
                                 f"not a column of the results' stage table; choose from {', '.join(STAGE_COLUMNS)}",
                                 summed.column)
        if s.timing != "in_year" and spec.build_timing is None:
            raise InputError(file, f"series.{name}.timing",
                             f"'{s.timing}' needs build_timing (construction_months, source)")
        if s.timing != "in_year" and s.denominator is not None:
            raise InputError(file, f"series.{name}.timing", f"'{s.timing}' applies to a sum, not to a ratio")
        if s.timing == "as_spent" and s.numerator.column != "investment":
            raise InputError(file, f"series.{name}.numerator.column", "'as_spent' spreads the investment column",
                             s.numerator.column)
    record_path = (path.parent / spec.record).resolve()
    rows = load_record(record_path)
    for row in rows:
        s = spec.series.get(row.series)
        if s is None:
            raise InputError(str(record_path), f"{row.series} {row.year}",
                             f"series not defined in {path.name} (known: {', '.join(sorted(spec.series))})")
        if row.unit != s.unit:
            raise InputError(str(record_path), f"{row.series} {row.year}: unit",
                             f"differs from the series' unit '{s.unit}' in {path.name}", row.unit)
    return Observed(rows, dict(spec.series), str(record_path), file, spec.build_timing)


def check_stages(observed: Observed, stage_names: set[str] | list[str], chain_name: str = "the chain") -> None:
    """Every stage a series reads must exist in the chain the model ran."""
    names = set(stage_names)
    for name, s in observed.series.items():
        for part in ("numerator", "denominator"):
            ss = getattr(s, part)
            if ss is None:
                continue
            for stage in ss.stages:
                if stage not in names:
                    raise InputError(observed.series_file, f"series.{name}.{part}.stages",
                                     f"stage '{stage}' is not in {chain_name}")
