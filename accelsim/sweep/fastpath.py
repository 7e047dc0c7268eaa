"""The closed form of a run where it is exact, without the engine: barrier sync on a machine
with ideal memory (`memory_model: ideal`).

There a DRAM transfer ends the cycle it starts and an SRAM port costs nothing, so a compute op
takes exactly its formula's cycles (`accelsim.timing.compute_op_cycles`, through the engine's
own `Plan`). When, in every stage, (1) no compute op waits, through any chain of ops of its
stage, for another compute op of that stage, and (2) the bytes live in the stage
(`Schedule.live_bytes`, the scheduler's own count) fit every buffer (so no reservation
waits), then every compute op is ready the cycle its stage opens and each unit runs its ops
back to back from there. So

    stage length      = max over units of the sum of its ops' cycles in the stage
    total_cycles      = sum over stages of (stage length + barrier_cycles)

(the engine waits `barrier_cycles` after every stage, the last too), and each unit's busy
cycles are the sum of its ops' cycles. The records this implies (each unit's ops back to back
in issue order from its stage's start, transfers instant) go through the engine's own
`build_result`, so every metric (energy, area, utilizations, DRAM bytes, MACs) has its one
definition; `fast_metrics` equals `result_metrics(simulate(...))` exactly. Where (1) or (2)
fails, `fast_metrics` gives None and the engine must run. (A Schedule's deps are earlier
ops of no later stage, so each stage's ops can be walked in issue order.)
"""

from __future__ import annotations

from accelsim.engine.machine import _promote, _records
from accelsim.engine.plan import Plan
from accelsim.gcpause import gc_paused
from accelsim.hw import Hardware
from accelsim.options import RunOptions
from accelsim.result import Result, build_result
from accelsim.schedule import Schedule
from accelsim.simulation import make_schedule
from accelsim.sweep.metrics import result_metrics
from accelsim.units import UNITS
from accelsim.workload import Workload


def applies(hw: Hardware, options: RunOptions) -> bool:
    """Whether the closed form can stand for the engine on `hw` with `options`: ideal memory
    and barrier sync (the schedule may still refuse it: see `fast_metrics`)."""
    return hw.ideal_memory and options.sync == "barrier"


def fast_metrics(hw: Hardware, workload: Workload, options: RunOptions) -> dict | None:
    """`result_metrics` of the run of `workload` on `hw` with `options`, from the closed form;
    None when it does not apply (`applies`, or a schedule whose stages the engine does not run
    back to back). A schedule that cannot be built raises as `simulate` does."""
    if not applies(hw, options):
        return None
    result = fast_result(hw, make_schedule(hw, workload, options=options))
    return None if result is None else result_metrics(result)


def fast_result(hw: Hardware, schedule: Schedule) -> Result | None:
    """The Result of running `schedule` with barrier sync on `hw` (ideal memory) as the closed
    form gives it, or None where it is not exact. Its metrics, per-unit busy cycles and energy
    are the engine's; within a stage its op times need not be (a unit's ops are placed in
    issue order), and it has no SRAM peaks or occupancy."""
    if not hw.ideal_memory:
        return None
    with gc_paused():                   # as the engine runs: a few objects per op, all kept
        result = _closed_form(hw, schedule)
        _promote()
    return result


def _closed_form(hw: Hardware, schedule: Schedule) -> Result | None:
    plan = Plan(hw, schedule, "barrier")
    if not _sram_fits(hw, schedule):
        return None
    n = len(plan.id)
    start, end = [0] * n, [0] * n
    group_of = [-1] * n
    for g, ops in enumerate(plan.stages):
        for i in ops:
            group_of[i] = g
    cycles_of, unit_of, deps_of = plan.cycles, plan.unit, plan.deps
    waits_compute = [False] * n         # waits, through ops of its stage, for a compute op of it
    now = 0
    for g, ops in enumerate(plan.stages):
        free: dict[str, int] = {}       # when each unit is next free in this stage
        for i in ops:
            at = now
            for d in deps_of[i]:
                if group_of[d] == g:
                    if cycles_of[d] is not None or waits_compute[d]:
                        waits_compute[i] = True
                    if end[d] > at:
                        at = end[d]
            cycles = cycles_of[i]
            if cycles is None:          # a transfer: instant, once its stage's data is there
                start[i] = end[i] = at
                continue
            if waits_compute[i]:
                return None
            begin = free.get(unit_of[i], now)
            start[i], end[i] = begin, begin + cycles
            free[unit_of[i]] = begin + cycles
        now = max(free.values(), default=now) + hw.barrier_cycles
    records = _records(plan.id, plan.kind, plan.unit, plan.stage, start, end, plan.nbytes, plan.macs,
                       plan.layer, plan.tile)          # the engine's own record builder
    return build_result(hw, schedule, now, records, plan.dram_read, plan.dram_write, {}, UNITS, "barrier")


def _sram_fits(hw: Hardware, schedule: Schedule) -> bool:
    """Whether no SRAM reservation can wait: in every stage, the bytes live then
    (`Schedule.live_bytes`: a region is live from its writer's stage through its last
    reader's, as the engine holds it with barriers) fit each buffer."""
    capacity = hw.sram_capacity()
    return all(max(per_stage, default=0) <= capacity[buffer]
               for buffer, per_stage in schedule.live_bytes().items())
