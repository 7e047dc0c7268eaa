"""The SimPy engine: runs a Schedule on a Hardware, one process per op, no per-cycle events.

Units and SRAM buffers are Pools (conv and add: one op at a time; dma: one
per engine; SRAM: bytes), DRAM is a FluidDram. An op starts when its stage
has opened (barrier), its dependencies have ended, its unit is free and its
SRAM bytes are reserved; it lasts its formula's cycles (or its DRAM
transfer). Ties are broken by issue order. An op's SRAM regions are
released when the last op that reads them ends.
"""

from __future__ import annotations

import dataclasses
import itertools

import simpy

from accelsim.engine.dram import FluidDram
from accelsim.engine.pool import Pool
from accelsim.errors import SimulationError
from accelsim.hw import SRAM_BUFFERS, Hardware
from accelsim.result import OpRecord, Result, build_result
from accelsim.schedule import UNITS, Schedule
from accelsim.timing import compute_op_cycles, transfer_bytes

SYNC_MODES = ("barrier", "deps")


class _Run:
    """State of one simulation; used once."""

    def __init__(self, hw: Hardware, schedule: Schedule, sync: str = "barrier"):
        if sync not in SYNC_MODES:
            raise SimulationError(f"unknown sync mode {sync!r}: expected one of {', '.join(SYNC_MODES)}")
        self.hw, self.schedule, self.sync = hw, schedule, sync
        self.env = env = simpy.Environment()
        self.units = {"conv": Pool(env, "conv", 1), "add": Pool(env, "add", 1),
                      "dma": Pool(env, "dma", hw.dma.engines)}
        self.sram = {b: Pool(env, b, hw.buffer(b).size_bytes) for b in SRAM_BUFFERS}
        self.dram = None if hw.ideal_memory else FluidDram(env, hw.dram.bytes_per_cycle,
                                                          hw.dram.latency_cycles)
        ops, eb = schedule.ops, hw.element_bytes
        index = {op.id: i for i, op in enumerate(ops)}
        self.deps = (schedule.data_dependencies() if sync == "deps"
                     else [[index[d] for d in op.deps] for op in ops])
        self.allocs = [[(self.sram[r.space], r.elements * eb) for r in op.sram_writes()] for op in ops]
        self.cycles = [compute_op_cycles(op, hw) if op.unit != "dma" else None for op in ops]
        self.nbytes = [transfer_bytes(op, hw) if op.unit == "dma" else 0 for op in ops]
        # SRAM regions: readers left before release, and which regions each op releases
        self.pending, self.releases = {}, [[] for _ in ops]
        for key, readers in schedule.readers().items():
            self.pending[key] = len(readers)
            for i in readers:
                self.releases[i].append(key)
        # sync by deps: ops reserve SRAM strictly in issue order, so no op runs so far ahead
        # that it holds the space an earlier op needs (which could deadlock)
        self.turn: dict[int, simpy.Event] = {}
        self.next_turn: dict[int, int] = {}
        if sync == "deps":
            allocating = [i for i in range(len(ops)) if self.allocs[i]]
            self.turn = {i: env.event() for i in allocating}
            self.next_turn = dict(itertools.pairwise(allocating))
            if allocating:
                self.turn[allocating[0]].succeed()
        self.procs: list[simpy.Process | None] = [None] * len(ops)
        self.start: list[int | None] = [None] * len(ops)
        self.end: list[int | None] = [None] * len(ops)
        self.waiting: dict[int, str] = {}

    def everything(self):
        """Sync by data only: every op starts as soon as its dependencies allow."""
        for i in range(len(self.schedule.ops)):
            self.procs[i] = self.env.process(self.op(i))
        yield self.env.all_of(self.procs)

    def stages(self):
        barrier = self.hw.barrier_cycles
        for stage in self.schedule.stages():
            if not stage:                   # a stage with no op has no barrier to wait at
                continue
            for i in stage:
                self.procs[i] = self.env.process(self.op(i))
            yield self.env.all_of([self.procs[i] for i in stage])
            if barrier:
                yield self.env.timeout(barrier)

    def op(self, i: int):
        env, op = self.env, self.schedule.ops[i]
        deps = [self.procs[d] for d in self.deps[i] if not self.procs[d].processed]
        if deps:
            self.waiting[i] = "its dependencies"
            yield env.all_of(deps)
        if i in self.turn:
            self.waiting[i] = "its turn to reserve SRAM"
            yield self.turn[i]
        for buffer, nbytes in self.allocs[i]:     # space first: a waiting op holds no unit
            wait = buffer.acquire(nbytes)
            if wait is not None:
                self.waiting[i] = f"{nbytes} bytes of SRAM {buffer.name}"
                yield wait
        if i in self.next_turn:
            self.turn[self.next_turn[i]].succeed()
        unit = self.units[op.unit]
        wait = unit.acquire(1)
        if wait is not None:
            self.waiting[i] = f"unit {op.unit}"
            yield wait
        self.waiting.pop(i, None)
        self.start[i] = env.now
        if self.cycles[i] is not None:
            yield env.timeout(self.cycles[i])
        elif self.dram is not None:
            yield from self.dram.transfer(self.nbytes[i])
        self.end[i] = env.now
        unit.release(1)
        for key in self.releases[i]:
            self.pending[key] -= 1
            if self.pending[key] == 0:
                region = key[1]
                self.sram[region.space].release(region.elements * self.hw.element_bytes)

    def result(self) -> Result:
        main = self.env.process(self.stages() if self.sync == "barrier" else self.everything())
        self.env.run()
        if not main.processed:
            stuck = ", ".join(f"{self.schedule.ops[i].id} (waiting for {why})"
                              for i, why in sorted(self.waiting.items())[:5])
            raise SimulationError(f"schedule {self.schedule.name!r} deadlocked at cycle "
                                  f"{self.env.now}: {stuck}")
        ops = self.schedule.ops
        records = tuple(OpRecord(op.id, op.kind, op.unit, op.stage, self.start[i], self.end[i],
                                 self.nbytes[i], op.gemm.macs if op.gemm else 0, op.layer, op.tile)
                        for i, op in enumerate(ops))
        dram_read = sum(n for n, op in zip(self.nbytes, ops, strict=True) if op.kind == "load")
        dram_write = sum(n for n, op in zip(self.nbytes, ops, strict=True) if op.kind == "store")
        peaks = {b: pool.peak for b, pool in self.sram.items()}
        result = build_result(self.hw, self.schedule, self.env.now, records, dram_read, dram_write,
                              peaks, UNITS, self.sync)
        return dataclasses.replace(result, sram_occupancy={b: tuple(p.history) for b, p in self.sram.items()},
                                   dram_activity=tuple(self.dram.history) if self.dram else ())


def run_schedule(hw: Hardware, schedule: Schedule, sync: str = "barrier") -> Result:
    """Execute `schedule` on `hw` and return its Result.

    `sync`: "barrier" (every stage waits for the previous one) or "deps" (ops wait for
    their data dependencies only; stages and barriers are ignored)."""
    return _Run(hw, schedule, sync).result()
