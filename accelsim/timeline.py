"""What plots and trace exports read off a Result: rows and lanes, stages, windows.

Every figure and trace is drawn from these, and they from the Result, so a
number means the same thing in the table, the picture and the trace.
"""

from __future__ import annotations

import bisect
import itertools
from fractions import Fraction

from accelsim.result import OpRecord, Result, Stage, union
from accelsim.units import DIAGRAM_ROWS, diagram_row

ROWS = DIAGRAM_ROWS


def row_of(record: OpRecord) -> str:
    """The pipeline-diagram row of an op: DMA in (loads), its unit (conv; add for adds and
    pools), DMA out (stores)."""
    return diagram_row(record.kind)


def label(record: OpRecord) -> str:
    """An op's short name: its id without its layer's prefix (conv1, add1, load_x2 ...)."""
    prefix = f"{record.layer}/"
    return record.id[len(prefix):] if record.layer and record.id.startswith(prefix) else record.id


def part(record: OpRecord) -> int | None:
    """The tile an op works on (None: shared, e.g. weights)."""
    return record.tile


def lanes(records: list[OpRecord] | tuple[OpRecord, ...]) -> dict[str, int]:
    """Op id -> lane (0, 1, ...) so ops on one lane never overlap: each op takes the lowest
    lane free at its start. Ops that run at once on a unit of k engines use at most k lanes."""
    free_at: list[int] = []
    out = {}
    for r in sorted(records, key=lambda r: (r.start, r.end, r.id)):
        lane = next((k for k, t in enumerate(free_at) if t <= r.start), len(free_at))
        if lane == len(free_at):
            free_at.append(r.end)
        else:
            free_at[lane] = r.end
        out[r.id] = lane
    return out


def stages(result: Result) -> list[Stage]:
    """The stages of a barrier-synced run, in order; [] for a run synced by data."""
    return result.stages()


def windows(total: int, count: int) -> list[tuple[int, int]]:
    """`count` (or fewer) equal windows `[a, b)` covering `[0, total)` in whole cycles."""
    width = max(1, -(-total // max(count, 1)))
    return [(a, min(a + width, total)) for a in range(0, total, width)]


def busy_fraction(result: Result, unit: str, spans: list[tuple[int, int]]) -> list[float]:
    """Per window, the fraction of its cycles in which `unit` has an op in progress."""
    merged = union((r.start, r.end) for r in result.ops if r.unit == unit)
    out, k = [], 0
    for a, b in spans:
        while k < len(merged) and merged[k][1] <= a:
            k += 1
        busy, j = 0, k
        while j < len(merged) and merged[j][0] < b:
            busy += min(b, merged[j][1]) - max(a, merged[j][0])
            j += 1
        out.append(busy / (b - a) if b > a else 0.0)
    return out


def sram_peaks(history: tuple[tuple[int, int], ...], spans: list[tuple[int, int]]) -> list[int]:
    """Per window, the most bytes held, from a buffer's (cycle, bytes) history."""
    out, k, level = [], 0, 0
    for a, b in spans:
        while k < len(history) and history[k][0] <= a:
            level = history[k][1]
            k += 1
        top = level
        while k < len(history) and history[k][0] < b:
            level = history[k][1]
            top = max(top, level)
            k += 1
        out.append(top)
    return out


def dram_bytes(result: Result, spans: list[tuple[int, int]]) -> list[Fraction]:
    """Per window, the bytes DRAM streamed in it (exact); they sum to read + write bytes.
    Each window is the difference of the bytes streamed up to its two ends, found by
    bisection among the changes (whose cycles never decrease)."""
    steps = [*result.dram_activity, (Fraction(max(result.total_cycles, 1)), Fraction(0))]
    times = [t for t, _ in steps]
    streamed = [Fraction(0)]                    # bytes streamed up to each change
    for (t0, rate), (t1, _) in itertools.pairwise(steps):
        streamed.append(streamed[-1] + (t1 - t0) * rate)

    def upto(t: int) -> Fraction:
        k = bisect.bisect_right(times, t) - 1
        if k < 0:
            return Fraction(0)
        if k == len(times) - 1:
            return streamed[k]
        return streamed[k] + (t - times[k]) * steps[k][1]
    return [upto(b) - upto(a) if b > a else Fraction(0) for a, b in spans]


def layer_spans(result: Result) -> list[tuple[str, int, int]]:
    """(layer, first start, last end) for each layer, in order of first start."""
    return [(d.name, d.start, d.end) for d in result.layers()]
