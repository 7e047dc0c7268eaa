"""Functional execution: run a schedule on real tensors with numpy and compare the result
with a whole-tensor reference.

Every op computes exactly its region from the data it reads: a load copies a
DRAM box into SRAM, a conv tile convolves only the input rows it read (rows
it did not read count as zero), a store copies SRAM back to DRAM (into a concat output's
channel slice when its region lies there, `accelsim.layout`). SRAM is
modelled by byte range: a write evicts whatever it lands on (`Op.offsets`).
Ops run in stage order, issue order within a stage (an order the barriers
and dependencies allow).

Datatypes (`accelsim.dtypes.DTYPES`), each held in its own numpy type (bf16 as
`ml_dtypes.bfloat16`, the optional extra `accelsim[dtypes]`):

Integers, int8 and int16 (B = 8 or 16 bits), bit-exact: inputs and weights are drawn
from the whole range [-2^(B-1), 2^(B-1) - 1]. A conv or gemm multiplies and accumulates
exactly in int64; an int8 sum is then wrapped to int32 (the accumulator, as the hardware
would; it cannot wrap below a fan-in of 2^17), an int16 sum is kept in int64 (int16
products reach 2^30, so int32 would wrap from a fan-in of 2: the functional model
assumes an accumulator wide enough, exact up to a fan-in of 2^18). Every conv and gemm
output is then **requantized** per output channel c: `q = saturate(round(acc * M[c] /
2^S[c]))`, the product taken in int64 and divided by 2^S[c] exactly in integers, then
clamped to the datatype's range; then the optional ReLU. M in [2^14, 2^15) and S (from
the fan-in, so that outputs spread over the range) are drawn per conv with its weights
(`random_inputs`, `requant_constants`); they are functional-only constants, not tensors
of the workload, so the timing model moves none of their bytes. **Rounding**: every
integer rounding is to the nearest integer, **ties to even** (`round_half_even`, in
integers: floor, remainder, up when the remainder is over half or exactly half with an
odd floor). An add is a saturating add of its two inputs (clamped to the range), then
the optional ReLU; so an int8 ConvAdd is an int32 conv, a per-channel requantization to
int8, a saturating add of the int8 residual and the optional ReLU. A scale `x * a[c] +
b[c]` takes a[c] as a fixed-point multiplier of B-1 fraction bits (a / 128 for int8) and
b[c] as an offset: `saturate(round(x * a[c] / 2^(B-1)) + b[c])`, then ReLU. Pools: max
(padding never wins), or the mean over the window's positions that count (`Pool`: inside
the input and its padding, or the input only without `count_include_pad`; padding adds
zero), rounded (ties to even); a mean lies within its inputs' range, so needs no clamp.
LRN and softmax compute in float64 from the integers (scale 1) and round to the nearest
integer (ties to even), clamped to the range: an LRN's output keeps its input's scale; a
softmax's probabilities go to scale 1/2^B, zero point -2^(B-1) (TFLite's fixed int8
softmax output: `clip(rint(p * 256) - 128, -128, 127)`). Requantization, saturation and
rounding are per element, and each element's accumulator sums the same products whatever
the tile, so a tiled run equals the reference bit for bit.

Floats: inputs are standard normals, weights scaled by 1/sqrt(fan-in), each rounded to
the datatype. fp32 computes in fp32; fp16 and bf16 compute every op in fp32 (a conv or
gemm accumulates in fp32, the accumulator) and round its output to the datatype once.
Tiles may add a sum's terms in another order than the whole tensor does, so results are
compared within a tolerance relative to the reference's magnitude: fp32 allows
`RTOL * |expected| + ATOL * max(1, max|reference|)`. fp16 and bf16 allow `eps * |expected|
+ r * eps * max|reference|` (`tolerance`), eps the format's machine epsilon (2^-10 for
fp16's 11-bit significand, 2^-7 for bf16's 8-bit one) and r the number of roundings to
the datatype on the tensor's longest path from the graph inputs (`rounding_depth`; a
concat or shuffle copies, rounding nothing). Why: both runs compute each op the same way
except for the fp32 order, whose difference (about 2^-24 of the terms) moves a rounding
to the datatype by at most one unit in the last place, at most eps * |value|; the
tensor's own rounding gives the first term, and each rounding before it a difference of
at most eps times the magnitude it rounded, which later ops (weights of rms
1/sqrt(fan-in), gain about 1) carry at about its size: a first-order model, not a proof.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from accelsim.box import Box, fmt, intersect, uncovered
from accelsim.dtypes import DTYPES
from accelsim.errors import ConfigError
from accelsim.limits import MAX_FUNCTIONAL_BYTES, check_functional
from accelsim.pattern import Pattern, parse_pattern
from accelsim.placement import place
from accelsim.schedule import Schedule
from accelsim.schedule_file import producers
from accelsim.tiling import tile
from accelsim.winograd import POINTS, TILE_IN, TILE_OUT, WinogradLayout
from accelsim.winograd_exec import products, transform_input, transform_output, transform_weights
from accelsim.workload import (
    Add,
    Concat,
    Conv,
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
EPSILON = {"fp16": 2.0 ** -10, "bf16": 2.0 ** -7}
"""Machine epsilon (the spacing of the values at 1) of fp16 and bf16: 2^(1 - significand bits)."""
MULTIPLIER_BITS = 15
"""A requantization multiplier M lies in [2^14, 2^15)."""


def numpy_dtype(dtype: str) -> np.dtype:
    """The numpy type functional execution holds datatype `dtype` in; bf16 needs ml_dtypes."""
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}: expected one of {', '.join(DTYPES)}")
    if dtype == "bf16":
        try:
            import ml_dtypes
        except ImportError:
            raise ConfigError("functional bf16 needs the ml_dtypes package: "
                              "pip install 'accelsim[dtypes]'") from None
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype({"int8": np.int8, "int16": np.int16, "fp16": np.float16, "fp32": np.float32}[dtype])


def _integer(like: np.dtype) -> bool:
    return np.issubdtype(like, np.integer)


def _bits(like: np.dtype) -> int:
    return np.iinfo(like).bits


def workload_inputs(workload: Workload) -> set[str]:
    """The graph's input activations (not weights, not computed)."""
    made = {op.output for op in workload.ops}
    return {t for op in workload.ops for t in op.inputs if t not in made}


def requant_key(op: Conv | Gemm) -> str:
    """Where `random_inputs` keeps a conv's or gemm's requantization constants: `[2, Cout]`,
    the rows M and S."""
    return f"{op.name}.requant"


def requant_constants(workload: Workload, bits: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per output channel of every conv and gemm, its M (uniform in [2^14, 2^15)) and S.

    S is chosen so that a layer's outputs spread over the range: the accumulator sums
    n (the fan-in) products of an input of rms r_in and a weight of rms r_w (uniform over
    the B-bit range: 2^(B-1)/sqrt(3), 73.9 for int8), about independent, so its rms is
    r_in * r_w * sqrt(n); times M / 2^S that should be T = 2^(B-3) (32 for int8: four
    rms to either end of the range). r_in is r_w for a graph input, T for a computed one
    (the previous requantization's target). So 2^S = r_in * r_w * sqrt(n) * M / T, M about
    2^14: S0 = round(log2(r_in * r_w * sqrt(n) / T)) + 14, and each channel's S is S0 or
    S0 + 1 (at random): outputs' rms between T/2 and 2T (within the rounding of the log)."""
    full, target = 2.0 ** (bits - 1) / math.sqrt(3), 2.0 ** (bits - 3)
    graph = workload_inputs(workload)
    out: dict[str, np.ndarray] = {}
    for op in workload.ops:
        if not isinstance(op, Conv | Gemm):
            continue
        cout, *rest = workload.tensors[op.weight].shape
        fan_in = math.prod(rest)
        r_in = full if op.input in graph else target
        s0 = round(math.log2(r_in * full * math.sqrt(fan_in) / target)) + MULTIPLIER_BITS - 1
        m = rng.integers(2 ** (MULTIPLIER_BITS - 1), 2 ** MULTIPLIER_BITS, size=cout, dtype=np.int64)
        s = s0 + rng.integers(0, 2, size=cout, dtype=np.int64)
        out[requant_key(op)] = np.stack([m, s])
    return out


def random_inputs(workload: Workload, dtype: str = "int8", seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded random graph inputs and weights, held in the datatype's numpy type
    (`numpy_dtype`), the weights of a conv or gemm with a `weight_sparsity` made N:M sparse
    (`nm_sparse`); for integers also every conv's and gemm's requantization constants
    (`requant_constants`, under `requant_key`, int64)."""
    like = numpy_dtype(dtype)
    rng = np.random.default_rng(seed)
    made = {op.output for op in workload.ops}
    unscaled = {op.weight for op in workload.ops if isinstance(op, Scale)} | workload_inputs(workload)
    out: dict[str, np.ndarray] = {}
    for name in sorted(workload.tensors):
        if name in made:
            continue
        shape = workload.tensors[name].shape
        if _integer(like):
            info = np.iinfo(like)
            out[name] = rng.integers(info.min, info.max + 1, size=shape, dtype=np.int32).astype(like)
        else:                       # weights scaled by 1/sqrt(fan-in), so deep networks stay finite
            fan_in = int(np.prod(shape[1:])) if name not in unscaled else 1
            drawn = rng.standard_normal(shape, dtype=np.float32) / np.float32(np.sqrt(fan_in))
            out[name] = drawn.astype(like)
    for wop in workload.ops:
        if isinstance(wop, Conv | Gemm) and wop.weight_sparsity is not None:
            out[wop.weight] = nm_sparse(out[wop.weight], parse_pattern(wop.weight_sparsity))
    if _integer(like):
        for key, value in requant_constants(workload, _bits(like), rng).items():
            if key in workload.tensors:
                op = key.rsplit(".", 1)[0]
                raise ConfigError(f"workload {workload.name!r}: tensors.{key}: this name is taken by the "
                                  f"requantization constants of op {op!r}; rename the tensor")
            out[key] = value
    return out


def nm_sparse(weights: np.ndarray, pattern: Pattern) -> np.ndarray:
    """`weights` ([filters, ...]) with, in each group of M consecutive elements of a filter
    flattened (a conv's [kh, kw, Cin/groups] order, K; the last group as long as is left),
    the N of largest magnitude kept (ties: the lowest index) and the rest zero."""
    filters = weights.shape[0]
    flat = weights.reshape(filters, -1)
    k = flat.shape[1]
    groups = -(-k // pattern.m)
    magnitude = np.full((filters, groups * pattern.m), -1.0)       # padding: never kept first
    magnitude[:, :k] = np.abs(flat.astype(np.float64))
    order = np.argsort(-magnitude.reshape(filters, groups, pattern.m), axis=-1, kind="stable")
    keep = np.zeros((filters, groups, pattern.m), dtype=bool)
    np.put_along_axis(keep, order[..., :pattern.n], True, axis=-1)
    kept = np.where(keep.reshape(filters, -1)[:, :k], flat, np.zeros_like(flat))
    return kept.reshape(weights.shape)


def round_half_even(v: np.ndarray, d) -> np.ndarray:
    """`v / d` rounded to the nearest integer, ties to the even one, in integers (`v` int64,
    `d` > 0): the floor, up by one when the remainder is over half of d, or exactly half
    and the floor odd."""
    q = v // d
    r = v - q * d                                               # 0 <= r < d
    return q + ((2 * r > d) | ((2 * r == d) & (q % 2 == 1)))


def saturate(v: np.ndarray, like: np.dtype) -> np.ndarray:
    """`v` clamped to the range of integer type `like`, as `like`."""
    info = np.iinfo(like)
    return np.clip(v, info.min, info.max).astype(like)


def requantize(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray, like: np.dtype) -> np.ndarray:
    """`saturate(round(acc * M / 2^S))` per element, M and S per channel (the last axis):
    the product in int64, the division by 2^S rounded half to even."""
    return saturate(round_half_even(acc.astype(np.int64) * multiplier, np.left_shift(1, shift)), like)


def _relu(out: np.ndarray, relu: bool) -> np.ndarray:
    return np.maximum(out, out.dtype.type(0)) if relu else out


def _accumulated(acc: np.ndarray, wop: Conv | Gemm, like: np.dtype, constants: Mapping[str, np.ndarray],
                 channels: tuple[int, int]) -> np.ndarray:
    """A conv's or gemm's accumulators (int64 or float32) as its output: integers wrapped to
    the int32 accumulator (int8) and requantized with channels `channels` of its constants;
    floats rounded to `like`; then the ReLU."""
    if not _integer(like):
        return _relu(acc.astype(like), wop.relu)
    key = requant_key(wop)
    if key not in constants:
        raise ValueError(f"{wop.kind} {wop.name!r}: an integer run needs its requantization constants "
                         f"{key!r} (random_inputs draws them)")
    if _bits(like) <= 8:
        acc = acc.astype(np.int32)                              # wraps like the int32 accumulator
    m, s = constants[key][:, channels[0]:channels[1]]
    return _relu(requantize(acc, m, s, like), wop.relu)


def conv_valid(x: np.ndarray, w: np.ndarray, stride: int, dilation: int, groups: int) -> np.ndarray:
    """Convolution without padding (`x` holds any padding already): x `[N, H, W, C]`,
    w `[Cout, kh, kw, C/groups]` -> `[N, Ho, Wo, Cout]`, accumulated in int64 or float32."""
    n, h, wd, _c = x.shape
    cout, kh, kw, cg = w.shape
    ho = (h - dilation * (kh - 1) - 1) // stride + 1
    wo = (wd - dilation * (kw - 1) - 1) // stride + 1
    acc_type = np.int64 if _integer(x.dtype) else np.float32
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
    `divisor` (per output row and column, `[Ho, Wo, 1]`; kh x kw when None): integers
    rounded half to even, floats summed in float32 and rounded to x's type."""
    _n, h, wd, _c = x.shape
    ho, wo = (h - kh) // stride + 1, (wd - kw) // stride + 1
    taps = [x[:, i: i + (ho - 1) * stride + 1: stride, j: j + (wo - 1) * stride + 1: stride, :]
            for i in range(kh) for j in range(kw)]
    if kind == "maxpool":
        return np.maximum.reduce(taps)
    count = kh * kw if divisor is None else divisor
    if _integer(x.dtype):
        return round_half_even(np.sum(np.stack(taps).astype(np.int64), axis=0), count).astype(x.dtype)
    total = np.sum(np.stack(taps).astype(np.float32), axis=0)
    return (total / np.asarray(count, dtype=np.float32)).astype(x.dtype)


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
    """float64 LRN or softmax results as `like`: rounded to a float type, or to integers
    (ties to even) and clamped (module docstring)."""
    if not _integer(like):
        return values.astype(like)
    if softmax:
        bits = _bits(like)
        return saturate(np.rint(values * 2.0 ** bits) - 2 ** (bits - 1), like)
    return saturate(np.rint(values), like)


def _pad_value(wop, dtype: np.dtype):
    if isinstance(wop, Pool) and wop.kind == "maxpool":
        return np.iinfo(dtype).min if _integer(dtype) else -np.inf
    return 0


def _elementwise(like: np.dtype, relu: bool, exact: np.ndarray | None = None,
                 approx: np.ndarray | None = None) -> np.ndarray:
    """An element-wise result as `like`: integers (`exact`, int64) saturated, floats
    (`approx`, float32) rounded once; then the ReLU."""
    out = saturate(exact, like) if exact is not None else np.asarray(approx).astype(like)
    return _relu(out, relu)


def compute(wop, out: Box, fetch, dtype: np.dtype, workload: Workload,
            constants: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """The values (of `dtype`) of output box `out` of workload op `wop`; `fetch(tensor,
    box, fill)` returns the array of a box (positions it cannot supply hold `fill`), the
    boxes those of the tile model (a window's padded box, which reaches past the tensor);
    `constants` holds the requantization constants of an integer run (`random_inputs`)."""
    constants = constants or {}
    if isinstance(wop, Concat):
        return np.concatenate([fetch(t, box, 0) for t, box in tile(wop, out, workload).inputs], axis=-1)
    if isinstance(wop, Shuffle):
        (t, box), = tile(wop, out, workload).inputs
        return shuffle_channels(fetch(t, box, 0), wop.groups)[..., out[0][-1]:out[1][-1]]
    if isinstance(wop, Add):
        a, b = (fetch(t, out, 0) for t in wop.inputs)
        if _integer(dtype):
            return _elementwise(dtype, wop.relu, exact=a.astype(np.int64) + b)
        return _elementwise(dtype, wop.relu, approx=a.astype(np.float32) + b.astype(np.float32))
    need = tile(wop, out, workload)
    if isinstance(wop, Scale):
        assert need.weight is not None
        x, (a, b) = fetch(wop.input, out, 0), fetch(wop.weight, need.weight[1], 0)
        if _integer(dtype):                 # a: B-1 fraction bits; b: an offset
            k = np.int64(2 ** (_bits(dtype) - 1))
            return _elementwise(dtype, wop.relu, exact=round_half_even(x.astype(np.int64) * a, k) + b)
        return _elementwise(dtype, wop.relu,
                            approx=x.astype(np.float32) * a.astype(np.float32) + b.astype(np.float32))
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
        acc_type = np.int64 if _integer(dtype) else np.float32
        return _accumulated(x.astype(acc_type) @ w.astype(acc_type).T, wop, dtype, constants,
                            (out[0][-1], out[1][-1]))
    assert need.padded is not None                              # a conv or pool window
    x = fetch(wop.input, need.padded, _pad_value(wop, dtype))
    if isinstance(wop, Pool):
        _, h, w, _ = workload.tensors[wop.input].shape
        divisor = pool_divisor(wop, out, h, w) if wop.kind == "avgpool" else None
        return pool_valid(x, wop.kind, wop.kh, wop.kw, wop.stride, divisor)
    c0, c1 = out[0][3], out[1][3]
    assert need.weight is not None
    w = fetch(wop.weight, need.weight[1], 0)
    groups = max(1, wop.groups * (c1 - c0) // wop.cout)
    return _accumulated(conv_valid(x, w, wop.stride, wop.dilation, groups), wop, dtype, constants, (c0, c1))


def winograd_tensors(schedule: Schedule, workload: Workload,
                     dram: dict[str, np.ndarray]) -> dict[str, np.dtype]:
    """The numpy type of each tensor of the schedule's Winograd layers (`accelsim.winograd`):
    U and V int16, M int64 for integers, all float32 for floats; puts each layer's U that a
    load reads (transformed offline: from its conv's weights in `dram`) into `dram` (U made
    on chip, by `wgw` ops, never is there)."""
    types: dict[str, np.dtype] = {}
    loaded = {op.reads[0].tensor for op in schedule.ops if op.kind == "load"}
    for lay in schedule.winograd:
        conv = _winograd_conv(schedule, workload, lay.weight)[1]
        if lay.weight in loaded:
            dram[lay.weight] = transform_weights(dram[conv.weight])
        integer = _integer(dram[conv.weight].dtype)
        held, wide = (np.dtype(np.int16), np.dtype(np.int64)) if integer else (np.dtype(np.float32),) * 2
        types.update({lay.weight: held, lay.transformed: held, lay.products: wide})
    return types


def _winograd_conv(schedule: Schedule, workload: Workload, tensor: str) -> tuple[WinogradLayout, Conv]:
    """The Winograd layout of the schedule that has tensor `tensor`, and its conv."""
    lay = next(lay for lay in schedule.winograd if tensor in lay.tensors)
    conv = next(o for o in workload.ops if o.name == lay.conv)
    assert isinstance(conv, Conv)
    return lay, conv


def winograd_compute(schedule: Schedule, op, fetch, dtype: np.dtype, workload: Workload,
                     constants: Mapping[str, np.ndarray]) -> np.ndarray:
    """The values op `op` of a Winograd layer writes: U of its filters' weights read from SRAM
    (`wgw`: `transform_weights`), V of its input rows (`wgin`), M of V and U
    (`conv`), or the conv's output rows from M (`wgout`: divided by the layout's scale, then
    requantized, or rounded, and the ReLU, as the conv; then the fused add, when its output is
    the add's); `fetch` as for `compute`."""
    out = op.writes[0]
    (n0, r0, c0, k0), (n1, r1, c1, k1) = out.box
    if op.kind == "wgw":
        lay, conv = _winograd_conv(schedule, workload, out.tensor)
        return transform_weights(fetch(conv.weight, ((n0, 0, 0, 0), (n1, conv.kh, conv.kw, conv.cin)), 0))
    if op.kind == "wgin":
        lay, conv = _winograd_conv(schedule, workload, out.tensor)
        x = fetch(conv.input, ((n0, TILE_OUT * r0 - 1, -1, 0),
                               (n1, TILE_OUT * r1 + 1, TILE_OUT * c1 + 1, k1 // POINTS)), 0)
        return transform_input(x)
    if op.kind == "conv":
        lay, conv = _winograd_conv(schedule, workload, out.tensor)
        v = fetch(lay.transformed, ((n0, r0, c0, 0), (n1, r1, c1, POINTS * conv.cin)), 0)
        u = fetch(lay.weight, ((k0 // POINTS, 0, 0, 0), (k1 // POINTS, TILE_IN, TILE_IN, conv.cin)), 0)
        return products(v, u)
    m = op.reads[0]
    lay, conv = _winograd_conv(schedule, workload, m.tensor)
    (_, t0, _, p0), (_, _, _, p1) = m.box
    y = transform_output(fetch(lay.products, m.box, 0), lay.scale)
    y = y[:, r0 - TILE_OUT * t0: r1 - TILE_OUT * t0, c0:c1]
    made = _accumulated(y, conv, dtype, constants, (p0 // POINTS, p1 // POINTS))
    if out.tensor == conv.output:
        return made
    add = next(o for o in workload.ops if o.output == out.tensor)

    def fused(tensor, box, fill):
        return made if tensor == conv.output else fetch(tensor, box, fill)
    return compute(add, out.box, fused, dtype, workload, constants)


def _full(shape) -> Box:
    return (0,) * len(shape), tuple(shape)


def value_dtype(workload: Workload, inputs: Mapping[str, np.ndarray]) -> np.dtype:
    """The numpy type of a run's values: that of its graph inputs and weights."""
    return next(a.dtype for t, a in sorted(inputs.items()) if t in workload.tensors)


def reference(workload: Workload, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every tensor of the workload, each op computed on whole tensors."""
    values = dict(inputs)
    like = value_dtype(workload, inputs)

    def fetch(tensor, box, fill):
        return _cut(values[tensor], box, fill)
    for wop in workload.ops:
        values[wop.output] = compute(wop, _full(workload.tensors[wop.output].shape), fetch, like, workload,
                                     inputs)
    return values


def rounding_depth(workload: Workload) -> dict[str, int]:
    """Per tensor, the roundings to the datatype on its longest path from the graph inputs
    and weights (0): each op but a concat or shuffle (copies) rounds its output once."""
    depth: dict[str, int] = {}
    for op in workload.ops:
        before = max((depth.get(t, 0) for t in op.inputs), default=0)
        depth[op.output] = before + (0 if isinstance(op, Concat | Shuffle) else 1)
    return depth


def tolerance(dtype: str, workload: Workload) -> str:
    """What functional execution in `dtype` allows, as the report states it."""
    if dtype in ("int8", "int16"):
        acc = "int32" if dtype == "int8" else "int64"
        return (f"bit-exact ({dtype}, {acc} accumulation, per-channel requantization rounded "
                "half to even, saturating)")
    if dtype == "fp32":
        return f"|got - expected| <= {RTOL} * |expected| + {ATOL} * max(1, max |reference|)"
    eps = f"2^{round(math.log2(EPSILON[dtype]))}"
    deepest = max(rounding_depth(workload).values(), default=0)
    return (f"|got - expected| <= {eps} * |expected| + r * {eps} * max |reference| ({dtype}: eps "
            f"{eps}, one unit in the last place per rounding; r the tensor's roundings, at most {deepest})")


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
        self.dtype = value_dtype(workload, inputs)
        self.constants = inputs
        self.winograd = winograd_tensors(schedule, workload, self.dram)   # its tensors' numpy types

    def read_sram(self, op_id: str, tensor: str, box: Box, space: str,
                  fill) -> tuple[np.ndarray, list[tuple[Box, str]]]:
        out = np.full(tuple(b - a for a, b in zip(*box, strict=True)), fill,
                      dtype=self.winograd.get(tensor, self.dtype))
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
        end = start + self.s.widths.count(tensor, data.size)
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
                    data = np.full(tuple(b - a for a, b in zip(*box, strict=True)), fill,
                                   self.winograd.get(tensor, self.dtype))
                    for r in op.reads:                 # what the op did not read is not its input
                        part = intersect(box, r.box) if r.tensor == tensor else None
                        if part is not None:
                            held, _ = self.read_sram(op.id, tensor, part, r.space, fill)
                            data[_slices(part, box[0])] = held
                    return data
                if op.kind in ("wgin", "wgout", "wgw") or out.tensor in self.winograd:
                    data = winograd_compute(self.s, op, fetch, self.dtype, self.wl, self.constants)
                else:
                    data = compute(self.producers[out.tensor], out.box, fetch, self.dtype, self.wl,
                                   self.constants)
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
    depth = rounding_depth(workload)
    for tensor in tensors:
        got, want = dram.get(tensor), ref[tensor]
        written = np.zeros(want.shape, dtype=bool)
        for box, _, _ in stored.get(tensor, []):
            written[_slices(box, (0,) * want.ndim)] = True
        if got is None:
            good = np.zeros(want.shape, dtype=bool)
        elif dtype in ("int8", "int16"):
            good = got == want
        else:                               # fp16 and bf16 values are exact in fp32
            g, w = got.astype(np.float32, copy=False), want.astype(np.float32, copy=False)
            scale = float(np.max(np.abs(w))) if w.size else 0.0
            if dtype == "fp32":
                good = np.isclose(g, w, rtol=RTOL, atol=ATOL * max(scale, 1.0))
            else:
                eps = np.float32(EPSILON[dtype])
                good = np.abs(g - w) <= eps * np.abs(w) + np.float32(depth[tensor] * eps * scale)
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
    return FunctionalReport(dtype, seed, tolerance(dtype, workload), tuple(tensors), tuple(mismatches))
