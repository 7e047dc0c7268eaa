"""What the engine needs to know of each op before a run, computed once per schedule and machine.

Ops are numbered in issue order. Per op: the ops it waits for, its unit, the
SRAM bytes it reserves, its duration (cycles of a compute op; a transfer's
comes from the DRAM model), the DRAM bytes it moves, its MACs, and the SRAM
regions it is a reader of (released when their last reader ends).
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
    """Per op (lists indexed like `schedule.ops`) and per SRAM region written (numbered)."""

    def __init__(self, hw: Hardware, schedule: Schedule, sync: str):
        ops, eb = schedule.ops, hw.element_bytes
        if sync == "deps":
            self.deps: list = schedule.data_dependencies()
        else:
            index = {op.id: i for i, op in enumerate(ops)}
            self.deps = [[index[d] for d in op.deps] if op.deps else NONE for op in ops]
        self.unit: list[str] = []
        self.reserves: list[tuple[tuple[str, int], ...]] = []    # (SRAM buffer, bytes) per write
        self.cycles: list[int | None] = []         # None: a transfer
        self.nbytes: list[int] = []                # DRAM bytes of a transfer
        self.macs: list[int] = []
        self.dram_read = self.dram_write = 0
        timed: dict[tuple, tuple[int, int]] = {}   # _cycles_key -> (cycles, MACs)
        for op in ops:
            unit = UNIT_OF_KIND[op.kind]
            self.unit.append(unit)
            self.reserves.append(tuple([(r.space, r.elements * eb) for r in op.writes if r.space != DRAM]))
            if moves_data(unit):
                nbytes = transfer_bytes(op, hw)
                if op.kind == "load":
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
        # SRAM regions: their buffer and bytes, how many reads they serve, and which regions
        # each op reads
        self.region: list[tuple[str, int]] = []
        self.readers: list[int] = []
        reads: list[list[int]] = [[] for _ in ops]
        for (_, region), readers in schedule.readers().items():
            for i in readers:
                reads[i].append(len(self.region))
            self.readers.append(len(readers))
            self.region.append((region.space, region.elements * eb))
        self.reads: list[list[int]] = reads
