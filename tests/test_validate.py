"""Static validation: the corpus of broken schedules, each caught with its own message; the
scheduler's own schedules for every trace, all valid."""

import dataclasses
import re

import pytest

from accelsim import load_hw, load_workload, workload_from_dict
from accelsim.functional import check
from accelsim.placement import place
from accelsim.schedule import DRAM, Region, Schedule
from accelsim.schedule_file import dump_schedule, read_schedule, schedule_from_text
from accelsim.simulation import make_schedule
from accelsim.validate import validate
from tests.helpers import DEFAULT_HW, ROOT, convadd, hw

SCHEDULES = ROOT / "tests" / "data" / "schedules"
SMALL = SCHEDULES / "block.yaml"
BROKEN = sorted(p for p in SCHEDULES.glob("*.yaml") if p.name != "block.yaml"
                and not p.name.startswith(("valid_", "functional_")))


def all_problems(path, hardware=None):
    hardware = hardware or load_hw(DEFAULT_HW)
    wl = load_workload(SMALL)
    file = read_schedule(path, hardware, wl)
    if file.problems:
        return file.problems
    return validate(file.schedule, hardware, wl, file.lines, file.source)


def expectations(path):
    return [line.removeprefix("# expect: ") for line in path.read_text().splitlines()
            if line.startswith("# expect: ")]


def test_the_corpus_has_a_broken_schedule_for_every_check():
    names = {p.stem for p in BROKEN}
    assert {"raw_not_waited", "raw_never_written", "raw_dram", "waw_dram", "waw_sram", "war",
            "capacity", "output_not_covered", "halo_missing", "unknown_unit", "unknown_tensor",
            "cycle", "later_stage_dep"} <= names
    firsts = [expectations(p)[0] for p in BROKEN]
    assert len(set(firsts)) == len(firsts)          # each rejected with its own message


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_each_broken_schedule_is_rejected_with_its_message_line_and_op(path):
    found = all_problems(path)
    expected = expectations(path)
    assert found and expected
    text = [str(p) for p in found]
    for pattern in expected:
        assert any(re.search(pattern, t) for t in text), (pattern, text)
    lines = path.read_text().splitlines()
    for p in found:
        if p.op is not None:                        # the line cited is inside the op's block
            block = lines[:p.line]
            start = max(k for k, line in enumerate(block) if line.startswith("- id:"))
            assert lines[start] == f'- id: "{p.op}"'


@pytest.mark.parametrize("name", ["valid_pipelined", "valid_serial"])
def test_the_valid_corpus_files_pass(name):
    assert all_problems(SCHEDULES / f"{name}.yaml") == []


@pytest.mark.parametrize("trace", ["resnet50_convadd", "resnet50", "resnet18", "mobilenetv2"])
@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
def test_the_schedulers_own_schedules_are_valid(trace, kind):
    hardware = load_hw(DEFAULT_HW)
    wl = load_workload(ROOT / "traces" / f"{trace}.yaml")
    schedule = place(make_schedule(hardware, wl, kind), hardware.sram_capacity())
    assert validate(schedule, hardware, wl) == []


@pytest.mark.parametrize("kind", ["serial", "pipelined"])
def test_a_dilated_conv_that_skips_rows_its_windows_do_not_read_is_valid(kind):
    # 3x3, dilation 2, pad 1, one output row per part: the first part loads rows 1:4 (its
    # window reads rows -1, 1, 3), not row 0; written as a file and read back, nothing is missing
    hardware = load_hw(DEFAULT_HW)
    wl = convadd(h=9, w=9, cin=4, cout=4, k=3, pad=1, dilation=2)
    schedule = place(make_schedule(hardware, wl, kind, 7), hardware.sram_capacity())
    text = dump_schedule(schedule, hardware)
    assert "x0[0:1, 1:4, 0:9, 0:4]" in text and "x0[0:1, 0:4," not in text
    file = schedule_from_text(text, hardware, wl)
    assert file.problems == []
    assert validate(file.schedule, hardware, wl, file.lines) == []


def test_sram_live_in_a_stage_beyond_capacity_says_when_and_by_how_much():
    # valid_pipelined keeps x tile 1 (160 B) and the residual tile 1 (128 B) and x tile 2
    # (160 B) live in stage 1: 448 B in a 400 B ifmap is 48 B over.
    small = hw(sram__ifmap__size_bytes=400)
    text = (SCHEDULES / "valid_pipelined.yaml").read_text()
    text = text.replace("@ ifmap+524160", "@ ifmap+160").replace("@ ifmap+524000", "@ ifmap+288")
    file = schedule_from_text(text, small, load_workload(SMALL))
    found = [p.message for p in validate(file.schedule, small, load_workload(SMALL), file.lines)]
    assert any(m.startswith("SRAM ifmap over capacity in stage 1: 448 B live, 400 B available "
                            "(over by 48 B)") for m in found), found
    assert any("past the buffer's 400 B (over by 48 B)" in m for m in found)


def test_a_dependency_through_another_op_orders_a_read_after_its_write():
    # conv1 no longer names load_x1, but waits for load_w, which waits for load_x1.
    text = (SCHEDULES / "valid_pipelined.yaml").read_text()
    text = text.replace('deps: ["load_x1", "load_w"]', 'deps: ["load_w"]')
    text = text.replace('- id: "load_w"\n  unit: dma\n  kind: load\n  stage: 0\n',
                        '- id: "load_w"\n  unit: dma\n  kind: load\n  stage: 0\n  deps: ["load_x1"]\n')
    hardware = load_hw(DEFAULT_HW)
    file = schedule_from_text(text, hardware, load_workload(SMALL))
    assert file.problems == []
    assert [op.id for op in file.schedule.ops[:2]] == ["load_x1", "load_w"]   # dependency order
    assert validate(file.schedule, hardware, load_workload(SMALL)) == []


def _split_store(second_stage: int, second_rows: tuple[int, int] = (5, 8)) -> list[str]:
    """The serial schedule of an 8-row block with its conv output stored in two parts: rows
    0:5 in stage 2, `second_rows` in `second_stage`; the add layer's load_a1 reads all 8 rows
    in stage 3."""
    hardware, wl = load_hw(DEFAULT_HW), convadd(h=8, w=4, cin=4, cout=4)
    ops = []
    for op in make_schedule(hardware, wl, "serial", 1).ops:
        if op.id != "conv0/store1":
            ops.append(op)
            continue
        for name, stage, (a, b) in (("store_c1a", 2, (0, 5)), ("store_c1b", second_stage, second_rows)):
            part = Region("c0", (0, a, 0, 0), (1, b, 4, 4), "ofmap")
            ops.append(dataclasses.replace(op, id=name, stage=stage, reads=(part,),
                                           writes=(part.moved(DRAM),)))
    s = Schedule("serial", wl.name, 1, tuple(sorted(ops, key=lambda op: op.stage)))
    return [p.message for p in validate(place(s, hardware.sram_capacity()),
                                        hardware, wl)]


def test_a_dram_read_covered_by_two_stores_waits_for_both():
    assert _split_store(2) == []
    assert _split_store(3) == ["reads c0[0:1, 5:8, 0:4, 0:4] from DRAM, stored by store_c1b, which it "
                               "does not wait for"]
    assert _split_store(2, (4, 8)) == ["writes c0[0:1, 4:5, 0:4, 0:4] in DRAM, which op store_c1a also "
                                       "writes (covered twice)"]


def test_an_lrn_tile_without_its_channel_halo_is_caught_statically_and_functionally():
    # channel parts of 32 of a size-5 LRN: output channels 0:32 need input channels 0:34
    small = hw(sram__ifmap__size_bytes=40)
    wl = workload_from_dict({"name": "l", "tensors": {"x": [1, 2, 2, 64]}, "ops": [
        {"name": "n", "kind": "lrn", "input": "x", "output": "y", "size": 5}]})
    text = dump_schedule(make_schedule(small, wl, "serial"), small)
    assert text.count("x[0:1, 0:1, 0:1, 0:34]") == 3          # the load reads and writes it, lrn1 reads it
    file = schedule_from_text(text.replace("x[0:1, 0:1, 0:1, 0:34]", "x[0:1, 0:1, 0:1, 0:32]"), small, wl)
    assert file.problems == []
    found = [p.message for p in validate(file.schedule, small, wl, file.lines, file.source)]
    assert [p.op for p in validate(file.schedule, small, wl)] == ["lrn1"]
    assert found == ["x[0:1, 0:1, 0:1, 32:34] not read: output channels 0:32 of an LRN of size 5 "
                     "need input channels 0:34"]
    report = check(file.schedule, wl, "int8", capacity=small.sram_capacity())
    assert any("computed by op lrn1" in m for m in report.mismatches)


def test_a_winograd_input_transform_missing_its_halo_is_found():
    from accelsim.options import RunOptions
    from tests.helpers import BLOCK
    hw, wl = load_hw(DEFAULT_HW), load_workload(BLOCK)
    s = place(make_schedule(hw, wl, options=RunOptions(winograd=True, splits=14)), hw.sram_capacity())
    assert len(s.winograd) == 1 and validate(s, hw, wl) == []
    # tile rows 2:4 (output rows 4:8) need input rows 3:9; drop its load's first row
    i = next(k for k, op in enumerate(s.ops) if op.id == "load_x2")
    load = s.ops[i]
    (region,) = load.reads
    short = dataclasses.replace(region, start=(0, 4, 0, 0))
    ops = list(s.ops)
    ops[i] = dataclasses.replace(load, reads=(short,), writes=(short.moved("ifmap"),))
    wgin = next(k for k, op in enumerate(ops) if op.id == "wgin2")
    ops[wgin] = dataclasses.replace(ops[wgin], reads=(short.moved("ifmap"),))
    found = [p.message for p in validate(dataclasses.replace(s, ops=tuple(ops)), hw, wl)]
    assert found == ["input x row 3 missing (halo): tile rows 2:4 of a Winograd input transform (output "
                     "rows 4:8) need input rows 3:9"]


def test_a_weight_transform_missing_some_filters_weights_is_found():
    from accelsim.options import RunOptions
    from tests.helpers import BLOCK
    hw, wl = load_hw(DEFAULT_HW), load_workload(BLOCK)
    s = place(make_schedule(hw, wl, options=RunOptions(winograd=True)), hw.sram_capacity())
    assert validate(s, hw, wl) == []
    i = next(k for k, op in enumerate(s.ops) if op.kind == "wgw")
    (g,) = s.ops[i].reads
    ops = list(s.ops)
    ops[i] = dataclasses.replace(ops[i], reads=(dataclasses.replace(g, stop=(32, 3, 3, 64)),))
    found = [p.message for p in validate(dataclasses.replace(s, ops=tuple(ops)), hw, wl)]
    assert found == ["conv.weight[32:64, 0:3, 0:3, 0:64] not read: U of filters 0:64 is made from their "
                     "weights"]
