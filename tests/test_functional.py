"""Functional execution: tiled schedules compute the reference's tensors; a broken one is
caught with the region and op that wrote it."""

import dataclasses
import functools
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from accelsim import load_hw, load_workload, workload_from_dict
from accelsim.errors import ConfigError
from accelsim.functional import check, conv_valid, execute, pool_valid, random_inputs, reference, requantize
from accelsim.schedule_file import read_schedule
from accelsim.simulation import make_schedule
from tests.helpers import (
    DEFAULT_HW,
    ROOT,
    add_then_pool,
    concat_net,
    convadd,
    convadd_data,
    identity_block,
    shuffle_net,
)
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
    # 2.5, 4.5, 10.5, 12.5: ties, to even
    assert pool_valid(x, "avgpool", 2, 2, 2)[0, :, :, 0].tolist() == [[2, 4], [10, 12]]
    # 1.5 -> 2, 5.5 -> 6; -1.5 -> -2: means of [1, 2], [5, 6], [-1, -2]
    y = np.array([[[[1], [2], [5], [6], [-1], [-2]]]], dtype=np.int8)
    assert pool_valid(y, "avgpool", 1, 2, 2)[0, 0, :, 0].tolist() == [2, 6, -2]


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("splits", range(1, 9))
def test_pipelined_convadd_is_bit_exact_for_every_split(stride, splits):
    hw = load_hw(DEFAULT_HW)
    wl = convadd(h=17, w=9, cin=8, cout=8, k=3, stride=stride, pad=1)
    found = check(make_schedule(hw, wl, "pipelined", splits), wl, "int8", seed=splits,
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
    found = check(schedule, wl, "int8", seed=splits, capacity=hw.sram_capacity())
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
    found = check(schedule, wl, dtype, seed=5, capacity=small.sram_capacity())
    assert found.ok, found.mismatches
    assert found.compared == ("s", "p")


@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
def test_identity_block_fp32_within_the_stated_tolerance(kind):
    hw = load_hw(DEFAULT_HW)
    wl = identity_block(h=12, w=12, cin=16, cout=16)
    found = check(make_schedule(hw, wl, kind, 3), wl, "fp32", seed=0,
                  capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    assert "1e-05 * max(1, max |reference|)" in found.tolerance


@pytest.mark.parametrize("trace", ["resnet18", "mobilenetv2"])
def test_whole_networks_compute_every_stored_tensor(trace):
    # pools, strided and depthwise convs, filter chunks, gemm: all tiled, all checked
    hw = load_hw(DEFAULT_HW)
    wl = load_workload(ROOT / "traces" / f"{trace}.yaml")
    found = check(make_schedule(hw, wl, "pipelined"), wl, "fp32",
                  capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    outputs = [op.output for op in wl.ops if not wl.consumers(op.output)]
    assert set(outputs) <= set(found.compared)


def test_a_missing_halo_row_is_caught_functionally_with_the_region_and_op():
    hw = load_hw(DEFAULT_HW)
    wl = load_workload(SCHEDULES / "block.yaml")
    file = read_schedule(SCHEDULES / "halo_missing.yaml", hw, wl)      # parsed, static checks skipped
    found = check(file.schedule, wl, "int8")
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
    found = check(dropped, wl, "int8", capacity=hw.sram_capacity())
    assert found.mismatches == ("x1[0, 4, 0, 0] is never stored to DRAM",)


def test_the_mismatch_names_the_op_that_computed_the_wrong_element():
    hw = load_hw(DEFAULT_HW)
    wl = load_workload(SCHEDULES / "block.yaml")
    file = read_schedule(SCHEDULES / "functional_onestore_halo.yaml", hw, wl)
    found = check(file.schedule, wl, "int8")
    assert found.mismatches[0].startswith(
        "y[0:1, 0:8, 0:8, 0:4] stored by op store2 (computed by op add1) differs from the reference: "
        "first at y[0, 3, 0, 0]")


# -- pools with asymmetric pads and ceil_mode, LRN, softmax: against loops over the ONNX definitions --

def onnx_pool_loops(x, kind, kh, kw, stride, pads, ceil_mode, count_include_pad):
    """ONNX MaxPool / AveragePool on NHWC `x`, element by element: output size from the spec's
    formula (ceiled under ceil_mode, less the last window when it starts past the input and the
    top/left pad), windows at `o * stride - pad_begin`, positions outside the input skipped,
    an average divided by the positions inside the input (and, counting padding, its pads):
    for integers Python's round of the exact Fraction, to the nearest, ties to even."""
    n, h, w, c = x.shape
    top, left, bottom, right = pads

    def size(length, k, begin, end):
        exact = (length + begin + end - k) / stride + 1
        out = math.ceil(exact) if ceil_mode else math.floor(exact)
        return out - 1 if ceil_mode and (out - 1) * stride >= length + begin else out
    ho, wo = size(h, kh, top, bottom), size(w, kw, left, right)
    out = np.zeros((n, ho, wo, c), dtype=np.float64 if x.dtype == np.float32 else np.int64)
    for b, i, j, ch in itertools.product(range(n), range(ho), range(wo), range(c)):
        taps = [(i * stride - top + p, j * stride - left + q) for p in range(kh) for q in range(kw)]
        values = [x[b, r, s, ch].item() for r, s in taps if 0 <= r < h and 0 <= s < w]
        if kind == "maxpool":
            out[b, i, j, ch] = max(values)
            continue
        count = sum(-top <= r < h + bottom and -left <= s < w + right for r, s in taps) \
            if count_include_pad else len(values)
        exact = round(Fraction(sum(values), count)) if x.dtype != np.float32 else None
        out[b, i, j, ch] = sum(values) / count if exact is None else exact
    return out


def lrn_loops(x, size, alpha, beta, bias):
    """ONNX LRN, element by element, in Python floats."""
    out = np.zeros(x.shape, dtype=np.float64)
    chans = x.shape[-1]
    for index in itertools.product(*(range(d) for d in x.shape[:-1])):
        for c in range(chans):
            lo, hi = max(0, c - (size - 1) // 2), min(chans - 1, c + math.ceil((size - 1) / 2))
            s = sum(float(x[(*index, i)]) ** 2 for i in range(lo, hi + 1))
            out[(*index, c)] = float(x[(*index, c)]) / (bias + alpha / size * s) ** beta
    return out


def softmax_loops(x):
    out = np.zeros(x.shape, dtype=np.float64)
    for index in itertools.product(*(range(d) for d in x.shape[:-1])):
        row = [float(v) for v in x[index]]
        top = max(row)
        exps = [math.exp(v - top) for v in row]
        out[index] = [e / sum(exps) for e in exps]
    return out


def as_int(values, softmax=False):
    """The module's int8 rounding, restated: nearest integer, ties to even (Python's round),
    clamped to int8; a softmax's probabilities at scale 1/256, zero point -128."""
    if softmax:
        return np.vectorize(lambda p: min(127, max(-128, round(p * 256) - 128)))(values)
    return np.vectorize(lambda v: min(127, max(-128, round(v))))(values)


POOLS = [
    ("maxpool", 3, 3, 2, [0, 0, 1, 1], False, None),      # AlexNet's pool2, Caffe-style
    ("maxpool", 3, 3, 2, [0, 0, 0, 0], True, None),       # the same size by ceil_mode
    ("maxpool", 2, 3, 2, [1, 0, 0, 2], True, None),       # every side different, overhang
    ("avgpool", 3, 3, 2, [1, 1, 1, 1], True, False),      # ONNX's default count_include_pad=0
    ("avgpool", 3, 3, 2, [1, 1, 1, 1], True, True),       # padding counts, the overhang does not
    ("avgpool", 7, 7, 1, [0, 0, 1, 1], False, False),     # Inception v1's last pool
    ("avgpool", 3, 2, 3, [2, 1, 0, 1], True, None),       # count_include_pad default (true)
]


@pytest.mark.parametrize(("kind", "kh", "kw", "stride", "pads", "ceil_mode", "count"), POOLS)
@pytest.mark.parametrize("dtype", ["int8", "fp32"])
def test_pools_with_pads_and_ceil_mode_equal_the_onnx_loops(kind, kh, kw, stride, pads, ceil_mode, count,
                                                            dtype):
    pool = {"name": "p", "kind": kind, "input": "x", "output": "y", "kh": kh, "kw": kw, "stride": stride,
            "pads": pads, "ceil_mode": ceil_mode}
    if count is not None:
        pool["count_include_pad"] = count
    wl = workload_from_dict({"name": "p", "tensors": {"x": [1, 8, 7, 3]}, "ops": [pool]})
    inputs = random_inputs(wl, dtype, seed=2)
    want = onnx_pool_loops(inputs["x"], kind, kh, kw, stride, pads, ceil_mode, count is not False)
    got = reference(wl, inputs)["y"]
    assert got.shape == want.shape
    if dtype == "int8":
        assert np.array_equal(got, want)
    else:
        assert np.allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", ["int8", "fp32"])
@pytest.mark.parametrize(("size", "alpha", "beta", "bias"), [(5, 1e-4, 0.75, 1.0), (4, 5e-4, 0.75, 2.0),
                                                             (3, 0.01, 1.5, 0.5)])
def test_lrn_and_softmax_equal_the_formula_loops(dtype, size, alpha, beta, bias):
    wl = workload_from_dict({"name": "v", "tensors": {"x": [1, 3, 2, 9]}, "ops": [
        {"name": "n", "kind": "lrn", "input": "x", "output": "y", "size": size, "alpha": alpha, "beta": beta,
         "bias": bias},
        {"name": "s", "kind": "softmax", "input": "x", "output": "p"}]})
    inputs = random_inputs(wl, dtype, seed=4)
    ref = reference(wl, inputs)
    lrn, soft = lrn_loops(inputs["x"], size, alpha, beta, bias), softmax_loops(inputs["x"])
    if dtype == "int8":
        assert np.array_equal(ref["y"], as_int(lrn)) and np.array_equal(ref["p"], as_int(soft, softmax=True))
    else:
        assert np.allclose(ref["y"], lrn, rtol=1e-6) and np.allclose(ref["p"], soft, rtol=1e-6)


def test_int8_softmax_by_hand():
    wl = workload_from_dict({"name": "s", "tensors": {"x": [1, 1, 2, 3]}, "ops": [
        {"name": "s", "kind": "softmax", "input": "x", "output": "p"}]})
    x = np.array([[[[0, 0, 0], [0, 127, 0]]]], dtype=np.int8)
    # thirds: rint(256 / 3) - 128 = 85 - 128 = -43; a certain class: 256 - 128 = 128, clipped to 127
    assert reference(wl, {"x": x})["p"].tolist() == [[[[-43, -43, -43], [-128, 127, -128]]]]


def test_pools_and_softmax_agree_with_onnx_reference_evaluator():
    """fp32 against onnx's own reference implementation (NCHW), for a second opinion. (Not LRN:
    onnx 1.23's reference LRN loops over the batch axis where it means channels, so it sums the
    squares of channel 0 only; `lrn_loops` follows the operator's definition.)"""
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator
    x = np.random.default_rng(7).standard_normal((1, 6, 9, 9)).astype(np.float32)      # NCHW
    nodes = [helper.make_node("MaxPool", ["x"], ["mp"], kernel_shape=[3, 3], strides=[2, 2],
                              pads=[0, 0, 1, 1]),
             helper.make_node("AveragePool", ["x"], ["ap"], kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 1, 1], ceil_mode=1),
             helper.make_node("AveragePool", ["x"], ["aq"], kernel_shape=[2, 2], strides=[2, 2],
                              pads=[1, 0, 0, 1], ceil_mode=1, count_include_pad=1),
             helper.make_node("Softmax", ["x"], ["sm"], axis=1)]
    names = ("mp", "ap", "aq", "sm")
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                              outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    want = dict(zip(names, ReferenceEvaluator(model).run(None, {"x": x}), strict=True))
    wl = workload_from_dict({"name": "o", "tensors": {"x": [1, 9, 9, 6]}, "ops": [
        {"name": "mp", "kind": "maxpool", "input": "x", "output": "mp", "kh": 3, "kw": 3, "stride": 2,
         "pads": [0, 0, 1, 1]},
        {"name": "ap", "kind": "avgpool", "input": "x", "output": "ap", "kh": 3, "kw": 3, "stride": 2,
         "pads": [1, 1, 1, 1], "ceil_mode": True, "count_include_pad": False},
        {"name": "aq", "kind": "avgpool", "input": "x", "output": "aq", "kh": 2, "kw": 2, "stride": 2,
         "pads": [1, 0, 0, 1], "ceil_mode": True},
        {"name": "sm", "kind": "softmax", "input": "x", "output": "sm"}]})
    got = reference(wl, {"x": x.transpose(0, 2, 3, 1)})
    for name, value in want.items():
        assert got[name].shape == value.transpose(0, 2, 3, 1).shape, name
        assert np.allclose(got[name], value.transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6), name


LRN_NET = ROOT / "tests" / "data" / "lrn_softmax.yaml"


@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
@pytest.mark.parametrize("dtype", ["int8", "fp32"])
def test_tiled_lrn_pool_and_softmax_compute_the_reference(kind, dtype):
    # 300 B of ifmap hold no row of the LRN's input (16 x 48 B): it and the pool go by columns
    wl = load_workload(LRN_NET)
    small = hw_with(sram__ifmap__size_bytes=300)
    schedule = make_schedule(small, wl, kind)
    lrns = [op for op in schedule.ops if op.kind == "lrn"]
    assert len(lrns) > 16 and all(op.writes[0].stop[1] - op.writes[0].start[1] == 1 for op in lrns)
    found = check(schedule, wl, dtype, seed=1, capacity=small.sram_capacity())
    assert found.ok, found.mismatches
    assert set(found.compared) == {"c1", "n1", "p1", "logits", "prob"}


@pytest.mark.parametrize("kind", ["serial", "pipelined"])
@pytest.mark.parametrize("dtype", ["int8", "fp32"])
def test_an_lrn_split_by_channel_computes_the_reference(kind, dtype):
    # 40 B of ifmap: the 64-channel LRN goes in channel parts, each loading its channel halo
    # (tests/scheduler/test_network.py derives how many)
    small = hw_with(sram__ifmap__size_bytes=40)
    wl = workload_from_dict({"name": "l", "tensors": {"x": [1, 2, 2, 64]}, "ops": [
        {"name": "n", "kind": "lrn", "input": "x", "output": "y", "size": 5, "alpha": 0.01, "bias": 2}]})
    schedule = make_schedule(small, wl, kind)
    assert len({op.writes[0].start[3] for op in schedule.ops if op.kind == "lrn"}) > 1
    found = check(schedule, wl, dtype, seed=3, capacity=small.sram_capacity())
    assert found.ok, found.mismatches


@pytest.mark.parametrize("kind", ["serial", "pipelined"])
def test_a_grouped_conv_splits_its_filters_within_groups_and_is_bit_exact(kind):
    """Two groups of 8 filters (3x3x4 weights each: 36 bytes int8) with 100 bytes of weight
    buffer: pipelined, two chunks in flight leave 50 bytes a chunk, one filter; serial, 100
    bytes, two filters. Every chunk lies within one group: one GEMM of K = 3 x 3 x 4 (its
    group's input channels), N = its filters."""
    wl = workload_from_dict({
        "name": "grouped", "tensors": {"x": [1, 6, 6, 8]},
        "ops": [{"name": "c", "kind": "conv", "input": "x", "output": "y", "kh": 3, "kw": 3, "pad": 1,
                 "cin": 8, "cout": 16, "groups": 2}]})
    small = hw_with(sram__weight__size_bytes=100)
    schedule = make_schedule(small, wl, kind)
    chunks = [op.writes[0] for op in schedule.ops if op.kind == "load" and op.writes[0].space == "weight"]
    assert [r.stop[0] - r.start[0] for r in chunks] == [1 if kind == "pipelined" else 2] * len(chunks)
    assert len(chunks) == (16 if kind == "pipelined" else 8)
    for op in schedule.ops:
        if op.kind == "conv":
            f0, f1 = op.writes[0].start[3], op.writes[0].stop[3]
            assert f0 // 8 == (f1 - 1) // 8, op.id
            assert (op.gemm.k, op.gemm.n, op.gemm.groups) == (36, f1 - f0, 1), op.id
    found = check(schedule, wl, "int8", seed=3, capacity=small.sram_capacity())
    assert found.ok, found.mismatches


@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
def test_a_concat_copies_each_branch_into_its_channel_slice_bit_exact(kind):
    hw = load_hw(DEFAULT_HW)
    wl = concat_net()
    found = check(make_schedule(hw, wl, kind), wl, "int8", seed=1,
                  capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    assert "y" in found.compared and "z" in found.compared
    inputs = random_inputs(wl, "int8", 1)
    ref = reference(wl, inputs)
    assert np.array_equal(ref["y"], np.concatenate([ref["b1"], ref["b3"]], axis=-1))


def test_a_concat_store_into_the_wrong_slice_is_caught_functionally():
    hw = load_hw(DEFAULT_HW)
    wl = concat_net()
    schedule = make_schedule(hw, wl, "serial")
    moved = []
    for op in schedule.ops:                 # b3's parts stored one channel too far left: y[..., 7]
        if op.kind == "store" and op.reads[0].tensor == "b3" and op.writes[0].tensor == "y":
            dst = op.writes[0]
            op = dataclasses.replace(op, writes=(dataclasses.replace(
                dst, start=(*dst.start[:3], dst.start[3] - 1), stop=(*dst.stop[:3], dst.stop[3] - 1)),))
        moved.append(op)
    found = check(dataclasses.replace(schedule, ops=tuple(moved)), wl, "int8", seed=1,
                  capacity=hw.sram_capacity())
    assert any("y[0, 0, 0, 7]" in m for m in found.mismatches), found.mismatches


# -- scale (a batch norm on the add unit): against loops over y = x * a[c] + b[c] --

def scale_loops(x, w, relu):
    """`x[..., c] * a[c] + b[c]` element by element (a, b the rows of `w`), then ReLU: floats,
    or for int8 Python integers as the module states: a[c] / 128 (7 fraction bits), the
    product rounded by Python's round of a Fraction (ties to even), plus b[c], clamped."""
    out = np.zeros(x.shape, dtype=np.float64 if x.dtype == np.float32 else np.int64)
    for index in itertools.product(*(range(d) for d in x.shape)):
        c = index[-1]
        if x.dtype == np.float32:
            v = float(x[index]) * float(w[0, c]) + float(w[1, c])
        else:
            v = min(127, max(-128, round(Fraction(int(x[index]) * int(w[0, c]), 128)) + int(w[1, c])))
        out[index] = max(v, 0) if relu else v
    return out


@pytest.mark.parametrize("dtype", ["int8", "fp32"])
@pytest.mark.parametrize("relu", [False, True])
def test_a_scale_equals_the_formula_loops(dtype, relu):
    wl = workload_from_dict({"name": "s", "tensors": {"x": [1, 3, 2, 5]}, "ops": [
        {"name": "bn", "kind": "scale", "input": "x", "output": "y", "relu": relu}]})
    inputs = random_inputs(wl, dtype, seed=5)
    assert inputs["bn.weight"].shape == (2, 5)
    got, want = reference(wl, inputs)["y"], scale_loops(inputs["x"], inputs["bn.weight"], relu)
    if dtype == "int8":
        assert np.array_equal(got, want) and got.dtype == np.int8
    else:
        assert np.allclose(got, want, rtol=1e-6, atol=1e-6) and got.dtype == np.float32


def test_an_int8_scale_by_hand():
    wl = workload_from_dict({"name": "s", "tensors": {"x": [1, 1, 1, 4]}, "ops": [
        {"name": "bn", "kind": "scale", "input": "x", "output": "y", "relu": True}]})
    x = np.array([[[[64, -2, 100, 127]]]], dtype=np.int8)
    w = np.array([[3, 64, -128, 127], [1, 4, 0, 100]], dtype=np.int8)
    # 64 * 3 / 128 = 1.5 -> 2, + 1 = 3; -2 * 64 / 128 = -1, + 4 = 3; 100 * -128 / 128 = -100 -> 0
    # (ReLU); 127 * 127 / 128 = 126.0078 -> 126, + 100 = 226 -> 127 (saturated)
    assert reference(wl, {"x": x, "bn.weight": w})["y"].tolist() == [[[[3, 3, 0, 127]]]]


SCALE_NET = ROOT / "tests" / "data" / "scale.yaml"


@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
@pytest.mark.parametrize("dtype", ["int8", "fp32"])
def test_tiled_scales_compute_the_reference(kind, dtype):
    # 600 B of ifmap: the convs and scales go in row parts
    wl = load_workload(SCALE_NET)
    small = hw_with(sram__ifmap__size_bytes=600)
    schedule = make_schedule(small, wl, kind)
    assert len([op for op in schedule.ops if op.kind == "scale"]) > 2
    found = check(schedule, wl, dtype, seed=1, capacity=small.sram_capacity())
    assert found.ok, found.mismatches
    assert set(found.compared) == {"p0", "s1", "c1", "s2", "c2"}


@pytest.mark.parametrize("kind", ["serial", "pipelined"])
@pytest.mark.parametrize("dtype", ["int8", "fp32"])
def test_a_scale_split_by_channel_loads_each_parts_constants_and_computes_the_reference(kind, dtype):
    # 40 B of ifmap hold no pixel of 64 channels: channel parts, each with its columns of a and b
    small = hw_with(sram__ifmap__size_bytes=40)
    wl = workload_from_dict({"name": "s", "tensors": {"x": [1, 2, 2, 64]}, "ops": [
        {"name": "bn", "kind": "scale", "input": "x", "output": "y", "relu": True}]})
    schedule = make_schedule(small, wl, kind)
    scales = [op for op in schedule.ops if op.kind == "scale"]
    for op in scales:
        (w,) = [r for r in op.reads if r.tensor == "bn.weight"]
        assert (w.start, w.stop) == ((0, op.writes[0].start[3]), (2, op.writes[0].stop[3]))
    assert len({op.writes[0].start[3] for op in scales}) > 1
    found = check(schedule, wl, dtype, seed=3, capacity=small.sram_capacity())
    assert found.ok, found.mismatches


@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
def test_a_shuffle_permutes_the_channels_bit_exact(kind):
    hw = load_hw(DEFAULT_HW)
    wl = shuffle_net()
    found = check(make_schedule(hw, wl, kind), wl, "int8", seed=1,
                  capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    assert "s" in found.compared and "z" in found.compared
    ref = reference(wl, random_inputs(wl, "int8", 1))
    a = ref["a"].transpose(0, 3, 1, 2)                   # NCHW, as ONNX reshapes it
    onnx = a.reshape(1, 3, 4, 6, 5).transpose(0, 2, 1, 3, 4).reshape(1, 12, 6, 5)
    assert np.array_equal(ref["s"], onnx.transpose(0, 2, 3, 1))


# -- integer requantization (int8, int16) and fp16 / bf16: against references written here --

def requant_loops(acc, constants, bits=8):
    """The stated requantization, element by element in Python integers: the accumulator
    wrapped to int32 (int8 only), times M[c], divided by 2^S[c] and rounded by Python's
    round of an exact Fraction (ties to even), clamped to the B-bit range."""
    lo, hi = -2 ** (bits - 1), 2 ** (bits - 1) - 1
    out = np.zeros(acc.shape, dtype=np.int64)
    for index in itertools.product(*(range(d) for d in acc.shape)):
        a, c = int(acc[index]), index[-1]
        if bits == 8:
            a = (a + 2 ** 31) % 2 ** 32 - 2 ** 31
        q = round(Fraction(a * int(constants[0, c]), 2 ** int(constants[1, c])))
        out[index] = min(hi, max(lo, q))
    return out


def convadd_loops(inputs, bits=8, relu=True):
    """The int ConvAdd block `x1 = relu(sat(requant(conv0(x0)) + r0))`, by loops."""
    conv = naive_conv(inputs["x0"], inputs["conv0.weight"], 1, 1, 1, 1)
    c0 = requant_loops(conv, inputs["conv0.requant"], bits)
    lo, hi = -2 ** (bits - 1), 2 ** (bits - 1) - 1
    x1 = np.vectorize(lambda c, r: max(0, min(hi, max(lo, c + r))) if relu else min(hi, max(lo, c + r)))(
        c0, inputs["r0"].astype(np.int64))
    return c0, x1


def convadd_relu(h=17, w=9, cin=12, cout=8):
    """The ConvAdd block of tests/helpers.py with the add's ReLU (ResNet's)."""
    data = convadd_data(h=h, w=w, cin=cin, cout=cout)
    data["ops"][1]["relu"] = True
    return workload_from_dict(data)


BLOCK_WL = convadd_relu()


@functools.cache
def block_int(dtype):
    inputs = random_inputs(BLOCK_WL, dtype, seed=11)
    return inputs, convadd_loops(inputs, 8 if dtype == "int8" else 16)


@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
@pytest.mark.parametrize("splits", range(1, 9))
def test_the_int8_convadd_with_requantization_is_bit_exact_for_every_split(kind, splits):
    hw = load_hw(DEFAULT_HW)
    inputs, (c0, x1) = block_int("int8")
    schedule = make_schedule(hw, BLOCK_WL, kind, splits)
    assert len({op.writes[0].start[1] for op in schedule.ops if op.kind == "add"}) == splits
    dram, stored, notes = execute(schedule, BLOCK_WL, inputs, hw.sram_capacity())
    assert not notes
    assert np.array_equal(dram["x1"], x1) and dram["x1"].dtype == np.int8
    if "c0" in stored:                                  # serial stores the requantized conv output
        assert np.array_equal(dram["c0"], c0)
    found = check(schedule, BLOCK_WL, "int8", seed=11, capacity=hw.sram_capacity())
    assert found.ok and "rounded half to even" in found.tolerance


def test_the_block_data_spreads_over_the_int8_range_and_saturates_at_both_ends():
    # the requantized conv output neither vanishes nor saturates everywhere; the saturating
    # add hits 127 and the ReLU zeroes the negatives
    _, (c0, x1) = block_int("int8")
    assert 20 < c0.std() < 64 and c0.min() < -100 and c0.max() > 100
    assert (x1 == 127).any() and (x1 == 0).mean() > 0.3 and x1.min() == 0


@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
@pytest.mark.parametrize("splits", [1, 3, 8])
def test_the_int16_convadd_is_bit_exact(kind, splits):
    hw = load_hw(DEFAULT_HW)
    inputs, (_, x1) = block_int("int16")
    schedule = make_schedule(hw, BLOCK_WL, kind, splits)
    dram, _, notes = execute(schedule, BLOCK_WL, inputs, hw.sram_capacity())
    assert not notes and dram["x1"].dtype == np.int16
    assert np.array_equal(dram["x1"], x1) and np.abs(x1).max() > 2 ** 12


def test_requantization_rounds_half_to_even_and_saturates_by_hand():
    acc = np.array([1, 3, 5, 7, -1, -3, -5, -7, 2, -2, 254, 255, -256, -257, -258, 2 ** 31 - 1, -2 ** 31])
    half = requantize(acc, np.int64(2 ** 14), np.int64(15), np.dtype(np.int8))      # acc / 2
    # 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4 and the same negated; 127.5 -> 128 -> 127;
    # -128.5 -> -128; -129 -> -128; the int32 extremes saturate
    assert half.tolist() == [0, 2, 2, 4, 0, -2, -2, -4, 1, -1, 127, 127, -128, -128, -128, 127, -128]
    # M = 3 * 2^13, S = 16: acc * 3/8; 4 -> 1.5 -> 2, 12 -> 4.5 -> 4, -4 -> -2, 3 -> 1.125 -> 1,
    # -20 -> -7.5 -> -8, 9 -> 3.375 -> 3
    eighths = requantize(np.array([4, 12, -4, 3, -20, 9]), np.int64(3 * 2 ** 13), np.int64(16),
                         np.dtype(np.int8))
    assert eighths.tolist() == [2, 4, -2, 1, -8, 3]
    # per channel: the last axis picks M and S
    assert requantize(np.array([[10, 10]]), np.array([2 ** 14, 2 ** 14]), np.array([15, 16]),
                      np.dtype(np.int8)).tolist() == [[5, 2]]           # 5; 2.5 -> 2


def test_an_int8_convadd_by_hand():
    # 1x1 conv of one channel, two pixels: acc 3 * 5 = 15 and -3 * 5 = -15; M = 2^14, S = 15:
    # 7.5 -> 8 and -7.5 -> -8 (ties to even); + residual 120 and -125: 128 -> 127 and
    # -133 -> -128 (saturating); with the add's ReLU: 127 and 0
    data = convadd_data(h=1, w=2, cin=1, cout=1, k=1, pad=0)
    int8 = functools.partial(np.array, dtype=np.int8)
    inputs = {"x0": int8([[[[3], [-3]]]]), "conv0.weight": int8([[[[5]]]]), "r0": int8([[[[120], [-125]]]]),
              "conv0.requant": np.array([[2 ** 14], [15]])}
    plain = reference(workload_from_dict(data), inputs)
    assert plain["c0"].ravel().tolist() == [8, -8]
    assert plain["x1"].ravel().tolist() == [127, -128]
    data["ops"][1]["relu"] = True
    assert reference(workload_from_dict(data), inputs)["x1"].ravel().tolist() == [127, 0]


def test_requantization_constants_follow_the_fan_in():
    # conv0 reads a graph input: r_in = r_w = 128 / sqrt(3), n = 3 x 3 x 12 = 108, T = 32:
    # S0 = round(log2(128^2 / 3 * sqrt(108) / 32)) + 14 = round(log2 1773.6 = 10.79) + 14 = 25
    inputs, _ = block_int("int8")
    m, s = inputs["conv0.requant"]
    assert m.min() >= 2 ** 14 and m.max() < 2 ** 15 and len(set(m.tolist())) > 4
    assert set(s.tolist()) == {25, 26}


def requant_vectorized(acc, constants, bits):
    """The stated requantization in another formulation: round half up by adding 2^(S-1)
    and shifting, then one less where the product lay exactly halfway and that gave an odd
    result (ties to even)."""
    m, s = constants
    v = acc.astype(np.int64) * m
    up = (v + (np.int64(1) << (s - 1))) >> s
    tie = (v & ((np.int64(1) << s) - 1)) == (np.int64(1) << (s - 1))
    return np.clip(up - (tie & (up % 2 == 1)), -2 ** (bits - 1), 2 ** (bits - 1) - 1)


def network_loops(wl, inputs, dtype):
    """conv, add, maxpool, avgpool and gemm networks (ResNet-18), written independently: a
    conv as a tensordot over sliding windows and a gemm as a matrix product, both in float64
    (exact for int8 data: every partial sum an integer below 2^53), requantized by
    `requant_vectorized`; a pool's window max, or mean rounded by Python's round of a Fraction.
    Floats: every op in float64, its output rounded to `dtype`."""
    like = inputs[next(iter(wl.tensors))].dtype
    integer = dtype.startswith("int")
    bits = 8 if dtype == "int8" else 16
    values = {k: v for k, v in inputs.items()}

    def finish(acc, op):
        if integer:
            assert np.abs(acc).max() < 2 ** 31                   # no int32 wrap in these layers
            out = requant_vectorized(acc.astype(np.int64), inputs[f"{op.name}.requant"], bits)
        else:
            out = acc.astype(like).astype(np.float64)
        return np.maximum(out, 0) if op.relu else out

    for op in wl.ops:
        if op.kind == "add":
            a, b = (values[t].astype(np.float64) for t in op.inputs)
            out = np.clip(a + b, -2 ** (bits - 1), 2 ** (bits - 1) - 1) if integer else (a + b).astype(like)
            values[op.output] = np.maximum(out, 0) if op.relu else out
            continue
        x = values[op.input].astype(np.float64)
        if op.kind == "gemm":
            w = values[op.weight].astype(np.float64)
            out = finish(x.reshape(x.shape[0], -1) @ w.T, op)
            values[op.output] = out.reshape(wl.tensors[op.output].shape)
            continue
        p = op.pad
        fill = -np.inf if op.kind == "maxpool" else 0.0
        xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=fill)
        win = sliding_window_view(xp, (op.kh, op.kw), axis=(1, 2))[:, ::op.stride, ::op.stride]
        ho, wo = wl.tensors[op.output].shape[1:3]
        win = win[:, :ho, :wo]                                   # [N, Ho, Wo, C, kh, kw]
        if op.kind == "conv":
            w = values[op.weight].astype(np.float64)             # [Cout, kh, kw, C]
            values[op.output] = finish(np.tensordot(win, w, axes=([3, 4, 5], [3, 1, 2])), op)
        elif op.kind == "maxpool":
            values[op.output] = win.max(axis=(4, 5))
        else:
            assert p == 0
            sums = win.sum(axis=(4, 5))
            if integer:
                count = op.kh * op.kw
                values[op.output] = np.vectorize(lambda t, n=count: round(Fraction(int(t), n)))(sums)
            else:
                values[op.output] = (sums / (op.kh * op.kw)).astype(like).astype(np.float64)
    return values


RESNET18 = ROOT / "traces" / "resnet18.yaml"


def test_resnet18_int8_whole_is_bit_exact():
    # about 5 s: the schedule executed, accelsim's reference and the one above
    hw = load_hw(DEFAULT_HW)
    wl = load_workload(RESNET18)
    inputs = random_inputs(wl, "int8", seed=0)
    want = network_loops(wl, inputs, "int8")
    ref = reference(wl, inputs)
    dram, stored, notes = execute(make_schedule(hw, wl, "pipelined"), wl, inputs, hw.sram_capacity())
    assert not notes
    for op in wl.ops:
        assert np.array_equal(ref[op.output], want[op.output]), op.name
    assert len(stored) > 20
    for tensor in stored:
        assert np.array_equal(dram[tensor], want[tensor]), tensor
    assert np.array_equal(dram["fc"], want["fc"])


def within(got, want, eps, depth):
    """The stated fp16 / bf16 tolerance, restated: eps * |want| + depth * eps * max |want|."""
    got, want = got.astype(np.float64), want.astype(np.float64)
    return bool(np.all(np.abs(got - want) <= eps * np.abs(want) + depth * eps * np.abs(want).max()))


@pytest.mark.parametrize("dtype,eps", [("fp16", 2 ** -10), ("bf16", 2 ** -7)])
@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
def test_fp16_and_bf16_convadd_within_the_stated_tolerance(dtype, eps, kind):
    hw = load_hw(DEFAULT_HW)
    inputs = random_inputs(BLOCK_WL, dtype, seed=2)
    assert inputs["x0"].dtype.itemsize == 2 and str(inputs["x0"].dtype) == {"fp16": "float16",
                                                                               "bf16": "bfloat16"}[dtype]
    want = network_loops(BLOCK_WL, inputs, dtype)
    for splits in (1, 4, 8):
        schedule = make_schedule(hw, BLOCK_WL, kind, splits)
        dram, _, notes = execute(schedule, BLOCK_WL, inputs, hw.sram_capacity())
        assert not notes and dram["x1"].dtype == inputs["x0"].dtype
        assert within(dram["x1"], want["x1"], eps, 2)           # two roundings: conv, add
        found = check(schedule, BLOCK_WL, dtype, seed=2, capacity=hw.sram_capacity())
        assert found.ok, found.mismatches
        assert found.tolerance.startswith(f"|got - expected| <= 2^{round(math.log2(eps))} * |expected|")


@pytest.mark.parametrize("dtype,eps", [("fp16", 2 ** -10), ("bf16", 2 ** -7)])
def test_resnet18_fp16_and_bf16_within_the_stated_tolerance(dtype, eps):
    # about 3 s each; each tensor within eps * |want| + r * eps * max|want|, r its depth in roundings
    hw = load_hw(DEFAULT_HW)
    wl = load_workload(RESNET18)
    inputs = random_inputs(wl, dtype, seed=0)
    want = network_loops(wl, inputs, dtype)
    dram, stored, notes = execute(make_schedule(hw, wl, "pipelined"), wl, inputs, hw.sram_capacity())
    assert not notes
    depth = {"image": 0}
    for op in wl.ops:
        depth[op.output] = 1 + max(depth.get(t, 0) for t in op.inputs)
        if op.output in stored:
            assert within(dram[op.output], want[op.output], eps, depth[op.output]), op.name
    assert depth["fc"] == 28 and within(dram["fc"], want["fc"], eps, 28)


@pytest.mark.parametrize("dtype", ["fp16", "bf16", "int16"])
def test_a_missing_halo_row_is_caught_in_every_datatype(dtype):
    hw = load_hw(DEFAULT_HW)
    wl = load_workload(SCHEDULES / "block.yaml")
    file = read_schedule(SCHEDULES / "halo_missing.yaml", hw, wl)
    found = check(file.schedule, wl, dtype)      # the file's offsets: 1-byte elements
    assert not found.ok
    assert found.mismatches[0].startswith("y[0:1, 4:8, 0:8, 0:4] stored by op store2 (computed by op add2)")


def test_bf16_without_ml_dtypes_is_a_clear_error(monkeypatch):
    import builtins
    real = builtins.__import__

    def no_ml_dtypes(name, *args, **kwargs):
        if name == "ml_dtypes":
            raise ImportError(name)
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_ml_dtypes)
    with pytest.raises(ConfigError, match=r"^functional bf16 needs the ml_dtypes package: "
                                          r"pip install 'accelsim\[dtypes\]'$"):
        random_inputs(BLOCK_WL, "bf16")


def test_a_tensor_named_like_requantization_constants_is_refused():
    wl = workload_from_dict({"name": "n", "tensors": {"x": [1, 2, 2, 1], "c.requant": [1, 2, 2, 1]}, "ops": [
        {"name": "c", "kind": "conv", "input": "x", "output": "y", "kh": 1, "kw": 1, "cin": 1, "cout": 1},
        {"name": "a", "kind": "add", "inputs": ["y", "c.requant"], "output": "z"}]})
    with pytest.raises(ConfigError, match=r"^workload 'n': tensors.c.requant: this name is taken by the "
                                          r"requantization constants of op 'c'; rename the tensor$"):
        random_inputs(wl, "int8")
    assert "c.requant" in random_inputs(wl, "fp16")               # floats draw no constants


def test_nm_sparse_keeps_the_largest_of_each_group_ties_to_the_lowest_index():
    from accelsim.functional import nm_sparse
    from accelsim.pattern import Pattern

    w = np.array([[3, -5, 1, 2, 4, 4, -4, 0, 7, 1]], dtype=np.int8)     # K = 10: groups of 4, 4, 2
    assert nm_sparse(w, Pattern(2, 4)).tolist() == [[3, -5, 0, 0, 4, 4, 0, 0, 7, 1]]
    assert nm_sparse(w, Pattern(1, 4)).tolist() == [[0, -5, 0, 0, 4, 0, 0, 0, 7, 0]]
    # a conv's [Cout, kh, kw, Cin] weights group along the flattened [kh, kw, Cin]
    conv = np.arange(1, 17, dtype=np.int8).reshape(2, 2, 2, 2)
    assert nm_sparse(conv, Pattern(1, 2)).reshape(2, -1).tolist() == [[0, 2, 0, 4, 0, 6, 0, 8],
                                                                       [0, 10, 0, 12, 0, 14, 0, 16]]
