"""Functional execution: run a schedule on real tensors with numpy and compare the result
with a whole-tensor reference.

Every op computes exactly its region from the data it reads: a load copies a
DRAM box into SRAM, a conv tile convolves only the input rows it read (rows
it did not read count as zero), a store copies SRAM back to DRAM (into a concat output's
channel slice when its region lies there, `accelsim.layout`). SRAM is
modelled by byte range: a write evicts whatever it lands on (`Op.offsets`).
Ops run in stage order, issue order within a stage (an order the barriers
and dependencies allow).

Data types: `int8` draws inputs and weights from [-128, 127] and accumulates
in int32 (wrapping, as the hardware would), so the tiled result must equal
the reference bit for bit; `fp32` draws them from a standard normal (weights scaled by 1/sqrt(fan-in)) and
allows a difference of `RTOL * |expected| + ATOL * max|reference|`, because
tiles sum in a different order. A scale multiplies and adds per channel
(`x * a[c] + b[c]`, the rows of its weight: int8 values, or standard normals
unscaled) in int64 wrapped to int32 like an add, or in float32. Pools: max (padding never wins), or the mean
(for integers its floor) over the window's positions that count (`Pool`:
inside the input and its padding, or the input only without
`count_include_pad`; padding adds zero).

LRN and softmax compute in float64 from the values as they are (an int8 run's
integers taken at scale 1) and round the result: an LRN's to the nearest
integer (ties to even; its output keeps the input's scale), a softmax's
probabilities to int8 at scale 1/256, zero point -128 (TFLite's fixed int8
softmax output: `clip(rint(p * 256) - 128, -128, 127)`). Every output element is
computed from the same values in the same order whatever the tile, so int8
runs stay bit-exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.box import Box, fmt, intersect, uncovered
from accelsim.limits import MAX_FUNCTIONAL_BYTES, check_functional
from accelsim.options import DTYPES
from accelsim.placement import place
from accelsim.schedule import Schedule
from accelsim.schedule_file import producers
from accelsim.tiling import tile
from accelsim.workload import (
    Add,
    Concat,
    Gemm,
    Lrn,
    Pool,
    Scale,
    Shuffle,
    Softmax,
    Workload,
    shuffle_channels,
)

RTOL, ATOL = 1e-4, 1e-5


def workload_inputs(workload: Workload) -> set[str]:
    """The graph's input activations (not weights, not computed)."""
    made = {op.output for op in workload.ops}
    return {t for op in workload.ops for t in op.inputs if t not in made}


def random_inputs(workload: Workload, dtype: str = "int8", seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded random graph inputs and weights (int8 values held as int32, or float32)."""
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}: expected one of {', '.join(DTYPES)}")
    rng = np.random.default_rng(seed)
    made = {op.output for op in workload.ops}
    unscaled = {op.weight for op in workload.ops if isinstance(op, Scale)} | workload_inputs(workload)
    out: dict[str, np.ndarray] = {}
    for name in sorted(workload.tensors):
        if name in made:
            continue
        shape = workload.tensors[name].shape
        if dtype == "int8":
            out[name] = rng.integers(-128, 128, size=shape, dtype=np.int32)
        else:                       # weights scaled by 1/sqrt(fan-in), so deep networks stay finite
            fan_in = int(np.prod(shape[1:])) if name not in unscaled else 1
            out[name] = rng.standard_normal(shape, dtype=np.float32) / np.float32(np.sqrt(fan_in))
    return out


def _finish(acc: np.ndarray, like: np.dtype, relu: bool) -> np.ndarray:
    out = acc.astype(like)                  # int64 -> int32 wraps like an int32 accumulator
    return np.maximum(out, 0) if relu else out


def conv_valid(x: np.ndarray, w: np.ndarray, stride: int, dilation: int, groups: int) -> np.ndarray:
    """Convolution without padding (`x` holds any padding already): x `[N, H, W, C]`,
    w `[Cout, kh, kw, C/groups]` -> `[N, Ho, Wo, Cout]`, accumulated in int64 or float32."""
    n, h, wd, _c = x.shape
    cout, kh, kw, cg = w.shape
    ho = (h - dilation * (kh - 1) - 1) // stride + 1
    wo = (wd - dilation * (kw - 1) - 1) // stride + 1
    acc_type = np.int64 if np.issubdtype(x.dtype, np.integer) else np.float32
    xa: np.ndarray = x.astype(acc_type)
    wa: np.ndarray = w.astype(acc_type)
    out: np.ndarray = np.zeros((n, ho, wo, cout), dtype=acc_type)
    og = cout // groups
    for i in range(kh):
        for j in range(kw):
            patch = xa[:, i * dilation: i * dilation + (ho - 1) * stride + 1: stride,
                       j * dilation: j * dilation + (wo - 1) * stride + 1: stride, :]
            tap = wa[:, i, j, :]
            if groups == 1:
                out += patch @ tap.T
            elif cg == 1 and og == 1:                       # depthwise
                out += patch * tap[:, 0]
            else:
                for g in range(groups):
                    outs, ins = slice(g * og, (g + 1) * og), slice(g * cg, (g + 1) * cg)
                    out[..., outs] += patch[..., ins] @ tap[outs].T
    return out


def pool_valid(x: np.ndarray, kind: str, kh: int, kw: int, stride: int,
               divisor: np.ndarray | None = None) -> np.ndarray:
    """Max or average pool without padding (`x` holds it already); an average divides by
    `divisor` (per output row and column, `[Ho, Wo, 1]`; kh x kw when None)."""
    _n, h, wd, _c = x.shape
    ho, wo = (h - kh) // stride + 1, (wd - kw) // stride + 1
    taps = [x[:, i: i + (ho - 1) * stride + 1: stride, j: j + (wo - 1) * stride + 1: stride, :]
            for i in range(kh) for j in range(kw)]
    if kind == "maxpool":
        return np.maximum.reduce(taps)
    if np.issubdtype(x.dtype, np.integer):
        return np.sum(np.stack(taps).astype(np.int64), axis=0) // (kh * kw if divisor is None else divisor)
    return np.sum(np.stack(taps), axis=0) / (np.float32(kh * kw) if divisor is None
                                             else divisor.astype(np.float32))


def pool_divisor(pool: Pool, out: Box, height: int, width: int) -> np.ndarray:
    """Per output row and column of box `out` of an avgpool (`[Ho, Wo, 1]`), the window
    positions its mean divides by: those inside the input and its padding, or inside the
    input only when the pool does not count padding (ceil_mode's overhang never counts)."""
    top, left, bottom, right = pool.padding
    pad = pool.counts_padding

    def counts(o0: int, o1: int, k: int, size: int, before: int, after: int) -> np.ndarray:
        lo, hi = (-before, size + after) if pad else (0, size)
        start = np.arange(o0, o1) * pool.stride - before
        return np.minimum(start + k, hi) - np.maximum(start, lo)
    rows = counts(out[0][1], out[1][1], pool.kh, height, top, bottom)
    cols = counts(out[0][2], out[1][2], pool.kw, width, left, right)
    return (rows[:, None] * cols[None, :])[:, :, None]


def lrn_values(x: np.ndarray, lrn: Lrn, have: tuple[int, int], want: tuple[int, int]) -> np.ndarray:
    """Output channels `want` of an LRN from `x` (`[..., C']`), which holds input channels
    `have` (the tile model's `lrn_channels`), in float64: each output channel c divides x[c] by
    `(bias + alpha / size * s)^beta`, s the sum of the squares of channels `c - floor((size -
    1) / 2)` through `c + ceil((size - 1) / 2)` (those outside the tensor add nothing),
    summed in window order."""
    lo, hi = (lrn.size - 1) // 2, lrn.size // 2
    (a, b), (c0, c1) = have, want
    xf = x.astype(np.float64)
    padded = np.pad(xf, [(0, 0)] * (x.ndim - 1) + [(a - (c0 - lo), (c1 + hi) - b)])
    squares = padded * padded
    total = np.zeros((*x.shape[:-1], c1 - c0))
    for d in range(lrn.size):
        total += squares[..., d: d + c1 - c0]
    return xf[..., c0 - a: c1 - a] / (lrn.bias + lrn.alpha / lrn.size * total) ** lrn.beta


def softmax_values(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in float64: `exp(x - max) / sum exp(x - max)`."""
    e = np.exp(x.astype(np.float64) - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _rounded(values: np.ndarray, like: np.dtype, softmax: bool) -> np.ndarray:
    """float64 LRN or softmax results as `like`: float32, or integers (module docstring)."""
    if not np.issubdtype(like, np.integer):
        return values.astype(like)
    if softmax:
        return np.clip(np.rint(values * 256) - 128, -128, 127).astype(like)
    info = np.iinfo(like)
    return np.clip(np.rint(values), info.min, info.max).astype(like)


def _pad_value(wop, dtype: np.dtype):
    if isinstance(wop, Pool) and wop.kind == "maxpool":
        return np.iinfo(dtype).min if np.issubdtype(dtype, np.integer) else -np.inf
    return 0


def compute(wop, out: Box, fetch, dtype: np.dtype, workload: Workload) -> np.ndarray:
    """The values (of `dtype`) of output box `out` of workload op `wop`; `fetch(tensor,
    box, fill)` returns the array of a box (positions it cannot supply hold `fill`), the
    boxes those of the tile model (a window's padded box, which reaches past the tensor)."""
    if isinstance(wop, Concat):
        return np.concatenate([fetch(t, box, 0) for t, box in tile(wop, out, workload).inputs], axis=-1)
    if isinstance(wop, Shuffle):
        (t, box), = tile(wop, out, workload).inputs
        return shuffle_channels(fetch(t, box, 0), wop.groups)[..., out[0][-1]:out[1][-1]]
    if isinstance(wop, Add):
        a, b = (fetch(t, out, 0) for t in wop.inputs)
        acc = a.astype(np.int64) + b if np.issubdtype(a.dtype, np.integer) else a + b
        return _finish(acc, a.dtype, wop.relu)
    need = tile(wop, out, workload)
    if isinstance(wop, Scale):
        assert need.weight is not None
        x, (a, b) = fetch(wop.input, out, 0), fetch(wop.weight, need.weight[1], 0)
        acc = x.astype(np.int64) * a + b if np.issubdtype(x.dtype, np.integer) else x * a + b
        return _finish(acc, x.dtype, wop.relu)
    if isinstance(wop, Lrn | Softmax):
        box = need.inputs[0][1]
        x = fetch(wop.input, box, 0)
        chans = (box[0][3], box[1][3])
        want = (out[0][3], out[1][3])
        if isinstance(wop, Lrn):
            return _rounded(lrn_values(x, wop, chans, want), x.dtype, False)
        return _rounded(softmax_values(x)[..., want[0] - chans[0]: want[1] - chans[0]], x.dtype, True)
    if isinstance(wop, Gemm):
        assert need.weight is not None
        x = fetch(wop.input, need.inputs[0][1], 0)
        w = fetch(wop.weight, need.weight[1], 0)
        acc_type = np.int64 if np.issubdtype(x.dtype, np.integer) else np.float32
        return _finish(x.astype(acc_type) @ w.astype(acc_type).T, x.dtype, wop.relu)
    assert need.padded is not None                              # a conv or pool window
    x = fetch(wop.input, need.padded, _pad_value(wop, dtype))
    if isinstance(wop, Pool):
        _, h, w, _ = workload.tensors[wop.input].shape
        divisor = pool_divisor(wop, out, h, w) if wop.kind == "avgpool" else None
        return _finish(pool_valid(x, wop.kind, wop.kh, wop.kw, wop.stride, divisor), x.dtype, False)
    c0, c1 = out[0][3], out[1][3]
    assert need.weight is not None
    w = fetch(wop.weight, need.weight[1], 0)
    groups = max(1, wop.groups * (c1 - c0) // wop.cout)
    return _finish(conv_valid(x, w, wop.stride, wop.dilation, groups), x.dtype, wop.relu)


def _full(shape) -> Box:
    return (0,) * len(shape), tuple(shape)


def reference(workload: Workload, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every tensor of the workload, each op computed on whole tensors."""
    values = dict(inputs)

    def fetch(tensor, box, fill):
        return _cut(values[tensor], box, fill)
    for wop in workload.ops:
        values[wop.output] = compute(wop, _full(workload.tensors[wop.output].shape), fetch,
                                     next(iter(inputs.values())).dtype, workload)
    return values


def _cut(array: np.ndarray, box: Box, fill) -> np.ndarray:
    """`array[box]`, with positions outside the array set to `fill`."""
    out = np.full(tuple(b - a for a, b in zip(*box, strict=True)), fill, dtype=array.dtype)
    inside = intersect(box, _full(array.shape))
    if inside is not None:
        out[tuple(slice(a - s, b - s) for a, b, s in zip(*inside, box[0], strict=True))] = \
            array[tuple(slice(a, b) for a, b in zip(*inside, strict=True))]
    return out


def _slices(box: Box, origin: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(a - o, b - o) for a, b, o in zip(*box, origin, strict=True))


@dataclass(frozen=True)
class Entry:
    """A region held in SRAM: its bytes `[start, end)`, the box and data, who wrote it."""

    start: int
    end: int
    tensor: str
    box: Box
    data: np.ndarray
    writer: str


@dataclass(frozen=True)
class FunctionalReport:
    """What functional execution found: `mismatches` is empty when the schedule computes
    the reference's values in every tensor it stores."""

    dtype: str
    seed: int
    tolerance: str
    compared: tuple[str, ...]
    mismatches: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches


class _Machine:
    def __init__(self, schedule: Schedule, workload: Workload, inputs: dict[str, np.ndarray]):
        self.s, self.wl = schedule, workload
        self.dram = {t: a.copy() for t, a in inputs.items()}
        self.sram: dict[str, list[Entry]] = {}
        # tensor -> (box, store op, the (box, computing op) it came from)
        self.stored: dict[str, list[tuple[Box, str, tuple[tuple[Box, str], ...]]]] = {}
        self.producers = producers(workload)
        self.notes: list[str] = []
        self.dtype = next(iter(inputs.values())).dtype

    def read_sram(self, op_id: str, tensor: str, box: Box, space: str,
                  fill) -> tuple[np.ndarray, list[tuple[Box, str]]]:
        out = np.full(tuple(b - a for a, b in zip(*box, strict=True)), fill, dtype=self.dtype)
        left, source = [box], []
        for e in reversed(self.sram.get(space, [])):
            if e.tensor != tensor or not left:
                continue
            common = intersect(box, e.box)
            if common is None:
                continue
            out[_slices(common, box[0])] = e.data[_slices(common, e.box[0])]
            left = [p for part in left for p in uncovered(part, [e.box])]
            source.append((common, e.writer))
        if left:
            self.notes.append(f"op {op_id} reads {tensor}{fmt(left[0])} from SRAM {space}, which does "
                              "not hold it (never written there, or overwritten)")
        return out, source

    def write_sram(self, space: str, start: int, tensor: str, box: Box, data: np.ndarray, writer: str):
        end = start + data.size * self.s.widths.of(tensor)
        kept = [e for e in self.sram.get(space, []) if e.end <= start or end <= e.start]
        self.sram[space] = [*kept, Entry(start, end, tensor, box, data, writer)]

    def run(self) -> None:
        order = sorted(range(len(self.s.ops)), key=lambda i: (self.s.ops[i].stage, i))
        for i in order:
            op = self.s.ops[i]
            offsets = iter(op.offsets)
            if op.kind == "load":
                src, dst = op.reads[0], op.writes[0]
                self.write_sram(dst.space, next(offsets), dst.tensor, dst.box,
                                _cut(self.dram_array(src.tensor), src.box, 0), op.id)
            elif op.kind == "store":
                src, dst = op.reads[0], op.writes[0]
                data, source = self.read_sram(op.id, src.tensor, src.box, src.space, 0)
                wop = self.producers.get(dst.tensor)
                if isinstance(wop, Shuffle) and src.tensor == wop.input:    # a shuffle's permuted store
                    data = shuffle_channels(data, wop.groups)
                self.dram_array(dst.tensor)[_slices(dst.box, (0,) * len(dst.box[0]))] = data
                self.stored.setdefault(dst.tensor, []).append((dst.box, op.id, tuple(source)))
            else:
                out = op.writes[0]

                def fetch(tensor, box, fill, op=op):
                    data = np.full(tuple(b - a for a, b in zip(*box, strict=True)), fill, self.dtype)
                    for r in op.reads:                 # what the op did not read is not its input
                        part = intersect(box, r.box) if r.tensor == tensor else None
                        if part is not None:
                            held, _ = self.read_sram(op.id, tensor, part, r.space, fill)
                            data[_slices(part, box[0])] = held
                    return data
                data = compute(self.producers[out.tensor], out.box, fetch, self.dtype, self.wl)
                self.write_sram(out.space, next(offsets), out.tensor, out.box, data, op.id)

    def dram_array(self, tensor: str) -> np.ndarray:
        if tensor not in self.dram:
            shape = self.wl.tensors[tensor].shape
            self.dram[tensor] = np.zeros(shape, dtype=self.dtype)
        return self.dram[tensor]


def execute(schedule: Schedule, workload: Workload, inputs: dict[str, np.ndarray],
            capacity: dict[str, int] | None = None) -> tuple[dict, dict, list[str]]:
    """Run the schedule on `inputs`: (DRAM tensors at the end, who stored each box, notes)."""
    if any(op.sram_writes() and not op.offsets for op in schedule.ops):
        schedule = place(schedule, capacity or {})
    m = _Machine(schedule, workload, inputs)
    m.run()
    return m.dram, m.stored, m.notes


def check(schedule: Schedule, workload: Workload, dtype: str = "int8", seed: int = 0,
          capacity: dict[str, int] | None = None,
          max_bytes: int = MAX_FUNCTIONAL_BYTES) -> FunctionalReport:
    """Execute `schedule` on seeded random inputs and compare every tensor it stores (and
    every graph output) with `reference`; the first wrong element of each is reported.
    A LimitError, before any array is made, when that would hold over `max_bytes`."""
    check_functional(workload, dtype, max_bytes)
    inputs = random_inputs(workload, dtype, seed)
    ref = reference(workload, inputs)
    dram, stored, notes = execute(schedule, workload, inputs, capacity)
    outputs = [op.output for op in workload.ops if not workload.consumers(op.output)]
    tensors = [op.output for op in workload.ops if op.output in stored or op.output in outputs]
    mismatches = list(notes)
    for tensor in tensors:
        got, want = dram.get(tensor), ref[tensor]
        written = np.zeros(want.shape, dtype=bool)
        for box, _, _ in stored.get(tensor, []):
            written[_slices(box, (0,) * want.ndim)] = True
        if dtype == "int8":
            good = got == want if got is not None else np.zeros(want.shape, dtype=bool)
        else:
            scale = float(np.max(np.abs(want))) if want.size else 0.0
            good = np.isclose(got, want, rtol=RTOL, atol=ATOL * max(scale, 1.0)) if got is not None \
                else np.zeros(want.shape, dtype=bool)
        good &= written
        if good.all():
            continue
        first = tuple(int(k) for k in np.argwhere(~good)[0])
        where = f"{tensor}[{', '.join(map(str, first))}]"
        if not written[first]:
            if tensor in outputs:
                mismatches.append(f"{where} is never stored to DRAM")
            elif (good | ~written).all():               # a computed tensor stored in part: fine
                continue
            else:
                first = tuple(int(k) for k in np.argwhere(~good & written)[0])
                where = f"{tensor}[{', '.join(map(str, first))}]"
        if got is None or not written[first]:
            continue
        box, store, sources = next((b, s, src) for b, s, src in reversed(stored[tensor])
                                   if all(a <= k < z for k, a, z in zip(first, *b, strict=True)))
        source = next((w for b, w in sources if all(a <= k < z for k, a, z in zip(first, *b, strict=True))),
                      "")
        mismatches.append(f"{tensor}{fmt(box)} stored by op {store} (computed by op {source or '?'}) "
                          f"differs from the reference: first at {where}, got {got[first]}, "
                          f"expected {want[first]}")
    tol = ("bit-exact (int8 inputs, int32 accumulation)" if dtype == "int8"
           else f"|got - expected| <= {RTOL} * |expected| + {ATOL} * max(1, max |reference|)")
    return FunctionalReport(dtype, seed, tol, tuple(tensors), tuple(mismatches))
