"""Schedule files: what the scheduler runs, written and read back, runs the same; a file's
mistakes are found all at once, each with its line."""

import pytest

from accelsim import load_hw, load_workload
from accelsim.engine.machine import run_schedule
from accelsim.placement import place
from accelsim.schedule_file import dump_schedule, schedule_from_text
from accelsim.simulation import make_schedule
from tests.helpers import BLOCK, DEFAULT_HW, ROOT

SCHEDULES = ROOT / "tests" / "data" / "schedules"
SMALL = SCHEDULES / "block.yaml"


def placed(trace, kind, splits=4):
    hw = load_hw(DEFAULT_HW)
    wl = load_workload(trace)
    return hw, wl, place(make_schedule(hw, wl, kind, splits), hw.sram_capacity())


@pytest.mark.parametrize("trace,kind,splits", [
    (BLOCK, "serial", 1), (BLOCK, "fused", 1), (BLOCK, "pipelined", 4), (BLOCK, "pipelined", 7),
    (ROOT / "traces" / "resnet18.yaml", "pipelined", 4),
    (ROOT / "traces" / "mobilenetv2.yaml", "fused", 4)])
def test_a_written_schedule_reads_back_equal_and_runs_the_same_cycles(trace, kind, splits):
    hw, wl, schedule = placed(trace, kind, splits)
    text = dump_schedule(schedule, hw)
    back = schedule_from_text(text, hw, wl)
    assert back.problems == []
    assert back.schedule == schedule          # ops, regions, offsets, deps, derived GEMMs, windows
    assert dump_schedule(back.schedule, hw) == text
    assert run_schedule(hw, back.schedule).total_cycles == run_schedule(hw, schedule).total_cycles


def test_block_pipelined_file_keeps_the_design_note_cycles():
    hw, wl, schedule = placed(BLOCK, "pipelined", 4)
    back = schedule_from_text(dump_schedule(schedule, hw), hw, wl).schedule
    assert run_schedule(hw, back).total_cycles == 127_754       # README figure for N=4


def problems_of(text):
    hw = load_hw(DEFAULT_HW)
    return schedule_from_text(text, hw, load_workload(SMALL), "bad.yaml").problems


def base():
    return (SCHEDULES / "valid_pipelined.yaml").read_text()


def test_every_structural_mistake_is_reported_at_once_with_its_line():
    text = base()
    text = text.replace('- id: "load_x2"', '- id: "load_x1"')                       # id twice
    text = text.replace('"x[0:1, 0:5, 0:8, 0:4]"]\n  writes', '"x[0:1, 0:5, 0:8]"]\n  writes')  # rank
    text = text.replace("@ ofmap+0", "@ ofmap")                                     # no offset
    text = text.replace('"c[0:1, 0:4, 0:8, 0:4] @ ofmap", "res', '"c[0:1, 0:4, 0:8, 0:4] @ ofmap+8", "res')
    text = text.replace('deps: ["conv2", "load_res2"]', 'deps: ["conv2", "load_res9"]')
    found = [str(p) for p in problems_of(text)]
    lines = text.splitlines()
    assert any("id 'load_x1' used twice (first on line 16)" in p for p in found)
    assert any("tensor x has 4 axes [1, 8, 8, 4]; write one start:stop of whole numbers per axis" in p
               for p in found)
    assert any("a write to SRAM needs its byte offset" in p for p in found)
    assert any("a read names no offset" in p for p in found)
    for p in found:
        line = int(p.split(":")[1])
        op = p.split("op ")[1].split(":")[0]
        assert lines[line - 1] == f'- id: "{op}"' or f'"{op}"' in "\n".join(lines[line - 8:line])


def test_unknown_dependency_is_named_after_the_structure_is_sound():
    text = base().replace('deps: ["conv2", "load_res2"]', 'deps: ["conv2", "load_res9"]')
    assert [p.message for p in problems_of(text)] == [
        "depends on 'load_res9', which is not an op of this schedule"]


@pytest.mark.parametrize("edit,message", [
    (("format: 1", "format: 2"), "format must be 1, got 2"),
    (('workload: "small_block"', 'workload: "other"'),
     "the schedule is for workload 'other', but the workload given is 'small_block'"),
    (("kind: conv", "kind: matmul"), "unknown kind 'matmul'"),
    (("unit: conv", "unit: add"), "a conv op runs on unit conv, not add"),
    (("@ weight+0", "@ scratch+0"), "unknown SRAM buffer 'scratch'"),
    (('"x[0:1, 0:5, 0:8, 0:4] @ ifmap+0"', '"x[0:1, 0:9, 0:8, 0:4] @ ifmap+0"'),
     "axis 1 range 0:9 is empty or outside tensor x's 8 elements"),
    (('"x[0:1, 0:5, 0:8, 0:4] @ ifmap+0"', '"x[0:1, 0:4, 0:8, 0:4] @ ifmap+0"'),
     "a load writes the region it reads"),
    (("stage: 0", "stage: -1"), "stage must be a whole number from 0 to 1,000,000, got -1"),
    (("splits: 2", "splits: two"), "splits must be a whole number > 0 or auto, got 'two'"),
    (('name: "pipelined"', "name: -1"), "name must be text, got -1"),
    (("units: {dma: 2,", "units: {dma: -1,"), "units.dma must be a whole number > 0, got -1"),
    (("ofmap: 524288}", "ofmap: [1]}"), "buffers.ofmap must be a whole number > 0, got [1]"),
    (("stage: 0", "stage: 4000000000000"), "stage must be a whole number from 0 to 1,000,000"),
    (("kind: conv", "kind: [conv]"), "unknown kind \"['conv']\""),
    (("@ weight+0", "@ weight+\u00b2"), "offset must be a whole number of bytes"),
    (("  stage: 0\n", "  stage: 0\n  priority: 3\n"), "unknown key 'priority'"),
    (('["c[0:1, 0:4, 0:8, 0:4] @ ofmap+0"]', '["y[0:1, 0:4, 0:8, 0:4] @ ofmap+0"]'),
     "a conv op must write the output of a conv of the workload; y is written by add add"),
])
def test_each_mistake_has_its_own_message(edit, message):
    text = base().replace(*edit, 1)
    assert text != base()
    found = [p.message for p in problems_of(text)]
    assert any(message in p for p in found), found


def test_ops_may_be_listed_in_any_order_stages_and_deps_allow():
    # load_w moved to the end of the file: conv1 (stage 1) still reads it, ordered by the barrier
    text = base()
    block = text[text.index('- id: "load_w"'):text.index('- id: "load_x1"')]
    text = text.replace(block, "") + block
    text = text.replace('deps: ["load_x1", "load_w"]', 'deps: ["load_x1"]')
    hw = load_hw(DEFAULT_HW)
    file = schedule_from_text(text, hw, load_workload(SMALL))
    assert file.problems == [] and file.schedule.ops[0].id == "load_x1"
    from accelsim.validate import validate
    assert validate(file.schedule, hw, load_workload(SMALL)) == []


def test_a_grouped_conv_tile_must_cover_whole_groups(tmp_path):
    from accelsim import workload_from_dict
    wl = workload_from_dict({"name": "g", "tensors": {"x": [1, 4, 4, 4]}, "ops": [
        {"name": "conv", "kind": "conv", "input": "x", "output": "y", "kh": 1, "kw": 1, "cin": 4, "cout": 4,
         "groups": 2}]})
    hw = load_hw(DEFAULT_HW)
    text = dump_schedule(place(make_schedule(hw, wl, "pipelined"), hw.sram_capacity()), hw)
    assert schedule_from_text(text, hw, wl).problems == []
    bad = text.replace('"y[0:1, 0:4, 0:4, 0:4] @ ofmap', '"y[0:1, 0:4, 0:4, 1:4] @ ofmap', 1)
    assert bad != text
    assert any("computes whole groups of 2 output channels" in p.message
               for p in schedule_from_text(bad, hw, wl).problems)


@pytest.mark.parametrize("kind,dtype,weights", [("pipelined", "int8", "chip"), ("serial", "fp32", "chip"),
                                               ("pipelined", "int8", "dram")])
def test_a_winograd_schedule_reads_back_equal_and_runs_the_same_cycles(kind, dtype, weights):
    from accelsim.options import RunOptions
    hw, wl = load_hw(DEFAULT_HW), load_workload(BLOCK)
    schedule = place(make_schedule(hw, wl, options=RunOptions(schedule=kind, dtype=dtype, winograd=True,
                                                              winograd_weights=weights)), hw.sram_capacity())
    text = dump_schedule(schedule, hw)
    assert 'winograd: ["conv"]' in text
    assert ("kind: wgw" in text) == (weights == "chip")
    back = schedule_from_text(text, hw, wl)
    assert back.problems == []
    assert back.schedule == schedule          # the layouts, the Winograd GEMMs from M's boxes
    assert run_schedule(hw, back.schedule).total_cycles == run_schedule(hw, schedule).total_cycles


def test_a_winograd_file_names_only_convs_that_can_run_so():
    from accelsim.options import RunOptions
    hw, wl = load_hw(DEFAULT_HW), load_workload(BLOCK)
    text = dump_schedule(make_schedule(hw, wl, options=RunOptions(winograd=True)), hw)
    found = [p.message for p in schedule_from_text(text.replace('winograd: ["conv"]', 'winograd: ["add"]'),
                                                     hw, wl).problems]
    assert found[0] == "winograd names 'add', which cannot run as Winograd: no conv of the workload"
    assert any("unknown tensor 'conv.wg_in'" in m for m in found)


def test_a_winograd_file_needs_the_arithmetic_the_scheduler_needs():
    """An int8 Winograd file on a machine without int16 arithmetic (V and U' are int16): the
    scheduler runs the conv im2col; the reader refused nothing, so validate said valid and run
    failed on the missing arithmetic entry."""
    from accelsim import hw_from_dict
    from accelsim.options import RunOptions
    from tests.helpers import hw_data

    hw, wl = load_hw(DEFAULT_HW), load_workload(BLOCK)
    data = hw_data(DEFAULT_HW)
    del data["arithmetic"]["int16"], data["energy"]["mac_pj"]["int16"], data["energy"]["add_pj"]["int16"]
    no_int16 = hw_from_dict(data)
    text = dump_schedule(make_schedule(hw, wl, options=RunOptions(winograd=True)), hw)
    found = [p.message for p in schedule_from_text(text, no_int16, wl).problems]
    reason = "no int16 arithmetic in the hardware for the transformed operands"
    assert found and found[0] == f"winograd names 'conv', which cannot run as Winograd: {reason}"
    assert reason in make_schedule(no_int16, wl, options=RunOptions(winograd=True)).notes[-1]


@pytest.mark.parametrize(("edit", "message"), [
    # a hand-added sparsity entry on a Winograd conv: read first, so the conv is no Winograd
    # (unfixed, the file ran Winograd with its weights g loaded 2:4-compressed: 13,824 B fewer)
    ('winograd: ["conv"]\nsparsity: {"conv": {weights: "2:4"}}',
     "winograd names 'conv', which cannot run as Winograd: the array skips its sparse weights"),
    ('winograd: ["conv", "conv"]', "winograd names a conv twice: ['conv', 'conv']"),
])
def test_a_winograd_list_is_checked_against_the_files_sparsity_and_itself(edit, message):
    from accelsim.options import RunOptions

    hw, wl = load_hw(DEFAULT_HW), load_workload(BLOCK)
    text = dump_schedule(make_schedule(hw, wl, options=RunOptions(winograd=True)), hw)
    found = [p.message for p in schedule_from_text(text.replace('winograd: ["conv"]', edit), hw, wl).problems]
    assert found and found[0].startswith(message), found[:2]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("conv.wg_weight[0:64, 0:4, 0:4, 0:64] @ weight", "conv.wg_weight[0:64, 0:4, 0:4, 0:32] @ weight",
     "a wgw op writes whole filters' U (4x4 values per input channel, all 64); "
     "conv.wg_weight[0:64, 0:4, 0:4, 0:32]@weight is part of one"),
    ("conv.wg_weight[0:64, 0:4, 0:4, 0:64] @ weight+131072",
     "conv.wg_in[0:1, 0:2, 0:28, 0:1024] @ weight+131072",
     "a wgw op's write must be the weight tensor of a conv this file's winograd list names; "
     "conv.wg_in is not"),
    ("kind: wgw", "kind: pool", "a pool op cannot write conv.wg_weight, a Winograd layer's tensor (wgw, "
     "wgin, conv and wgout write them)"),
])
def test_a_weight_transform_op_writes_whole_filters_of_u(old, new, message):
    from accelsim.options import RunOptions
    hw, wl = load_hw(DEFAULT_HW), load_workload(BLOCK)
    schedule = place(make_schedule(hw, wl, options=RunOptions(winograd=True)), hw.sram_capacity())
    text = dump_schedule(schedule, hw)
    assert old in text
    found = [p.message for p in schedule_from_text(text.replace(old, new, 1), hw, wl).problems]
    assert any(message in m for m in found), found
