"""Winograd layers in schedules: the batched GEMM and both transforms by their closed forms,
and one ResNet-50 layer (layer1.0.conv2, 56x56x64 -> 64) by hand against im2col."""

from __future__ import annotations

from fractions import Fraction

import pytest

from accelsim import load_hw, load_workload, simulate
from accelsim.cost import Gemm, add_cycles, systolic_cycles
from accelsim.options import RunOptions
from accelsim.schedule import DRAM
from accelsim.simulation import make_schedule
from accelsim.timing import lane_operations, unit_cycles
from accelsim.workload import Tensor, Workload
from tests.helpers import BLOCK, DEFAULT_HW, ROOT, hw

RESNET50 = ROOT / "traces" / "resnet50.yaml"


def lone(workload: Workload, name: str) -> Workload:
    """A workload of one conv of `workload`: its input, weights and output."""
    op = next(o for o in workload.ops if o.name == name)
    tensors = {t: workload.tensors[t] for t in (op.input, op.output, op.weight)}
    return Workload(name, tensors, (op,))


def small_conv(cin: int = 16, cout: int = 16, h: int = 8) -> Workload:
    from accelsim.workload import Conv
    conv = Conv(name="c", kind="conv", input="x", output="y", kh=3, kw=3, cin=cin, cout=cout, pad=1)
    return Workload("small", {"x": Tensor("x", (1, h, h, cin)), "y": Tensor("y", (1, h, h, cout)),
                              conv.weight: Tensor(conv.weight, conv.weight_shape)}, (conv,))


@pytest.mark.parametrize("dtype", ["int8", "fp32"])
def test_a_small_conv_runs_as_16_batched_gemms_and_two_transforms(dtype):
    machine = load_hw(DEFAULT_HW)
    s = make_schedule(machine, small_conv(), options=RunOptions(dtype=dtype, winograd=True, splits=1))
    (lay,) = s.winograd
    byte = {"int8": 1, "fp32": 4}[dtype]
    held = {"int8": 2, "fp32": 4}[dtype]                 # V and U: int16 in an int8 run
    # U: 16 values per filter and input channel against 9 weights: 16/9 the elements
    (load_w,) = [op for op in s.ops if op.kind == "load" and op.reads[0].tensor == lay.weight]
    assert load_w.reads[0].elements == 16 * 16 * 16 == Fraction(16, 9) * (9 * 16 * 16)
    assert s.widths.bytes(load_w.reads[0]) == 16 * 16 * 16 * held
    # one part of 4 x 4 tiles (8x8 outputs): the GEMM is 16 x (16 tiles x 16 cin) @ (16 cin x 16 cout)
    (conv,) = [op for op in s.ops if op.kind == "conv"]
    assert conv.gemm == Gemm(m=16, k=16, n=16, groups=16)
    # OS 32x32, overlapped folds: T = k = 16, one fold per group: 16 + 62 + 15 x max(16, 32)
    assert unit_cycles(conv, machine, 1, s.widths) == systolic_cycles(conv.gemm, 32, 32, "os") == \
        16 + 62 + 15 * 32
    (wgin,) = [op for op in s.ops if op.kind == "wgin"]
    (wgout,) = [op for op in s.ops if op.kind == "wgout"]
    # input transform: 32 lane operations per tile and input channel; output: 24 per tile and
    # output channel, and in int8 one requantization per output (M at int32, y at int8)
    assert lane_operations(wgin, machine, s.widths) == 32 * 16 * 16
    requantized = 64 * 16 if dtype == "int8" else 0
    assert lane_operations(wgout, machine, s.widths) == 24 * 16 * 16 + requantized
    assert unit_cycles(wgin, machine, 1, s.widths) == add_cycles(32 * 16 * 16, 32, 4) == 256 + 4
    # V [1, 4, 4, 16 x 16] in the ifmap buffer, M [1, 4, 4, 16 x 16] in the ofmap buffer at accumulator width
    assert (wgin.writes[0].tensor, wgin.writes[0].space, wgin.writes[0].stop) == (lay.transformed, "ifmap",
                                                                                  (1, 4, 4, 256))
    assert s.widths.bytes(conv.writes[0]) == 4 * 4 * 256 * 4
    assert s.widths.bytes(wgout.writes[0]) == 8 * 8 * 16 * byte


def test_pipelined_tiles_overlap_the_array_with_the_add_unit():
    s = make_schedule(load_hw(DEFAULT_HW), small_conv(h=16), options=RunOptions(winograd=True, splits=4))
    stage = {op.id: op.stage for op in s.ops}
    for t in range(1, 5):                 # load t-1, wgin t, conv t+1, wgout t+2, store t+3
        assert [stage[f"{k}{t}"] for k in ("load_x", "wgin", "conv", "wgout", "store")] == \
            [t - 1, t, t + 1, t + 2, t + 3]
    fused = make_schedule(load_hw(DEFAULT_HW), small_conv(h=16),
                          options=RunOptions(schedule="fused", winograd=True, splits=4))
    assert sorted({op.stage for op in fused.ops if op.tile == 2}) == [5, 6, 7, 8, 9]   # alone


def test_layer1_conv2_of_resnet50_by_hand():
    """56x56x64 -> 64, int8, default machine, pipelined: 28 x 28 tiles in 14 parts of 2 tile rows."""
    machine = load_hw(DEFAULT_HW)
    layer = lone(load_workload(RESNET50), "layer1.0.conv2")
    wino = simulate(machine, layer, options=RunOptions(winograd=True))
    dense = simulate(machine, layer)
    (w,), (d,) = wino.layers(), dense.layers()
    assert wino.notes[0].startswith("layer1.0.conv2: Winograd F(2x2,3x3) in 14 tile-row parts x 1 filter "
                                    "chunks")
    # MACs: 16 x 784 tiles x 64 x 64 against 36 x 784 x 64 x 64 = 3136 x 576 x 64
    assert w.macs == 16 * 784 * 64 * 64 == 51_380_224
    assert d.macs == 3136 * 576 * 64 == 115_605_504 == Fraction(9, 4) * w.macs
    # per part, 56 tiles: the GEMM 16 x (56 x 64) @ (64 x 64): 2 x 2 folds of 64 cycles each
    gemm = 64 + 62 + (16 * 4 - 1) * 64
    # input transform: 56 x 64 x 32 lane operations; output: 56 x 64 x 24 + 4 x 56 x 64 requantized
    wgin = add_cycles(56 * 64 * 32, 32, 4)
    wgout = add_cycles(56 * 64 * 24 + 224 * 64, 32, 4)
    assert (gemm, wgin, wgout) == (4158, 3588, 3140)
    assert w.units["conv"].busy_cycles == 14 * gemm == 58_212
    assert w.units["add"].busy_cycles == 14 * (wgin + wgout) == 94_192      # the add unit bounds it
    # stage time is the add unit's wgin + wgout (6,728) against the array's 4,158: the layer takes
    # at least 14 such stages and the fill and drain, and less than 14 + 4 whole stages with barriers
    assert 14 * (wgin + wgout) < w.cycles < 18 * (wgin + wgout + 10)
    assert w.cycles < d.cycles                        # 104,214 against 119,722
    # DRAM: U 64 x 16 x 64 int16; input rows 4k-1 .. 4k+4 per part (5 at either edge, 6 between): 82
    # rows of 56 x 64; the output once
    u, x, y = 64 * 16 * 64 * 2, (5 + 5 + 12 * 6) * 56 * 64, 56 * 56 * 64
    assert (w.dram_read_bytes, w.dram_write_bytes) == (u + x, y) == (424_960, 200_704)
    weights = 64 * 9 * 64
    assert d.dram_write_bytes == y and d.dram_read_bytes - weights < x   # fewer halo rows, 1-byte weights
    # energy: MACs at the int16 price (0.9 pJ), lane operations at 0.1 pJ, DRAM at 162.5 pJ/B; SRAM
    # bytes per op: x written and read, V (int16) written and read in ifmap; U written once and read
    # by 14 GEMMs in weight; M (int32) written and read, y written and read in ofmap
    e = w.energy_breakdown_pj
    assert e["mac"] == w.macs * Fraction("0.9")
    assert e["add"] == 14 * (56 * 64 * 32 + 56 * 64 * 24 + 224 * 64) * Fraction("0.1")
    assert e["dram"] == (u + x + y) * Fraction("162.5")
    v, m = 784 * 64 * 16 * 2, 784 * 64 * 16 * 4
    assert e["sram"] == (2 * x + 2 * v) * Fraction("9.06") + 15 * u * Fraction("6.57") + \
        (2 * m + 2 * y) * Fraction("9.06")
    assert d.energy_breakdown_pj["mac"] == d.macs * Fraction("0.3")
    assert w.energy_pj > 1.9 * d.energy_pj        # 267.7 uJ against 134.8: V and M through SRAM


def test_a_layer_that_does_not_fit_runs_im2col_with_a_note():
    tiny = hw(sram__ofmap__size_bytes=8192, sram__ifmap__size_bytes=8192)
    s = make_schedule(tiny, small_conv(cin=64, cout=64), options=RunOptions(winograd=True))
    assert s.winograd == () and not any(op.kind in ("wgin", "wgout") for op in s.ops)
    assert any(n.startswith("c: im2col, not Winograd: ") for n in s.notes)


def test_convs_that_cannot_run_as_winograd_are_as_before():
    machine = load_hw(DEFAULT_HW)
    wl = load_workload(ROOT / "traces" / "mobilenetv2.yaml")
    s = make_schedule(machine, wl, options=RunOptions(winograd=True))
    assert s.winograd == ()
    assert s.notes[-1] == ("Winograd F(2x2,3x3): 0 of 18 3x3 convs eligible; im2col: 13 with groups > 1 "
                           "(depthwise or grouped), 5 with stride > 1")
    base = make_schedule(machine, wl)
    assert s.ops == base.ops and s.widths == base.widths


@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined", "depthfirst"])
def test_every_schedule_kind_runs_the_fused_block_as_winograd(kind):
    s = make_schedule(load_hw(DEFAULT_HW), load_workload(BLOCK),
                      options=RunOptions(schedule=kind, winograd=True))
    assert [lay.conv for lay in s.winograd] == ["conv"]
    fused = kind != "serial"
    wgout = [op for op in s.ops if op.kind == "wgout"]
    assert {op.writes[0].tensor for op in wgout} == {"y" if fused else "conv_out"}
    assert all(len(op.reads) == 1 + fused for op in wgout)
    assert all(r.space != DRAM for op in s.ops if op.kind == "conv" for r in op.reads)


def test_without_int16_arithmetic_an_int8_run_keeps_im2col():
    machine = hw(arithmetic__int16=None)
    s = make_schedule(machine, small_conv(), options=RunOptions(winograd=True))
    assert s.winograd == ()
    assert s.notes[-1] == ("Winograd F(2x2,3x3): 0 of 1 3x3 convs eligible; im2col: 1 with no int16 "
                           "arithmetic in the hardware for the transformed operands")
    fp16 = make_schedule(load_hw(DEFAULT_HW), small_conv(), options=RunOptions(winograd=True, dtype="fp16"))
    assert fp16.winograd == () and "1 with datatype fp16 (Winograd runs in int8 and fp32)" in fp16.notes[-1]


def test_the_search_weighs_winograd_against_im2col():
    machine = load_hw(DEFAULT_HW)
    layer = lone(load_workload(RESNET50), "layer1.0.conv2")
    found = simulate(machine, layer, options=RunOptions(winograd=True, search="cycles"))
    alone = simulate(machine, layer, options=RunOptions(winograd=True))
    assert found.total_cycles == alone.total_cycles       # Winograd is the fastest tiling tried here
    assert "wgin" in found.layers()[0].kinds
