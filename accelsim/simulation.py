"""One call from files or objects to a Result: schedule the workload, run the engine."""

from __future__ import annotations

from accelsim.engine.machine import run_schedule
from accelsim.hw import Hardware
from accelsim.result import Result
from accelsim.schedule import Schedule
from accelsim.scheduler.network import network_schedule
from accelsim.workload import Workload


def make_schedule(hw: Hardware, workload: Workload, schedule: str = "pipelined",
                  splits: int | None = None, parts: dict[str, int] | None = None) -> Schedule:
    """The `schedule` kind (serial, fused, pipelined) for `workload`, checked to fit `hw`'s SRAM.

    Every workload, a single ConvAdd block or a whole network, goes through one scheduler
    (scheduler/network.py: fusion, then tiling per layer). `splits` fixes the output-row
    parts of every layer (None: chosen per layer to fit SRAM, at least 4 for a pipelined
    ConvAdd); `parts` fixes those of named layers.
    """
    return network_schedule(workload, hw, schedule, parts=parts, splits=splits)[0]


def simulate(hw: Hardware, workload: Workload, schedule: str = "pipelined", splits: int | None = None,
             sync: str = "barrier", parts: dict[str, int] | None = None) -> Result:
    """Simulate `workload` on `hw` with the `schedule` kind (see `make_schedule`);
    `sync` is "barrier" (stages) or "deps" (data dependencies only)."""
    return run_schedule(hw, make_schedule(hw, workload, schedule, splits, parts), sync)
