"""Scenario files: what varies in a run (chain, horizon, firms, policy levers, shocks, seeds).

``load_scenario(path, overrides)`` reads YAML safely, resolves ``inherits`` (deep merge),
applies ``--set`` overrides, validates with the pydantic models below and checks that every
stage and sector a lever targets exists in the chain. Any problem raises ``InputError``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from .chain import Chain, Sector, load_chain
from .errors import InputError
from .yamlio import apply_set, closest_key, format_validation_error, resolve_inherits, valid_keys_at

Zone = Literal["ordinary", "difficult_area", "special_zone"]
Tier = Literal["raw", "rough", "deep"]


def _time_path(lo: float, hi: float):
    """A number (all years) or ``{year: number}`` (that value from each year on)."""

    def check(v: Any) -> dict[int, float]:
        if isinstance(v, bool):
            raise ValueError("must be a number or a mapping of year to number")
        if isinstance(v, (int, float)):
            v = {-1: v}
        if not isinstance(v, dict) or not v:
            raise ValueError("must be a number or a mapping of year to number")
        out: dict[int, float] = {}
        for year, x in v.items():
            if isinstance(year, bool) or not isinstance(year, int) or not (-1 <= year <= 3000):
                raise ValueError(f"year keys must be whole years (got {year!r})")
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise ValueError(f"value for {year} must be a number (got {x!r})")
            if not (lo <= x <= hi):
                which = "" if year == -1 else f"value for {year} "  # the error's "got" shows the input
                raise ValueError(f"{which}must be between {lo} and {hi}")
            out[year] = float(x)
        return dict(sorted(out.items()))

    return Annotated[dict[int, float], BeforeValidator(check)]


def value_at(path: dict[int, float], year: int, neutral: float) -> float:
    """Value of a time path in ``year``; ``neutral`` before its first year."""
    value = neutral
    for start, x in path.items():
        if start == -1 or start <= year:
            value = x
        else:
            break
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """Which firms a rule applies to; an empty list means all."""

    sectors: list[Sector] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    tiers: list[Tier] = Field(default_factory=list)
    zones: list[Zone] = Field(default_factory=list)


class ElectricityRule(Target):
    price_yuan_per_kwh: _time_path(0.0, 5.0)
    counts_as_fiscal_cost: bool | None = None


class ElectricityPrice(_Strict):
    """Industrial power price; fiscal cost = (reference - price) x kWh where it counts."""

    reference_yuan_per_kwh: float = Field(default=0.40, gt=0, le=5)
    default: _time_path(0.0, 5.0) = Field(default_factory=lambda: {-1: 0.40})
    counts_as_fiscal_cost: bool = True
    rules: list[ElectricityRule] = Field(default_factory=list)


class FreightRule(Target):
    yuan_per_t: _time_path(0.0, 1e5) | None = None
    share_of_sales: _time_path(0.0, 1.0) | None = None
    share_of_freight: _time_path(0.0, 1.0) | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> FreightRule:
        given = [k for k in ("yuan_per_t", "share_of_sales", "share_of_freight") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of yuan_per_t, share_of_sales, share_of_freight")
        return self


class FreightSubsidy(_Strict):
    """Subsidy on goods shipped out of the region; the last matching rule applies."""

    rules: list[FreightRule] = Field(default_factory=list)


class TaxRule(Target):
    rate: _time_path(0.0, 1.0)


class Holiday(Target):
    """Exempt years then half-rate years, counted from the firm's first revenue year."""

    exempt_years: int = Field(ge=0, le=20)
    half_years: int = Field(default=0, ge=0, le=20)
    from_year: int = Field(default=-1, ge=-1, le=3000)  # firms whose first revenue is this year or later


class Tax(_Strict):
    """Corporate income tax; tax expenditure is measured against the statutory rate."""

    statutory_rate: float = Field(default=0.25, ge=0, le=1)
    default_rate: _time_path(0.0, 1.0) = Field(default_factory=lambda: {-1: 0.25})
    rules: list[TaxRule] = Field(default_factory=list)
    holidays: list[Holiday] = Field(default_factory=list)


class InterestRule(Target):
    fixed_asset_points: _time_path(0.0, 20.0) = Field(default_factory=lambda: {-1: 0.0})
    fixed_asset_years: int = Field(default=5, ge=0, le=30)
    working_capital_points: _time_path(0.0, 20.0) = Field(default_factory=lambda: {-1: 0.0})
    working_capital_years: int = Field(default=3, ge=0, le=30)


class InterestSubsidy(_Strict):
    """Interest subsidy in percentage points on loans; the last matching rule applies."""

    rules: list[InterestRule] = Field(default_factory=list)


class Policy(_Strict):
    electricity_price: ElectricityPrice = Field(default_factory=ElectricityPrice)
    freight_subsidy: FreightSubsidy = Field(default_factory=FreightSubsidy)
    tax: Tax = Field(default_factory=Tax)
    interest_subsidy: InterestSubsidy = Field(default_factory=InterestSubsidy)


class PricePath(Target):
    from_year: int = Field(default=-1, ge=-1, le=3000)
    change_per_year: float = Field(ge=-0.5, le=0.5)


class DemandShock(Target):
    from_year: int = Field(ge=0, le=3000)
    to_year: int = Field(default=3000, ge=0, le=3000)
    change: float = Field(ge=-1.0, le=10.0)


class Shocks(_Strict):
    price_volatility: float = Field(default=0.05, ge=0, le=1)
    price_paths: list[PricePath] = Field(default_factory=list)
    demand: list[DemandShock] = Field(default_factory=list)


class Horizon(_Strict):
    start: int = Field(default=2016, ge=1900, le=2200)
    years: int = Field(default=15, ge=1, le=200)


class ZoneShares(_Strict):
    ordinary: float = Field(default=0.75, ge=0, le=1)
    difficult_area: float = Field(default=0.20, ge=0, le=1)
    special_zone: float = Field(default=0.05, ge=0, le=1)

    @model_validator(mode="after")
    def _sum(self) -> ZoneShares:
        if abs(self.ordinary + self.difficult_area + self.special_zone - 1) > 1e-6:
            raise ValueError("zone shares must sum to 1")
        return self


class Firms(_Strict):
    """Firm population and behaviour. Defaults are modelling assumptions (see README)."""

    scale: float = Field(default=1.0, gt=0, le=10_000)
    min_per_stage: int = Field(default=0, ge=0, le=1000)
    productivity_sd: float = Field(default=0.15, ge=0, le=2)
    zone_shares: ZoneShares = Field(default_factory=ZoneShares)
    entry: bool = True
    exit: bool = True
    capacity_limits: bool = True
    potential_entrants_per_stage: float = Field(default=3.0, ge=0, le=1e6)
    entry_sensitivity: float = Field(default=3.0, ge=0, le=100)
    investment_elasticity: float = Field(default=1.0, ge=0, le=20)
    max_investment_rate: float = Field(default=0.3, ge=0, le=5)
    exit_after_loss_years: int = Field(default=3, ge=1, le=50)
    interest_rate: float = Field(default=0.049, ge=0, le=1)
    discount_rate: float = Field(default=0.08, gt=0, le=1)
    debt_share: float = Field(default=0.6, ge=0, le=1)
    max_debt_to_capital: float = Field(default=0.8, ge=0, le=10)
    working_capital_share: float = Field(default=0.25, ge=0, le=5)
    evaluation_years: int = Field(default=20, ge=1, le=100)
    local_price_share: float = Field(default=0.0, ge=0, le=1)  # local price: netback + share x (import - netback)
    initial_age_max_years: int = Field(default=10, ge=1, le=100)


class Scenario(_Strict):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    chain: str = "xinjiang"
    horizon: Horizon = Field(default_factory=Horizon)
    firms: Firms = Field(default_factory=Firms)
    policy: Policy = Field(default_factory=Policy)
    shocks: Shocks = Field(default_factory=Shocks)
    replications: int = Field(default=1, ge=1, le=100_000)
    seed: int = Field(default=20160101, ge=0, le=2**63 - 1)

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:16]


class LoadedScenario:
    """A validated scenario with its chain, ready to run."""

    def __init__(self, spec: Scenario, chain: Chain, file: str):
        self.spec = spec
        self.chain = chain
        self.file = file

    @property
    def name(self) -> str:
        return self.spec.name

    def with_overrides(self, **changes: Any) -> LoadedScenario:
        return LoadedScenario(self.spec.model_copy(update=changes), self.chain, self.file)


def scenario_from_dict(data: dict, file: str, base_dir: Path | None = None,
                       chain: Chain | None = None) -> LoadedScenario:
    """Validate a scenario mapping (already merged) and load its chain (or use ``chain``, already loaded)."""
    data = dict(data)
    data.pop("inherits", None)
    try:
        spec = Scenario.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(file, exc, Scenario) from None
    try:
        chain = chain if chain is not None else load_chain(spec.chain, relative_to=base_dir)
    except InputError as err:
        # only "cannot find the chain" is the scenario's fault; a problem inside the chain file
        # keeps that file's name and key path
        locating = err.message == "file not found" or err.message.startswith("unknown built-in chain")
        if err.file == spec.chain and not err.key and locating:
            raise InputError(file, "chain", err.message, spec.chain) from None
        raise
    check_targets(spec, chain, file)
    return LoadedScenario(spec, chain, file)


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> LoadedScenario:
    """Load, merge (``inherits``), override (``KEY=VALUE``) and validate a scenario file."""
    path = Path(path)
    data = resolve_inherits(path)
    for assignment in overrides:
        data = apply_set(data, assignment, "--set", valid_paths=lambda parts: valid_keys_at(Scenario, parts))
    try:
        return scenario_from_dict(data, str(path), path.resolve().parent)
    except InputError as err:
        # an override that names a key the schema does not know is the --set's fault
        for assignment in overrides:
            key = assignment.split("=", 1)[0].strip()
            if err.key and (key == err.key or key.startswith(err.key + ".")):
                raise InputError("--set", err.key, err.message, err.got, show_got=err.show_got) from None
        raise


def check_targets(spec: Scenario, chain: Chain, file: str) -> None:
    """Every stage named by a lever or a shock must exist in the chain."""
    groups = {
        "policy.electricity_price.rules": spec.policy.electricity_price.rules,
        "policy.freight_subsidy.rules": spec.policy.freight_subsidy.rules,
        "policy.tax.rules": spec.policy.tax.rules,
        "policy.tax.holidays": spec.policy.tax.holidays,
        "policy.interest_subsidy.rules": spec.policy.interest_subsidy.rules,
        "shocks.price_paths": spec.shocks.price_paths,
        "shocks.demand": spec.shocks.demand,
    }
    for key, rules in groups.items():
        for i, rule in enumerate(rules):
            for j, stage in enumerate(rule.stages):
                if stage not in chain.index:
                    hint = closest_key(stage, chain.order)
                    msg = f"unknown stage in chain '{chain.name}'"
                    if hint:
                        msg += f"; did you mean '{hint}'?"
                    raise InputError(file, f"{key}.{i}.stages.{j}", msg, stage)
