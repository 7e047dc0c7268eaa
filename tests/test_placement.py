"""SRAM placement: every scheduler's tiles get offsets inside their buffers."""

import pytest

from accelsim import load_hw, load_workload
from accelsim.placement import lifetimes, place
from accelsim.simulation import make_schedule
from tests.helpers import DEFAULT_HW, ROOT


@pytest.mark.parametrize("trace", ["resnet50_convadd", "resnet18", "mobilenetv2"])
@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
def test_live_tiles_never_share_bytes_and_stay_inside_the_buffer(trace, kind):
    hw = load_hw(DEFAULT_HW)
    schedule = place(make_schedule(hw, load_workload(ROOT / "traces" / f"{trace}.yaml"), kind),
                     hw.sram_capacity())
    life = lifetimes(schedule)
    spans = []
    for i, op in enumerate(schedule.ops):
        for k, (region, at) in enumerate(zip(op.sram_writes(), op.offsets, strict=True)):
            end = at + schedule.widths.bytes(region)
            assert at >= 0 and end <= hw.buffer(region.space).size_bytes
            spans.append((region.space, at, end, *life[(i, k)]))
    by_first = sorted(spans, key=lambda s: s[3])
    for n, (space, a0, a1, _f, last) in enumerate(by_first):
        for space2, b0, b1, f2, _ in by_first[n + 1:]:
            if f2 > last:
                break
            assert space != space2 or a1 <= b0 or b1 <= a0


def test_ping_pong_tiles_take_opposite_ends_when_three_do_not_fit_side_by_side():
    # conv1 of ResNet-18 feeds maxpool in 4 tiles of ~208 kB through a 512 kB ifmap:
    # first fit would strand the third tile past the end.
    hw = load_hw(DEFAULT_HW)
    schedule = place(make_schedule(hw, load_workload(ROOT / "traces" / "resnet18.yaml"), "pipelined"),
                     hw.sram_capacity())
    loads = [op for op in schedule.ops if op.id.startswith("maxpool/load_a")]
    assert len(loads) >= 3
    ends = [op.offsets[0] + op.writes[0].elements for op in loads]
    assert max(ends) <= hw.buffer("ifmap").size_bytes
