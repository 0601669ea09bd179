"""Every plot writes a real PNG (300 dpi) and a vector PDF/SVG; the CLI's compare and plot commands
work on real results and fail on bad input with one line and exit status 2."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import DATA
from PIL import Image
from valuechain.analysis import (
    compare,
    compare_many,
    cost_effectiveness,
    cost_value_points,
    plot_chain,
    plot_effects,
    plot_frontier,
    plot_heatmap,
    plot_paths,
    plot_sobol,
    sensitivity,
    sweep_outcomes,
)
from valuechain.analysis.plots_chain import _pct, chain_graph, layout, stage_depths
from valuechain.analysis.style import COLUMN_IN, DPI, run_label, save
from valuechain.simulation import load_chain
from valuechain.simulation.config.errors import InputError

from valuechain.cli import main
from valuechain.plot_options import is_our_figure

TINY = str(DATA / "tiny.yaml")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("plot_runs")
    todo = {"base": [], "power": ["--set", "policy.electricity_price.default=0.30"],
            "tax": ["--set", "policy.tax.default_rate=0.15"]}
    for name, extra in todo.items():
        assert main(["run", TINY, "--out", str(root / "mixes" / name), "--replications", "4", *extra]) == 0
    sweep = root / "grid.yaml"
    sweep.write_text(f"name: grid\nbase: {TINY}\ndesign: grid\nreplications: 2\nparameters:\n"
                     "  policy.electricity_price.default: [0.3, 0.35, 0.4]\n  policy.tax.default_rate: [0.15, 0.25]\n")
    assert main(["sweep", str(sweep), "--out", str(root / "grid"), "--workers", "1", "--quiet"]) == 0
    sobol = root / "sobol.yaml"
    sobol.write_text(f"name: sobol\nbase: {TINY}\ndesign: sobol\nsamples: 4\nreplications: 2\nparameters:\n"
                     "  policy.electricity_price.default: {low: 0.25, high: 0.45}\n"
                     "  policy.tax.default_rate: {low: 0.1, high: 0.25}\n")
    assert main(["sweep", str(sobol), "--out", str(root / "sobol"), "--workers", "1", "--quiet"]) == 0
    d = root / "mixes"
    return {"base": d / "base", "power": d / "power", "tax": d / "tax", "mixes": d, "grid": root / "grid",
            "sobol": root / "sobol"}


def check_png(path: Path, max_width_in: float | None = None) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1024
    with Image.open(path) as im:
        dpi = im.info["dpi"]
        assert abs(dpi[0] - DPI) < 1 and abs(dpi[1] - DPI) < 1
        if max_width_in:
            assert im.size[0] <= max_width_in * DPI * 1.05, im.size  # readable at that width, not shrunk


def check_vector(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 1024
    assert data[:5] == b"%PDF-" if path.suffix == ".pdf" else b"<svg" in data[:2000]


def figures(runs):
    """(name, function drawing the figure to ``out``, expected maximum width in inches)."""
    b, p, t = runs["base"], runs["power"], runs["tax"]
    mixes = {"cheap power": p, "15% tax": t}
    ce = cost_effectiveness(mixes, b)
    grid = sweep_outcomes(runs["grid"], "value_added")
    sob = sensitivity(runs["sobol"], n_boot=10)
    return [
        ("paths", lambda out: plot_paths(mixes, baseline=b, out=out), COLUMN_IN),
        ("paths_diff", lambda out: plot_paths(mixes, "employment", baseline=b, difference=True, out=out), COLUMN_IN),
        ("effects", lambda out: plot_effects(compare(p, b, by="stage"), out=out), COLUMN_IN),
        ("effects_many", lambda out: plot_effects(compare_many(mixes, b, by="tier"), out=out), COLUMN_IN),
        ("effects_cost", lambda out: plot_effects(ce[ce.metric == "value_added"], out=out), COLUMN_IN),
        ("frontier", lambda out: plot_frontier(cost_value_points(mixes, b), out=out), COLUMN_IN),
        ("heatmap", lambda out: plot_heatmap(grid, "policy.electricity_price.default", "policy.tax.default_rate",
                                             out=out), COLUMN_IN),
        ("sobol", lambda out: plot_sobol(sob, out=out), COLUMN_IN),
        ("chain", lambda out: plot_chain(p, b, out=out), 7.5),
    ]


def test_each_plot_writes_png_and_pdf(runs, tmp_path):
    for name, draw, width in figures(runs):
        fig = draw(tmp_path / f"{name}.png")  # the function writes the PNG ...
        save(fig, tmp_path / f"{name}.pdf")  # ... and the same figure goes to PDF
        plt.close(fig)
        check_png(tmp_path / f"{name}.png", width)
        check_vector(tmp_path / f"{name}.pdf")
    fig = plot_chain(runs["power"], runs["base"], out=tmp_path / "chain.svg")
    plt.close(fig)
    check_vector(tmp_path / "chain.svg")


def test_axes_carry_units(runs):
    fig = plot_paths({"power": runs["power"]}, baseline=runs["base"])
    ax = fig.axes[0]
    assert ax.get_ylabel().replace("\n", " ") == "Value added (million yuan per year)" and ax.get_xlabel() == "Year"
    plt.close(fig)
    fig = plot_effects(compare(runs["power"], runs["base"], by="sector"))
    assert "(million yuan)" in fig.axes[0].get_xlabel()
    plt.close(fig)


def test_bad_figure_format_is_refused(runs, tmp_path):
    fig = plot_effects(compare(runs["power"], runs["base"]))
    with pytest.raises(InputError, match="unsupported figure format"):
        save(fig, tmp_path / "figure.jpg")
    plt.close(fig)


def test_chain_layout_follows_the_dag():
    chain = load_chain("xinjiang")
    inputs = {s: list(chain.spec.stages[s].inputs) for s in chain.order}
    depth = stage_depths(inputs)
    assert depth["ginned_cotton"] == 0 and depth["cotton_yarn"] == 1 and depth["garments"] == 4
    assert depth["cells_modules"] == 3  # silicon -> polysilicon -> wafers -> cells/modules
    sector = {s: chain.spec.stages[s].sector for s in chain.order}
    pos, bands = layout(inputs, sector, depth)
    assert all(pos[s][0] == depth[s] for s in pos)
    assert len({pos[s] for s in pos}) == len(pos)  # no two stages on one spot
    assert len(bands) == 7
    for s, ins in inputs.items():  # every input sits strictly upstream (to the left)
        assert all(pos[i][0] < pos[s][0] for i in ins)


def test_chain_graph_from_manifest(runs):
    from valuechain.analysis.compare import as_run

    inputs, sector = chain_graph(as_run(runs["power"]))
    assert inputs["parts"] == ["metal", "ore"] and sector["parts"] == "equipment"


def test_cli_compare_prints_a_table(runs, capsys):
    assert main(["compare", str(runs["power"]), str(runs["base"]), "--by", "stage", "--pv", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "present value 2016-2025 at 5.0%" in out and "metal" in out and "ci_low" in out
    assert main(["compare", str(runs["power"]), str(runs["base"]), "--metric", "fiscal_cost", "--by", "lever",
                 "--year", "2020"]) == 0
    assert "electricity_price" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["compare", "{power}", "{base}", "--metric", "va"], "error: --metric: unknown metric"),
    (["compare", "{power}", "{mixes}/nope"], "nope: no such directory"),
    (["compare", "{power}", "{base}", "--year", "1999"], "error: --year: not a simulated year"),
    (["plot", "{power}", "--kind", "chain", "--out", "{tmp}/x.png"], "error: --baseline: --kind chain needs"),
    (["plot", "{power}", "--kind", "chain", "--baseline", "{base}", "--out", "{tmp}/x.gif"],
     "unsupported figure format"),
    (["plot", "{grid}", "--kind", "sobol", "--out", "{tmp}/x.png"], "sensitivity needs a sweep with design"),
    (["plot", "{power}", "--kind", "heatmap", "--out", "{tmp}/x.png"], "not a sweep directory"),
    (["plot", "{grid}", "--kind", "heatmap", "--x", "firms.scale", "--out", "{tmp}/x.png"],
     "error: --x: not a varied key"),
])
def test_cli_bad_input_exits_2_with_one_line(runs, tmp_path, capsys, argv, message):
    argv = [a.format(tmp=tmp_path, **{k: str(v) for k, v in runs.items()}) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert not list(tmp_path.iterdir())  # nothing half-written


@pytest.mark.parametrize("kind, source, extra", [
    ("paths", "mixes", ["--baseline", "{base}"]),
    ("effects", "power", ["--baseline", "{base}", "--by", "tier"]),
    ("effects", "mixes", ["--baseline", "{base}"]),
    ("frontier", "mixes", ["--baseline", "{base}"]),
    ("frontier", "grid", []),
    ("heatmap", "grid", []),
    ("sobol", "sobol", []),
    ("chain", "power", ["--baseline", "{base}", "--year", "2020"]),
])
def test_cli_plot_writes_each_kind(runs, tmp_path, capsys, kind, source, extra):
    out = tmp_path / f"{kind}.png"
    extra = [a.format(**{k: str(v) for k, v in runs.items()}) for a in extra]
    assert main(["plot", str(runs[source]), "--kind", kind, "--out", str(out), *extra]) == 0
    check_png(out)
    assert f"wrote {out}" in capsys.readouterr().out
    assert not plt.get_fignums()  # the command closes its figure


def test_effects_with_an_unbounded_interval_are_drawn_to_the_edge_with_an_arrow(tmp_path):
    import numpy as np
    import pandas as pd
    from valuechain.analysis import plot_effects

    table = pd.DataFrame({"scenario": ["a", "b"], "metric": ["value_added"] * 2, "ratio": [3000.0, 60000.0],
                          "ci_low": [2000.0, -np.inf], "ci_high": [4000.0, np.inf],
                          "unit": ["yuan per 10,000 yuan"] * 2})
    fig = plot_effects(table, out=tmp_path / "e.png")
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert np.isfinite(lo) and np.isfinite(hi) and lo < 2000 and hi > 60000
    arrows = [line for line in ax.get_lines() if line.get_marker() in ("<", ">")]
    assert len(arrows) == 2 and "unbounded" in ax.get_xlabel()


def test_effects_title_names_the_scenario_and_the_baseline(runs):
    table = compare(runs["power"], runs["base"], by="sector")
    scenario, baseline = table.scenario.iloc[0], table.baseline.iloc[0]
    assert scenario != baseline
    fig = plot_effects(table)
    assert fig.axes[0].get_title(loc="left") == f"{run_label(scenario)} against {run_label(baseline)}"
    plt.close(fig)
    fig = plot_effects(table, title="")  # an empty title leaves it out
    assert fig.axes[0].get_title(loc="left") == ""
    plt.close(fig)


@pytest.mark.parametrize("pct, text", [(-0.04, "0.0%"), (0.04, "0.0%"), (-0.0, "0.0%"), (-0.06, "-0.1%"),
                                       (2.35, "+2.4%"), (float("nan"), "(none)")])
def test_chain_change_never_shows_a_signed_zero(pct, text):
    assert _pct(pct) == text


def test_chain_diagram_prints_no_negative_zero(runs, monkeypatch):
    import valuechain.analysis.plots_chain as pc

    real = pc.compare

    def tiny_change(*args, **kwargs):  # one stage's change rounds to zero from below
        table = real(*args, **kwargs)
        table.loc[0, "pct_effect"] = -0.03
        return table

    monkeypatch.setattr(pc, "compare", tiny_change)
    fig = plot_chain(runs["power"], runs["base"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.endswith("  0.0%") for t in texts) and not any("-0.0%" in t for t in texts)
    plt.close(fig)


# ----------------------------------------------------------------- the unit of the bands: compare's
@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """The tiny baseline and a cheaper-power scenario, each 3 parameter draws x 2 replications."""
    root = tmp_path_factory.mktemp("drawn")
    for name, extra in {"base": [], "power": ["--set", "policy.electricity_price.default=0.30"]}.items():
        assert main(["run", TINY, "--out", str(root / name), "--parameter-draws", "3", "--replications", "2",
                     *extra]) == 0
    return {"base": root / "base", "power": root / "power"}


def caption(fig) -> str:
    return fig._suptitle.get_text().replace("\n", " ") if fig._suptitle else ""


def band(fig, i: int = 0) -> dict[int, tuple[float, float]]:
    """Year -> (low, high) of the ``i``-th band of a time-path figure (its fill_between polygon)."""
    verts = fig.axes[0].collections[i].get_paths()[0].vertices
    years = sorted({int(round(x)) for x in verts[:, 0]})
    return {y: (verts[np.isclose(verts[:, 0], y), 1].min(), verts[np.isclose(verts[:, 0], y), 1].max())
            for y in years}


def test_with_parameter_draws_a_paths_band_is_compares_interval_over_the_draws(drawn):
    from scipy import stats
    from valuechain.analysis import load_results

    b, p = drawn["base"], drawn["power"]
    fig = plot_paths({"power": p}, baseline=b, difference=True)
    shown = band(fig)
    assert sorted(shown) == list(range(2016, 2026))
    for year, (low, high) in shown.items():  # the band of the difference plot is compare's interval that year
        t = compare(p, b, year=year)
        assert t["n"].item() == 3  # the draws are the units
        assert (low, high) == pytest.approx((t["ci_low"].item(), t["ci_high"].item()), rel=1e-9, abs=1e-9)
    text = caption(fig)
    assert text == ("Lines: paired change against the baseline over 3 parameter draws, each the mean of its paired "
                    "replications; bands: 95% t interval (simulation noise and parameter draws).")
    plt.close(fig)
    # a level path: the t interval (2 degrees of freedom) of the three draws' means of their replications' sums
    fig = plot_paths(p)
    rs = load_results(p)
    va = rs.stages.groupby(["replication", "year"])["value_added"].sum().unstack("year")
    draw_means = va.groupby(rs.runs.set_index("replication")["draw"].reindex(va.index).to_numpy()).mean()
    assert len(draw_means) == 3
    half = stats.t.ppf(0.975, 2) * draw_means.std(ddof=1) / np.sqrt(3)
    for year, (low, high) in band(fig).items():
        m = draw_means[year].mean()
        assert (low, high) == pytest.approx((m - half[year], m + half[year]), rel=1e-9)
    assert caption(fig) == ("Lines: mean over 3 parameter draws, each the mean of its replications; bands: 95% t "
                            "interval (simulation noise and parameter draws).")
    plt.close(fig)


def test_with_parameter_draws_the_effects_and_frontier_captions_count_the_draws(drawn):
    b, p = drawn["base"], drawn["power"]
    fig = plot_effects(compare(p, b, by="tier"))
    assert caption(fig) == ("Dots: mean paired change; whiskers: 95% t interval over 3 parameter draws, each the "
                            "mean of its paired replications (simulation noise and parameter draws).")
    plt.close(fig)
    ce = cost_effectiveness({"power": p}, b)
    fig = plot_effects(ce[ce.metric == "value_added"])
    assert caption(fig) == ("Dots: ratio of paired sums; whiskers: fieller 95% t interval over 3 parameter draws, "
                            "each the mean of its paired replications (simulation noise and parameter draws).")
    plt.close(fig)
    fig = plot_frontier(cost_value_points({"power": p, "again": p}, b))
    assert caption(fig).startswith("Whiskers: 95% t intervals over the parameter draws, each the mean of its paired "
                                   "replications (simulation noise and parameter draws). Frontier:")
    plt.close(fig)


@pytest.mark.parametrize("ext", ["png", "pdf", "svg"])
def test_cli_plot_replaces_only_its_own_figure_and_only_with_overwrite(runs, tmp_path, capsys, ext):
    """A figure another program made (matplotlib's own metadata) is refused, --overwrite or not; a
    figure valuechain wrote only with --overwrite; a directory always. All before any work (no
    output), exit 2, one line naming the file and option, the file's bytes unchanged."""
    argv = ["plot", str(runs["mixes"]), "--kind", "paths", "--baseline", str(runs["base"]), "--out"]
    foreign = tmp_path / f"foreign.{ext}"
    fig = plt.figure()
    fig.savefig(foreign, format=ext)  # matplotlib's default creator, not valuechain's
    plt.close(fig)
    readme = tmp_path / "README.md"
    readme.write_bytes(b"# mine\n")
    before = {p.name: p.read_bytes() for p in (foreign, readme)}
    (tmp_path / f"adir.{ext}").mkdir()
    cases = [([str(foreign)], f"error: {foreign}: --out: exists and valuechain did not write it; valuechain replaces "
              "only files it wrote; move it or choose another name"),
             ([str(foreign), "--overwrite"], f"error: {foreign}: --out: exists and valuechain did not write it; "
              "valuechain replaces only files it wrote; move it or choose another name"),
             ([str(tmp_path / f"adir.{ext}"), "--overwrite"],
              f"error: {tmp_path / f'adir.{ext}'}: --out: is a directory; name the file to write, e.g. "
              f"{tmp_path / f'adir.{ext}' / 'figure.png'} (.png, .pdf or .svg)")]
    for extra, line in cases:
        assert main([*argv, *extra]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err == line + "\n"
    ours = tmp_path / f"ours.{ext}"
    assert main([*argv, str(ours)]) == 0
    first = ours.read_bytes()
    capsys.readouterr()
    assert main([*argv, str(ours)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (f"error: {ours}: --out: exists (written by valuechain); pass --overwrite to "
                                 "replace it\n")
    assert ours.read_bytes() == first
    assert main([*argv, str(ours), "--metric", "employment", "--overwrite"]) == 0
    assert ours.read_bytes() != first and is_our_figure(ours)  # replaced by the employment figure
    assert {p.name: p.read_bytes() for p in (foreign, readme)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["README.md", f"adir.{ext}", f"foreign.{ext}",
                                                                 f"ours.{ext}"])  # no temporary file left


def test_save_refuses_a_file_valuechain_did_not_write_and_replaces_its_own(tmp_path):
    path = tmp_path / "figure.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\nnot ours")
    fig = plt.figure()
    with pytest.raises(InputError, match="exists and valuechain did not write it"):
        save(fig, path)
    assert path.read_bytes() == b"\x89PNG\r\n\x1a\nnot ours"
    path.unlink()
    save(fig, path)
    first = path.read_bytes()
    save(fig, path)  # its own figure: replaced (the Python API has no overwrite flag)
    plt.close(fig)
    assert path.read_bytes() == first and b"tEXtSoftware\x00valuechain" in first


def test_save_that_fails_while_writing_leaves_the_old_figure_and_no_temporary(tmp_path, monkeypatch):
    """The figure is written under a temporary name and renamed into place: a failure half-way
    (here after some bytes are written) leaves the previous figure as it was and nothing else."""
    path = tmp_path / "figure.png"
    fig = plt.figure()
    save(fig, path)
    before = path.read_bytes()

    def half_then_fail(target, **kwargs):
        Path(target).write_bytes(before[:100])
        raise OSError("disk full")

    monkeypatch.setattr(fig, "savefig", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save(fig, path)
    plt.close(fig)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png"]


def test_a_folder_given_as_the_figure_is_named_a_folder_whatever_its_name(tmp_path):
    from valuechain.plot_options import check_out

    (tmp_path / "results.v2").mkdir()
    with pytest.raises(InputError) as raised:
        check_out(tmp_path / "results.v2")
    assert str(raised.value) == (f"{tmp_path / 'results.v2'}: --out: is a directory; name the file to write, e.g. "
                                 f"{tmp_path / 'results.v2' / 'figure.png'} (.png, .pdf or .svg)")
