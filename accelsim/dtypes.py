"""Datatypes: what a tensor's elements are, how many bytes each takes, and the accumulator.

A run has one datatype for its activations and weights (`--dtype`, else the workload's,
else the hardware's `dtype`, else the one `element_bytes` names). A workload may give a
tensor its own `dtype`. The conv unit accumulates in the datatype's accumulator (int32
for the integer types, fp32 for the float ones; the hardware's `arithmetic` table may
say otherwise); a fused ConvAdd's conv output stays in SRAM at accumulator width until
the add unit requantizes it. `Widths` is the one answer to "how many bytes is this
region": every pass that counts bytes (tiling, SRAM fit, DMA, energy) asks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from accelsim.pattern import Pattern

Dtype = Literal["int8", "int16", "fp16", "bf16", "fp32"]
Accumulator = Literal["int32", "fp32"]

DTYPE_BYTES: MappingProxyType[str, int] = MappingProxyType(
    {"int8": 1, "int16": 2, "fp16": 2, "bf16": 2, "fp32": 4})
"""Bytes per element of each datatype."""
DTYPES: tuple[str, ...] = tuple(DTYPE_BYTES)
ACCUMULATOR_BYTES: MappingProxyType[str, int] = MappingProxyType({"int32": 4, "fp32": 4})
DEFAULT_ACCUMULATOR: MappingProxyType[str, str] = MappingProxyType(
    {"int8": "int32", "int16": "int32", "fp16": "fp32", "bf16": "fp32", "fp32": "fp32"})
BY_ELEMENT_BYTES: MappingProxyType[int, str] = MappingProxyType({1: "int8", 2: "fp16", 4: "fp32"})
"""The datatype an old config's `element_bytes` stands for."""


@dataclass(frozen=True)
class Widths:
    """Bytes per element of a run's tensors: `default` for every tensor but those listed in
    `tensors` ((name, bytes) pairs: a tensor with its own datatype, a fused conv output at
    accumulator width). `sparse` lists the weights stored N:M compressed, (name, N, M, K)
    with K the elements of one filter: a region of one (always whole filters) takes
    `Pattern.filter_bytes` per filter, values at the tensor's width plus their indices."""

    default: int
    tensors: tuple[tuple[str, int], ...] = ()
    sparse: tuple[tuple[str, int, int, int], ...] = ()
    _of: dict[str, int] = field(init=False, repr=False, compare=False, hash=False)
    _sparse: dict[str, tuple[Pattern, int]] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tensors", tuple(sorted(self.tensors)))
        object.__setattr__(self, "sparse", tuple(sorted(self.sparse)))
        object.__setattr__(self, "_of", dict(self.tensors))
        object.__setattr__(self, "_sparse", {t: (Pattern(n, m), k) for t, n, m, k in self.sparse})

    def of(self, tensor: str) -> int:
        """Bytes per element of `tensor` (of its values, when stored compressed)."""
        return self._of.get(tensor, self.default)

    def bytes(self, region) -> int:
        """Bytes of a region (anything with `tensor` and `elements`)."""
        return self.count(region.tensor, region.elements)

    def count(self, tensor: str, elements: int) -> int:
        """Bytes of `elements` elements of `tensor` (whole filters of a compressed weight)."""
        width = self._of.get(tensor, self.default)
        if not self._sparse or tensor not in self._sparse:
            return elements * width
        pattern, k = self._sparse[tensor]
        return elements // k * pattern.filter_bytes(k, width)

    @property
    def odd(self) -> frozenset[str]:
        """The tensors whose bytes are not `default` per element."""
        return frozenset([t for t, b in self.tensors if b != self.default] + list(self._sparse))

    def only(self, names) -> tuple[int, ...]:
        """The widths of `names`, in order (what a layer's ops depend on)."""
        return tuple(self._of.get(t, self.default) for t in names)

    def without(self, *tensors: str) -> Widths:
        """These widths with `tensors` at the default."""
        if not any(t in self._of for t in tensors):
            return self
        return Widths(self.default, tuple((t, b) for t, b in self.tensors if t not in tensors), self.sparse)

    def plus(self, pairs) -> Widths:
        """These widths with the (tensor, bytes) `pairs` added (a pair at the default is left out)."""
        return Widths(self.default, self.tensors + tuple((t, b) for t, b in pairs if b != self.default),
                      self.sparse)


def run_widths(dtype: str, tensor_dtypes: dict[str, str], accumulator: str,
               held: tuple[str, ...] = (), sparse: tuple[tuple[str, int, int, int], ...] = ()) -> Widths:
    """The widths of a run in `dtype`: each tensor in `tensor_dtypes` at its own datatype's
    (unless that is the run's), and each of `held` (a fused conv's output, kept in SRAM for the
    add) at the `accumulator`'s; `sparse`: the weights stored compressed (`Widths.sparse`)."""
    default = DTYPE_BYTES[dtype]
    own = {t: DTYPE_BYTES[d] for t, d in tensor_dtypes.items() if DTYPE_BYTES[d] != default}
    own.update({t: ACCUMULATOR_BYTES[accumulator] for t in held})
    return Widths(default, tuple((t, b) for t, b in own.items() if b != default), sparse)


ONE_BYTE = Widths(1)
"""Every tensor one byte per element (int8)."""
