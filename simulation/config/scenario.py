"""Scenario files: what varies in a run (chain, horizon, firms, policy levers, shocks, seeds).

``load_scenario(path, overrides)`` reads YAML safely, resolves ``inherits`` (deep merge),
applies ``--set`` overrides, validates with the pydantic models below and checks that every
stage and sector a lever targets exists in the chain. Any problem raises ``InputError``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, create_model, model_validator

from ..economy.levers import LEVERS
from .base import PlainName
from .builtin import scenario_path
from .chain import Chain, load_chain
from .errors import InputError
from .nearest import did_you_mean
from .targets import Target, _Strict
from .yamlio import (
    apply_set,
    blame_inherited,
    format_validation_error,
    resolve_layers,
    resolve_path,
    valid_keys_at,
)

# ``policy``: one block per lever, each block's schema in its lever's module (``economy.levers``)
Policy = create_model("Policy", __base__=_Strict, __doc__="The policy levers, one block each (``LEVERS``).",
                      **{lever.key: (lever.schema, Field(default_factory=lever.schema)) for lever in LEVERS})


class PricePath(Target):
    from_year: int = Field(default=-1, ge=-1, le=3000)
    change_per_year: float = Field(ge=-0.5, le=0.5)


class DemandShock(Target):
    """A shift of the stages' outside demand in ``from_year``-``to_year`` (``economy.shocks``): by
    ``change`` (the curve's shift), or by the shift that multiplies the market price by
    ``price_factor`` whatever the elasticities (for a recorded price)."""

    from_year: int = Field(ge=0, le=3000)
    to_year: int = Field(default=3000, ge=0, le=3000)
    change: float | None = Field(default=None, ge=-1.0, le=10.0)
    price_factor: float | None = Field(default=None, gt=0.0, le=10.0)

    @model_validator(mode="after")
    def _one_size(self) -> DemandShock:
        if (self.change is None) == (self.price_factor is None):
            raise ValueError("give either change or price_factor")
        return self


class Shocks(_Strict):
    price_volatility: float = Field(default=0.05, ge=0, le=1)
    # supply elasticity of the rest of a stage's outside market: how a demand shift splits into a
    # price and a quantity change (economy/shocks.py; assumption, documented range in docs/calibration.md)
    market_supply_elasticity: float = Field(default=2.0, gt=0, le=100)
    # elasticity of outside demand for the region's own variety in the stages the chain marks
    # differentiated (economy/armington.py; trade literature, documented range in docs/calibration.md)
    armington_elasticity: float = Field(default=4.0, gt=1, le=50)
    # multiplies every stage's outside-demand price elasticity (the chain's demand.price_elasticity:
    # 0.5 raw, 1.0 rough, 1.5 deep, assumptions); 1 = the chain's (economy/shocks.py, documented range
    # 0.5-2 in docs/calibration.md section 7)
    demand_elasticity_factor: float = Field(default=1.0, ge=0, le=10)
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
    """Firm population and behaviour. Defaults are modelling assumptions (docs/calibration.md §11.2)."""

    scale: float = Field(default=1.0, gt=0, le=10_000)
    min_per_stage: int = Field(default=0, ge=0, le=1000)
    productivity_sd: float = Field(default=0.15, ge=0, le=2)
    zone_shares: ZoneShares = Field(default_factory=ZoneShares)
    entry: bool = True
    exit: bool = True
    capacity_limits: bool = True
    # entry: potential investors per (stage, zone) cell a year = per_firm x the cell's firms + the
    # outside investors of the stage (split by zone shares); each builds a plant with the logistic
    # probability of its q above a hurdle (rules.entry_probability; docs/calibration.md, benchmarks/moments.py)
    potential_entrants_per_firm: float = Field(default=0.15, ge=0, le=10)
    potential_entrants_per_stage: float = Field(default=0.5, ge=0, le=1e6)
    entry_hurdle_q: float = Field(default=0.5, ge=-1, le=10)
    entry_dispersion_q: float = Field(default=0.1, gt=0, le=10)
    # investment: Hayashi rule I/K = delta + q / adjustment_cost, capped (rules.investment_rate_of_value)
    adjustment_cost: float = Field(default=60.0, gt=0, le=1000)
    max_investment_rate: float = Field(default=0.5, ge=0, le=5)
    exit_after_loss_years: int = Field(default=3, ge=1, le=50)
    # ownership turnover: producing firms close at this rate a year for reasons outside the model and a
    # successor takes over each plant (economy.turnover; docs/calibration.md §10.2); needs ``exit``
    closure_rate_per_year: float = Field(default=0.06, ge=0, le=0.5)
    interest_rate: float = Field(default=0.049, ge=0, le=1)
    discount_rate: float = Field(default=0.08, gt=0, le=1)
    debt_share: float = Field(default=0.6, ge=0, le=1)
    max_debt_to_capital: float = Field(default=0.8, ge=0, le=10)
    working_capital_share: float = Field(default=0.25, ge=0, le=5)
    evaluation_years: int = Field(default=20, ge=1, le=100)
    local_price_share: float = Field(default=0.0, ge=0, le=1)  # local price: netback + share x (import - netback)
    initial_age_max_years: int = Field(default=10, ge=1, le=100)
    # cost-reducing technical change: other inputs, power and labour per unit fall by this share a
    # year (docs/calibration.md: Brandt, Van Biesebroeck & Zhang 2012 measure 2.85% a year of TFP
    # growth for incumbents, 1998-2007, an upper bound)
    technical_change_per_year: float = Field(default=0.0075, ge=0, le=0.2)
    # what investors expect of the levers: the path of every rule announced so far, as written
    # ("announced"), or today's values for ever ("current")
    expectations: Literal["announced", "current"] = "announced"


class Scenario(_Strict):
    name: PlainName
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


def chain_hash(chain: Chain) -> str:
    """Content hash of a validated chain (its numbers and names, not its file's path).

    Kept on the chain beside the spec it hashes (a validated spec is frozen): the
    points of a sweep share their base's chain, and each point's identity and batch key read
    its hash (dumping the spec takes about half a millisecond)."""
    kept = chain.__dict__.get("_content_hash")
    if kept is None or kept[0] is not chain.spec:
        text = json.dumps(chain.spec.model_dump(mode="json"), sort_keys=True)
        kept = chain._content_hash = (chain.spec, hashlib.sha256(text.encode()).hexdigest()[:16])
    return kept[1]


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
        """The same scenario with top-level keys replaced, validated like the file (``InputError``).

        Values may be plain data (``replications=4``, ``firms={"scale": 0.5}``) or schema objects."""
        data = self.spec.model_dump()
        data.update({key: value.model_dump() if hasattr(value, "model_dump") else value
                     for key, value in changes.items()})
        try:
            spec = Scenario.model_validate(data)
        except ValidationError as exc:
            raise format_validation_error(self.file, exc, Scenario) from None
        check_targets(spec, self.chain, self.file)
        check_memory(spec, self.chain, self.file)
        kernels_choice()
        return LoadedScenario(spec, self.chain, self.file)


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
    check_memory(spec, chain, file)
    kernels_choice()
    return LoadedScenario(spec, chain, file)


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> LoadedScenario:
    """Load, merge (``inherits``), override (``KEY=VALUE``) and validate a scenario file, or a
    built-in scenario by name (``load_scenario("baseline")``, names from ``valuechain list``)."""
    path = scenario_path(path, "scenario")
    data, layers = resolve_layers(path)
    for assignment in overrides:
        data = apply_set(data, assignment, "--set", valid_paths=lambda parts: valid_keys_at(Scenario, parts))
    try:
        return scenario_from_dict(data, str(path), resolve_path(path, str(path), "").parent)
    except InputError as err:
        # an override that names a key the schema does not know is the --set's fault
        for assignment in overrides:
            key = assignment.split("=", 1)[0].strip()
            if err.key and (key == err.key or key.startswith(err.key + ".") or err.key.startswith(key + ".")):
                raise InputError("--set", err.key, err.message, err.got, show_got=err.show_got) from None
        blamed = blame_inherited(err, layers)  # a key written in an inherited file is that file's fault
        if blamed is err:
            raise
        raise blamed from None


def check_targets(spec: Scenario, chain: Chain, file: str) -> None:
    """Every stage named by a lever or a shock must exist in the chain."""
    groups = {f"policy.{lever.key}.{name}": rules for lever in LEVERS
              for name, rules in lever.rule_lists(getattr(spec.policy, lever.key)).items()}
    groups.update({"shocks.price_paths": spec.shocks.price_paths, "shocks.demand": spec.shocks.demand})
    for lever in LEVERS:  # stage names a lever keeps outside its rules' ``stages`` (issue 12)
        if lever.stage_lists is None:
            continue
        for name, stages in lever.stage_lists(getattr(spec.policy, lever.key)).items():
            for j, stage in enumerate(stages):
                if stage not in chain.index:
                    msg = f"unknown stage in chain '{chain.name}'" + did_you_mean(stage, chain.order)
                    raise InputError(file, f"policy.{lever.key}.{name}.{j}", msg, stage)
    for key, rules in groups.items():
        for i, rule in enumerate(rules):
            for j, stage in enumerate(rule.stages):
                if stage not in chain.index:
                    msg = f"unknown stage in chain '{chain.name}'" + did_you_mean(stage, chain.order)
                    raise InputError(file, f"{key}.{i}.stages.{j}", msg, stage)


BYTES_PER_FIRM = 400  # peak bytes per firm of a run (benchmarks/bench.py bytes_per_firm: 393 at 10k firms)
MEMORY_BUDGET_BYTES = 4_000_000_000  # default; env VALUECHAIN_MEMORY_BUDGET_BYTES


def memory_budget() -> int:
    """Largest memory estimate of one run that is accepted: ``VALUECHAIN_MEMORY_BUDGET_BYTES`` or 4 GB."""
    raw = os.environ.get("VALUECHAIN_MEMORY_BUDGET_BYTES", "")
    try:
        return int(raw) if raw.strip() else MEMORY_BUDGET_BYTES
    except ValueError:
        raise InputError("VALUECHAIN_MEMORY_BUDGET_BYTES", "", "must be a whole number of bytes", raw) from None


KERNELS = ("numba", "numpy")  # env VALUECHAIN_KERNELS: the engine's kernels (``abm.engine.compiled_kernels``)


def kernels_choice() -> str:
    """``VALUECHAIN_KERNELS``: ``numba`` (the default: compiled kernels in the years they cover) or
    ``numpy`` (numpy's path only). Read when a scenario is loaded too, so that a bad value is
    refused before anything is written."""
    raw = os.environ.get("VALUECHAIN_KERNELS", "")
    if raw.strip() and raw.strip() not in KERNELS:
        raise InputError("VALUECHAIN_KERNELS", "", "must be numba or numpy", raw)
    return raw.strip() or KERNELS[0]


def firm_rows(spec: Scenario, chain: Chain) -> int:
    """Upper bound of the firms a run holds: the initial firms (``rint(firms x scale)``, at least
    ``min_per_stage``) plus, with entry on, every potential entrant of every stage in every year
    (``potential_entrants_per_stage x scale x stages x years`` outside investors, and the
    incumbents' own pool compounding at ``1 + potential_entrants_per_firm`` a year)."""
    f = spec.firms
    initial = sum(max(round(n * f.scale), 1 if cap > 0 else 0, f.min_per_stage)
                  for n, cap in zip(chain.initial_firms.tolist(), chain.initial_capacity.tolist()))
    if not f.entry:
        return int(initial)
    outside = f.potential_entrants_per_stage * f.scale * chain.n_stages * spec.horizon.years
    growth = (1.0 + f.potential_entrants_per_firm) ** spec.horizon.years
    return int(math.ceil((initial + outside) * growth))


def check_memory(spec: Scenario, chain: Chain, file: str) -> None:
    """Refuse up front a run whose firms would not fit in the memory budget (exit 2, not a crash)."""
    firms = firm_rows(spec, chain)
    need, budget = firms * BYTES_PER_FIRM, memory_budget()
    if need > budget:
        raise InputError(file, "firms.scale", f"a run would hold up to {firms:,} firms (about {need / 1e9:,.1f} GB "
                         f"over {spec.horizon.years} years); the budget is {budget / 1e9:,.1f} GB (lower "
                         f"firms.scale or potential_entrants_per_stage, or set VALUECHAIN_MEMORY_BUDGET_BYTES)",
                         spec.firms.scale)
