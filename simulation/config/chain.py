"""Chain files: the stages of the value chains, their technology, markets and sources.

A chain file is YAML validated by the pydantic models below (``extra="forbid"``, bounds on
every number). ``load_chain`` returns a :class:`Chain`, which also holds the stage data as
numpy arrays in topological order (upstream first) for the engine.

Every stage number carries a source: ``sources`` maps a field name to a citation, and the
special entry ``default`` (which must start with ``assumption``) covers the fields not listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from . import builtin
from .base import StrictModel
from .builtin import builtin_chains
from .errors import InputError
from .yamlio import format_validation_error, load_yaml_mapping

SECTORS = (
    "agro_food",
    "textiles_apparel",
    "chemicals",
    "equipment",
    "electronics_it",
    "metal_processing",
    "new_energy_materials",
)
Sector = Literal[
    "agro_food",
    "textiles_apparel",
    "chemicals",
    "equipment",
    "electronics_it",
    "metal_processing",
    "new_energy_materials",
]
TIERS = ("raw", "rough", "deep")
MARKETS = ("inland_east", "central_asia", "europe")
ZONES = ("ordinary", "difficult_area", "special_zone")

STAGE_NUMBER_FIELDS = (
    "weight_t_per_unit",
    "price_yuan_per_unit",
    "price_growth_per_year",
    "inputs",
    "other_inputs_yuan_per_unit",
    "electricity_kwh_per_unit",
    "workers_per_unit_year",
    "wage_yuan_per_worker_year",
    "capital_yuan_per_unit_capacity",
    "depreciation_rate",
    "build_lag_years",
    "markets",
    "demand",
    "initial",
    "new_plant_capacity_units",
)
OPTIONAL_NUMBER_FIELDS = ("recorded_firms_per_plant", "new_plant_productivity")
"""Stage fields with a neutral default (1): ``sources`` may cite them, need not."""


_Strict = StrictModel  # extra keys, booleans as numbers and NaN/inf are refused


class Market(_Strict):
    """A destination outside the region: rail distance and freight rate."""

    distance_km: float = Field(gt=0, le=20_000)
    freight_yuan_per_t_km: float = Field(gt=0, le=10)
    source: str = Field(min_length=3)

    @property
    def freight_yuan_per_t(self) -> float:
        return self.distance_km * self.freight_yuan_per_t_km


class Demand(_Strict):
    """External (outside-region) demand for the region's output of a stage.

    ``D_t = size_units * (1 + growth_per_year)**t * (p_t / p_0)**(-price_elasticity)``.
    """

    size_units: float = Field(ge=0, le=1e12)
    growth_per_year: float = Field(ge=-0.5, le=1.0)
    price_elasticity: float = Field(ge=0, le=10)
    # the region sells a variety of its own whose price falls as it ships more (economy.armington,
    # elasticity shocks.armington_elasticity); false: a price taker up to ``size_units``
    differentiated: bool = False


class Initial(_Strict):
    """The region's starting point for a stage (capacity in units per year).

    ``under_construction_units`` maps a calendar year to capacity that was already being built
    at the start (units a year) and starts producing in that year; the incumbents own it in
    proportion to their capacity. Its years must lie 1 to ``MAX_BUILD_LAG`` (3) years after the
    scenario's start (checked when a model is built, ``abm.model``).
    """

    capacity_units: float = Field(ge=0, le=1e12)
    firms: int = Field(ge=0, le=10_000_000)
    under_construction_units: dict[int, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _both_or_neither(self) -> Initial:
        if (self.capacity_units > 0) != (self.firms > 0):
            raise ValueError("capacity_units and firms must both be zero or both positive")
        for year, units in self.under_construction_units.items():
            if not (1900 <= year <= 2200 and 0 <= units <= 1e12):
                raise ValueError(f"under_construction_units: year {year} must be 1900-2200 and units 0-1e12 "
                                 f"(got {units})")
        if self.under_construction_units and self.capacity_units <= 0:
            raise ValueError("under_construction_units needs incumbents (capacity_units > 0) to own it")
        return self


class Stage(_Strict):
    """One stage of a chain; quantities per physical unit of the stage's output."""

    sector: Sector
    tier: Literal["raw", "rough", "deep"]
    label: str = ""
    unit: str = Field(min_length=1, max_length=20)
    weight_t_per_unit: float = Field(gt=0, le=1e4)
    price_yuan_per_unit: float = Field(gt=0, le=1e9)
    price_growth_per_year: float = Field(default=0.0, ge=-0.5, le=0.5)
    inputs: dict[str, float] = Field(default_factory=dict)
    other_inputs_yuan_per_unit: float = Field(ge=0, le=1e9)
    electricity_kwh_per_unit: float = Field(ge=0, le=1e7)
    workers_per_unit_year: float = Field(ge=0, le=1e3)
    wage_yuan_per_worker_year: float = Field(gt=0, le=1e7)
    capital_yuan_per_unit_capacity: float = Field(gt=0, le=1e10)
    depreciation_rate: float = Field(gt=0, le=1)
    build_lag_years: int = Field(ge=0, le=3)
    markets: dict[Literal["inland_east", "central_asia", "europe"], float]
    demand: Demand
    initial: Initial
    new_plant_capacity_units: float = Field(gt=0, le=1e12)
    # recorded firms a plant of the model stands for: the above-scale test (``output_above_scale``)
    # applies to a plant's sales per recorded firm (docs/calibration.md §14.16); 1 by default
    recorded_firms_per_plant: float = Field(default=1.0, ge=1, le=1e4)
    # a new plant's productivity relative to the incumbents' distribution (1 by default; §14.16)
    new_plant_productivity: float = Field(default=1.0, gt=0, le=10)
    sources: dict[str, str]

    @field_validator("inputs")
    @classmethod
    def _positive_coefficients(cls, v: dict[str, float]) -> dict[str, float]:
        for name, a in v.items():
            if not (0 < a <= 1e6):
                raise ValueError(f"input coefficient of '{name}' must be > 0 and <= 1e6 (got {a})")
        return v

    @field_validator("markets")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("at least one market is needed")
        if any(s < 0 for s in v.values()) or abs(sum(v.values()) - 1) > 1e-6:
            raise ValueError(f"market shares must be >= 0 and sum to 1 (got {dict(v)})")
        return v

    @field_validator("sources")
    @classmethod
    def _sources(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = set(v) - set(STAGE_NUMBER_FIELDS) - set(OPTIONAL_NUMBER_FIELDS) - {"default"}
        if unknown:
            raise ValueError(f"sources names unknown fields {sorted(unknown)}")
        if "default" in v and not v["default"].lower().startswith("assumption"):
            raise ValueError("sources.default must start with 'assumption'")
        missing = [f for f in STAGE_NUMBER_FIELDS if f not in v]
        if missing and "default" not in v:
            raise ValueError(f"no source for {missing}: cite one or mark 'default: assumption: ...'")
        return v


class ChainFile(_Strict):
    """The whole chain file."""

    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    import_market: Literal["inland_east", "central_asia", "europe"] = "inland_east"
    markets: dict[Literal["inland_east", "central_asia", "europe"], Market]
    stages: dict[str, Stage] = Field(min_length=1)


class Chain:
    """A validated chain with its stage data as arrays in topological order."""

    def __init__(self, spec: ChainFile, path: Path | None = None):
        self.spec = spec
        self.path = path
        self.name = spec.name
        self.order: list[str] = topological_order(spec, str(path or spec.name))
        self.index = {s: i for i, s in enumerate(self.order)}
        st = [spec.stages[s] for s in self.order]
        n = len(st)
        arr = np.array
        self.sector = np.array([s.sector for s in st])
        self.sector_id = arr([SECTORS.index(s.sector) for s in st], dtype=np.int64)
        self.tier = np.array([s.tier for s in st])
        self.unit = [s.unit for s in st]
        self.weight_t = arr([s.weight_t_per_unit for s in st])
        self.price0 = arr([s.price_yuan_per_unit for s in st])
        self.price_growth = arr([s.price_growth_per_year for s in st])
        self.other_inputs = arr([s.other_inputs_yuan_per_unit for s in st])
        self.kwh = arr([s.electricity_kwh_per_unit for s in st])
        self.workers = arr([s.workers_per_unit_year for s in st])
        self.wage = arr([s.wage_yuan_per_worker_year for s in st])
        self.capital_cost = arr([s.capital_yuan_per_unit_capacity for s in st])
        self.depreciation = arr([s.depreciation_rate for s in st])
        self.build_lag = arr([s.build_lag_years for s in st], dtype=np.int64)
        self.demand0 = arr([s.demand.size_units for s in st])
        self.demand_growth = arr([s.demand.growth_per_year for s in st])
        self.elasticity = arr([s.demand.price_elasticity for s in st])
        self.differentiated = arr([s.demand.differentiated for s in st], dtype=bool)
        self.initial_capacity = arr([s.initial.capacity_units for s in st])
        self.initial_firms = arr([s.initial.firms for s in st], dtype=np.int64)
        self.plant_capacity = arr([s.new_plant_capacity_units for s in st])
        self.recorded_firms_per_plant = arr([s.recorded_firms_per_plant for s in st])
        self.new_plant_productivity = arr([s.new_plant_productivity for s in st])
        # capacity under construction at the start, by the calendar year it arrives (units a year)
        years = sorted({y for s in st for y in s.initial.under_construction_units})
        self.initial_pipeline = {y: arr([s.initial.under_construction_units.get(y, 0.0) for s in st])
                                 for y in years}
        # A[i, j]: units of stage i used per unit of stage j's output.
        self.A = np.zeros((n, n))
        for j, s in enumerate(st):
            for src, a in s.inputs.items():
                self.A[self.index[src], j] = a
        self.freight_out = np.zeros(n)  # yuan per unit shipped out, weighted by market shares
        for j, s in enumerate(st):
            for m, share in s.markets.items():
                self.freight_out[j] += share * spec.markets[m].freight_yuan_per_t * s.weight_t_per_unit
        imp = spec.markets[spec.import_market].freight_yuan_per_t
        self.freight_in = imp * self.weight_t  # yuan per unit brought in from the import market

    @property
    def n_stages(self) -> int:
        return len(self.order)

    def sector_of(self, stage: str) -> str:
        return self.spec.stages[stage].sector


def topological_order(spec: ChainFile, file: str) -> list[str]:
    """Stages ordered upstream first; rejects unknown inputs and cycles."""
    stages = spec.stages
    for name, st in stages.items():
        for src in st.inputs:
            if src not in stages:
                raise InputError(file, f"stages.{name}.inputs.{src}", "input is not a stage of this chain")
            if src == name:
                raise InputError(file, f"stages.{name}.inputs.{src}", "a stage cannot be its own input")
        for m in st.markets:
            if m not in spec.markets:
                raise InputError(file, f"stages.{name}.markets.{m}", "market is not defined in 'markets'")
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name) :] + [name]
            raise InputError(file, f"stages.{name}.inputs", "the chain has a cycle: " + " -> ".join(cycle))
        state[name] = 1
        for src in stages[name].inputs:
            visit(src, path + [name])
        state[name] = 2
        order.append(name)

    for name in stages:
        visit(name, [])
    return order


def chain_path(name_or_path: str, relative_to: Path | None = None) -> Path:
    """A built-in chain name (``xinjiang``) or a path to a chain file."""
    if not name_or_path.endswith((".yaml", ".yml")):
        return builtin.chain_dir() / f"{name_or_path}.yaml"
    p = Path(name_or_path)
    if not p.is_absolute() and relative_to is not None:
        p = relative_to / p
    return p


def load_chain(name_or_path: str | Path, relative_to: Path | None = None) -> Chain:
    """Load and validate a chain file; raise :class:`InputError` on any problem."""
    path = chain_path(str(name_or_path), relative_to)
    if not path.exists() and not str(name_or_path).endswith((".yaml", ".yml")):
        raise InputError(str(name_or_path), "", f"unknown built-in chain; choose one of {builtin_chains()}")
    data = load_yaml_mapping(path)
    return chain_from_dict(data, str(path))


def chain_from_dict(data: dict, file: str = "<chain>") -> Chain:
    try:
        spec = ChainFile.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(file, exc, ChainFile) from None
    return Chain(spec, Path(file))
