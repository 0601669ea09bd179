"""The stage column ``output_above_scale``: the output of the plants whose sales at factory-gate
prices reach the NBS above-scale threshold (``rules.ABOVE_SCALE_SALES_YUAN``), by hand on a few
firms, against each firm's own year in a whole run (both engines), never above output, and the
same side by side as alone (``abm.batch``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, ROOT
from valuechain.simulation import run_scenario
from valuechain.simulation.abm.model import ValueChainModel
from valuechain.simulation.config.scenario import load_scenario
from valuechain.simulation.economy import firm, rules
from valuechain.simulation.economy.coefficients import Spread


@pytest.fixture(scope="module")
def coefficients_of_a_year():
    model = ValueChainModel(load_scenario(DATA / "tiny.yaml"), rng=3)
    model.step()
    return model.last_year.coefficients


def test_a_hand_made_set_of_firms(coefficients_of_a_year):
    """At 100,000 yuan a unit and half the capacity at work, firms of 300, 399.998, 400, 1,000 and
    2,000 units (the last one idle) make 150, 199.999, 200, 500 and 0 units and sell 15, 19.9999,
    20 (exactly the threshold), 50 and 0 million yuan: above scale are the 200 + 500 units of the
    third and fourth."""
    assert rules.ABOVE_SCALE_SALES_YUAN == 20e6  # the hand calculation below is at 20 million yuan
    n = coefficients_of_a_year.sales_x.size
    k = dataclasses.replace(coefficients_of_a_year, sales_x=np.full(n, 100_000.0), stage_ratio=np.full(n, 0.5),
                            above_scale_units=np.full(n, 200.0))  # 20 million yuan of sales at 100,000 a unit
    cells = np.array([0, 0, 0, 4, 4])
    capacity = np.array([300.0, 399.998, 400.0, 1000.0, 2000.0])
    state = {"capacity": capacity, "working_capacity": capacity * np.array([1, 1, 1, 1, 0]),
             "inv_productivity": np.ones(5), "debt": np.zeros(5), "cash": np.zeros(5), "sub_debt_base": np.zeros(5),
             "first_revenue_year": np.full(5, 2010), "loss_years": np.zeros(5, dtype=np.int64),
             "pending_total": np.zeros(5)}
    out = firm.firm_year(k, Spread(k, lambda v: v[cells]), cells, state, 2016)
    assert out["X"].tolist() == [150.0, 199.999, 200.0, 500.0, 0.0]
    assert out["X_above_scale"].tolist() == [0.0, 0.0, 200.0, 500.0, 0.0]
    for i, cell in enumerate(cells):  # the reference engine's scalars: the same firm, the same answer
        one = {name: value[i].item() for name, value in state.items()}
        scalar = firm.firm_year(k, Spread(k, lambda v, cell=cell: v[cell]), int(cell), one, 2016)
        assert scalar["X_above_scale"] == out["X_above_scale"][i]


def firms_above_by_hand(monkeypatch, engine: str, threshold_yuan: float) -> tuple[pd.DataFrame, pd.Series]:
    """A run of the tiny chain at ``threshold_yuan``, and each (year, stage)'s output of the firms
    whose own sales (their cell's factory-gate price per unit x their output) reach it, summed from
    every firm's year as the engine books it."""
    monkeypatch.setattr(rules, "ABOVE_SCALE_SALES_YUAN", threshold_yuan)
    booked = []
    firm_year = firm.firm_year

    def watched(k, g, cell, state, year, zero=0.0):
        out = firm_year(k, g, cell, state, year, zero)
        cells, output = np.atleast_1d(cell), np.atleast_1d(out["X"]).astype(float)
        sales = k.sales_x[cells] * output
        booked.append(pd.DataFrame({"year": year, "stage_index": cells // 3,
                                    "above": np.where(sales >= threshold_yuan, output, 0.0)}))
        return out

    monkeypatch.setattr(firm, "firm_year", watched)
    monkeypatch.setenv("VALUECHAIN_KERNELS", "numpy")  # every firm-year through firm_year (the compiled
    # settle step gives the same bits: tests/test_kernels.py)
    sc = load_scenario(DATA / "tiny.yaml", ["replications=1"])
    stages = run_scenario(sc, engine=engine).stages
    by_hand = pd.concat(booked).groupby(["year", "stage_index"]).above.sum()
    by_hand.index = pd.MultiIndex.from_arrays(
        [by_hand.index.get_level_values("year"), np.asarray(sc.chain.order)[by_hand.index.get_level_values(1)]],
        names=["year", "stage"])
    return stages.set_index(["year", "stage"]), by_hand


@pytest.mark.parametrize("engine", ["vectorized", "reference"])
def test_the_column_is_the_output_of_the_firms_at_or_above_the_threshold(monkeypatch, engine):
    """At a threshold inside the tiny chain's range of firm sales (60 million yuan: the smallest
    firms sell about 22 million, the largest about 600), stage by stage and year by year."""
    stages, by_hand = firms_above_by_hand(monkeypatch, engine, 60e6)
    got = stages.output_above_scale.reindex(by_hand.index)
    np.testing.assert_allclose(got, by_hand, rtol=1e-12, atol=1e-9)
    assert ((got > 0) & (got < stages.output.reindex(by_hand.index) * 0.99)).any()  # the threshold splits a stage
    assert (got == stages.output.reindex(by_hand.index)).any()  # ... and leaves another whole


def test_it_is_all_the_output_at_a_zero_threshold_and_none_at_an_unreachable_one(monkeypatch):
    stages, _ = firms_above_by_hand(monkeypatch, "vectorized", 0.0)
    assert (stages.output_above_scale == stages.output).all()  # exactly: the share of the firms' output is 1
    stages, _ = firms_above_by_hand(monkeypatch, "vectorized", np.inf)
    assert (stages.output_above_scale == 0).all()


def test_it_is_never_more_than_output_and_the_same_side_by_side_as_alone():
    """The recorded 2014 history (the back-test's runs): in every stage and year at most the stage's
    output, and each run side by side (one batched model) gives the column of the run alone, bit for
    bit; in 2016 the relocation drive's small garment plants are below the threshold, and so are the
    incumbents' plants whose sales per recorded firm are below it (3.3 recorded firms a plant, set so
    that half of the 2014 incumbents' output is above scale; docs/calibration.md §14.16)."""
    sc = load_scenario(ROOT / "scenarios" / "history_2014_recorded.yaml", ["replications=1"])
    seeds = np.random.SeedSequence(sc.spec.seed).spawn(3)
    alone = []
    for seed in seeds:
        model = ValueChainModel(sc, rng=seed)
        model.run()
        alone.append(model.recorder.stage_frame())
    batch = ValueChainModel(sc, rngs=seeds)
    batch.run()
    for run, stages in enumerate(alone):
        side_by_side = batch.recorder.stage_frame(run)
        assert side_by_side.output_above_scale.equals(stages.output_above_scale)
        assert (stages.output_above_scale <= stages.output).all()
        garments = stages.query("stage == 'garments'").set_index("year")
        assert 0 < garments.loc[2016, "output_above_scale"] < 0.6 * garments.loc[2016, "output"]
