"""Datatypes: bytes per element everywhere, the array's packing, the accumulator held for the add."""

import dataclasses
import math

import pytest
import yaml

from accelsim import ConfigError, load_hw, load_workload, simulate, workload_from_dict
from accelsim.cli import main
from accelsim.cost import Gemm, packed, systolic_cycles
from accelsim.dtypes import ONE_BYTE, Widths, run_widths
from accelsim.functional import check
from accelsim.options import RunOptions
from accelsim.placement import place
from accelsim.schedule_file import dump_schedule, schedule_from_text
from accelsim.scheduler.fusion import plan_fusion
from accelsim.simulation import make_schedule
from accelsim.validate import validate
from tests.helpers import DEFAULT_HW, IDEAL_HW, changed, convadd, convadd_data, hw, hw_data

PACKED = {"int8": {"macs_per_pe": 4, "accumulator": "int32"},
          "fp16": {"macs_per_pe": 2, "accumulator": "fp32"},
          "fp32": {"macs_per_pe": 1, "accumulator": "fp32"}}


def one_conv(h=8, w=8, cin=16, cout=16, k=3):
    return workload_from_dict({"name": "one", "tensors": {"x": [1, h, w, cin]}, "ops": [
        {"name": "c", "kind": "conv", "input": "x", "output": "y", "kh": k, "kw": k, "cin": cin,
         "cout": cout, "pad": k // 2}]})


def test_widths_count_each_tensor_at_its_own_bytes():
    w = Widths(1, (("c0", 4), ("x", 2)))
    assert (w.of("c0"), w.of("x"), w.of("other")) == (4, 2, 1)
    assert w.only(("x", "y", "c0")) == (2, 1, 4) and w.without("c0") == Widths(1, (("x", 2),))
    assert run_widths("int8", {"x": "fp16", "y": "int8"}, "int32", ("c0",)) == w
    assert run_widths("fp32", {}, "fp32", ("c0",)) == Widths(4)       # fp32 accumulates in fp32


def test_packing_divides_the_reduction_among_a_pes_products():
    # 49 x 576 x 64 (a 3x3 conv over 64 channels, 7x7 outputs); 4 MACs per PE: K = 144
    g = Gemm(49, 576, 64)
    assert packed(g, 4) == Gemm(49, 144, 64) and packed(g, 4).macs * 4 == g.macs
    assert packed(Gemm(49, 9, 64, groups=64), 4) == Gemm(49, 3, 64, groups=64)     # ceil(9 / 4)
    # OS on 32 x 32, overlapped: T + R + C - 2 + (folds - 1) * max(T, R); folds = 2 x 2
    assert systolic_cycles(packed(g, 4), 32, 32, "os") == 144 + 62 + 3 * 144
    assert systolic_cycles(g, 32, 32, "os") == 576 + 62 + 3 * 576


def test_a_compute_bound_conv_runs_faster_packed_and_moves_the_same_bytes():
    # ideal memory: the conv's cycles are the array's; 8x8x16 -> 16, 3x3: one GEMM 64 x 144 x 16
    wl = one_conv()
    plain = hw(IDEAL_HW, arithmetic={"int8": {"macs_per_pe": 1, "accumulator": "int32"}})
    fast = hw(IDEAL_HW, arithmetic=PACKED)
    slow_run, fast_run = simulate(plain, wl, "serial"), simulate(fast, wl, "serial")
    (conv_slow,) = [r for r in slow_run.ops if r.kind == "conv"]
    (conv_fast,) = [r for r in fast_run.ops if r.kind == "conv"]
    assert conv_slow.end - conv_slow.start == 144 + 62 + 1 * 144      # 64 outputs: 2 x 1 folds
    assert conv_fast.end - conv_fast.start == 36 + 62 + 1 * 36         # K = 144 / 4
    assert fast_run.dram_read_bytes == slow_run.dram_read_bytes
    assert fast_run.macs == slow_run.macs == 64 * 144 * 16


@pytest.mark.parametrize(("dtype", "size"),
                         [("int8", 1), ("int16", 2), ("fp16", 2), ("bf16", 2), ("fp32", 4)])
def test_every_byte_count_follows_the_datatype(dtype, size):
    # one tile: x 8x8x16 read once, weights 16x3x3x16, y 8x8x16 written once
    wl = one_conv()
    run = simulate(hw(), wl, options=RunOptions(schedule="serial", dtype=dtype))
    assert run.dram_read_bytes == (8 * 8 * 16 + 16 * 9 * 16) * size
    assert run.dram_write_bytes == 8 * 8 * 16 * size
    schedule = make_schedule(hw(), wl, options=RunOptions(schedule="serial", dtype=dtype))
    assert schedule.dtype == dtype and schedule.widths == Widths(size)
    assert schedule.peak_stage_bytes()["ofmap"][0] == 8 * 8 * 16 * size


def test_fp16_moves_twice_the_bytes_of_int8_where_the_tiling_is_the_same():
    # the ConvAdd block in 8 row parts fits both ways with the same tiles: exactly 2x
    wl = convadd(h=28, w=28, cin=32, cout=32)
    runs = {d: simulate(hw(), wl, options=RunOptions(schedule="pipelined", splits=8, dtype=d))
            for d in ("int8", "fp16")}
    assert runs["fp16"].tiles == runs["int8"].tiles
    for side in ("dram_read_bytes", "dram_write_bytes"):
        assert getattr(runs["fp16"], side) == 2 * getattr(runs["int8"], side)


def test_the_run_datatype_comes_from_the_option_the_workload_or_the_hardware():
    data = convadd_data(h=8, w=8, cin=8, cout=8)
    assert make_schedule(hw(), workload_from_dict(data)).dtype == "int8"          # element_bytes 1
    assert make_schedule(hw(dtype="fp16"), workload_from_dict(data)).dtype == "fp16"
    assert make_schedule(hw(dtype="fp16"), workload_from_dict({**data, "dtype": "bf16"})).dtype == "bf16"
    assert make_schedule(hw(dtype="fp16"), workload_from_dict({**data, "dtype": "bf16"}),
                         options=RunOptions(dtype="fp32")).dtype == "fp32"
    assert make_schedule(hw(element_bytes=4), workload_from_dict(data)).dtype == "fp32"
    with pytest.raises(ConfigError, match=r"element_bytes 3 is no datatype's width .*; set dtype"):
        make_schedule(hw(element_bytes=3), workload_from_dict(data))


def test_a_tensor_with_its_own_datatype_moves_its_own_bytes():
    # x arrives as fp16 in an int8 run: its loads move 2 B an element, everything else 1 B
    data = {"name": "one", "tensors": {"x": {"shape": [1, 8, 8, 16], "dtype": "fp16"}}, "ops": [
        {"name": "c", "kind": "conv", "input": "x", "output": "y", "kh": 3, "kw": 3, "cin": 16,
         "cout": 16, "pad": 1}]}
    wl = workload_from_dict(data)
    assert wl.tensors["x"].dtype == "fp16" and wl.tensors["y"].dtype is None
    run = simulate(hw(), wl, "serial")
    assert run.dram_read_bytes == 8 * 8 * 16 * 2 + 16 * 9 * 16
    assert make_schedule(hw(), wl, options=RunOptions(dtype="int8")).widths == ONE_BYTE   # --dtype: all
    with pytest.raises(ConfigError, match=r"^<workload>: tensors.x.dtype: must be one of .*, got 'int4'$"):
        workload_from_dict({**data, "tensors": {"x": {"shape": [1, 8, 8, 16], "dtype": "int4"}}})


def add_unit_requant(path=DEFAULT_HW, **changes):
    return hw(path, arithmetic={"requantize": "add_unit", **PACKED}, **changes)


def test_requantizing_on_the_add_unit_holds_the_conv_output_at_accumulator_width():
    # 8x8x16 block, fused in one part: the conv's output c0 (1,024 elements) lives in ofmap at
    # 4 B (int32) until the add reads it; the sum x1 at 1 B. The add requantizes c0 first: 1 + 1
    # lane cycles an element on 32 lanes: 2,048 / 32 + 4 = 68 cycles (a plain add: 32 + 4 = 36)
    wl = convadd(h=8, w=8, cin=16, cout=16)
    machine = add_unit_requant(IDEAL_HW)
    schedule = make_schedule(machine, wl, options=RunOptions(schedule="fused", splits=1))
    assert schedule.widths == Widths(1, (("c0", 4),))
    assert schedule.peak_stage_bytes()["ofmap"][0] == 1024 * 4 + 1024
    run = simulate(machine, wl, options=RunOptions(schedule="fused", splits=1))
    (add,) = [r for r in run.ops if r.kind == "add"]
    assert add.end - add.start == 2048 // 32 + 4
    plain = simulate(hw(IDEAL_HW), wl, options=RunOptions(schedule="fused", splits=1))
    (add,) = [r for r in plain.ops if r.kind == "add"]
    assert add.end - add.start == 1024 // 32 + 4
    # no add to hold it for: a serial run drains c0 requantized, at 1 B
    assert make_schedule(machine, wl, options=RunOptions(schedule="serial")).widths == ONE_BYTE
    # fp32 accumulates in fp32: nothing is wider than the datatype, nothing is held apart
    assert make_schedule(machine, wl, options=RunOptions(dtype="fp32")).widths == Widths(4)


def test_the_held_accumulator_needs_more_parts_on_the_default_machine():
    # ResNet-50's block: c0 is 56 x 56 x 64 = 200,704 elements; at 4 B plus the 1-B sum, one part
    # needs 1,003,520 B of the 524,288-B ofmap; requantized as it drains, 401,408 B fit
    wl = load_workload("resnet50_convadd")
    held = make_schedule(add_unit_requant(), wl, options=RunOptions(schedule="fused"))
    drained = make_schedule(hw(), wl, options=RunOptions(schedule="fused"))
    assert held.tiles > drained.tiles == 1
    assert validate(place(held, add_unit_requant().sram_capacity()), add_unit_requant(), wl) == []
    # one row part fits in 2 filter chunks: 32 channels of c0 at 4 B and of the sum at 1 B,
    # 56 x 56 x 32 x 5 = 501,760 B
    one = make_schedule(add_unit_requant(), wl, options=RunOptions(schedule="fused", splits=1))
    assert one.tiles == 2 and one.peak_stage_bytes()["ofmap"][0] == 56 * 56 * 32 * 5


def test_a_schedule_file_keeps_its_datatype_and_widths(tmp_path):
    machine = add_unit_requant()
    wl = convadd(h=8, w=8, cin=16, cout=16)
    schedule = make_schedule(machine, wl, options=RunOptions(schedule="fused"))
    text = dump_schedule(schedule, machine)
    assert "dtype: int8\nwidths: {\"c0\": 4}\n" in text
    back = schedule_from_text(text, machine, wl)
    assert back.schedule is not None
    assert (back.schedule.dtype, back.schedule.widths) == ("int8", schedule.widths)
    bad = schedule_from_text(text.replace('{"c0": 4}', '{"c9": 3}'), machine, wl)
    assert [p.message for p in bad.problems] == [
        "widths names 'c9', no tensor of workload 'test_convadd'"]
    bad = schedule_from_text(text.replace('{"c0": 4}', '{"c0": 3}'), machine, wl)
    assert [p.message for p in bad.problems] == [
        "widths.c0 must be the bytes of a datatype or accumulator (1, 2 or 4), got 3"]


def test_a_datatype_the_arithmetic_table_lacks_is_refused_naming_the_key(tmp_path, capsys):
    path = tmp_path / "hw.yaml"
    path.write_text(yaml.safe_dump(changed(hw_data(), arithmetic={"int8": PACKED["int8"]})))
    assert main(["run", str(path), "resnet50_convadd", "--schedule", "fused", "--dtype", "fp16"]) == 2
    err = capsys.readouterr().err
    assert "arithmetic.fp16: no entry for datatype 'fp16', which this run uses; the table has int8" in err
    assert "Traceback" not in err and err.count("\n") == 1
    path.write_text(yaml.safe_dump(changed(hw_data(), arithmetic={"int4": PACKED["int8"]})))
    assert main(["run", str(path), "resnet50_convadd"]) == 2
    assert "arithmetic.int4: unknown key" in capsys.readouterr().err


def test_the_elements_moved_do_not_depend_on_the_datatype_where_the_tiling_does_not():
    # ResNet-50 on an SRAM so large that nothing is split (one row part, one filter chunk): every
    # run moves each tensor once
    big = hw(sram__ifmap__size_bytes=2**28, sram__weight__size_bytes=2**28, sram__ofmap__size_bytes=2**28)
    wl = load_workload("resnet50")
    moved = {d: simulate(big, wl, options=RunOptions(schedule="fused", splits=1, dtype=d))
             for d in ("int8", "fp32")}
    assert moved["fp32"].dram_read_bytes == 4 * moved["int8"].dram_read_bytes
    assert moved["fp32"].dram_write_bytes == 4 * moved["int8"].dram_write_bytes
    # every op's output is stored once, but a fused conv's (its add reads it from SRAM)
    held = {layer.op.output for layer in plan_fusion(wl).layers if layer.add is not None}
    assert len(held) == 16
    assert moved["int8"].dram_write_bytes == sum(math.prod(wl.tensors[op.output].shape) for op in wl.ops
                                                 if op.output not in held)


def test_packing_speeds_up_every_compute_bound_layer_of_resnet50():
    plain = load_hw(DEFAULT_HW)
    fast = hw(arithmetic={"requantize": "drain", **PACKED})
    wl = load_workload("resnet50")
    before = simulate(plain, wl, options=RunOptions(schedule="pipelined", dtype="int8"))
    after = {layer.name: layer for layer in
             simulate(fast, wl, options=RunOptions(schedule="pipelined", dtype="int8")).layers()}
    bound = [layer for layer in before.layers() if layer.compute_bound]
    # compute-bound: MACs over 1,024 PEs take longer than DRAM bytes over 16 B/cycle
    for layer in before.layers():
        assert layer.compute_bound == (layer.macs / 1024 > layer.dram_bytes / 16), layer.name
    assert len(bound) == 32
    assert all(after[layer.name].cycles < layer.cycles for layer in bound)
    # packed, the compute bound of a layer is a quarter: layer1.0.conv2 (3x3, 64 -> 64 on 56 x 56)
    conv2 = after["layer1.0.conv2"]
    assert conv2.macs == 56 * 56 * 64 * 576 and conv2.bound_cycles == max(
        -(-conv2.macs // (1024 * 4)), -(-conv2.dram_bytes // 16))


@pytest.mark.parametrize("kind", ["fused", "pipelined"])
def test_a_held_accumulator_schedule_places_4_byte_regions_and_computes_the_reference(kind):
    # the block with its conv output held at int32 in ofmap: placed at 4 B an element, validated,
    # and executed bit-exact (the add requantizes what it reads: the same values)
    machine = add_unit_requant()
    wl = convadd(h=16, w=16, cin=32, cout=32)
    built = make_schedule(machine, wl, options=RunOptions(schedule=kind, splits=4))
    schedule = place(built, machine.sram_capacity())
    assert all(schedule.widths.bytes(op.writes[0]) == 4 * op.writes[0].elements
               for op in schedule.ops if op.kind == "conv")
    assert validate(schedule, machine, wl) == []
    found = check(schedule, wl, "int8", seed=2, capacity=machine.sram_capacity())
    assert found.ok and "x1" in found.compared, found.mismatches


def test_the_validator_counts_a_held_accumulator_at_its_width():
    # placed as if c0 took 1 B an element, conv tile 2's 2,048 elements go at ofmap byte
    # 520,192, up to the sum's 522,240; at 4 B they run to 528,384, past the 524,288-B buffer
    # and over the sum: the validator, counting 4 B, says so
    machine = add_unit_requant()
    wl = convadd(h=16, w=16, cin=32, cout=32)
    built = make_schedule(machine, wl, options=RunOptions(schedule="pipelined", splits=4))
    narrow = place(dataclasses.replace(built, widths=ONE_BYTE), machine.sram_capacity())
    assert validate(narrow, machine, wl) == []                  # valid for 1-B elements
    found = [p.message for p in validate(dataclasses.replace(narrow, widths=built.widths), machine, wl)]
    assert "places c0[0:1, 4:8, 0:16, 0:32] at ofmap bytes 520,192:528,384, past the buffer's 524,288 B " \
           "(over by 4,096 B)" in found


def test_a_compressed_weight_region_takes_its_filters_bytes():
    # conv.weight [64, 3, 3, 64], 2:4 int8: 360 B a filter of 576 (0.625 B per dense element)
    w = Widths(1, (), (("conv.weight", 2, 4, 576),))
    region = type("R", (), {"tensor": "conv.weight", "elements": 16 * 576})()
    assert w.bytes(region) == 16 * 360 == 16 * 576 * 0.625
    assert w.count("x", 100) == 100 and w.odd == {"conv.weight"}
    # fp16 values: 288 x 2 B + 72 B of indices
    assert Widths(2, (), (("conv.weight", 2, 4, 576),)).count("conv.weight", 576) == 576 + 72
    # a held accumulator dropped keeps the compressed weights
    kept = Widths(1, (("c", 4),), (("conv.weight", 2, 4, 576),)).without("c")
    assert kept.sparse == (("conv.weight", 2, 4, 576),)
