"""Size limits, checked before anything is built: a schedule's ops (worked out from the
workload's shapes and the SRAM buffers, before tiling) and the memory of the functional
check (from the tensors' elements, before any array is allocated). Each limit has a default
and an option that raises it; over one, a LimitError says what is too big and by how much.

Ops: a tile's output sits in the ofmap buffer (a concat's part in the ifmap buffer) and a
filter chunk's weights in the weight buffer (every schedule kind, every layer), so an op computes
in at least
max(ceil(output bytes / ofmap bytes), ceil(weight bytes / weight bytes), row parts fixed)
tiles, each one op of the schedule; loads and stores come on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from accelsim.dtypes import Widths
from accelsim.errors import LimitError
from accelsim.hw import Hardware
from accelsim.workload import Concat, Conv, Gemm, Op, Shuffle, Workload

MAX_OPS = 100_000
"""Default most ops of a schedule (ResNet-50 pipelined has 1,643 ops, 0.25 s to schedule and
run; in 56 row parts per layer, 9,010, 0.8 s; one 1,000,000 x 56 x 64 conv, 42,268 ops, 15 s)."""
MAX_FUNCTIONAL_BYTES = 4 * 2**30
"""Default most bytes the functional check may hold (4 GiB; ResNet-50 needs about 0.5 GiB)."""


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _elements(shape: tuple[int, ...]) -> int:
    out = 1
    for d in shape:
        out *= d
    return out


@dataclass(frozen=True)
class OpTiles:
    """The fewest tiles workload op `name` computes in, and what forces them."""

    name: str
    tiles: int
    why: str


def fewest_tiles(op: Op, workload: Workload, hw: Hardware, fixed: int | None = None,
                 widths: Widths | None = None) -> OpTiles:
    """The fewest tiles `op` can compute in on `hw`: its output over the ofmap buffer, its
    weights over the weight buffer, or the `fixed` row parts asked for (within its rows).
    Bytes per element as `widths` says (None: the hardware's `element_bytes`)."""
    eb = widths.of(op.output) if widths is not None else hw.element_bytes
    out = workload.tensors[op.output].shape
    ofmap, weight = hw.sram.ofmap.size_bytes, hw.sram.weight.size_bytes
    copy = isinstance(op, Concat | Shuffle)         # a DMA copy's parts pass through ifmap
    space = "ifmap" if copy else "ofmap"
    room = hw.sram.ifmap.size_bytes if copy else ofmap
    found = [OpTiles(op.name, _ceil(_elements(out) * eb, room),
                     f"{_elements(out) * eb:,} output bytes over the {room:,}-byte {space} buffer")]
    if isinstance(op, Conv | Gemm):
        w = (widths.count(op.weight, _elements(workload.tensors[op.weight].shape)) if widths is not None
             else _elements(workload.tensors[op.weight].shape) * hw.element_bytes)
        found.append(OpTiles(op.name, _ceil(w, weight), f"{w:,} weight bytes over the {weight:,}-byte "
                                                        "weight buffer"))
    if fixed is not None:
        found.append(OpTiles(op.name, min(fixed, out[1]), f"{min(fixed, out[1]):,} row parts asked for"))
    return max(found, key=lambda t: t.tiles)


def check_ops(workload: Workload, hw: Hardware, kind: str, max_ops: int, splits: int | None = None,
              parts: Mapping[str, int] | None = None, widths: Widths | None = None) -> None:
    """LimitError when the `kind` schedule of `workload` would have more than `max_ops` ops
    (at least one per tile of each op, `fewest_tiles`); `splits` and `parts` (by layer name,
    a fused layer named CONV+ADD) are the row parts asked for."""
    parts = parts or {}

    def fixed(op: Op) -> int | None:
        named = [n for layer, n in parts.items() if op.name in layer.split("+")]
        return max(named) if named else splits

    tiles = [fewest_tiles(op, workload, hw, fixed(op), widths) for op in workload.ops]
    least = sum(t.tiles for t in tiles)
    if least <= max_ops:
        return
    most = max(tiles, key=lambda t: t.tiles)
    raise LimitError(f"workload {workload.name!r}: the {kind} schedule would have at least {least:,} ops, "
                     f"{least / max_ops:,.1f}x the limit of {max_ops:,} (op {most.name!r} alone takes "
                     f"{most.tiles:,} tiles: {most.why}); raise the limit with --max-ops")


def check_schedule_ops(count: int, workload: str, kind: str, max_ops: int) -> None:
    """LimitError when a built schedule has more than `max_ops` ops (before it is run)."""
    if count > max_ops:
        raise LimitError(f"workload {workload!r}: the {kind} schedule has {count:,} ops, "
                         f"{count / max_ops:,.1f}x the limit of {max_ops:,}; raise the limit with --max-ops")


def functional_bytes(workload: Workload, dtype: str) -> int:
    """Bytes the functional check holds at most, estimated: every tensor three times (the
    random inputs, the reference, the simulated DRAM) at 4 bytes an element (an upper
    bound: the values are held in their datatype, but an integer draw passes through
    int32), plus the largest op's working arrays (its input and its output in the
    accumulator type: integers in int64, 8 bytes, the output four times (accumulator,
    requantizing product, quotient, remainder); floats in fp32, 4 bytes, the output twice)."""
    integer = dtype in ("int8", "int16")
    item, acc, outs = 4, 8 if integer else 4, 4 if integer else 2
    held = 3 * item * sum(_elements(t.shape) for t in workload.tensors.values())
    work = max((acc * (sum(_elements(workload.tensors[t].shape) for t in op.inputs)
                       + outs * _elements(workload.tensors[op.output].shape)) for op in workload.ops),
               default=0)
    return held + work


def check_functional(workload: Workload, dtype: str, max_bytes: int) -> None:
    """LimitError when the functional check of `workload` would hold more than `max_bytes`."""
    need = functional_bytes(workload, dtype)
    if need > max_bytes:
        raise LimitError(f"workload {workload.name!r}: the functional check ({dtype}) would need about "
                         f"{need:,} bytes of memory, {need / max_bytes:,.1f}x the limit of {max_bytes:,}; "
                         "raise the limit with --max-functional-bytes")

MAX_SWEEP_POINTS = 100_000
"""Most points a sweep's grid may have (the product of its axes' lengths, before `where`
filters any): a ResNet-50 point takes about 0.25 s, so 100,000 are about 7 CPU-hours."""
MAX_WHERE_CHARS = 1_000
"""Longest `where` expression of a sweep file, characters."""
MAX_WHERE_DEPTH = 50
"""Deepest `where` expression: nested parentheses, operators and calls, levels."""
MAX_WHERE_BITS = 1_024
"""Largest whole number a `where` expression may compute (or write), bits; and the largest
exponent of `**`."""
