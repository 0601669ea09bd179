"""valuechain.simulation: the agent-based model of firms along regional value chains.

The public names are imported on first use, so ``analysis`` can read chain files and raise
``InputError`` without loading the engine.
"""

from importlib import import_module

_PUBLIC = {
    "Chain": ".chain", "load_chain": ".chain", "InputError": ".errors", "ValueChainModel": ".model",
    "Results": ".runner", "run_scenario": ".runner", "LoadedScenario": ".scenario", "load_scenario": ".scenario",
    "run_sweep": ".sweep_runner",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name], __name__), name)
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")


def __dir__():
    return __all__
