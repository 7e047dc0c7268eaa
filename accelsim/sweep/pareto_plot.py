"""The Pareto front as a picture (matplotlib, no pyplot): every point of a sweep at (x, y),
dominated ones faded, the front bold and joined in x order, each front point labelled with
what differs from the one before it on the front (the first with all its parameters); with
`z`, the front is over three objectives and z is the colour. `accelsim.plots.save` writes it."""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Sequence

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter

from accelsim.errors import ConfigError
from accelsim.sweep.metrics import METRICS
from accelsim.sweep.pareto import describe, differences, short_names, split
from accelsim.sweep.store import StoredPoint

FONT = 7                    # label font size, points
LABEL_CHARS = 34            # a label line wraps past this many characters
MARGIN = 3.0                # clear space kept around a label box, pixels
LABEL_WEIGHT, DOT_WEIGHT, OUTSIDE_WEIGHT = 20.0, 5.0, 10.0
"""What a label covering another label, a front point or the outside of the axes costs per
pixel, against 1 for covering the front's line or the legend, and DISTANCE_WEIGHT per pixel
between a label and its point."""
DISTANCE_WEIGHT = 4.0
MAX_LABELS = 40             # front points labelled at most (spread along the front)
LOG_RATIO = 30.0            # an axis whose values span this ratio or more is logarithmic
ENG_UNITS = ("cycles", "pJ", "bytes", "MACs", "us")


def axis_label(metric: str) -> str:
    """"total_cycles (cycles)": the metric and its unit."""
    return f"{metric} ({METRICS[metric]})"


def _log_axis(values: Sequence[float]) -> bool:
    low, high = min(values), max(values)
    return low > 0 and high / low >= LOG_RATIO


def _fraction(value: float, low: float, high: float, log: bool) -> float:
    """Where `value` sits between `low` and `high` on the axis, 0 to 1."""
    if log:
        value, low, high = math.log(value), math.log(low), math.log(high)
    return 0.5 if high == low else (value - low) / (high - low)


def _labels(points: Sequence[StoredPoint], front: Sequence[int]) -> dict[int, str]:
    """Front point index -> its label: its number on the front (the table's #), then for the
    first its parameters, for each next what differs from the one before it (MAX_LABELS at
    most, spread along the front)."""
    names = short_names(k for p in points for k in p.params)
    keep = set(front) if len(front) <= MAX_LABELS else \
        {front[round(k * (len(front) - 1) / (MAX_LABELS - 1))] for k in range(MAX_LABELS)}
    labels = {}
    for k, i in enumerate(front):
        if i not in keep:
            continue
        text = (describe(points[i].params, names) if k == 0
                else differences(points[front[k - 1]].params, points[i].params, names) or "same parameters")
        labels[i] = textwrap.fill(f"{k + 1}: {text}", LABEL_CHARS, break_long_words=False,
                                  break_on_hyphens=False)
    return labels


def _place(anchors: list[tuple[float, float]], sizes: list[tuple[float, float]],
           area: tuple[float, float, float, float],
           obstacles: Sequence[tuple[float, float, float, float]] = ()) -> list[tuple[float, float]]:
    """An offset (display units, from its point to its box's lower left corner) per label, in
    order: of some candidates around its point, at growing distance and alternating sides, the
    one whose box overlaps least the labels placed before it, the front's points, the
    `obstacles` (boxes: the front's line, the legend) and the outside of `area` (x0, y0, x1,
    y1), each weighted, plus its distance. `anchors` are the points, `sizes` the boxes (display units)."""
    boxes: list[tuple[float, float, float, float]] = []
    dots = [(x - 6, y - 6, x + 6, y + 6) for x, y in anchors]
    offsets = []
    for n, ((x, y), (w, h)) in enumerate(zip(anchors, sizes, strict=True)):
        side = 1 if n % 2 == 0 else -1
        candidates = []
        for r in (6, 16, 30, 48, 70, 96, 128, 170, 220):
            for dx, dy in ((r, side * r), (r, -side * r), (-r - w, side * r), (-r - w, -side * r),
                           (-w / 2, side * r), (-w / 2, -side * r), (r, -h / 2), (-r - w, -h / 2)):
                candidates.append((r, dx, dy if dy >= 0 or dy == -h / 2 else dy - h))
        best, best_cost = candidates[0][1:], math.inf
        for r, dx, dy in candidates:
            box = (x + dx, y + dy, x + dx + w, y + dy + h)
            cost = (DISTANCE_WEIGHT * r + LABEL_WEIGHT * sum(_overlap(box, b) for b in boxes)
                    + DOT_WEIGHT * sum(_overlap(box, b) for b in dots)
                    + sum(_overlap(box, b) for b in obstacles)
                    + OUTSIDE_WEIGHT * (w * h - _overlap(box, area)))
            if cost < best_cost:
                best, best_cost = (dx, dy), cost
        boxes.append((x + best[0], y + best[1], x + best[0] + w, y + best[1] + h))
        offsets.append(best)
    return offsets


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _annotate(fig: Figure, ax, xy: list[tuple[float, float]], labels: dict[int, str],
              front: list[int], faded: list[tuple[float, float]]) -> None:
    """Label the front: lay the figure out once, measure each label's box, then place them
    (`_place`, keeping clear of the legend, the front's line and the `faded` points too) and
    set their offsets in points (so they hold at any DPI)."""
    notes = []
    for (px, py), i in zip(xy, front, strict=True):
        if i in labels:
            notes.append(ax.annotate(
                labels[i], (px, py), xytext=(0, 0), textcoords="offset points", fontsize=FONT,
                ha="left", va="bottom", zorder=5, color="0.1",
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.75", "lw": 0.5, "alpha": 0.9},
                arrowprops={"arrowstyle": "-", "color": "0.45", "lw": 0.5, "shrinkA": 0, "shrinkB": 3}))
    if not notes:
        return
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)                  # constrained layout places the axes
    anchors = [tuple(ax.transData.transform(note.xy)) for note in notes]
    boxes = [note.get_bbox_patch().get_window_extent(renderer) for note in notes]
    sizes = [(box.width + 2 * MARGIN, box.height + 2 * MARGIN) for box in boxes]
    points_per_pixel = 72 / fig.dpi
    legend = ax.get_legend()
    keep_clear = [tuple(legend.get_window_extent(renderer).extents)] if legend else []
    for px, py in (ax.transData.transform(p) for p in faded):
        keep_clear.append((px - 3, py - 3, px + 3, py + 3))
    for (x0, y0), (x1, y1) in itertools.pairwise(anchors):      # the front's line, every ~8 px
        steps = max(1, int(math.hypot(x1 - x0, y1 - y0) / 8))
        keep_clear += [(x0 + (x1 - x0) * t / steps - 2, y0 + (y1 - y0) * t / steps - 2,
                        x0 + (x1 - x0) * t / steps + 2, y0 + (y1 - y0) * t / steps + 2) for t in range(steps)]
    placed = _place(anchors, sizes, tuple(ax.bbox.extents), keep_clear)
    for note, box, (ax0, ay0), (dx, dy) in zip(notes, boxes, anchors, placed, strict=True):
        # at offset 0 the box's corner sat at (box.x0, box.y0): move it to anchor + offset + margin
        note.set_position(((dx + MARGIN - (box.x0 - ax0)) * points_per_pixel,
                           (dy + MARGIN - (box.y0 - ay0)) * points_per_pixel))


def _value(point: StoredPoint, metric: str) -> float:
    value = point.metrics[metric]
    assert value is not None            # split() excluded the points without one
    return float(value)


def figure(points: Sequence[StoredPoint], x: str, y: str, z: str | None = None,
           title: str | None = None, width: float = 10.0) -> Figure:
    """The front over (x, y) or (x, y, z) of `points` (metric names of METRICS, minimised);
    ConfigError for an unknown metric or when no point has them all."""
    objectives = [x, y] + ([z] if z else [])
    for name in objectives:
        if name not in METRICS:
            raise ConfigError(f"unknown metric {name!r}: expected one of {', '.join(METRICS)}")
    parts = split(points, objectives)
    if not parts.front:
        raise ConfigError(f"no point has {', '.join(objectives)} (all {len(points)} excluded: "
                          "an error or no value)")
    shown = [*parts.front, *parts.dominated]
    xs = {i: _value(points[i], x) for i in shown}
    ys = {i: _value(points[i], y) for i in shown}
    log_x, log_y = _log_axis(list(xs.values())), _log_axis(list(ys.values()))

    fig = Figure(figsize=(width, 0.62 * width), layout="constrained")
    ax = fig.subplots()
    cmap = matplotlib.colormaps["viridis"]
    zs = {i: _value(points[i], z) for i in shown} if z else {}
    norm = matplotlib.colors.Normalize(min(zs.values()), max(zs.values())) if zs else None
    dominated = list(parts.dominated)
    if dominated:
        ax.scatter([xs[i] for i in dominated], [ys[i] for i in dominated], s=18, zorder=2,
                   c=[zs[i] for i in dominated] if z else "0.55", cmap=cmap if z else None, norm=norm,
                   alpha=0.35, edgecolors="0.45", linewidths=0.4)
    front = sorted(parts.front, key=lambda i: (xs[i], ys[i], i))
    ax.plot([xs[i] for i in front], [ys[i] for i in front], color="black", lw=1.2,
            ls="--" if z else "-", alpha=0.6 if z else 0.9, zorder=3)
    scatter = ax.scatter([xs[i] for i in front], [ys[i] for i in front], s=46, zorder=4,
                         c=[zs[i] for i in front] if z else "tab:red", cmap=cmap if z else None, norm=norm,
                         edgecolors="black", linewidths=0.9)
    if z:
        bar = fig.colorbar(scatter, ax=ax, label=axis_label(z), pad=0.01)
        if METRICS[z] in ENG_UNITS:         # 80G, not 8 under a "1e10" offset
            bar.formatter = EngFormatter(sep="")
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    for axis, metric, log in ((ax.xaxis, x, log_x), (ax.yaxis, y, log_y)):
        if METRICS[metric] in ENG_UNITS:
            axis.set_major_formatter(EngFormatter(sep=""))
            if log:                     # 1M 2M 5M 10M, not 10^6 and 10^7 alone
                axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
                axis.set_minor_formatter(NullFormatter())
    ax.margins(0.08)
    ax.set_xlabel(axis_label(x))
    ax.set_ylabel(axis_label(y))
    ax.grid(True, color="0.92", zorder=0)

    handles = [Line2D([], [], ls="-" if not z else "--", color="black", marker="o", markersize=7,
                      markerfacecolor="tab:red" if not z else "white", markeredgecolor="black",
                      label=f"Pareto front ({len(front)}), in {x} order")]
    if dominated:
        handles.append(Line2D([], [], ls="", marker="o", markersize=5, color="0.55", alpha=0.5,
                              label=f"dominated ({len(dominated)})"))
    ax.legend(handles=handles, loc="best", fontsize=8, framealpha=0.9)
    excluded = f", {len(parts.excluded)} excluded (error or no value)" if parts.excluded else ""
    over = ", ".join(objectives)
    ax.set_title(title or f"Pareto front over {over}: {len(front)} of {len(shown)} points{excluded}",
                 fontsize=10)
    _annotate(fig, ax, [(xs[i], ys[i]) for i in front], _labels(points, front), front,
              [(xs[i], ys[i]) for i in dominated])
    return fig
