"""Point labels that never overlap: each label's box is put at the nearest free spot around its point.

The geometry is a pure function (:func:`choose_offsets`) on display coordinates: the points, the
labels' measured sizes and the axes' box in, one offset per label (or ``None``) out.
:func:`place_labels` measures the rendered text and draws the annotations.

A spot is free when the label's box, padded by ``PAD_PX``, overlaps no label placed before and no
leader line drawn before, stays inside the axes, and covers no other point; a leader line crosses
no label and passes no other point nearer than ``LEADER_CLEARANCE_PT``. Spots ring the point at
growing distances, nearest first; a label further than ``LEADER_PT`` from its point gets a leader
line, a nearer one must be clearly nearest its own point (every other point at least
``NEAREST_RATIO`` times and ``NEAREST_MARGIN_PT`` further from the box). No label is put further than
``MAX_DISTANCE_PT`` (the gap between the point and the nearest edge of the label's box); a label
with no free spot within that distance is not drawn, and is returned so that the caller can say so
(the frontier then puts a number in its place, keyed in the caption, and names in the caption the
labels even a number found no room for).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.text import Text

from . import style as st

LEADER_PT = 12.0  # beyond this gap the label is joined to its point by a line
MAX_DISTANCE_PT = 40.0  # no label is further than this from its point
NEAREST_RATIO, NEAREST_MARGIN_PT = 1.5, 3.0  # a label without a leader: other points at least
# 1.5 times as far from its box as its own point, and 3 pt further
LEADER_CLEARANCE_PT = 4.0  # a leader line passes no other point nearer than this (a marker is 2 pt wide)
RETRIES = 4  # placements redone with the labels left out first
PAD_PX = 1.5  # clearance around every label box
POINT_CLEARANCE_PX = 3.0  # a label box stays this far from other points
RADII_PT = (3.0, 6.0, 10.0, 15.0, 21.0, 28.0, 34.0, 40.0)  # gaps tried, nearest first
ANGLES = np.deg2rad(np.arange(0.0, 360.0, 15.0))  # directions tried at each gap, right first

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in display pixels


def box_gap(box: Box, p: np.ndarray) -> float:
    """Distance from point ``p`` to the nearest edge of ``box`` (0 inside it)."""
    dx = max(box[0] - p[0], 0.0, p[0] - box[2])
    dy = max(box[1] - p[1], 0.0, p[1] - box[3])
    return float(np.hypot(dx, dy))


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _crosses(box: Box, p: np.ndarray, q: np.ndarray, samples: int = 24) -> bool:
    """Whether the segment p-q passes through ``box`` (sampled; leader lines are short)."""
    s = np.linspace(0.0, 1.0, samples)[:, None]
    xy = p + s * (q - p)
    return bool(np.any((xy[:, 0] > box[0]) & (xy[:, 0] < box[2]) & (xy[:, 1] > box[1]) & (xy[:, 1] < box[3])))


def _segment_gap(p: np.ndarray, q: np.ndarray, points: np.ndarray) -> float:
    """Smallest distance from the segment p-q to any of ``points``."""
    if not len(points):
        return np.inf
    d = q - p
    t = np.clip(((points - p) @ d) / max(float(d @ d), 1e-12), 0.0, 1.0)
    return float(np.min(np.hypot(*(points - (p + t[:, None] * d)).T)))


def _spot(p: np.ndarray, size: np.ndarray, gap_px: float, angle: float) -> tuple[Box, np.ndarray]:
    """The box of a label put ``gap_px`` from ``p`` in direction ``angle``: the point ``gap_px``
    away lies on the box's edge (its corner for diagonal directions, the middle of its facing side
    otherwise), so the box's nearest edge is at most ``gap_px`` from ``p``. Also returns that point,
    where a leader line joins the box."""
    w, h = size
    c, s = np.cos(angle), np.sin(angle)
    a = p + gap_px * np.array([c, s])
    x0 = a[0] if c > 0.3 else a[0] - w if c < -0.3 else a[0] - w / 2
    y0 = a[1] if s > 0.3 else a[1] - h if s < -0.3 else a[1] - h / 2
    return (x0, y0, x0 + w, y0 + h), a


@dataclass(frozen=True)
class LabelSpot:
    """Where one label goes: its box's centre relative to its point, in display pixels."""

    offset_px: tuple[float, float]
    gap_pt: float  # from the point to the box's nearest edge
    leader: bool  # drawn with a line to its point (gap_pt > LEADER_PT)
    leader_from: tuple[float, float]  # where on the box the line starts, as fractions of its width and height


def _free_spot(p: np.ndarray, others: np.ndarray, size: np.ndarray, axes_box: Box, px_per_pt: float,
               placed: list[Box], leaders: list[tuple[np.ndarray, np.ndarray]]) -> LabelSpot | None:
    """The first free spot for a label ``size`` at point ``p`` (see the module docstring), or None;
    records the box (and leader line) taken in ``placed`` (``leaders``)."""
    for radius_pt in RADII_PT:
        for angle in ANGLES:
            box, anchor = _spot(p, size, radius_pt * px_per_pt, angle)
            gap = box_gap(box, p)
            leader = gap / px_per_pt > LEADER_PT
            padded = (box[0] - PAD_PX, box[1] - PAD_PX, box[2] + PAD_PX, box[3] + PAD_PX)
            if not (box[0] >= axes_box[0] and box[2] <= axes_box[2] and box[1] >= axes_box[1]
                    and box[3] <= axes_box[3]):
                continue
            if any(_overlap(padded, b) for b in placed) or any(_crosses(padded, a, q) for a, q in leaders):
                continue
            c = POINT_CLEARANCE_PX
            if len(others) and np.any((others[:, 0] > box[0] - c) & (others[:, 0] < box[2] + c)
                                      & (others[:, 1] > box[1] - c) & (others[:, 1] < box[3] + c)):
                continue
            if leader:  # its line must cross no label and pass no other point
                if any(_crosses(b, p, anchor) for b in placed) or \
                        _segment_gap(p, anchor, others) < LEADER_CLEARANCE_PT * px_per_pt:
                    continue
            elif len(others) and min(box_gap(box, q) for q in others) < max(
                    NEAREST_RATIO * gap, gap + NEAREST_MARGIN_PT * px_per_pt):
                continue
            placed.append(padded)
            if leader:
                leaders.append((p, anchor))
            w, h = box[2] - box[0], box[3] - box[1]
            return LabelSpot(((box[0] + box[2]) / 2 - p[0], (box[1] + box[3]) / 2 - p[1]), gap / px_per_pt, leader,
                             ((anchor[0] - box[0]) / w, (anchor[1] - box[1]) / h))
    return None


def choose_offsets(points_px: np.ndarray, sizes_px: np.ndarray, which: np.ndarray, axes_box: Box,
                   px_per_pt: float) -> list[LabelSpot | None]:
    """For each point ``which[k]`` (a label ``sizes_px[k]`` wide and high), the spot of its label,
    or ``None`` when no free spot lies within ``MAX_DISTANCE_PT``.

    Labels are placed one at a time, each at the first free spot of the rings (see the module
    docstring), highest point first (ties: leftmost). When some find no room, the placement is
    redone with those first (up to ``RETRIES`` times) and the round leaving out the fewest is kept.
    Deterministic: the same input gives the same spots."""
    finite = np.isfinite(points_px).all(axis=1)
    order = sorted(range(len(which)), key=lambda k: (-points_px[which[k], 1], points_px[which[k], 0]))
    best: list[LabelSpot | None] | None = None
    for _ in range(RETRIES + 1):
        placed: list[Box] = []
        leaders: list[tuple[np.ndarray, np.ndarray]] = []
        result: list[LabelSpot | None] = [None] * len(which)
        for k in order:
            i = which[k]
            if finite[i]:
                others = points_px[finite & (np.arange(len(points_px)) != i)]
                result[k] = _free_spot(points_px[i], others, sizes_px[k], axes_box, px_per_pt, placed, leaders)
        missing = [k for k in order if result[k] is None and finite[which[k]]]
        if best is None or len(missing) < sum(r is None for r in best):
            best = result
        if not missing:
            break
        order = missing + [k for k in order if k not in missing]
    return best


def place_labels(ax: Axes, x: np.ndarray, y: np.ndarray, texts: list[str], fontsize: float = 6.5,
                 which: np.ndarray | None = None) -> tuple[list, list[int]]:
    """Label points ``which`` (default all; ``texts`` in that order) without overlaps, each next to
    its own point (:func:`choose_offsets`). Returns the annotations drawn (their ``xy`` is their
    point) and the positions in ``texts`` of the labels that found no room."""
    fig = ax.figure
    fig.canvas.draw()  # fixes the layout so that display coordinates hold
    renderer = fig.canvas.get_renderer()
    pts = ax.transData.transform(np.column_stack([x, y]))
    which = np.arange(len(x)) if which is None else np.asarray(which)
    probe = [Text(0, 0, s, fontsize=fontsize, figure=fig) for s in texts]
    sizes = np.array([[b.width, b.height] for b in (t.get_window_extent(renderer) for t in probe)]).reshape(-1, 2)
    ab = ax.get_window_extent(renderer)
    px_per_pt = fig.dpi / 72.0
    offsets = choose_offsets(pts, sizes, which, (ab.x0, ab.y0, ab.x1, ab.y1), px_per_pt)
    drawn, unplaced = [], []
    for k, spot in enumerate(offsets):
        i = which[k]
        if spot is None:
            unplaced.append(k)
            continue
        leader = {"arrowstyle": "-", "color": st.GREY, "lw": 0.5, "shrinkA": 0, "shrinkB": 2,
                  "relpos": spot.leader_from} if spot.leader else None  # the line checked free
        t = ax.annotate(texts[k], (x[i], y[i]), xytext=tuple(np.array(spot.offset_px) / px_per_pt),
                        textcoords="offset points", ha="center", va="center", fontsize=fontsize, zorder=5,
                        arrowprops=leader)
        t.set_in_layout(False)  # labels live inside the axes; they must not resize them
        drawn.append(t)
    return drawn, unplaced


__all__ = ["LabelSpot", "LEADER_PT", "MAX_DISTANCE_PT", "box_gap", "choose_offsets", "place_labels"]
