import pytest

from accelsim import ScheduleError
from accelsim.box import BoxIndex
from accelsim.dtypes import Widths
from accelsim.schedule import DRAM, Op, Region, Schedule


def reg(tensor, space, n=10):
    return Region(tensor, (0,), (n,), space)


def test_region_size_and_text():
    r = Region("x", (0, 13, 0, 0), (1, 29, 56, 64), "ifmap")
    assert r.elements == 16 * 56 * 64
    assert str(r) == "x[0:1, 13:29, 0:56, 0:64]@ifmap"
    assert r.moved(DRAM).space == DRAM and r.moved(DRAM).elements == r.elements


def test_ids_must_be_unique_and_deps_earlier():
    load = Op("a", "load", 0, (reg("x", DRAM),), (reg("x", "ifmap"),))
    with pytest.raises(ScheduleError, match="op 'a': id used twice"):
        Schedule("s", "w", 1, (load, load))
    with pytest.raises(ScheduleError, match="op 'b': depends on 'c', which is not an earlier op"):
        Schedule("s", "w", 1, (Op("b", "add", 0, (), (), ("c",)),))
    late = Op("c", "add", 2, (), ())
    with pytest.raises(ScheduleError, match=r"op 'd' \(stage 1\) depends on 'c' of later stage 2"):
        Schedule("s", "w", 1, (late, Op("d", "add", 1, (), (), ("c",))))


def test_stage_and_memory_space_are_checked():
    with pytest.raises(ScheduleError, match="op 'a': stage must be >= 0, got -1"):
        Schedule("s", "w", 1, (Op("a", "add", -1, (), ()),))
    with pytest.raises(ScheduleError, match=r"op 'a': x\[0:10\]@l2 is in unknown memory space 'l2'; "
                                            r"expected one of dram, ifmap, weight, ofmap"):
        Schedule("s", "w", 1, (Op("a", "add", 0, (reg("x", "l2"),), ()),))


def test_a_read_must_wait_for_its_writer():
    load = Op("load", "load", 1, (reg("x", DRAM),), (reg("x", "ifmap"),))
    early = Op("add", "add", 0, (reg("x", "ifmap"),), (reg("y", "ofmap"),))
    with pytest.raises(ScheduleError, match=r"op 'add' \(stage 0\) reads x\[0:10\]@ifmap written by "
                                            r"'load' \(stage 1\) without waiting for it"):
        Schedule("s", "w", 1, (load, early)).readers()
    same_stage = Op("add", "add", 1, (reg("x", "ifmap"),), (reg("y", "ofmap"),))
    with pytest.raises(ScheduleError, match="without waiting for it"):
        Schedule("s", "w", 1, (load, same_stage)).readers()
    waits = Op("add", "add", 1, (reg("x", "ifmap"),), (reg("y", "ofmap"),), ("load",))
    assert Schedule("s", "w", 1, (load, waits)).readers() == {(0, reg("x", "ifmap")): [1],
                                                             (1, reg("y", "ofmap")): []}


def test_writing_a_region_again_before_it_was_read_is_an_error():
    first = Op("l1", "load", 0, (reg("x", DRAM),), (reg("x", "ifmap"),))
    again = Op("l2", "load", 0, (reg("x", DRAM),), (reg("x", "ifmap"),))
    with pytest.raises(ScheduleError, match=r"op 'l2' writes x\[0:10\]@ifmap again before anything "
                                            r"read what 'l1' wrote there"):
        Schedule("s", "w", 1, (first, again)).readers()


def test_reading_sram_nothing_wrote_is_an_error():
    s = Schedule("s", "w", 1, (Op("add", "add", 0, (reg("x", "ifmap"),), (reg("y", "ofmap"),)),))
    with pytest.raises(ScheduleError, match=r"op 'add' reads x\[0:10\]@ifmap, which no earlier op writes"):
        s.readers()


def test_peak_stage_bytes_counts_regions_from_writer_to_last_reader():
    ops = (
        Op("l1", "load", 0, (reg("a", DRAM, 100),), (reg("a", "ifmap", 100),)),
        Op("l2", "load", 1, (reg("b", DRAM, 50),), (reg("b", "ifmap", 50),)),
        Op("use_a", "add", 2, (reg("a", "ifmap", 100),), (reg("c", "ofmap", 100),)),
        Op("l3", "load", 3, (reg("d", DRAM, 70),), (reg("d", "ifmap", 70),)),
    )
    # ifmap elements live per stage: 100, 150, 150, 120 (a freed after stage 2; b and d are
    # never read, so they stay); at 2 bytes per element the peak is 300 bytes, first in stage 1;
    # with c at 4 bytes (ofmap), 400
    s = Schedule("s", "w", 1, ops, widths=Widths(2, (("c", 4),)))
    assert s.peak_stage_bytes()["ifmap"] == (300, 1) and s.peak_stage_bytes()["ofmap"] == (400, 2)
    assert s.num_stages == 4
    assert [[s.ops[i].id for i in stage] for stage in s.stages()] == [["l1"], ["l2"], ["use_a"], ["l3"]]


def rows(tensor, space, a, b):
    """Rows [a, b) of an 8-column tensor."""
    return Region(tensor, (a, 0), (b, 8), space)


def load(name, stage, a, b, deps=()):
    return Op(name, "load", stage, (rows("x", DRAM, a, b),), (rows("x", "ifmap", a, b),), deps)


def add(name, stage, a, b, deps=()):
    return Op(name, "add", stage, (rows("x", "ifmap", a, b),), (rows(f"y_{name}", "ofmap", a, b),), deps)


def readers_by_id(s):
    readers, problems = s.match_reads()
    return ({s.ops[w].id: [s.ops[r].id for r in rs] for (w, region), rs in readers.items()
             if region.tensor == "x"}, [(s.ops[i].id, m) for i, m in problems])


def test_a_read_covered_by_several_partial_writes_is_read_from_each():
    s = Schedule("s", "w", 1, (load("top", 0, 0, 4), load("bottom", 0, 4, 8), add("use", 1, 2, 6)))
    assert readers_by_id(s) == ({"top": ["use"], "bottom": ["use"]}, [])


def test_a_later_write_serves_the_reads_after_it_and_the_earlier_one_what_it_no_longer_covers():
    s = Schedule("s", "w", 1, (load("old", 0, 0, 8), add("first", 1, 0, 8),
                               load("new", 2, 4, 8), add("second", 3, 0, 8), add("upper", 3, 0, 4)))
    # second: rows 4:8 from new, 0:4 still from old; upper: rows 0:4 from old only
    assert readers_by_id(s) == ({"old": ["first", "second", "upper"], "new": ["second"]}, [])


def test_a_write_the_read_does_not_wait_for_is_passed_over_for_an_earlier_one():
    # late (stage 1, rows 4:12) overlaps the read of rows 2:6 but the add does not wait for
    # it; early (stage 0, rows 0:8) covers the read by itself
    s = Schedule("s", "w", 1, (load("early", 0, 0, 8), load("late", 1, 4, 12), add("use", 1, 2, 6)))
    assert readers_by_id(s) == ({"early": ["use"], "late": []}, [])
    waits = Schedule("s", "w", 1, (load("early", 0, 0, 8), load("late", 1, 4, 12),
                                   add("use", 1, 2, 6, ("late",))))
    assert readers_by_id(waits) == ({"early": ["use"], "late": ["use"]}, [])


def test_a_read_left_partly_uncovered_names_the_write_it_should_wait_for_or_what_is_missing():
    late = Schedule("s", "w", 1, (load("early", 0, 0, 8), load("late", 1, 4, 12), add("use", 1, 0, 12)))
    assert readers_by_id(late)[1] == [("use", "(stage 1) reads x[0:12, 0:8]@ifmap written by 'late' "
                                              "(stage 1) without waiting for it")]
    short = Schedule("s", "w", 1, (load("early", 0, 0, 8), add("use", 1, 0, 12)))
    assert readers_by_id(short) == ({"early": []}, [
        ("use", "reads x[0:12, 0:8]@ifmap, which no earlier op writes (missing x[8:12, 0:8])")])


def test_a_region_written_again_is_an_error_only_while_no_one_has_read_it():
    read_between = (load("l1", 0, 0, 8), add("use", 1, 0, 8), load("l2", 2, 0, 8), add("use2", 3, 0, 8))
    assert readers_by_id(Schedule("s", "w", 1, read_between)) == ({"l1": ["use"], "l2": ["use2"]}, [])
    thrice = (load("l1", 0, 0, 8), load("l2", 0, 0, 8), load("l3", 0, 0, 8), add("use", 1, 0, 8))
    assert readers_by_id(Schedule("s", "w", 1, thrice))[1] == [
        ("l2", "writes x[0:8, 0:8]@ifmap again before anything read what 'l1' wrote there"),
        ("l3", "writes x[0:8, 0:8]@ifmap again before anything read what 'l1' wrote there"),
        ("l3", "writes x[0:8, 0:8]@ifmap again before anything read what 'l2' wrote there")]


def test_a_read_visits_only_the_writes_that_overlap_it(monkeypatch):
    visited = []
    scan = BoxIndex.overlapping

    def counted(self, box, floor=0):
        for found in scan(self, box, floor):
            visited.append(found[0])
            yield found
    monkeypatch.setattr(BoxIndex, "overlapping", counted)
    # 2,000 one-row loads, then an add of rows 5:7: it examines the loads of rows 6 and 5
    # only, not the 1,993 later loads a scan back from the latest would pass first
    loads = tuple(load(f"l{r}", 0, r, r + 1) for r in range(2000))
    s = Schedule("s", "w", 1, (*loads, add("use", 1, 5, 7)))
    readers, problems = s.match_reads()
    assert problems == []
    assert [w for w, _ in visited] == [6, 5]
    assert {s.ops[w].id: rs for (w, _), rs in readers.items() if rs} == {"l5": [2000], "l6": [2000]}


def test_a_long_chain_of_same_stage_dependencies_orders_its_two_ends():
    # 3,000 adds in one stage, each waiting for the one before, and one lone add
    chain = [Op("a0", "add", 0, (), ())]
    chain += [Op(f"a{k}", "add", 0, (), (), (f"a{k - 1}",)) for k in range(1, 3000)]
    s = Schedule("s", "w", 1, (*chain, Op("lone", "add", 0, (), ())))
    assert s.ordered_before(0, 2999) and s.ordered_before(1500, 1501)
    assert not s.ordered_before(2999, 0) and not s.ordered_before(1501, 1500)
    assert not s.ordered_before(0, 3000) and not s.ordered_before(2999, 3000)
    assert not s.ordered_before(5, 5)


def test_a_winograd_weight_transform_is_no_tile():
    """The ConvAdd block as Winograd with weights made on chip: its tiles are its parts (one
    GEMM each), the weight transform (`wgw`, no tile of its own) not among them."""
    from accelsim import load_hw, load_workload, make_schedule
    from accelsim.options import RunOptions

    block = load_workload("resnet50_convadd")
    s = make_schedule(load_hw("default"), block, options=RunOptions(winograd=True))
    gemms = [op for op in s.ops if op.kind == "conv"]
    assert [op.kind for op in s.ops].count("wgw") == 1
    assert s.tiles == len(gemms) == len({op.tile for op in gemms})
