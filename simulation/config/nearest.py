"""The nearest valid name to a misspelt one, for the "did you mean" of every input error (a file's
unknown key, ``--set``, a built-in's name, an option's value)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest_key(name: str, valid: Iterable[str]) -> str | None:
    """The valid key most similar to ``name`` (difflib ratio >= 0.6), or None."""
    matches = difflib.get_close_matches(name, [str(v) for v in valid], n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """``"; did you mean 'NEAREST'?"`` for the nearest valid name (:func:`closest_key`), or "" if none."""
    nearest = closest_key(name, valid)
    return f"; did you mean '{nearest}'?" if nearest else ""
