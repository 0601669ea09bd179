"""Comparisons that refuse to mislead: runs of different economies (chain, start year, horizon,
firm scale) are refused with exit 2 and one line; overridden runs get their own name and folder;
every documented command works on a run folder and on a sweep folder or refuses in one line."""

from __future__ import annotations

import json
import shutil

import matplotlib.pyplot as plt
import pytest
from conftest import DATA
from valuechain.analysis import compare, cost_effectiveness, load_results, load_sweep, processing_depth, sweep_outcomes
from valuechain.simulation.config.errors import InputError

from valuechain.cli import main

TINY = str(DATA / "tiny.yaml")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("comparable")
    todo = {
        "base": [],
        "power": ["--set", "policy.electricity_price.default=0.30"],
        "half": ["--set", "firms.scale=0.5"],
        "short": ["--set", "horizon.years=6"],
        "late": ["--set", "horizon.start=2017"],
        "seed9": ["--seed", "9"],
        "patient": ["--set", "firms.evaluation_years=10"],
    }
    for name, extra in todo.items():
        assert main(["run", TINY, "--out", str(root / "runs" / name), "--replications", "2", *extra]) == 0
    # the same chain under another file name, and an edited copy of it
    shutil.copy(DATA / "tiny_chain.yaml", root / "renamed_chain.yaml")
    edited = (DATA / "tiny_chain.yaml").read_text().replace("price_yuan_per_unit: 3000", "price_yuan_per_unit: 3100")
    (root / "edited_chain.yaml").write_text(edited)
    for name in ("renamed", "edited"):
        sc = root / f"{name}.yaml"
        sc.write_text(f"name: {name}\nchain: {name}_chain.yaml\nhorizon: {{start: 2016, years: 10}}\n"
                      "replications: 2\nseed: 7\n")
        assert main(["run", str(sc), "--out", str(root / "chains" / name)]) == 0
    sweep = root / "mixes.yaml"
    sweep.write_text(f"name: mixes\nbase: {TINY}\ndesign: mixes\nreplications: 2\nmixes:\n"
                     "  - {name: base, set: {}}\n"
                     "  - {name: power_030, set: {policy.electricity_price.default: 0.30}}\n"
                     "  - {name: tax_015, set: {policy.tax.default_rate: 0.15}}\n")
    assert main(["sweep", str(sweep), "--out", str(root / "mixes"), "--workers", "1", "--quiet"]) == 0
    grid = root / "grid.yaml"
    grid.write_text(f"name: grid\nbase: {TINY}\ndesign: grid\nreplications: 2\nparameters:\n"
                    "  policy.electricity_price.default: [0.3, 0.4]\n  policy.tax.default_rate: [0.15, 0.25]\n")
    assert main(["sweep", str(grid), "--out", str(root / "grid"), "--workers", "1", "--quiet"]) == 0
    return root


def err_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line
    return err.strip()


@pytest.mark.parametrize("name, key, got, base_value", [
    ("half", "firms.scale", "0.5", "1.0"),
    ("short", "horizon.years", "6", "10"),
    ("late", "horizon.start", "2017", "2016"),
])
def test_compare_refuses_a_different_economy(runs, capsys, name, key, got, base_value):
    a, b = runs / "runs" / name, runs / "runs" / "base"
    assert main(["compare", str(a), str(b)]) == 2
    assert err_line(capsys) == (
        f"error: {a}: {key}: differs from {b} ({base_value}), so the two runs simulate economies of different "
        f"size or years; rerun one of them with {key}={base_value} before you compare (got {got})")


@pytest.mark.parametrize("kind", ["chain", "effects", "paths"])
def test_plot_refuses_a_different_economy(runs, tmp_path, capsys, kind):
    out = tmp_path / "f.png"
    assert main(["plot", str(runs / "runs" / "half"), "--kind", kind, "--baseline", str(runs / "runs" / "base"),
                 "--out", str(out)]) == 2
    assert "firms.scale: differs from" in err_line(capsys)
    assert not out.exists()


def test_python_api_refuses_too(runs):
    with pytest.raises(InputError, match=r"horizon.years: differs from .*\(got 6\)"):
        compare(runs / "runs" / "short", runs / "runs" / "base")
    with pytest.raises(InputError, match=r"firms.scale: differs"):
        cost_effectiveness({"half": runs / "runs" / "half"}, runs / "runs" / "base")


def test_a_difference_outside_the_policy_is_named_by_compare_and_refused_by_cost(runs, capsys):
    """Sides that differ in a behavioural setting (same size and years): compare measures that
    difference too and says so in its note line; cost refuses, since a cost per yuan would credit
    the policy with it; a difference in the policy alone is neither named nor refused."""
    patient, base, power = runs / "runs" / "patient", runs / "runs" / "base", runs / "runs" / "power"
    assert main(["compare", str(patient), str(base)]) == 0
    note = capsys.readouterr().out.splitlines()[1]
    assert note.endswith(f"; the two sides also differ outside the policy (firms.evaluation_years 10 in {patient} "
                         f"against 20 in {base}): the effect is that of these settings and the policy together")
    assert main(["cost", str(patient), str(base)]) == 2
    assert err_line(capsys) == (
        f"error: {patient}: firms.evaluation_years: differs from {base} (20) outside the policy, so the difference "
        "is not the policy's alone; rerun one of them with firms.evaluation_years=20 before you compare costs "
        "(got 10)")
    with pytest.raises(InputError, match=r"firms.evaluation_years: differs from .* outside the policy"):
        cost_effectiveness({"patient": patient}, base)
    assert main(["compare", str(power), str(base)]) == 0
    assert "outside the policy" not in capsys.readouterr().out
    assert main(["cost", str(power), str(base)]) == 0


def test_parameter_draws_are_judged_by_the_draws_not_the_scenario_value_they_override(runs, tmp_path, capsys):
    """Both sides with the same draws: costed, even where a drawn key's scenario value differs (the
    draws set it); other draws (3 against 2: a Latin hypercube of 2 is not the first 2 of 3) or
    draws on one side only (the pairing check's line): refused, one line."""
    out = {}
    for name, extra in {"base2": ["--parameter-draws", "2"], "power2": ["--parameter-draws", "2", "--set",
                                                                         "policy.electricity_price.default=0.30"],
                        "base3": ["--parameter-draws", "3"],
                        "power_ac": ["--parameter-draws", "2", "--set", "policy.electricity_price.default=0.30",
                                     "--set", "firms.adjustment_cost=100"],
                        "plain": []}.items():
        out[name] = tmp_path / name
        assert main(["run", TINY, "--out", str(out[name]), "--replications", "1", *extra]) == 0
    capsys.readouterr()
    assert main(["cost", str(out["power2"]), str(out["base2"])]) == 0
    assert main(["cost", str(out["power_ac"]), str(out["base2"])]) == 0
    capsys.readouterr()
    assert main(["cost", str(out["power2"]), str(out["base3"])]) == 2
    assert err_line(capsys) == (
        f"error: {out['power2']}: parameter_draws: the behavioural parameters drawn differ from {out['base3']}'s "
        "(3 draws), so the difference is not the policy's alone; run both with the same --parameter-draws, seed "
        "and parameter ranges before you compare costs (got 2 draws)")
    # draws on one side only, also where the seeds agree (draw 0's replication 0 has the plain run's seed)
    for command in (["cost"], ["compare"]):
        assert main([*command, str(out["power2"]), str(out["plain"])]) == 2
        assert err_line(capsys) == (
            f"error: {out['power2']}: manifest.parameter_draws: {out['power2']} was run with 2 parameter draws and "
            f"{out['plain']} without, so their replications are not paired; run {out['plain']}'s scenario again "
            "with the same --parameter-draws 2 --replications 1")
    assert main(["compare", str(out["power2"]), str(out["plain"]), "--unpaired"]) == 0


def test_a_manifest_of_another_version_is_compared_on_the_settings_both_record(runs, tmp_path, capsys):
    """A key the schema no longer knows (an older manifest) is neither reported nor suggested, and
    the keys the other side's schema fills in are not phantom differences."""
    old = tmp_path / "old_base"
    shutil.copytree(runs / "runs" / "base", old)
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["scenario"]["firms"]["retired_setting"] = 3
    del manifest["scenario"]["shocks"]["demand_elasticity_factor"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    assert main(["compare", str(runs / "runs" / "power"), str(old)]) == 0
    assert "outside the policy" not in capsys.readouterr().out
    assert main(["cost", str(runs / "runs" / "power"), str(old)]) == 0


def test_compare_of_a_folder_names_each_scenarios_difference_outside_the_policy(runs, tmp_path, capsys):
    folder = tmp_path / "set"
    for name in ("power", "patient"):  # the one that differs read second
        shutil.copytree(runs / "runs" / name, folder / f"{'ab'[name == 'patient']}_{name}")
    assert main(["compare", str(folder), str(runs / "runs" / "base")]) == 0
    note = capsys.readouterr().out.splitlines()[1]
    assert f"firms.evaluation_years 10 in {folder / 'b_patient'} against 20 in {runs / 'runs' / 'base'}" in note


def test_a_sweep_frontier_refuses_points_that_differ_outside_the_policy(runs, tmp_path, capsys):
    sweep = tmp_path / "patience.yaml"
    sweep.write_text(f"name: patience\nbase: {TINY}\ndesign: mixes\nreplications: 2\nmixes:\n"
                     "  - {name: power, set: {policy.electricity_price.default: 0.30}}\n"
                     "  - {name: patient, set: {firms.evaluation_years: 10}}\n")
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "sw"), "--workers", "1", "--quiet"]) == 0
    capsys.readouterr()
    out = tmp_path / "f.png"
    assert main(["plot", str(tmp_path / "sw"), "--kind", "frontier", "--baseline", str(runs / "runs" / "base"),
                 "--out", str(out)]) == 2
    assert err_line(capsys) == (
        f"error: patience: point 1: firms.evaluation_years: differs from {runs / 'runs' / 'base'} (20) outside the "
        "policy, so the difference is not the policy's alone; rerun one of them with firms.evaluation_years=20 "
        "before you compare costs (got 10)")
    assert not out.exists()
    drawn = tmp_path / "drawn_base"  # a sweep draws no parameters: a baseline that did is refused
    assert main(["run", TINY, "--out", str(drawn), "--replications", "2", "--parameter-draws", "2"]) == 0
    capsys.readouterr()
    assert main(["plot", str(tmp_path / "sw"), "--kind", "frontier", "--baseline", str(drawn), "--out", str(out)]) == 2
    assert "manifest.parameter_draws: " in err_line(capsys)
    assert not out.exists()


def test_chain_is_compared_by_content(runs, capsys):
    renamed, edited = runs / "chains" / "renamed", runs / "chains" / "edited"
    base = runs / "runs" / "base"
    assert main(["compare", str(renamed), str(base)]) == 0  # same chain in another file: comparable
    capsys.readouterr()
    assert main(["compare", str(edited), str(base)]) == 2
    line = err_line(capsys)
    h_edit = json.loads((edited / "manifest.json").read_text())["chain_hash"]
    h_base = json.loads((base / "manifest.json").read_text())["chain_hash"]
    assert h_edit != h_base and len(h_base) == 16
    assert line == (f"error: {edited}: chain: was simulated on a different chain (content hash {h_edit}) than "
                    f"{base} ({h_base}); compare only runs on the same chain (got {h_edit})")


def test_a_share_metric_is_headed_as_a_weighted_mean_not_cumulative(runs, capsys):
    power, base = str(runs / "runs" / "power"), str(runs / "runs" / "base")
    assert main(["compare", power, base, "--metric", "processing_depth"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert head == ("processing_depth: scenario minus baseline, value-added-weighted mean over 2016-2025, share of "
                    "value added (effect x 100 = percentage points; pct_effect: relative to the baseline's share); "
                    "paired 95% t interval over replications")
    assert main(["compare", power, base, "--metric", "processing_depth", "--pv", "0.05"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(
        "processing_depth: scenario minus baseline, discounted (5.0%) value-added-weighted mean over 2016-2025, ")
    # what the header says: the share of the cumulated value added = the value-added-weighted mean of the years'
    st = load_results(base).stages
    deep = st[st.tier == "deep"].groupby(["replication", "year"]).value_added.sum()
    va = st.groupby(["replication", "year"]).value_added.sum()
    share, weight = (deep / va).unstack(), va.unstack()
    weighted = ((share * weight).sum(axis=1) / weight.sum(axis=1)).mean()
    table = compare(base, base, "processing_depth")
    assert table.baseline_mean.iloc[0] == pytest.approx(weighted, rel=1e-12)
    assert table.baseline_mean.iloc[0] != pytest.approx(share.mean(axis=1).mean(), rel=1e-9)  # not the plain mean


def test_sweep_manifest_has_the_chain_hash(runs):
    base = json.loads((runs / "runs" / "base" / "manifest.json").read_text())
    sweep = json.loads((runs / "mixes" / "manifest.json").read_text())
    assert sweep["chain_hash"] == base["chain_hash"]


def test_header_states_years_and_what_the_interval_covers(runs, capsys):
    assert main(["compare", str(runs / "runs" / "power"), str(runs / "runs" / "base")]) == 0
    head, note = capsys.readouterr().out.splitlines()[:2]
    assert "cumulative 2016-2025" in head and "paired 95% t interval" in head
    assert note == ("note: intervals and p-values cover simulation (replication) noise only, not uncertainty in "
                    "the model's parameters")


def test_unpaired_is_offered_and_works(runs, capsys):
    a, b = runs / "runs" / "seed9", runs / "runs" / "base"
    assert main(["compare", str(a), str(b)]) == 2
    assert "not paired; pass --unpaired (paired=False) for the Welch interval" in err_line(capsys)
    assert main(["compare", str(a), str(b), "--unpaired"]) == 0
    assert "unpaired 95% t interval" in capsys.readouterr().out


def test_a_run_with_set_gets_its_own_name_folder_and_manifest(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", TINY, "--replications", "1", "--set", "policy.electricity_price.default=0.30"]) == 0
    out = tmp_path / "results" / "tiny_electricity_price.default-0.30"
    assert f"results: {out.relative_to(tmp_path)}/" in capsys.readouterr().out
    assert not (tmp_path / "results" / "tiny").exists()  # never the scenario's own default folder
    m = json.loads((out / "manifest.json").read_text())
    assert m["overrides"] == ["policy.electricity_price.default=0.30"]
    assert m["scenario"]["name"] == "tiny_electricity_price.default-0.30" and m["scenario_name_in_file"] == "tiny"
    assert set(load_results(out).stages["scenario"]) == {"tiny_electricity_price.default-0.30"}
    assert main(["run", TINY, "--replications", "1", "--name", "cheap_power", "--set",
                 "policy.electricity_price.default=0.30"]) == 0
    m = json.loads((tmp_path / "results" / "cheap_power" / "manifest.json").read_text())
    assert m["scenario"]["name"] == "cheap_power" and m["overrides"] == ["policy.electricity_price.default=0.30"]
    assert main(["run", TINY, "--name", "bad name"]) == 2
    assert err_line(capsys) == "error: --name: must be 1-100 letters, digits, _ . or - (got bad name)"


def test_titles_show_the_overrides(runs):
    from valuechain.analysis import plot_chain

    fig = plot_chain(runs / "runs" / "power", runs / "runs" / "base")
    title = fig.axes[0].get_title(loc="left")
    plt.close(fig)
    assert title.startswith("tiny with policy.electricity_price.default=0.30 vs tiny: "
                            "the scenario's value added by stage")


def test_wrong_kind_of_file_is_named(runs, capsys):
    sweep, scenario, chain = runs / "mixes.yaml", TINY, str(DATA / "tiny_chain.yaml")
    assert main(["run", str(sweep)]) == 2
    assert err_line(capsys) == (f"error: {sweep}: this is a sweep file; use `valuechain sweep FILE` "
                                "(valuechain run takes a scenario file)")
    assert main(["sweep", scenario]) == 2
    assert err_line(capsys) == (f"error: {scenario}: this is a scenario file; use `valuechain run FILE` "
                                "(valuechain sweep takes a sweep file)")
    assert main(["run", chain]) == 2
    assert "this is a chain file; name it in a scenario's `chain:` key" in err_line(capsys)
    assert main(["sweep", "baseline"]) == 2  # a built-in scenario's name
    assert "this is a scenario file; use `valuechain run FILE`" in err_line(capsys)


# ----------------------------------------------------------------- each command on each kind of folder
def test_compare_a_sweep_against_a_run(runs, capsys):
    assert main(["compare", str(runs / "mixes"), str(runs / "runs" / "base")]) == 0
    out = capsys.readouterr().out
    for name in ("base", "power_030", "tax_015"):
        assert f" {name} " in out


def test_compare_with_a_sweep_as_baseline_is_refused(runs, capsys):
    assert main(["compare", str(runs / "runs" / "power"), str(runs / "mixes")]) == 2
    assert err_line(capsys).startswith(f"error: {runs / 'mixes'}: is a sweep directory, not the results of one run")


def test_compare_a_folder_of_runs_is_one_line(runs, capsys):
    assert main(["compare", str(runs / "runs"), str(runs / "runs" / "base")]) == 2  # holds runs of other sizes
    assert "differs from" in err_line(capsys)


@pytest.mark.parametrize("source, kind, extra, code, message", [
    ("mixes", "paths", [], 0, None),
    ("mixes", "effects", ["--baseline", "runs/base"], 0, None),
    ("mixes", "frontier", [], 0, None),
    ("mixes", "frontier", ["--baseline", "runs/base"], 0, None),
    ("grid", "heatmap", [], 0, None),
    ("mixes", "chain", ["--baseline", "runs/base"], 2, "is a sweep directory, not the results of one run"),
    ("runs/base", "heatmap", [], 2, "not a sweep directory (written by valuechain sweep)"),
    ("runs/base", "sobol", [], 2, "not a sweep directory (written by valuechain sweep)"),
    ("runs/base", "frontier", [], 2, "a frontier needs several scenarios"),
    ("runs/power", "paths", ["--baseline", "runs/base", "--difference"], 0, None),
    ("runs/power", "effects", ["--baseline", "runs/base", "--tier", "deep"], 0, None),
    ("grid", "sobol", [], 2, "sensitivity needs a sweep with design: sobol or design: morris"),
    ("grid", "heatmap", ["--y", "policy.electricity_price.default"], 0, None),  # --x: the other key
    ("grid", "heatmap", ["--x", "policy.tax.default_rate", "--y", "policy.tax.default_rate"], 2,
     "error: --y: a heatmap needs two different keys (the same as --x) (got policy.tax.default_rate)"),
])
def test_plot_on_each_kind_of_folder(runs, tmp_path, capsys, source, kind, extra, code, message):
    out = tmp_path / "f.png"
    extra = [str(runs / a) if a.startswith("runs/") else a for a in extra]
    assert main(["plot", str(runs / source), "--kind", kind, "--out", str(out), *extra]) == code
    if message:
        assert message in err_line(capsys)
        assert not out.exists()
    else:
        assert out.stat().st_size > 1000


@pytest.mark.parametrize("kind, option, value, message", [
    ("paths", "--by", "tier", "error: --by: does not apply to --kind paths; it is read by --kind effects (got tier)"),
    ("heatmap", "--baseline", "runs/base", "error: --baseline: does not apply to --kind heatmap; it is read by "
                                           "--kind paths, effects, frontier, chain"),
    ("chain", "--x", "policy.tax.default_rate", "error: --x: does not apply to --kind chain; it is read by --kind "
                                                "heatmap (got policy.tax.default_rate)"),
    ("paths", "--year", "2020", "error: --year: does not apply to --kind paths"),
])
def test_options_that_do_not_apply_are_refused(runs, tmp_path, capsys, kind, option, value, message):
    value = str(runs / value) if value.startswith("runs/") else value
    args = ["plot", str(runs / "grid"), "--kind", kind, "--out", str(tmp_path / "f.png"), option, value]
    assert main(args) == 2
    assert err_line(capsys).startswith(message)


def test_difference_needs_a_baseline(runs, tmp_path, capsys):
    assert main(["plot", str(runs / "runs" / "power"), "--kind", "paths", "--difference",
                 "--out", str(tmp_path / "f.png")]) == 2
    assert err_line(capsys) == ("error: --difference: needs --baseline DIR (the paired effect is against the "
                                "baseline)")


def test_frontier_of_a_folder_skips_the_sweeps_in_it(runs, tmp_path, capsys):
    folder = tmp_path / "results"
    folder.mkdir()
    for name in ("base", "power"):
        shutil.copytree(runs / "runs" / name, folder / name)
    shutil.copytree(runs / "mixes", folder / "mixes")
    assert main(["plot", str(folder), "--kind", "frontier", "--out", str(tmp_path / "f.png")]) == 0


# ----------------------------------------------------------------- streaming and the small API fixes
def test_streamed_sweep_outcomes_equal_the_loaded_ones(runs):
    for metric, by in (("value_added", None), ("downstream_investment", None), ("fiscal_cost", "lever"),
                       ("processing_depth", None), ("employment", "tier")):
        streamed = sweep_outcomes(runs / "grid", metric, by=by, batch=3)
        loaded = sweep_outcomes(load_sweep(runs / "grid"), metric, by=by)
        cols = [c for c in streamed.columns if c != "name"]
        s = streamed[cols].sort_values(cols[:3]).reset_index(drop=True)
        lo = loaded[cols].sort_values(cols[:3]).reset_index(drop=True)
        assert len(s) == len(lo) > 0
        assert (abs(s[metric].to_numpy(float) - lo[metric].to_numpy(float)) <= 1e-9 * (1 + abs(lo[metric]))).all()


def test_processing_depth_takes_results(runs):
    rs = load_results(runs / "runs" / "base")
    a = processing_depth(rs)
    assert a.equals(processing_depth(rs.stages)) and a.equals(processing_depth(runs / "runs" / "base"))
    assert ((a >= 0) & (a <= 1)).all()


def test_cost_command_refuses_a_different_economy(runs, capsys):
    a, b = runs / "runs" / "half", runs / "runs" / "base"
    assert main(["cost", str(a), str(b)]) == 2
    assert err_line(capsys) == (
        f"error: {a}: firms.scale: differs from {b} (1.0), so the two runs simulate economies of different size "
        "or years; rerun one of them with firms.scale=1.0 before you compare costs (got 0.5)")


def test_kept_chain_hash_is_the_hash_of_the_chain_spec_it_holds():
    import hashlib
    from pathlib import Path

    from valuechain.simulation import schema
    from valuechain.simulation.config.scenario import chain_hash, load_scenario

    chain = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml").chain

    def fresh(spec):
        return hashlib.sha256(json.dumps(spec.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:16]

    original = chain.spec
    assert chain_hash(chain) == schema.chain_hash(chain) == fresh(original)
    edited = original.model_copy(update={"name": original.name + "_edited"})  # (a spec is frozen)
    chain.spec = edited  # a chain given another spec is hashed again, not from what it kept
    assert chain_hash(chain) == fresh(edited) != fresh(original)


def _folder_with_a_sweep_and_a_back_test(runs, tmp_path):
    """``results/`` holding the runs base and power, the sweep ``mixes``, a back-test's output (written
    by the back-test's own writer) and a folder of notes."""
    from valuechain.simulation.running.backtest_out import write_backtest

    folder = tmp_path / "results"
    folder.mkdir()
    for name in ("base", "power"):
        shutil.copytree(runs / "runs" / name, folder / name)
    shutil.copytree(runs / "mixes", folder / "mixes")
    write_backtest(folder / "bt", {"backtest.csv": b"series,year\n"}, False, {})
    (folder / "notes").mkdir()
    return folder


def test_a_folder_of_runs_names_each_subfolder_it_skips_and_why(runs, tmp_path, capsys):
    folder = _folder_with_a_sweep_and_a_back_test(runs, tmp_path)
    base = folder / "base"
    skipped = {
        "compare": f"valuechain compare {folder / 'mixes'} {base}",
        "cost": f"valuechain cost {folder / 'mixes'} {base}",
        "plot": f"valuechain plot {folder / 'mixes'} --kind effects --baseline {base} --out FILE.png",
    }
    for command, args in (("compare", []), ("cost", []),
                          ("plot", ["--kind", "effects", "--out", str(tmp_path / "f.png"), "--baseline"])):
        head = [command, str(folder)] + args + [str(base)] if command == "plot" else [command, str(folder), str(base)]
        assert main(head) == 0
        out, err = capsys.readouterr()
        assert err.splitlines() == [
            f"skipped {folder / 'bt'}: a back-test's output (backtest.json), not runs to compare (its table against "
            f"the record: {folder / 'bt' / 'backtest.csv'})",
            f"skipped {folder / 'mixes'}: a sweep (its points are read when it is given on its own: "
            f"`{skipped[command]}`)",
            f"skipped {folder / 'notes'}: holds no results (no manifest.json)",
        ]
    # the command named for the sweep is the one that reads it: its three points against the baseline
    assert main(["compare", str(folder / "mixes"), str(base)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and all(f" {name} " in out for name in ("base", "power_030", "tax_015"))


@pytest.mark.parametrize("kw, horizon", [
    ({}, "value-added-weighted mean over 2016-2025"),
    ({"pv": 0.05}, "discounted (5.0%) value-added-weighted mean over 2016-2025"),
    ({"year": 2018}, "in 2018"),
])
def test_a_sweeps_processing_depth_is_labelled_a_weighted_mean_as_compare_labels_it(runs, kw, horizon):
    """processing_depth is the deep stages' share of the cumulated value added, not a cumulated sum:
    the sweep's outcomes (read streamed or loaded) say so in the words of compare's header."""
    base = runs / "runs" / "base"
    assert compare(runs / "runs" / "power", base, "processing_depth", **kw).attrs["horizon"] == horizon
    assert sweep_outcomes(runs / "grid", "processing_depth", **kw).attrs["horizon"] == horizon
    assert sweep_outcomes(load_sweep(runs / "grid"), "processing_depth", **kw).attrs["horizon"] == horizon
    # an additive metric keeps its own reduction, in compare's words too
    assert (sweep_outcomes(runs / "grid", "value_added", **kw).attrs["horizon"]
            == compare(runs / "runs" / "power", base, "value_added", **kw).attrs["horizon"])


def test_a_folder_without_runs_is_refused_with_what_it_holds(runs, tmp_path, capsys):
    """A back-test's output, or a folder holding only a sweep, given as RESULTS_DIR (or a back-test's
    output as BASELINE_DIR) is named for what it is, with where its table is or the command that
    reads the sweep's points (before: 'holds no results (no manifest.json ...)' for both)."""
    from valuechain.simulation.running.backtest_out import write_backtest

    base = runs / "runs" / "base"
    bt = tmp_path / "bt"
    write_backtest(bt, {"backtest.csv": b"series,year\n"}, False, {})
    only = tmp_path / "only_sweeps"
    only.mkdir()
    shutil.copytree(runs / "mixes", only / "mixes")
    plot = ["--kind", "effects", "--out", str(tmp_path / "f.png"), "--baseline", str(base)]
    back = (f"error: {bt}: is a back-test's output (backtest.json), not runs to compare (its table against the "
            f"record: {bt / 'backtest.csv'})")
    for command, tail in (("compare", [str(base)]), ("cost", [str(base)]), ("plot", plot)):
        assert main([command, str(bt)] + tail) == 2
        assert err_line(capsys) == back
        assert not (tmp_path / "f.png").exists()
    assert main(["compare", str(base), str(bt)]) == 2
    assert err_line(capsys) == back
    sweep = only / "mixes"
    reads = {"compare": f"`valuechain compare {sweep} {base}`", "cost": f"`valuechain cost {sweep} {base}`",
             "plot": f"`valuechain plot {sweep} --kind effects --baseline {base} --out FILE.png`"}
    for command, tail in (("compare", [str(base)]), ("cost", [str(base)]), ("plot", plot)):
        assert main([command, str(only)] + tail) == 2
        assert err_line(capsys) == (f"error: {only}: holds no run folders, only a sweep (its points are read when "
                                    f"it is given on its own: {reads[command]})")
    shutil.copytree(runs / "mixes", only / "more")
    assert main(["compare", str(only), str(base)]) == 2
    assert err_line(capsys) == (f"error: {only}: holds no run folders, only 2 sweeps (their points are read when "
                                f"each is given on its own: `valuechain compare {sweep} {base}`; "
                                f"`valuechain compare {only / 'more'} {base}`)")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["compare", str(empty), str(base)]) == 2
    assert err_line(capsys) == f"error: {empty}: holds no results (no manifest.json in it or its subdirectories)"


def test_stocks_summed_over_years_are_in_unit_years_and_stage_metrics_in_each_stages_unit(runs, capsys):
    """Firms (alive at the year's end), like employment, are a stock: summed over the years they are
    firm-years, and in one year firms (before: 'firms' for both); capacity by stage is in each
    stage's own unit a year, from the chain the run used (before: 'stage units'), summed over the
    years capacity-years. The cumulated effect is the sum of the years' effects."""
    from valuechain.analysis.compare import as_run, format_table
    from valuechain.analysis.fiscal import run_chain

    power, base = runs / "runs" / "power", runs / "runs" / "base"
    total = compare(power, base, "firms")
    by_year = compare(power, base, "firms", each_year=True)
    assert total.effect.iloc[0] == pytest.approx(by_year.effect.sum())
    assert total.attrs["units"] == "firm-years" and by_year.attrs["units"] == "firms"
    assert compare(power, base, "firms", year=2018).attrs["units"] == "firms"
    assert compare(power, base, "entries").attrs["units"] == "firms"  # a flow: summed, still firms
    assert format_table(total).splitlines()[0].startswith("firms: scenario minus baseline, cumulative 2016-2025, "
                                                          "firm-years; paired")
    chain = run_chain(as_run(base))
    cap = compare(power, base, "capacity", "stage")
    assert cap.attrs["units"] == "capacity-years: each stage's unit a year, summed over the years"
    assert list(cap.columns[:2]) == ["stage", "unit"]
    assert dict(zip(cap.stage, cap.unit)) == {s: f"{chain.spec.stages[s].unit} a year" for s in cap.stage}
    assert compare(power, base, "capacity", "stage", year=2018).attrs["units"] == "each stage's unit a year"
    out = compare(power, base, "output", "stage")
    assert out.attrs["units"] == "each stage's unit"
    assert dict(zip(out.stage, out.unit)) == {s: chain.spec.stages[s].unit for s in out.stage}
    assert main(["compare", str(power), str(base), "--metric", "capacity", "--by", "stage"]) == 0
    head = capsys.readouterr().out.splitlines()
    assert head[0].startswith("capacity: scenario minus baseline, cumulative 2016-2025, capacity-years: each "
                              "stage's unit a year, summed over the years; paired")
    assert head[2].split()[:2] == ["stage", "unit"]
    assert "unit" not in compare(power, base, "value_added", "stage").columns  # money adds up: no unit column


def test_sensitivity_on_a_grid_names_the_results_folder(runs, tmp_path, capsys):
    """The folder the user gave, not the sweep file by the path it was run with."""
    assert main(["plot", str(runs / "grid"), "--kind", "sobol", "--out", str(tmp_path / "f.png")]) == 2
    assert err_line(capsys).startswith(f"error: {runs / 'grid'}: design: sensitivity needs a sweep with design: "
                                       "sobol or design: morris, not 'grid'")
