import pytest

from accelsim import ScheduleError
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
    # never read, so they stay); at 2 bytes per element the peak is 300 bytes, first in stage 1
    s = Schedule("s", "w", 1, ops)
    assert s.peak_stage_bytes(element_bytes=2)["ifmap"] == (300, 1)
    assert s.num_stages == 4
    assert [[s.ops[i].id for i in stage] for stage in s.stages()] == [["l1"], ["l2"], ["use_a"], ["l3"]]
