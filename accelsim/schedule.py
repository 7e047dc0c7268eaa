"""Schedules as plain data: ops on units, the tensor regions they move, stages, barriers.

A schedule is a list of ops. Each op belongs to a stage; a barrier closes
every stage, so no op of stage s+1 starts before every op of stage s has
ended (plus the hardware's barrier cost). Within a stage, ops start as soon
as their dependencies have ended and their unit is free. Run with
`sync="deps"`, the engine ignores stages and orders ops by their data
dependencies only (`Schedule.data_dependencies`).

Memory spaces: a region lives in `dram` or in one SRAM buffer. An op that
writes an SRAM region reserves its bytes when it starts; the bytes are
released when the last op that reads that region ends.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from accelsim.cost import Gemm
from accelsim.errors import ScheduleError
from accelsim.hw import SRAM_BUFFERS

OpKind = Literal["load", "store", "conv", "add", "pool"]
UNIT_OF_KIND = {"load": "dma", "store": "dma", "conv": "conv", "add": "add", "pool": "add"}
UNITS = ("conv", "add", "dma")
DRAM = "dram"
SPACES = (DRAM, *SRAM_BUFFERS)


@dataclass(frozen=True)
class Region:
    """A box of a tensor, `[start, stop)` per axis in elements, held in `space`."""

    tensor: str
    start: tuple[int, ...]
    stop: tuple[int, ...]
    space: str

    def __hash__(self) -> int:              # regions key dicts in every pass: hash once
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return hash((self.tensor, self.start, self.stop, self.space))

    @cached_property
    def elements(self) -> int:
        n = 1
        for a, b in zip(self.start, self.stop, strict=True):
            n *= b - a
        return n

    def overlaps(self, other: Region) -> bool:
        """Whether the two boxes share an element (whatever their memory spaces)."""
        return self.tensor == other.tensor and all(
            a0 < b1 and b0 < a1 for a0, a1, b0, b1 in zip(self.start, self.stop, other.start, other.stop,
                                                          strict=True))

    def moved(self, space: str) -> Region:
        """The same box held in another memory space."""
        return Region(self.tensor, self.start, self.stop, space)

    def __str__(self) -> str:
        box = ", ".join(f"{a}:{b}" for a, b in zip(self.start, self.stop, strict=True))
        return f"{self.tensor}[{box}]@{self.space}"


@dataclass(frozen=True)
class Op:
    """One operation on one unit. `gemm` is set for conv ops only; `window` is the
    elements a pool op reduces into each output (kh x kw)."""

    id: str
    kind: OpKind
    stage: int
    reads: tuple[Region, ...]
    writes: tuple[Region, ...]
    deps: tuple[str, ...] = ()
    gemm: Gemm | None = None
    window: int = 1

    @property
    def unit(self) -> str:
        return UNIT_OF_KIND[self.kind]

    def sram_writes(self) -> tuple[Region, ...]:
        return tuple(r for r in self.writes if r.space != DRAM)

    def sram_reads(self) -> tuple[Region, ...]:
        return tuple(r for r in self.reads if r.space != DRAM)


@dataclass(frozen=True)
class Schedule:
    """Ops in issue order; `name` says which scheduler made it (serial, fused, pipelined)."""

    name: str
    workload: str
    splits: int
    ops: tuple[Op, ...]
    notes: tuple[str, ...] = ()          # what the scheduler wants a reader to know (fusion, fallbacks)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    num_stages: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, int] = {}
        for i, op in enumerate(self.ops):
            if op.id in index:
                raise ScheduleError(f"op {op.id!r}: id used twice")
            if op.kind not in UNIT_OF_KIND:
                raise ScheduleError(f"op {op.id!r}: unknown kind {op.kind!r}")
            if op.stage < 0:
                raise ScheduleError(f"op {op.id!r}: stage must be >= 0, got {op.stage}")
            for region in (*op.reads, *op.writes):
                if region.space not in SPACES:
                    raise ScheduleError(f"op {op.id!r}: {region} is in unknown memory space "
                                        f"{region.space!r}; expected one of {', '.join(SPACES)}")
            for dep in op.deps:
                if dep not in index:
                    raise ScheduleError(f"op {op.id!r}: depends on {dep!r}, which is not an earlier op")
                if self.ops[index[dep]].stage > op.stage:
                    raise ScheduleError(f"op {op.id!r} (stage {op.stage}) depends on {dep!r} "
                                        f"of later stage {self.ops[index[dep]].stage}")
            index[op.id] = i
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "num_stages", 1 + max((op.stage for op in self.ops), default=-1))

    def op(self, op_id: str) -> Op:
        return self.ops[self._index[op_id]]

    def stages(self) -> list[list[int]]:
        """Op indices grouped by stage, each group in issue order."""
        groups: list[list[int]] = [[] for _ in range(self.num_stages)]
        for i, op in enumerate(self.ops):
            groups[op.stage].append(i)
        return groups

    def readers(self) -> dict[tuple[int, Region], list[int]]:
        """For each SRAM region written (by op index), the indices of the ops that read it.

        A read is matched to the latest earlier op that wrote the same region in the
        same space. It is a ScheduleError to read a region no earlier op wrote, to read
        it before the writer's stage or in that stage without depending on the writer,
        and to write a region again before anything read it.
        """
        last_writer: dict[Region, int] = {}
        readers: dict[tuple[int, Region], list[int]] = {}
        for i, op in enumerate(self.ops):
            for region in op.sram_reads():
                writer = last_writer.get(region)
                if writer is None:
                    raise ScheduleError(f"op {op.id!r} reads {region}, which no earlier op writes")
                w = self.ops[writer]
                if w.stage > op.stage or (w.stage == op.stage and w.id not in op.deps):
                    raise ScheduleError(f"op {op.id!r} (stage {op.stage}) reads {region} written by "
                                        f"{w.id!r} (stage {w.stage}) without waiting for it")
                readers[(writer, region)].append(i)
            for region in op.sram_writes():
                previous = last_writer.get(region)
                if previous is not None and not readers[(previous, region)]:
                    raise ScheduleError(f"op {op.id!r} writes {region} again before anything read "
                                        f"what {self.ops[previous].id!r} wrote there")
                last_writer[region] = i
                readers[(i, region)] = []
        return readers

    def data_dependencies(self) -> list[list[int]]:
        """Per op (by index), the ops it must wait for when only data orders them: its
        explicit deps, the writer of every SRAM region it reads, and every earlier op
        that wrote a DRAM region overlapping one it reads."""
        deps = [{self._index[d] for d in op.deps} for op in self.ops]
        for (writer, _), readers in self.readers().items():
            for r in readers:
                deps[r].add(writer)
        dram_writes: dict[str, list[tuple[int, Region]]] = {}
        for i, op in enumerate(self.ops):
            for region in op.reads:
                if region.space == DRAM:
                    deps[i].update(j for j, w in dram_writes.get(region.tensor, ()) if w.overlaps(region))
            for region in op.writes:
                if region.space == DRAM:
                    dram_writes.setdefault(region.tensor, []).append((i, region))
        return [sorted(d) for d in deps]

    def peak_stage_bytes(self, element_bytes: int) -> dict[str, tuple[int, int]]:
        """Per SRAM buffer: (most bytes live in one stage, that stage).

        A region is live from its writer's stage through its last reader's stage;
        with barriers this bounds what the buffer must hold at any moment.
        """
        change: dict[str, list[int]] = {}      # bytes that become live (+) / dead (-) per stage
        for (writer, region), readers in self.readers().items():
            first = self.ops[writer].stage
            last = max((self.ops[r].stage for r in readers), default=self.num_stages - 1)
            if region.space not in change:
                change[region.space] = [0] * (self.num_stages + 1)
            delta = change[region.space]
            delta[first] += region.elements * element_bytes
            delta[last + 1] -= region.elements * element_bytes
        peaks = {}
        for space, delta in change.items():
            live = list(itertools.accumulate(delta[:-1]))
            peaks[space] = (max(live), live.index(max(live)))
        return peaks
