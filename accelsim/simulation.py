"""One call from files or objects to a Result: schedule the workload, run the engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from accelsim.engine.machine import run_schedule
from accelsim.errors import ScheduleError
from accelsim.gcpause import gc_paused
from accelsim.hw import Hardware
from accelsim.options import RunOptions, run_options
from accelsim.result import Result
from accelsim.schedule import Schedule
from accelsim.scheduler.network import SCHEDULES, network_schedule
from accelsim.workload import Workload


def make_schedule(hw: Hardware, workload: Workload, schedule: str = RunOptions.schedule,
                  splits: int | None = RunOptions.splits, parts: Mapping[str, int] | None = None, *,
                  options: RunOptions | None = None) -> Schedule:
    """The `schedule` kind (serial, fused, pipelined, depthfirst) for `workload`, checked to fit `hw`'s SRAM.

    Every workload, a single ConvAdd block or a whole network, goes through one scheduler
    (scheduler/network.py: fusion, then tiling per layer). `splits` fixes the output-row
    parts of every layer (None: chosen per layer to fit SRAM, at least 4 for a pipelined
    ConvAdd); `parts` fixes those of named layers. `options` (a RunOptions; its `sync`
    unused) replaces the keywords. A schedule of more than `options.max_ops` ops is a
    LimitError, before it is built when its shapes already say so (accelsim/limits.py).
    """
    o = run_options(options, schedule=schedule, splits=splits, parts=parts)
    with gc_paused():
        return network_schedule(workload, hw, o.schedule, parts=dict(o.parts), splits=o.splits,
                                max_ops=o.max_ops, dtype=o.dtype, fuse_depth=o.fuse_depth, halo=o.halo,
                                search=o.search, winograd=o.winograd, weight_sparsity=o.weight_sparsity,
                                activation_density=o.activation_density, input_data=o.input_data,
                                seed=o.seed, winograd_weights=o.winograd_weights)[0]


def simulate(hw: Hardware, workload: Workload, schedule: str = RunOptions.schedule,
             splits: int | None = RunOptions.splits, sync: str = RunOptions.sync,
             parts: Mapping[str, int] | None = None, *, options: RunOptions | None = None) -> Result:
    """Simulate `workload` on `hw` with the `schedule` kind (see `make_schedule`);
    `sync` is "barrier" (stages) or "deps" (data dependencies only). `options` (a
    RunOptions) replaces the keywords."""
    o = run_options(options, schedule=schedule, splits=splits, sync=sync, parts=parts)
    return run_schedule(hw, make_schedule(hw, workload, options=o), o.sync)


def compare_schedules(hw: Hardware, workload: Workload, splits: int | None = RunOptions.splits,
                      sync: str = RunOptions.sync, parts: Mapping[str, int] | None = None, *,
                      options: RunOptions | None = None) -> tuple[list[Result], dict[str, ScheduleError]]:
    """Every schedule kind, serial first (`parts` applies to the others; `splits` to all):
    the Results, and why any that could not be built failed. `options` (a RunOptions;
    its `schedule` unused) replaces the keywords."""
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
