"""The SimPy engine: runs a Schedule on a Hardware with callbacks, no process per op, no per-cycle events.

Units and SRAM buffers are Pools (conv and add: one op at a time; dma: one
per engine; SRAM: bytes), DRAM is a FluidDram. An op moves through steps,
plain method calls: it *begins* when its stage opens (barrier sync) or at
cycle 0 (deps sync) and waits for its dependencies; once they have all
*finished* it is *ready*: it waits for its turn (deps sync: SRAM is reserved
strictly in issue order), *reserves* its SRAM bytes, then takes its unit,
*starts*, and *ends* after its formula's cycles or its DRAM transfer; it then
releases its unit and the SRAM regions it was the last reader of, and is
*finished*, which may make its dependents ready and close its stage (the next
one opens `barrier_cycles` later). Ties are broken by issue order.

SimPy events: one timeout per compute op, per DRAM latency and per barrier,
plus DRAM's timers (one per change of the set of streaming transfers); an
ideal-memory transfer takes none. Work within a cycle runs as `Steps`; the
step from an op's end to its finish, and from there to a dependent's ready,
each stand for the event of the process-per-op engine this replaced, so
same-cycle ties resolve exactly as they did.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import simpy

from accelsim.engine.dram import FluidDram
from accelsim.engine.pool import Pool
from accelsim.engine.steps import Steps
from accelsim.errors import SimulationError
from accelsim.hw import SRAM_BUFFERS, Hardware
from accelsim.result import OpRecord, Result, build_result
from accelsim.schedule import UNITS, Schedule
from accelsim.timing import compute_op_cycles, transfer_bytes

SYNC_MODES = ("barrier", "deps")


class _Run:
    """State of one simulation; used once. Ops are referred to by index (issue order)."""

    def __init__(self, hw: Hardware, schedule: Schedule, sync: str = "barrier"):
        if sync not in SYNC_MODES:
            raise SimulationError(f"unknown sync mode {sync!r}: expected one of {', '.join(SYNC_MODES)}")
        self.hw, self.schedule, self.sync = hw, schedule, sync
        self.env = simpy.Environment()
        self.steps = steps = Steps(self.env)
        self.units = {"conv": Pool(steps, "conv", 1), "add": Pool(steps, "add", 1),
                      "dma": Pool(steps, "dma", hw.dma.engines)}
        self.sram = {b: Pool(steps, b, hw.buffer(b).size_bytes) for b in SRAM_BUFFERS}
        self.dram = None if hw.ideal_memory else FluidDram(steps, hw.dram.bytes_per_cycle,
                                                          hw.dram.latency_cycles)
        ops, eb, n = schedule.ops, hw.element_bytes, len(schedule.ops)
        index = {op.id: i for i, op in enumerate(ops)}
        self.deps = (schedule.data_dependencies() if sync == "deps"
                     else [[index[d] for d in op.deps] for op in ops])
        self.allocs = [[(self.sram[r.space], r.elements * eb) for r in op.sram_writes()] for op in ops]
        self.unit = [self.units[op.unit] for op in ops]
        self.cycles = [compute_op_cycles(op, hw) if op.unit != "dma" else None for op in ops]
        self.nbytes = [transfer_bytes(op, hw) if op.unit == "dma" else 0 for op in ops]
        # SRAM regions (numbered): readers left before release, their pool and bytes, and
        # which regions each op releases
        self.pending: list[int] = []
        self.region: list[tuple[Pool, int]] = []
        self.releases: list[list[int]] = [[] for _ in ops]
        for (_, region), readers in schedule.readers().items():
            for i in readers:
                self.releases[i].append(len(self.pending))
            self.pending.append(len(readers))
            self.region.append((self.sram[region.space], region.elements * eb))
        # sync by deps: ops reserve SRAM strictly in issue order, so no op runs so far ahead
        # that it holds the space an earlier op needs (which could deadlock)
        self.allocating = [i for i in range(n) if self.allocs[i]] if sync == "deps" else []
        self.needs_turn = [False] * n
        for i in self.allocating:
            self.needs_turn[i] = True
        self.next_turn = dict(itertools.pairwise(self.allocating))
        self.turn_taken = [False] * n           # its turn has come
        self.turn_waiting = [False] * n         # it waits for its turn
        # stages (sync by deps: all ops as one), and the op's progress
        if sync == "deps":
            self.groups = [list(range(n))] if n else []
        else:
            self.groups = [stage for stage in schedule.stages() if stage]
        self.barrier = hw.barrier_cycles if sync == "barrier" else 0
        self.group = 0
        self.left = 0                           # ops of the open group not finished
        self.done = False
        self.finished = [False] * n
        self.unmet = [0] * n                    # dependencies not finished
        self.dependents: list[list[int]] = [[] for _ in ops]   # waiting for the op, in order
        self.next_alloc = [0] * n
        self.start: list[int | None] = [None] * n
        self.end: list[int | None] = [None] * n
        self.waiting: dict[int, str] = {}
        self.duration: Callable[[int], None] = (self._compute if self.dram is None
                                                else self._compute_or_transfer)

    # -- stages ------------------------------------------------------------------------------

    def _open(self, g: int) -> None:
        """Open group `g`: its ops begin, in issue order."""
        self.group = g
        if g == len(self.groups):
            self.done = True
            return
        ops = self.groups[g]
        self.left = len(ops)
        for i in ops:
            self._begin(i)

    def _close(self, g: int) -> None:
        """Group `g` has finished: the next one opens after the barrier (at once if none)."""
        if self.barrier:
            self.steps.at(self.barrier, self._open, g + 1)
        else:
            self._open(g + 1)

    # -- one op ------------------------------------------------------------------------------

    def _begin(self, i: int) -> None:
        finished = self.finished
        unmet = [d for d in self.deps[i] if not finished[d]]
        if not unmet:
            self._ready(i)
            return
        self.unmet[i] = len(unmet)
        for d in unmet:
            self.dependents[d].append(i)
        self.waiting[i] = "its dependencies"

    def _ready(self, i: int) -> None:
        if self.needs_turn[i] and not self.turn_taken[i]:
            self.turn_waiting[i] = True
            self.waiting[i] = "its turn to reserve SRAM"
            return
        self._reserve(i)

    def _turn(self, i: int) -> None:
        self.turn_taken[i] = True
        if self.turn_waiting[i]:
            self._reserve(i)

    def _reserve(self, i: int) -> None:
        """Reserve the op's SRAM bytes, buffer by buffer (space first: a waiting op holds no unit)."""
        allocs = self.allocs[i]
        k = self.next_alloc[i]
        while k < len(allocs):
            pool, nbytes = allocs[k]
            k += 1
            if not pool.acquire(nbytes, self._reserve, i):
                self.next_alloc[i] = k
                self.waiting[i] = f"{nbytes} bytes of SRAM {pool.name}"
                return
        self.next_alloc[i] = k
        if i in self.next_turn:
            self.steps.soon(self._turn, self.next_turn[i])
        unit = self.unit[i]
        if unit.acquire(1, self._start, i):
            self._start(i)
        else:
            self.waiting[i] = f"unit {unit.name}"

    def _start(self, i: int) -> None:
        self.waiting.pop(i, None)
        self.start[i] = self.env.now
        self.duration(i)

    def _compute(self, i: int) -> None:
        """With ideal memory: compute ops last their cycles, transfers none."""
        cycles = self.cycles[i]
        if cycles is None:
            self._end(i)
        else:
            self.steps.at(cycles, self._end, i)

    def _compute_or_transfer(self, i: int) -> None:
        cycles = self.cycles[i]
        if cycles is not None:
            self.steps.at(cycles, self._end, i)
        elif self.dram is not None and self.dram.latency_cycles:
            self.steps.at(self.dram.latency_cycles, self._stream, i)
        else:
            self._stream(i)

    def _stream(self, i: int) -> None:
        if self.nbytes[i] > 0 and self.dram is not None:
            self.dram.stream(self.nbytes[i], self._end, i)
        else:
            self._end(i)

    def _end(self, i: int) -> None:
        self.end[i] = self.env.now
        self.unit[i].release(1)
        pending = self.pending
        for key in self.releases[i]:
            pending[key] -= 1
            if not pending[key]:
                pool, nbytes = self.region[key]
                pool.release(nbytes)
        self.steps.soon(self._finish, i)

    def _finish(self, i: int) -> None:
        self.finished[i] = True
        self.left -= 1
        if not self.left:
            self.steps.soon(self._close, self.group)
        unmet = self.unmet
        for d in self.dependents[i]:
            unmet[d] -= 1
            if not unmet[d]:
                self.steps.soon(self._ready, d)

    # -- the run -----------------------------------------------------------------------------

    def result(self) -> Result:
        if self.allocating:
            self.steps.soon(self._turn, self.allocating[0])
        self._open(0)
        self.steps.run()
        self.env.run()
        if not self.done:
            stuck = ", ".join(f"{self.schedule.ops[i].id} (waiting for {why})"
                              for i, why in sorted(self.waiting.items())[:5])
            raise SimulationError(f"schedule {self.schedule.name!r} deadlocked at cycle "
                                  f"{self.env.now}: {stuck}")
        ops = self.schedule.ops
        records = tuple(OpRecord(op.id, op.kind, op.unit, op.stage, self.start[i], self.end[i],
                                 self.nbytes[i], op.gemm.macs if op.gemm else 0)
                        for i, op in enumerate(ops))
        dram_read = sum(n for n, op in zip(self.nbytes, ops, strict=True) if op.kind == "load")
        dram_write = sum(n for n, op in zip(self.nbytes, ops, strict=True) if op.kind == "store")
        peaks = {b: pool.peak for b, pool in self.sram.items()}
        result = build_result(self.hw, self.schedule, self.env.now, records, dram_read, dram_write,
                              peaks, UNITS, self.sync)
        return dataclasses.replace(result, sram_occupancy={b: tuple(p.history) for b, p in self.sram.items()},
                                   dram_activity=self.dram.activity() if self.dram else ())


def run_schedule(hw: Hardware, schedule: Schedule, sync: str = "barrier") -> Result:
    """Execute `schedule` on `hw` and return its Result.

    `sync`: "barrier" (every stage waits for the previous one) or "deps" (ops wait for
    their data dependencies only; stages and barriers are ignored)."""
    return _Run(hw, schedule, sync).result()
