"""ONNX models into accelsim workloads (needs the optional `onnx` package: pip install accelsim[onnx]).

Reading a model: (1) constant folding (`onnx_fold`): every node whose inputs are all
constants (`Constant`, `ConstantOfShape`, `Shape`, `Gather`, `Unsqueeze`, `Concat`,
`Cast`, `Reshape`, arithmetic...) is evaluated with numpy and its outputs become
constants, exactly like initializers (so a weight made by `ConstantOfShape` is a
weight); (2) ONNX shape inference on what is left; (3) each node, in graph order,
through the table `onnx_ops.OPS` (an accelsim op, a fold into the op before it, a
layout change, removed, or refused with a reason). NCHW tensors become NHWC
(`[N, C, H, W]` -> `[N, H, W, C]`, `[N, K]` -> `[N, 1, 1, K]`). Opsets 7 to 21.

A node the table refuses is an error naming the node and its op type, unless
`skip_unsupported` and the node has one activation input and an output of the same
shape (its output then becomes its input): a node that combines tensors (`Add`,
`Sum`, `Concat`, `Mul` of two activations, any node with two or more activation
inputs) or that changes the shape is never skipped. Every skipped node, fold and
layout conversion is listed in `OnnxImport.notes`, which `accelsim run` adds to the
result's notes (text report and `--json`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from accelsim.errors import ConfigError
from accelsim.importers.onnx_fold import SMALL, Constants, FoldError, fold
from accelsim.importers.onnx_ops import OPS, Builder, ConvWeights, Unmapped, nhwc, refuse
from accelsim.workload import Workload, workload_from_dict

OPSETS = (7, 21)          # the default-domain opsets this importer was checked against


@dataclass(frozen=True)
class OnnxImport:
    """An imported model: the workload, the nodes skipped (`name (OpType)`), and what a reader
    should know about the import (folds, skips, layout conversions), one line each."""

    workload: Workload
    skipped: tuple[str, ...]
    notes: tuple[str, ...]
    weights: Mapping[str, ConvWeights] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    """Per conv of the workload (by its name), where its weight values come from."""


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ConfigError("reading ONNX needs the onnx package: pip install 'accelsim[onnx]'") from None
    return onnx


def _attrs(node) -> dict:
    onnx = _onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _static(value_info) -> tuple[int, ...] | None:
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims = tuple(d.dim_value if d.HasField("dim_value") else 0 for d in t.shape.dim)
    return dims if all(d > 0 for d in dims) else None


def _infer(model, nodes, constants: Constants, source: str) -> dict[str, tuple[int, ...]]:
    """Static shapes by ONNX shape inference of `nodes`, constants given as typed inputs
    (with their data when small: shape vectors, axes)."""
    onnx = _onnx()
    graph = model.graph
    used = dict.fromkeys(t for n in nodes for t in n.input if t in constants)
    inputs = [i for i in graph.input if i.name not in constants]
    inputs += [onnx.helper.make_tensor_value_info(t, constants.dtype(t), constants.shape(t)) for t in used]
    inits = [onnx.numpy_helper.from_array(constants.array(t), t) for t in used
             if _size(constants.shape(t)) <= SMALL]
    lean = onnx.helper.make_model(
        onnx.helper.make_graph(nodes, graph.name, inputs, list(graph.output), inits),
        opset_imports=list(model.opset_import), ir_version=model.ir_version)
    try:
        inferred = onnx.shape_inference.infer_shapes(lean)
    except Exception as exc:               # onnx raises InferenceError, ValidationError, ...
        raise ConfigError(f"{source}: ONNX shape inference failed: {exc}") from None
    g = inferred.graph
    shapes = {v.name: _static(v) for v in (*g.input, *g.value_info, *g.output)}
    return {name: s for name, s in shapes.items() if s is not None}


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _opset(model, source: str) -> int:
    version = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if version is None or version < OPSETS[0]:
        raise ConfigError(f"{source}: ONNX opset {version} is not supported; accelsim reads opsets "
                          f"{OPSETS[0]} to {OPSETS[1]} (convert with onnx.version_converter)")
    return version


def _clean(name: str) -> str:
    """A node or tensor name as accelsim shows it: '+' (fusion), whitespace and control
    characters become '_'."""
    return re.sub(r"[+\s\x00-\x1f]", "_", name) or "_"


def import_onnx(model, skip_unsupported: bool = False, source: str | None = None) -> OnnxImport:
    """An ONNX model (a path or a ModelProto) as a workload; ConfigError naming the node and
    op type for anything it cannot map."""
    onnx = _onnx()
    if isinstance(model, str | Path):
        source = source or str(model)
        try:
            model = onnx.load(str(model))
        except Exception as exc:       # onnx raises DecodeError, OSError, ...: all mean "not a model"
            raise ConfigError(f"{source}: cannot read as ONNX: {exc}") from None
    source = source or "<onnx>"
    version = _opset(model, source)
    graph = model.graph
    constants = Constants(protos={t.name: t for t in graph.initializer})
    notes = []
    if version > OPSETS[1]:
        notes.append(f"import: opset {version} is newer than {OPSETS[1]}, the last accelsim was checked "
                     "against")

    nodes, folded = list(graph.node), []
    while True:        # fold, infer shapes, again while a fold made a new shape static (`Shape`)
        shapes = _infer(model, nodes, constants, source)
        try:
            nodes, more = fold(nodes, constants, shapes, _attrs)
        except FoldError as exc:
            raise refuse(source, exc.node, str(exc)) from None
        folded += more
        if not more:
            break
    if folded:
        kinds: dict[str, int] = {}
        for line in folded:
            kind = line.rsplit("(", 1)[1].rstrip(")")
            kinds[kind] = kinds.get(kind, 0) + 1
        notes.append(f"import: {len(folded)} nodes of constants evaluated when read ("
                     + ", ".join(f"{k} x{n}" for k, n in kinds.items()) + ")")

    consumers: dict[str, list] = {}
    for node in nodes:
        for t in node.input:
            consumers.setdefault(t, []).append(node)
    b = Builder(source, constants, shapes, consumers, {o.name for o in graph.output}, version)
    skipped: list[str] = []
    for node in nodes:
        entry = OPS.get(node.op_type)
        if node.domain not in ("", "ai.onnx"):
            entry = None
        for t in node.input:
            if t in b.flattened and node.op_type not in ("Gemm", "MatMul") and \
                    node.op_type not in ("Flatten", "Reshape", "Squeeze", "Unsqueeze"):
                flat = b.flattened[t]
                raise refuse(source, flat.node, f"flattening {list(flat.shape)} (H x W > 1) is supported "
                             f"only right before a Gemm or MatMul (here it feeds {node.op_type} "
                             f"{node.name or node.output[0]!r}); accelsim keeps NHWC tensors")
        for t in node.input:
            if t in b.shuffling and (node.op_type not in ("Transpose", "Reshape") or
                                     len(b.consumers[t]) > 1 or t in b.graph_outputs):
                held = b.shuffling[t]
                raise refuse(source, held.node, f"reshaping {list(held.shape)} to rank 5 is mapped only as "
                             "a channel shuffle (Reshape to [N, g, C/g, H, W], Transpose perm "
                             f"[0, 2, 1, 3, 4], Reshape back); here it feeds {node.op_type} "
                             f"{node.name or node.output[0]!r}")
        try:
            if entry is None or entry.handle is None:
                raise Unmapped(entry.why if entry else "unsupported op type")
            entry.handle(b, node, _attrs(node))
        except Unmapped as exc:
            why = str(exc)
            cannot = _why_not_skippable(b, node, entry)
            if skip_unsupported and cannot is None:
                acts = b.activations(node)
                b.pass_through(node, node.output[0], acts[0])
                skipped.append(f"{node.name or node.output[0]} ({node.op_type})")
                notes.append(f"import: skipped {node.name or node.output[0]} ({node.op_type}): {why}; "
                             "--skip-unsupported dropped it (its output is its input)")
                continue
            if cannot is None:
                hint = " (use --skip-unsupported to drop it)"
            else:
                hint = f"; --skip-unsupported cannot drop it: {cannot}" if skip_unsupported else ""
            if why == "unsupported op type":
                raise refuse(source, node, f"unsupported op type{hint}") from None
            raise refuse(source, node, f"{why}{hint}") from None
    for held in b.shuffling.values():
        raise refuse(source, held.node, f"reshaping {list(held.shape)} to rank 5 is mapped only as a "
                     "channel shuffle (Reshape to [N, g, C/g, H, W], Transpose perm [0, 2, 1, 3, 4], "
                     "Reshape back)")
    for flat in b.flattened.values():
        raise refuse(source, flat.node, f"flattening {list(flat.shape)} (H x W > 1) is supported only "
                     "right before a Gemm or MatMul; accelsim keeps NHWC tensors")
    notes += b.notes
    for key, names in b.folds.items():
        notes.append(f"import: {len(names)} {key}: {_some(names)}")
    weights: dict[str, ConvWeights] = {}
    workload = _workload(b, graph, source, weights)
    return OnnxImport(workload, tuple(skipped), tuple(notes), MappingProxyType(weights))


def _some(names: list[str], most: int = 4) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def _why_not_skippable(b: Builder, node, entry) -> str | None:
    """Why --skip-unsupported may not drop `node`, or None when it may."""
    acts = b.activations(node)
    if (entry is not None and not entry.skippable) or len(acts) > 1:
        return (f"it combines {len(acts)} tensors" if len(acts) > 1 else
                f"a {node.op_type} is never dropped (what it computes would be lost, not just its cost)")
    if len(acts) != 1 or acts[0] != node.input[0]:
        return "it has no activation input to stand in for its output"
    if any(t and (b.consumers.get(t) or t in b.graph_outputs) for t in node.output[1:]):
        return "more than its first output is read"
    src, out = b.shapes.get(acts[0]), b.shapes.get(node.output[0])
    if src is None or src != out:
        return f"it changes the shape ({list(src or ())} -> {list(out or ())})"
    if acts[0] in b.flattened:
        return "its input is a flattened map"
    return None


def _workload(b: Builder, graph, source: str, weights: dict[str, ConvWeights]) -> Workload:
    """The op dicts as a validated workload, names cleaned and made unique; each conv's
    weight source into `weights`, by its name."""
    read = {t for op in b.ops for t in (op["inputs"] if "inputs" in op else [op["input"]])}
    tensors = {}
    for value in graph.input:
        if value.name in b.constants or value.name not in read:
            continue
        shape = b.shapes.get(value.name)
        try:
            tensors[value.name] = list(nhwc(shape)) if shape else None
        except Unmapped:
            tensors[value.name] = None
        if tensors[value.name] is None:
            raise ConfigError(f"{source}: graph input {value.name!r} needs a known shape of rank 2 or 4")
    if not b.ops:
        raise ConfigError(f"{source}: no node maps to an accelsim op (the graph has no Conv, Gemm, "
                          "MatMul, Add or pool)")
    taken: set[str] = set()
    ops = []
    for op in b.ops:
        op = dict(op)
        op.pop("activation", None)
        held = op.pop("weights", None)
        name = _clean(op["name"])
        while name in taken:
            name = f"{name}_"
        taken.add(name)
        if held is not None:
            weights[name] = held
        op["name"] = name
        op["output"] = _clean(op["output"])
        if "inputs" in op:
            op["inputs"] = [_clean(t) for t in op["inputs"]]
        else:
            op["input"] = _clean(op["input"])
        ops.append(op)
    name = _clean(graph.name) if graph.name else Path(source).stem
    return workload_from_dict({"name": name, "tensors": {_clean(t): s for t, s in tensors.items()},
                               "ops": ops}, source)


def load_onnx(model, skip_unsupported: bool = False, source: str | None = None) -> tuple[Workload, list[str]]:
    """A workload from an ONNX model (a path or a ModelProto), and the nodes it skipped."""
    found = import_onnx(model, skip_unsupported, source)
    return found.workload, list(found.skipped)
