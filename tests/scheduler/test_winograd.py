"""Winograd layers in schedules: the batched GEMM and the three transforms by their closed forms,
and one ResNet-50 layer (layer1.0.conv2, 56x56x64 -> 64) by hand against im2col, its weights
transformed on chip and offline."""

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
def test_a_small_conv_runs_as_16_batched_gemms_and_three_transforms(dtype):
    machine = load_hw(DEFAULT_HW)
    s = make_schedule(machine, small_conv(), options=RunOptions(dtype=dtype, winograd=True, splits=1))
    (lay,) = s.winograd
    byte = {"int8": 1, "fp32": 4}[dtype]
    held = {"int8": 2, "fp32": 4}[dtype]                 # V and U: int16 in an int8 run
    # on chip: the 9 weights per filter and input channel load at the run's width, and wgw writes
    # U, 16 values each (16/9 the elements), into the weight buffer: 42 lane operations per 16
    (load_g,) = [op for op in s.ops if op.kind == "load" and op.writes[0].space == "weight"]
    (wgw,) = [op for op in s.ops if op.kind == "wgw"]
    assert (load_g.reads[0].tensor, s.widths.bytes(load_g.reads[0])) == ("c.weight", 9 * 16 * 16 * byte)
    assert (wgw.reads, wgw.deps) == (load_g.writes, (load_g.id,))
    assert (wgw.writes[0].tensor, wgw.writes[0].space) == (lay.weight, "weight")
    assert wgw.writes[0].elements == 16 * 16 * 16 == Fraction(16, 9) * (9 * 16 * 16)
    assert s.widths.bytes(wgw.writes[0]) == 16 * 16 * 16 * held
    assert lane_operations(wgw, machine, s.widths) == 42 * 16 * 16
    assert unit_cycles(wgw, machine, 1, s.widths) == add_cycles(42 * 16 * 16, 32, 4) == 336 + 4
    assert not any(r.tensor == lay.weight for op in s.ops if op.kind == "load" for r in op.reads)
    # offline: U loads from DRAM, 16/9 the elements at V's width
    offline = make_schedule(machine, small_conv(), options=RunOptions(dtype=dtype, winograd=True, splits=1,
                                                                       winograd_weights="dram"))
    (load_w,) = [op for op in offline.ops if op.kind == "load" and op.reads[0].tensor == lay.weight]
    assert load_w.reads[0].elements == 16 * 16 * 16 and not any(op.kind == "wgw" for op in offline.ops)
    assert offline.widths.bytes(load_w.reads[0]) == 16 * 16 * 16 * held
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
    # the weights load and transform in tile 1's input-transform stage, a stage before its GEMM
    assert (stage["load_g1"], stage["wgw1"], stage["conv1"]) == (1, 1, 2)
    fused = make_schedule(load_hw(DEFAULT_HW), small_conv(h=16),
                          options=RunOptions(schedule="fused", winograd=True, splits=4))
    assert sorted({op.stage for op in fused.ops if op.tile == 2}) == [5, 6, 7, 8, 9]   # alone
    assert {op.id: op.stage for op in fused.ops if op.kind in ("load", "wgw") and op.tile is None} == \
        {"load_g1": 1, "wgw1": 1}


def test_a_chunks_dense_weights_are_held_only_while_it_is_transformed():
    """Weight buffer 40 KiB, 64 filters of 64 channels, int8: per filter U 2 KiB (16 x 64 int16)
    and g 576 B; two chunks' U and one chunk's g fit at 8 filters a chunk (2 x 16 KiB + 4.5 KiB),
    not at 16 (2 x 32 KiB): 8 chunks, one tile each (one part)."""
    machine = hw(sram__weight__size_bytes=40 * 1024)
    s = make_schedule(machine, small_conv(cin=64, cout=64), options=RunOptions(winograd=True, splits=1))
    assert s.notes[0] == ("c: Winograd F(2x2,3x3) in 1 tile-row parts x 8 filter chunks: 1,048,576 MACs "
                          "against 2,359,296 im2col (2.25x fewer)")
    life = s.lifetimes()
    index = {op.id: i for i, op in enumerate(s.ops)}
    for j in range(1, 9):                  # chunk j: g loads and is transformed in stage j, its GEMM in j+1
        (g,) = s.ops[index[f"load_g{j}"]].writes
        (u,) = s.ops[index[f"wgw{j}"]].writes
        assert life[(index[f"load_g{j}"], g)] == (j, j) and life[(index[f"wgw{j}"], u)] == (j, j + 1)
    u_bytes, g_bytes = 8 * 16 * 64 * 2, 8 * 9 * 64
    assert s.live_bytes()["weight"][1:10] == [u_bytes + g_bytes] + 7 * [2 * u_bytes + g_bytes] + [u_bytes]


def per_part() -> tuple[int, int, int]:
    """layer1.0.conv2 per part of 56 tiles: the GEMM 16 x (56 x 64) @ (64 x 64), 2 x 2 folds of 64
    cycles each; the input transform 56 x 64 x 32 lane operations; the output transform
    56 x 64 x 24 + 4 x 56 x 64 requantized (32 lanes, latency 4)."""
    return (64 + 62 + (16 * 4 - 1) * 64, add_cycles(56 * 64 * 32, 32, 4),
            add_cycles(56 * 64 * 24 + 224 * 64, 32, 4))


def test_layer1_conv2_of_resnet50_by_hand():
    """56x56x64 -> 64, int8, default machine, pipelined, the weights transformed on chip (the
    default): 28 x 28 tiles in 14 parts of 2 tile rows; only the weights' stage (1) differs from
    the same layer with its weights transformed offline (run apart, and checked by hand below)."""
    machine = load_hw(DEFAULT_HW)
    layer = lone(load_workload(RESNET50), "layer1.0.conv2")
    chip = simulate(machine, layer, options=RunOptions(winograd=True))
    offline = simulate(machine, layer, options=RunOptions(winograd=True, winograd_weights="dram"))
    dense = simulate(machine, layer)
    (w,), (o,), (d,) = chip.layers(), offline.layers(), dense.layers()
    assert chip.notes[0].startswith("layer1.0.conv2: Winograd F(2x2,3x3) in 14 tile-row parts x 1 filter "
                                    "chunks")
    assert w.macs == o.macs == 16 * 784 * 64 * 64 == 51_380_224
    gemm, wgin, wgout = per_part()
    # the weight transform: 42 lane operations per filter and input channel, 64 x 64 of them
    wgw = add_cycles(64 * 64 * 42, 32, 4)
    assert (gemm, wgin, wgout, wgw) == (4158, 3588, 3140, 5380)
    assert w.units["conv"].busy_cycles == 14 * gemm == 58_212
    assert w.units["add"].busy_cycles == 14 * (wgin + wgout) + wgw == 99_572
    # stage 1: two loads share DRAM's 2 channels of 8 B/cycle after 100 cycles of latency. Offline:
    # input rows x2 (6 x 56 x 64 B) end at 100 + 21,504 / 8 = 2,788, then U (64 x 16 x 64 int16)
    # alone at 16 B/cycle: 2,788 + (131,072 - 21,504) / 16 = 9,636. On chip: g (64 x 9 x 64 int8)
    # ends at 2,788 + (36,864 - 21,504) / 16 = 3,748; wgw waits for it (the add unit's wgin1 is
    # done at 3,588) and ends at 3,748 + 5,380 = 9,128
    x2, u, g = 6 * 56 * 64, 64 * 16 * 64 * 2, 64 * 9 * 64
    both = 100 + x2 // 8
    offline_stage, g_loaded = both + (u - x2) // 16, both + (g - x2) // 16
    assert (offline_stage, g_loaded, g_loaded + wgw) == (9636, 3748, 9128)
    at = {r.id: r for r in chip.ops}
    s1 = at["wgin1"].start
    assert (at["load_g1"].end - s1, at["wgw1"].start - s1, at["wgw1"].end - s1) == (3748, 3748, 9128)
    assert next(r.end - r.start for r in offline.ops if r.id == "load_w1") == offline_stage
    assert w.cycles == o.cycles - (offline_stage - (g_loaded + wgw)) == 103_706
    assert w.cycles < d.cycles                    # 103,706 against im2col's 119,722
    # DRAM: g at 1 byte, the same bytes as im2col's weights; the input rows with halo, the output
    x, y = (5 + 5 + 12 * 6) * 56 * 64, 56 * 56 * 64
    assert (w.dram_read_bytes, w.dram_write_bytes) == (g + x, y) == (330_752, 200_704)
    assert o.dram_read_bytes - w.dram_read_bytes == u - g == 94_208
    assert d.dram_write_bytes == y and d.dram_read_bytes - g < x           # im2col: fewer halo rows
    # energy: as offline, but g's DRAM bytes, g written (load) and read (wgw) in the weight buffer,
    # U written by wgw and read by 14 GEMMs, and wgw's lane operations; static 99.16 mW
    e = w.energy_breakdown_pj
    assert e["mac"] == w.macs * Fraction("0.9")
    assert e["add"] == (14 * (56 * 64 * 32 + 56 * 64 * 24 + 224 * 64) + 64 * 64 * 42) * Fraction("0.1")
    assert e["dram"] == (g + x + y) * Fraction("162.5")
    v, m = 784 * 64 * 16 * 2, 784 * 64 * 16 * 4
    assert e["sram"] == (2 * x + 2 * v) * Fraction("9.06") + (2 * g + 15 * u) * Fraction("6.57") + \
        (2 * m + 2 * y) * Fraction("9.06")
    assert e["static"] == Fraction("99.16") * chip.total_cycles      # 60.85 + 1.9 + 0.12 + 36.29 mW, 1 GHz
    assert [round(float(r.energy_pj) / 10**6, 1) for r in (w, o, d)] == [252.9, 267.7, 134.8]     # uJ


def test_layer1_conv2_of_resnet50_by_hand_weights_offline():
    """56x56x64 -> 64, int8, default machine, pipelined, U transformed offline and loaded: 28 x 28
    tiles in 14 parts of 2 tile rows."""
    machine = load_hw(DEFAULT_HW)
    layer = lone(load_workload(RESNET50), "layer1.0.conv2")
    wino = simulate(machine, layer, options=RunOptions(winograd=True, winograd_weights="dram"))
    dense = simulate(machine, layer)
    (w,), (d,) = wino.layers(), dense.layers()
    assert wino.notes[0].startswith("layer1.0.conv2: Winograd F(2x2,3x3) in 14 tile-row parts x 1 filter "
                                    "chunks")
    # MACs: 16 x 784 tiles x 64 x 64 against 36 x 784 x 64 x 64 = 3136 x 576 x 64
    assert w.macs == 16 * 784 * 64 * 64 == 51_380_224
    assert d.macs == 3136 * 576 * 64 == 115_605_504 == Fraction(9, 4) * w.macs
    gemm, wgin, wgout = per_part()
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


def test_an_unknown_weight_mode_is_refused():
    from accelsim.errors import ScheduleError
    with pytest.raises(ScheduleError, match="unknown Winograd weights 'disk': expected one of chip, dram"):
        make_schedule(load_hw(DEFAULT_HW), small_conv(),
                      options=RunOptions(winograd=True, winograd_weights="disk"))


def test_offline_weights_without_winograd_say_they_change_nothing():
    """--winograd-weights dram alone was silently ignored: the run is im2col's, with a note."""
    machine, conv = load_hw(DEFAULT_HW), small_conv()
    alone = make_schedule(machine, conv, options=RunOptions(winograd_weights="dram"))
    assert "Winograd weights dram: no effect, no conv runs as Winograd without --winograd" in alone.notes
    assert alone.ops == make_schedule(machine, conv).ops
