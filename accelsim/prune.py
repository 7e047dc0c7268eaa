"""Filter pruning by L1 norm: remove from each prunable conv the fraction `ratio` of its
filters (output channels) with the smallest L1 norms, and the matching input channels of
the ops that read them; the smaller workload is a trace like any other (docs/pruning.md).

Which convs can lose filters (`regions`): a conv with `groups` 1 whose output channels
reach only ops that can take fewer of them without changing any other tensor: convs with
`groups` 1 and gemms (their input channels shrink; a gemm reads the channels, the last
axis, as its input features), through per-channel ops that keep channel c of their input
as channel c of their output (scale, maxpool, avgpool, and depthwise convs with `groups` =
`cin` = `cout`, whose filters and channels go with the ones removed before them). Any other
reader pins the channel count, and the conv keeps every filter: an add (its other input
has the same channels: a residual), a concat, a shuffle, an LRN or softmax (they mix
channels), a grouped conv that is not depthwise, and a tensor no op reads (a graph output).

How many: `floor(ratio * cout)` filters of each prunable conv (so at least one is kept,
ratio < 1), those with the smallest L1 norms, a tie going to the lower index first. The
norms are each conv's dense weights' (all input channels: convs are ranked independently,
not after the ones before them are pruned).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from accelsim.dtypes import DTYPE_BYTES
from accelsim.errors import ConfigError
from accelsim.workload import Conv, Gemm, Pool, Scale, Workload, workload_from_dict
from accelsim.workload_yaml import workload_data


def parse_ratio(text: str | float | Fraction) -> Fraction:
    """A pruning ratio in [0, 1) as an exact fraction (`0.3` is 3/10, so `floor(0.3 * 10)` is 3);
    ConfigError otherwise."""
    try:
        ratio = text if isinstance(text, Fraction) else Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise ConfigError(f"--ratio: expected a number in [0, 1), got {text!r}") from None
    if not 0 <= ratio < 1:
        raise ConfigError(f"--ratio: must be in [0, 1) (the fraction of each conv's filters removed), "
                          f"got {text}")
    return ratio


@dataclass(frozen=True)
class Region:
    """What removing filters of conv `conv` changes: the per-channel ops whose channels follow
    (`through`: scales, pools, depthwise convs) and the convs and gemms whose input channels
    shrink (`readers`), each in op order."""

    conv: str
    through: tuple[str, ...]
    readers: tuple[str, ...]


def _depthwise(op: Conv) -> bool:
    return op.groups > 1 and op.groups == op.cin == op.cout


def _region(workload: Workload, conv: Conv) -> Region | str:
    """The conv's Region, or why it keeps every filter."""
    through: list[str] = []
    readers: list[str] = []
    todo = [conv.output]
    while todo:
        tensor = todo.pop()
        ops = workload.consumers(tensor)
        if not ops:
            return f"a graph output reads its channels ({tensor})"
        for op in ops:
            if isinstance(op, Gemm) or (isinstance(op, Conv) and op.groups == 1):
                readers.append(op.name)
            elif isinstance(op, Scale | Pool) or (isinstance(op, Conv) and _depthwise(op)):
                through.append(op.name)
                todo.append(op.output)
            else:
                what = "grouped conv" if isinstance(op, Conv) else op.kind
                return f"{what} {op.name} reads its channels"  # the kind first: `summary` counts by it
    order = {op.name: i for i, op in enumerate(workload.ops)}
    return Region(conv.name, tuple(sorted(through, key=order.__getitem__)),
                  tuple(sorted(readers, key=order.__getitem__)))


def regions(workload: Workload) -> tuple[dict[str, Region], dict[str, str]]:
    """The prunable convs' regions, and each other conv with `groups` 1 with why it is not
    prunable, both by conv name in op order."""
    found: dict[str, Region] = {}
    pinned: dict[str, str] = {}
    for op in workload.ops:
        if isinstance(op, Conv) and op.groups == 1:
            region = _region(workload, op)
            if isinstance(region, Region):
                found[op.name] = region
            else:
                pinned[op.name] = region
    return found, pinned


def smallest(norms: np.ndarray, count: int) -> tuple[int, ...]:
    """The indices of the `count` smallest of `norms` (a tie: the lower index first), ascending."""
    order = np.argsort(np.asarray(norms), kind="stable")
    return tuple(sorted(int(i) for i in order[:count]))


@dataclass(frozen=True)
class LayerPrune:
    """One prunable conv: its `cout` filters and the indices of those `removed` (ascending)."""

    conv: str
    cout: int
    removed: tuple[int, ...]

    @property
    def kept(self) -> tuple[int, ...]:
        gone = set(self.removed)
        return tuple(c for c in range(self.cout) if c not in gone)


@dataclass(frozen=True)
class Pruned:
    """A pruning: the dense and pruned workloads, the ratio, every prunable conv (`layers`, in
    op order, even one that lost no filter), the convs kept whole and why (`pinned`), and the
    channels kept of every tensor whose channels shrank (`channels`: indices into the dense
    tensor's channels)."""

    dense: Workload
    pruned: Workload
    ratio: Fraction
    layers: tuple[LayerPrune, ...]
    pinned: Mapping[str, str]
    channels: Mapping[str, tuple[int, ...]]

    @property
    def filters_removed(self) -> int:
        return sum(len(layer.removed) for layer in self.layers)

    @property
    def convs_pruned(self) -> int:
        """Convs that lost at least one filter."""
        return sum(bool(layer.removed) for layer in self.layers)


def prune(workload: Workload, ratio: str | float | Fraction, norms: Mapping[str, np.ndarray]) -> Pruned:
    """Remove `floor(ratio * cout)` filters of smallest norm (`norms[conv]`, `[cout]`) from every
    prunable conv (`regions`) and the matching channels of the ops they reach."""
    ratio = parse_ratio(ratio)
    found, pinned = regions(workload)
    ops = {op.name: op for op in workload.ops}
    layers, channels = [], {}
    for name, region in found.items():
        conv = ops[name]
        assert isinstance(conv, Conv)
        norm = np.asarray(norms[name])
        if norm.shape != (conv.cout,):
            raise ConfigError(f"conv {name!r}: {norm.shape} filter norms, expected ({conv.cout},)")
        layer = LayerPrune(name, conv.cout, smallest(norm, int(ratio * conv.cout)))
        layers.append(layer)
        if layer.removed:
            for t in (conv.output, *(ops[o].output for o in region.through)):
                channels[t] = layer.kept
    return Pruned(workload, _shrunk(workload, channels), ratio, tuple(layers), pinned, channels)


def _shrunk(workload: Workload, channels: Mapping[str, tuple[int, ...]]) -> Workload:
    """The workload with each tensor of `channels` down to the channels listed."""
    data = workload_data(workload)
    ops: list[dict] = []
    for op, entry in zip(workload.ops, data["ops"], strict=True):
        if isinstance(op, Conv):
            cin = len(channels[op.input]) if op.input in channels else op.cin
            if _depthwise(op):
                entry.update(cin=cin, cout=cin, groups=cin)
            else:
                entry.update(cin=cin, cout=len(channels.get(op.output, range(op.cout))))
        ops.append(entry)
    for name, entry in data["tensors"].items():
        if name in channels and isinstance(entry, dict):
            entry["shape"] = [*entry["shape"][:-1], len(channels[name])]
    return workload_from_dict({**data, "name": f"{workload.name}_pruned", "ops": ops},
                              f"<{workload.name} pruned>")


def random_norms(workload: Workload, seed: int = 0, dtype: str | None = None) -> dict[str, np.ndarray]:
    """Per conv, the L1 norm of each filter of the seeded weights functional execution draws
    (`accelsim.functional.random_inputs`, in `dtype`: default the workload's, else int8)."""
    from accelsim.functional import random_inputs

    values = random_inputs(workload, dtype or workload.dtype or "int8", seed)
    return {op.name: filter_norms(values[op.weight]) for op in workload.ops if isinstance(op, Conv)}


def onnx_norms(found) -> dict[str, np.ndarray]:
    """Per conv of an imported ONNX model (`accelsim.importers.onnx.OnnxImport`), the L1 norm
    of each filter of its own weights, with what was folded into them (BatchNorm, Mul, Div)."""
    return {name: weights.l1_norms() for name, weights in found.weights.items()}


def filter_norms(weight: np.ndarray) -> np.ndarray:
    """L1 norm of each filter of conv weights `[Cout, ...]`: int64 for integers, else float64."""
    exact = np.int64 if np.issubdtype(weight.dtype, np.integer) else np.float64
    return np.abs(weight.astype(exact)).reshape(weight.shape[0], -1).sum(axis=1)


def pruned_arrays(result: Pruned, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The dense workload's arrays (graph inputs, weights `<op>.weight`, requantization constants
    `<op>.requant`, as `accelsim.functional.random_inputs` names them) cut to the pruned
    workload: each conv's kept filters and input channels, a depthwise conv's kept channels,
    a scale's and gemm's kept input channels."""
    keep = result.channels
    out = dict(arrays)
    for op in result.dense.ops:
        if not isinstance(op, Conv | Gemm | Scale):
            continue
        own = keep.get(op.output) if isinstance(op, Conv) else None
        into = keep.get(op.input)
        w = arrays.get(op.weight)
        if w is not None:
            if own is not None:
                w = w[list(own)]
            if into is not None and not (isinstance(op, Conv) and _depthwise(op)):
                w = w[..., list(into)] if isinstance(op, Conv) else w[:, list(into)]
            out[op.weight] = w
        key = f"{op.name}.requant"
        if own is not None and key in arrays:
            out[key] = arrays[key][:, list(own)]
    return out


@dataclass(frozen=True)
class Totals:
    """What a workload costs in MACs and in weight elements and bytes (at `dtype`)."""

    macs: int
    weight_elements: int
    weight_bytes: int
    dtype: str


def totals(workload: Workload, dtype: str | None = None) -> Totals:
    """MACs, and the elements and bytes of every weight tensor (conv, gemm, scale), at `dtype`
    (default: the workload's, else int8)."""
    dtype = dtype or workload.dtype or "int8"
    names = {op.weight for op in workload.ops if isinstance(op, Conv | Gemm | Scale)}
    elements = sum(int(np.prod(workload.tensors[n].shape)) for n in names)
    return Totals(workload.macs, elements, elements * DTYPE_BYTES[dtype], dtype)


def _percent(before: int, after: int) -> str:
    return f"{(after - before) / before:+.1%}" if before else "n/a"


def summary(result: Pruned) -> list[str]:
    """What the pruning did, a line each: convs pruned, filters removed, MACs and weight bytes
    before and after, and why the other convs were kept whole."""
    convs = sum(isinstance(op, Conv) for op in result.dense.ops)
    filters = sum(layer.cout for layer in result.layers)
    a, b = totals(result.dense), totals(result.pruned)
    head = (f"{result.dense.name}: pruned {result.convs_pruned} of {convs} convs at ratio "
            f"{float(result.ratio):g}")
    lines = [f"{head}: {result.filters_removed:,} of their {filters:,} filters removed" if result.layers
             else f"{head}: no conv can lose filters",
             f"MACs: {a.macs:,} -> {b.macs:,} ({_percent(a.macs, b.macs)})",
             f"weights: {a.weight_bytes:,} -> {b.weight_bytes:,} bytes at {a.dtype} "
             f"({_percent(a.weight_bytes, b.weight_bytes)})"]
    if result.pinned:
        why: dict[str, int] = {}
        for reason in result.pinned.values():
            reader = reason.split(" reads ")[0]                     # "add layer1.0.add", "a graph output"
            kind = reader if reader == "a graph output" else reader.rsplit(" ", 1)[0]
            why[kind] = why.get(kind, 0) + 1
        n = len(result.pinned)
        lines.append(f"kept whole: {n} conv{'s' if n != 1 else ''} (read by: "
                     + ", ".join(f"{k} {n}" for k, n in why.items()) + ")")
    return lines


def header(result: Pruned, source: str, weights: str) -> tuple[str, ...]:
    """The comment lines a pruned trace starts with: where it came from, the rule, the weights
    the norms came from (`weights`), and per prunable conv the filters kept and removed."""
    lines = [f"{result.pruned.name}: {source} pruned by accelsim prune, ratio {float(result.ratio):g}: "
             "from each prunable conv the floor(ratio * cout) filters of smallest L1 norm",
             "(a tie: the lower index first) and the matching input channels of its readers "
             "(docs/pruning.md).",
             f"Filter norms: {weights}.", *summary(result), "Filters kept per conv (removed: their indices):"]
    for layer in result.layers:
        removed = ", ".join(map(str, layer.removed)) or "none"
        lines.append(f"  {layer.conv}: {len(layer.kept)} of {layer.cout} kept (removed: {removed})")
    return tuple(lines)
