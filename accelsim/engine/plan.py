"""What the engine needs to know of each op before a run, computed once per schedule and machine.

Ops are numbered in issue order. Per op: the ops it waits for, its unit, the
SRAM bytes it reserves, its duration (cycles of a compute op; a transfer's
comes from the DRAM model), the DRAM bytes it moves, its MACs, and the SRAM
regions it reads (each released when its last reader ends), and what the
Result records of them: one pass over the ops takes their fields, then one
comprehension per list; compute ops alike are timed once.
"""

from __future__ import annotations

from math import prod
from operator import attrgetter, sub

from accelsim.hw import Hardware
from accelsim.schedule import DRAM, Op, Region, Schedule
from accelsim.timing import compute_op_cycles, transfer_bytes
from accelsim.units import UNIT_OF_KIND, moves_data

NONE: tuple = ()
_FIELDS = attrgetter("id", "kind", "stage", "layer", "tile", "deps", "writes")


def _elements(region: Region) -> int:
    """`region.elements`, worked out here the first time (its cached_property, without its lock)."""
    cache = region.__dict__
    if "elements" not in cache:
        cache["elements"] = prod(map(sub, region.stop, region.start))
    return cache["elements"]


def _cycles_key(op: Op) -> tuple:
    """What `compute_op_cycles` reads of a compute op: its kind, window, GEMM sizes, and the
    memory space and size of each region it reads and writes (ops alike in these take as
    long). Plain ints and strings, so that looking it up calls no Python `__eq__`."""
    g = op.gemm
    return (op.kind, op.window, None if g is None else (g.m, g.k, g.n, g.groups), len(op.reads),
            *[x for r in op.reads + op.writes for x in (r.space, _elements(r))])


class Plan:
    """Per op, lists indexed like `schedule.ops`; per SRAM region written, lists by number.
    `stages`: op indices by stage, in issue order, stages without ops left out."""

    def __init__(self, hw: Hardware, schedule: Schedule, sync: str):
        eb = hw.element_bytes
        ops = schedule.ops
        index = schedule._index                 # op id -> index
        # the fields of every op in one pass, then one list per field
        ids, kinds, stages, layers, tiles, deps, writes = (
            map(list, zip(*map(_FIELDS, ops), strict=True)) if ops else ([] for _ in range(7)))
        self.id: list[str] = ids
        self.kind: list[str] = kinds
        self.stage: list[int] = stages
        self.layer: list[str] = layers
        self.tile: list[int | None] = tiles
        self.unit: list[str] = list(map(UNIT_OF_KIND.__getitem__, self.kind))
        self.deps: list = (schedule.data_dependencies() if sync == "deps" else      # op indices
                           [list(map(index.__getitem__, d)) if d else NONE for d in deps])
        self.stages = [group for group in schedule.stages() if group]
        # (SRAM buffer, bytes) per write; the usual single write without building a list
        self.reserves: list[tuple[tuple[str, int], ...]] = [
            (NONE if w[0].space == DRAM else ((w[0].space, _elements(w[0]) * eb),)) if len(w) == 1
            else tuple([(r.space, _elements(r) * eb) for r in w if r.space != DRAM])
            for w in writes]
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
        op_reads, reserves = self.reads, self.reserves
        add_region, add_readers = self.region.append, self.readers.append
        for r, ((writer, region), readers) in enumerate(schedule._readers().items()):
            for i in readers:
                op_reads[i].append(r)
            add_readers(len(readers))
            written = reserves[writer]            # the region is one of them
            add_region(written[0] if len(written) == 1 else (region.space, region.elements * eb))
