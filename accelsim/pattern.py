"""N:M structured weight sparsity: the pattern, and the bytes of a weight stored compressed.

Of every M consecutive weights along a filter's reduction K (the `[kh, kw, Cin/groups]`
elements of one output channel, flattened in that order), at most N are nonzero. A weight
stored compressed keeps, per filter, ceil(K / M) groups of N values at the element width
and, per kept value, its index in its group in ceil(log2 M) bits (NVIDIA's 2:4 sparse
tensor cores store 2-bit indices, Mishra et al., "Accelerating Sparse Deep Neural
Networks", arXiv:2104.08378, 2021).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

MOST_M = 16
"""The largest group M a pattern may have (a power of two)."""


@dataclass(frozen=True)
class Pattern:
    """N of every M consecutive weights kept (0 < n < m, m a power of two <= MOST_M)."""

    n: int
    m: int

    def __str__(self) -> str:
        return f"{self.n}:{self.m}"

    @property
    def index_bits(self) -> int:
        """Bits of one kept value's index in its group: ceil(log2 M)."""
        return (self.m - 1).bit_length()

    def filter_bytes(self, k: int, width: int) -> int:
        """Bytes of one filter of `k` weights stored compressed, `width` bytes per value:
        ceil(K/M) x N values plus ceil(ceil(K/M) x N x bits / 8) index bytes."""
        kept = -(-k // self.m) * self.n
        return kept * width + -(-kept * self.index_bits // 8)


def parse_pattern(text: object) -> Pattern:
    """The pattern "N:M" names; ValueError saying what was expected."""
    if not isinstance(text, str):
        raise ValueError(f"expected a pattern N:M such as \"2:4\" (quoted), got {text!r}")
    n, sep, m = text.partition(":")
    if not sep or not n.isascii() or not n.isdigit() or not m.isascii() or not m.isdigit():
        raise ValueError(f"expected a pattern N:M such as \"2:4\", got {text!r}")
    p = Pattern(int(n), int(m))
    if not 0 < p.n < p.m:
        raise ValueError(f"pattern {text!r}: N must be at least 1 and less than M (N of every M kept)")
    if p.m > MOST_M or p.m & (p.m - 1):
        raise ValueError(f"pattern {text!r}: M must be a power of two, at most {MOST_M}")
    return p


def _checked(text: str) -> str:
    parse_pattern(text)
    return text


def _unquoted(value: object) -> object:
    """An unquoted 2:4 in YAML 1.1 is the base-60 integer 124: say so, not just "a string"."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 60:
        raise ValueError(f"expected a pattern N:M such as \"2:4\", quoted: YAML reads an unquoted "
                         f"{value // 60}:{value % 60} as the base-60 number {value}")
    return value


PatternText = Annotated[str, Field(strict=True), BeforeValidator(_unquoted), AfterValidator(_checked)]
"""A pattern "N:M" as a YAML key holds it, checked (`parse_pattern`'s message when not)."""
