"""Splitting a layer's output rows into parts (the input rows each part reads, halo
included, come from the tile model, `accelsim.tiling`)."""

from __future__ import annotations

from accelsim.errors import ScheduleError


def split_rows(rows: int, parts: int) -> list[tuple[int, int]]:
    """`[start, stop)` of `parts` contiguous row ranges covering `rows`.

    Sizes differ by at most one, larger parts first (10 rows in 4 parts: 3, 3, 2, 2).
    """
    if parts < 1:
        raise ScheduleError(f"splits must be >= 1, got {parts}")
    if parts > rows:
        raise ScheduleError(f"splits={parts} is more than the {rows} output rows to split")
    base, extra = divmod(rows, parts)
    bounds, start = [], 0
    for i in range(parts):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds
