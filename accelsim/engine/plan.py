"""What the engine needs to know of each op before a run, computed once per schedule and machine.

Ops are numbered in issue order. Per op: the ops it waits for, its unit, the
SRAM bytes it reserves, its duration (cycles of a compute op; a transfer's
comes from the DRAM model), the DRAM bytes it moves, its MACs, and the SRAM
regions it reads (each released when its last reader ends), and what the
Result records of them: one pass over the ops takes their fields, then one
comprehension per list; compute ops alike are timed once.
"""

from __future__ import annotations

from operator import attrgetter

from accelsim.hw import Hardware
from accelsim.schedule import DRAM, Op, Schedule
from accelsim.timing import compute_op_cycles
from accelsim.units import UNIT_OF_KIND, moves_data

NONE: tuple = ()
_FIELDS = attrgetter("id", "kind", "stage", "layer", "tile", "deps", "writes", "reads")


def _cycles_key(op: Op) -> tuple:
    """What `compute_op_cycles` reads of a compute op: its kind, window, GEMM sizes, and the
    memory space and size of each region it reads and writes (ops alike in these take as
    long). Plain ints and strings, so that looking it up calls no Python `__eq__`."""
    g = op.gemm
    return (op.kind, op.window, None if g is None else (g.m, g.k, g.n, g.groups), len(op.reads),
            *[x for r in op.reads + op.writes for x in (r.space, r.elements)])


class Plan:
    """Per op, lists indexed like `schedule.ops`; per SRAM region written, lists by number.
    `stages`: op indices by stage, in issue order, stages without ops left out."""

    def __init__(self, hw: Hardware, schedule: Schedule, sync: str):
        eb = hw.element_bytes
        ops = schedule.ops
        index = schedule._index                 # op id -> index
        # the fields of every op in one pass, then one list per field
        ids, kinds, stages, layers, tiles, deps, writes, reads = (
            map(list, zip(*map(_FIELDS, ops), strict=True)) if ops else ([] for _ in range(8)))
        self.id: list[str] = ids
        self.kind: list[str] = kinds
        self.stage: list[int] = stages
        self.layer: list[str] = layers
        self.tile: list[int | None] = tiles
        self.unit: list[str] = list(map(UNIT_OF_KIND.__getitem__, kinds))
        self.deps: list = (schedule.data_dependencies() if sync == "deps" else      # op indices
                           [list(map(index.__getitem__, d)) if d else NONE for d in deps])
        groups: list[list[int]] = [[] for _ in range(schedule.num_stages)]
        for i, s in enumerate(stages):
            groups[s].append(i)
        self.stages = [group for group in groups if group]
        # (SRAM buffer, bytes) per write; the usual single write without building a list
        self.reserves: list[tuple[tuple[str, int], ...]] = [
            (NONE if w[0].space == DRAM else ((w[0].space, w[0].elements * eb),)) if len(w) == 1
            else tuple([(r.space, r.elements * eb) for r in w if r.space != DRAM])
            for w in writes]
        # a transfer: no cycles (None; the DRAM model times it) and the bytes it reads
        moves = {unit: moves_data(unit) for unit in set(self.unit)}
        transfer = [moves[u] for u in self.unit]
        self.nbytes: list[int] = [sum([r.elements for r in rs]) * eb if t else 0    # DRAM bytes
                                  for t, rs in zip(transfer, reads, strict=True)]
        self.dram_read = sum([b for k, b in zip(kinds, self.nbytes, strict=True) if k == "load"])
        self.dram_write = sum(self.nbytes) - self.dram_read
        timed: dict[tuple | None, tuple[int | None, int]] = {}   # _cycles_key -> (cycles, MACs)
        keys = [None if t else _cycles_key(op) for op, t in zip(ops, transfer, strict=True)]
        for op, key in zip(ops, keys, strict=True):
            if key is not None and key not in timed:
                timed[key] = (compute_op_cycles(op, hw), op.gemm.macs if op.gemm else 0)
        timed[None] = (None, 0)
        timing = list(map(timed.__getitem__, keys))
        self.cycles: list[int | None] = [c for c, _ in timing]      # None: a transfer
        self.macs: list[int] = [m for _, m in timing]
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
