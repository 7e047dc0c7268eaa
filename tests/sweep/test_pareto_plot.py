"""The Pareto picture: what it draws (front, faded dominated, labels, units, colour bar) and
that its labels do not overlap once drawn."""

from __future__ import annotations

import itertools

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Annotation

from accelsim.errors import ConfigError
from accelsim.sweep.pareto_plot import figure
from accelsim.sweep.store import StoredPoint


def _pt(key, params, **metrics):
    return StoredPoint(key, params, metrics, False, None, "0")


def _sa(key, rows, schedule, cycles, energy, area):
    return _pt(key, {"systolic_array.rows": rows, "schedule": schedule}, total_cycles=cycles,
               energy_pj=energy, area_mm2=area)


POINTS = [_sa("A", 64, "pipelined", 100, 9.5, 4.0), _sa("B", 64, "fused", 150, 9.5, 4.0),
          _sa("C", 32, "pipelined", 200, 5.0, 2.0), _sa("D", 16, "fused", 300, 6.0, 1.0),
          _sa("E", 32, "serial", 400, 1.0, 2.0)]


def _annotations(fig):
    return [c for c in fig.axes[0].get_children() if isinstance(c, Annotation)]


def test_front_labels_say_what_differs_from_the_point_before():
    fig = figure(POINTS, "total_cycles", "energy_pj")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "total_cycles (cycles)" and ax.get_ylabel() == "energy_pj (pJ)"
    texts = [a.get_text().replace("\n", " ") for a in _annotations(fig)]
    assert texts == ["1: schedule=pipelined, rows=64", "2: rows 64 -> 32", "3: schedule pipelined -> serial"]
    assert [a.xy for a in _annotations(fig)] == [(100.0, 9.5), (200.0, 5.0), (400.0, 1.0)]
    dominated, front = ax.collections
    assert dominated.get_alpha() == pytest.approx(0.35) and len(dominated.get_offsets()) == 2
    assert [tuple(p) for p in front.get_offsets()] == [(100, 9.5), (200, 5.0), (400, 1.0)]
    line = ax.get_lines()[0]                       # the front joined in x order
    assert list(line.get_xdata()) == [100, 200, 400]
    assert "3 of 5 points" in ax.get_title()


def test_z_is_the_colour_with_its_unit():
    fig = figure(POINTS, "total_cycles", "energy_pj", "area_mm2")
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "area_mm2 (mm^2)"
    assert len(_annotations(fig)) == 4             # D joins the front on area
    front = fig.axes[0].collections[1]
    assert list(front.get_array()) == [4.0, 2.0, 1.0, 2.0]


def test_a_colour_bar_in_pj_reads_in_engineering_units():
    points = [_sa(k, 16, "fused", c, 1.0, 2.0) for k, c in (("A", 100), ("B", 200))]
    points = [StoredPoint(p.key, p.params, {**p.metrics, "energy_pj": e}, False, None, "0")
              for p, e in zip(points, (8.4e10, 1.1e10), strict=True)]
    fig = figure(points, "total_cycles", "area_mm2", "energy_pj")
    FigureCanvasAgg(fig).draw()
    bar = fig.axes[1].yaxis
    assert bar.get_offset_text().get_text() == ""
    assert {"20G", "40G", "60G", "80G"} <= {t.get_text() for t in bar.get_ticklabels()}


def test_a_logarithmic_axis_in_cycles_reads_1m_2m_5m():
    points = [_sa(k, 16, "fused", c, e, 1.0) for k, c, e in (("A", 1_000_000, 3.0), ("B", 60_000_000, 1.0))]
    fig = figure(points, "total_cycles", "energy_pj")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"                 # 60x: past LOG_RATIO
    FigureCanvasAgg(fig).draw()
    low, high = ax.get_xlim()
    shown = [t.get_text() for t in ax.xaxis.get_ticklabels() if low <= t.get_position()[0] <= high]
    assert shown == ["1M", "2M", "5M", "10M", "20M", "50M"]
    assert not any(t.get_text() for t in ax.xaxis.get_minorticklabels())


def test_bad_metric_or_nothing_to_draw():
    with pytest.raises(ConfigError, match="unknown metric 'speed'"):
        figure(POINTS, "speed", "energy_pj")
    with pytest.raises(ConfigError, match="no point has total_cycles, dram_bytes"):
        figure(POINTS, "total_cycles", "dram_bytes")


def test_labels_do_not_overlap_once_drawn():
    # a front of 14 points close together, each with a long label
    points = []
    for k in range(14):
        params = {"systolic_array.rows": 8 << (k % 4), "systolic_array.cols": 8 << (k // 4),
                  "sram.ifmap.size_bytes": 2**18 + k, "schedule": ("fused", "pipelined")[k % 2]}
        points.append(_pt(str(k), params, total_cycles=1000 + 100 * k, energy_pj=2000.0 - 100 * k - k * k))
    fig = figure(points, "total_cycles", "energy_pj")
    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    boxes = [a.get_bbox_patch().get_window_extent(renderer) for a in _annotations(fig)]
    assert len(boxes) == 14
    overlapping = [(i, j) for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2) if a.overlaps(b)]
    assert overlapping == []
