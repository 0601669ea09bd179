"""Sweep files: which scenario keys vary, how they are sampled, and how many replications.

A sweep YAML names a ``base`` scenario (a path relative to the sweep file), the ``parameters``
to vary by dotted scenario key (a list of ``values``, or a range ``low``..``high``, log-uniform
with ``log: true``) and a ``design``:

- ``grid``: every combination; a range gives ``levels`` evenly spaced values (geometrically
  spaced if ``log``), default ``samples``. Points = product of the levels.
- ``lhs``: a Latin hypercube of ``samples`` points: each range is cut into ``samples`` equal
  strata (equal in log space if ``log``) and each stratum is sampled exactly once.
- ``sobol``: Saltelli's extension of the Sobol' sequence (``SALib.sample.sobol.sample`` with
  ``calc_second_order=False``): ``N = samples`` (a power of 2) base rows, ``N * (D + 2)``
  points for ``D`` parameters, in the row order ``SALib.analyze.sobol.analyze`` expects.
- ``morris``: Morris elementary-effect trajectories (``SALib.sample.morris.sample``, 4 levels):
  ``samples`` trajectories of ``D + 1`` points each, for ``analysis.sensitivity`` screening.
- ``mixes``: a list of named policy mixes, each a short set of overrides
  (``- {name: cheap_power, set: {policy.electricity_price.default: 0.25}}``).

A values list in ``lhs``/``sobol`` is sampled as a discrete uniform variable. ``replications``
and ``seed`` default to the base scenario's. Common random numbers: replication ``k`` of every
point runs with the ``k``-th child of ``numpy.random.SeedSequence(seed)``, so differences
between points are paired. The design's own sampling uses a separate stream of the same seed.

:func:`load_sweep` validates everything (the file, every key against the scenario schema and
every point's scenario) before anything runs; any problem raises a one-line ``InputError``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field, ValidationError, model_validator

from .base import PlainName, StrictModel, check_plain_name
from .builtin import scenario_path
from .errors import InputError
from .scenario import LoadedScenario, Scenario, chain_hash, scenario_from_dict
from .yamlio import (
    _set_in,
    apply_set,
    blame_inherited,
    find_included,
    format_validation_error,
    key_origin,
    resolve_layers,
    resolve_path,
    valid_keys_at,
)

Design = Literal["grid", "lhs", "sobol", "morris", "mixes"]
MAX_POINTS = 1_000_000
DESIGN_STREAM = 2**32 - 1  # spawn key of the design's sampling stream; replications use 0, 1, ...
SWEEP_WIDE_KEYS = ("name", "seed", "replications")  # set once for the whole sweep, never per point
NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"


_Strict = StrictModel  # extra keys, booleans as numbers and NaN/inf are refused


def _values_shorthand(v: Any) -> Any:
    """``key: [a, b, c]`` is short for ``key: {values: [a, b, c]}``."""
    return {"values": v} if isinstance(v, list) else v


class Parameter(_Strict):
    """One varied scenario key: a list of ``values``, or a range ``low``..``high``."""

    values: list[Any] | None = Field(default=None, min_length=1)
    low: float | None = None
    high: float | None = None
    log: bool = False  # sample log-uniformly (grid: geometric spacing); needs low > 0
    levels: int | None = Field(default=None, ge=2, le=100_000)  # grid only

    @model_validator(mode="after")
    def _check(self) -> Parameter:
        is_range = self.low is not None or self.high is not None
        if (self.values is None) == (not is_range):
            raise ValueError("give either values: [...] or a range low: ..., high: ...")
        if self.values is not None and (self.log or self.levels is not None):
            raise ValueError("log and levels apply to ranges (low, high), not to values")
        if is_range:
            if self.low is None or self.high is None:
                raise ValueError("a range needs both low and high")
            if not (math.isfinite(self.low) and math.isfinite(self.high)):
                raise ValueError("low and high must be finite numbers")
            if self.low >= self.high:
                raise ValueError(f"low ({self.low:g}) must be less than high ({self.high:g})")
            if self.log and self.low <= 0:
                raise ValueError(f"a log range needs low > 0 (got low {self.low:g})")
        return self

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map points ``u`` of the unit interval to values: uniform, log-uniform or discrete."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.values is not None:
            idx = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in idx]
        lo, hi = (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)
        x = lo + u * (hi - lo)
        x = np.clip(np.exp(x) if self.log else x, self.low, self.high)
        return [float(v) for v in x]

    def grid(self, default_levels: int | None) -> list[Any]:
        """Grid values: the list, or ``levels`` points from low to high (both ends included)."""
        if self.values is not None:
            return list(self.values)
        n = self.levels or default_levels
        space = np.geomspace if self.log else np.linspace
        return [float(v) for v in space(self.low, self.high, n)]


class Mix(_Strict):
    """A named policy mix: dotted scenario keys and the values they take."""

    name: PlainName
    description: str = ""
    overrides: dict[str, Any] = Field(default_factory=dict, alias="set")


class SweepSpec(_Strict):
    """The sweep file as written (see the module docstring)."""

    name: PlainName | None = None
    description: str = ""
    base: str = Field(min_length=1)
    design: Design | None = None
    parameters: dict[str, Annotated[Parameter, BeforeValidator(_values_shorthand)]] = Field(default_factory=dict)
    mixes: list[Mix] = Field(default_factory=list)
    samples: int | None = Field(default=None, ge=1, le=MAX_POINTS)
    replications: int | None = Field(default=None, ge=1, le=100_000)
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)


@dataclass(frozen=True)
class Point:
    """One point of the design: its id, a name (mixes) and the overrides of the base scenario."""

    point: int
    name: str | None
    overrides: dict[str, Any]


@dataclass
class Sweep:
    """A validated sweep: the base scenario, the points, seeds and what the analysis needs."""

    spec: SweepSpec
    file: str
    name: str
    design: Design
    base: LoadedScenario
    base_data: dict = field(repr=False)
    points: list[Point] = field(repr=False)
    replications: int = 1
    seed: int = 0
    design_info: dict = field(default_factory=dict)  # sobol: {"N", "problem", "calc_second_order"}

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.replications

    @property
    def parameter_keys(self) -> list[str]:
        """Dotted keys varied by the design (for mixes: every key some mix sets), in order."""
        if self.design != "mixes":
            return list(self.spec.parameters)
        return list(dict.fromkeys(k for m in self.spec.mixes for k in m.overrides))

    def seeds(self) -> list[np.random.SeedSequence]:
        """Replication k of every point gets the k-th child seed (common random numbers)."""
        return np.random.SeedSequence(self.seed).spawn(self.replications)

    def scenario(self, point: Point) -> LoadedScenario:
        """The validated scenario of one point (base + overrides, sweep-wide seed/replications)."""
        data = self.base_data
        for key, value in point.overrides.items():
            data = _set_in(data, key.split("."), value, self.file, [])
        data = {**data, "seed": self.seed, "replications": self.replications}
        if point.name is not None:
            data["name"] = point.name
        if any(k.split(".")[0] == "chain" for k in point.overrides):
            return scenario_from_dict(data, self.file, resolve_path(Path(self.file), self.file, "").parent)
        scenario = scenario_from_dict(data, self.file, chain=self.base.chain)  # the base's chain, not read again
        return LoadedScenario(scenario.spec, scenario.chain, self.base.file)

    def scenario_hash(self, scenario: LoadedScenario) -> str:
        """Identity of a point: the content hash of its resolved scenario and of its chain's
        content (not the chain's name or path: moving the folder keeps it, editing the chain
        file a point varies changes it)."""
        return scenario.spec.model_copy(update={"chain": "sha256:" + chain_hash(scenario.chain)}).hash()

    def hash(self) -> str:
        """Content hash of what is run: base scenario, chain, points, replications, seed (no paths)."""
        content = {
            "base": self.scenario_hash(self.base),
            "chain": self.base.chain.spec.model_dump(mode="json"),
            "points": [[p.name, p.overrides] for p in self.points],
            "replications": self.replications,
            "seed": self.seed,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file (or a built-in sweep by name) and every point's scenario;
    raise ``InputError`` if bad."""
    path = scenario_path(path, "sweep")
    file = str(path)
    data, layers = resolve_layers(path)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise blame_inherited(format_validation_error(file, exc, SweepSpec), layers) from None
    origin = key_origin(layers, "base")  # the file that writes base:, looked up as written there, beside it
    written = dict(layers)[origin]["base"]
    try:
        base_path = find_included(written, resolve_path(Path(origin), file, "").parent, file, "base")
    except InputError as err:  # not found: the fault of the file that wrote it
        raise blame_inherited(err, layers) from None
    base_data, base_layers = resolve_layers(base_path)  # read once: the points start from it too
    try:
        base = scenario_from_dict(base_data, str(base_path), resolve_path(base_path, file, "base").parent)
    except InputError as err:
        blamed = blame_inherited(err, base_layers)
        if blamed is err:
            raise
        raise blamed from None
    design = spec.design or ("mixes" if spec.mixes else "grid")
    _check_design(spec, design, file)
    seed = spec.seed if spec.seed is not None else base.spec.seed
    points, info = _design_points(spec, design, seed, file)
    name = spec.name or path.stem
    try:
        check_plain_name(name)
    except ValueError as exc:  # the file's own name stands in for a missing name:
        raise InputError(file, "name", f"{exc} (no name: given, so the file name is used)", name) from None
    sweep = Sweep(spec, file, name, design, base, base_data, points,
                  replications=spec.replications or base.spec.replications, seed=seed, design_info=info)
    _check_keys(sweep)
    for point in points:
        _check_point(sweep, point)
    return sweep


def _check_design(spec: SweepSpec, design: str, file: str) -> None:
    """Cross-field rules that pydantic's per-field checks cannot express."""
    if design == "mixes":
        if not spec.mixes:
            raise InputError(file, "mixes", "design 'mixes' needs a list of mixes ({name: ..., set: {...}})")
        if spec.parameters:
            raise InputError(file, "parameters", "not used with design 'mixes'; put the values in each mix's set")
        if spec.samples is not None:
            raise InputError(file, "samples", "not used with design 'mixes'", spec.samples)
        seen: set[str] = set()
        for i, mix in enumerate(spec.mixes):
            if mix.name in seen:
                raise InputError(file, f"mixes.{i}.name", "duplicated mix name", mix.name)
            seen.add(mix.name)
        return
    if spec.mixes:
        raise InputError(file, "mixes", f"not used with design '{design}' (use design: mixes)")
    if not spec.parameters:
        raise InputError(file, "parameters", f"design '{design}' needs at least one parameter to vary")
    if design != "grid":
        for key, p in spec.parameters.items():
            if p.levels is not None:
                raise InputError(file, f"parameters.{key}.levels", f"only used by design 'grid', not '{design}'")
        if spec.samples is None:
            raise InputError(file, "samples", f"design '{design}' needs samples (number of points)")
    if design == "sobol" and spec.samples & (spec.samples - 1):
        raise InputError(file, "samples", "design 'sobol' needs a power of 2 (base samples N)", spec.samples)
    if design == "grid":
        need = [k for k, p in spec.parameters.items() if p.values is None and p.levels is None]
        if need and spec.samples is None:
            raise InputError(file, f"parameters.{need[0]}", "a grid range needs levels (or the sweep's samples)")
        if not need and spec.samples is not None:
            raise InputError(file, "samples", "not used: every grid parameter has values or levels", spec.samples)


def _design_rng(seed: int) -> np.random.Generator:
    """The design's sampling stream: a child of the sweep seed that no replication uses."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DESIGN_STREAM,)))


def _design_points(spec: SweepSpec, design: str, seed: int, file: str) -> tuple[list[Point], dict]:
    """The design's points (overrides of the base scenario) and its metadata for analysis."""
    if design == "mixes":
        return [Point(i, m.name, dict(m.overrides)) for i, m in enumerate(spec.mixes)], {"design": "mixes"}
    keys, params = list(spec.parameters), list(spec.parameters.values())
    info: dict[str, Any] = {"design": design}
    if design == "grid":
        levels = [p.grid(spec.samples) for p in params]
        n = math.prod(len(v) for v in levels)
        if n > MAX_POINTS:
            raise InputError(file, "parameters", f"the grid has {n:,} points; at most {MAX_POINTS:,}")
        rows = [dict(zip(keys, combo)) for combo in itertools.product(*levels)]
        return [Point(i, None, row) for i, row in enumerate(rows)], info
    rng = _design_rng(seed)
    if design == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(keys), rng=rng).random(spec.samples)
    elif design == "morris":  # trajectories on the 4-level unit grid, mapped to each parameter's range
        from SALib.sample import morris as salib_morris

        unit_problem = {"num_vars": len(keys), "names": keys, "bounds": [[0.0, 1.0]] * len(keys)}
        unit = salib_morris.sample(unit_problem, spec.samples, num_levels=4, seed=rng)
        info.update(N=spec.samples, num_levels=4, problem={
            "num_vars": len(keys), "names": keys,
            "bounds": [[p.low, p.high] if p.values is None else [0, len(p.values)] for p in params]})
    else:  # sobol: Saltelli rows on the unit cube, mapped to each parameter's range afterwards
        from SALib.sample import sobol as salib_sobol

        unit_problem = {"num_vars": len(keys), "names": keys, "bounds": [[0.0, 1.0]] * len(keys)}
        unit = salib_sobol.sample(unit_problem, spec.samples, calc_second_order=False, seed=rng)
        info.update(N=spec.samples, calc_second_order=False, problem={
            "num_vars": len(keys), "names": keys,
            "bounds": [[p.low, p.high] if p.values is None else [0, len(p.values)] for p in params],
            "scales": ["values" if p.values is not None else "log" if p.log else "linear" for p in params],
        })
    if len(unit) > MAX_POINTS:
        raise InputError(file, "samples", f"the design has {len(unit):,} points; at most {MAX_POINTS:,}")
    columns = [p.from_unit(unit[:, j]) for j, p in enumerate(params)]
    return [Point(i, None, dict(zip(keys, row))) for i, row in enumerate(zip(*columns))], info


def _where(sweep: Sweep, point: Point, key: str) -> str:
    """Where a key of a point is written in the sweep file."""
    if sweep.design == "mixes":
        return f"mixes.{point.point}.set.{key}"
    return f"parameters.{key}"


def _check_keys(sweep: Sweep) -> None:
    """Every varied key must exist in the scenario schema and be reachable in the base scenario."""
    valid = lambda parts: valid_keys_at(Scenario, parts)  # noqa: E731
    checked: set[str] = set()
    for point in sweep.points if sweep.design == "mixes" else sweep.points[:1]:
        for key in point.overrides:
            where = _where(sweep, point, key)
            if key.split(".")[0] in SWEEP_WIDE_KEYS:
                raise InputError(sweep.file, where, "set for the whole sweep (common random numbers), not per point")
            if key in checked:
                continue
            _check_list_items(sweep, where, key)
            try:
                apply_set(sweep.base_data, f"{key}=null", sweep.file, valid_paths=valid)
            except InputError as err:
                prefix = where[: len(where) - len(key)]
                raise InputError(sweep.file, prefix + (err.key or key), err.message, err.got,
                                 show_got=err.show_got) from None
            checked.add(key)


def _check_list_items(sweep: Sweep, where: str, key: str) -> None:
    """A numeric part (``rules.0.yuan_per_t``) must index an item that the base scenario has."""
    prefix = where[: len(where) - len(key)]
    parts, node = key.split("."), sweep.base_data
    for i, part in enumerate(parts):
        if part.isdigit():
            n = len(node) if isinstance(node, list) else 0
            if int(part) >= n:
                msg = (f"the base scenario has {n} item(s) here, numbered from 0; "
                       f"add item {part} to the base scenario to vary it")
                raise InputError(sweep.file, prefix + ".".join(parts[: i + 1]), msg)
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part, {})
        else:
            return


def _check_point(sweep: Sweep, point: Point) -> None:
    """Validate one point's scenario; blame the sweep key that made it invalid."""
    try:
        sweep.scenario(point)
    except InputError as err:
        for key in point.overrides:
            if err.key and (err.key == key or err.key.startswith(key + ".") or key.startswith(err.key + ".")):
                label = f"mix '{point.name}'" if point.name else f"point {point.point}"
                raise InputError(sweep.file, _where(sweep, point, key), f"{err.message} at {label}",
                                 err.got, show_got=err.show_got) from None
        raise InputError(sweep.file, "parameters" if point.name is None else f"mixes.{point.point}",
                         f"point {point.point} is not a valid scenario: {err.key}: {err.message}") from None


def describe(sweep: Sweep) -> str:
    """One paragraph: design, points, replications, runs, parameter ranges."""
    lines = [f"sweep {sweep.name}: design {sweep.design}, {len(sweep.points):,} point(s) x "
             f"{sweep.replications} replication(s) = {sweep.n_runs:,} run(s); "
             f"base {sweep.base.name}, seed {sweep.seed}"]
    for key, p in sweep.spec.parameters.items():
        log = " (log)" if p.log else ""
        what = f"values {p.values}" if p.values is not None else f"{p.low:g} .. {p.high:g}{log}"
        lines.append(f"  {key}: {what}")
    for mix in sweep.spec.mixes:
        lines.append(f"  {mix.name}: " + ", ".join(f"{k}={v}" for k, v in mix.overrides.items()))
    return "\n".join(lines)


__all__ = ["Mix", "Parameter", "Point", "Sweep", "SweepSpec", "describe", "load_sweep"]
