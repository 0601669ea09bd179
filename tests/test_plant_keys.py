"""The chain's stage keys ``recorded_firms_per_plant`` (the above-scale test applies to a plant's
sales per recorded firm) and ``new_plant_productivity`` (a new plant's productivity relative to
the incumbents' distribution): an analytic case and the equality with the threshold scaled, the
exact draws of the entrants, the direction in the recorded 2014 history, and bad values refused
with one line naming the file and key (docs/calibration.md §14.16)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import DATA, ROOT
from valuechain.simulation import run_scenario
from valuechain.simulation.abm import model as model_module
from valuechain.simulation.abm import state as state_module
from valuechain.simulation.abm.model import ValueChainModel
from valuechain.simulation.config.scenario import load_scenario
from valuechain.simulation.economy import firm, rules, year

from valuechain.cli import main


def tiny_with(folder: Path, **keys) -> Path:
    """The tiny scenario in ``folder`` with ``keys`` set on every stage of its chain."""
    shutil.copy(DATA / "tiny.yaml", folder / "tiny.yaml")
    chain = yaml.safe_load((DATA / "tiny_chain.yaml").read_text())
    for stage in chain["stages"].values():
        stage.update(keys)
    (folder / "tiny_chain.yaml").write_text(yaml.safe_dump(chain, sort_keys=False))
    return folder / "tiny.yaml"


def test_the_keys_default_to_one_and_the_default_chain_sets_neither():
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    assert (sc.chain.recorded_firms_per_plant == 1.0).all() and (sc.chain.new_plant_productivity == 1.0).all()
    history = load_scenario(ROOT / "scenarios" / "history_2014_recorded.yaml").chain
    garments = history.index["garments"]
    assert history.recorded_firms_per_plant[garments] == 3.3 and history.new_plant_productivity[garments] == 1.0
    others = np.arange(history.n_stages) != garments
    assert (history.recorded_firms_per_plant[others] == 1.0).all()
    assert (history.new_plant_productivity[others] == 1.0).all()


def test_a_plant_standing_for_n_firms_needs_n_times_the_threshold_in_sales(tmp_path):
    """Analytic: the year's output a plant must reach to count as above scale is n x 20 million
    yuan over its cell's sales per unit, exactly."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = ValueChainModel(load_scenario(tiny_with(tmp_path / "a")), rng=3)
    four = ValueChainModel(load_scenario(tiny_with(tmp_path / "b", recorded_firms_per_plant=4)), rng=3)
    one.step()
    four.step()
    k1, k4 = one.last_year.coefficients, four.last_year.coefficients
    np.testing.assert_array_equal(k1.sales_x, k4.sales_x)  # nothing else moves
    np.testing.assert_array_equal(k1.above_scale_units, rules.ABOVE_SCALE_SALES_YUAN / k1.sales_x)
    np.testing.assert_array_equal(k4.above_scale_units, 4 * rules.ABOVE_SCALE_SALES_YUAN / k4.sales_x)


@pytest.mark.parametrize("engine", ["vectorized", "reference"])
def test_n_firms_per_plant_equals_the_threshold_times_n(tmp_path, monkeypatch, engine):
    """The stage column with 3 recorded firms per plant at 20 million yuan is the column with one
    firm per plant at 60 million (the threshold that splits the tiny chain's stages), bit for bit,
    in both engines; every other column is unchanged."""
    with_three = run_scenario(load_scenario(tiny_with(tmp_path, recorded_firms_per_plant=3),
                                            ["replications=1"]), engine=engine).stages
    monkeypatch.setattr(rules, "ABOVE_SCALE_SALES_YUAN", 60e6)
    at_60m = run_scenario(load_scenario(DATA / "tiny.yaml", ["replications=1"]), engine=engine).stages
    assert with_three.equals(at_60m)
    monkeypatch.setattr(rules, "ABOVE_SCALE_SALES_YUAN", 20e6)
    at_20m = run_scenario(load_scenario(DATA / "tiny.yaml", ["replications=1"]), engine=engine).stages
    assert (with_three.output_above_scale < at_20m.output_above_scale).any()  # the test bites
    assert with_three.drop(columns="output_above_scale").equals(at_20m.drop(columns="output_above_scale"))


class AtFactorOne:
    """A chain seen with every stage's ``new_plant_productivity`` at 1 (everything else its own)."""

    def __init__(self, chain):
        self._chain = chain
        self.new_plant_productivity = np.ones_like(chain.new_plant_productivity)

    def __getattr__(self, name):
        return getattr(self._chain, name)


def test_new_plants_draw_their_productivity_and_divide_it_by_the_factor(tmp_path, monkeypatch):
    """The first year's entrants at a factor of 0.5 have exactly twice the 1/productivity of the
    same draws at 1 (the same seed, and the entry means held at the factor 1's, so that the counts
    are the same: investors foresee the factor, ``test_investors_judge_a_new_plant_at_the_factor``);
    the incumbents are the same."""
    means = model_module.entry_means
    monkeypatch.setattr(model_module, "entry_means", lambda k, chain, *a: means(k, AtFactorOne(chain), *a))
    added = []
    add = state_module.FirmState.add

    def watched(self, cells, **values):
        added.append((np.asarray(cells).copy(), np.asarray(values["inv_productivity"]).copy(),
                      np.asarray(values["first_revenue_year"]).copy()))
        return add(self, cells, **values)

    monkeypatch.setattr(state_module.FirmState, "add", watched)
    draws = {}
    for factor in (1.0, 0.5):
        folder = tmp_path / str(factor)
        folder.mkdir()
        added.clear()
        model = ValueChainModel(load_scenario(tiny_with(folder, new_plant_productivity=factor)), rng=5)
        model.step()
        draws[factor] = list(added)
    (incumbents1, entrants1), (incumbents05, entrants05) = draws[1.0], draws[0.5]
    np.testing.assert_array_equal(incumbents1[1], incumbents05[1])
    assert (entrants1[2] == firm.NO_REVENUE_YET).all() and entrants1[0].size > 0
    np.testing.assert_array_equal(entrants1[0], entrants05[0])
    np.testing.assert_array_equal(entrants05[1], entrants1[1] / 0.5)


def test_investors_judge_a_new_plant_at_the_factor(tmp_path):
    """Analytic: the expected new plants of a cell at a factor of 0.5 are the potential investors
    times the chance that a plant of 1/productivity 2 pays (the plants ``_entry`` builds), the same
    coefficients otherwise; fewer than at the factor 1, where the chance is a plant's of 1."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    models = {f: ValueChainModel(load_scenario(tiny_with(tmp_path / name, new_plant_productivity=f)), rng=3)
              for f, name in ((1.0, "a"), (0.5, "b"))}
    for m in models.values():
        m.step()
    m = models[0.5]
    k = m.last_year.coefficients
    args = (m.spec.firms, m.zone_shares, m.year, m.state.alive_count)
    at_half = year.entry_means(k, m.stacked, *args)
    as_if_one = year.entry_means(k, AtFactorOne(m.stacked), *args)
    assert (at_half <= as_if_one).all() and (at_half < as_if_one).any()
    tax_weight = k.base_tax_weight_k  # the tiny chain has no tax holidays
    assert not k.has_holidays
    for inv_phi, mean in ((2.0, at_half), (1.0, as_if_one)):
        q = (firm.increment_value(k, inv_phi, tax_weight) + k.labour_value_k) / k.entry_paid_factor - 1.0
        chance = rules.entry_probability(q, m.spec.firms.entry_hurdle_q, m.spec.firms.entry_dispersion_q)
        investors = year.potential_entrants(m.spec.firms, m.zone_shares, m.state.alive_count)
        investors = investors * k.entrant_multiplier + k.extra_entrants * m.spec.firms.scale * np.tile(
            m.zone_shares, m.stacked.n_stages)
        np.testing.assert_allclose(mean, investors * chance + k.placed_plants * m.spec.firms.scale
                                   * np.tile(m.zone_shares, m.stacked.n_stages), rtol=1e-12, atol=0)


# the recorded history's drive with all its plants of the stage's new-plant size (before §14.20)
VILLAGE_DRIVE = ("policy.investment_attraction.rules=[{stages: [garments], "
                 "placed_plants_per_year: {2015: 245, 2024: 0}, announced: 2015, orders_per_placed_plant: 0.4}]")


def test_slower_new_plants_leave_the_sales_with_the_incumbents(tmp_path):
    """The recorded history (2014-2016, the same seeds): with the drive's garment plants at the
    incumbents' productivity they take sales and the incumbents idle; at half of it the incumbents
    keep producing, so the above-scale output (the incumbents': every new plant is below scale, the
    drive as it was before its large plants, §14.20) is larger in 2016; fewer plants at work sell
    less of the region's variety at a higher price (``economy.armington``), so the stage's output is
    smaller."""
    chain = (ROOT / "scenarios" / "chains" / "xinjiang_2014.yaml").read_text()
    assert chain.count("    new_plant_productivity: 1.0 ") == 1
    garments = {}
    for factor in (0.5, 1.0):
        path = tmp_path / f"chain_{factor}.yaml"
        path.write_text(chain.replace("    new_plant_productivity: 1.0 ", f"    new_plant_productivity: {factor} "))
        sc = load_scenario(ROOT / "scenarios" / "history_2014_recorded.yaml",
                           [f"chain={path}", "replications=2", "horizon.years=3", VILLAGE_DRIVE])
        assert sc.chain.new_plant_productivity[sc.chain.index["garments"]] == factor
        stages = run_scenario(sc).stages
        garments[factor] = stages.query("stage == 'garments' and year == 2016").set_index("replication")
    slow, same = garments[0.5], garments[1.0]
    assert (slow.output_above_scale > 1.2 * same.output_above_scale).all()
    assert (slow.output < same.output).all() and (slow.price > same.price).all()


@pytest.mark.parametrize(("line", "message"), [
    ("recorded_firms_per_plant: 0.5", "stages.ore.recorded_firms_per_plant: input should be greater than or equal "
                                      "to 1 (got 0.5)"),
    ("recorded_firms_per_plant: -1", "stages.ore.recorded_firms_per_plant: input should be greater than or equal "
                                     "to 1 (got -1)"),
    ("recorded_firms_per_plant: .nan", "stages.ore.recorded_firms_per_plant: input should be a finite number "
                                       "(got nan)"),
    ("recorded_firm_per_plant: 2", "stages.ore.recorded_firm_per_plant: unknown key; did you mean "
                                   "'recorded_firms_per_plant'? (got 2)"),
    ("new_plant_productivity: 0", "stages.ore.new_plant_productivity: input should be greater than 0 (got 0)"),
    ("new_plant_productivity: -0.5", "stages.ore.new_plant_productivity: input should be greater than 0 (got -0.5)"),
    ("new_plant_productivity: .inf", "stages.ore.new_plant_productivity: input should be a finite number (got inf)"),
])
def test_bad_values_are_refused_with_one_line_naming_the_file_and_key(tiny_folder, capsys, line, message):
    text = (tiny_folder / "tiny_chain.yaml").read_text()
    first = text.index("    new_plant_capacity_units:")
    (tiny_folder / "tiny_chain.yaml").write_text(text[:first] + f"    {line}\n" + text[first:])
    try:
        code = main(["run", "tiny.yaml", "--out", "out"])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2
    assert err.splitlines() == [f"error: {tiny_folder / 'tiny_chain.yaml'}: {message}"] and out == ""
    assert not (tiny_folder / "out").exists()
