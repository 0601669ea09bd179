"""Observed series for the back-test: the record (CSV, one row per series and year) and how the
model's results map onto each series (YAML).

``scenarios/observed/xinjiang_record.csv`` has the columns ``series, year, value, unit, source,
use, months, note``; every row needs a source, a unit and a year, and ``use`` follows the calibration
rule of docs/calibration.md §1: ``calibration`` for years up to 2017, ``validation`` from 2018.
``months`` (optional, 1-12, empty for 12) is the part of the year a flow record covers: the
back-test compares it with ``months / 12`` of the model's year; a stock or a ratio series takes
only 12 (docs/calibration.md §14.14). The
mapping file ``scenarios/observed/xinjiang_series.yaml`` defines each series as
``factor x sum(column over stages)``, or the ratio of two such sums, with the source of its factor,
and its ``timing``: ``in_year`` (the model's value of the year), ``end_of_year`` (a stock at the
year's end) or ``as_spent`` (investment when it is spent), the last two by the file's
``build_timing`` (docs/calibration.md §14.10). A bad row or key is one line naming the file and
the row (:class:`InputError`). A coverage factor fitted on one of its series' records names that
record's year (``factor_fitted_on``): the back-test re-fits it in every parameter draw.

Which in-sample records set a level of the 2014 chain or a mapping factor (``FITTED``: matched by
construction), which are derived from another record (``DERIVED``) and which chose a setting's
value (``CHOSE``) is stated here once: the back-test's printed table and
``benchmarks/calibrate_2014.py`` both read it (§14.14, §14.22).
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
from .yamlio import format_validation_error, load_yaml_mapping

LAST_CALIBRATION_YEAR = 2017  # docs/calibration.md §1: data up to 2017 calibrate, 2018 on validate
COLUMNS = ("series", "year", "value", "unit", "source", "use", "months", "note")
OPTIONAL_COLUMNS = ("months", "note")
SERIES_NAME = r"^[a-z][a-z0-9_]*$"
# results columns that are not a year's flow (stocks, levels, ratios): a record of part of a year
# (months < 12) cannot be one of them
NOT_FLOWS = frozenset({"firms", "capacity", "utilisation", "employment", "price", "unit_cost"})

# records a level of the 2014 chain or a mapping factor was fitted on (docs/calibration.md
# §14.2-§14.18): set on them at the defaults (the back-test shows how close the model stays), so neither a
# check of the model nor in the in-sample objective
FITTED: frozenset[tuple[str, int]] = frozenset({
    ("spindles", 2013),  # 7 M spindles (early 2014 = end-2013) x 0.09 t = the yarn capacity of 2014
    ("cotton_output", 2014),  # the 2014 cotton capacity
    ("viscose_capacity", 2013), ("viscose_capacity", 2016),  # 2014 capacity (end-2013) and its pipeline
    ("aluminium_capacity", 2013), ("aluminium_capacity", 2016),  # level (end-2013), pipeline (March 2017)
    ("aluminium_output", 2016),  # the pipeline's arrivals by 2016
    ("textile_apparel_employment", 2014),  # coverage factor
    ("textile_firms", 2013),  # coverage factor: 560 firms at the start of 2014 (end-2013), the runs' starting firms
    ("textile_fixed_asset_investment", 2014),  # coverage factor
    ("textile_firms", 2016),  # the relocation drive's placed plants (history_2014_recorded.yaml, §14.11)
    ("garment_output_above_scale", 2016),  # the drive's large placed plants a year (§14.20)
})
# records derived from another record: checks, but left out of the in-sample objective
DERIVED: frozenset[tuple[str, int]] = frozenset({
    ("textile_firms", 2015),  # end-2015 = 1,964 at end-2016 less "504 more than end-2015": the entry's timing
    # January-September 2017 = the 2018 report's 24.39 / (1 - 0.225), of its wider coverage (§14.16, §14.20)
    ("garment_output_above_scale", 2017),
})
# checks with which a setting's value was chosen among a few candidates after the row was seen to
# miss (not fitted: no continuous parameter was set on it, but it is no independent check of that
# setting either): the printed table labels them and the summary counts the checks without them too.
# Earlier rounds also built mechanisms after in-sample misses (docs/calibration.md §14, round by
# round); a row is listed here when it decided a value.
CHOSE: frozenset[tuple[str, int]] = frozenset({
    # the park factories' first year, 2014 rather than 2015 (docs/calibration.md §14.22)
    ("garment_output_above_scale_growth", 2015),
})
ROLES = ("fitted", "check", "held out")


def role(series: str, year: int) -> str:
    """``fitted`` (a level or factor was set on it), ``check`` (in sample, not fitted) or ``held out``."""
    if year > LAST_CALIBRATION_YEAR:
        return "held out"
    return "fitted" if (series, year) in FITTED else "check"


def role_label(series: str, year: int) -> str:
    """:func:`role` as the printed table shows it: a check in ``CHOSE`` is ``check (chose a setting)``."""
    r = role(series, year)
    return f"{r} (chose a setting)" if r == "check" and (series, year) in CHOSE else r


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
    months: int = 12  # the months of the year the record covers (a flow's part of the year)
    note: str = ""

    @field_validator("months", mode="before")
    @classmethod
    def _months_of_a_year(cls, months: object) -> int:
        text = str(months).strip()
        if isinstance(months, bool) or not text.isdigit() or not 1 <= int(text) <= 12:
            raise ValueError("must be a whole number of months from 1 to 12 (empty for a full year)")
        return int(text)

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
    # the year of this series' own record the factor is fitted on (a coverage factor): the
    # back-test re-fits it in every parameter draw on that record (analysis.backtest.refit_factors)
    factor_fitted_on: int | None = None
    # this series' own construction time beyond the build lag (an end_of_year stock), in place of
    # build_timing's, with its source (docs/calibration.md §14.17)
    construction_months: float | None = Field(default=None, ge=0, lt=12)
    construction_months_source: str | None = Field(default=None, min_length=1)
    # the ratio of the year's sum to the year before's, run by run (a recorded growth on a year before:
    # the same months of both years against the model's whole years, output spread evenly over a year)
    growth: bool = False


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
        missing = [c for c in COLUMNS if c not in OPTIONAL_COLUMNS and c not in header]
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
    except ValidationError as exc:  # a misspelt key first, with the nearest valid one, as for a scenario
        raise format_validation_error(file, exc, SeriesFile) from None
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
        if (s.construction_months is None) != (s.construction_months_source is None):
            raise InputError(file, f"series.{name}.construction_months",
                             "give construction_months together with construction_months_source")
        if s.construction_months is not None and s.timing != "end_of_year":
            raise InputError(file, f"series.{name}.construction_months",
                             f"applies to a stock at the year's end (timing: end_of_year), not '{s.timing}'")
        if s.timing != "in_year" and s.denominator is not None:
            raise InputError(file, f"series.{name}.timing", f"'{s.timing}' applies to a sum, not to a ratio")
        if s.growth and (s.timing != "in_year" or s.denominator is not None or s.factor != 1.0
                         or s.factor_fitted_on is not None):
            raise InputError(file, f"series.{name}.growth",
                             "a growth is the ratio of one sum in two years: timing in_year, no denominator, "
                             "factor 1 and no factor_fitted_on")
        if s.timing == "as_spent" and s.numerator.column != "investment":
            raise InputError(file, f"series.{name}.numerator.column", "'as_spent' spreads the investment column",
                             s.numerator.column)
    record_path = (path.parent / spec.record).resolve()
    rows = load_record(record_path)
    recorded = {(row.series, row.year) for row in rows}
    for name, s in spec.series.items():
        year = s.factor_fitted_on
        if year is not None and ((name, year) not in recorded or (name, year) not in FITTED):
            raise InputError(file, f"series.{name}.factor_fitted_on",
                             f"the factor must be fitted on a record of {name} listed in observed.FITTED "
                             f"(calibration years up to {LAST_CALIBRATION_YEAR})", year)
    for row in rows:
        s = spec.series.get(row.series)
        if s is None:
            raise InputError(str(record_path), f"{row.series} {row.year}",
                             f"series not defined in {path.name} (known: {', '.join(sorted(spec.series))})")
        if row.unit != s.unit:
            raise InputError(str(record_path), f"{row.series} {row.year}: unit",
                             f"differs from the series' unit '{s.unit}' in {path.name}", row.unit)
        if row.months != 12 and not is_flow(s):
            raise InputError(str(record_path), f"{row.series} {row.year}: months",
                             f"{row.months} months: only a flow record may cover part of a year, and {row.series} "
                             f"is {_not_a_flow(s)} in {path.name}")
    return Observed(rows, dict(spec.series), str(record_path), file, spec.build_timing)


def is_flow(s: SeriesSpec) -> bool:
    """A year's flow (a sum of a flow column, counted in the year or as spent): m months of it are
    m / 12 of the model's year."""
    return (s.denominator is None and not s.growth and s.timing != "end_of_year"
            and s.numerator.column not in NOT_FLOWS)


def _not_a_flow(s: SeriesSpec) -> str:
    if s.denominator is not None or s.growth:
        return "a ratio"
    if s.timing == "end_of_year":
        return "a stock at the year's end (timing: end_of_year)"
    return f"a stock or level ({s.numerator.column})"


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
