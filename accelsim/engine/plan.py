"""What the engine needs to know of each op before a run, computed once per schedule and machine.

Ops are numbered in issue order. Per op: the ops it waits for, its unit, the
SRAM bytes it reserves, its duration (cycles of a compute op; a transfer's
comes from the DRAM model), the DRAM bytes it moves, its MACs, and the SRAM
regions it reads (each released when its last reader ends). One pass over
the ops gathers all of it, and what the Result records of them.
"""

from __future__ import annotations

from math import prod
from operator import sub

from accelsim.hw import Hardware
from accelsim.schedule import DRAM, Op, Region, Schedule
from accelsim.timing import compute_op_cycles, transfer_bytes
from accelsim.units import UNIT_OF_KIND, moves_data

NONE: tuple = ()


def _elements(region: Region) -> int:
    """`region.elements`, worked out here the first time (its cached_property, without its lock)."""
    cache = region.__dict__
    if "elements" not in cache:
        cache["elements"] = prod(map(sub, region.stop, region.start))
    return cache["elements"]


def _cycles_key(op: Op) -> tuple:
    """What `compute_op_cycles` reads of a compute op: its kind, GEMM, window, and the memory
    space and size of each region it reads and writes (ops alike in these take as long)."""
    return (op.kind, op.gemm, op.window, tuple([(r.space, _elements(r)) for r in op.reads]),
            tuple([(r.space, _elements(r)) for r in op.writes]))


class Plan:
    """Per op, lists indexed like `schedule.ops`; per SRAM region written, lists by number.
    `stages`: op indices by stage, in issue order, stages without ops left out."""

    def __init__(self, hw: Hardware, schedule: Schedule, sync: str):
        eb = hw.element_bytes
        ops = schedule.ops
        index = schedule._index                 # op id -> index
        self.id: list[str] = [op.id for op in ops]
        self.kind: list[str] = [op.kind for op in ops]
        self.stage: list[int] = [op.stage for op in ops]
        self.layer: list[str] = [op.layer for op in ops]
        self.tile: list[int | None] = [op.tile for op in ops]
        self.unit: list[str] = list(map(UNIT_OF_KIND.__getitem__, self.kind))
        self.deps: list = (schedule.data_dependencies() if sync == "deps" else      # op indices
                           [[index[d] for d in op.deps] if op.deps else NONE for op in ops])
        self.stages = [group for group in schedule.stages() if group]
        # (SRAM buffer, bytes) per write; the usual single write without building a list
        self.reserves: list[tuple[tuple[str, int], ...]] = [
            (NONE if op.writes[0].space == DRAM else ((op.writes[0].space, _elements(op.writes[0]) * eb),))
            if len(op.writes) == 1
            else tuple([(r.space, _elements(r) * eb) for r in op.writes if r.space != DRAM])
            for op in ops]
        self.cycles: list[int | None] = []      # None: a transfer
        self.nbytes: list[int] = []             # DRAM bytes of a transfer
        self.macs: list[int] = []
        self.dram_read = self.dram_write = 0
        cycles, nbytes_, macs_ = self.cycles.append, self.nbytes.append, self.macs.append
        transfers = {unit: moves_data(unit) for unit in set(self.unit)}
        timed: dict[tuple, tuple[int, int]] = {}   # _cycles_key -> (cycles, MACs)
        for op, unit in zip(ops, self.unit, strict=True):
            if transfers[unit]:
                reads = op.reads
                nbytes = _elements(reads[0]) * eb if len(reads) == 1 else transfer_bytes(op, hw)
                if op.kind == "load":
                    self.dram_read += nbytes
                else:
                    self.dram_write += nbytes
                cycles(None)
                nbytes_(nbytes)
                macs_(0)
            else:
                key = _cycles_key(op)
                if key not in timed:
                    timed[key] = (compute_op_cycles(op, hw), op.gemm.macs if op.gemm else 0)
                c, m = timed[key]
                cycles(c)
                nbytes_(0)
                macs_(m)
        # SRAM regions: their buffer and bytes, how many reads they serve, and which regions
        # each op reads
        self.region: list[tuple[str, int]] = []
        self.readers: list[int] = []
        self.reads: list[list[int]] = [[] for _ in ops]
        for (writer, region), readers in schedule._readers().items():
            for i in readers:
                self.reads[i].append(len(self.region))
            self.readers.append(len(readers))
            reserves = self.reserves[writer]      # the region is one of them
            self.region.append(reserves[0] if len(reserves) == 1 else (region.space, region.elements * eb))
