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


SCANNED = 64        # part counts tried one by one before the search doubles and bisects


def fewest_fitting(fits: Callable[[int], bool], most: int, start: int = 1) -> int | None:
    """The fewest parts in `start`..`most` that fit (None: none found). Fitting is not
    monotone in the part count (edge parts clip their halo, uneven parts pair differently in
    flight: 12 rows under a 7x7 window can fit in 3 and 5 parts but not in 4), so every count
    up to `SCANNED` is tried in turn; beyond it, doubling until one fits, then bisecting,
    which takes the fewest where fitting is monotone there (parts of a few rows, as then)."""
    for n in range(start, min(most, SCANNED) + 1):
        if fits(n):
            return n
    if most <= SCANNED:
        return None
    lo, hi = SCANNED, min(2 * SCANNED, most)        # lo does not fit; is hi the first that does?
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
