"""Ownership turnover (``economy.turnover``): closures at the scenario's rate fall on the weaker
firm of a random pair, and a successor takes over the plant with its capacity, loans, cash and
tax position, a productivity of its own and no loss record."""

import numpy as np
from conftest import ROOT
from valuechain.simulation.abm.model import ValueChainModel
from valuechain.simulation.config.scenario import load_scenario
from valuechain.simulation.economy import turnover
from valuechain.simulation.running.runner import run_scenario


def test_closure_counts_invert_the_poisson_cdf_and_never_exceed_the_cells_firms():
    # mean 0.05 x 20 = 1: P(0) = e^-1 = 0.3679, P(<=1) = 0.7358, P(<=2) = 0.9197, P(<=4) = 0.9963,
    # P(<=5) = 0.9994; mean 0.05 x 2 = 0.1: P(<=2) = 0.99985, so u = 0.99999 asks 3 of the 2 firms
    u = np.array([0.30, 0.50, 0.80, 0.999, 0.99999])
    producing = np.array([20, 20, 20, 20, 2])
    np.testing.assert_array_equal(turnover.closure_counts(u, producing, 0.05), [0, 1, 2, 5, 2])
    assert turnover.closure_counts(np.full(3, 0.999999), np.array([1, 2, 0]), 0.5).tolist() == [1, 2, 0]


def test_the_weaker_firm_of_each_drawn_pair_closes():
    per_cell = np.array([3, 0, 2])  # three producing firms in cell 0 (positions 0-2), none in 1, two in 2 (3-4)
    inv_phi = np.array([1.0, 1.3, 0.8, 0.9, 1.1])
    counts = np.array([2, 0, 1])
    # cell 0 draws firms 0 (u 0.1 -> 0) and 1 (u 0.5 -> 1): firm 1 is weaker (1/productivity 1.3),
    # then firms 2 and 1: firm 1 again (it closes once); cell 2 draws its first firm twice: position 3
    u = np.array([[0.1, 0.5], [0.9, 0.4], [0.2, 0.4]])
    np.testing.assert_array_equal(turnover.pick_closures(per_cell, counts, u, lambda p: inv_phi[p]), [1, 3])


def _model(rate: float = 0.05, **more) -> ValueChainModel:
    overrides = [f"firms.closure_rate_per_year={rate}", *[f"firms.{k}={v}" for k, v in more.items()]]
    return ValueChainModel(load_scenario(ROOT / "scenarios" / "baseline.yaml", overrides), rng=7)


def test_a_successor_keeps_the_plant_loans_cash_and_tax_clock_and_gets_its_own_productivity():
    model = _model()
    model.step()
    st = model.state
    before = {name: st.raw(name).copy() for name in ("capacity", "pending", "debt", "cash", "first_revenue_year",
                                                      "firm_id", "inv_productivity", "alive", "cell")}
    st.raw("loss_years")[:] = 1
    counts = model._turnover(np.random.default_rng(3))
    changed = np.flatnonzero(st.firm_id != before["firm_id"])
    assert changed.size == counts.sum() > 50
    for name in ("capacity", "pending", "debt", "cash", "first_revenue_year", "alive", "cell"):
        np.testing.assert_array_equal(st.raw(name), before[name], err_msg=name)
    assert np.all(before["capacity"][changed] > 0) and np.all(before["alive"][changed])  # producing firms only
    assert np.all(st.loss_years[changed] == 0) and np.all(np.delete(st.loss_years, changed)[st.alive[
        np.setdiff1d(np.arange(st.n), changed)]] == 1)
    assert np.all(st.firm_id[changed] >= before["firm_id"].max() + 1)  # new identities
    unchanged = np.setdiff1d(np.arange(st.n), changed)
    np.testing.assert_array_equal(st.inv_productivity[unchanged], before["inv_productivity"][unchanged])
    np.testing.assert_array_equal(np.bincount(st.cell[changed], minlength=st.n_cells), counts)


def test_closures_run_at_the_rate_and_fall_on_weaker_firms():
    model = _model(rate=0.05)
    model.step()
    st = model.state
    producing = st.alive & (st.capacity > 0)
    inv_phi = st.inv_productivity.copy()
    cell_mean = np.bincount(st.cell[producing], weights=inv_phi[producing], minlength=st.n_cells) / np.maximum(
        np.bincount(st.cell[producing], minlength=st.n_cells), 1)
    ids = st.firm_id.copy()
    gaps, closed, firms = [], 0, 0
    for seed in range(20):  # twenty draws of the same year's closures
        st.raw("firm_id")[:] = ids
        st.raw("inv_productivity")[:] = inv_phi
        counts = model._turnover(np.random.default_rng(seed))
        rows = np.flatnonzero(st.firm_id != ids)
        gaps.append(inv_phi[rows] - cell_mean[st.cell[rows]])
        closed, firms = closed + counts.sum(), firms + producing.sum()
    # Poisson at 5% less the rare pairs that draw one firm twice
    assert 0.045 < closed / firms <= 0.052
    # the weaker of two: 1/productivity above its cell's mean on average (lognormal sd 0.15: by about
    # 0.15 x 0.56, the expected maximum of two standard normals)
    assert np.mean(np.concatenate(gaps)) > 0.05


def test_no_turnover_at_rate_zero_or_without_exit():
    for overrides in (["firms.closure_rate_per_year=0"], ["firms.exit=false"]):
        sc = load_scenario(ROOT / "scenarios" / "baseline.yaml", ["replications=1", "horizon.years=4", *overrides])
        assert run_scenario(sc).stages.successions.sum() == 0


def test_turnover_moves_neither_capacity_nor_output_much_in_the_baseline():
    """Successions change who runs a plant, not the plant: the baseline's capacity path stays within
    1% of the path without turnover (only the successors' productivity differs)."""
    on, off = (run_scenario(load_scenario(ROOT / "scenarios" / "baseline.yaml",
                                          ["replications=2", f"firms.closure_rate_per_year={r}"])).stages
               for r in (0.05, 0.0))
    cap_on, cap_off = on.groupby("year").capacity.sum(), off.groupby("year").capacity.sum()
    assert np.max(np.abs(cap_on / cap_off - 1)) < 0.01
    assert on.successions.sum() > 0.04 * on.firms.sum()


def test_turnover_of_runs_side_by_side_is_each_run_alone():
    """The batched turnover (one pass over every run's rows, each run drawing from its own stream)
    closes in each run the firms the run alone closes and gives them the same successors, also for
    a run with no firms left and at the highest rate (half the firms a year; pairs drawn twice close once)."""
    for rate in (0.05, 0.5):
        sc = load_scenario(ROOT / "scenarios" / "baseline.yaml",
                           [f"firms.closure_rate_per_year={rate}", "firms.scale=0.1"])
        seeds = np.random.SeedSequence(11).spawn(4)
        batch = ValueChainModel(sc, rngs=seeds)
        alone = [ValueChainModel(sc, rng=s) for s in seeds]
        for model in (batch, *alone):
            model.step()
        st, per_run = batch.state, batch.state.cells_per_run
        empty = np.flatnonzero(st.alive & (st.cell // per_run == 2))  # run 2 loses every firm
        st.remove(empty)
        alone[2].state.remove(np.flatnonzero(alone[2].state.alive))
        year = batch.year
        successions = batch._turnover([batch.stream(year, 3, run=b) for b in range(4)])
        for b, model in enumerate(alone):
            own = model._turnover(model.stream(year, 3))
            np.testing.assert_array_equal(st.by_run(successions)[b], own)
            for c in range(per_run):  # each cell's rows as the run alone has them
                rows = slice(st.starts[b * per_run + c], st.ends[b * per_run + c])
                mine = slice(model.state.starts[c], model.state.ends[c])
                for name in ("inv_productivity", "loss_years", "capacity", "alive"):
                    np.testing.assert_array_equal(st.raw(name)[rows], model.state.raw(name)[mine], err_msg=name)
        counts = st.by_run(successions).sum(axis=1)
        assert counts[2] == 0 and counts.min(initial=0) == 0 and np.delete(counts, 2).min() > 0
        producing = st.by_run(np.diff(np.searchsorted(np.flatnonzero(st.capacity > 0), st.starts))).sum(axis=1)
        if rate == 0.5:
            assert np.delete(counts, 2).sum() > 0.3 * np.delete(producing, 2).sum()  # many firms close at once
