"""Convs through the whole path (trace -> schedule op -> cycles), counted by hand.

SCALE-Sim 3.0.0 reports each of these counts minus one (its known off-by-one).
"""

import pytest

from accelsim import make_schedule, workload_from_dict
from accelsim.timing import compute_op_cycles, sram_port_cycles, unit_cycles
from tests.helpers import IDEAL_HW, convadd, hw

BIG = {f"sram__{b}__size_bytes": 1 << 30 for b in ("ifmap", "weight", "ofmap")}


def fused(workload):
    """The fused schedule in one tile, on SRAM large enough for any of these shapes."""
    return make_schedule(hw(**BIG), workload, "fused", 1)


def conv_op(**shape):
    return fused(convadd(**shape)).op("conv1")


def array(dataflow, folds, rows=4, cols=4):
    return hw(IDEAL_HW, systolic_array__rows=rows, systolic_array__cols=cols,
              systolic_array__dataflow=dataflow, systolic_array__folds=folds)


@pytest.mark.parametrize(("dataflow", "serialized", "overlapped"), [
    # 1x1 conv, 4x4x8 input, 8 filters: M=16, K=8, N=8 on 4x4.
    ("os", 8 * 14, 8 * 8 + 6),        # Sr=M=16 -> 4, Sc=N=8 -> 2: 8 folds of T=8
    ("ws", 4 * 26, 4 + 4 * 16 + 6),   # Sr=K=8 -> 2, Sc=N=8 -> 2: 4 folds of T=16
    ("is", 8 * 18, 4 + 8 * 8 + 6),    # Sr=K=8 -> 2, Sc=M=16 -> 4: 8 folds of T=8
])
def test_1x1_conv(dataflow, serialized, overlapped):
    op = conv_op(h=4, w=4, cin=8, cout=8, k=1, pad=0)
    assert (op.gemm.m, op.gemm.k, op.gemm.n) == (16, 8, 8)
    assert unit_cycles(op, array(dataflow, "serialized")) == serialized
    assert unit_cycles(op, array(dataflow, "overlapped")) == overlapped


@pytest.mark.parametrize(("dataflow", "serialized", "overlapped"), [
    # 3x3 stride-2 conv, 9x9x4 input, no padding, 10 filters: Ho = Wo = 4,
    # M=16, K=3*3*4=36, N=10 on 4x4.
    ("os", 12 * 42, 12 * 36 + 6),       # Sr=16 -> 4, Sc=10 -> 3: 12 folds of T=36
    ("ws", 27 * 26, 4 + 27 * 16 + 6),   # Sr=36 -> 9, Sc=10 -> 3: 27 folds of T=16
    ("is", 36 * 20, 4 + 36 * 10 + 6),   # Sr=36 -> 9, Sc=16 -> 4: 36 folds of T=10
])
def test_3x3_stride_2_conv(dataflow, serialized, overlapped):
    op = conv_op(h=9, w=9, cin=4, cout=10, k=3, stride=2, pad=0)
    assert (op.gemm.m, op.gemm.k, op.gemm.n) == (16, 36, 10)
    assert unit_cycles(op, array(dataflow, "serialized")) == serialized
    assert unit_cycles(op, array(dataflow, "overlapped")) == overlapped


def test_depthwise_conv_runs_one_gemm_per_group():
    op = conv_op(h=4, w=4, cin=8, cout=8, k=3, pad=1, groups=8)
    # per group: M=16, K=9, N=1; OS on 4x4: 4 folds of T=9; 8 groups
    assert (op.gemm.m, op.gemm.k, op.gemm.n, op.gemm.groups) == (16, 9, 1, 8)
    assert unit_cycles(op, array("os", "serialized")) == 8 * 4 * (9 + 6)
    assert unit_cycles(op, array("os", "overlapped")) == 8 * 4 * 9 + 6


def test_sram_port_bandwidth_can_bound_an_op():
    slow = hw(sram__ofmap__bytes_per_cycle=1)
    op = fused(convadd(h=8, w=8, cin=16, cout=16)).op("add1")
    # add of 1,024 elements on 32 lanes: 32 + 4 = 36 cycles; but it reads 1,024 B of conv
    # output from ofmap and writes 1,024 B back to ofmap through a 1 B/cycle port: 2,048.
    assert unit_cycles(op, slow) == 36
    assert sram_port_cycles(op, slow) == 2048
    assert compute_op_cycles(op, slow) == 2048
    ideal = hw(IDEAL_HW, sram__ofmap__bytes_per_cycle=1)
    assert compute_op_cycles(op, ideal) == 36          # ideal memory: ports are free


def vector_op(kind_op: dict, shape=(1, 4, 4, 16), machine=None):
    """The one add-unit op of a one-op workload, fused in one tile on big SRAM."""
    wl = workload_from_dict({"name": "v", "tensors": {"x": list(shape)},
                             "ops": [{"name": "v", "input": "x", "output": "y", **kind_op}]})
    schedule = make_schedule(machine or hw(**BIG), wl, "fused", 1)
    (op,) = [op for op in schedule.ops if op.unit == "add"]
    return op


@pytest.mark.parametrize(("lrn_extra", "cycles"), [
    (None, 84),       # 4 x 4 x 16 = 256 outputs x (size 5 + default.yaml's 5) = 2,560 / 32 lanes + 4
    (2, 60),          # 256 x (5 + 2) = 1,792 / 32 + 4
])
def test_an_lrn_costs_its_window_plus_the_normalization_per_element(lrn_extra, cycles):
    machine = hw(**BIG) if lrn_extra is None else hw(**BIG, add_unit__lrn_cycles_per_element=lrn_extra)
    op = vector_op({"kind": "lrn", "size": 5}, machine=machine)
    assert (op.kind, op.unit, op.window, op.writes[0].elements) == ("lrn", "add", 5, 256)
    assert unit_cycles(op, machine) == cycles


@pytest.mark.parametrize(("softmax_cost", "cycles"), [
    (None, 11),       # 2 x 2 x 10 = 40 outputs x default.yaml's 5 = 200 / 32 lanes = 6.25 -> 7, + 4
    (3, 8),           # 40 x 3 = 120 / 32 = 3.75 -> 4, + 4
])
def test_a_softmax_costs_its_per_element_cycles(softmax_cost, cycles):
    machine = hw(**BIG) if softmax_cost is None else \
        hw(**BIG, add_unit__softmax_cycles_per_element=softmax_cost)
    op = vector_op({"kind": "softmax"}, (1, 2, 2, 10), machine)
    assert (op.kind, op.unit, op.window) == ("softmax", "add", 1)
    assert unit_cycles(op, machine) == cycles


@pytest.mark.parametrize(("scale_cost", "cycles"), [
    (None, 12),       # 4 x 4 x 16 = 256 outputs x default.yaml's 1 (a fused multiply-add) / 32 lanes + 4
    (2, 20),          # 256 x 2 (multiply, then add) = 512 / 32 + 4
])
def test_a_scale_costs_its_per_element_cycles_and_loads_its_constants(scale_cost, cycles):
    machine = hw(**BIG) if scale_cost is None else hw(**BIG, add_unit__scale_cycles_per_element=scale_cost)
    op = vector_op({"kind": "scale", "relu": True}, machine=machine)
    assert (op.kind, op.unit, op.window, op.writes[0].elements) == ("scale", "add", 1, 256)
    assert unit_cycles(op, machine) == cycles
    (w,) = [r for r in op.reads if r.tensor == "v.weight"]
    assert (w.space, w.start, w.stop) == ("weight", (0, 0), (2, 16))


def test_a_ceil_mode_pool_walks_whole_windows():
    # 3x3 stride 2, pads [0, 0, 1, 1], ceil_mode on 6 x 6 x 8: ceil((6 + 1 - 3) / 2) + 1 = 3 rows
    # and columns, 3 x 3 x 8 = 72 outputs x 9 = 648 / 32 = 20.25 -> 21, + 4
    op = vector_op({"kind": "maxpool", "kh": 3, "kw": 3, "stride": 2, "pads": [0, 0, 1, 1],
                    "ceil_mode": True}, (1, 6, 6, 8))
    assert op.writes[0].elements == 72 and unit_cycles(op, hw(**BIG)) == 25
