"""The per-op plan computed once before a run, against the formulas it stands for."""

import pytest

from accelsim import load_workload, make_schedule
from accelsim.engine.plan import Plan
from accelsim.timing import compute_op_cycles, transfer_bytes
from tests.helpers import IDEAL_HW, ROOT, hw

MACHINES = {"default": hw(), "ideal": hw(IDEAL_HW),
            "ws8x8": hw(systolic_array__rows=8, systolic_array__cols=8, systolic_array__dataflow="ws"),
            "int16": hw(element_bytes=2, sram__ifmap__bytes_per_cycle=16)}


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("trace,kind", [("resnet50_convadd", "pipelined"), ("mobilenetv2", "fused")])
def test_cycles_bytes_and_macs_are_each_ops_own(machine, trace, kind):
    # cycles are computed once per distinct op shape: every op must still get its own
    h = MACHINES[machine]
    schedule = make_schedule(h, load_workload(ROOT / "traces" / f"{trace}.yaml"), kind)
    plan = Plan(h, schedule, "barrier")
    for i, op in enumerate(schedule.ops):
        if op.unit == "dma":
            moved = transfer_bytes(op, schedule.widths)
            assert (plan.cycles[i], plan.nbytes[i], plan.macs[i]) == (None, moved, 0)
        else:
            assert plan.cycles[i] == compute_op_cycles(op, h, schedule.widths), op.id
            assert plan.macs[i] == (op.gemm.macs if op.gemm else 0)
    for number, (_, region) in enumerate(schedule.readers()):
        assert plan.region[number] == (region.space, schedule.widths.bytes(region))
    assert plan.stages == [stage for stage in schedule.stages() if stage]
