"""Schedules as plain data: ops on units, the tensor regions they move, stages, barriers.

A schedule is a list of ops. Each op belongs to a stage; a barrier closes
every stage, so no op of stage s+1 starts before every op of stage s has
ended (plus the hardware's barrier cost). Within a stage, ops start as soon
as their dependencies have ended and their unit is free. Run with
`sync="deps"`, the engine ignores stages and orders ops by their data
dependencies only (`Schedule.data_dependencies`).

Memory spaces: a region lives in `dram` or in one SRAM buffer. An op that
writes an SRAM region reserves its bytes when it starts; the bytes are
released when the last op that reads that region ends. A read of an SRAM
region is served by the latest earlier writes of that tensor in that buffer
that cover it. `Op.offsets` places each SRAM write at a byte offset in its
buffer (`placement.place` fills them in; the validator checks them).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

from accelsim.box import Box, BoxIndex, contains, fmt, uncovered
from accelsim.cost import Gemm, skipped
from accelsim.dtypes import ONE_BYTE, Widths
from accelsim.errors import ScheduleError
from accelsim.hw import SRAM_BUFFERS
from accelsim.units import UNIT_OF_KIND, moves_data

if TYPE_CHECKING:
    from accelsim.layout import ConcatLayout
    from accelsim.winograd import WinogradLayout

OpKind = Literal["load", "store", "conv", "add", "pool", "lrn", "softmax", "scale", "wgin", "wgout", "wgw"]
DRAM = "dram"
SPACES = (DRAM, *SRAM_BUFFERS)
NO_DEPS: list[int] = []                 # the dep indices of every op without deps (never changed)


@dataclass(frozen=True)
class Region:
    """A box of a tensor, `[start, stop)` per axis in elements, held in `space`."""

    tensor: str
    start: tuple[int, ...]
    stop: tuple[int, ...]
    space: str
    elements: int = field(init=False, repr=False, compare=False)    # its element count
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:        # regions key dicts in every pass: hash and count once
        n = 1
        for a, b in zip(self.start, self.stop, strict=True):
            n *= b - a
        object.__setattr__(self, "elements", n)
        object.__setattr__(self, "_hash", hash((self.tensor, self.start, self.stop, self.space)))

    def __hash__(self) -> int:
        return self._hash

    def overlaps(self, other: Region) -> bool:
        """Whether the two boxes share an element (whatever their memory spaces)."""
        return self.tensor == other.tensor and all(
            a0 < b1 and b0 < a1 for a0, a1, b0, b1 in zip(self.start, self.stop, other.start, other.stop,
                                                          strict=True))

    def moved(self, space: str) -> Region:
        """The same box held in another memory space (itself when already there)."""
        if space == self.space:
            return self
        return Region(self.tensor, self.start, self.stop, space)

    @property
    def box(self) -> Box:
        return self.start, self.stop

    def __str__(self) -> str:
        return f"{self.tensor}{fmt(self.box)}@{self.space}"


class OpFacts(NamedTuple):
    """`Op.facts`: its unit, its SRAM writes as (buffer, elements), the DRAM elements it moves
    (a transfer; 0 otherwise), what its compute cycles depend on (its kind, window, GEMM sizes,
    and the space and elements of each region it reads and writes; None for a transfer: ops
    alike in these take as long) and its MACs."""

    unit: str
    writes: tuple[tuple[str, int], ...]
    moves: int
    cycles_key: tuple | None
    macs: int


@dataclass(frozen=True)
class Op:
    """One operation on one unit. `gemm` is set for conv ops only; `window` is the
    elements a pool or LRN op reduces into each output (kh x kw, size); `offsets` are the byte
    offsets of its SRAM writes in their buffers, in order (empty: not placed); `layer`
    and `tile` say what part of the workload it works on."""

    id: str
    kind: OpKind
    stage: int
    reads: tuple[Region, ...]
    writes: tuple[Region, ...]
    deps: tuple[str, ...] = ()
    gemm: Gemm | None = None
    window: int = 1
    offsets: tuple[int, ...] = ()
    layer: str = ""                      # the workload layer it belongs to ("" when not known)
    tile: int | None = None              # its tile of that layer, 1-based (None: shared, e.g. weights)
    _facts: OpFacts | None = field(init=False, default=None, repr=False, compare=False)

    @property
    def unit(self) -> str:
        return UNIT_OF_KIND[self.kind]

    @property
    def array_macs(self) -> int:
        """MACs the array performs of its GEMM: its `macs` less the products it skips (N:M
        weights, zero activations: `cost.skipped`); 0 without a GEMM."""
        return 0 if self.gemm is None else skipped(self.gemm).macs

    @property
    def facts(self) -> OpFacts:
        """What running it needs to know of it beyond its id, stage and deps, worked out on
        first use (`keep_facts` hands them to a copy that only renames or re-stages it)."""
        facts = self._facts
        if facts is None:
            unit = UNIT_OF_KIND[self.kind]
            writes = tuple([(r.space, r.elements) for r in self.writes if r.space != DRAM])
            if moves_data(unit):
                facts = OpFacts(unit, writes, sum([r.elements for r in self.reads]), None, 0)
            else:
                g = self.gemm
                key = (self.kind, self.window, None if g is None else (g.m, g.k, g.n, g.groups, g.skip),
                       len(self.reads), *[x for r in self.reads + self.writes for x in (r.space, r.elements)])
                facts = OpFacts(unit, writes, 0, key, 0 if g is None else g.macs)
            object.__setattr__(self, "_facts", facts)
        return facts

    def keep_facts(self, copy: Op) -> Op:
        """`copy`, told this op's `facts` (for a copy whose kind, GEMM, window and regions'
        spaces and sizes are this op's: renamed or re-staged ops of a layer reused for
        another layer of the same shape)."""
        object.__setattr__(copy, "_facts", self.facts)
        return copy

    def sram_writes(self) -> tuple[Region, ...]:
        return tuple(r for r in self.writes if r.space != DRAM)

    def sram_reads(self) -> tuple[Region, ...]:
        return tuple(r for r in self.reads if r.space != DRAM)


@dataclass(frozen=True)
class Schedule:
    """Ops in issue order; `name` says which scheduler made it (serial, fused, pipelined);
    `splits` the row parts asked of every layer (None: chosen per layer)."""

    name: str
    workload: str
    splits: int | None
    ops: tuple[Op, ...]
    notes: tuple[str, ...] = ()          # what the scheduler wants a reader to know (fusion, fallbacks)
    concats: tuple[ConcatLayout, ...] = ()   # per concat of the workload, which inputs it copies
    dtype: str = "int8"                      # the run's datatype (accelsim.dtypes)
    widths: Widths = ONE_BYTE                # bytes per element of each tensor
    winograd: tuple[WinogradLayout, ...] = ()  # per conv run as Winograd, its tensors (`accelsim.winograd`)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _same_stage: tuple[list[tuple[int, ...]], list[int]] | None = field(init=False, repr=False, compare=False,
                                                                        default=None)
    _matched: tuple[dict[tuple[int, Region], list[int]], list[tuple[int, str]]] | None = field(
        init=False, repr=False, compare=False, default=None)
    num_stages: int = field(init=False, repr=False, compare=False)
    dep_indices: list[list[int]] = field(init=False, repr=False, compare=False)  # per op, its deps' indices

    def __post_init__(self) -> None:
        index: dict[str, int] = {}
        deps: list[list[int]] = []
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
            mine = NO_DEPS
            if op.deps:
                mine = []
                for dep in op.deps:
                    j = index.get(dep)
                    if j is None:
                        raise ScheduleError(f"op {op.id!r}: depends on {dep!r}, which is not an earlier op")
                    if self.ops[j].stage > op.stage:
                        raise ScheduleError(f"op {op.id!r} (stage {op.stage}) depends on {dep!r} "
                                            f"of later stage {self.ops[j].stage}")
                    mine.append(j)
            deps.append(mine)
            index[op.id] = i
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "dep_indices", deps)
        object.__setattr__(self, "num_stages", 1 + max((op.stage for op in self.ops), default=-1))

    @property
    def tiles(self) -> int:
        """Tiles computed: distinct (layer, tile) of the conv, add and pool ops (an op with no
        tile counts alone; a Winograd weight transform, `wgw`, is no tile)."""
        compute = [op for op in self.ops if not moves_data(op.unit) and op.kind != "wgw"]
        return len({(op.layer, op.tile) for op in compute if op.tile is not None}) + sum(
            op.tile is None for op in compute)

    def op(self, op_id: str) -> Op:
        return self.ops[self._index[op_id]]

    def stages(self) -> list[list[int]]:
        """Op indices grouped by stage, each group in issue order."""
        groups: list[list[int]] = [[] for _ in range(self.num_stages)]
        for i, op in enumerate(self.ops):
            groups[op.stage].append(i)
        return groups

    def _stage_deps(self) -> tuple[list[tuple[int, ...]], list[int]]:
        """Per op (by index): its dependencies of its own stage, and the lowest index among
        it and the ops of its stage it waits for (no op below that can be one of them)."""
        if self._same_stage is not None:
            return self._same_stage
        deps: list[tuple[int, ...]] = []
        low: list[int] = []
        for i, op in enumerate(self.ops):
            mine = tuple(j for j in self.dep_indices[i] if self.ops[j].stage == op.stage)
            deps.append(mine)
            low.append(min((low[j] for j in mine), default=i))
        object.__setattr__(self, "_same_stage", (deps, low))
        return deps, low

    def ordered_before(self, a: int, b: int) -> bool:
        """Whether op `a` surely ends before op `b` starts (by index): a barrier lies
        between them, or `b` waits for `a` through its dependencies."""
        sa, sb = self.ops[a].stage, self.ops[b].stage
        if sa != sb or a >= b:
            return sa < sb
        deps, low = self._stage_deps()
        if low[b] > a:
            return False
        todo, seen = [b], {b}                  # walk back from b through its stage, never below a
        while todo:
            for d in deps[todo.pop()]:
                if d == a:
                    return True
                if d > a and low[d] <= a and d not in seen:
                    seen.add(d)
                    todo.append(d)
        return False

    def match_reads(self) -> tuple[dict[tuple[int, Region], list[int]], list[tuple[int, str]]]:
        """For each SRAM region written (by op index), the indices of the ops that read it;
        and the problems found, as (op index, message).

        A read is served by the latest writes of the same tensor in the same space that
        are ordered before it (`ordered_before`) and together cover it. Problems: a read
        that such writes do not cover, whether a write not waited for or nothing covers
        the rest, and a write of a region again before anything read it (messages
        follow the op's id). Each read visits only the writes that overlap it (through
        a BoxIndex per tensor and space), latest first, until they cover it; computed
        once per schedule, a copy returned each call.
        """
        readers, problems = self._matches()
        return {key: list(rs) for key, rs in readers.items()}, list(problems)

    def _matches(self) -> tuple[dict[tuple[int, Region], list[int]], list[tuple[int, str]]]:
        """`match_reads` itself, worked out on the first call (the callers must not change it)."""
        if self._matched is not None:
            return self._matched
        writes: dict[tuple[str, str], BoxIndex[tuple[int, Region]]] = {}
        readers: dict[tuple[int, Region], list[int]] = {}
        unread: dict[Region, int | list[int]] = {}     # region -> the op(s) that wrote it, not read since
        problems: list[tuple[int, str]] = []
        stage = [op.stage for op in self.ops]
        for i, op in enumerate(self.ops):
            for region in op.reads:
                if region.space == DRAM:
                    continue
                need = region.box
                index = writes.get((region.tensor, region.space))
                if index is not None:               # most reads: the latest write covers it, in time
                    latest = index.payloads[-1]
                    if contains(index.boxes[-1], need) and (stage[latest[0]] < stage[i]
                                                            or self.ordered_before(latest[0], i)):
                        readers[latest].append(i)
                        continue
                left, used = [need], []
                late = None                 # a write that covers part of the rest but is not waited for
                for (writer, written), wbox in index.overlapping(need) if index is not None else ():
                    if len(left) == 1 and contains(wbox, left[0]):
                        rest = []
                    else:
                        rest = [p for part in left for p in uncovered(part, [wbox])]
                        if rest == left:
                            continue
                    if not self.ordered_before(writer, i):
                        late = late if late is not None else writer
                        continue
                    used.append((writer, written))
                    left = rest
                    if not left:
                        break
                if not left:
                    for key in used:
                        readers[key].append(i)
                if left and late is not None:
                    w = self.ops[late]
                    problems.append((i, f"(stage {op.stage}) reads {region} written by {w.id!r} "
                                        f"(stage {w.stage}) without waiting for it"))
                elif left:
                    missing = ", ".join(region.tensor + fmt(box) for box in left[:3])
                    problems.append((i, f"reads {region}, which no earlier op writes"
                                        + (f" (missing {missing})" if left != [region.box] else "")))
            for region in op.writes:
                if region.space == DRAM:
                    continue
                if region in unread:
                    before = unread[region]
                    earlier = [w for w in ([before] if isinstance(before, int) else before)
                               if not readers[(w, region)]]
                    for writer in earlier:
                        problems.append((i, f"writes {region} again before anything read "
                                            f"what {self.ops[writer].id!r} wrote there"))
                    unread[region] = [*earlier, i]
                else:
                    unread[region] = i
                mine = (i, region)
                if mine not in readers:
                    readers[mine] = []
                place = (region.tensor, region.space)
                if place not in writes:
                    writes[place] = BoxIndex()
                writes[place].add(mine, region.box)
        object.__setattr__(self, "_matched", (readers, problems))
        return readers, problems

    def readers(self) -> dict[tuple[int, Region], list[int]]:
        """`match_reads`' readers; a ScheduleError for its first problem."""
        return {key: list(rs) for key, rs in self._readers().items()}

    def _readers(self) -> dict[tuple[int, Region], list[int]]:
        """`readers()` without the copy (the callers must not change it)."""
        readers, problems = self._matches()
        if problems:
            i, message = problems[0]
            raise ScheduleError(f"op {self.ops[i].id!r} {message}")
        return readers

    def data_dependencies(self) -> list[list[int]]:
        """Per op (by index), the ops it must wait for when only data orders them: its
        explicit deps, the writer of every SRAM region it reads, and every earlier op
        that wrote a DRAM region overlapping one it reads."""
        deps = [set(d) for d in self.dep_indices]
        for (writer, _), readers in self._readers().items():
            for r in readers:
                deps[r].add(writer)
        dram_writes: dict[str, BoxIndex[int]] = {}
        for i, op in enumerate(self.ops):
            for region in op.reads:
                if region.space == DRAM and region.tensor in dram_writes:
                    deps[i].update(j for j, _ in dram_writes[region.tensor].overlapping(region.box))
            for region in op.writes:
                if region.space == DRAM:
                    if region.tensor not in dram_writes:
                        dram_writes[region.tensor] = BoxIndex()
                    dram_writes[region.tensor].add(i, region.box)
        return [sorted(d) for d in deps]

    def lifetime(self, writer: int, readers: Sequence[int]) -> tuple[int, int]:
        """The one region-lifetime rule: a region op `writer` (by index) writes to SRAM is live
        from its writer's stage through its last reader's stage, or through the last stage when
        nothing reads it (its bytes are never released). With barriers this bounds what a
        buffer must hold at any moment."""
        first = self.ops[writer].stage
        if not readers:
            return first, self.num_stages - 1
        return first, max(first, *(self.ops[r].stage for r in readers))

    def lifetimes(self, readers: Mapping[tuple[int, Region], Sequence[int]] | None = None,
                  ) -> dict[tuple[int, Region], tuple[int, int]]:
        """(first, last) stage of every SRAM region written, keyed like `readers()` (which it
        uses unless given readers, such as `match_reads`' for a schedule with problems)."""
        found = self._readers() if readers is None else readers
        return {key: self.lifetime(key[0], rs) for key, rs in found.items()}

    def live_bytes(self) -> dict[str, list[int]]:
        """Per SRAM buffer, the bytes live in each stage (`live_bytes` of `lifetimes`; each
        region's bytes as `widths` says)."""
        size = self.widths.bytes
        return live_bytes(((region.space, size(region), first, last)
                           for (_, region), (first, last) in self.lifetimes().items()), self.num_stages)

    def peak_stage_bytes(self) -> dict[str, tuple[int, int]]:
        """Per SRAM buffer: (most bytes live in one stage, that stage)."""
        return {space: (max(per_stage), per_stage.index(max(per_stage)))
                for space, per_stage in self.live_bytes().items()}


def live_bytes(regions: Iterable[tuple[str, int, int, int]], num_stages: int) -> dict[str, list[int]]:
    """The one SRAM count: per buffer, the bytes live in each stage, from (buffer, bytes, first
    stage, last stage) of every region (`Schedule.lifetimes`). The scheduler's fit check, the
    schedule's peaks and the validator's capacity check all count with it."""
    change: dict[str, list[int]] = {}          # bytes that become live (+) / dead (-) per stage
    for space, nbytes, first, last in regions:
        if space not in change:
            change[space] = [0] * (num_stages + 1)
        change[space][first] += nbytes
        change[space][last + 1] -= nbytes
    return {space: list(itertools.accumulate(delta[:-1])) for space, delta in change.items()}
