"""Boxes of a tensor: `(start, stop)` per axis in elements, `[start, stop)`; set algebra on them."""

from __future__ import annotations

from collections.abc import Iterator
from operator import le, lt
from typing import Generic, TypeVar

Box = tuple[tuple[int, ...], tuple[int, ...]]
T = TypeVar("T")


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


def meets(a: Box, b: Box) -> bool:
    """Whether `a[0][k] < b[1][k]` and `b[0][k] < a[1][k]` on every axis k (for boxes that are
    not empty: whether they share an element; `Region.overlaps` is this test)."""
    return all(map(lt, a[0], b[1])) and all(map(lt, b[0], a[1]))


def contains(outer: Box, inner: Box) -> bool:
    """Whether `inner` is not empty and lies inside `outer` (so `subtract(inner, outer)` is [])."""
    return all(map(lt, inner[0], inner[1])) and all(map(le, outer[0], inner[0])) \
        and all(map(le, inner[1], outer[1]))


class BoxIndex(Generic[T]):
    """Boxes with a payload each, in the order added, found by `meets`.

    Every run of FANOUT**k consecutive boxes (k >= 1) that is complete keeps its
    bounding box, so `overlapping` skips whole runs that miss the query: a query
    costs about FANOUT * log(n) tests plus the boxes it yields, and adding a box
    costs O(1) amortized. Tiles of a schedule mostly advance along one axis, so
    runs of consecutive tiles have tight bounding boxes.
    """

    FANOUT = 16

    def __init__(self) -> None:
        self.payloads: list[T] = []
        self.boxes: list[Box] = []
        self.bounds: list[list[Box]] = []     # bounds[k][j]: of boxes [j, j + 1) * FANOUT**(k + 1)

    def __len__(self) -> int:
        return len(self.boxes)

    def add(self, payload: T, box: Box) -> None:
        self.payloads.append(payload)
        self.boxes.append(box)
        if len(self.boxes) % self.FANOUT == 0:
            self._seal()

    def _seal(self) -> None:
        """Bound the runs that the last box completed."""
        f, sealed, k = self.FANOUT, len(self.boxes), 0
        while sealed % f == 0:
            below = self.boxes[-f:] if k == 0 else self.bounds[k - 1][-f:]
            if k == len(self.bounds):
                self.bounds.append([])
            self.bounds[k].append((tuple(map(min, *(b[0] for b in below))),
                                   tuple(map(max, *(b[1] for b in below)))))
            sealed //= f
            k += 1

    def in_order(self, box: Box) -> list[tuple[T, Box]]:
        """Every (payload, box) that meets `box`, in the order added."""
        found = list(self.overlapping(box))
        found.reverse()
        return found

    def overlapping(self, box: Box, floor: int = 0) -> Iterator[tuple[T, Box]]:
        """The (payload, box) pairs added at position `floor` or later that meet `box`,
        latest first."""
        payloads, boxes, bounds, f = self.payloads, self.boxes, self.bounds, self.FANOUT
        sealed = len(bounds[0]) * f if bounds else 0
        for j in range(len(boxes) - 1, max(sealed, floor) - 1, -1):    # the newest, in no run yet
            if meets(boxes[j], box):
                yield payloads[j], boxes[j]
        todo = []                              # (level, lo, hi): runs of FANOUT**level boxes, hi first
        for k in range(len(bounds), 0, -1):
            above = len(bounds[k]) * f if k < len(bounds) else 0
            todo.append((k, max(above, floor // f ** k), len(bounds[k - 1])))
        while todo:
            k, lo, hi = todo.pop()
            if k == 0:
                for j in range(hi - 1, lo - 1, -1):
                    if meets(boxes[j], box):
                        yield payloads[j], boxes[j]
                continue
            level = bounds[k - 1]
            for j in range(hi - 1, lo - 1, -1):
                if meets(level[j], box):
                    todo.append((k, lo, j))
                    todo.append((k - 1, max(j * f, floor // f ** (k - 1)), j * f + f))
                    break
