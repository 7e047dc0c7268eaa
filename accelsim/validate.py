"""Static checks of a schedule against its workload and hardware: every problem at once.

The schedule is checked as the engine runs it with barriers: op `a` surely
ends before op `b` starts when a barrier lies between them (a's stage is
earlier) or `b` waits for `a` through its dependencies (`Schedule.ordered_before`).
Checks, each a Problem naming the op and what is wrong:

- read before write: an SRAM read not covered by writes ordered before it,
  or a DRAM read of a computed tensor not covered by stores ordered before it;
- overlapping writes: two stores to overlapping parts of a tensor in DRAM,
  two SRAM writes over the same bytes that nothing orders;
- write after read: an SRAM write over bytes that hold a region an op not yet
  surely finished still reads (or reads after it, getting the wrong data);
- SRAM capacity: a region placed past its buffer's end, and the bytes live in
  a stage (writer's stage through its last reader's) above the buffer's size;
- output coverage: a graph output with elements no op stores;
- input coverage: a conv, pool or add op whose reads miss input its output
  needs (a conv tile's halo rows, a filter chunk's weights; a Winograd op's
  input rows, V, U, M or, for U made on chip, the conv's weights, `winograd_needs`);
- an SRAM write nothing reads (its bytes would never be released).

Unknown units, tensors, buffers, op ids and dependency cycles are found when
the file is read (`schedule_file`).
"""

from __future__ import annotations

import bisect
from pathlib import Path

from accelsim.box import Box, BoxIndex, fmt, intersect, is_empty, uncovered
from accelsim.errors import ScheduleError
from accelsim.hw import Hardware
from accelsim.problems import Problem
from accelsim.schedule import DRAM, Op, Region, Schedule, live_bytes
from accelsim.schedule_file import producers, read_schedule
from accelsim.tiling import tile
from accelsim.winograd import POINTS, TILE_IN, TILE_OUT, tiles
from accelsim.workload import Add, Conv, Lrn, Pool, Scale, Softmax, Workload

MAX_LISTED = 3


def _boxes(tensor: str, boxes: list[Box]) -> str:
    shown = ", ".join(tensor + fmt(b) for b in boxes[:MAX_LISTED])
    return shown + (f" and {len(boxes) - MAX_LISTED} more" if len(boxes) > MAX_LISTED else "")


def _rows(box: Box, axis: int = 1) -> str:
    a, b = box[0][axis], box[1][axis]
    return f"row {a}" if b == a + 1 else f"rows {a}:{b}"


class _Checker:
    def __init__(self, schedule: Schedule, hw: Hardware, workload: Workload,
                 lines: dict[str, int | None] | None, source: str):
        self.s, self.hw, self.wl = schedule, hw, workload
        self.lines, self.source = lines or {}, source
        self.problems: list[tuple[int, Problem]] = []
        self.producers = producers(workload)

    def problem(self, i: int | None, message: str) -> None:
        op = self.s.ops[i].id if i is not None else None
        self.problems.append((i if i is not None else -1,
                              Problem(self.source, self.lines.get(op) if op else None, op, message)))

    def ordered(self, a: int, b: int) -> bool:
        return self.s.ordered_before(a, b)

    # -- reads -----------------------------------------------------------------------------

    def sram_reads(self) -> dict[tuple[int, Region], list[int]]:
        readers, found = self.s.match_reads()
        for i, message in found:
            self.problem(i, message)
        later: _LaterReads | None = None
        for (w, region), rs in readers.items():
            if rs:
                continue
            later = later or _LaterReads(self.s)
            if not later.any(w, region):
                self.problem(w, f"writes {region}, which no op reads: its SRAM is never released")
        return readers

    def dram(self) -> None:
        """Reads of computed tensors come after their stores; no element is stored twice;
        every graph output is stored whole."""
        stores: dict[str, BoxIndex[int]] = {}          # tensor -> the ops that store part of it
        for i, op in enumerate(self.s.ops):
            for region in op.writes:
                if region.space != DRAM:
                    continue
                if region.tensor not in self.producers:
                    self.problem(i, f"writes {region}, a graph input or weight, which schedules only read")
                if region.tensor not in stores:
                    stores[region.tensor] = BoxIndex()
                for j, box in stores[region.tensor].in_order(region.box):
                    common = intersect(region.box, box)
                    if common is not None:
                        self.problem(i, f"writes {region.tensor}{fmt(common)} in DRAM, which op "
                                        f"{self.s.ops[j].id} also writes (covered twice)")
                stores[region.tensor].add(i, region.box)
        for i, op in enumerate(self.s.ops):
            for region in op.reads:
                if region.space != DRAM or region.tensor not in self.producers:
                    continue
                writes = stores[region.tensor].in_order(region.box) if region.tensor in stores else []
                before = [box for j, box in writes if self.ordered(j, i)]
                left = uncovered(region.box, before)
                if not left:
                    continue
                late = [self.s.ops[j].id for j, box in writes
                        if not self.ordered(j, i) and any(intersect(b, box) for b in left)]
                why = (f"stored by {', '.join(late[:MAX_LISTED])}, which it does not wait for" if late
                       else "which no op stores")
                self.problem(i, f"reads {_boxes(region.tensor, left)} from DRAM, {why}")
        consumed = {t for wop in self.wl.ops for t in wop.inputs}
        for tensor, t in self.wl.tensors.items():
            if tensor in self.producers and tensor not in consumed:
                left = uncovered(((0,) * len(t.shape), t.shape),
                                 stores[tensor].boxes if tensor in stores else [])
                if left:
                    self.problem(None, f"output {tensor} is not fully stored: {_boxes(tensor, left)} "
                                       "never written to DRAM")

    # -- compute ops read what their outputs need ------------------------------------------

    def needs(self, op: Op) -> list[tuple[str, Box, str, bool]]:
        """(tensor, box, why, window) that a compute op's output region needs as input (the tile
        model's input and weight boxes); `window`: the box is a conv's or pool's window input,
        whose missing rows are halo rows."""
        out = op.writes[0]
        if op.kind in ("wgin", "wgout", "wgw") or out.tensor not in self.producers:
            return winograd_needs(self.s, self.wl, op)
        wop = self.producers[out.tensor]
        need = tile(wop, out.box, self.wl)
        if isinstance(wop, Conv | Pool):
            rows = need.inputs[0][1][0][1], need.inputs[0][1][1][1]
            pad = f"pad {wop.pad}" if isinstance(wop, Conv) or wop.pads is None else f"pads {list(wop.pads)}"
            why = (f"output {_rows(out.box)} of a {wop.kh}x{wop.kw} {wop.kind}, stride {wop.stride}, "
                   f"{pad}, need input rows {rows[0]}:{rows[1]}")
        elif isinstance(wop, Lrn):
            chans = need.inputs[0][1][0][3], need.inputs[0][1][1][3]
            why = (f"output channels {out.start[3]}:{out.stop[3]} of an LRN of size {wop.size} need input "
                   f"channels {chans[0]}:{chans[1]}")
        elif isinstance(wop, Softmax):
            why = "a softmax output needs every channel of its pixel"
        else:
            why = "the add's operand" if isinstance(wop, Add) else \
                "the scale's input" if isinstance(wop, Scale) else "the gemm's input"
        window = isinstance(wop, Conv | Pool)
        found = [(t, box, why, window) for t, box in need.inputs]
        if need.weight is not None:
            c0, c1 = out.start[-1], out.stop[-1]
            what = "constants of channels" if isinstance(wop, Scale) else "filters"
            found.append((need.weight[0], need.weight[1], f"{what} {c0}:{c1}", False))
        return [(t, b, w, win) for t, b, w, win in found if not is_empty(b)]

    def inputs(self) -> None:
        for i, op in enumerate(self.s.ops):
            if op.kind in ("load", "store"):
                continue
            for tensor, box, why, halo in self.needs(op):
                got = [r.box for r in op.reads if r.tensor == tensor]
                left = uncovered(box, got)
                if not left:
                    continue
                rows = sorted({(b[0][1], b[1][1]) for b in left}) if halo else []
                what = (f"input {tensor} " + ", ".join(_rows(((0, a), (0, b))) for a, b in rows)
                        + " missing (halo)" if halo and got else f"{_boxes(tensor, left)} not read")
                self.problem(i, f"{what}: {why}")

    # -- SRAM bytes ------------------------------------------------------------------------

    def sram(self, readers: dict[tuple[int, Region], list[int]]) -> None:
        ops, capacity = self.s.ops, self.hw.sram_capacity()
        allocs = []                          # (first stage, last stage, writer, region, offset, end)
        for i, op in enumerate(ops):
            writes = op.sram_writes()
            if len(op.offsets) != len(writes):
                self.problem(i, "has no SRAM offsets: place the schedule first (placement.place)")
                return
            for region, at in zip(writes, op.offsets, strict=True):
                end = at + self.s.widths.bytes(region)
                cap = capacity[region.space]
                if end > cap:
                    self.problem(i, f"places {region.tensor}{fmt(region.box)} at {region.space} bytes "
                                    f"{at:,}:{end:,}, past the buffer's {cap:,} B (over by {end - cap:,} B)")
                rs = readers.get((i, region), [])
                allocs.append((*self.s.lifetime(i, rs), i, region, at, end, rs))
        self.live_bytes(allocs, capacity)
        allocs.sort(key=lambda a: (a[0], a[2]))
        active: list[tuple] = []
        reported: set[tuple[int, int]] = set()
        for new in allocs:
            active = [a for a in active if a[1] >= new[0]]
            for old in active:
                if old[3].space == new[3].space and old[4] < new[5] and new[4] < old[5]:
                    self.clash(old, new, reported)
            active.append(new)

    def clash(self, a: tuple, b: tuple, reported: set) -> None:
        """Two regions over the same bytes of one buffer, both possibly live at once."""
        ops = self.s.ops
        wa, wb = a[2], b[2]
        span = f"{b[3].space} bytes {max(a[4], b[4]):,}:{min(a[5], b[5]):,}"
        if (wa, wb) in reported:
            return
        reported.add((wa, wb))
        if wa == wb or not (self.ordered(wa, wb) or self.ordered(wb, wa)):
            self.problem(wb, f"writes {b[3].tensor}{fmt(b[3].box)} over {span}, which op {ops[wa].id} "
                             f"also writes ({a[3].tensor}{fmt(a[3].box)}) and nothing orders the two")
            return
        first, second = (a, b) if self.ordered(wa, wb) else (b, a)
        for r in first[6]:
            if self.ordered(r, second[2]):
                continue
            held = f"{first[3].tensor}{fmt(first[3].box)} from op {ops[first[2]].id}"
            if self.ordered(second[2], r):
                self.problem(second[2], f"overwrites {span}, holding {held}, before op {ops[r].id} "
                                        f"(stage {ops[r].stage}) reads it")
            else:
                self.problem(second[2], f"overwrites {span}, holding {held}, while op {ops[r].id} "
                                        f"(stage {ops[r].stage}) may still be reading it (write after read)")
            return

    def live_bytes(self, allocs: list[tuple], capacity: dict[str, int]) -> None:
        """The bytes live in each stage against each buffer's size; the first stage over."""
        per_buffer = live_bytes(((region.space, end - at, first, last)
                                 for first, last, _, region, at, end, _ in allocs), self.s.num_stages)
        for buffer in capacity:
            for stage, live in enumerate(per_buffer.get(buffer, ())):
                if live > capacity[buffer]:
                    holders = [f"{a[3].tensor}{fmt(a[3].box)}" for a in allocs
                               if a[3].space == buffer and a[0] <= stage <= a[1]]
                    first_op = next(i for i, op in enumerate(self.s.ops) if op.stage == stage)
                    self.problem(first_op, f"SRAM {buffer} over capacity in stage {stage}: {live:,} B live, "
                                           f"{capacity[buffer]:,} B available (over by "
                                           f"{live - capacity[buffer]:,} B): {', '.join(holders[:4])}"
                                           + (f" and {len(holders) - 4} more" if len(holders) > 4 else ""))
                    break

    def run(self) -> list[Problem]:
        readers = self.sram_reads()
        self.dram()
        self.inputs()
        self.sram(readers)
        order = sorted(range(len(self.problems)), key=lambda k: (self.problems[k][0], k))
        return [self.problems[k][1] for k in order]


class _LaterReads:
    """The SRAM reads of a schedule per tensor and space, to ask whether any op after a given
    one reads part of a region."""

    def __init__(self, schedule: Schedule):
        self.reads: dict[tuple[str, str], BoxIndex[int]] = {}
        self.ops: dict[tuple[str, str], list[int]] = {}        # the reading op of each, in order
        for i, op in enumerate(schedule.ops):
            for r in op.sram_reads():
                key = (r.tensor, r.space)
                if key not in self.reads:
                    self.reads[key], self.ops[key] = BoxIndex(), []
                self.reads[key].add(i, r.box)
                self.ops[key].append(i)

    def any(self, after: int, region: Region) -> bool:
        """Whether an op after op `after` (by index) reads part of `region` (`Region.overlaps`)."""
        key = (region.tensor, region.space)
        if key not in self.reads:
            return False
        floor = bisect.bisect_right(self.ops[key], after)
        return next(iter(self.reads[key].overlapping(region.box, floor)), None) is not None


def winograd_needs(schedule: Schedule, workload: Workload, op: Op) -> list[tuple[str, Box, str, bool]]:
    """What an op of a Winograd layer (`scheduler/winograd.py`) needs, as `_Checker.needs`: an
    input transform the conv input rows of its tile rows (halo included: the tile model's rows
    of their output rows); a weight transform its filters of the conv's weights; a GEMM its
    tile rows of V and its filters of U; an output transform its output rows' tile rows of M,
    and the residual when it writes the fused add's output."""
    out = op.writes[0]
    seen = op.reads[0].tensor if op.kind == "wgout" and op.reads else out.tensor
    lay = next(lay for lay in schedule.winograd if seen in lay.tensors)
    conv = next(o for o in workload.ops if o.name == lay.conv)
    assert isinstance(conv, Conv)
    _, ho, wo, _ = workload.tensors[conv.output].shape
    wt = tiles(ho, wo)[1]
    (n0, a, _, k0), (n1, b, _, k1) = out.box
    if op.kind == "wgin":
        rows = (TILE_OUT * a, min(TILE_OUT * b, ho))
        need = tile(conv, ((n0, rows[0], 0, 0), (n1, rows[1], wo, conv.cout)), workload).inputs[0][1]
        why = (f"tile rows {a}:{b} of a Winograd input transform (output rows {rows[0]}:{rows[1]}) need "
               f"input rows {need[0][1]}:{need[1][1]}")
        return [(conv.input, need, why, True)]
    if op.kind == "wgw":
        filters = ((n0, 0, 0, 0), (n1, conv.kh, conv.kw, conv.cin))
        return [(conv.weight, filters, f"U of filters {n0}:{n1} is made from their weights", False)]
    if op.kind == "conv":
        return [(lay.transformed, ((n0, a, 0, 0), (n1, b, wt, POINTS * conv.cin)), f"V of tile rows {a}:{b}",
                 False),
                (lay.weight, ((k0 // POINTS, 0, 0, 0), (k1 // POINTS, TILE_IN, TILE_IN, conv.cin)),
                 f"U of filters {k0 // POINTS}:{k1 // POINTS}", False)]
    t0, t1 = a // TILE_OUT, -(-b // TILE_OUT)
    m = ((n0, t0, 0, POINTS * k0), (n1, t1, wt, POINTS * k1))
    found: list[tuple[str, Box, str, bool]] = [
        (lay.products, m, f"output {_rows(out.box)} need M of tile rows {t0}:{t1}", False)]
    if out.tensor != conv.output:
        add = next(o for o in workload.ops if o.output == out.tensor)
        assert isinstance(add, Add)
        residual = add.inputs[1] if add.inputs[0] == conv.output else add.inputs[0]
        found.append((residual, out.box, "the add's operand", False))
    return found


def validate(schedule: Schedule, hw: Hardware, workload: Workload, lines: dict[str, int | None] | None = None,
             source: str = "<schedule>") -> list[Problem]:
    """Every static problem of `schedule` (placed: `Op.offsets` set), ordered by op; [] when valid.
    `lines` maps op ids to their line in `source`, for the messages."""
    return _Checker(schedule, hw, workload, lines, source).run()


def report(source: str, problems: list[Problem]) -> str:
    """The problems as one message: a headline, then one line each."""
    s = "s" if len(problems) != 1 else ""
    return f"{source}: not valid, {len(problems)} problem{s}:\n" + "\n".join(f"  {p}" for p in problems)


def checked_schedule(path: str | Path, hw: Hardware, workload: Workload, static: bool = True) -> Schedule:
    """Read a schedule file and check it (statically unless `static` is False); a
    ScheduleError listing every problem when it is not valid."""
    file = read_schedule(path, hw, workload)
    problems = list(file.problems)
    if file.schedule is not None and static:
        problems += validate(file.schedule, hw, workload, file.lines, file.source)
    if problems or file.schedule is None:
        raise ScheduleError(report(file.source, problems))
    return file.schedule
