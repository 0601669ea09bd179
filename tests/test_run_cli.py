"""``valuechain run`` / ``list`` end to end on the tiny chain: files, manifest, reproducibility."""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA
from pandas.testing import assert_frame_equal
from valuechain.analysis.results import load_results
from valuechain.simulation.config.errors import InputError
from valuechain.simulation.config.scenario import load_scenario

from valuechain.cli import main

TINY = DATA / "tiny.yaml"
KEYS = ["scenario", "replication", "year", "sector", "stage"]
EXPECTED_FILES = {
    "stages_rep0000.parquet",
    "stages_rep0001.parquet",
    "fiscal_cost.parquet",
    "runs.parquet",
    "manifest.json",
}
REPLICATIONS, YEARS, STAGES = 2, 10, 3  # tests/data/tiny.yaml on tests/data/tiny_chain.yaml


def run_ok(out: Path, *extra: str, capsys: pytest.CaptureFixture[str] | None = None) -> str:
    """``valuechain run tiny.yaml --out OUT EXTRA...``; must succeed. Returns stdout if captured."""
    code = main(["run", str(TINY), "--out", str(out), *extra])
    assert code == 0
    if capsys is None:
        return ""
    stdout, err = capsys.readouterr()
    assert err == ""
    return stdout


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "default"
    run_ok(out)
    return out


# --- (a) what a run writes -----------------------------------------------------------------------------


def test_run_writes_files_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    stdout = run_ok(out, capsys=capsys)
    assert {p.name for p in out.iterdir()} == EXPECTED_FILES
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    assert "scenario tiny" in stdout
    assert f"results: {out}/" in stdout


def test_manifest(default_run: Path) -> None:
    manifest = json.loads((default_run / "manifest.json").read_text())
    spec = load_scenario(TINY).spec
    assert manifest["status"] == "complete"
    assert manifest["scenario_hash"] == spec.hash()
    assert manifest["scenario"]["name"] == "tiny"
    assert manifest["seed"] == 7
    assert manifest["replications"] == REPLICATIONS
    assert manifest["spawn_keys"] == [[0], [1]]
    assert Path(manifest["chain_file"]).name == "tiny_chain.yaml"
    versions = manifest["versions"]
    assert versions["valuechain"] == metadata.version("valuechain")
    for name in ("python", "numpy", "pandas", "pyarrow", "pydantic", "mesa"):
        assert versions.get(name), name
    assert manifest["started"] <= manifest["finished"]


def test_load_results_layout(default_run: Path) -> None:
    rs = load_results(default_run)
    st = rs.stages
    assert list(st.columns[: len(KEYS)]) == KEYS
    for metric in ("value_added", "investment", "employment", "output", "capacity"):
        assert metric in st.columns
        assert pd.api.types.is_numeric_dtype(st[metric]), metric
    assert len(st) == REPLICATIONS * YEARS * STAGES
    assert not st.duplicated(KEYS).any()
    assert sorted(st.replication.unique()) == list(range(REPLICATIONS))
    assert sorted(st.year.unique()) == list(range(2016, 2016 + YEARS))
    assert set(st.stage) == {"ore", "metal", "parts"}
    assert set(st.scenario) == {"tiny"}
    assert list(rs.fiscal.columns[: len(KEYS)]) == KEYS
    assert {"lever", "fiscal_cost"} <= set(rs.fiscal.columns)
    assert len(rs.runs) == REPLICATIONS
    assert rs.manifest["status"] == "complete"


def test_overwrite_keeps_users_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_ok(out)
    (out / "notes.txt").write_text("mine\n")
    run_ok(out, "--overwrite", "--replications", "1")
    names = {p.name for p in out.iterdir()}
    assert names == {"stages_rep0000.parquet", "fiscal_cost.parquet", "runs.parquet", "manifest.json", "notes.txt"}
    assert (out / "notes.txt").read_text() == "mine\n"
    assert json.loads((out / "manifest.json").read_text())["replications"] == 1


def test_out_may_exist_empty(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    run_ok(out)
    assert {p.name for p in out.iterdir()} == EXPECTED_FILES


# --- (b) reproducibility ---------------------------------------------------------------------------------


def assert_same_results(a: Path, b: Path) -> None:
    ra, rb = load_results(a), load_results(b)
    assert_frame_equal(ra.stages, rb.stages)
    assert_frame_equal(ra.fiscal, rb.fiscal)
    assert_frame_equal(ra.runs.drop(columns="duration_s"), rb.runs.drop(columns="duration_s"))


def test_same_seed_same_results(default_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    run_ok(out)
    assert_same_results(default_run, out)


def test_workers_do_not_change_results(tmp_path: Path) -> None:
    one, two = tmp_path / "w1", tmp_path / "w2"
    run_ok(one, "--workers", "1")
    run_ok(two, "--workers", "2")
    assert_same_results(one, two)


def test_other_seed_other_results(default_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "seed8"
    run_ok(out, "--seed", "8")
    a, b = load_results(default_run), load_results(out)
    assert b.manifest["seed"] == 8
    assert list(a.stages[KEYS].itertuples(index=False)) == list(b.stages[KEYS].itertuples(index=False))
    assert not a.stages.value_added.equals(b.stages.value_added)


def test_reference_engine_runs(tmp_path: Path) -> None:
    out = tmp_path / "ref"
    run_ok(out, "--engine", "reference", "--replications", "1")
    assert len(load_results(out).stages) == YEARS * STAGES


# --- (c) --set -----------------------------------------------------------------------------------------------


def test_set_changes_results_and_manifest(default_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "cheap_power"
    run_ok(out, "--set", "policy.electricity_price.default=0.30")
    base, cheap = load_results(default_run), load_results(out)
    assert cheap.manifest["scenario"]["policy"]["electricity_price"]["default"] == {"-1": 0.3}
    assert base.manifest["scenario"]["policy"]["electricity_price"]["default"] == {"-1": 0.4}
    assert cheap.manifest["scenario_hash"] != base.manifest["scenario_hash"]
    assert not cheap.stages.value_added.equals(base.stages.value_added)
    # power below the 0.40 reference price counts as a fiscal cost
    assert base.fiscal.fiscal_cost.sum() == 0
    assert cheap.fiscal.fiscal_cost.sum() > 0


# --- (d) list --------------------------------------------------------------------------------------------------


def test_list_prints_chain_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scenarios = tmp_path / "scenarios"
    chains = scenarios / "chains"
    chains.mkdir(parents=True)
    for name in ("alpha", "beta"):
        shutil.copy(DATA / "tiny_chain.yaml", chains / f"{name}.yaml")
    shutil.copy(TINY, scenarios / "tiny.yaml")
    monkeypatch.setattr("valuechain.simulation.config.builtin.data_dir", lambda: scenarios)
    assert main(["list"]) == 0
    stdout, err = capsys.readouterr()
    assert err == ""
    lines = stdout.splitlines()
    assert lines[0] == "chains:"
    chain_line = "A small three-stage chain for tests: ore -> metal -> parts (parts also use ore directly)."
    assert [line.split(None, 1) for line in lines[1:3]] == [["alpha", chain_line], ["beta", chain_line]]
    assert lines[3] == "scenarios (valuechain run NAME):"
    assert lines[4].split(None, 1) == ["tiny", "tiny test scenario"]


def test_list_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    from valuechain.simulation.config.builtin import builtin_chains

    assert main(["list"]) == 0
    stdout, _ = capsys.readouterr()
    lines = stdout.splitlines()
    assert lines[0] == "chains:"
    listed = [line.split()[0] for line in lines if line.startswith("  ")]
    for name in builtin_chains():
        assert name in listed


def test_validate_accepts_scenario_sweep_and_chain_files(capsys):
    from conftest import ROOT

    files = [ROOT / "scenarios" / "baseline.yaml", ROOT / "scenarios" / "sweep_electricity_price.yaml",
             ROOT / "scenarios" / "chains" / "xinjiang.yaml"]
    assert main(["validate", *map(str, files)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("scenario 'baseline' on chain 'xinjiang'")
    assert out[1].endswith("sweep with 9 point(s) on 'baseline'")
    assert out[2].endswith("chain 'xinjiang' with 35 stages")


def test_with_overrides_validates_like_the_file():
    sc = load_scenario(TINY)
    with pytest.raises(InputError) as err:
        sc.with_overrides(replications=-5)
    assert err.value.line() == f"{TINY}: replications: input should be greater than or equal to 1 (got -5)"
    with pytest.raises(InputError, match="firms.scale"):
        sc.with_overrides(firms={**sc.spec.firms.model_dump(), "scale": 0})
    assert sc.with_overrides(replications=4).spec.replications == 4
    assert sc.with_overrides(firms=sc.spec.firms.model_copy(update={"scale": 0.5})).spec.firms.scale == 0.5


def test_version_and_help(capsys):
    import pytest

    from valuechain.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    from importlib import metadata

    assert capsys.readouterr().out.strip() == f"valuechain {metadata.version('valuechain')}"
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    for command in ("run", "sweep", "compare", "plot", "validate", "list"):
        assert f"valuechain {command}" in top
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    run_help = " ".join(capsys.readouterr().out.split())
    assert "--engine {vectorized,reference}" in run_help and "one Mesa agent at a time" in run_help
    assert "--name NAME" in run_help
    with pytest.raises(SystemExit):
        main(["plot", "--help"])
    plot_help = " ".join(capsys.readouterr().out.split())
    assert "frontier: fiscal cost against the outcome" in plot_help and "--difference" in plot_help


def test_summary_fits_100_columns_in_chain_order(tmp_path, capsys):
    from valuechain.cli import main

    assert main(["run", "baseline", "--out", str(tmp_path / "b"), "--replications", "1",
                 "--set", "horizon.years=2", "--set", "firms.scale=0.1"]) == 0
    out = capsys.readouterr().out
    table = out.split("\n\nresults:")[0].splitlines()
    assert max(len(line) for line in table[1:]) <= 100  # the first line is the run's name
    sectors = [line.split()[0] for line in table[4:-1]]
    from valuechain.simulation.config.chain import SECTORS

    assert sectors == [s for s in SECTORS if s in sectors] and len(sectors) == 7
    assert table[-1].startswith("total")
    assert "value_added" in table[2] and "fiscal_cost" in table[2]


def test_list_gives_every_builtin_file_its_one_line_description(capsys):
    """Each built-in chain, scenario and sweep is listed as ``NAME  DESCRIPTION``: a scenario's or
    sweep's ``description`` key, a chain's first comment line (its ``description`` is a paragraph)."""
    import yaml
    from valuechain.simulation.config.builtin import builtin_chains, builtin_scenarios, chain_dir, data_dir

    assert main(["list"]) == 0
    rows = [line.split(None, 1) for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    assert sorted(r[0] for r in rows) == sorted(builtin_chains() + builtin_scenarios())
    assert all(len(r) == 2 and r[1].strip() for r in rows), [r for r in rows if len(r) < 2]
    described = dict(rows)
    for name in ("baseline", "sweep_sobol_levers"):
        assert described[name] == yaml.safe_load((data_dir() / f"{name}.yaml").read_text())["description"]
    first_line = (chain_dir() / "xinjiang.yaml").read_text().splitlines()[0]
    assert described["xinjiang"] == first_line.removeprefix("# ")
    assert described["xinjiang"] == "Default chain: industrial value chains of Xinjiang, China, around 2016."


def test_list_prints_names_that_run_accepts(capsys):
    from valuechain.cli import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    section = out.split("scenarios (valuechain run NAME):\n")[1].split("sweeps")[0]
    names = [line.split()[0] for line in section.splitlines() if line.strip()]
    assert "baseline" in names and all("/" not in n and not n.endswith(".yaml") for n in names)
    from valuechain.simulation.config.builtin import scenario_path

    assert all(scenario_path(n).is_file() for n in names)  # each is a name that run accepts
