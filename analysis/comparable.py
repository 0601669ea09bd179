"""Whether two run sets can be compared at all: the one check that compare, plot and cost call.

Two run sets are comparable when they simulate the same economy over the same years: the same
chain (by the content hash of the validated chain, so a renamed copy is the same chain and an
edited one is not), the same start year and horizon, and the same settings that change the
economy's size (``firms.scale``, ``firms.min_per_stage``). A policy effect computed across
different economies measures the difference in size, not the policy. :func:`check_comparable`
raises :class:`InputError` naming the first setting that differs; :func:`common_years` gives
the years both cover (equal when the horizons match; stated in every table's header).

Settings outside the policy that do not change the size (behaviour ``firms.*``, ``shocks.*``)
are found by :func:`outside_policy_differences`: ``cost`` refuses such sides
(:func:`check_same_economy`: a cost per yuan would credit the policy with them), ``compare``
names them in its note line (comparing them is also how a setting's effect is measured).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..simulation.config.errors import InputError

# dotted scenario keys that change the size of the simulated economy or the years it covers
SIZE_KEYS = ("horizon.start", "horizon.years", "firms.scale", "firms.min_per_stage")
DEFAULTS = {"horizon.start": 2016, "horizon.years": 15, "firms.scale": 1.0, "firms.min_per_stage": 0}


def get_dotted(data: dict, key: str, default: Any = None) -> Any:
    node: Any = data
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return default
    return node


def set_dotted(data: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node: Any = data
    for part in parts[:-1]:
        nxt = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node = nxt
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def year_keys(obj):
    """JSON turned the time paths' year keys into strings; turn them back into whole years."""
    if isinstance(obj, dict):
        whole = bool(obj) and all(isinstance(k, str) and k.lstrip("-").isdigit() for k in obj)
        return {(int(k) if whole else k): year_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [year_keys(v) for v in obj]
    return obj


def manifest_scenario(manifest: dict):
    """The validated scenario a run set's manifest records (``scenario``, a sweep's
    ``base_scenario``), or None where it records none or this version's schema refuses it."""
    from ..simulation.config.scenario import Scenario

    sc = manifest.get("scenario") or manifest.get("base_scenario")
    try:
        return Scenario.model_validate(year_keys(sc)) if isinstance(sc, dict) else None
    except ValueError:  # written by another version
        return None


def point_scenario(base: dict, overrides: str | dict | None) -> dict:
    """A sweep point's scenario (as a mapping): the base scenario with the point's dotted overrides."""
    out = copy.deepcopy(base or {})
    if isinstance(overrides, str):
        overrides = json.loads(overrides) if overrides else {}
    for key, value in (overrides or {}).items():
        try:
            set_dotted(out, key, value)
        except (IndexError, KeyError, TypeError, ValueError):
            pass
    return out


def signature(manifest: dict) -> dict[str, Any]:
    """The settings that must agree, read from a run set's manifest (``None`` where unknown)."""
    sc = manifest.get("scenario") or manifest.get("base_scenario") or {}
    sig: dict[str, Any] = {"chain": manifest.get("chain_hash")}
    for key in SIZE_KEYS:
        sig[key] = get_dotted(sc, key, DEFAULTS[key]) if sc else None
    return sig


def check_comparable(run: Any, base: Any, *, what: str = "compare") -> None:
    """Refuse (``InputError``, exit 2 on the command line) to compare run sets that simulate
    different economies or years. ``run``/``base`` are :class:`analysis.compare.Run` objects."""
    a, b = signature(run.manifest), signature(base.manifest)
    for key in ("chain",) + SIZE_KEYS:
        x, y = a.get(key), b.get(key)
        if x is None or y is None:
            continue  # not recorded (results written before the check existed): cannot tell
        if x != y:
            if key == "chain":
                why = (f"was simulated on a different chain (content hash {x}) than {base.source} ({y}); "
                       f"{what} only runs on the same chain")
            else:
                why = (f"differs from {base.source} ({y}), so the two runs simulate economies of different "
                       f"size or years; rerun one of them with {key}={y} before you {what}")
            raise InputError(run.source, key if key != "chain" else "chain", why, x)


# scenario keys a policy comparison may differ in: the policy itself, labels, the replications asked
# for and the seed (``compare.check_paired`` checks the runs' seeds); the chain and the size and years
# are checked above (``check_comparable``)
OUTSIDE_ECONOMY = ("name", "description", "policy", "seed", "replications", "chain", "horizon")


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value of a scenario mapping's leaves (a list is one leaf)."""
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _economy(manifest: dict) -> tuple[dict[str, Any], bool] | None:
    """The scenario's settings outside the policy as dotted leaves, and whether the schema read it
    (then its defaults are filled in; ``None`` where the manifest records no scenario)."""
    sc = manifest.get("scenario") or manifest.get("base_scenario")
    if not isinstance(sc, dict):
        return None
    spec = manifest_scenario(manifest)
    valid = spec is not None  # else written by another version: compare what is recorded
    sc = spec.model_dump(mode="json") if valid else sc
    rest = {k: v for k, v in sc.items() if k not in OUTSIDE_ECONOMY}
    return {k: v for k, v in _leaves(rest).items() if k not in SIZE_KEYS}, valid


def _draws(manifest: dict) -> list[dict] | None:
    """The parameter sets a run set drew (``--parameter-draws``), or None for a run of the defaults."""
    return (manifest.get("parameter_draws") or None) if manifest.get("interval") == "parameters+replications" else None


def _drawn_key(name: str) -> str:
    """A parameter range's name as a scenario key (``adjustment_cost`` -> ``firms.adjustment_cost``)."""
    return name if "." in name else f"firms.{name}"


DRAWS_KEY = "parameter_draws"  # the key a difference in the drawn parameters is reported under


def outside_policy_differences(run: Any, base: Any) -> list[tuple[str, Any, Any]]:
    """(dotted key, ``run``'s value, ``base``'s value) of every scenario setting outside the policy in
    which the two run sets differ: behaviour (``firms.*``), shocks, expectations, and the parameter
    sets drawn where both sides drew (``parameter_draws``: their number where the draws differ; a
    drawn key is judged by the draws, not by the scenario's value it overrides; draws on one side
    only are refused by ``compare.check_same_draws``). Empty where they simulate the same economy
    under different policies, or where either records no scenario; where one was written by
    another version, only the settings both record are compared."""
    ea, eb = _economy(run.manifest), _economy(base.manifest)
    if ea is None or eb is None:
        return []
    (a, a_valid), (b, b_valid) = ea, eb
    keys = set(a) | set(b) if a_valid and b_valid else set(a) & set(b)
    da, db = _draws(run.manifest), _draws(base.manifest)
    diffs = []
    if da is not None and db is not None and da != db:  # (draws on one side only: compare.check_same_draws)
        other = "" if len(da) != len(db) else ", other values"
        diffs.append((DRAWS_KEY, f"{len(da)} draws{other}", f"{len(db)} draws{other}"))
    drawn = {_drawn_key(k) for d in (da or []) + (db or []) for k in d}
    diffs += [(k, a.get(k), b.get(k)) for k in sorted(keys - drawn) if a.get(k) != b.get(k)]
    return diffs


def describe_differences(diffs: list[tuple[str, Any, Any]], run: Any, base: Any, shown: int = 2) -> str:
    """``firms.evaluation_years 20 in A against 10 in B`` for the first ``shown``, and how many more."""
    show = lambda k, v: v if k == DRAWS_KEY else json.dumps(v)  # noqa: E731
    words = [f"{k} {show(k, x)} in {run.source} against {show(k, y)} in {base.source}"
             for k, x, y in diffs[:shown]]
    more = f" and {len(diffs) - shown} more" if len(diffs) > shown else ""
    return "; ".join(words) + more


def check_same_economy(run: Any, base: Any, *, what: str = "compare costs") -> None:
    """Refuse (``InputError``) run sets whose scenarios differ outside the policy: a cost per yuan
    would credit the policy with what the other settings do. ``compare`` shows such a difference
    in its header instead (it is also a way to measure a setting's effect)."""
    diffs = outside_policy_differences(run, base)
    if diffs:
        key, x, y = diffs[0]
        more = f" (and {len(diffs) - 1} more setting{'s' if len(diffs) > 2 else ''})" if len(diffs) > 1 else ""
        if key == DRAWS_KEY:
            raise InputError(run.source, key, f"the behavioural parameters drawn differ from {base.source}'s ({y})"
                             f"{more}, so the difference is not the policy's alone; run both with the same "
                             f"--parameter-draws, seed and parameter ranges before you {what}", x)
        raise InputError(run.source, key, f"differs from {base.source} ({json.dumps(y)}){more} outside the policy, so "
                         f"the difference is not the policy's alone; rerun one of them with {key}={json.dumps(y)} "
                         f"before you {what}", x)


def common_years(run: Any, base: Any) -> list[int]:
    """The years both run sets cover, in order."""
    y1 = set(run.stages["year"].unique()) if "year" in run.stages else set()
    y0 = set(base.stages["year"].unique()) if "year" in base.stages else set()
    years = sorted(int(y) for y in y1 & y0)
    if not years and y1 and y0:
        raise InputError(run.source, "year", f"has no year in common with {base.source} "
                         f"({min(y1)}-{max(y1)} against {min(y0)}-{max(y0)})")
    return years
