"""Cycle formulas for each unit: pure functions, closed forms, integer cycles.

The systolic array maps a GEMM as SCALE-Sim's compute modules do: per
dataflow, `T` operands stream through each fold and the other two extents are
folded onto the R x C array (`fold_shape`). How folds follow one another is
the `folds` convention of `systolic_cycles`:

- "serialized": each fold fills and drains the whole array before the next
  starts: `T + R + C - 2` cycles per fold in OS, `T + 2R + C - 2` in WS and IS
  (R more to load the stationary operand). SCALE-Sim's model.
- "scalesim": "serialized" minus one per layer, what SCALE-Sim 3.0.0 reports.
- "overlapped": folds follow one another as closely as the array allows, so
  fill and drain are paid once per GEMM: `L + T + R + C - 2 + (folds - 1) *
  max(T, R)`, L = 0 in OS and R in WS and IS (the first fold's stationary
  operand loads first). A fold streams for T cycles, and a next fold cannot
  start less than R cycles after the last: in WS and IS that is the R-cycle
  load of its stationary operand into the double-buffered (shadow) registers;
  in OS it is the drain, each column's R outputs of a fold leaving on one
  output bus, one per cycle.

Both conventions are the cycle counts of the register-level model in
`accelsim.reference.systolic` (tests/reference/test_systolic.py), which also
says where a count starts and ends.
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
    skip: Skip | None = None        # what the array skips of K (None: nothing; `skipped`)

    @property
    def macs(self) -> int:
        """Its multiply-accumulates, dense: what the layer computes (`skipped(g).macs`: what
        the array performs)."""
        return self.groups * self.m * self.k * self.n


@dataclass(frozen=True)
class Skip:
    """What the array skips of a GEMM's reduction K: it multiplies `n` of every `m` weights
    (N:M structured sparsity; n == m: every one), and streams only the nonzero fraction
    `density` of the activations (zero-skipping; 1.0: every one)."""

    n: int = 1
    m: int = 1
    density: float = 1.0


def skipped(gemm: Gemm) -> Gemm:
    """The GEMM the array runs for `gemm` (itself without a skip): K kept = ceil(K / M) x N
    (N of each group of M, the last group padded), then K' = ceil(K kept x density), the
    zero-free activation stream of Cnvlutin (Albericio et al., ISCA 2016) under perfect load
    balance: a lower bound (docs/model.md, "Sparsity"). M, N and the groups are unchanged."""
    s = gemm.skip
    if s is None:
        return gemm
    k = min(gemm.k, ceil_div(gemm.k, s.m) * s.n)
    if s.density != 1.0:
        d = exact(s.density)
        k = ceil_div(k * d.numerator, d.denominator)
    return Gemm(gemm.m, k, gemm.n, gemm.groups)


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


def packed(gemm: Gemm, macs_per_pe: int) -> Gemm:
    """The GEMM as an array of PEs that each sum `macs_per_pe` products per cycle sees it
    (DP4A-style packing: consecutive elements of the reduction K go to one PE together):
    K becomes ceil(K / macs_per_pe); M, N and the groups are unchanged. The products a PE
    packs are those the array does not skip (`skipped`, applied first)."""
    gemm = skipped(gemm)
    if macs_per_pe == 1:
        return gemm
    return Gemm(gemm.m, ceil_div(gemm.k, macs_per_pe), gemm.n, gemm.groups)


def systolic_folds(gemm: Gemm, rows: int, cols: int, dataflow: str) -> int:
    """Number of array folds (per group): ceil(Sr / rows) * ceil(Sc / cols)."""
    _, sr, sc = fold_shape(gemm, dataflow)
    return ceil_div(sr, rows) * ceil_div(sc, cols)


FOLD_CONVENTIONS = ("overlapped", "serialized", "scalesim")


def systolic_cycles(gemm: Gemm, rows: int, cols: int, dataflow: str, folds: str = "overlapped") -> int:
    """Cycles for `gemm` (all its groups) on a rows x cols array, folds as `folds` says.

    "scalesim" also runs each group as its own layer, as SCALE-Sim runs each channel
    of a depthwise layer, so it subtracts one per group.
    """
    t, _, _ = fold_shape(gemm, dataflow)
    n = systolic_folds(gemm, rows, cols, dataflow)
    fill = rows + cols - 2
    if folds == "overlapped":
        load = 0 if dataflow == "os" else rows
        return load + t + fill + (gemm.groups * n - 1) * max(t, rows)
    per_fold = t + fill if dataflow == "os" else t + rows + fill
    if folds == "serialized":
        return gemm.groups * n * per_fold
    if folds == "scalesim":
        return gemm.groups * (n * per_fold - 1)
    raise ValueError(f"unknown fold convention {folds!r}: expected one of {', '.join(FOLD_CONVENTIONS)}")


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
