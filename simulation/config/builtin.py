"""Built-in chains and scenarios: YAML files shipped inside the package (``valuechain.scenarios``).

``valuechain run baseline``, ``chain: xinjiang``, ``inherits: baseline`` and a sweep's
``base: baseline`` name them; a path (anything ending in
``.yaml``/``.yml`` or containing a folder) is read as a file instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_dir() -> Path:
    """The folder of the built-in scenarios (``chains/`` inside it holds the chains)."""
    return Path(str(resources.files("valuechain.scenarios")))


def chain_dir() -> Path:
    return data_dir() / "chains"


def builtin_scenarios() -> list[str]:
    """Names of the built-in scenario files (sweep files included), without ``.yaml``."""
    return sorted(p.stem for p in data_dir().glob("*.yaml"))


def builtin_chains() -> list[str]:
    return sorted(p.stem for p in chain_dir().glob("*.yaml"))


def is_name(text: str) -> bool:
    """A bare name (no folder, no YAML ending) refers to a built-in file."""
    return not text.endswith((".yaml", ".yml")) and "/" not in text and "\\" not in text


def builtin_names(kind: str | None = None) -> list[str]:
    """Names of the built-in files ``valuechain run`` (``kind`` "scenario") or ``valuechain sweep``
    ("sweep") accepts, by whether the file has a ``base:`` key as ``valuechain list`` sorts them; both for None."""
    if kind is None:
        return builtin_scenarios()
    import yaml  # the package's own files: no need for the user-file checks of yamlio

    sweep = kind == "sweep"
    return [n for n in builtin_scenarios() if ("base" in yaml.safe_load((data_dir() / f"{n}.yaml").read_text(
        encoding="utf-8"))) == sweep]


def scenario_path(name_or_path: str | Path, kind: str | None = None) -> Path:
    """The file for ``name_or_path``: a built-in scenario's path for a bare name, else the path. A bare
    name that is neither is refused naming the built-ins of ``kind`` (``"scenario"``, ``"sweep"``, None:
    both) and the nearest of them (:func:`~.nearest.closest_key`, as for a misspelt key)."""
    text = str(name_or_path)
    if not text.strip():
        from .errors import InputError

        raise InputError(repr(text), "", f"an empty name: give a {kind or 'scenario or sweep'} file or built-in name "
                         f"(built-in: {', '.join(builtin_names(kind))})")
    if is_name(text) and not Path(text).exists():
        if (data_dir() / f"{text}.yaml").exists():
            return data_dir() / f"{text}.yaml"
        from .errors import InputError
        from .nearest import did_you_mean

        names = builtin_names(kind)
        what = f"built-in {kind}" if kind else "built-in scenario or sweep"
        raise InputError(text, "", f"no such file, nor a {what} of that name{did_you_mean(text, names)} "
                         f"(built-in: {', '.join(names)})")
    return Path(name_or_path)


def find_scenario_file(name: str, folder: Path) -> Path:
    """The scenario file an ``inherits:`` or a sweep's ``base:`` names: ``folder / name`` (the including
    file's folder) if it exists, else the built-in scenario for a bare name, else ``folder / name``."""
    local = folder / name
    if is_name(name) and not local.exists() and (data_dir() / f"{name}.yaml").exists():
        return data_dir() / f"{name}.yaml"
    return local


def not_found_hint(name: str, looked_for: Path) -> str:
    """Where a scenario file named ``name`` was looked for, and what the built-ins offer instead."""
    stem = Path(name).stem
    if not is_name(name) and Path(name).name == name and (data_dir() / f"{stem}.yaml").exists():
        builtin = f"for the built-in scenario write '{stem}' (no .yaml)"
    else:
        builtin = "not a built-in scenario either"
    return f"(looked for {looked_for}; {builtin})"
