"""Derived measures in analysis.results, on hand-made frames with known answers."""

import pandas as pd
import pytest

from analysis import local_sourcing_ratio, per_fiscal_cost, processing_depth


def frame(rows):
    cols = ["scenario", "replication", "year", "stage", "tier", "value_added", "local_sales", "price",
            "imported_inputs", "employment"]
    return pd.DataFrame(rows, columns=cols)


STAGES = frame([
    ("s", 0, 2016, "ore", "raw", 60.0, 100.0, 2e4, 0.0, 10.0),   # local sales worth 2 million yuan
    ("s", 0, 2016, "metal", "rough", 30.0, 0.0, 5e4, 3.0, 5.0),
    ("s", 0, 2016, "parts", "deep", 10.0, 0.0, 9e4, 1.0, 2.0),
])


def test_processing_depth_is_the_deep_share_of_value_added():
    depth = processing_depth(STAGES)
    assert depth.loc[("s", 0, 2016)] == pytest.approx(10 / 100)


def test_local_sourcing_ratio_is_local_over_all_chain_inputs():
    ratio = local_sourcing_ratio(STAGES)
    assert ratio.loc[("s", 0, 2016)] == pytest.approx(2.0 / (2.0 + 4.0))


def test_value_added_and_jobs_per_10k_yuan_of_fiscal_cost():
    base = STAGES.assign(scenario="b")
    policy = STAGES.assign(value_added=STAGES.value_added * 1.5, employment=STAGES.employment + 1)
    fiscal_base = pd.DataFrame({"replication": [0], "fiscal_cost": [0.0]})
    fiscal_policy = pd.DataFrame({"replication": [0], "fiscal_cost": [25.0]})  # million yuan
    va = per_fiscal_cost(policy, fiscal_policy, base, fiscal_base, "value_added")
    assert va.loc[0, "delta_value_added"] == pytest.approx(50.0)
    assert va.loc[0, "value_added_per_10k_yuan"] == pytest.approx(20_000.0)  # 2 yuan of VA per yuan
    jobs = per_fiscal_cost(policy, fiscal_policy, base, fiscal_base, "employment")
    assert jobs.loc[0, "employment_per_10k_yuan"] == pytest.approx(3 / 25e6 * 1e4)
