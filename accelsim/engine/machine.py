"""The SimPy engine: runs a Schedule on a Hardware with callbacks, no process per op, no per-cycle events.

Units and SRAM buffers are Pools (conv and add: one op at a time; dma: one
per engine; SRAM: bytes), DRAM is a FluidDram. An op moves through steps,
plain method calls: it *begins* when its stage opens (barrier sync) or at
cycle 0 (deps sync) and waits for its dependencies; once they have all
*finished* it is *ready*: it waits for its turn to reserve SRAM (deps sync),
reserves its SRAM bytes, waits for its turn on its unit (deps sync), takes
its unit, *starts*, and *ends* after its formula's cycles or its DRAM
transfer (latency, then streaming); it then releases its unit and the SRAM
regions it was the last reader of, and is *finished*, which may make its
dependents ready and close its stage (the next one opens `barrier_cycles`
later). Ties are broken by issue order.

Sync by deps keeps an `Order` taken from a reference run (`deps_order`: the
shorter of the barrier run and a greedy one): SRAM is reserved, and each unit
taken, in the order the reference did, and DRAM serves transfers by strict
priority in the order they ended there (`PriorityDram`). Then no op starts or
ends later than in the reference, so sync by deps is never slower than
barriers (the argument: docs/model.md, "Sync by data"). Greedy issue has no
such bound: a transfer that starts early takes a DMA engine and bandwidth
from one a critical op waits for.

Time advances by SimPy timeouts, one per cycle at which something is due (an
op's end, a transfer's latency, a DRAM finish, a barrier): 1.4 to 1.7 per op
with timed DRAM on the shipped traces, about 0.4 with ideal memory (the old
process-per-op engine used 3 to 7). Work within a cycle runs as `Steps`, in
the order SimPy ran that engine's events (an op's finish and a dependent's
readiness each come one step later, as they came one event later), so every
op of a barrier run starts and ends on the same cycle as it did.
"""

from __future__ import annotations

import collections
import dataclasses
import gc
import heapq
import itertools

import simpy

from accelsim.engine.dram import FluidDram, PriorityDram
from accelsim.engine.plan import Plan
from accelsim.engine.pool import Pool
from accelsim.engine.steps import Steps
from accelsim.errors import SimulationError
from accelsim.gcpause import gc_paused
from accelsim.hw import SRAM_BUFFERS, Hardware
from accelsim.result import OpRecord, Result, build_result
from accelsim.schedule import Schedule
from accelsim.units import UNITS, engines

SYNC_MODES = ("barrier", "deps")
UNIT_WAITS = {u: f"unit {u}" for u in UNITS}


@dataclasses.dataclass(frozen=True)
class Order:
    """The order in which a run did things, by op index: `reserved`, the ops that reserve
    SRAM, in the order they got all their bytes; `started`, every op in the order it got its
    unit; `ended`, every op in the order it ended."""

    reserved: tuple[int, ...]
    started: tuple[int, ...]
    ended: tuple[int, ...]


class _Run:
    """State of one simulation; used once. Ops are referred to by index (issue order).
    Sync by deps keeps `order` (a reference run's, `deps_order`); without one it is greedy:
    SRAM reserved in issue order, units first come first served, DRAM shared equally."""

    def __init__(self, hw: Hardware, schedule: Schedule, sync: str = "barrier", order: Order | None = None):
        if sync not in SYNC_MODES:
            raise SimulationError(f"unknown sync mode {sync!r}: expected one of {', '.join(SYNC_MODES)}")
        self.hw, self.schedule, self.sync = hw, schedule, sync
        self.plan = plan = Plan(hw, schedule, sync)
        self.env = simpy.Environment()
        self.steps = steps = Steps(self.env)
        units = {u: Pool(steps, u, count, track=False) for u, count in engines(hw).items()}
        self.sram = {b: Pool(steps, b, hw.buffer(b).size_bytes) for b in SRAM_BUFFERS}
        n = len(schedule.ops)
        if hw.ideal_memory:
            self.dram: FluidDram | None = None
        elif order is None:
            self.dram = FluidDram(steps, hw.dram.bytes_per_cycle, hw.dram.latency_cycles)
        else:                                   # transfers served in the order they ended there
            rank = [0] * n
            for r, i in enumerate(order.ended):
                rank[i] = r
            self.dram = PriorityDram(steps, hw.dram.bytes_per_cycle, hw.dram.latency_cycles, rank)
        self.latency = 0 if self.dram is None else self.dram.latency_cycles
        self.unit = [units[u] for u in plan.unit]
        self.deps, self.reserves, self.cycles = plan.deps, plan.reserves, plan.cycles
        self.nbytes, self.reads, self.region = plan.nbytes, plan.reads, plan.region
        self.unread = list(plan.readers)        # per SRAM region: reads left before its release
        # what the run did, in order (a reference run's order is what sync by deps keeps)
        self.reserved_order: list[int] = []
        self.started_order: list[int] = []
        self.ended_order: list[int] = []
        # sync by deps: ops reserve SRAM strictly in the order the reference run reserved it,
        # and take each unit strictly in the order they took it there (`deps_order`); greedy:
        # SRAM in issue order, so that no op runs so far ahead that it holds the space an
        # earlier op needs (which could deadlock)
        if order is not None:
            self.allocating = list(order.reserved)
        else:
            self.allocating = [i for i in range(n) if plan.reserves[i]] if sync == "deps" else []
        self.needs_turn = [False] * n
        for i in self.allocating:
            self.needs_turn[i] = True
        self.next_turn = dict(itertools.pairwise(self.allocating))
        self.turn_taken = [False] * n           # its turn has come
        self.turn_waiting = [False] * n         # it waits for its turn
        self.firsts: list[int] = []             # per unit, the first op to take it
        self.next_on_unit: dict[int, int] = {}  # op -> the next op to take its unit
        self.unit_turn = [order is None] * n    # its turn to take its unit has come
        self.unit_waiting = [False] * n         # it waits for that turn
        if order is not None:
            last: dict[str, int] = {}
            for i in order.started:
                u = plan.unit[i]
                if u in last:
                    self.next_on_unit[last[u]] = i
                else:
                    self.firsts.append(i)
                last[u] = i
        # stages (sync by deps: all ops as one), and each op's progress
        if sync == "deps":
            self.groups = [list(range(n))] if n else []
        else:
            self.groups = plan.stages
        self.barrier = hw.barrier_cycles if sync == "barrier" else 0
        self.group = 0
        self.left = 0                           # ops of the open group not finished
        self.done = False
        self.opening = False                    # its ops are beginning
        self.finished = [False] * n
        self.unmet = [0] * n                    # dependencies not finished
        self.dependents: dict[int, list[int]] = {}     # op -> ops waiting for it, in order
        self.reserved = [0] * n                 # how many of its SRAM reservations it holds
        self.start = [0] * n
        self.end = [0] * n
        self.waiting: dict[int, str] = {}

    # -- stages ------------------------------------------------------------------------------

    def _open(self, g: int) -> None:
        """Open group `g`: its ops begin, in issue order; each is ready at once unless it
        waits for dependencies not finished."""
        self.group = g
        if g == len(self.groups):
            self.done = True
            return
        ops = self.groups[g]
        self.left = len(ops)
        self.opening = True
        deps, finished, dependents, ready = self.deps, self.finished, self.dependents, self._ready
        for i in ops:
            unmet = 0
            for d in deps[i]:
                if not finished[d]:
                    unmet += 1
                    dependents.setdefault(d, []).append(i)
            if unmet:
                self.unmet[i] = unmet
                self.waiting[i] = "its dependencies"
            else:
                ready(i)
        self.opening = False

    def _close(self, g: int) -> None:
        """Group `g` has finished: the next one opens after the barrier (at once if none)."""
        if self.barrier:
            self.steps.at(self.barrier, self._open, g + 1)
        else:
            self._open(g + 1)

    # -- one op ------------------------------------------------------------------------------

    def _turn(self, i: int) -> None:
        self.turn_taken[i] = True
        if self.turn_waiting[i]:
            self._ready(i)

    def _unit_turn(self, i: int) -> None:
        self.unit_turn[i] = True
        if self.unit_waiting[i]:
            self._take_unit(i)

    def _ready(self, i: int) -> None:
        """Once its dependencies have finished: wait for its turn, then reserve its SRAM bytes
        buffer by buffer, then its unit (space first: an op waiting for space holds no unit).
        Also the step that resumes it when it is granted SRAM."""
        if self.needs_turn[i] and not self.turn_taken[i]:
            self.turn_waiting[i] = True
            self.waiting[i] = "its turn to reserve SRAM"
            return
        reserves = self.reserves[i]
        if reserves:
            k = self.reserved[i]
            while k < len(reserves):
                buffer, nbytes = reserves[k]
                k += 1
                if not self.sram[buffer].acquire(nbytes, self._ready, i):
                    self.reserved[i] = k
                    self.waiting[i] = f"{nbytes} bytes of SRAM {buffer}"
                    return
            self.reserved[i] = k
            self.reserved_order.append(i)
        if i in self.next_turn:
            self.steps.soon(self._turn, self.next_turn[i])
        if not self.unit_turn[i]:
            self.unit_waiting[i] = True
            self.waiting[i] = f"its turn on unit {self.unit[i].name}"
            return
        self._take_unit(i)

    def _take_unit(self, i: int) -> None:
        """Its unit (first come first served); sync by deps: the next op's turn on it."""
        if i in self.next_on_unit:
            self.steps.soon(self._unit_turn, self.next_on_unit[i])
        unit = self.unit[i]
        if unit.level < unit.capacity and not unit.waiting:     # unit.acquire(1), inline
            unit.level += 1
            if unit.level > unit.peak:
                unit.peak = unit.level
            self._start(i)
        else:
            unit.acquire(1, self._start, i)
            self.waiting[i] = UNIT_WAITS[unit.name]

    def _start(self, i: int) -> None:
        """A compute op ends after its cycles; a transfer streams after the DRAM latency
        (with ideal memory it ends at once)."""
        if i in self.waiting:
            del self.waiting[i]
        steps = self.steps
        self.start[i] = now = steps.now
        self.started_order.append(i)
        delay = self.cycles[i]
        if delay is not None:
            step = self._end
        elif self.dram is None:
            self._end(i)
            return
        elif self.latency:
            delay, step = self.latency, self._stream
        else:
            self._stream(i)
            return
        if not delay:
            steps.soon(step, i)
            return
        due = steps.due.get(now + delay)        # steps.at(delay, step, i), inline
        if due is None:
            steps.due[now + delay] = due = []
            heapq.heappush(steps.cycles, now + delay)
        due.append((step, i))

    def _stream(self, i: int) -> None:
        nbytes = self.nbytes[i]
        if nbytes > 0 and self.dram is not None:
            self.dram.stream(nbytes, self._end, i)
        else:
            self._end(i)

    def _end(self, i: int) -> None:
        self.end[i] = self.steps.now
        self.ended_order.append(i)
        unit = self.unit[i]
        if unit.waiting:
            unit.release(1)
        else:                               # unit.release(1) with no one to grant, inline
            unit.level -= 1
        unread = self.unread
        for region in self.reads[i]:
            unread[region] -= 1
            if not unread[region]:
                buffer, nbytes = self.region[region]
                self.sram[buffer].release(nbytes)
        if self.opening or self.left == 1 or i in self.dependents:
            self.steps.soon(self._finish, i)
        else:                               # a finish step that nothing could see happen
            self.finished[i] = True
            self.left -= 1

    def _finish(self, i: int) -> None:
        """One step after its end (as its process ended one event later), so that what
        begins or ends in between sees it unfinished."""
        self.finished[i] = True
        self.left -= 1
        if not self.left:
            self.steps.soon(self._close, self.group)
        if i in self.dependents:
            unmet = self.unmet
            for d in self.dependents.pop(i):
                unmet[d] -= 1
                if not unmet[d]:
                    self.steps.soon(self._ready, d)

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> Order:
        """Run every op; the order in which they reserved, started and ended."""
        if self.allocating:
            self.steps.soon(self._turn, self.allocating[0])
        for i in self.firsts:
            self.steps.soon(self._unit_turn, i)
        self._open(0)
        self.steps.run()
        self.env.run()
        if not self.done:
            stuck = ", ".join(f"{self.schedule.ops[i].id} (waiting for {why})"
                              for i, why in sorted(self.waiting.items())[:5])
            raise SimulationError(f"schedule {self.schedule.name!r} deadlocked at cycle "
                                  f"{self.steps.now}: {stuck}")
        return Order(tuple(self.reserved_order), tuple(self.started_order), tuple(self.ended_order))

    def result(self) -> Result:
        self.run()
        plan = self.plan
        records = _records(plan.id, plan.kind, plan.unit, plan.stage, self.start, self.end,
                           plan.nbytes, plan.macs, plan.layer, plan.tile)
        self.env.__dict__.clear()       # its early-bound methods refer to it: free it by its count
        peaks = {b: pool.peak for b, pool in self.sram.items()}
        result = build_result(self.hw, self.schedule, self.steps.now, records, plan.dram_read,
                              plan.dram_write, peaks, UNITS, self.sync)
        return dataclasses.replace(result, sram_occupancy={b: tuple(p.history) for b, p in self.sram.items()},
                                   dram_activity=self.dram.activity() if self.dram else ())


def _records(*columns: list) -> tuple[OpRecord, ...]:
    """One OpRecord per op from one list per field (in field order), filled field by field
    through the slots' descriptors, as the frozen dataclass's `__init__` fills them, but
    without a Python call per record."""
    records = list(map(object.__new__, itertools.repeat(OpRecord, len(columns[0]))))
    for name, column in zip(OpRecord.__slots__, columns, strict=True):
        collections.deque(map(getattr(OpRecord, name).__set__, records, column), 0)
    return tuple(records)


def run_schedule(hw: Hardware, schedule: Schedule, sync: str = "barrier") -> Result:
    """Execute `schedule` on `hw` and return its Result.

    `sync`: "barrier" (every stage waits for the previous one) or "deps" (ops wait for
    their data dependencies only; stages and barriers are ignored, and the issue order is
    `deps_order`'s: never slower than with barriers)."""
    with gc_paused():
        order = deps_order(hw, schedule) if sync == "deps" else None
        result = _Run(hw, schedule, sync, order).result()
        _promote()
    return result


def deps_order(hw: Hardware, schedule: Schedule) -> Order:
    """The order sync by deps keeps: that of the shorter of two reference runs, the barrier
    run and the greedy one (data dependencies only, every unit first come first served, SRAM
    reserved in issue order, DRAM shared equally); the barrier run's on a tie. A reference
    counts only if it ran and started every op after its data (a barrier run of a schedule
    whose stages do not order some data need not); the greedy run's error if none does.
    Kept, either order never deadlocks: every op starts by its cycle in the reference."""
    greedy = _Run(hw, schedule, "deps")
    barrier = _Run(hw, schedule)
    try:
        by_barrier = barrier.run()
    except SimulationError:
        return greedy.run()
    data_first = all(barrier.end[d] <= start for start, deps in zip(barrier.start, greedy.deps, strict=True)
                     for d in deps)
    try:
        by_greedy = greedy.run()
    except SimulationError:
        if data_first:
            return by_barrier
        raise
    return by_barrier if data_first and barrier.steps.now <= greedy.steps.now else by_greedy


def _promote() -> None:
    """Move every object the collector tracks to its oldest generation without walking them
    (`gc.freeze`, then `gc.unfreeze`). A run's objects live on in its Result or are freed by
    their reference counts (the run leaves none in cycles), so the young collection
    that would follow the pause would walk some 100k of them for nothing (about 15 ms per
    14k ops). Skipped when objects are frozen already (unfreezing would release them)."""
    if not gc.get_freeze_count():
        gc.freeze()
        gc.unfreeze()
