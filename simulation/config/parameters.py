"""Documented ranges of the behavioural parameters, and Latin-hypercube draws over them.

``scenarios/parameters/firms_ranges.yaml`` lists, per key of the scenario's ``firms:`` block
(class :class:`~.scenario.Firms`; a plain ``NAME``) or of its ``shocks:`` block (``shocks.NAME``, class
:class:`~.scenario.Shocks`: the demand elasticities), a ``low``-``high`` range with its source. Keys
are checked against those schemas (an unknown or non-numeric key, ``low >= high``, a bound the schema
refuses, or a range that excludes the schema's default is one line naming the file and key).
:func:`draw_parameters` gives ``n`` parameter sets from a seeded Latin hypercube.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field, ValidationError

from .base import StrictModel
from .builtin import data_dir
from .errors import InputError
from .scenario import Firms, Shocks
from .yamlio import load_yaml_mapping

BLOCKS = {"firms": Firms, "shocks": Shocks}  # scenario blocks whose numeric keys can be drawn


def split_key(key: str) -> tuple[str, str]:
    """A ranges key: ``NAME`` is ``firms.NAME``; ``shocks.NAME`` a key of the shocks block."""
    block, _, name = key.rpartition(".")
    return (block or "firms"), name


class _Strict(StrictModel):
    """Unknown keys, booleans as numbers and NaN/infinity refused (config.base.StrictModel)."""


class Range(_Strict):
    low: float
    high: float
    log: bool = False
    integer: bool = False
    draw: bool = True
    source: str = Field(min_length=1)


class RangesFile(_Strict):
    parameters: dict[str, Range] = Field(min_length=1)


@dataclass(frozen=True)
class ParameterRanges:
    ranges: dict[str, Range]
    file: str

    @property
    def drawn(self) -> dict[str, Range]:
        return {k: r for k, r in self.ranges.items() if r.draw}


def default_ranges_file() -> Path:
    return data_dir() / "parameters" / "firms_ranges.yaml"


def load_parameter_ranges(path: str | Path | None = None) -> ParameterRanges:
    path = Path(path) if path is not None else default_ranges_file()
    file = str(path)
    data = load_yaml_mapping(path)
    try:
        spec = RangesFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(file, ".".join(str(p) for p in err["loc"]), err["msg"]) from None
    for key, r in spec.parameters.items():
        where = f"parameters.{key}"
        block, name = split_key(key)
        schema = BLOCKS.get(block)
        if schema is None or name not in schema.model_fields:
            raise InputError(file, where, "not a key of the scenario's firms block (class Firms) nor shocks.KEY")
        fields, defaults = schema.model_fields, schema()
        key = name
        annotation = fields[key].annotation
        if annotation not in (float, int):
            raise InputError(file, where, f"not a numeric firms key ({getattr(annotation, '__name__', annotation)})")
        if annotation is int and not r.integer:
            raise InputError(file, f"{where}.integer", "an integer firms key needs integer: true")
        if not r.low < r.high:
            raise InputError(file, where, f"low must be below high (low {r.low}, high {r.high})")
        if r.log and r.low <= 0:
            raise InputError(file, f"{where}.low", "must be positive with log: true", r.low)
        for bound in ("low", "high"):
            value = getattr(r, bound)
            try:
                schema.model_validate({key: int(value) if r.integer else value})
            except ValidationError as exc:
                raise InputError(file, f"{where}.{bound}", exc.errors()[0]["msg"], value) from None
        default = getattr(defaults, key)
        if not r.low <= default <= r.high:
            raise InputError(file, where, f"range {r.low}-{r.high} excludes the default {default}")
    return ParameterRanges(dict(spec.parameters), file)


def draw_parameters(ranges: ParameterRanges, n: int, seed: int) -> list[dict[str, float | int]]:
    """``n`` parameter sets: a Latin hypercube over the drawn ranges, seeded by ``seed``.

    Each range is cut into ``n`` equal strata (in logs with ``log: true``) and every stratum is
    used once (``scipy.stats.qmc.LatinHypercube``); an integer key takes each integer of its range
    with equal probability.
    """
    from scipy.stats import qmc

    keys = list(ranges.drawn)
    if n < 1 or not keys:
        return []
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x13D]))
    unit = qmc.LatinHypercube(d=len(keys), seed=rng).random(n)
    out: list[dict[str, float | int]] = []
    for row in unit:
        draw: dict[str, float | int] = {}
        for u, key in zip(row, keys):
            r = ranges.ranges[key]
            if r.integer:  # every integer in [low, high] gets an equal share of the unit interval
                draw[key] = int(min(r.high, np.floor(r.low + u * (r.high - r.low + 1))))
            elif r.log:
                draw[key] = float(np.exp(np.log(r.low) + u * (np.log(r.high) - np.log(r.low))))
            else:
                draw[key] = float(r.low + u * (r.high - r.low))
        out.append(draw)
    return out
