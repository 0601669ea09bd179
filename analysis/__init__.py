"""valuechain.analysis: load results and derive the measures economists report."""

from .compare import compare, compare_many, load_many, outcomes, runs_from_sweep
from .cost import cost_effectiveness, cost_report, cost_value_points, efficient_frontier, rank_costs, rank_mixes
from .fiscal import FiscalRules
from .impacts import deadweight, direct_indirect, multiplier_table
from .plots import plot_effects, plot_frontier, plot_heatmap, plot_paths, plot_sobol
from .plots_chain import plot_chain
from .results import load_results, local_sourcing_ratio, processing_depth
from .sensitivity import morris_indices, sensitivity, sensitivity_from_outcomes, sobol_indices, sweep_outcomes
from .sweep import SweepResults, load_sweep

__all__ = ["load_results", "local_sourcing_ratio", "processing_depth", "SweepResults", "load_sweep"]
__all__ += ["compare", "compare_many", "load_many", "outcomes", "runs_from_sweep", "cost_effectiveness",
            "cost_value_points", "efficient_frontier", "rank_mixes", "morris_indices", "sensitivity",
            "sensitivity_from_outcomes", "sobol_indices", "sweep_outcomes", "plot_chain", "plot_effects",
            "plot_frontier", "plot_heatmap", "plot_paths", "plot_sobol", "cost_report", "rank_costs", "FiscalRules",
            "deadweight", "direct_indirect", "multiplier_table"]
