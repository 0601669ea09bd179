"""The strict base of every input model: unknown keys, booleans-as-numbers and NaN/inf refused."""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, field_validator


def _members(ann: Any) -> list[Any]:
    """Types inside Optional/Union/Annotated (``None`` dropped)."""
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _members(typing.get_args(ann)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(ann) for m in _members(arg)]
    return [] if ann is type(None) else [ann]


def _numbers_in(ann: Any) -> str | None:
    """"scalar" if ``ann`` takes a number (int/float, not bool), "values" if a mapping of numbers."""
    members = _members(ann)
    if bool in members:
        return None
    if any(m in (int, float) for m in members):
        return "scalar"
    for m in members:
        if typing.get_origin(m) is dict and len(typing.get_args(m)) == 2:
            values = _members(typing.get_args(m)[1])
            if bool not in values and any(v in (int, float) for v in values):
                return "values"
    return None


NOT_A_BOOLEAN = "must be a number, not a boolean (YAML reads yes, no, on and off as booleans)"


class StrictModel(BaseModel):
    """``extra="forbid"``, frozen, no NaN or infinity in any float (``allow_inf_nan=False``), and a
    boolean is never a number (pydantic would read ``replications: yes`` as 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, v: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        kind = _numbers_in(field.annotation) if field is not None else None
        if kind == "scalar" and isinstance(v, bool):
            raise ValueError(NOT_A_BOOLEAN)
        if kind == "values" and isinstance(v, dict):
            for key, x in v.items():
                if isinstance(x, bool):
                    raise ValueError(f"value of '{key}' {NOT_A_BOOLEAN}")
        return v


NAME_CHARS = "letters, digits, '_', '.' and '-', not starting with a dot"


def check_plain_name(v: str) -> str:
    """A scenario, mix or sweep name names a folder under ``results/``: a plain name only
    (so ``.``, ``..`` and ``.hidden`` can never point outside it or hide it)."""
    if not (1 <= len(v) <= 100) or v.startswith(".") or not all(c.isascii() and (c.isalnum() or c in "_.-")
                                                                 for c in v):
        raise ValueError(f"must be a plain name of 1 to 100 {NAME_CHARS}")
    return v


PlainName = Annotated[str, AfterValidator(check_plain_name)]
