"""Cycle formulas for each unit: pure functions, closed forms, integer cycles.

The systolic array counts the way SCALE-Sim's compute modules do (folds run
one after another, each padded to the whole array) but without SCALE-Sim's
final minus one: a fold of `T` streamed operands on an R x C array takes
`T + R + C - 2` cycles in OS and `T + 2R + C - 2` in WS and IS (the extra R
loads the stationary operand).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache


@dataclass(frozen=True)
class Gemm:
    """`groups` independent GEMMs, each (m x k) @ (k x n); sizes in elements."""

    m: int
    k: int
    n: int
    groups: int = 1

    @property
    def macs(self) -> int:
        return self.groups * self.m * self.k * self.n


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def fold_shape(gemm: Gemm, dataflow: str) -> tuple[int, int, int]:
    """(T, Sr, Sc): operands streamed per fold, and the extents mapped onto rows and cols."""
    m, k, n = gemm.m, gemm.k, gemm.n
    if dataflow == "os":
        return k, m, n
    if dataflow == "ws":
        return m, k, n
    if dataflow == "is":
        return n, k, m
    raise ValueError(f"unknown dataflow {dataflow!r}: expected 'os', 'ws' or 'is'")


def systolic_folds(gemm: Gemm, rows: int, cols: int, dataflow: str) -> int:
    """Number of array folds (per group): ceil(Sr / rows) * ceil(Sc / cols)."""
    _, sr, sc = fold_shape(gemm, dataflow)
    return ceil_div(sr, rows) * ceil_div(sc, cols)


def systolic_cycles(gemm: Gemm, rows: int, cols: int, dataflow: str, scalesim: bool = False) -> int:
    """Cycles for `gemm` on a rows x cols array: groups x folds x (T + fill + drain).

    With `scalesim`, the count SCALE-Sim 3.0.0 reports: one less per group (it
    reports the index of the last cycle, and runs each depthwise channel as a layer).
    """
    t, _, _ = fold_shape(gemm, dataflow)
    skew = rows + cols - 2 if dataflow == "os" else 2 * rows + cols - 2
    per_group = systolic_folds(gemm, rows, cols, dataflow) * (t + skew)
    return gemm.groups * (per_group - 1 if scalesim else per_group)


def add_cycles(elements: int, lanes: int, latency_cycles: int) -> int:
    """Cycles for an element-wise add: ceil(elements / lanes) + pipeline latency."""
    return ceil_div(elements, lanes) + latency_cycles


@lru_cache(maxsize=64)
def exact(value: float | Fraction) -> Fraction:
    """A rate as written in decimal (12.8 -> 64/5), not as its binary float."""
    return Fraction(str(value))


def stream_cycles(nbytes: int, bytes_per_cycle: float | Fraction) -> int:
    """Cycles to move `nbytes` through a port of `bytes_per_cycle`: ceil(bytes / bw)."""
    rate = exact(bytes_per_cycle)
    return ceil_div(nbytes * rate.denominator, rate.numerator)


def transfer_cycles(nbytes: int, bytes_per_cycle: float | Fraction, latency_cycles: int) -> int:
    """A lone DRAM transfer: latency + ceil(bytes / bandwidth)."""
    return latency_cycles + stream_cycles(nbytes, bytes_per_cycle)
