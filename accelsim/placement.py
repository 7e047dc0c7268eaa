"""Placing SRAM tiles: a byte offset in its buffer for every region an op writes to SRAM.

A region is live from its writer's stage through its last reader's stage
(to the end of the schedule when nothing reads it); two regions whose live
stages meet never share bytes. Regions are placed in order of first stage,
each at one end of a free gap (see `_offset`). With barriers
this is safe: a region whose life ends in stage s is read out before any op
of a later stage writes over it.
"""

from __future__ import annotations

import dataclasses

from accelsim.dtypes import Widths
from accelsim.schedule import Op, Schedule


def lifetimes(schedule: Schedule) -> dict[tuple[int, int], tuple[int, int]]:
    """(op index, SRAM write number) -> (first stage, last stage) the region is live."""
    ops = schedule.ops
    return {(writer, ops[writer].sram_writes().index(region)): span
            for (writer, region), span in schedule.lifetimes().items()}


def _largest_gap(spans: list[tuple[int, int]], capacity: int) -> int:
    """The longest free run of bytes below `capacity` between `spans` (start, end)."""
    best, at = 0, 0
    for start, end in sorted(spans):
        best = max(best, min(start, capacity) - at)
        at = max(at, end)
    return max(best, capacity - at)


def _offset(taken: list[tuple[int, int, int]], size: int, first: int, capacity: int) -> int:
    """Where a region of `size` bytes live from stage `first` goes, among the `taken`
    (offset, end, last stage) spans: of the free gaps' bottom and top ends that keep it
    inside `capacity`, the one that leaves the longest free run for the next stage (so
    ping-pong tiles take opposite ends); past the last span when nothing fits."""
    spans = sorted((start, end) for start, end, _ in taken)
    candidates, at = [], 0
    for start, end in [*spans, (capacity, capacity)]:
        if start - at >= size:
            candidates += [at, min(start, capacity) - size]
        at = max(at, end)
    if not candidates:
        return at
    staying = [(start, end) for start, end, last in taken if last > first]
    return max(candidates, key=lambda c: (_largest_gap([*staying, (c, c + size)], capacity), -c))


def place(schedule: Schedule, capacity: dict[str, int]) -> Schedule:
    """The schedule with `Op.offsets` filled in (bytes, each region's as `Schedule.widths`
    says), per buffer of `capacity` bytes."""
    ops = schedule.ops
    life = lifetimes(schedule)
    live: dict[str, list[tuple[int, int, int]]] = {}       # buffer -> (offset, end, last stage)
    offsets: dict[tuple[int, int], int] = {}
    for key in sorted(life, key=lambda k: (life[k][0], k)):
        first, last = life[key]
        region = ops[key[0]].sram_writes()[key[1]]
        size = schedule.widths.bytes(region)
        taken = [a for a in live.get(region.space, ()) if a[2] >= first]
        at = _offset(taken, size, first, capacity.get(region.space, 0))
        offsets[key] = at
        live[region.space] = [*taken, (at, at + size, last)]
    placed = tuple(
        dataclasses.replace(op, offsets=tuple(offsets[(i, k)] for k in range(len(op.sram_writes()))))
        for i, op in enumerate(ops))
    return dataclasses.replace(schedule, ops=placed)


def places_within(ops: tuple[Op, ...], widths: Widths, capacity: dict[str, int]) -> bool:
    """Whether `place` puts every SRAM write of `ops` (in stage order, as a schedule holds
    them) inside its buffer: live bytes that fit can still be split into gaps too small."""
    placed = place(Schedule("fit", "fit", None, tuple(sorted(ops, key=lambda op: op.stage)), widths=widths),
                   capacity)
    return all(at + widths.bytes(region) <= capacity[region.space]
               for op in placed.ops for region, at in zip(op.sram_writes(), op.offsets, strict=True))
