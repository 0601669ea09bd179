"""Figures a referee accepts: frontier labels at their own points without collisions, colours that do
not repeat, the outcome and a caption explaining whiskers/bands on every figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import DATA
from valuechain.analysis import (
    compare,
    plot_chain,
    plot_effects,
    plot_frontier,
    plot_heatmap,
    plot_paths,
    plot_sobol,
    sensitivity,
    sweep_outcomes,
)
from valuechain.analysis.cost import efficient_frontier
from valuechain.analysis.plots import param_label
from valuechain.analysis.style import colours, run_label

from valuechain.cli import main

TINY = str(DATA / "tiny.yaml")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("referee")
    for name, extra in {"base": [], "power": ["--set", "policy.electricity_price.default=0.30"]}.items():
        assert main(["run", TINY, "--out", str(root / name), "--replications", "3", *extra]) == 0
    sobol = root / "sobol.yaml"
    sobol.write_text(f"name: sobol\nbase: {TINY}\ndesign: sobol\nsamples: 4\nreplications: 2\nparameters:\n"
                     "  policy.electricity_price.default: {low: 0.25, high: 0.45}\n"
                     "  policy.tax.default_rate: {low: 0.1, high: 0.25}\n")
    assert main(["sweep", str(sobol), "--out", str(root / "sobol"), "--workers", "1", "--quiet"]) == 0
    return root


def frontier_points(xs, ys, names) -> pd.DataFrame:
    p = pd.DataFrame({"scenario": names, "fiscal_cost": xs, "value_added": ys})
    p["on_frontier"] = efficient_frontier(p)
    return p


def label_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    return ax, [(t, t.get_window_extent(renderer)) for t in ax.texts]


@pytest.mark.parametrize("xs, ys, names", [
    # the case: two mixes close together (the labels used to sit at each other's points)
    ([0, 95, 100, 400, 410, 800], [0, 50, 80, 300, 290, 520],
     ["baseline", "interest 2pp", "freight 800", "power 030", "holiday 2 3", "all four"]),
    (list(range(0, 1500, 100)), [float(np.sqrt(x) * 10) for x in range(0, 1500, 100)],
     [f"p={i}" for i in range(15)]),  # a grid-like frontier: every point labelled
])
def test_frontier_labels_sit_at_their_own_points(xs, ys, names):
    fig = plot_frontier(frontier_points(xs, ys, names))
    names = [run_label(n) for n in names]  # built-in scenarios by display name ("Baseline")
    ax, boxes = label_boxes(fig)
    assert sorted(t.get_text() for t, _ in boxes) == sorted(names)  # every point labelled, once
    pts = ax.transData.transform(np.column_stack([xs, ys]))
    for t, box in boxes:
        i = names.index(t.get_text())
        assert tuple(t.xy) == (xs[i], ys[i])  # anchored at its own data point
        d = [np.hypot(max(box.x0 - px, 0, px - box.x1), max(box.y0 - py, 0, py - box.y1)) for px, py in pts]
        if t.arrow_patch is None:  # without a leader line the label is nearest its own point
            assert int(np.argmin(d)) == i, t.get_text()
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            assert not boxes[a][1].overlaps(boxes[b][1]), (boxes[a][0].get_text(), boxes[b][0].get_text())
    plt.close(fig)


def test_many_points_label_the_frontier_only():
    xs = list(range(40))
    ys = [x % 7 + x * 0.5 for x in xs]
    pts = frontier_points(xs, ys, [f"p{i}" for i in xs])
    fig = plot_frontier(pts)
    labelled = {t.get_text() for t in fig.axes[0].texts}
    assert labelled == set(pts.loc[pts.on_frontier, "scenario"])
    assert "Only the frontier's points are labelled" in fig._suptitle.get_text().replace("\n", " ")
    plt.close(fig)


def test_colours_do_not_repeat_within_a_figure(runs):
    assert len(set(colours(12))) == 12 and colours(3) == colours(8)[:3]
    many = {f"copy {i}": runs / "power" for i in range(10)}
    fig = plot_paths(many, baseline=runs / "base")
    lines = [line.get_color() for line in fig.axes[0].get_lines()]
    assert len(lines) == 11 and len(set(lines)) == 11
    plt.close(fig)


def caption(fig) -> str:
    return fig._suptitle.get_text().replace("\n", " ") if fig._suptitle else ""


def test_every_figure_names_its_outcome_and_explains_its_marks(runs):
    b, p = runs / "base", runs / "power"
    figs = {
        "paths": plot_paths({"power": p}, "employment", baseline=b),
        "difference": plot_paths({"power": p}, baseline=b, difference=True),
        "effects": plot_effects(compare(p, b, by="tier")),
        "heatmap": plot_heatmap(sweep_outcomes(runs / "sobol"), "policy.electricity_price.default",
                                "policy.tax.default_rate"),
        "sobol": plot_sobol(sensitivity(runs / "sobol", "investment", n_boot=5)),
        "chain": plot_chain(p, b),
    }
    assert "bands: 95% t interval (simulation noise only)" in caption(figs["paths"])
    assert "Lines: paired change against the baseline over 3 replications" in caption(figs["difference"])
    assert "whiskers: 95% t interval over 3 runs (simulation noise only)" in caption(figs["effects"])
    assert "Outcome: investment, cumulative 2016-2025" in caption(figs["sobol"])
    assert "grey bars: 95% range over bootstrap resamples of the 2 replications" in caption(figs["sobol"])
    assert "Sobol index" in figs["sobol"].axes[0].get_xlabel()
    assert "Colour: value added, mean over 2 replications" in caption(figs["heatmap"])
    assert "Employment" in figs["paths"].axes[0].get_ylabel()
    assert "Change in value added" in figs["effects"].axes[0].get_xlabel()
    assert "simulation noise only" in figs["chain"].axes[0].get_title(loc="left")
    for fig in figs.values():
        plt.close(fig)


def test_parameter_labels_name_the_rule_target():
    base = {"policy": {"freight_subsidy": {"rules": [{"stages": ["cotton_yarn"], "yuan_per_t": 0}]}}}
    label = param_label("policy.freight_subsidy.rules.0.yuan_per_t", base=base)
    assert label == "Freight subsidy, cotton yarn\n(yuan/t)"
    assert param_label("policy.freight_subsidy.rules.0.yuan_per_t", width=80) == "Freight subsidy, rule 1 (yuan/t)"
    assert param_label("policy.tax.default_rate", width=80) == "Income tax: rate (share)"


def test_sweep_legends_show_parameter_values(runs):
    from valuechain.analysis import load_many

    labels = list(load_many(runs / "sobol"))
    assert all(lab.startswith("electricity_price.default=") and ", default_rate=" in lab for lab in labels)
    assert len(set(labels)) == len(labels)


def test_sweep_paths_legend_has_values_and_no_band_clutter(runs):
    from valuechain.analysis import load_many

    points = load_many(runs / "sobol")
    fig = plot_paths(points)
    legend = fig.legends[0]
    assert legend.get_title().get_text() == "electricity_price.default, default_rate"
    texts = [t.get_text() for t in legend.get_texts()]
    assert len(texts) == len(points) and all(len(t.split(", ")) == 2 for t in texts)
    assert not fig.axes[0].collections  # more than four series: lines only, and the caption says so
    assert "no bands with more than 4 series" in caption(fig)
    plt.close(fig)
