"""The engine on hand-written schedules: whole (op, unit, start, end) timelines compared."""

import gc

import pytest

from accelsim import SimulationError, load_workload, make_schedule
from accelsim.cost import Gemm
from accelsim.engine.machine import _Run, run_schedule
from accelsim.schedule import DRAM, Op, Region, Schedule
from tests.helpers import BLOCK, IDEAL_HW, hw, identity_block


def region(tensor, space, elements):
    return Region(tensor, (0,), (elements,), space)


def timeline(result):
    return [(r.id, r.unit, r.start, r.end) for r in result.ops]


# default.yaml: 32x32 OS array, 32-lane add with latency 4, DRAM 16 B/cycle, latency 100, int8.
X_DRAM, X = region("x", DRAM, 3200), region("x", "ifmap", 3200)
W = region("w", "weight", 64)
C = region("c", "ofmap", 64)
# conv: M=64, K=32, N=32 -> 2 folds of T=32, folds overlapped: 2 x 32 + 62 = 126 cycles
CONV = Gemm(64, 32, 32)


def test_load_then_conv_then_add_with_barriers():
    ops = (
        Op("load_x", "load", 0, (X_DRAM,), (X,)),
        Op("load_w", "load", 0, (region("w", DRAM, 64),), (W,)),
        Op("conv", "conv", 1, (X, W), (C,), ("load_x",), CONV),
        Op("add", "add", 2, (C,), (region("y", "ofmap", 64),), ("conv",)),
    )
    result = run_schedule(hw(barrier_cycles=10), Schedule("hand", "t", 1, ops))
    # load_x 3200 B and load_w 64 B share 16 B/cycle: w done at 100 + 64/8 = 108;
    # x has 3200 - 64 = 3136 B left at 16 B/cycle: 108 + 196 = 304. Barrier 10.
    # conv 126 cycles (SRAM ports: 3200 B / 128 = 25, not binding). Barrier 10.
    # add of 64 elements on 32 lanes: 2 + 4 = 6 cycles.
    assert timeline(result) == [
        ("load_x", "dma", 0, 304),
        ("load_w", "dma", 0, 108),
        ("conv", "conv", 314, 440),
        ("add", "add", 450, 456),
    ]
    assert result.total_cycles == 466          # the last barrier counts too
    assert result.dram_read_bytes == 3264 and result.dram_write_bytes == 0
    assert result.units["dma"].busy_cycles == 304
    assert result.units["conv"].busy_cycles == 126
    assert result.sram_peak_bytes == {"ifmap": 3200, "weight": 64, "ofmap": 128}


def test_ops_of_one_stage_overlap_on_different_units_and_queue_on_one():
    a = region("a", "ofmap", 640)   # 640 elements: 20 + 4 = 24 add cycles
    ops = (
        Op("conv", "conv", 0, (), (C,), (), CONV),
        Op("add1", "add", 0, (), (a,)),
        Op("add2", "add", 0, (), (region("b", "ofmap", 640),)),
    )
    result = run_schedule(hw(IDEAL_HW), Schedule("hand", "t", 1, ops))
    assert timeline(result) == [("conv", "conv", 0, 126), ("add1", "add", 0, 24), ("add2", "add", 24, 48)]
    assert result.total_cycles == 126


def test_dependency_inside_a_stage_orders_ops():
    ops = (
        Op("conv", "conv", 0, (), (C,), (), CONV),
        Op("add", "add", 0, (C,), (region("y", "ofmap", 64),), ("conv",)),
    )
    result = run_schedule(hw(IDEAL_HW), Schedule("hand", "t", 1, ops))
    assert timeline(result) == [("conv", "conv", 0, 126), ("add", "add", 126, 132)]


def test_sram_is_released_by_the_last_reader_and_reused():
    # ifmap holds 4096 B; two 3000 B loads can't both be resident: the second waits
    # until the conv that reads the first ends.
    small = hw(IDEAL_HW, sram__ifmap__size_bytes=4096)
    a, b = region("a", "ifmap", 3000), region("b", "ifmap", 3000)
    ops = (
        Op("load_a", "load", 0, (region("a", DRAM, 3000),), (a,)),
        Op("conv", "conv", 0, (a,), (C,), ("load_a",), CONV),
        Op("load_b", "load", 0, (region("b", DRAM, 3000),), (b,)),
    )
    result = run_schedule(small, Schedule("hand", "t", 1, ops))
    assert timeline(result) == [
        ("load_a", "dma", 0, 0), ("conv", "conv", 0, 126), ("load_b", "dma", 126, 126),
    ]
    assert result.sram_peak_bytes["ifmap"] == 3000


def test_a_schedule_that_can_never_get_its_sram_deadlocks_with_a_clear_error():
    small = hw(IDEAL_HW, sram__ifmap__size_bytes=4096)
    a, b = region("a", "ifmap", 3000), region("b", "ifmap", 3000)
    ops = (
        Op("load_a", "load", 0, (region("a", DRAM, 3000),), (a,)),
        Op("load_b", "load", 0, (region("b", DRAM, 3000),), (b,)),
        Op("conv", "conv", 1, (a, b), (C,), ("load_a", "load_b"), CONV),
    )
    with pytest.raises(SimulationError, match=r"deadlocked at cycle 0: load_b \(waiting for 3000 bytes "
                                              r"of SRAM ifmap\)"):
        run_schedule(small, Schedule("hand", "t", 1, ops))


@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
def test_every_sram_byte_is_released_by_the_end(kind):
    for workload in (load_workload(BLOCK), identity_block(), identity_block(k=1, pad=0)):
        run = _Run(hw(), make_schedule(hw(), workload, kind, 4))
        run.result()
        assert {b: pool.level for b, pool in run.sram.items()} == {"ifmap": 0, "weight": 0, "ofmap": 0}


def test_sync_by_deps_lets_every_add_hide_behind_the_next_conv():
    # Ideal memory, pipelined block in 4 parts: with barriers the total is
    # c1 + sum max(a_i, c_i+1) + a4 plus nothing else; synced by data only, the conv unit
    # never waits (loads are free), so the total is c1 + c2 + c3 + c4 + a4.
    h = hw(IDEAL_HW)
    schedule = make_schedule(h, load_workload(BLOCK), "pipelined", 4)
    by_deps = run_schedule(h, schedule, sync="deps")
    c = [by_deps.op(f"conv{p}").cycles for p in range(1, 5)]
    assert by_deps.total_cycles == sum(c) + by_deps.op("add4").cycles
    assert by_deps.units["conv"].busy_cycles == by_deps.op("conv4").end
    assert by_deps.total_cycles <= run_schedule(h, schedule).total_cycles


def test_sync_by_deps_waits_for_dram_written_by_an_earlier_op():
    # store then load of the same DRAM rows: the load must wait for the store even
    # though no explicit dependency says so
    c, back = region("c", "ofmap", 64), region("c", "ifmap", 64)
    ops = (
        Op("conv", "conv", 0, (), (c,), (), CONV),
        Op("store", "store", 1, (c,), (c.moved(DRAM),), ("conv",)),
        Op("load", "load", 2, (c.moved(DRAM),), (back,)),
    )
    schedule = Schedule("hand", "t", 1, ops)
    assert schedule.data_dependencies() == [[], [0], [1]]
    result = run_schedule(hw(), schedule, sync="deps")
    # conv 0-126; store 64 B: 100 + 4 -> 230; load waits for it: 230 + 104 = 334; no barriers
    assert timeline(result)[1:] == [("store", "dma", 126, 230), ("load", "dma", 230, 334)]
    assert result.total_cycles == 334


def test_sync_by_deps_keeps_no_order_from_a_barrier_run_that_read_data_before_it_was_stored():
    # One stage, one DMA engine: with barriers the load (ready at once) reads c from DRAM before
    # the store writes it: load 0-104, conv 0-126, store 126-230, barrier: 240. Its order (load
    # before store on the DMA) kept, the load would wait for the store and the store for the
    # load's turn. Greedy: conv 0-126, store 126-230, load 230-334.
    c = region("c", "ofmap", 64)
    ops = (
        Op("conv", "conv", 0, (), (c,), (), CONV),
        Op("store", "store", 0, (c,), (c.moved(DRAM),), ("conv",)),
        Op("load", "load", 0, (c.moved(DRAM),), (region("c", "ifmap", 64),)),
    )
    h, schedule = hw(dma__engines=1), Schedule("hand", "t", 1, ops)
    assert timeline(run_schedule(h, schedule))[2] == ("load", "dma", 0, 104)
    result = run_schedule(h, schedule, sync="deps")
    assert timeline(result)[1:] == [("store", "dma", 126, 230), ("load", "dma", 230, 334)]


def test_unknown_sync_mode():
    with pytest.raises(SimulationError, match="unknown sync mode 'lazy'"):
        run_schedule(hw(), Schedule("hand", "t", 1, ()), sync="lazy")


def test_the_garbage_collector_is_paused_during_a_run_only():
    schedule = Schedule("hand", "t", 1, (Op("conv", "conv", 0, (), (C,), (), CONV),))
    assert gc.isenabled()
    run_schedule(hw(), schedule)
    assert gc.isenabled()
    with pytest.raises(SimulationError):
        run_schedule(hw(), schedule, sync="lazy")
    assert gc.isenabled()
    gc.disable()
    try:
        run_schedule(hw(), schedule)
        assert not gc.isenabled()       # left as the caller had it
    finally:
        gc.enable()
