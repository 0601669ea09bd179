"""Figures a referee accepts: frontier labels at their own points without collisions, colours that do
not repeat, the outcome and a caption explaining whiskers/bands on every figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import DATA
from matplotlib.text import Text
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
from valuechain.analysis.plot_labels import LEADER_PT, MAX_DISTANCE_PT, box_gap, choose_offsets
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
    """Each label's text box as rendered (its leader line is checked by assert_leaders_clear)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    return ax, [(t, Text.get_window_extent(t, renderer)) for t in ax.texts]


def assert_labels_apart(boxes):
    """No two labels' text boxes overlap, and no leader line passes through another label."""
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            assert not boxes[a][1].overlaps(boxes[b][1]), (boxes[a][0].get_text(), boxes[b][0].get_text())
    assert_leaders_clear(boxes)


def assert_leaders_clear(boxes):
    """No label's leader line, as drawn, passes through another label's text box."""
    for t, _ in boxes:
        if t.arrow_patch is None:
            continue
        path = t.arrow_patch.get_path().transformed(t.arrow_patch.get_transform())
        ends = path.vertices[[0, -1]]
        line = ends[0] + np.linspace(0, 1, 200)[:, None] * (ends[1] - ends[0])
        for other, box in boxes:
            if other is not t:
                assert not any(box.contains(x, y) for x, y in line), (t.get_text(), other.get_text())


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
    assert_labels_apart(boxes)
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
    assert "whiskers: 95% t interval over 3 replications (simulation noise only)" in caption(figs["effects"])
    assert "Outcome: investment, cumulative 2016-2025" in caption(figs["sobol"])
    assert "grey bars: 95% range over bootstrap resamples of the 2 replications" in caption(figs["sobol"])
    assert " N = 4 base samples, replication noise " in caption(figs["sobol"])
    assert caption(figs["sobol"]).endswith("Imprecise (a 95% half-width above 0.1): read only differences the "
                                           "whiskers do not span.")
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


# the 25-point power x freight grid of the fresh-eyes run (fiscal cost, value added in billion yuan;
# labels: electricity price, freight subsidy): 13 frontier points in two tight clusters
GRID_COST = [399, 631, 882, 1178, 1434, 263, 488, 736, 1031, 1289, 130, 346, 594, 889, 1143, 0, 204, 444, 743,
             1005, -76, 117, 352, 648, 915]
GRID_VALUE = [2110, 2113, 2223, 2290, 2305, 2084, 2099, 2202, 2283, 2290, 2068, 2087, 2192, 2256, 2273, 1990, 1970,
              2071, 2173, 2195, 1898, 1872, 1981, 2086, 2124]
GRID_NAMES = [f"{p}, {f}" for p in ("0.25", "0.3", "0.35", "0.4", "0.45") for f in (0, 375, 750, 1125, 1500)]


def test_crowded_grid_frontier_labels_are_disjoint_and_at_their_points():
    pts = frontier_points([c * 1e3 for c in GRID_COST], [v * 1e3 for v in GRID_VALUE], GRID_NAMES)
    fig = plot_frontier(pts)
    ax, boxes = label_boxes(fig)
    on = pts.loc[pts.on_frontier, "scenario"].tolist()
    assert len(on) == 13 and sorted(t.get_text() for t, _ in boxes) == sorted(on)  # every frontier point labelled
    xy = ax.transData.transform(pts[["fiscal_cost", "value_added"]].to_numpy(float))
    px_per_pt = fig.dpi / 72
    for t, box in boxes:
        i = GRID_NAMES.index(t.get_text())
        assert tuple(t.xy) == (pts.fiscal_cost[i], pts.value_added[i])
        b = (box.x0, box.y0, box.x1, box.y1)
        gaps = [box_gap(b, p) for p in xy]
        assert gaps[i] <= MAX_DISTANCE_PT * px_per_pt + 0.5, t.get_text()  # next to its own point
        if t.arrow_patch is None:  # without a leader line: nearer its own point than any other
            assert int(np.argmin(gaps)) == i and gaps[i] <= LEADER_PT * px_per_pt + 0.5, t.get_text()
        assert box.x0 >= ax.bbox.x0 and box.x1 <= ax.bbox.x1 and box.y0 >= ax.bbox.y0 and box.y1 <= ax.bbox.y1
    assert_labels_apart(boxes)
    plt.close(fig)


def test_labels_without_room_are_numbered_or_named_in_the_caption():
    # a 4 x 3 block of points with long labels: the outer ones fit, the rest become numbers keyed in
    # the caption, and the two inner points, boxed in by their neighbours, are named as not labelled
    xs = [0.0, 1000.0] + [400.0 + 60 * (i % 4) for i in range(12)]
    ys = [0.0, 1000.0] + [400.0 + 60 * (i // 4) for i in range(12)]
    names = ["low", "high"] + [f"a long sweep point label number {i}" for i in range(12)]
    p = pd.DataFrame({"scenario": names, "fiscal_cost": xs, "value_added": ys, "on_frontier": True})
    fig = plot_frontier(p)
    ax, boxes = label_boxes(fig)
    caption = fig._suptitle.get_text().replace("\n", " ")
    numbered_part = caption.split("Numbered labels: ", 1)[1].split(". Not labelled", 1)[0].rstrip(".")
    key = dict(item.split(" = ", 1) for item in numbered_part.split("; "))
    dropped = caption.split("Not labelled for lack of room: ", 1)[1].rstrip(".").split("; ")
    assert list(key) == [str(n) for n in range(1, len(key) + 1)] and len(key) >= 3 and dropped
    shown = {}
    for t, _ in boxes:
        shown[key.get(t.get_text(), t.get_text())] = t
    assert sorted(shown) == sorted(set(names) - set(dropped))  # each label once: itself or its number
    assert not set(shown) & set(dropped)
    xy = ax.transData.transform(np.column_stack([xs, ys]))
    for name, t in shown.items():
        i = names.index(name)
        assert tuple(t.xy) == (xs[i], ys[i])  # the number sits at its own point
        box = Text.get_window_extent(t, fig.canvas.get_renderer())
        assert box_gap((box.x0, box.y0, box.x1, box.y1), xy[i]) <= MAX_DISTANCE_PT * fig.dpi / 72 + 0.5
    assert_labels_apart(boxes)
    plt.close(fig)


def test_points_on_one_spot_are_named_as_not_labelled():
    # a label (or number) at one of eleven coinciding points would be as near the other ten
    xs = [0.0, 1000.0] + [500.0] * 11
    ys = [0.0, 1000.0] + [500.0] * 11
    names = ["low", "high"] + [f"pile number {i}" for i in range(11)]
    p = pd.DataFrame({"scenario": names, "fiscal_cost": xs, "value_added": ys, "on_frontier": True})
    fig = plot_frontier(p)
    _, boxes = label_boxes(fig)
    assert sorted(t.get_text() for t, _ in boxes) == ["high", "low"]
    caption = fig._suptitle.get_text().replace("\n", " ")
    assert caption.endswith("Not labelled for lack of room: " + "; ".join(names[2:]) + ".")
    plt.close(fig)


def test_choose_offsets_is_nearest_free_spot():
    # a lone point in a wide axes: its label goes at the first spot tried (3 pt to the right, no leader)
    (spot,) = choose_offsets(np.array([[100.0, 100.0]]), np.array([[40.0, 10.0]]), np.array([0]),
                             (0.0, 0.0, 400.0, 400.0), px_per_pt=2.0)
    assert spot.offset_px == (6.0 + 20.0, 0.0) and spot.gap_pt == 3.0 and not spot.leader
    # against the right edge it cannot go right: it goes to the first free direction instead
    (spot,) = choose_offsets(np.array([[395.0, 100.0]]), np.array([[40.0, 10.0]]), np.array([0]),
                             (0.0, 0.0, 400.0, 400.0), px_per_pt=2.0)
    assert spot.offset_px[0] < 0 and spot.gap_pt <= 3.0
