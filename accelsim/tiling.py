"""The one tile model: what computing one output box of a workload op takes.

Given a workload op and a box of its output (NHWC elements, `[start, stop)` per
axis), `tile` returns the box each input tensor must supply (for a conv or pool:
the window's halo rows and columns under stride, dilation and padding, from the
first row (column) of the tensor some window reads to the last, since padding is
never stored and under dilation the padding can cut a window between the rows it
reads; for a grouped conv: the input channels of the output channels' groups; for
an LRN: the channel halo of its window; for a softmax: every channel of the pixels; for a
concat: the channels of the box that fall in each input, in that input's own channels),
the weight box (for a scale: the output channels' columns of its `[2, C]`
constants), the GEMM the conv unit runs, and the bytes each moves. The
scheduler, the schedule-file reader, the validator, functional execution and the
views all ask it, so a halo is counted one way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.box import Box, volume
from accelsim.cost import Gemm
from accelsim.workload import Add, Concat, Conv, Lrn, Pool, Scale, Shuffle, Softmax, Workload
from accelsim.workload import Gemm as GemmOp
from accelsim.workload import Op as WorkloadOp


def window_padded(out_start: int, out_stop: int, k: int, stride: int, pad: int,
                  dilation: int = 1) -> tuple[int, int]:
    """Input positions `[start, stop)` that outputs `[out_start, out_stop)` of a sliding
    window read, before clipping: negative or past the end where they read padding."""
    return out_start * stride - pad, (out_stop - 1) * stride - pad + (k - 1) * dilation + 1


def window_span(out_start: int, out_stop: int, size: int, k: int, stride: int, pad: int,
                dilation: int = 1) -> tuple[int, int]:
    """Input positions `[start, stop)` inside `[0, size)` that outputs `[out_start, out_stop)`
    read: from the first position some window's tap reads to the last. Exact where the padding
    cuts the window under dilation or a stride longer than the window (a position in a gap
    between taps is not read, so it is no edge of the span); empty (start == stop) when those
    outputs read padding only."""
    padded = window_padded(out_start, out_stop, k, stride, pad, dilation)
    if padded[0] >= 0 and padded[1] <= size:           # nothing cut: the end taps are read
        return padded
    first, last = size, -1
    for j in range(k):                                 # tap j of output r reads r*stride + tap
        tap = j * dilation - pad
        lo = max(out_start, -(tap // stride))          # the first output whose tap j is >= 0
        hi = min(out_stop - 1, (size - 1 - tap) // stride)   # the last whose tap j is < size
        if lo <= hi:
            first, last = min(first, lo * stride + tap), max(last, hi * stride + tap)
    if last < 0:
        start = _clipped(padded, size)[0]
        return start, start
    return first, last + 1


def _clipped(span: tuple[int, int], size: int) -> tuple[int, int]:
    """`[start, stop)` cut to `[0, size)`; empty (start == stop) when nothing is left."""
    start = min(max(span[0], 0), size)
    return start, max(min(span[1], size), start)


def rows_read(op: Conv | Pool, out_start: int, out_stop: int, height: int) -> tuple[int, int]:
    """Input rows (halo included, clipped) that output rows `[out_start, out_stop)` of a conv
    or pool read."""
    return window_span(out_start, out_stop, height, op.kh, op.stride, op.padding[0],
                       getattr(op, "dilation", 1))


def cols_read(op: Conv | Pool, out_start: int, out_stop: int, width: int) -> tuple[int, int]:
    """Input columns (halo included, clipped) that output columns `[out_start, out_stop)` read."""
    return window_span(out_start, out_stop, width, op.kw, op.stride, op.padding[1],
                       getattr(op, "dilation", 1))


def lrn_channels(lrn: Lrn, c0: int, c1: int, channels: int) -> tuple[int, int]:
    """Input channels `[start, stop)` that output channels `[c0, c1)` of an LRN read: each
    output channel c sums the squares of channels `c - floor((size - 1) / 2)` through
    `c + ceil((size - 1) / 2)`, clipped to `[0, channels)`."""
    return max(0, c0 - (lrn.size - 1) // 2), min(channels, c1 + lrn.size // 2)


def conv_channels(conv: Conv, c0: int, c1: int) -> tuple[int, int]:
    """Input channels `[start, stop)` that output channels `[c0, c1)` of `conv` read: the whole
    groups they fall in (all channels when groups == 1)."""
    per_in, per_out = conv.cin // conv.groups, conv.cout // conv.groups
    return (c0 // per_out) * per_in, ((c1 - 1) // per_out + 1) * per_in


@dataclass(frozen=True)
class Tile:
    """What computing output box `out` of workload op `op` takes; boxes in elements.

    `inputs` holds, per input tensor in `op.inputs` order, the box it must supply
    (for a window op the tightest box of the tensor's positions its windows read; empty
    when the outputs read padding only); `padded` is a window op's
    input box before clipping (None for add and gemm); `weight` the weight tensor and
    box (conv, gemm, scale); `gemm` what the conv unit runs (conv, gemm); `window` the input
    elements reduced into each output (kh x kw for a pool, `size` for an LRN, 1 otherwise)."""

    op: WorkloadOp
    out: Box
    inputs: tuple[tuple[str, Box], ...]
    padded: Box | None = None
    weight: tuple[str, Box] | None = None
    gemm: Gemm | None = None
    window: int = 1

    def input_box(self, tensor: str) -> Box:
        return next(box for name, box in self.inputs if name == tensor)

    def input_bytes(self, element_bytes: int) -> int:
        """Bytes of every input box (weights not included)."""
        return sum(volume(box) for _, box in self.inputs) * element_bytes

    def weight_bytes(self, element_bytes: int) -> int:
        return volume(self.weight[1]) * element_bytes if self.weight else 0

    def output_bytes(self, element_bytes: int) -> int:
        return volume(self.out) * element_bytes


def gemm_of(op: Conv | GemmOp, out: Box, workload: Workload) -> Gemm:
    """The GEMM that computes output box `out` of a conv or gemm: M output positions, K
    inputs per output, N output channels (per group: a grouped conv's box of whole groups
    runs as that many GEMMs), carrying what the array skips of it (the op's `skip`)."""
    extents = [b - a for a, b in zip(*out, strict=True)]
    m = 1
    for e in extents[:-1]:
        m *= e
    chunk = extents[-1]
    if isinstance(op, GemmOp):
        return Gemm(m=m, k=workload.tensors[op.input].shape[-1], n=chunk, groups=1, skip=op.skip)
    per_group = op.cout // op.groups
    k = op.kh * op.kw * op.cin // op.groups
    if op.groups > 1 and chunk % per_group == 0:
        return Gemm(m=m, k=k, n=per_group, groups=chunk // per_group, skip=op.skip)
    return Gemm(m=m, k=k, n=chunk, groups=1, skip=op.skip)


def concat_parts(op: Concat, out: Box, workload: Workload) -> tuple[tuple[str, Box, int], ...]:
    """Per input of a concat, in order: (tensor, the box of it that output box `out` holds, in
    the input's own channels, and the output channel where that input starts); an input whose
    channels `out` does not reach has an empty box (no channels)."""
    (*lo, c0), (*hi, c1) = out
    found, at = [], 0
    for t in op.inputs:
        c = workload.tensors[t].shape[-1]
        a = min(max(c0 - at, 0), c)
        found.append((t, ((*lo, a), (*hi, max(min(c1 - at, c), a))), at))
        at += c
    return tuple(found)


def tile(op: WorkloadOp, out: Box, workload: Workload) -> Tile:
    """The tile of `op` that computes output box `out`."""
    if isinstance(op, Add):
        return Tile(op, out, tuple((t, out) for t in op.inputs))
    if isinstance(op, Concat):
        return Tile(op, out, tuple((t, box) for t, box, _ in concat_parts(op, out, workload)))
    if isinstance(op, Shuffle):                 # every channel of its pixels: a permutation
        (*lo, _), (*hi, _) = out
        return Tile(op, out, ((op.input, ((*lo, 0), (*hi, workload.tensors[op.input].shape[-1]))),))
    if isinstance(op, Scale):                   # its output box's channels of a and b
        c0, c1 = out[0][-1], out[1][-1]
        return Tile(op, out, ((op.input, out),), weight=(op.weight, ((0, c0), (2, c1))))
    shape = workload.tensors[op.input].shape
    if isinstance(op, Lrn | Softmax):
        (*lo, c0), (*hi, c1) = out
        ch = lrn_channels(op, c0, c1, shape[-1]) if isinstance(op, Lrn) else (0, shape[-1])
        return Tile(op, out, ((op.input, ((*lo, ch[0]), (*hi, ch[1]))),),
                    window=op.size if isinstance(op, Lrn) else 1)
    if isinstance(op, GemmOp):
        (*lo, f0), (*hi, f1) = out
        return Tile(op, out, ((op.input, ((*lo, 0), (*hi, shape[-1]))),),
                    weight=(op.weight, ((f0, 0), (f1, shape[-1]))), gemm=gemm_of(op, out, workload))
    (n0, h0, w0, c0), (n1, h1, w1, c1) = out
    dilation = op.dilation if isinstance(op, Conv) else 1
    ch = conv_channels(op, c0, c1) if isinstance(op, Conv) else (c0, c1)
    top, left = op.padding[:2]
    rows = window_padded(h0, h1, op.kh, op.stride, top, dilation)
    cols = window_padded(w0, w1, op.kw, op.stride, left, dilation)
    padded = (n0, rows[0], cols[0], ch[0]), (n1, rows[1], cols[1], ch[1])
    r = window_span(h0, h1, shape[1], op.kh, op.stride, top, dilation)
    c = window_span(w0, w1, shape[2], op.kw, op.stride, left, dilation)
    inputs = ((op.input, ((n0, r[0], c[0], ch[0]), (n1, r[1], c[1], ch[1]))),)
    if isinstance(op, Pool):
        return Tile(op, out, inputs, padded, window=op.kh * op.kw)
    weight = ((c0, 0, 0, 0), (c1, op.kh, op.kw, op.cin // op.groups))
    return Tile(op, out, inputs, padded, (op.weight, weight), gemm_of(op, out, workload))
