"""valuechain: how regional industrial policy changes investment and value added along value chains.

``valuechain.simulation`` is the model (configuration, the economy and its levers, the Mesa agent
model, running and storing); ``valuechain.analysis`` reads results (comparisons, cost tables,
sensitivity, plots) and never loads the engine; ``valuechain.cli`` is the command line on top of both.
The names below are imported on first use.
"""

from importlib import import_module, metadata

try:
    __version__ = metadata.version("valuechain")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

_PUBLIC = {
    "load_scenario": "valuechain.simulation", "run_scenario": "valuechain.simulation",
    "run_sweep": "valuechain.simulation", "ValueChainModel": "valuechain.simulation",
    "load_results": "valuechain.analysis", "load_sweep": "valuechain.analysis", "compare": "valuechain.analysis",
}
__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'valuechain' has no attribute {name!r}")
