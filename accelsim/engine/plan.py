"""What the engine needs to know of each op before a run, computed once per schedule and machine.

Ops are numbered in issue order. Per op: the ops it waits for, its unit, the
SRAM bytes it reserves, its duration (cycles of a compute op; a transfer's
comes from the DRAM model), the DRAM bytes it moves, its MACs, and the SRAM
regions it reads (each released when its last reader ends), and what the
Result records of them: one pass over the ops takes their fields, then one
comprehension per list; compute ops alike are timed once.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import islice, pairwise
from operator import attrgetter, le

from accelsim.hw import Hardware
from accelsim.schedule import DRAM, Schedule
from accelsim.timing import compute_op_cycles
from accelsim.winograd import mac_dtype_of, other_mac_dtypes

NONE: tuple = ()
_FIELDS = attrgetter("id", "kind", "stage", "layer", "tile", "facts")


def _stage_groups(stages: list[int], num_stages: int) -> list[list[int]]:
    """Op indices by stage, in issue order, stages without ops left out; cut by bisection
    when the ops come in stage order, as the scheduler issues them."""
    if all(map(le, stages, islice(stages, 1, None))):
        cuts = [bisect_left(stages, s) for s in range(num_stages + 1)]
        return [list(range(a, b)) for a, b in pairwise(cuts) if a < b]
    groups: list[list[int]] = [[] for _ in range(num_stages)]
    for i, s in enumerate(stages):
        groups[s].append(i)
    return [group for group in groups if group]


class Plan:
    """Per op, lists indexed like `schedule.ops`; per SRAM region written, lists by number.
    `stages`: op indices by stage, in issue order, stages without ops left out."""

    def __init__(self, hw: Hardware, schedule: Schedule, sync: str):
        widths = schedule.widths
        eb = widths.default
        macs_per_pe = hw.precision(schedule.dtype).macs_per_pe
        ops = schedule.ops
        # the fields of every op in one pass, then one list per field
        ids, kinds, stages, layers, tiles, facts = (
            map(list, zip(*map(_FIELDS, ops), strict=True)) if ops else ([] for _ in range(6)))
        self.id: list[str] = ids
        self.kind: list[str] = kinds
        self.stage: list[int] = stages
        self.layer: list[str] = layers
        self.tile: list[int | None] = tiles
        self.unit: list[str] = [f.unit for f in facts]
        self.deps: list = (schedule.data_dependencies() if sync == "deps"     # op indices
                           else schedule.dep_indices)
        self.stages = _stage_groups(stages, schedule.num_stages)
        # (SRAM buffer, bytes) per write, converted once per distinct set of writes
        writes = [f.writes for f in facts]
        scaled = {w: tuple([(space, n * eb) for space, n in w]) for w in set(writes)}
        self.reserves: list[tuple[tuple[str, int], ...]] = list(map(scaled.__getitem__, writes))
        self.nbytes: list[int] = [f.moves * eb for f in facts]         # DRAM bytes (transfers)
        keys: list[tuple | None] = [f.cycles_key for f in facts]
        odd = widths.odd                    # tensors of other widths than most, compressed weights
        if odd:
            for i, op in enumerate(ops):
                names = [r.tensor for r in (*op.reads, *op.writes)]
                if odd.isdisjoint(names):
                    continue
                self.reserves[i] = tuple([(r.space, widths.bytes(r)) for r in op.writes if r.space != DRAM])
                if facts[i].cycles_key is None:
                    self.nbytes[i] = sum([widths.bytes(r) for r in op.reads])
                else:
                    keys[i] = (facts[i].cycles_key, widths.only(names))
        self.dram_read = sum([b for k, b in zip(kinds, self.nbytes, strict=True) if k == "load"])
        self.dram_write = sum(self.nbytes) - self.dram_read
        other = other_mac_dtypes(schedule.winograd, schedule.dtype)   # a Winograd GEMM's packing
        packing = {}
        if other:
            for i, op in enumerate(ops):
                d = mac_dtype_of(op, other)
                if d is not None:
                    packing[i] = hw.precision(d).macs_per_pe
                    keys[i] = (keys[i], packing[i])
        timed: dict[tuple | None, int | None] = {None: None}    # cycles key -> cycles
        for i, (op, key) in enumerate(zip(ops, keys, strict=True)):
            if key not in timed:
                timed[key] = compute_op_cycles(op, hw, widths, packing.get(i, macs_per_pe))
        self.cycles: list[int | None] = [timed[key] for key in keys]     # None: a transfer
        self.macs: list[int] = [f.macs for f in facts]
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
            add_region(written[0] if len(written) == 1 else (region.space, widths.bytes(region)))
