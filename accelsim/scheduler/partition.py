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


def fewest_fitting(fits: Callable[[int], bool], most: int, start: int = 1,
                   bound: Callable[[int], bool] | None = None) -> int | None:
    """The fewest parts in `start`..`most` that fit (None: none found). Fitting is not
    monotone in the part count (edge parts clip their halo, uneven parts pair differently in
    flight: 12 rows under a 7x7 window can fit in 3 and 5 parts but not in 4), so `SCANNED`
    counts are tried in turn; beyond them, doubling until one fits, then bisecting,
    which takes the fewest where fitting is monotone there (parts of a few rows, as then).
    `bound`: a cheap condition every fitting count meets, true for every count above one that
    meets it (one part's output fits its buffer); the counts below the fewest that meets it
    (found by bisection) are not tried."""
    if bound is not None:
        met = fewest_meeting(bound, start, most)
        if met is None:
            return None
        start = met
    last = min(most, SCANNED if start <= SCANNED else start + SCANNED - 1)
    for n in range(start, last + 1):
        if fits(n):
            return n
    if most <= last:
        return None
    lo, hi = last, min(2 * last, most)              # lo does not fit; is hi the first that does?
    while not fits(hi):
        if hi == most:
            return None
        lo, hi = hi, min(2 * hi, most)
    return _bisect(fits, lo, hi)


def fewest_meeting(bound: Callable[[int], bool], start: int, most: int) -> int | None:
    """The fewest count in `start`..`most` that meets `bound` (monotone: once met, met for
    every count above), by bisection; None when not even `most` does."""
    if start > most or not bound(most):
        return None
    return _bisect(bound, start - 1, most)


def _bisect(meets: Callable[[int], bool], lo: int, hi: int) -> int:
    """The fewest count in `lo+1`..`hi` that `meets`, given that `hi` does and `lo` does not
    (or is below the range), assuming it monotone there."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if meets(mid):
            hi = mid
        else:
            lo = mid
    return hi
