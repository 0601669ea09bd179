"""valuechain.simulation: the agent-based model of firms along regional value chains."""

from .chain import Chain, load_chain
from .errors import InputError
from .model import ValueChainModel
from .runner import Results, run_scenario
from .scenario import LoadedScenario, load_scenario
from .sweep_runner import run_sweep

__all__ = ["Chain", "InputError", "LoadedScenario", "Results", "ValueChainModel", "load_chain", "load_scenario",
           "run_scenario", "run_sweep"]
