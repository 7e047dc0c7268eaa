"""One call from files or objects to a Result: schedule the workload, run the engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from accelsim.engine.machine import run_schedule
from accelsim.errors import ScheduleError
from accelsim.hw import Hardware
from accelsim.options import RunOptions, run_options
from accelsim.result import Result
from accelsim.schedule import Schedule
from accelsim.scheduler import SCHEDULES, build_schedule, is_convadd_chain, layer_schedule
from accelsim.scheduler.network import network_schedule
from accelsim.workload import Workload


def make_schedule(hw: Hardware, workload: Workload, schedule: str = RunOptions.schedule,
                  splits: int = RunOptions.splits, parts: Mapping[str, int] | None = None, *,
                  options: RunOptions | None = None) -> Schedule:
    """The `schedule` kind for `workload`, checked to fit `hw`'s SRAM.

    Kinds: serial, fused, pipelined, and layer (lone convs, tiled to fit SRAM). A chain
    of ConvAdd blocks runs as the block schedules, the pipelined one in `splits` H parts;
    any other graph runs as a network (scheduler/network.py: fusion and tiling chosen
    per layer, `splits` unused; `parts` fixes the row parts of named layers). `options`
    (a RunOptions; its `sync` unused) replaces the keywords.
    """
    o = run_options(options, schedule=schedule, splits=splits, parts=parts)
    if o.schedule == "layer":
        return layer_schedule(workload, hw)
    if is_convadd_chain(workload):
        return build_schedule(workload, o.schedule, o.splits, hw.element_bytes, hw.sram_capacity())
    return network_schedule(workload, hw, o.schedule, parts=dict(o.parts))[0]


def simulate(hw: Hardware, workload: Workload, schedule: str = RunOptions.schedule,
             splits: int = RunOptions.splits, sync: str = RunOptions.sync,
             parts: Mapping[str, int] | None = None, *, options: RunOptions | None = None) -> Result:
    """Simulate `workload` on `hw` with the `schedule` kind (see `make_schedule`);
    `sync` is "barrier" (stages) or "deps" (data dependencies only). `options` (a
    RunOptions) replaces the keywords."""
    o = run_options(options, schedule=schedule, splits=splits, sync=sync, parts=parts)
    return run_schedule(hw, make_schedule(hw, workload, options=o), o.sync)


def compare_schedules(hw: Hardware, workload: Workload, splits: int = RunOptions.splits,
                      sync: str = RunOptions.sync, parts: Mapping[str, int] | None = None, *,
                      options: RunOptions | None = None) -> tuple[list[Result], dict[str, ScheduleError]]:
    """Every schedule kind, serial first (`parts` applies to the others): the Results, and
    why any that could not be built failed. `options` (a RunOptions; its `schedule`
    unused) replaces the keywords."""
    o = run_options(options, splits=splits, sync=sync, parts=parts)
    results: list[Result] = []
    failed: dict[str, ScheduleError] = {}
    for kind in SCHEDULES:
        try:
            results.append(simulate(hw, workload, options=dataclasses.replace(
                o, schedule=kind, parts=o.parts if kind != "serial" else {})))
        except ScheduleError as exc:
            failed[kind] = exc
    return results, failed
