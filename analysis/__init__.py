"""valuechain.analysis: load results and derive the measures economists report."""

from .results import (
    load_results,
    local_sourcing_ratio,
    per_fiscal_cost,
    processing_depth,
)

__all__ = ["load_results", "local_sourcing_ratio", "per_fiscal_cost", "processing_depth"]
