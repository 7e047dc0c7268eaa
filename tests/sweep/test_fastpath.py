"""The closed form against the engine: equal on every metric where it applies (ideal memory,
barrier sync), refused where it would not be exact."""

from __future__ import annotations

import dataclasses
from functools import cache

import pytest

from accelsim.options import RunOptions
from accelsim.shipped import resolve
from accelsim.simulation import make_schedule, simulate
from accelsim.sweep.fastpath import applies, fast_metrics, fast_result
from accelsim.sweep.metrics import result_metrics
from accelsim.workload import Workload, load_workload
from tests.helpers import DEFAULT_HW, IDEAL_HW, hw


@cache
def _workload(name: str) -> Workload:
    return load_workload(resolve(name, "workload"))


def _ideal(rows=32, cols=32, dataflow="os", folds="overlapped", barrier=0, lanes=32):
    return hw(IDEAL_HW, systolic_array__rows=rows, systolic_array__cols=cols,
              systolic_array__dataflow=dataflow, systolic_array__folds=folds,
              barrier_cycles=barrier, add_unit__lanes=lanes)


SAMPLE = [
    ("resnet50_convadd", dict(), RunOptions(schedule="serial")),
    ("resnet50_convadd", dict(rows=16, cols=64, dataflow="ws"), RunOptions(schedule="fused")),
    ("resnet50_convadd", dict(rows=8, cols=8, dataflow="is", folds="serialized"), RunOptions(splits=7)),
    ("resnet50_convadd", dict(rows=64, cols=16, barrier=13), RunOptions(dtype="fp16")),
    ("resnet18", dict(rows=16, cols=16, dataflow="ws"), RunOptions()),
    ("resnet18", dict(rows=64, cols=64, lanes=8, barrier=3), RunOptions(schedule="fused", dtype="bf16")),
    ("mobilenetv2", dict(rows=8, cols=32, dataflow="is"), RunOptions(schedule="serial")),
    ("mobilenetv2", dict(), RunOptions(dtype="fp32")),
]


@pytest.mark.parametrize(("workload", "shape", "options"), SAMPLE)
def test_equals_the_engine_on_every_metric(workload, shape, options):
    machine = _ideal(**shape)
    assert applies(machine, options)
    expected = result_metrics(simulate(machine, _workload(workload), options=options))
    got = fast_metrics(machine, _workload(workload), options)
    assert got == expected                      # exact: ints, floats and all
    assert set(got) == set(expected)


def test_resnet50_equals_the_engine():
    machine, options = _ideal(rows=16, cols=32), RunOptions()
    expected = result_metrics(simulate(machine, _workload("resnet50"), options=options))
    assert fast_metrics(machine, _workload("resnet50"), options) == expected


def test_closed_form_by_hand_on_the_serial_convadd():
    # serial: loads | conv | store | loads | add | store: the conv and the add alone in their
    # stages, so total = conv + add + 6 stages x barrier; busy = those cycles
    machine = _ideal(barrier=10)
    schedule = make_schedule(machine, _workload("resnet50_convadd"), "serial")
    result = fast_result(machine, schedule)
    engine = simulate(machine, _workload("resnet50_convadd"), "serial")
    conv, add = engine.op("conv/conv1").cycles, engine.op("add/add1").cycles
    assert result is not None
    assert result.total_cycles == engine.total_cycles == conv + add + 6 * 10
    assert result.units["conv"].busy_cycles == conv and result.units["add"].busy_cycles == add
    assert result.units["dma"].busy_cycles == 0


def test_not_applied_on_timed_dram_nor_with_sync_by_deps():
    timed = hw(DEFAULT_HW)
    block = _workload("resnet50_convadd")
    assert not applies(timed, RunOptions())
    assert fast_metrics(timed, block, RunOptions()) is None
    assert fast_result(timed, make_schedule(timed, block)) is None
    # it would not be exact there: the closed form of that schedule on ideal memory is shorter
    # than the timed run (DRAM transfers take time) ...
    as_ideal = hw(DEFAULT_HW, memory_model="ideal", barrier_cycles=timed.barrier_cycles)
    closed = fast_result(as_ideal, make_schedule(timed, block))
    assert closed is not None and closed.total_cycles < simulate(timed, block).total_cycles
    # ... and sync by deps overlaps stages, so it beats the barrier sum on ResNet-18
    machine, net = _ideal(), _workload("resnet18")
    deps = RunOptions(sync="deps")
    assert not applies(machine, deps) and fast_metrics(machine, net, deps) is None
    barrier = fast_metrics(machine, net, RunOptions())
    assert barrier is not None
    assert simulate(machine, net, options=deps).total_cycles < barrier["total_cycles"]


def test_refused_where_a_compute_op_waits_for_another_in_its_stage():
    # the serial ConvAdd squeezed into one stage, its add waiting for the conv: the add starts
    # when the conv ends (conv + add), not with the stage (max of the units' sums)
    machine = _ideal()
    schedule = make_schedule(machine, _workload("resnet50_convadd"), "serial")
    ops = tuple(dataclasses.replace(op, stage=0, deps=(*op.deps, "conv/conv1") if op.id == "add/add1"
                                    else op.deps) for op in schedule.ops)
    one_stage = dataclasses.replace(schedule, ops=ops)
    assert fast_result(machine, one_stage) is None
    from accelsim.engine.machine import run_schedule
    engine = run_schedule(machine, one_stage)
    conv, add = engine.op("conv/conv1").cycles, engine.op("add/add1").cycles
    assert engine.total_cycles == conv + add > max(conv, add)


def test_refused_where_sram_would_make_an_op_wait():
    machine = _ideal()
    schedule = make_schedule(machine, _workload("resnet50_convadd"), "serial")
    # every op in stage 0: all the regions live at once, more than the 512 KiB ifmap buffer holds
    one_stage = dataclasses.replace(schedule, ops=tuple(dataclasses.replace(op, stage=0)
                                                        for op in schedule.ops))
    live = one_stage.live_bytes()
    assert any(max(per) > machine.sram_capacity()[b] for b, per in live.items())
    assert fast_result(machine, one_stage) is None
