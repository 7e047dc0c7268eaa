"""What the engine needs to know of each op before a run, computed once per schedule and machine.

Ops are numbered in issue order. Per op: the ops it waits for, its unit, the
SRAM bytes it reserves, its duration (cycles of a compute op; a transfer's
comes from the DRAM model), the DRAM bytes it moves, its MACs, and the SRAM
regions it reads (each released when its last reader ends). One pass over
the ops gathers all of it, and what the Result records of them.
"""

from __future__ import annotations

from accelsim.hw import Hardware
from accelsim.schedule import DRAM, Op, Schedule
from accelsim.timing import compute_op_cycles, transfer_bytes
from accelsim.units import UNIT_OF_KIND, moves_data

NONE: tuple = ()


def _cycles_key(op: Op) -> tuple:
    """What `compute_op_cycles` reads of a compute op: its kind, GEMM, window, and the memory
    space and size of each region it reads and writes (ops alike in these take as long)."""
    return (op.kind, op.gemm, op.window, tuple([(r.space, r.elements) for r in op.reads]),
            tuple([(r.space, r.elements) for r in op.writes]))


class Plan:
    """Per op, lists indexed like `schedule.ops`; per SRAM region written, lists by number.
    `stages`: op indices by stage, in issue order, stages without ops left out."""

    def __init__(self, hw: Hardware, schedule: Schedule, sync: str):
        eb = hw.element_bytes
        self.id: list[str] = []
        self.kind: list[str] = []
        self.stage: list[int] = []
        self.layer: list[str] = []
        self.tile: list[int | None] = []
        self.deps: list = []                       # op indices
        self.unit: list[str] = []
        self.reserves: list[tuple[tuple[str, int], ...]] = []    # (SRAM buffer, bytes) per write
        self.cycles: list[int | None] = []         # None: a transfer
        self.nbytes: list[int] = []                # DRAM bytes of a transfer
        self.macs: list[int] = []
        self.dram_read = self.dram_write = 0
        index: dict[str, int] = {}
        stages: dict[int, list[int]] = {}
        timed: dict[tuple, tuple[int, int]] = {}   # _cycles_key -> (cycles, MACs)
        for i, op in enumerate(schedule.ops):
            kind, stage, unit = op.kind, op.stage, UNIT_OF_KIND[op.kind]
            index[op.id] = i
            self.id.append(op.id)
            self.kind.append(kind)
            self.layer.append(op.layer)
            self.tile.append(op.tile)
            self.stage.append(stage)
            self.deps.append([index[d] for d in op.deps] if op.deps else NONE)
            if stage in stages:
                stages[stage].append(i)
            else:
                stages[stage] = [i]
            self.unit.append(unit)
            writes = op.writes
            if len(writes) == 1:                # the usual case, without building a list
                w = writes[0]
                self.reserves.append(NONE if w.space == DRAM else ((w.space, w.elements * eb),))
            else:
                self.reserves.append(tuple([(r.space, r.elements * eb) for r in writes if r.space != DRAM]))
            if moves_data(unit):
                nbytes = transfer_bytes(op, hw)
                if kind == "load":
                    self.dram_read += nbytes
                else:
                    self.dram_write += nbytes
                self.cycles.append(None)
                self.nbytes.append(nbytes)
                self.macs.append(0)
            else:
                key = _cycles_key(op)
                if key not in timed:
                    timed[key] = (compute_op_cycles(op, hw), op.gemm.macs if op.gemm else 0)
                cycles, macs = timed[key]
                self.cycles.append(cycles)
                self.nbytes.append(0)
                self.macs.append(macs)
        self.stages = [stages[s] for s in sorted(stages)]
        if sync == "deps":
            self.deps = schedule.data_dependencies()
        # SRAM regions: their buffer and bytes, how many reads they serve, and which regions
        # each op reads
        self.region: list[tuple[str, int]] = []
        self.readers: list[int] = []
        self.reads: list[list[int]] = [[] for _ in self.id]
        for (writer, region), readers in schedule.readers().items():
            for i in readers:
                self.reads[i].append(len(self.region))
            self.readers.append(len(readers))
            reserves = self.reserves[writer]      # the region is one of them
            self.region.append(reserves[0] if len(reserves) == 1 else (region.space, region.elements * eb))
