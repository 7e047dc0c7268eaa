"""Workload graph: named NHWC tensors and the ops between them.

A trace file declares the graph's input tensors with their shapes
`[N, H, W, C]` (elements) and lists the ops; every other tensor's shape
follows from the op that writes it (a declared one is checked against it).
Ops may come in any order that has no cycle; they are kept in dependency
order, file order breaking ties.

Op kinds: `conv` (groups for depthwise; optional fused `relu`), `add`
(element-wise, optional fused `relu`), `maxpool` / `avgpool`, `gemm`
(a fully connected layer over the last axis), `lrn`, `softmax`, `scale` (per-channel
`x * a[c] + b[c]`, optional fused `relu`: a batch norm on the add unit) and `concat`
(`inputs: [a, b, ...]` joined along the channels, the last axis; a DMA copy) and `shuffle`
(`groups: g`, a channel shuffle, `shuffle_channels`; a DMA copy). Weights are
implicit: conv `c` reads `c.weight` of shape `[Cout, kh, kw, Cin/groups]`, gemm
`g` reads `g.weight` of shape `[out_features, in_features]`, scale `s` reads `s.weight`
of shape `[2, C]` (row 0 the multipliers a, row 1 the addends b).

Pools, LRN and softmax (each key as ONNX names it; defaults after `=`)::

    - {name: pool1, kind: maxpool, input: x, output: p, kh: 3, kw: 3, stride: 2,
       pads: [0, 0, 1, 1],      # [top, left, bottom, right] (ONNX order); or pad: P on every side
       ceil_mode: true}         # = false; output size by ceiling, as ONNX and PyTorch
    - {name: avg, kind: avgpool, input: x, output: a, kh: 3, kw: 3, pad: 1,
       count_include_pad: false}  # = true: divide by the taps in the input and its padding;
                                  # false (ONNX's default): by the taps in the input only
    - {name: norm1, kind: lrn, input: x, output: n, size: 5,
       alpha: 0.0001, beta: 0.75, bias: 1.0}   # these three are ONNX's defaults
    - {name: prob, kind: softmax, input: logits, output: p}   # over channels, the last axis
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from accelsim.cost import Skip
from accelsim.dtypes import Dtype
from accelsim.graph import topological_order
from accelsim.pattern import PatternText
from accelsim.schema import (
    STRICT,
    Name,
    NonNegInt,
    NonNegNumber,
    Number,
    PosInt,
    PosNumber,
    problems,
    raise_all,
)
from accelsim.shipped import resolve
from accelsim.yamlio import YamlDocument, read_yaml

Shape = tuple[PosInt, PosInt, PosInt, PosInt]
Flag = Annotated[bool, Field(strict=True)]


def _not_bool(value: object) -> object:
    """A density is a number: true is not 1 (lax floats take a YAML 1.1 string such as 1e-3)."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number 0 < density <= 1, got {value!r}")
    return value


Density = Annotated[float, Field(strict=False, gt=0, le=1, allow_inf_nan=False), BeforeValidator(_not_bool)]


@dataclass(frozen=True)
class Tensor:
    """A named activation or weight tensor; `shape` in elements; `dtype` its own datatype
    (None: the run's, accelsim.dtypes); `density` the fraction of its elements that are
    nonzero (None: not declared; an array that skips zero activations skips the rest,
    accelsim.sparsity)."""

    name: str
    shape: tuple[int, ...]
    dtype: str | None = None
    density: float | None = None


def _window_output(size: int, k: int, stride: int, pad: int, dilation: int = 1) -> int:
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def pool_output(size: int, k: int, stride: int, begin: int, end: int, ceil_mode: bool) -> int:
    """Outputs along one axis of a pool: `floor((size + begin + end - k) / stride) + 1`, or with
    `ceil_mode` the ceiling, less one when that last window would start past the input (in the
    end padding), as ONNX and PyTorch count; 0 when the window does not fit the padded input."""
    span = size + begin + end - k
    if span < 0:
        return 0
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    return out - 1 if (out - 1) * stride >= size + begin else out


class _OneInput:
    """Ops that read one tensor, `input`."""

    input: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)


class _Weighted(_OneInput):
    """Ops with implicit weights, the tensor `<name>.weight`."""

    name: str

    @property
    def weight(self) -> str:
        return f"{self.name}.weight"


class _Sparse:
    """Ops whose weights may be N:M sparse (conv, gemm): `weight_sparsity` "N:M" as declared
    (the values: at most N nonzero of every M along a filter's K), and `skip`, what the
    array skips of the GEMM on the run's machine (set by `accelsim.sparsity.sparse_workload`,
    never by a trace)."""

    weight_sparsity: str | None
    skip: Skip | None


class _SameShape:
    """Ops whose output has their input's shape, whatever it is."""

    def output_shape(self, x: tuple[int, ...]) -> tuple[int, ...]:
        return x

    def check(self, x: tuple[int, ...]) -> list[str]:
        return []


@dataclass(frozen=True)
class Conv(_Sparse, _Weighted):
    """2-D convolution, NHWC input, `[Cout, kh, kw, Cin/groups]` weights."""

    __pydantic_config__ = STRICT
    name: Name
    kind: Literal["conv"]
    input: Name
    output: Name
    kh: PosInt
    kw: PosInt
    cin: PosInt
    cout: PosInt
    stride: PosInt = 1
    pad: NonNegInt = 0
    dilation: PosInt = 1
    groups: PosInt = 1
    relu: Flag = False
    weight_sparsity: PatternText | None = None
    skip: Skip | None = None

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.cout, self.kh, self.kw, self.cin // self.groups)

    @property
    def padding(self) -> tuple[int, int, int, int]:
        """Zero padding `(top, left, bottom, right)`, elements: `pad` on every side."""
        return (self.pad,) * 4

    def output_size(self, size: int, k: int) -> int:
        """Output rows (or cols) for `size` input rows and kernel extent `k`."""
        return _window_output(size, k, self.stride, self.pad, self.dilation)

    def output_shape(self, x: tuple[int, ...]) -> tuple[int, ...]:
        n, h, w, _ = x
        return (n, self.output_size(h, self.kh), self.output_size(w, self.kw), self.cout)

    def macs(self, x: tuple[int, ...]) -> int:
        n, ho, wo, _ = self.output_shape(x)
        return n * ho * wo * self.cout * self.kh * self.kw * self.cin // self.groups

    def check(self, x: tuple[int, ...]) -> list[str]:
        found = []
        if self.cin % self.groups or self.cout % self.groups:
            found.append(f"groups={self.groups} must divide cin={self.cin} and cout={self.cout}")
        if x[3] != self.cin:
            found.append(f"input {self.input} has {x[3]} channels, cin is {self.cin}")
        _, ho, wo, _ = self.output_shape(x)
        if ho < 1 or wo < 1:
            found.append(f"a {self.kh}x{self.kw} kernel does not fit input {self.input} {_fmt(x)}")
        return found


@dataclass(frozen=True)
class Add:
    """Element-wise add of two equal-shape tensors (optionally followed by a fused ReLU)."""

    __pydantic_config__ = STRICT
    name: Name
    kind: Literal["add"]
    inputs: tuple[Name, Name]
    output: Name
    relu: Flag = False


@dataclass(frozen=True)
class Concat:
    """Two or more tensors of equal N, H and W joined along the channels (the last NHWC axis),
    in `inputs` order: input k's channels land after those of inputs 0..k-1."""

    __pydantic_config__ = STRICT
    name: Name
    kind: Literal["concat"]
    inputs: Annotated[tuple[Name, ...], Field(min_length=2)]
    output: Name

    def offsets(self, channels: list[int]) -> list[int]:
        """The output channel where each input (of `channels` channels, in order) starts."""
        out, at = [], 0
        for c in channels:
            out.append(at)
            at += c
        return out

    def check_shapes(self, shapes: list[tuple[int, ...]]) -> list[str]:
        found = []
        if len(set(self.inputs)) != len(self.inputs):
            twice = next(t for t in self.inputs if self.inputs.count(t) > 1)
            found.append(f"input {twice} is listed twice; a concat joins distinct tensors")
        first = shapes[0]
        for t, shape in zip(self.inputs[1:], shapes[1:], strict=True):
            if shape[:3] != first[:3]:
                found.append(f"inputs {self.inputs[0]} {_fmt(first)} and {t} {_fmt(shape)} must have "
                             "equal N, H and W (a concat joins along the channels, the last axis)")
        return found

    def output_shape(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        return (*shapes[0][:3], sum(s[3] for s in shapes))


@dataclass(frozen=True)
class Pool(_OneInput):
    """Max or average pooling over `kh` x `kw` windows, per channel.

    Padding is `pad` on every side, or `pads` `[top, left, bottom, right]` (ONNX's order);
    every pad is less than the window on its axis (so every window reads some input).
    `ceil_mode` sizes the output by ceiling (`pool_output`): the last window may hang past
    the bottom (right) padding, and those positions are not read. An avgpool divides by the
    window's positions in the input and its padding (`count_include_pad`, the default), or in
    the input only (`count_include_pad: false`, ONNX's default); positions past the padding
    never count. A maxpool ignores padding."""

    __pydantic_config__ = STRICT
    name: Name
    kind: Literal["maxpool", "avgpool"]
    input: Name
    output: Name
    kh: PosInt
    kw: PosInt
    stride: PosInt = 1
    pad: NonNegInt = 0
    pads: Annotated[tuple[NonNegInt, ...], Field(min_length=4, max_length=4)] | None = None
    ceil_mode: Flag = False
    count_include_pad: Flag | None = None

    @property
    def padding(self) -> tuple[int, int, int, int]:
        """Padding `(top, left, bottom, right)`, elements."""
        top, left, bottom, right = self.pads if self.pads is not None else (self.pad,) * 4
        return top, left, bottom, right

    @property
    def counts_padding(self) -> bool:
        """Whether an avgpool's divisor counts the window's padding positions."""
        return self.count_include_pad is not False

    def output_shape(self, x: tuple[int, ...]) -> tuple[int, ...]:
        n, h, w, c = x
        top, left, bottom, right = self.padding
        return (n, pool_output(h, self.kh, self.stride, top, bottom, self.ceil_mode),
                pool_output(w, self.kw, self.stride, left, right, self.ceil_mode), c)

    def check(self, x: tuple[int, ...]) -> list[str]:
        found = []
        if self.pads is not None and self.pad:
            found.append(f"give pad (every side) or pads [top, left, bottom, right], not both "
                         f"(pad: {self.pad}, pads: {_fmt(self.pads)})")
        for side, (p, k, axis) in zip(("top", "left", "bottom", "right"),
                                      zip(self.padding, (self.kh, self.kw) * 2, ("kh", "kw") * 2,
                                          strict=True), strict=True):
            if p >= k:
                key = f"pads[{('top', 'left', 'bottom', 'right').index(side)}] ({side})" \
                    if self.pads is not None else "pad"
                found.append(f"{key} = {p} must be less than {axis} = {k}: a window would read "
                             "padding only")
                break
        if self.count_include_pad is not None and self.kind != "avgpool":
            found.append("count_include_pad applies to avgpool only")
        if found:
            return found
        _, ho, wo, _ = self.output_shape(x)
        if ho < 1 or wo < 1:
            return [f"a {self.kh}x{self.kw} window does not fit input {self.input} {_fmt(x)}"]
        return []


@dataclass(frozen=True)
class Gemm(_Sparse, _Weighted):
    """A fully connected layer over the last axis: `[..., in] -> [..., out_features]`."""

    __pydantic_config__ = STRICT
    name: Name
    kind: Literal["gemm"]
    input: Name
    output: Name
    out_features: PosInt
    relu: Flag = False
    weight_sparsity: PatternText | None = None
    skip: Skip | None = None

    def weight_shape(self, x: tuple[int, ...]) -> tuple[int, int]:
        return (self.out_features, x[-1])

    def output_shape(self, x: tuple[int, ...]) -> tuple[int, ...]:
        return (*x[:-1], self.out_features)

    def macs(self, x: tuple[int, ...]) -> int:
        rows = 1
        for d in x[:-1]:
            rows *= d
        return rows * x[-1] * self.out_features

    def check(self, x: tuple[int, ...]) -> list[str]:
        return []


@dataclass(frozen=True)
class Lrn(_SameShape, _OneInput):
    """Local response normalization across channels, as ONNX LRN: output channel c is
    `x[c] / (bias + alpha / size * sum of x[i]^2)^beta` over the channels i in
    `[c - floor((size - 1) / 2), c + ceil((size - 1) / 2)]` that exist."""

    __pydantic_config__ = STRICT
    name: Name
    kind: Literal["lrn"]
    input: Name
    output: Name
    size: PosInt
    alpha: NonNegNumber = 0.0001
    beta: Number = 0.75
    bias: PosNumber = 1.0


@dataclass(frozen=True)
class Softmax(_SameShape, _OneInput):
    """Softmax over the channels of each pixel (the last NHWC axis):
    `exp(x[c] - max x) / sum over channels of exp(x - max x)`."""

    __pydantic_config__ = STRICT
    name: Name
    kind: Literal["softmax"]
    input: Name
    output: Name


@dataclass(frozen=True)
class Shuffle(_SameShape, _OneInput):
    """A channel shuffle of `groups` groups (ShuffleNet's Reshape -> Transpose -> Reshape):
    output channel `k * groups + j` is input channel `j * (C / groups) + k`
    (`shuffle_channels`); the output has the input's shape."""

    __pydantic_config__ = STRICT
    name: Name
    kind: Literal["shuffle"]
    input: Name
    output: Name
    groups: PosInt

    def check(self, x: tuple[int, ...]) -> list[str]:
        return [] if x[-1] % self.groups == 0 else \
            [f"groups={self.groups} must divide the input's {x[-1]} channels"]


def shuffle_channels(x: Any, groups: int) -> Any:
    """Array `x` (channels on the last axis) with its channels shuffled in `groups` groups:
    out[..., k * groups + j] = x[..., j * (C / groups) + k]."""
    *rest, c = x.shape
    return x.reshape(*rest, groups, c // groups).swapaxes(-1, -2).reshape(*rest, c)


@dataclass(frozen=True)
class Scale(_SameShape, _Weighted):
    """A per-channel affine map on the add unit (a batch norm, or a multiply and add by
    per-channel constants, that no conv before it absorbs): `y[..., c] = x[..., c] * a[c] +
    b[c]`, then `relu` when set; a and b are the rows of its implicit weight `<name>.weight`,
    `[2, C]`, loaded by DMA like a conv's weights."""

    __pydantic_config__ = STRICT
    name: Name
    kind: Literal["scale"]
    input: Name
    output: Name
    relu: Flag = False

    def weight_shape(self, x: tuple[int, ...]) -> tuple[int, int]:
        return (2, x[-1])


Op = Conv | Add | Pool | Gemm | Lrn | Softmax | Scale | Concat | Shuffle
VectorOp = Add | Pool | Lrn | Softmax | Scale
"""The ops the add (vector) unit runs."""
OP_KINDS: dict[str, type] = {"conv": Conv, "add": Add, "maxpool": Pool, "avgpool": Pool, "gemm": Gemm,
                             "lrn": Lrn, "softmax": Softmax, "scale": Scale, "concat": Concat,
                             "shuffle": Shuffle}


@dataclass(frozen=True)
class _TensorEntry:
    """A tensor declared with its own datatype or its density (the fraction of its elements
    that are nonzero, 0 < density <= 1): `{shape: [N, H, W, C], dtype: fp16, density: 0.5}`."""

    __pydantic_config__ = STRICT
    shape: Shape
    dtype: Dtype | None = None
    density: Density | None = None


@dataclass(frozen=True)
class _TraceFile:
    __pydantic_config__ = STRICT
    name: Name
    tensors: dict[Name, Any]                # a Shape, or a _TensorEntry (checked one by one)
    ops: Annotated[list[dict[str, Any]], Field(min_length=1)]
    dtype: Dtype | None = None


@dataclass(frozen=True)
class Workload:
    """Tensors by name (weights included) and ops in dependency order."""

    name: str
    tensors: dict[str, Tensor]
    ops: tuple[Op, ...]
    dtype: str | None = None            # the run's datatype unless a run says (accelsim.dtypes)

    def consumers(self, tensor: str) -> list[Op]:
        """The ops that read `tensor`, in order."""
        return list(self._consumers.get(tensor, ()))

    @cached_property
    def _consumers(self) -> dict[str, list[Op]]:
        readers: dict[str, list[Op]] = {}
        for op in self.ops:
            for tensor in dict.fromkeys(op.inputs):
                readers.setdefault(tensor, []).append(op)
        return readers

    @property
    def macs(self) -> int:
        """Multiply-accumulates of every conv and gemm."""
        return sum(op.macs(self.tensors[op.input].shape) for op in self.ops if isinstance(op, Conv | Gemm))


def _fmt(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _dependency_order(ops: list[tuple[int, Op]]) -> tuple[list[tuple[int, Op]], list[tuple[int, Op]]]:
    """Ops ordered so each runs after the writers of its inputs (file order breaks ties),
    and the ops left over, which wait on each other in a cycle."""
    writer = {op.output: k for k, (_, op) in enumerate(ops)}
    order, left = topological_order([{writer[t] for t in op.inputs if t in writer} for _, op in ops])
    return [ops[k] for k in order], [ops[k] for k in left]


def workload_from_document(doc: YamlDocument) -> Workload:
    """Validate a parsed trace; ConfigError lists every problem with file and line."""
    trace, found = problems(_TraceFile, doc.data, doc)
    raise_all(found)
    ops: list[tuple[int, Op]] = []
    for i, raw in enumerate(trace.ops):
        kind = raw.get("kind")
        cls = OP_KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            found.append(f"{doc.where(('ops', i, 'kind'))}: ops[{i}].kind: must be one of "
                         f"{', '.join(map(repr, OP_KINDS))}, got {kind!r}")
            continue
        op, op_found = problems(cls, raw, doc, ("ops", i))
        found += op_found
        if op is not None:
            ops.append((i, op))
    raise_all(found)

    def where(i: int, op: Op) -> str:
        return f"{doc.where(('ops', i))}: ops[{i}] ({op.name})"

    for i, raw in enumerate(trace.ops):
        if "skip" in raw:
            found.append(f"{doc.where(('ops', i, 'skip'))}: ops[{i}].skip: set by a run (the hardware's "
                         "sparsity and zero_skipping), not by a trace; declare weight_sparsity and "
                         "tensor densities instead")
    declared: dict[str, tuple[int, ...]] = {}
    own: dict[str, str] = {}
    density: dict[str, float] = {}
    for name, entry in trace.tensors.items():
        form: Any = _TensorEntry if isinstance(entry, dict) else Shape
        value, entry_found = problems(form, entry, doc, ("tensors", name))
        found += entry_found
        if isinstance(value, _TensorEntry):
            declared[name] = tuple(value.shape)
            if value.dtype is not None:
                own[name] = value.dtype
            if value.density is not None:
                density[name] = float(value.density)
        elif value is not None:
            declared[name] = tuple(value)
    raise_all(found)
    written = {op.output for _, op in ops}
    names: set[str] = set()
    produced: dict[str, int] = {}
    for i, op in ops:
        if op.name in names:
            found.append(f"{where(i, op)}: op name {op.name!r} is used twice")
        names.add(op.name)
        if op.output in produced:
            found.append(f"{where(i, op)}: tensor {op.output!r} is already written by "
                         f"ops[{produced[op.output]}]")
        produced.setdefault(op.output, i)
        for t in op.inputs:
            if t not in declared and t not in written:
                found.append(f"{where(i, op)}: tensor {t!r} is read but is neither declared under "
                             f"tensors nor written by an op")
    for name in declared:
        if name not in produced and not any(name in op.inputs for _, op in ops):
            found.append(f"{doc.where(('tensors', name))}: tensors.{name}: declared but no op reads "
                         f"or writes it")
    for _, op in ops:
        if isinstance(op, Conv | Gemm | Scale) and (weight := op.weight) in declared:
            found.append(f"{doc.where(('tensors', weight))}: tensors.{weight}: this name is taken by "
                         f"the weights of {op.kind} {op.name!r}; rename the tensor")
    raise_all(found)

    graph_inputs = {t for t in declared if t not in produced}
    order, cycle = _dependency_order(ops)
    if cycle:
        raise_all([f"{where(cycle[0][0], cycle[0][1])}: ops "
                   f"{', '.join(op.name for _, op in cycle)} wait on each other's outputs (a cycle)"])

    shapes = {t: declared[t] for t in graph_inputs}
    for i, op in order:
        if any(t not in shapes for t in op.inputs):
            continue                      # an input failed its own checks
        if isinstance(op, Add):
            a, b = (shapes[t] for t in op.inputs)
            if a != b:
                found.append(f"{where(i, op)}: inputs {op.inputs[0]} {_fmt(a)} and {op.inputs[1]} "
                             f"{_fmt(b)} must have equal shapes")
                continue
            out = a
        elif isinstance(op, Concat):
            ins = [shapes[t] for t in op.inputs]
            op_found = op.check_shapes(ins)
            found += [f"{where(i, op)}: {msg}" for msg in op_found]
            if op_found:
                continue
            out = op.output_shape(ins)
        else:
            x = shapes[op.input]
            op_found = op.check(x)
            found += [f"{where(i, op)}: {msg}" for msg in op_found]
            if op_found:
                continue
            out = op.output_shape(x)
        given = declared.get(op.output)
        if given is not None and given != out:
            what = f"inputs are {_fmt(out)}" if isinstance(op, Add) else \
                f"this concat of {', '.join(op.inputs)} gives {_fmt(out)}" if isinstance(op, Concat) else \
                f"this {op.kind} of {op.input} {_fmt(shapes[op.input])} gives {_fmt(out)}"
            found.append(f"{where(i, op)}: output {op.output} is {_fmt(given)}, but {what}")
        shapes[op.output] = out
    raise_all(found)

    tensors = {name: Tensor(name, shape, own.get(name), density.get(name)) for name, shape in shapes.items()}
    for _, op in order:
        if isinstance(op, Conv):
            tensors[op.weight] = Tensor(op.weight, op.weight_shape)
        elif isinstance(op, Gemm | Scale):
            tensors[op.weight] = Tensor(op.weight, op.weight_shape(shapes[op.input]))
    return Workload(trace.name, tensors, tuple(op for _, op in order), trace.dtype)


def load_workload(path: str | Path) -> Workload:
    """Read and validate a workload trace YAML file, or the shipped trace of that name (`resnet50`)."""
    return workload_from_document(read_yaml(resolve(path, "workload")))


def workload_from_dict(data: dict, source: str = "<workload>") -> Workload:
    """Validate plain data (as a trace file would hold it) into a Workload."""
    return workload_from_document(YamlDocument(source, data, None))
