"""Splitting a layer's output rows into parts (the input rows each part reads, halo
included, come from the tile model, `accelsim.tiling`), and finding the fewest parts that fit."""

from __future__ import annotations

from collections.abc import Callable

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


def fewest_finer(fits: Callable[[int], bool], most: int) -> int | None:
    """The fewest parts in 2..`most` that fit (None: not even `most`): doubling from 2 until
    one fits, then bisecting. From 2 parts on, the same number of tiles (or weight chunks)
    is in flight and none grows as the parts get finer, so more parts never stop fitting.
    (One part may fit where two do not: it is loaded once.) Tries about 2 log2(answer)."""
    if most < 2:
        return None
    lo, hi = 1, 2                           # lo does not fit (or is 1); is hi the first that does?
    while not fits(hi):
        if hi == most:
            return None
        lo, hi = hi, min(2 * hi, most)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            hi = mid
        else:
            lo = mid
    return hi
