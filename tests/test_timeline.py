"""What plots and traces read off a Result add up to the Result's own totals."""

import itertools
from fractions import Fraction

import pytest

from accelsim import load_hw, load_workload, simulate
from accelsim.result import Result
from accelsim.timeline import busy_fraction, dram_bytes, lanes, sram_peaks, stages, windows
from tests.helpers import BLOCK, DEFAULT_HW, ROOT


@pytest.fixture(scope="module")
def runs():
    hw = load_hw(DEFAULT_HW)
    return {"block": simulate(hw, load_workload(BLOCK), "pipelined", 4),
            "resnet18": simulate(hw, load_workload(ROOT / "traces" / "resnet18.yaml"))}


@pytest.mark.parametrize("name", ["block", "resnet18"])
def test_windows_add_back_up_to_the_totals(runs, name):
    r = runs[name]
    spans = windows(r.total_cycles, 37)
    assert spans[0][0] == 0 and spans[-1][1] == r.total_cycles
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    for unit in ("conv", "add", "dma"):
        frac = busy_fraction(r, unit, spans)
        assert sum(f * (b - a) for f, (a, b) in zip(frac, spans, strict=True)) == pytest.approx(
            r.units[unit].busy_cycles)
    assert sum(dram_bytes(r, spans)) == r.dram_read_bytes + r.dram_write_bytes      # exact fractions
    for buffer, history in r.sram_occupancy.items():
        assert max(sram_peaks(history, spans)) == r.sram_peak_bytes[buffer]


def test_lanes_never_overlap_and_dma_needs_no_more_than_its_engines(runs):
    r = runs["resnet18"]
    dma = [op for op in r.ops if op.unit == "dma"]
    lane = lanes(dma)
    assert max(lane.values()) + 1 <= r.hw.dma.engines
    by_lane = {}
    for op in sorted(dma, key=lambda op: op.start):
        assert by_lane.get(lane[op.id], 0) <= op.start
        by_lane[lane[op.id]] = op.end


def test_stages_follow_the_barriers(runs):
    r = runs["block"]
    st = stages(r)
    assert [s.index for s in st] == list(range(7))
    assert st[0].open == 0 and st[-1].close + st[-1].barrier == r.total_cycles
    for a, b in itertools.pairwise(st):
        assert b.open == a.close + r.hw.barrier_cycles


def test_dram_bytes_integrates_the_rate_over_each_window():
    # 2 B/cycle over cycles 0:10, nothing over 10:20, 4 B/cycle from 20 to the end at 30
    r = Result("w", "pipelined", 1, 30, {}, (), 100, 0, {}, 0, load_hw(DEFAULT_HW), dram_activity=(
        (Fraction(0), Fraction(2)), (Fraction(10), Fraction(0)), (Fraction(20), Fraction(4))))
    assert dram_bytes(r, [(0, 15), (15, 30)]) == [20, 40]
    assert dram_bytes(r, [(5, 25), (25, 40), (12, 12)]) == [5 * 2 + 5 * 4, 5 * 4, 0]
    assert all(isinstance(x, Fraction) for x in dram_bytes(r, [(0, 15), (12, 12)]))
