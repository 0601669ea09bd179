"""analysis.compare / cost / sensitivity: intervals that cover, paired beats unpaired, identities on
real runs, the frontier on hand-made points, Sobol and Morris on functions with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DATA
from valuechain.analysis import (
    compare,
    compare_many,
    cost_effectiveness,
    cost_value_points,
    efficient_frontier,
    load_results,
    morris_indices,
    outcomes,
    rank_mixes,
    sensitivity,
    sobol_indices,
    sweep_outcomes,
)
from valuechain.analysis.compare import format_table, summarize
from valuechain.analysis.cost import ratio_ci
from valuechain.simulation.config.errors import InputError

from valuechain.cli import main

TINY = str(DATA / "tiny.yaml")
KEYS = ["scenario", "replication", "year", "sector", "stage", "tier"]


# ----------------------------------------------------------------------------- synthetic results
def synthetic(values: np.ndarray, name: str, cost: np.ndarray | None = None, seed: int = 1):
    """A RunSet with one stage per column of ``values`` (replications x experiments), one year."""
    from valuechain.analysis.results import RunSet

    n_rep, n_exp = values.shape
    rep, exp = np.meshgrid(np.arange(n_rep), np.arange(n_exp), indexing="ij")
    st = pd.DataFrame({"scenario": name, "replication": rep.ravel(), "year": 2016, "sector": "equipment",
                       "stage": [f"s{e:04d}" for e in exp.ravel()], "tier": "deep",
                       "value_added": values.ravel(), "investment": values.ravel() / 2,
                       "employment": values.ravel() * 10})
    fc = st[KEYS].assign(lever="tax", fiscal_cost=0.0 if cost is None else cost.ravel())
    runs = pd.DataFrame({"scenario": name, "replication": np.arange(n_rep), "seed": seed})
    return RunSet(st, fc, runs, {"scenario_file": name})


def test_confidence_interval_covers_true_effect_at_nominal_rate():
    rng = np.random.default_rng(20240101)
    n_rep, n_exp, effect = 8, 400, 3.0
    shared = rng.normal(0, 40, (n_rep, n_exp))  # common random numbers: same draw in both
    base = 100 + shared + rng.normal(0, 2, (n_rep, n_exp))
    policy = 100 + effect + shared + rng.normal(0, 2, (n_rep, n_exp))
    table = compare(synthetic(policy, "policy"), synthetic(base, "base"), by="stage")
    assert len(table) == n_exp and (table["n"] == n_rep).all()
    covered = ((table["ci_low"] <= effect) & (effect <= table["ci_high"])).mean()
    assert 0.92 <= covered <= 0.98, covered
    # the 95% t interval half-width is t_{7, 0.975} * se
    assert np.allclose((table["ci_high"] - table["effect"]) / table["se"], 2.364624, atol=1e-5)


def test_paired_interval_is_tighter_than_unpaired():
    rng = np.random.default_rng(7)
    n_rep, n_exp, effect = 10, 200, 5.0
    shared = rng.normal(0, 100, (n_rep, n_exp))
    base = 1000 + shared + rng.normal(0, 2, (n_rep, n_exp))
    policy = 1000 + effect + shared + rng.normal(0, 2, (n_rep, n_exp))
    p, b = synthetic(policy, "policy"), synthetic(base, "base")
    paired = compare(p, b, by="stage")
    unpaired = compare(p, b, by="stage", paired=False)
    assert np.allclose(paired["effect"], unpaired["effect"])  # same point estimate
    assert (paired["se"] < unpaired["se"] / 5).all()
    assert ((paired["ci_low"] > 0).mean()) > 0.95  # the paired design detects the effect ...
    assert ((unpaired["ci_low"] > 0).mean()) < 0.2  # ... which the unpaired one mostly misses
    cover = ((unpaired["ci_low"] <= effect) & (effect <= unpaired["ci_high"])).mean()
    assert cover > 0.9


def test_summarize_edge_cases():
    s = summarize(np.zeros(5))
    assert s["effect"] == 0 and s["se"] == 0 and s["ci_low"] == 0 and s["p_value"] == 1.0
    one = summarize(np.array([2.0]))
    assert one["effect"] == 2.0 and np.isnan(one["se"]) and np.isnan(one["ci_low"])


# ----------------------------------------------------------------------------- real tiny runs
@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Baseline, cheaper power (0.30 instead of 0.40 yuan/kWh) and the same scenario again."""
    root = tmp_path_factory.mktemp("runs")
    runs = {"base": [], "power": ["--set", "policy.electricity_price.default=0.30"],
            "tax": ["--set", "policy.tax.default_rate=0.15"], "same": [],
            "other_seed": ["--seed", "99"]}
    for name, extra in runs.items():
        assert main(["run", TINY, "--out", str(root / name), "--replications", "6", *extra]) == 0
    return {name: root / name for name in runs}


def test_cheaper_electricity_raises_value_added(tiny_runs):
    region = compare(tiny_runs["power"], tiny_runs["base"])
    assert region.loc[0, "effect"] > 0 and region.loc[0, "ci_low"] > 0
    by_stage = compare(tiny_runs["power"], tiny_runs["base"], by="stage").set_index("stage")
    # the electricity-intensive metal stage (13,000 kWh/t) gains value added
    assert by_stage.loc["metal", "ci_low"] > 0
    assert list(by_stage.index) == ["ore", "metal", "parts"]  # upstream first
    cost = compare(tiny_runs["power"], tiny_runs["base"], "fiscal_cost", by="lever").set_index("lever")
    assert cost.loc["electricity_price", "effect"] > 0
    assert cost.drop(index="electricity_price")["effect"].abs().max() == 0


def test_cumulative_is_sum_of_years_and_pv0_is_cumulative(tiny_runs):
    p, b = tiny_runs["power"], tiny_runs["base"]
    for metric in ("value_added", "employment", "downstream_investment", "fiscal_cost"):
        cum = compare(p, b, metric)
        yearly = compare(p, b, metric, each_year=True)
        assert np.isclose(yearly["effect"].sum(), cum.loc[0, "effect"], rtol=1e-12)
        assert np.isclose(yearly["baseline_mean"].sum(), cum.loc[0, "baseline_mean"], rtol=1e-12)
        pv0 = compare(p, b, metric, pv=0.0)
        assert np.allclose(pv0[["effect", "se", "ci_low", "ci_high"]], cum[["effect", "se", "ci_low", "ci_high"]],
                           rtol=1e-12)
    # present value at 5%: each year's effect discounted to the first year
    pv = compare(p, b, pv=0.05).loc[0, "effect"]
    yearly = compare(p, b, each_year=True)
    manual = (yearly["effect"] / 1.05 ** (yearly["year"] - yearly["year"].min())).sum()
    assert np.isclose(pv, manual, rtol=1e-12) and pv < yearly["effect"].sum()
    one = compare(p, b, year=2020).loc[0, "effect"]
    assert np.isclose(one, yearly.set_index("year").loc[2020, "effect"])


def test_groups_add_up_to_the_region(tiny_runs):
    p, b = tiny_runs["power"], tiny_runs["base"]
    total = compare(p, b).loc[0, "effect"]
    for by in ("sector", "stage", "tier"):
        assert np.isclose(compare(p, b, by=by)["effect"].sum(), total, rtol=1e-12)


def test_inputs_directory_runset_and_results_agree(tiny_runs):
    from valuechain.simulation import load_scenario, run_scenario

    from_dirs = compare(tiny_runs["power"], tiny_runs["base"])
    from_sets = compare(load_results(tiny_runs["power"]), load_results(tiny_runs["base"]))
    pd.testing.assert_frame_equal(from_dirs, from_sets)
    res_p = run_scenario(load_scenario(TINY, ["policy.electricity_price.default=0.30", "replications=6"]))
    res_b = run_scenario(load_scenario(TINY, ["replications=6"]))
    from_results = compare(res_p, res_b)
    assert np.isclose(from_results.loc[0, "effect"], from_dirs.loc[0, "effect"], rtol=1e-9)


def test_same_scenario_has_exactly_zero_effect(tiny_runs):
    t = compare(tiny_runs["same"], tiny_runs["base"], by="stage")
    assert (t["effect"] == 0).all() and (t["se"] == 0).all()


def test_unpaired_runs_are_refused_and_bad_input_is_one_line(tiny_runs):
    with pytest.raises(InputError, match="not paired"):
        compare(tiny_runs["other_seed"], tiny_runs["base"])
    assert compare(tiny_runs["other_seed"], tiny_runs["base"], paired=False).loc[0, "n"] == 6
    with pytest.raises(InputError, match=r"--metric: unknown metric; choose one of value_added"):
        compare(tiny_runs["power"], tiny_runs["base"], "value_add")
    with pytest.raises(InputError, match=r"--by: cannot group value_added"):
        compare(tiny_runs["power"], tiny_runs["base"], by="lever")
    with pytest.raises(InputError, match=r"--year: not a simulated year \(2016-2025\)"):
        compare(tiny_runs["power"], tiny_runs["base"], year=2040)
    with pytest.raises(InputError, match="no such directory"):
        compare(tiny_runs["power"].parent / "missing", tiny_runs["base"])


def test_compare_many_and_processing_depth(tiny_runs):
    t = compare_many({"power": tiny_runs["power"], "tax": tiny_runs["tax"]}, tiny_runs["base"], by="tier")
    assert list(t["scenario"].unique()) == ["power", "tax"] and len(t) == 6
    depth = outcomes(tiny_runs["base"], "processing_depth")
    assert ((depth > 0) & (depth < 1)).all()
    # a share's effect is in shares and its pct_effect relative to the baseline's share: the header says which
    d = compare(tiny_runs["power"], tiny_runs["base"], "processing_depth")
    assert np.isclose(d.loc[0, "pct_effect"], 100 * d.loc[0, "effect"] / d.loc[0, "baseline_mean"])
    assert format_table(d).splitlines()[0].split(", ", 2)[2].startswith(
        "share of value added (effect x 100 = percentage points; pct_effect: relative to the baseline's share); ")


# ----------------------------------------------------------------------------- cost-effectiveness
def test_ratio_delta_method():
    rng = np.random.default_rng(3)
    covered = 0
    for _ in range(300):
        dc = rng.normal(100, 10, 12)
        dy = 2.5 * dc + rng.normal(0, 15, 12)  # true ratio 2.5
        r = ratio_ci(dy, dc)
        covered += r["ci_low"] <= 2.5 <= r["ci_high"]
        assert np.isclose(r["ratio"], dy.sum() / dc.sum())
    assert 0.90 <= covered / 300 <= 0.99
    assert np.isnan(ratio_ci(np.ones(4), np.zeros(4))["ratio"])


def test_cost_effectiveness_on_tiny_runs(tiny_runs):
    mixes = {"power": tiny_runs["power"], "tax": tiny_runs["tax"]}
    ce = cost_effectiveness(mixes, tiny_runs["base"])
    assert set(ce["metric"]) == {"value_added", "downstream_investment", "employment"}
    va = ce[ce.metric == "value_added"].set_index("scenario")
    # ratio per 10,000 yuan = (delta in million yuan) / (delta cost in million yuan) * 10,000
    assert np.allclose(va["ratio"], va["delta"] / va["delta_fiscal_cost"] * 1e4)
    assert np.isclose(va.loc["power", "cost_electricity_price"], va.loc["power", "delta_fiscal_cost"])
    assert va.loc["tax", "cost_tax"] > 0 and va.loc["tax", "cost_electricity_price"] == 0
    assert (va["ci_low"] <= va["ratio"]).all() and (va["ratio"] <= va["ci_high"]).all()
    jobs = ce[ce.metric == "employment"].set_index("scenario")
    assert np.allclose(jobs["ratio"], jobs["delta"] / (jobs["delta_fiscal_cost"] * 1e6) * 1e4)
    assert jobs["unit"].iloc[0] == "worker-years per 10,000 yuan"
    ranked = rank_mixes(ce)
    assert list(ranked["rank"]) == [1, 2] and ranked["ratio"].is_monotonic_decreasing
    rep = cost_effectiveness(mixes, tiny_runs["base"], method="replication")
    assert rep.attrs["method"] == "replication"


def test_frontier_on_hand_made_points():
    pts = pd.DataFrame({
        "scenario": list("abcdefghi"),
        "fiscal_cost": [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 1.5, 4.0, np.nan],
        "value_added": [1.0, 3.0, 2.0, 3.0, 5.0, 4.0, 0.5, 5.0, 9.0],
    })
    # a: cheapest; b: dominates c (same cost, more) and d (less cost, same value); e and its twin h
    # are the best; f costs more than e for less; g costs more than a for less; i has no cost
    on = efficient_frontier(pts)
    assert list(pts.scenario[on]) == ["a", "b", "e", "h"]
    one = efficient_frontier(pts.iloc[[0]])
    assert one.all()


def test_cost_value_points_marks_the_frontier(tiny_runs):
    pts = cost_value_points({"power": tiny_runs["power"], "tax": tiny_runs["tax"], "same": tiny_runs["same"]},
                            tiny_runs["base"])
    same = pts.set_index("scenario").loc["same"]
    assert same["fiscal_cost"] == 0 and same["value_added"] == 0 and same["on_frontier"]
    assert pts.attrs["relative_to_baseline"]


# ----------------------------------------------------------------------------- sensitivity
def linear(X: np.ndarray) -> np.ndarray:
    """Y = 4 x1 + 2 x2 + 0 x3 on the unit cube: S1 = (16, 4, 0) / 20, no interactions."""
    return X @ np.array([4.0, 2.0, 0.0])


PROBLEM = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0.0, 1.0]] * 3}


def test_sobol_indices_of_a_known_function_with_replication_noise():
    from SALib.sample import sobol as sample

    X = sample.sample(PROBLEM, 256, calc_second_order=False, seed=1)
    rng = np.random.default_rng(2)
    Y = linear(X)[:, None] + rng.normal(0, 0.05, (len(X), 4))  # 4 replications
    s = sobol_indices(Y, PROBLEM, n_boot=50, seed=3).set_index("parameter")
    assert np.allclose(s["S1"], [0.8, 0.2, 0.0], atol=0.06)
    assert np.allclose(s["ST"], [0.8, 0.2, 0.0], atol=0.06)
    for col in ("S1_conf", "S1_rep_low", "S1_rep_high", "S1_rep_sd", "S1_single_sd", "ST_rep_sd"):
        assert s[col].notna().all()
    assert (s["S1_rep_low"] <= s["S1_rep_high"]).all()
    assert s.attrs["noise_share"] < 0.01
    noisy = sobol_indices(linear(X)[:, None] + rng.normal(0, 1.0, (len(X), 4)), PROBLEM, n_boot=50, seed=3)
    assert noisy.attrs["noise_share"] > 10 * s.attrs["noise_share"]
    assert noisy["S1_rep_sd"].mean() > s["S1_rep_sd"].mean()


def test_sobol_confidence_intervals_are_reproducible_at_seed_zero():
    """SALib seeds its bootstrap only for a truthy seed: the default seed 0 must still give the same
    half-widths whatever numpy's global random state is."""
    from SALib.sample import sobol as sample

    X = sample.sample(PROBLEM, 16, calc_second_order=False, seed=1)
    Y = linear(X)[:, None] + np.random.default_rng(2).normal(0, 0.05, (len(X), 2))
    np.random.seed(1)
    first = sobol_indices(Y, PROBLEM, n_boot=2, seed=0)
    np.random.seed(2)
    again = sobol_indices(Y, PROBLEM, n_boot=2, seed=0)
    for col in ("S1_conf", "ST_conf"):
        np.testing.assert_array_equal(first[col], again[col])


def test_morris_screening_of_a_known_function():
    from SALib.sample import morris as sample

    X = sample.sample(PROBLEM, 20, num_levels=4, seed=1)
    Y = linear(X)[:, None] + np.random.default_rng(5).normal(0, 0.01, (len(X), 3))
    m = morris_indices(X, Y, PROBLEM, num_levels=4, n_boot=30).set_index("parameter")
    assert np.allclose(m["mu_star"], [4.0, 2.0, 0.0], atol=0.05)  # elementary effect = slope x range
    assert np.allclose(m["sigma"], 0.0, atol=0.05)  # linear: no interactions
    assert (m["mu_star_rep_sd"] < 0.05).all()


@pytest.fixture(scope="module")
def tiny_sweeps(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweeps")
    params = ("parameters:\n  policy.electricity_price.default: {low: 0.25, high: 0.45}\n"
              "  policy.tax.default_rate: {low: 0.24, high: 0.25}\n")
    out = {}
    for design, extra in (("sobol", "samples: 4\n"), ("morris", "samples: 4\n"), ("grid", "")):
        body = params if design != "grid" else ("parameters:\n  policy.electricity_price.default: [0.3, 0.4]\n"
                                                "  policy.tax.default_rate: [0.15, 0.25]\n")
        f = root / f"{design}.yaml"
        f.write_text(f"name: tiny_{design}\nbase: {TINY}\ndesign: {design}\n{extra}replications: 2\n{body}")
        assert main(["sweep", str(f), "--out", str(root / design), "--workers", "1", "--quiet"]) == 0
        out[design] = root / design
    return out


def test_sensitivity_on_sweep_directories(tiny_sweeps):
    s = sensitivity(tiny_sweeps["sobol"], "value_added", n_boot=20)
    assert list(s["parameter"]) == ["policy.electricity_price.default", "policy.tax.default_rate"]
    assert s[["S1", "ST", "S1_rep_sd"]].notna().all().all() and s.attrs["points"] == 4 * 4
    m = sensitivity(tiny_sweeps["morris"], "value_added", n_boot=20).set_index("parameter")
    assert m.attrs["method"] == "morris"
    # power at 0.25-0.45 yuan/kWh moves value added far more than the tax rate at 24-25%
    assert m.loc["policy.electricity_price.default", "mu_star"] > m.loc["policy.tax.default_rate", "mu_star"]
    with pytest.raises(InputError, match="sensitivity needs a sweep with design: sobol"):
        sensitivity(tiny_sweeps["grid"])
    frame = sweep_outcomes(tiny_sweeps["grid"], "value_added")
    assert len(frame) == 4 * 2 and "policy.tax.default_rate" in frame


def test_sobol_precision_warning_names_the_widest_half_width_above_the_threshold():
    """A known function: at N = 256 the widest 95% half-width (S1 of a, about 0.14) exceeds 0.1, at
    N = 1024 (about 0.07: half, as 1/sqrt(N)) none does and there is nothing to say."""
    from SALib.sample import sobol as sample
    from valuechain.analysis.sensitivity import SOBOL_MAX_HALF_WIDTH, sobol_precision_warning

    assert SOBOL_MAX_HALF_WIDTH == 0.1
    widest = {}
    for n in (256, 1024):
        X = sample.sample(PROBLEM, n, calc_second_order=False, seed=1)
        Y = linear(X)[:, None] + np.random.default_rng(2).normal(0, 0.05, (len(X), 2))
        s = sobol_indices(Y, PROBLEM, n_boot=2)
        conf = s.set_index("parameter")[["S1_conf", "ST_conf"]]
        widest[n] = conf.to_numpy().max()
        if n == 256:
            assert conf.loc["a", "S1_conf"] == widest[n] > 0.1
            assert sobol_precision_warning(s) == (
                f"Sobol indices imprecise with N = 256 base samples: the 95% confidence half-width of S1 of a is "
                f"{widest[n]:.2f} (above 0.1); more samples narrow it (about as 1/sqrt(N))")
            assert sobol_precision_warning(s, max_half_width=widest[n]) is None  # at the threshold: fine
        else:
            assert widest[n] < 0.1 and sobol_precision_warning(s) is None
    assert 0.4 < widest[1024] / widest[256] < 0.6


def test_plot_sobol_on_a_sweep_with_few_base_samples_warns_once_on_stderr(tiny_sweeps, tmp_path, capsys):
    """N = 4: one warning line on stderr naming the sweep (by its name), the widest half-width and its index; exit 0,
    the figure written. A Morris sweep (no Sobol half-widths) prints no warning."""
    from valuechain.analysis.sensitivity import SOBOL_MAX_HALF_WIDTH

    out = tmp_path / "sobol.png"
    assert main(["plot", str(tiny_sweeps["sobol"]), "--kind", "sobol", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"wrote {out}\n" and out.is_file()
    conf = sensitivity(tiny_sweeps["sobol"], "value_added").set_index("parameter")[["S1_conf", "ST_conf"]]
    capsys.readouterr()
    (parameter, column), widest = conf.stack().idxmax(), conf.to_numpy().max()
    assert widest > SOBOL_MAX_HALF_WIDTH
    assert captured.err == ("warning: sweep 'tiny_sobol': Sobol indices of value_added imprecise with N = 4 "
                            f"base samples: the 95% confidence half-width of {column[:2]} of {parameter} is "
                            f"{widest:.2f} (above 0.1); more samples narrow it (about as 1/sqrt(N))\n")
    assert main(["plot", str(tiny_sweeps["morris"]), "--kind", "sobol", "--out", str(tmp_path / "morris.png")]) == 0
    assert capsys.readouterr().err == ""


def test_readme_analysis_example_runs(tmp_path, monkeypatch):
    """The Python example of the README's "Analysis and plots" section runs as written."""
    import re
    import shutil

    from conftest import ROOT

    section = (ROOT / "README.md").read_text().split("## Analysis and plots", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(code) == 1
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    exec(compile(code[0], "README.md", "exec"), {"__name__": "__main__"})  # the snippet is a script
    import matplotlib.pyplot as plt

    plt.close("all")
    assert (tmp_path / "chain_package.png").stat().st_size > 1024


def test_physical_quantities_are_compared_by_stage_only():
    from valuechain.analysis.compare import check_metric

    with pytest.raises(InputError) as err:
        check_metric("capacity", "tier")
    assert err.value.line() == ("--metric: is in each stage's own physical unit (t, pieces, kWh...), which do not "
                                "add up across stages; compare it --by stage (got capacity)")
    check_metric("output", "stage")  # by stage: fine


def test_a_sweep_file_can_name_a_built_in_base(tmp_path):
    from valuechain.simulation.config.sweep import load_sweep

    f = tmp_path / "small.yaml"
    f.write_text("name: small\nbase: sweep_base_levers\nparameters:\n  policy.electricity_price.default: [0.3, 0.4]\n"
                 "replications: 1\n")
    sweep = load_sweep(f)
    assert len(sweep.points) == 2 and sweep.base.name == "sweep_base_levers"


def test_compare_says_when_it_pairs_fewer_replications_than_a_side_has():
    from valuechain.analysis import compare
    from valuechain.simulation import load_scenario, run_scenario

    two = run_scenario(load_scenario(TINY, ["replications=2"]))
    four = run_scenario(load_scenario(TINY, ["replications=4", "policy.electricity_price.default=0.30"]))
    table = compare(four, two)
    assert table["n"].iloc[0] == 2
    assert table.attrs["note"].endswith("paired over the 2 replication(s) both have (tiny: 4, tiny: 2)")
