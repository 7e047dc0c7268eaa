"""ONNX models into accelsim workloads (needs the optional `onnx` package: pip install accelsim[onnx]).

Shapes come from ONNX shape inference; NCHW tensors become NHWC (`[N, C, H, W]`
-> `[N, H, W, C]`, `[N, K]` -> `[N, 1, 1, K]`). Mapped node types:

- Conv (one stride, one dilation and symmetric padding for both axes; bias is free)
- Add of two equal shapes; Relu fused into the Conv, Add or Gemm before it
- MaxPool, AveragePool, GlobalAveragePool
- Gemm and MatMul with a constant weight, as a `gemm` of out_features
- Flatten, Reshape, BatchNormalization, Identity, Dropout: pass-through (BatchNorm
  is taken as folded into the conv before it)

Flatten and Reshape pass through only tensors whose H x W is 1; auto_pad other
than VALID, ceil_mode, transA, non-constant weights and 1-D convs are refused
by name. Any other node is an error naming the node and its op type, unless
`skip_unsupported`, which drops it (its output becomes its first input, when the
shapes allow) and lists what it dropped.
"""

from __future__ import annotations

from pathlib import Path

from accelsim.errors import ConfigError
from accelsim.workload import Workload, workload_from_dict

PASS_THROUGH = {"Flatten", "Reshape", "BatchNormalization", "Identity", "Dropout"}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ConfigError("reading ONNX needs the onnx package: pip install 'accelsim[onnx]'") from None
    return onnx


def _attrs(node) -> dict:
    onnx = _onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _nhwc(shape: list[int]) -> list[int]:
    if len(shape) == 4:
        n, c, h, w = shape
        return [n, h, w, c]
    if len(shape) == 2:
        return [shape[0], 1, 1, shape[1]]
    raise ValueError(f"rank {len(shape)}")


def load_onnx(model, skip_unsupported: bool = False, source: str | None = None) -> tuple[Workload, list[str]]:
    """A workload from an ONNX model (a path or a ModelProto), and the nodes it skipped."""
    onnx = _onnx()
    if isinstance(model, str | Path):
        source = source or str(model)
        try:
            model = onnx.load(str(model))
        except Exception as exc:       # onnx raises DecodeError, OSError, ...: all mean "not a model"
            raise ConfigError(f"{source}: cannot read as ONNX: {exc}") from None
    source = source or "<onnx>"
    model = onnx.shape_inference.infer_shapes(model)
    graph = model.graph
    constants = {t.name: list(t.dims) for t in graph.initializer}
    shapes = {}
    for value in (*graph.input, *graph.value_info, *graph.output):
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
        if dims and all(d > 0 for d in dims):
            shapes[value.name] = dims

    alias: dict[str, str] = {}               # ONNX tensor -> accelsim tensor it stands for

    def name(t: str) -> str:
        while t in alias:
            t = alias[t]
        return t

    def where(node) -> str:
        return f"{source}: node {node.name or node.output[0]!r} ({node.op_type})"

    ops: list[dict] = []
    skipped: list[str] = []
    consumers: dict[str, list] = {}
    for node in graph.node:
        for t in node.input:
            consumers.setdefault(t, []).append(node)
    def refuse(node, why: str):
        raise ConfigError(f"{where(node)}: {why}")

    def shape_of(node, tensor: str) -> list[int]:
        if tensor not in shapes:
            refuse(node, f"tensor {tensor!r} needs a static shape (shape inference found none)")
        return shapes[tensor]

    for node in graph.node:
        a, kind = _attrs(node), node.op_type
        out = node.output[0]
        inputs = [name(t) for t in node.input if t not in constants]
        if kind in ("Conv", "MaxPool", "AveragePool") and a.get("auto_pad", b"NOTSET") not in (b"NOTSET",
                                                                                             b"VALID"):
            refuse(node, f"auto_pad={a['auto_pad'].decode()} is not supported; give explicit pads")
        if kind in ("MaxPool", "AveragePool") and a.get("ceil_mode", 0):
            refuse(node, "ceil_mode=1 is not supported")
        if kind in ("Conv", "Gemm", "MatMul") and (len(node.input) < 2 or node.input[1] not in constants):
            refuse(node, "its weights must be a constant initializer")
        if kind == "Conv":
            if len(constants[node.input[1]]) != 4:
                refuse(node, "only 2-D convolutions are supported")
            kh, kw = a.get("kernel_shape") or constants[node.input[1]][2:]
            strides, dil = a.get("strides", [1, 1]), a.get("dilations", [1, 1])
            pads = a.get("pads", [0, 0, 0, 0])
            if len(set(strides)) != 1 or len(set(dil)) != 1 or len(set(pads)) != 1:
                raise ConfigError(f"{where(node)}: strides {strides}, dilations {dil} and pads {pads} must "
                                  "each be the same for both axes")
            cout, cin_g = constants[node.input[1]][:2]
            group = a.get("group", 1)
            ops.append({"name": node.name or out, "kind": "conv", "input": inputs[0], "output": out,
                        "kh": kh, "kw": kw, "stride": strides[0], "pad": pads[0], "dilation": dil[0],
                        "groups": group, "cin": cin_g * group, "cout": cout})
        elif kind == "Add" and len(inputs) == 2:
            ops.append({"name": node.name or out, "kind": "add", "inputs": inputs, "output": out})
        elif kind == "Relu":
            producer = next((op for op in ops if op["output"] == inputs[0]), None)
            if producer is None or producer["kind"] not in ("conv", "add", "gemm") or \
                    len(consumers.get(node.input[0], [])) != 1:
                raise ConfigError(f"{where(node)}: a Relu must follow a Conv, Add or Gemm whose only "
                                  "consumer it is (it is fused into that op)")
            producer["relu"] = True
            alias[out] = inputs[0]
        elif kind in ("MaxPool", "AveragePool"):
            kh, kw = a["kernel_shape"]
            strides, pads = a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0])
            if len(set(strides)) != 1 or len(set(pads)) != 1:
                raise ConfigError(f"{where(node)}: strides {strides} and pads {pads} must each be the same "
                                  "for both axes")
            ops.append({"name": node.name or out, "kind": "maxpool" if kind == "MaxPool" else "avgpool",
                        "input": inputs[0], "output": out, "kh": kh, "kw": kw, "stride": strides[0],
                        "pad": pads[0]})
        elif kind == "GlobalAveragePool":
            _, _, h, w = shape_of(node, node.input[0])
            ops.append({"name": node.name or out, "kind": "avgpool", "input": inputs[0], "output": out,
                        "kh": h, "kw": w})
        elif kind in ("Gemm", "MatMul"):
            if a.get("transA", 0):
                refuse(node, "transA=1 is not supported")
            wshape = constants[node.input[1]]
            k, out_features = ((wshape[1], wshape[0]) if kind == "Gemm" and a.get("transB", 0)
                               else (wshape[0], wshape[1]))
            x = shape_of(node, node.input[0])
            if x[-1 if len(x) == 2 else 1] != k:
                refuse(node, f"its weights expect {k} input features, its input {node.input[0]!r} has "
                             f"shape {x}")
            ops.append({"name": node.name or out, "kind": "gemm", "input": inputs[0], "output": out,
                        "out_features": out_features})
        elif kind in PASS_THROUGH:
            x = shape_of(node, node.input[0])
            if kind in ("Flatten", "Reshape") and len(x) == 4 and x[2] * x[3] > 1:
                refuse(node, f"flattening {x} (H x W > 1) is not supported; accelsim keeps NHWC tensors")
            alias[out] = inputs[0]
        elif skip_unsupported:
            if inputs and shapes.get(node.input[0]) == shapes.get(out):
                alias[out] = inputs[0]
                skipped.append(f"{node.name or out} ({kind})")
            else:
                raise ConfigError(f"{where(node)}: unsupported, and it changes the shape, so it cannot "
                                  "be skipped")
        else:
            raise ConfigError(f"{where(node)}: unsupported op type (use --skip-unsupported to drop it)")

    tensors = {}
    for t in {t.name for t in graph.input if t.name not in constants}:
        try:
            tensors[t] = _nhwc(shapes[t])
        except (KeyError, ValueError):
            raise ConfigError(f"{source}: graph input {t!r} needs a known shape of rank 2 or 4") from None
    return workload_from_dict({"name": graph.name or Path(source).stem, "tensors": tensors, "ops": ops},
                              source), skipped
