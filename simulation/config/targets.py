"""What every rule of a scenario shares: its targeting keys and its time paths.

A rule targets (stage, zone) cells by ``sectors``, ``stages``, ``tiers`` and ``zones`` (an empty
list means all). A lever's value is a number (every year) or ``{year: value}`` (that value from
each year on; ``value_at`` gives the lever's neutral value before the first year).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from .base import StrictModel
from .chain import Sector
from .errors import PartError

Zone = Literal["ordinary", "difficult_area", "special_zone"]
Tier = Literal["raw", "rough", "deep"]


def _time_path(lo: float, hi: float):
    """A number (all years) or ``{year: number}`` (that value from each year on)."""

    def check(v: Any) -> dict[int, float]:
        if isinstance(v, bool):
            raise ValueError("must be a number or a mapping of year to number")
        if isinstance(v, (int, float)):  # one value for every year: the error's "got" shows it
            if not math.isfinite(v):
                raise ValueError("must be a finite number")
            if not (lo <= v <= hi):
                raise ValueError(f"must be between {lo} and {hi}")
            return {-1: float(v)}
        if not isinstance(v, dict) or not v:
            raise ValueError("must be a number or a mapping of year to number")
        out: dict[int, float] = {}
        for year, x in v.items():  # a time path: name the year at fault and show its value
            if isinstance(year, bool) or not isinstance(year, int) or not (-1 <= year <= 3000):
                raise PartError("year keys must be whole years", year)
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise PartError(f"{year}: must be a number", x)
            if not math.isfinite(x):
                raise PartError(f"{year}: must be a finite number", x)
            if not (lo <= x <= hi):
                raise PartError(f"{year}: must be between {lo} and {hi}", x)
            out[year] = float(x)
        return dict(sorted(out.items()))

    return Annotated[dict[int, float], BeforeValidator(check)]


def rule_value(path: dict[int, float] | None, year: int) -> float | None:
    """A rule's value in ``year``, or None before its first year (then the rule does nothing: the
    earlier rules and the default stay in force). One meaning for every lever's time paths."""
    if path is None:
        return None
    value = None
    for start, x in path.items():
        if start == -1 or start <= year:
            value = x
        else:
            break
    return value


def value_at(path: dict[int, float], year: int, neutral: float) -> float:
    """Value of a time path in ``year``; ``neutral`` before its first year (a lever's default path)."""
    value = rule_value(path, year)
    return neutral if value is None else value


_Strict = StrictModel  # extra keys, booleans as numbers and NaN/inf are refused (every lever's schema too)


class Target(_Strict):
    """Which firms a rule applies to; an empty list means all."""

    sectors: list[Sector] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    tiers: list[Tier] = Field(default_factory=list)
    zones: list[Zone] = Field(default_factory=list)


class Rule(Target):
    """A lever's rule: targeting keys, its values' time paths, and when it was announced.

    ``announced`` (default: the rule's first year) is the first year in which investors know the
    rule: investment and entry decisions in year t see only rules announced by t (with
    ``firms.expectations: announced``, they expect each such rule's path as written)."""

    announced: int | None = Field(default=None, ge=-1, le=3000)

    @property
    def first_year(self) -> int:
        """The first year the rule acts (-1: from the start)."""
        paths = [v for v in self.__dict__.values() if isinstance(v, dict) and v and v != {-1: 0.0}]  # not unset parts
        return min(min(v) for v in paths) if paths else -1

    @property
    def announced_year(self) -> int:
        return self.first_year if self.announced is None else self.announced
