"""valuechain.simulation: the agent-based model of firms along regional value chains.

The public names are imported on first use, so ``valuechain.analysis`` can read chain files and raise
``InputError`` without loading the engine.
"""

from importlib import import_module

_PUBLIC = {
    "Chain": ".config.chain", "load_chain": ".config.chain", "InputError": ".config.errors",
    "LoadedScenario": ".config.scenario", "load_scenario": ".config.scenario",
    "ValueChainModel": ".abm.model", "Results": ".running.runner", "run_scenario": ".running.runner",
    "run_sweep": ".running.sweeps",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name], __name__), name)
    raise AttributeError(f"module 'valuechain.simulation' has no attribute {name!r}")


def __dir__():
    return __all__
