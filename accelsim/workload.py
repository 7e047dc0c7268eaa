"""Workload graph: named NHWC tensors and the conv and add ops between them.

A trace file lists every tensor with its shape `[N, H, W, C]` (elements) and
the ops in execution order. Conv weights are implicit: conv `c` reads
`c.weight` of shape `[Cout, kh, kw, Cin/groups]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from accelsim.schema import STRICT, Name, NonNegInt, PosInt, problems, raise_all
from accelsim.yamlio import YamlDocument, read_yaml

Shape = tuple[PosInt, PosInt, PosInt, PosInt]


@dataclass(frozen=True)
class Tensor:
    """A named activation or weight tensor; `shape` in elements."""

    name: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Conv:
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

    @property
    def weight(self) -> str:
        """Name of the implicit weight tensor."""
        return f"{self.name}.weight"

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.cout, self.kh, self.kw, self.cin // self.groups)

    def output_size(self, size: int, k: int) -> int:
        """Output rows (or cols) for `size` input rows and kernel extent `k`."""
        return (size + 2 * self.pad - self.dilation * (k - 1) - 1) // self.stride + 1

    def input_rows(self, out_start: int, out_stop: int, height: int) -> tuple[int, int]:
        """Input rows `[start, stop)` that output rows `[out_start, out_stop)` read.

        Rows in the padding are not stored, so the range is clipped to `[0, height)`;
        it is empty (start == stop) when those outputs read padding only.
        """
        first = out_start * self.stride - self.pad
        last = (out_stop - 1) * self.stride - self.pad + (self.kh - 1) * self.dilation
        start = min(max(first, 0), height)
        return start, max(min(last + 1, height), start)


@dataclass(frozen=True)
class Add:
    """Element-wise add of two equal-shape tensors."""

    __pydantic_config__ = STRICT
    name: Name
    kind: Literal["add"]
    inputs: tuple[Name, Name]
    output: Name


Op = Conv | Add
OP_KINDS: dict[str, type] = {"conv": Conv, "add": Add}


@dataclass(frozen=True)
class _TraceFile:
    __pydantic_config__ = STRICT
    name: Name
    tensors: dict[Name, Shape]
    ops: Annotated[list[dict[str, Any]], Field(min_length=1)]


@dataclass(frozen=True)
class Workload:
    """Tensors by name (weights included) and ops in execution order."""

    name: str
    tensors: dict[str, Tensor]
    ops: tuple[Op, ...]

    def consumers(self, tensor: str) -> list[Op]:
        return [op for op in self.ops if tensor in _inputs(op)]


def _inputs(op: Op) -> tuple[str, ...]:
    return (op.input,) if isinstance(op, Conv) else op.inputs


def _fmt(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _check_conv(op: Conv, shapes: dict[str, tuple], where: str) -> list[str]:
    found = []
    if op.cin % op.groups or op.cout % op.groups:
        found.append(f"{where}: groups={op.groups} must divide cin={op.cin} and cout={op.cout}")
    x = shapes.get(op.input)
    if x is None:
        return found
    n, h, w, c = x
    if c != op.cin:
        found.append(f"{where}: input {op.input} has {c} channels, cin is {op.cin}")
    ho, wo = op.output_size(h, op.kh), op.output_size(w, op.kw)
    if ho < 1 or wo < 1:
        found.append(f"{where}: a {op.kh}x{op.kw} kernel does not fit input {op.input} {_fmt(x)}")
        return found
    y = shapes.get(op.output)
    if y is not None and tuple(y) != (n, ho, wo, op.cout):
        found.append(
            f"{where}: output {op.output} is {_fmt(y)}, but this conv of {op.input} "
            f"{_fmt(x)} gives {_fmt((n, ho, wo, op.cout))}"
        )
    return found


def _check_add(op: Add, shapes: dict[str, tuple], where: str) -> list[str]:
    a, b = (shapes.get(t) for t in op.inputs)
    y = shapes.get(op.output)
    if a is None or b is None:
        return []
    if a != b:
        return [f"{where}: inputs {op.inputs[0]} {_fmt(a)} and {op.inputs[1]} {_fmt(b)} "
                "must have equal shapes"]
    if y is not None and y != a:
        return [f"{where}: output {op.output} is {_fmt(y)}, inputs are {_fmt(a)}"]
    return []


def workload_from_document(doc: YamlDocument) -> Workload:
    """Validate a parsed trace; ConfigError lists every problem with file and line."""
    trace, found = problems(_TraceFile, doc.data, doc)
    raise_all(found)
    ops: list[Op] = []
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

    shapes = {name: tuple(shape) for name, shape in trace.tensors.items()}
    names, produced = set(), {}
    for i, op in ops:
        where = f"{doc.where(('ops', i))}: ops[{i}] ({op.name})"
        if op.name in names:
            found.append(f"{where}: op name {op.name!r} is used twice")
        names.add(op.name)
        for t in (*_inputs(op), op.output):
            if t not in shapes:
                found.append(f"{where}: tensor {t!r} is not declared under tensors")
        if op.output in produced:
            found.append(f"{where}: tensor {op.output!r} is already written by ops[{produced[op.output]}]")
        produced.setdefault(op.output, i)
        check = _check_conv if isinstance(op, Conv) else _check_add
        found += check(op, shapes, where)
    for i, op in ops:
        for t in _inputs(op):
            if t in produced and produced[t] > i:
                found.append(f"{doc.where(('ops', i))}: ops[{i}] ({op.name}): reads {t!r} "
                             f"before ops[{produced[t]}] writes it")
    raise_all(found)

    for _, op in ops:
        if isinstance(op, Conv) and op.weight in shapes:
            found.append(f"{doc.where(('tensors', op.weight))}: tensors.{op.weight}: this name is "
                         f"taken by the weights of conv {op.name!r}; rename the tensor")
    raise_all(found)

    tensors = {name: Tensor(name, shape) for name, shape in shapes.items()}
    for _, op in ops:
        if isinstance(op, Conv):
            tensors[op.weight] = Tensor(op.weight, op.weight_shape)
    return Workload(trace.name, tensors, tuple(op for _, op in ops))


def load_workload(path: str | Path) -> Workload:
    """Read and validate a workload trace YAML file."""
    return workload_from_document(read_yaml(path))


def workload_from_dict(data: dict, source: str = "<workload>") -> Workload:
    """Validate plain data (as a trace file would hold it) into a Workload."""
    return workload_from_document(YamlDocument(source, data, None))
