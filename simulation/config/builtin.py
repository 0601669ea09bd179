"""Built-in chains and scenarios: YAML files shipped inside the package (``valuechain.scenarios``).

``valuechain run baseline`` and ``chain: xinjiang`` name them; a path (anything ending in
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


def scenario_path(name_or_path: str | Path) -> Path:
    """The file for ``name_or_path``: a built-in scenario's path for a bare name, else the path."""
    text = str(name_or_path)
    if is_name(text) and not Path(text).exists():
        if (data_dir() / f"{text}.yaml").exists():
            return data_dir() / f"{text}.yaml"
        from .errors import InputError

        raise InputError(text, "", "no such file, nor a built-in scenario or sweep of that name "
                                   f"(built-in: {', '.join(builtin_scenarios())})")
    return Path(name_or_path)
