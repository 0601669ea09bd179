"""Capacity under construction at the start (chain ``initial.under_construction_units``, issue 13):
it arrives in the stated years, a zero pipeline changes nothing, and a year out of reach is refused."""

import numpy as np
import pytest
from valuechain.simulation import load_scenario, run_scenario
from valuechain.simulation.config.chain import chain_from_dict, load_chain
from valuechain.simulation.config.errors import InputError
from valuechain.simulation.config.scenario import LoadedScenario

# no investment, entry or exit: capacity moves only by wear, the replacement pipeline and the new one
FROZEN = ["firms.scale=0.2", "replications=1", "horizon.years=5", "firms.max_investment_rate=0",
          "firms.entry=false", "firms.exit=false"]
STAGE = "electrolytic_aluminium"  # build lag 2, depreciation 5%


def _with_pipeline(pipeline: dict | None) -> LoadedScenario:
    sc = load_scenario("history_2014_counterfactual", FROZEN)
    data = sc.chain.spec.model_dump()
    for stage in data["stages"].values():
        stage["initial"]["under_construction_units"] = {}
    if pipeline is not None:
        data["stages"][STAGE]["initial"]["under_construction_units"] = pipeline
    return LoadedScenario(sc.spec, chain_from_dict(data, "pipeline-test"), sc.file)


def _capacity(sc: LoadedScenario) -> np.ndarray:
    st = run_scenario(sc).stages
    return st[st.stage == STAGE].sort_values("year").capacity.to_numpy()


def test_capacity_under_construction_arrives_in_the_stated_years():
    p15, p16, p17 = 1.0e6, 2.0e6, 0.5e6
    base = _capacity(_with_pipeline(None))
    with_p = _capacity(_with_pipeline({2015: p15, 2016: p16, 2017: p17}))
    d, scale = 0.05, 0.2
    # capacity in year Y counts what arrived at its start; what arrived earlier wears at 5% a year
    expected = scale * np.array([0.0, p15, p15 * (1 - d) + p16, (p15 * (1 - d) + p16) * (1 - d) + p17,
                                 ((p15 * (1 - d) + p16) * (1 - d) + p17) * (1 - d)])
    np.testing.assert_allclose(with_p - base, expected, rtol=1e-9)


def test_a_zero_pipeline_gives_the_same_results_bit_for_bit():
    a = run_scenario(_with_pipeline(None)).stages
    b = run_scenario(_with_pipeline({2015: 0.0, 2016: 0.0})).stages
    assert a.equals(b)


def test_the_2014_chain_carries_its_sourced_pipeline():
    c = load_chain("xinjiang_2014")
    al = c.spec.stages[STAGE].initial
    assert sum(al.under_construction_units.values()) == pytest.approx(7.675e6 - 3.7e6)  # built by March 2017
    assert c.initial_pipeline[2015][c.index["polysilicon"]] == 6000  # Daqo's 2015 expansion
    # installed: 7 M spindles at 0.09 t; of it the 2014 record spun 11% of 3.6 Mt of lint at 0.97 t per t
    yarn = c.spec.stages["cotton_yarn"]
    assert yarn.initial.capacity_units == pytest.approx(7e6 * 0.09)
    assert 0.11 * 3.6e6 / 0.97 / yarn.initial.capacity_units == pytest.approx(0.65, abs=0.01)  # a third idle
    assert not yarn.initial.under_construction_units and yarn.build_lag_years == 0  # built within the year
    assert not load_chain("xinjiang").initial_pipeline  # the default chain has none


def test_a_pipeline_arriving_out_of_reach_is_refused_naming_the_key():
    sc = _with_pipeline({2019: 1.0e6})  # 5 years after a 2014 start; the pipeline holds 3
    with pytest.raises(InputError, match=r"stages\.electrolytic_aluminium\.initial\.under_construction_units\.2019"
                                         r": must arrive 1-3 years after the scenario's start 2014"):
        run_scenario(sc)
    with pytest.raises(InputError, match="under_construction_units needs incumbents"):
        data = load_chain("xinjiang").spec.model_dump()
        data["stages"]["wafers"]["initial"] = {"capacity_units": 0, "firms": 0, "under_construction_units": {2017: 1}}
        chain_from_dict(data, "x")
