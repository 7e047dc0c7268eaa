"""Functional execution: tiled schedules compute the reference's tensors; a broken one is
caught with the region and op that wrote it."""

import dataclasses
import itertools

import numpy as np
import pytest

from accelsim import load_hw, load_workload
from accelsim.functional import check, conv_valid, pool_valid, random_inputs, reference
from accelsim.schedule_file import read_schedule
from accelsim.simulation import make_schedule
from tests.helpers import DEFAULT_HW, ROOT, add_then_pool, convadd, identity_block
from tests.helpers import hw as hw_with

SCHEDULES = ROOT / "tests" / "data" / "schedules"


def naive_conv(x, w, stride, pad, dilation, groups):
    """Direct loops over every output element: the textbook definition."""
    n, h, wd, _c = x.shape
    cout, kh, kw, cg = w.shape
    ho = (h + 2 * pad - dilation * (kh - 1) - 1) // stride + 1
    wo = (wd + 2 * pad - dilation * (kw - 1) - 1) // stride + 1
    og = cout // groups
    out = np.zeros((n, ho, wo, cout), dtype=np.int64)
    for b, i, j, o in itertools.product(range(n), range(ho), range(wo), range(cout)):
        g = o // og
        for p, q, ci in itertools.product(range(kh), range(kw), range(cg)):
            r, s = i * stride - pad + p * dilation, j * stride - pad + q * dilation
            if 0 <= r < h and 0 <= s < wd:
                out[b, i, j, o] += int(x[b, r, s, g * cg + ci]) * int(w[o, p, q, ci])
    return out


@pytest.mark.parametrize("stride,pad,dilation,groups,cout", [
    (1, 1, 1, 1, 3), (2, 1, 1, 1, 4), (1, 2, 2, 1, 2), (2, 0, 1, 2, 4), (1, 1, 1, 4, 4), (1, 1, 1, 4, 8)])
def test_conv_kernel_equals_the_textbook_loops(stride, pad, dilation, groups, cout):
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, (2, 7, 6, 4), dtype=np.int32)
    w = rng.integers(-128, 128, (cout, 3, 3, 4 // groups), dtype=np.int32)
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    assert np.array_equal(conv_valid(padded, w, stride, dilation, groups), naive_conv(x, w, stride, pad,
                                                                                       dilation, groups))


def test_pools_by_hand():
    x = np.arange(16, dtype=np.int32).reshape(1, 4, 4, 1)
    assert pool_valid(x, "maxpool", 2, 2, 2)[0, :, :, 0].tolist() == [[5, 7], [13, 15]]
    assert pool_valid(x, "avgpool", 2, 2, 2)[0, :, :, 0].tolist() == [[2, 4], [10, 12]]  # floor(2.5)=2


def test_reference_int8_is_conv_then_add_in_int32():
    wl = convadd(h=5, w=5, cin=3, cout=3)
    inputs = random_inputs(wl, "int8", seed=3)
    ref = reference(wl, inputs)
    conv = naive_conv(inputs["x0"], inputs["conv0.weight"], 1, 1, 1, 1)
    assert np.array_equal(ref["x1"], (conv + inputs["r0"]).astype(np.int32))
    assert inputs["x0"].min() >= -128 and inputs["x0"].max() <= 127


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("splits", range(1, 9))
def test_pipelined_convadd_is_bit_exact_for_every_split(stride, splits):
    hw = load_hw(DEFAULT_HW)
    wl = convadd(h=17, w=9, cin=8, cout=8, k=3, stride=stride, pad=1)
    found = check(make_schedule(hw, wl, "pipelined", splits), wl, "int8", seed=splits, element_bytes=1,
                  capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    assert found.compared == ("x1",)


@pytest.mark.parametrize("kind", ["serial", "pipelined"])
@pytest.mark.parametrize("splits", [1, 2, 3, 7])
def test_dilated_conv_parts_load_only_rows_their_windows_read_and_are_bit_exact(kind, splits):
    # 3x3, dilation 2, pad 1 on 9 rows: 7 output rows, output row r reads rows r-1, r+1, r+3;
    # the first part's window skips row 0 (between the padding row -1 and row 1), the last
    # part's skips row 8 (between row 7 and the padding row 9)
    hw = load_hw(DEFAULT_HW)
    wl = convadd(h=9, w=9, cin=4, cout=4, k=3, pad=1, dilation=2)
    schedule = make_schedule(hw, wl, kind, splits)
    rows = [(r.start[1], r.stop[1]) for op in schedule.ops if op.kind == "load"
            for r in op.reads if r.tensor == "x0"]
    if splits == 7:
        assert rows[0] == (1, 4) and rows[-1] == (5, 8)
    else:
        assert rows[0][0] == 0 and rows[-1][1] == 9
    found = check(schedule, wl, "int8", seed=splits, element_bytes=1, capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    assert found.compared == (("c0", "x1") if kind == "serial" else ("x1",))


@pytest.mark.parametrize("kind", ["serial", "pipelined"])
@pytest.mark.parametrize("dtype", ["int8", "fp32"])
def test_adds_and_pools_split_by_channel_compute_the_reference(kind, dtype):
    # 100 B of ifmap holds no pixel of both 64-channel inputs: the add and the pool run in
    # channel parts (tests/scheduler/test_network.py derives how many)
    small = hw_with(sram__ifmap__size_bytes=100)
    wl = add_then_pool(h=4, w=4)
    schedule = make_schedule(small, wl, kind)
    for layer in ("sum", "pool"):
        widths = [op.writes[0].stop[3] - op.writes[0].start[3] for op in schedule.ops
                  if op.layer == layer and op.unit == "add"]
        assert max(widths) < 64 and len(widths) > 1
    found = check(schedule, wl, dtype, seed=5, element_bytes=1, capacity=small.sram_capacity())
    assert found.ok, found.mismatches
    assert found.compared == ("s", "p")


@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
def test_identity_block_fp32_within_the_stated_tolerance(kind):
    hw = load_hw(DEFAULT_HW)
    wl = identity_block(h=12, w=12, cin=16, cout=16)
    found = check(make_schedule(hw, wl, kind, 3), wl, "fp32", seed=0, element_bytes=1,
                  capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    assert "1e-05 * max(1, max |reference|)" in found.tolerance


@pytest.mark.parametrize("trace", ["resnet18", "mobilenetv2"])
def test_whole_networks_compute_every_stored_tensor(trace):
    # pools, strided and depthwise convs, filter chunks, gemm: all tiled, all checked
    hw = load_hw(DEFAULT_HW)
    wl = load_workload(ROOT / "traces" / f"{trace}.yaml")
    found = check(make_schedule(hw, wl, "pipelined"), wl, "fp32", element_bytes=1,
                  capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    outputs = [op.output for op in wl.ops if not wl.consumers(op.output)]
    assert set(outputs) <= set(found.compared)


def test_a_missing_halo_row_is_caught_functionally_with_the_region_and_op():
    hw = load_hw(DEFAULT_HW)
    wl = load_workload(SCHEDULES / "block.yaml")
    file = read_schedule(SCHEDULES / "halo_missing.yaml", hw, wl)      # parsed, static checks skipped
    found = check(file.schedule, wl, "int8", element_bytes=1)
    assert not found.ok
    assert found.mismatches[0].startswith(
        "y[0:1, 4:8, 0:8, 0:4] stored by op store2 (computed by op add2) differs from the reference: "
        "first at y[0, 4, 0, 0]")


def test_an_output_tile_never_stored_is_named():
    hw = load_hw(DEFAULT_HW)
    wl = convadd(h=8, w=8, cin=4, cout=4)
    schedule = make_schedule(hw, wl, "pipelined", 2)
    last = max(i for i, op in enumerate(schedule.ops) if op.kind == "store")
    dropped = dataclasses.replace(schedule, ops=schedule.ops[:last] + schedule.ops[last + 1:])
    found = check(dropped, wl, "int8", element_bytes=1, capacity=hw.sram_capacity())
    assert found.mismatches == ("x1[0, 4, 0, 0] is never stored to DRAM",)


def test_the_mismatch_names_the_op_that_computed_the_wrong_element():
    hw = load_hw(DEFAULT_HW)
    wl = load_workload(SCHEDULES / "block.yaml")
    file = read_schedule(SCHEDULES / "functional_onestore_halo.yaml", hw, wl)
    found = check(file.schedule, wl, "int8", element_bytes=1)
    assert found.mismatches[0].startswith(
        "y[0:1, 0:8, 0:8, 0:4] stored by op store2 (computed by op add1) differs from the reference: "
        "first at y[0, 3, 0, 0]")
