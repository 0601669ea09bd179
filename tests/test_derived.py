"""Derived measures in analysis.results, on hand-made frames with known answers."""

import pandas as pd
import pytest
from valuechain.analysis import local_sourcing_ratio, processing_depth


def frame(rows):
    cols = ["scenario", "replication", "year", "stage", "tier", "value_added", "local_inputs", "imported_inputs"]
    return pd.DataFrame(rows, columns=cols)


STAGES = frame([
    ("s", 0, 2016, "ore", "raw", 60.0, 0.0, 0.0),
    ("s", 0, 2016, "metal", "rough", 30.0, 2.0, 3.0),  # bought 2 million yuan locally, 3 imported
    ("s", 0, 2016, "parts", "deep", 10.0, 0.0, 1.0),
])


def test_processing_depth_is_the_deep_share_of_value_added():
    depth = processing_depth(STAGES)
    assert depth.loc[("s", 0, 2016)] == pytest.approx(10 / 100)


def test_local_sourcing_ratio_is_local_over_all_chain_inputs():
    ratio = local_sourcing_ratio(STAGES)
    assert ratio.loc[("s", 0, 2016)] == pytest.approx(2.0 / (2.0 + 4.0))
    by_stage = local_sourcing_ratio(STAGES, by=["stage"])
    assert by_stage.loc[("s", 0, 2016, "metal")] == pytest.approx(0.4)
    assert by_stage.loc[("s", 0, 2016, "parts")] == 0.0
