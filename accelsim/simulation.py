"""One call from files or objects to a Result: schedule the workload, run the engine."""

from __future__ import annotations

from accelsim.engine.machine import run_schedule
from accelsim.hw import Hardware
from accelsim.result import Result
from accelsim.schedule import Schedule
from accelsim.scheduler import build_schedule, is_convadd_chain, layer_schedule
from accelsim.scheduler.network import network_schedule
from accelsim.workload import Workload


def make_schedule(hw: Hardware, workload: Workload, schedule: str = "pipelined",
                  splits: int = 4, parts: dict[str, int] | None = None) -> Schedule:
    """The `schedule` kind for `workload`, checked to fit `hw`'s SRAM.

    Kinds: serial, fused, pipelined, and layer (lone convs, tiled to fit SRAM). A chain
    of ConvAdd blocks runs as the block schedules, the pipelined one in `splits` H parts;
    any other graph runs as a network (scheduler/network.py: fusion and tiling chosen
    per layer, `splits` unused; `parts` fixes the row parts of named layers).
    """
    if schedule == "layer":
        return layer_schedule(workload, hw)
    if is_convadd_chain(workload):
        return build_schedule(workload, schedule, splits, hw.element_bytes, hw.sram_capacity())
    return network_schedule(workload, hw, schedule, parts=parts)[0]


def simulate(hw: Hardware, workload: Workload, schedule: str = "pipelined", splits: int = 4,
             sync: str = "barrier", parts: dict[str, int] | None = None) -> Result:
    """Simulate `workload` on `hw` with the `schedule` kind (see `make_schedule`);
    `sync` is "barrier" (stages) or "deps" (data dependencies only)."""
    return run_schedule(hw, make_schedule(hw, workload, schedule, splits, parts), sync)
