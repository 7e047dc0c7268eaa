"""Boxes of a tensor: `(start, stop)` per axis in elements, `[start, stop)`; set algebra on them."""

from __future__ import annotations

Box = tuple[tuple[int, ...], tuple[int, ...]]


def is_empty(box: Box) -> bool:
    return any(a >= b for a, b in zip(*box, strict=True))


def intersect(a: Box, b: Box) -> Box | None:
    """The common part of two boxes, or None."""
    start = tuple(map(max, a[0], b[0]))
    stop = tuple(map(min, a[1], b[1]))
    return None if any(x >= y for x, y in zip(start, stop, strict=True)) else (start, stop)


def subtract(box: Box, cut: Box) -> list[Box]:
    """`box` minus `cut`, as disjoint boxes (at most two per axis)."""
    if intersect(box, cut) is None:
        return [box]
    pieces = []
    start, stop = list(box[0]), list(box[1])
    for axis, (c0, c1) in enumerate(zip(*cut, strict=True)):
        if start[axis] < c0:                           # the slab below the cut on this axis
            hi = stop.copy()
            hi[axis] = c0
            pieces.append((tuple(start), tuple(hi)))
            start[axis] = c0
        if c1 < stop[axis]:                            # the slab above it
            lo = start.copy()
            lo[axis] = c1
            pieces.append((tuple(lo), tuple(stop)))
            stop[axis] = c1
    return pieces


def uncovered(box: Box, covers) -> list[Box]:
    """The parts of `box` that no box in `covers` contains."""
    left = [box]
    for cut in covers:
        left = [piece for part in left for piece in subtract(part, cut)]
        if not left:
            break
    return left


def volume(box: Box) -> int:
    n = 1
    for a, b in zip(*box, strict=True):
        n *= max(b - a, 0)
    return n


def fmt(box: Box) -> str:
    """`[a:b, c:d, ...]`, the way regions are written in schedule files."""
    return "[" + ", ".join(f"{a}:{b}" for a, b in zip(*box, strict=True)) + "]"
