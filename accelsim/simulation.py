"""One call from files or objects to a Result: schedule the workload, run the engine."""

from __future__ import annotations

from accelsim.engine.machine import run_schedule
from accelsim.hw import SRAM_BUFFERS, Hardware
from accelsim.result import Result
from accelsim.schedule import Schedule
from accelsim.scheduler import build_schedule, layer_schedule
from accelsim.workload import Workload


def make_schedule(hw: Hardware, workload: Workload, schedule: str = "pipelined",
                  splits: int = 4) -> Schedule:
    """The `schedule` kind for `workload`, checked to fit `hw`'s SRAM.

    Kinds: serial, fused, pipelined (chains of ConvAdd blocks; `splits` H parts for
    pipelined) and layer (lone convs, tiled to fit SRAM; `splits` unused).
    """
    capacity = {b: hw.buffer(b).size_bytes for b in SRAM_BUFFERS}
    if schedule == "layer":
        return layer_schedule(workload, hw)
    return build_schedule(workload, schedule, splits, hw.element_bytes, capacity)


def simulate(hw: Hardware, workload: Workload, schedule: str = "pipelined", splits: int = 4) -> Result:
    """Simulate `workload` on `hw` with the `schedule` kind (see `make_schedule`)."""
    return run_schedule(hw, make_schedule(hw, workload, schedule, splits))
