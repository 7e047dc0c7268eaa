"""Pieces every scheduler pass shares: an op collector that asks the tile model, the SRAM fit check."""

from __future__ import annotations

from accelsim.box import contains
from accelsim.dtypes import ONE_BYTE, Widths
from accelsim.schedule import DRAM, Op, OpKind, Region, live_bytes
from accelsim.tiling import Tile, tile
from accelsim.workload import Conv, Workload


class Builder:
    """Collects the ops of one layer: ids prefixed with `prefix`, stages offset by
    `first_stage`, each op marked with the layer's name and its tile; bytes per element of
    each tensor as `widths` says."""

    def __init__(self, workload: Workload, layer: str, prefix: str, first_stage: int,
                 widths: Widths = ONE_BYTE):
        self.workload, self.layer, self.prefix, self.first_stage = workload, layer, prefix, first_stage
        self.widths = widths
        self.ops: list[Op] = []
        self._lives: list[list] = []            # per SRAM region written: [region, first, last reader]
        self._latest: dict[Region, list] = {}   # region -> its latest write's entry
        self._held: dict[tuple[str, str], list[list]] = {}     # (tensor, buffer) -> its entries

    def region(self, tensor: str, space: str, rows: tuple[int, int] | None = None,
               channels: tuple[int, int] | None = None, cols: tuple[int, int] | None = None) -> Region:
        """The whole NHWC tensor, or rows `[a, b)`, columns and/or channels `[c, d)` of it."""
        n, h, w, c = self.workload.tensors[tensor].shape
        r0, r1 = rows or (0, h)
        w0, w1 = cols or (0, w)
        c0, c1 = channels or (0, c)
        return Region(tensor, (0, r0, w0, c0), (n, r1, w1, c1), space)

    def part_bytes(self, tensor: str, parts: tuple[int, int, int] = (1, 1, 1)) -> int:
        """Bytes of the first (largest) of `tensor`'s parts when its rows, columns and
        channels are split in `parts` (`split_rows`: larger parts first): what one tile
        of it holds in its SRAM buffer at the least."""
        _, h, w, c = self.workload.tensors[tensor].shape
        rows, cols, chans = ((0, -(-n // k)) for n, k in zip((h, w, c), parts, strict=True))
        return self.widths.bytes(self.region(tensor, DRAM, rows, chans, cols))

    def tile(self, op, out: Region) -> Tile:
        """The tile model's answer for output region `out` of workload op `op`."""
        return tile(op, out.box, self.workload)

    def input_region(self, t: Tile, tensor: str, space: str) -> Region:
        """The box of `tensor` that tile `t` reads, as a region in `space`."""
        start, stop = t.input_box(tensor)
        return Region(tensor, start, stop, space)

    def weights(self, conv: Conv, space: str, filters: tuple[int, int] | None = None) -> Region:
        """The conv's weights (`[Cout, kh, kw, Cin/groups]`, or a gemm's `[out, in]`), or
        filters `[a, b)` of them."""
        shape = self.workload.tensors[conv.weight].shape
        f0, f1 = filters or (0, shape[0])
        return Region(conv.weight, (f0, *(0 for _ in shape[1:])), (f1, *shape[1:]), space)

    def op(self, name: str, kind: OpKind, stage: int, reads, writes, deps=(), gemm=None, window=1,
           tile: int | None = None) -> str:
        """Add an op (`tile`: the layer's tile it works on, 1-based; None for shared data)."""
        op_id, at = self.prefix + name, self.first_stage + stage
        self.ops.append(Op(op_id, kind, at, tuple(reads), tuple(writes),
                           tuple(self.prefix + d for d in deps), gemm, window, layer=self.layer, tile=tile))
        for r in reads:                         # what it wrote, or a part of one region written
            if r.space != DRAM:
                entry = self._latest.get(r) or self._holding(r)
                entry[2] = at if entry[2] is None else max(entry[2], at)
        for w in writes:
            if w.space != DRAM:
                self._latest[w] = entry = [w, at, None]
                self._lives.append(entry)
                self._held.setdefault((w.tensor, w.space), []).append(entry)
        return op_id

    def _holding(self, part: Region) -> list:
        """The entry of the latest region written that holds all of `part` (a read of part of
        it: the whole region lives until that read)."""
        for entry in reversed(self._held.get((part.tensor, part.space), [])):
            if contains(entry[0].box, part.box):
                return entry
        raise KeyError(f"{part} was never written whole by one op")

    def live(self) -> dict[str, list[int]]:
        """Per SRAM buffer, the bytes live in each stage, counted directly as the ops were
        built: each region lives from its writer's stage through its last reader's, or to the
        last stage when nothing reads it (the rule of `Schedule.lifetime`)."""
        end = max((op.stage for op in self.ops), default=0)
        size = self.widths.bytes
        return live_bytes(((r.space, size(r), first, end if last is None else last)
                           for r, first, last in self._lives), end + 1)

    def peaks(self) -> dict[str, int]:
        """Per SRAM buffer these ops use, the most bytes live in one stage."""
        return {space: max(per_stage) for space, per_stage in self.live().items()}

    def overflow(self, capacity: dict[str, int]) -> tuple[str, int, int, int] | None:
        """(buffer, bytes needed, bytes it holds, first stage at that peak) for the first SRAM
        buffer that these ops' live regions exceed, None when all fit."""
        return _first_over(self.live(), capacity)

    def load(self, name: str, stage: int, region: Region, space: str, tile: int | None = None) -> Region:
        held = region.moved(space)
        self.op(name, "load", stage, [region.moved(DRAM)], [held], tile=tile)
        return held

    def store(self, name: str, stage: int, region: Region, dep: str, tile: int | None = None) -> None:
        self.op(name, "store", stage, [region], [region.moved(DRAM)], [dep], tile=tile)


def _first_over(live: dict[str, list[int]], capacity: dict[str, int]) -> tuple[str, int, int, int] | None:
    """(buffer, peak bytes, capacity, first stage at the peak) of the first buffer (in `live`'s
    order) whose peak exceeds its capacity, from per-stage live bytes (`live_bytes`)."""
    for space, per_stage in live.items():
        need, have = max(per_stage), capacity.get(space)
        if have is not None and need > have:
            return space, need, have, per_stage.index(need)
    return None
