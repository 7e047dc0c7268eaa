"""What each ONNX op type becomes in an accelsim workload: the table `OPS`.

Each entry names what the node becomes (an accelsim op, a fold into the op before it,
a layout change, removed, or refused with a reason) and its cost; supporting a new op
type is one entry (and its handler) plus its test. docs/model.md shows the table.

Handlers read ONNX (NCHW) shapes from shape inference and write op dicts in the
trace-file form (`accelsim.workload`), whose tensors are NHWC.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelsim.errors import ConfigError
from accelsim.importers.onnx_fold import Constants


class Unmapped(Exception):
    """A node this importer cannot map (the message says why); --skip-unsupported may drop it."""


def nhwc(shape: tuple[int, ...]) -> tuple[int, ...]:
    """NCHW -> NHWC; `[N, K]` -> `[N, 1, 1, K]`."""
    if len(shape) == 4:
        n, c, h, w = shape
        return (n, h, w, c)
    if len(shape) == 2:
        return (shape[0], 1, 1, shape[1])
    raise Unmapped(f"a tensor of rank {len(shape)} ({list(shape)}); accelsim keeps rank-4 NHWC tensors")


@dataclass(frozen=True)
class Flattened:
    """A rank-4 map with H x W > 1 flattened to `[N, C*H*W]`, waiting for its Gemm/MatMul."""

    tensor: str                      # the accelsim tensor of the map
    shape: tuple[int, int, int, int]  # its NCHW shape
    node: Any                        # the Flatten/Reshape node (an onnx NodeProto)


@dataclass(frozen=True)
class Shuffling:
    """A channel shuffle under way: map `tensor` (NCHW `shape`) reshaped to `[N, g, C/g, H, W]`
    by `node` (`transposed`: and then transposed by perm `[0, 2, 1, 3, 4]`), waiting for the
    Reshape back to `shape`."""

    tensor: str                      # the accelsim tensor of the map
    shape: tuple[int, int, int, int]  # its NCHW shape
    groups: int
    node: Any                        # the first Reshape (an onnx NodeProto)
    transposed: bool = False


@dataclass(frozen=True)
class ConvWeights:
    """Where an imported conv's weight values come from (`accelsim prune` ranks filters by
    them; read only when asked): the ONNX constant `name` (a Conv's `[Cout, Cin/groups, kh,
    kw]`; a Gemm's imported as a conv after a flatten, `[N, K]` or `[K, N]`), the axis of its
    output channels, and the per-output-channel factors folded into it after (a
    BatchNormalization's `scale / sqrt(var + epsilon)`, a Mul's constant, 1 / a Div's), each
    `[Cout]` float64."""

    constants: Constants = field(repr=False, compare=False)
    name: str
    axis: int = 0
    factors: tuple[Any, ...] = ()

    def l1_norms(self) -> np.ndarray:
        """Per output channel, the L1 norm of its folded weights, `|f_c| * sum |w_c|` (f the
        product of the factors), float64 `[Cout]`."""
        w = np.abs(np.asarray(self.constants.array(self.name), dtype=np.float64))
        norms = w.sum(axis=tuple(a for a in range(w.ndim) if a != self.axis))
        for f in self.factors:
            norms = norms * np.abs(f)
        return norms


@dataclass
class Builder:
    """The importer's state while it walks the nodes in graph order."""

    source: str
    constants: Constants
    shapes: dict[str, tuple[int, ...]]           # ONNX tensor -> static NCHW shape
    consumers: dict[str, list]                   # ONNX tensor -> nodes that read it
    graph_outputs: set[str]
    opset: int = 21                              # the model's default-domain opset
    ops: list[dict] = field(default_factory=list)
    writer: dict[str, dict] = field(default_factory=dict)      # tensor -> the op dict that writes it
    alias: dict[str, str] = field(default_factory=dict)        # ONNX tensor -> tensor it stands for
    aliases_of: dict[str, list[str]] = field(default_factory=dict)
    absorbed: set[int] = field(default_factory=set)            # id() of nodes folded or passed through
    flattened: dict[str, Flattened] = field(default_factory=dict)
    shuffling: dict[str, Shuffling] = field(default_factory=dict)   # ONNX rank-5 tensor -> its shuffle
    folds: dict[str, list[str]] = field(default_factory=dict)  # note key -> node names
    notes: list[str] = field(default_factory=list)

    # -- reading ------------------------------------------------------------------------
    def resolve(self, t: str) -> str:
        while t in self.alias:
            t = self.alias[t]
        return t

    def activations(self, node) -> list[str]:
        """The node's inputs that are not constants (nor omitted optional inputs)."""
        return [t for t in node.input if t and t not in self.constants]

    def shape(self, t: str) -> tuple[int, ...]:
        if t in self.constants:
            return self.constants.shape(t)
        if t not in self.shapes:
            raise Unmapped(f"tensor {t!r} needs a static shape (shape inference found none)")
        return self.shapes[t]

    def constant(self, node, position: int, what: str) -> np.ndarray | None:
        """The constant input at `position` (None when omitted); Unmapped if it is an activation."""
        if len(node.input) <= position or not node.input[position]:
            return None
        t = node.input[position]
        if t not in self.constants:
            raise Unmapped(f"its {what} ({t!r}) must be a constant")
        return self.constants.array(t)

    def producer(self, t: str) -> dict | None:
        """The op dict that writes the tensor `t` stands for (None: a graph input)."""
        return self.writer.get(self.resolve(t))

    def live_uses(self, t: str) -> int:
        """How many not-yet-absorbed nodes (and graph outputs) read the tensor `t` stands for."""
        target = self.resolve(t)
        names = [target, *self.aliases_of.get(target, [])]
        return sum(id(c) not in self.absorbed for n in names for c in self.consumers.get(n, ())) + \
            sum(n in self.graph_outputs for n in names)

    # -- writing ------------------------------------------------------------------------
    def add(self, node, op: dict, output: str | None = None) -> dict:
        op = {"name": node.name or node.output[0], "output": output or node.output[0], **op}
        self.ops.append(op)
        self.writer[op["output"]] = op
        return op

    def pass_through(self, node, out: str, to: str) -> None:
        """`out` is `to` (no op): the node is folded, removed or a free layout change."""
        target = self.resolve(to)
        self.alias[out] = target
        self.aliases_of.setdefault(target, []).append(out)
        self.absorbed.add(id(node))

    def fold_note(self, key: str, node) -> None:
        self.folds.setdefault(key, []).append(node.name or node.output[0])


Handler = Callable[[Builder, object, dict], None]


def _one_activation(b: Builder, node) -> str:
    acts = b.activations(node)
    if len(acts) != 1:
        raise Unmapped(f"expected one activation input, got {len(acts)}")
    return acts[0]


def _check_extra_outputs(b: Builder, node) -> None:
    for t in node.output[1:]:
        if t and (b.consumers.get(t) or t in b.graph_outputs):
            raise Unmapped(f"its output {t!r} (beyond the first) is read; only the first is mapped")


def _window(a: dict, kind: str) -> tuple[int, list[int]]:
    """(stride, pads as [top, left, bottom, right]) of a Conv or pool; a conv's pads and a
    window's strides the same on both axes."""
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID"):
        raise Unmapped(f"auto_pad={a['auto_pad'].decode()} is not supported; give explicit pads")
    strides, pads = list(a.get("strides", [1, 1])), list(a.get("pads", [0, 0, 0, 0]))
    dil = list(a.get("dilations", [1, 1]))
    if kind == "conv":
        if len(set(strides)) != 1 or len(set(dil)) != 1 or len(set(pads)) != 1:
            raise Unmapped(f"strides {strides}, dilations {dil} and pads {pads} must each be the same "
                           "for both axes")
    else:
        if set(dil) != {1}:
            raise Unmapped(f"dilations {dil}: dilated pools are not supported")
        if len(set(strides)) != 1:
            raise Unmapped(f"strides {strides} must be the same for both axes")
    return strides[0], pads


# -- handlers ---------------------------------------------------------------------------
def conv(b: Builder, node, a: dict) -> None:
    if len(node.input) < 2 or node.input[1] not in b.constants:
        raise Unmapped("its weights must be a constant initializer")
    x = _one_activation(b, node)
    b.constant(node, 2, "bias")
    wshape = b.constants.shape(node.input[1])
    if len(wshape) != 4:
        raise Unmapped("only 2-D convolutions are supported")
    kh, kw = a.get("kernel_shape") or wshape[2:]
    stride, (pad, *_) = _window(a, "conv")
    cout, cin_g = wshape[:2]
    group = a.get("group", 1)
    b.add(node, {"kind": "conv", "input": b.resolve(x), "kh": kh, "kw": kw, "stride": stride, "pad": pad,
                 "dilation": a.get("dilations", [1])[0], "groups": group, "cin": cin_g * group,
                 "cout": cout, "weights": ConvWeights(b.constants, node.input[1])})


def gemm(b: Builder, node, a: dict) -> None:
    """Gemm (Y = alpha * A' B' + beta * C) and MatMul with a constant B."""
    x = _one_activation(b, node)
    if node.input[0] != x or len(node.input) < 2 or node.input[1] not in b.constants:
        raise Unmapped("its weights (the second input) must be a constant initializer")
    if node.op_type == "Gemm":
        b.constant(node, 2, "C input (a bias)")
    wshape = b.constants.shape(node.input[1])
    if len(wshape) != 2:
        raise Unmapped(f"its weights have rank {len(wshape)}; only a 2-D weight matrix is mapped")
    k, n_out = (wshape[1], wshape[0]) if a.get("transB", 0) else wshape
    if x in b.flattened:
        flat = b.flattened.pop(x)
        _, c, h, w = flat.shape
        if a.get("transA", 0) or c * h * w != k:
            raise Unmapped(f"its weights expect {k} input features, the flattened map has {c * h * w}")
        b.add(node, {"kind": "conv", "input": flat.tensor, "kh": h, "kw": w, "cin": c, "cout": n_out,
                     "weights": ConvWeights(b.constants, node.input[1], 0 if a.get("transB", 0) else 1)})
        b.notes.append(f"import: {node.name or node.output[0]} ({node.op_type}) over the {h}x{w}x{c} map "
                       f"flattened by {flat.node.name or flat.node.output[0]} ({flat.node.op_type}): "
                       f"imported as a {h}x{w} conv, no padding, {n_out} channels (same MACs and bytes)")
        return
    xshape = b.shape(x)
    if len(xshape) != 2:
        if len(xshape) == 4 and xshape[1] != k:
            raise Unmapped(f"its weights expect {k} input features, its input {x!r} has shape {list(xshape)}")
        raise Unmapped(f"its input {x!r} has shape {list(xshape)}; only a [rows, features] input is mapped")
    rows, feats = xshape
    if a.get("transA", 0):
        rows, feats = feats, rows
        if rows != 1:
            raise Unmapped(f"transA=1 with {rows} rows is not supported (only one row is a layout no-op)")
    if feats != k:
        raise Unmapped(f"its weights expect {k} input features, its input {x!r} has shape {list(xshape)}")
    src = b.resolve(x)
    if nhwc(b.shape(src)) != (rows, 1, 1, k):
        raise Unmapped(f"its input {x!r} is the tensor {src!r} of shape {list(b.shape(src))}, which is "
                       f"not laid out as {rows} rows of {k} features")
    b.add(node, {"kind": "gemm", "input": src, "out_features": n_out})


def add(b: Builder, node, a: dict) -> None:
    """Add and Sum: of activations an accelsim add (a chain for n-ary Sum); with constants a bias."""
    acts = b.activations(node)
    if len(acts) == 1:
        if len(node.input) == 1:                         # a one-input Sum
            b.pass_through(node, node.output[0], acts[0])
        else:
            _fold_affine(b, node, acts[0], "shift")
        return
    if len(acts) != len(node.input):
        raise Unmapped(f"adds constants to {len(acts)} activations; only an add of activations, or a "
                       "per-channel constant after a Conv or Gemm, is mapped")
    shapes = [b.shape(t) for t in acts]
    if len(set(shapes)) != 1:
        raise Unmapped(f"adds tensors of shapes {', '.join(map(str, map(list, shapes)))}; only equal "
                       "shapes are mapped (no broadcast)")
    name = node.name or node.output[0]
    left = b.resolve(acts[0])
    for k, t in enumerate(acts[1:], start=1):
        last = k == len(acts) - 1
        out = node.output[0] if last else f"{node.output[0]}.sum{k}"
        op = b.add(node, {"kind": "add", "inputs": [left, b.resolve(t)]}, out)
        op["name"] = name if last else f"{name}.sum{k}"
        left = out


def affine(b: Builder, node, a: dict) -> None:
    """Mul, Sub and Div: by a per-channel constant, folded into the Conv or Gemm before."""
    acts = b.activations(node)
    if len(acts) != 1:
        verb = {"Mul": "multiplies", "Sub": "subtracts", "Div": "divides"}[node.op_type]
        raise Unmapped(f"{verb} {len(acts)} activations element-wise, which is not an accelsim op")
    if node.op_type == "Div" and node.input[0] != acts[0]:
        raise Unmapped("divides a constant by an activation, which is not an accelsim op")
    _fold_affine(b, node, acts[0], "shift" if node.op_type == "Sub" else "scale")


def batchnorm(b: Builder, node, a: dict) -> None:
    x = _one_activation(b, node)
    if node.input[0] != x:
        raise Unmapped("its scale, bias, mean and variance must be constants")
    if a.get("training_mode", 0):
        raise Unmapped("training_mode=1 is not supported (inference only)")
    if a.get("spatial", 1) == 0:                          # opset < 9: per-element statistics
        raise Unmapped("spatial=0 (a scale per element, not per channel) is not supported")
    _check_extra_outputs(b, node)
    _fold_affine(b, node, x, "scale and shift")


def _fold_affine(b: Builder, node, x: str, what: str) -> None:
    """Fold a per-channel scale/shift on `x` into the Conv, Gemm or scale that writes it (exact:
    the conv's weights and bias, or the scale's constants, absorb it; its cost is unchanged)
    when that op has no fused activation and no other reader; otherwise a `scale` op on the
    add (vector) unit."""
    xshape = b.shape(x)
    for t in node.input:
        if t and t in b.constants and node.op_type != "BatchNormalization":   # BN's are [C] by definition
            c = b.constants.shape(t)
            first = len(xshape) - len(c)                 # numpy broadcasting aligns the last axes
            if first < 0 or any(d != 1 and not (first + i == 1 and d == xshape[1]) for i, d in enumerate(c)):
                raise Unmapped(f"its constant {t!r} of shape {list(c)} is not per-channel for "
                               f"{x!r} {list(xshape)}")
    producer = b.producer(x)
    if (producer is None or producer["kind"] not in ("conv", "gemm", "scale") or producer.get("relu")
            or producer.get("activation") or b.live_uses(x) != 1):
        if len(xshape) != 4:
            raise Unmapped(f"a per-channel {what} of {x!r} {list(xshape)} that folds into no Conv or Gemm "
                           "before it runs as a scale on the vector unit, which takes an NCHW map only")
        b.add(node, {"kind": "scale", "input": b.resolve(x)})
        return
    b.pass_through(node, node.output[0], x)
    factor = _weight_factor(b, node, xshape[1])
    if "weights" in producer and factor is not None:
        held = producer["weights"]
        producer["weights"] = ConvWeights(held.constants, held.name, held.axis, (*held.factors, factor))
    into = "scale" if producer["kind"] == "scale" else "conv or gemm"
    b.fold_note(f"{node.op_type} folded into the {into} before it (exact; that op's cost is "
                f"unchanged)", node)


def _weight_factor(b: Builder, node, channels: int) -> np.ndarray | None:
    """What a per-channel node folded into the conv before it multiplies that conv's weights
    by, per output channel (`[channels]` float64); None for a shift (Add, Sub)."""
    if node.op_type == "BatchNormalization":
        eps = next((at.f for at in node.attribute if at.name == "epsilon"), 1e-5)
        scale, var = (np.asarray(b.constants.array(node.input[i]), dtype=np.float64) for i in (1, 4))
        return np.broadcast_to(scale / np.sqrt(var + eps), (channels,))
    if node.op_type not in ("Mul", "Div"):
        return None
    c = np.asarray(b.constants.array(next(t for t in node.input if t in b.constants)), dtype=np.float64)
    vector = np.broadcast_to(c.ravel(), (channels,))       # per channel: every other axis is 1
    return 1.0 / vector if node.op_type == "Div" else vector


def activation(b: Builder, node, a: dict) -> None:
    """Relu and Clip: fused as the activation of the Conv, Add, Gemm or scale before (free in cost)."""
    x = _one_activation(b, node)
    producer = b.producer(x)
    if node.op_type == "Relu" and producer is not None and producer["kind"] == "concat" and \
            b.live_uses(x) == 1:
        _relu_of_concat(b, node, producer)
        return
    if producer is None or producer["kind"] not in ("conv", "add", "gemm", "scale") or b.live_uses(x) != 1:
        raise Unmapped(f"a {node.op_type} must follow a Conv, Add, Gemm or scale (a batch norm on the vector "
                       "unit) whose only consumer it is (it is fused into that op)")
    if node.op_type == "Relu":
        lo, hi = 0.0, math.inf
    elif "min" in a or "max" in a:                      # opset < 11
        lo, hi = a.get("min", -math.inf), a.get("max", math.inf)
    else:
        found = [b.constant(node, i, name) for i, name in ((1, "min"), (2, "max"))]
        lo = float(found[0]) if found[0] is not None else -math.inf
        hi = float(found[1]) if found[1] is not None else math.inf
    if producer.get("activation") or (producer.get("relu") and (lo, hi) != (0.0, math.inf)):
        raise Unmapped(f"{producer['name']!r} already has a fused activation")
    if lo == 0.0:
        producer["relu"] = True
    else:
        producer["activation"] = True              # dropped before the op reaches the workload
    b.pass_through(node, node.output[0], x)
    if node.op_type == "Clip":
        bounds = f"{lo:g}..{hi:g}"
        how = ("as the ReLU of the op before; the upper bound is free and not applied by accelsim's "
               "functional model" if lo == 0.0 else
               "as a free activation of the op before (drained with its outputs); accelsim's functional "
               "model does not apply it")
        b.fold_note(f"Clip {bounds} fused {how}", node)


def _nonnegative(b: Builder, t: str) -> bool:
    """Whether the tensor `t` stands for holds no negative value: written by an op with a fused
    ReLU, or by a pool (or concat) of such tensors (a max or mean of values >= 0 is >= 0)."""
    op = b.producer(t)
    if op is None:
        return False
    if op.get("relu"):
        return True
    if op["kind"] in ("maxpool", "avgpool"):
        return _nonnegative(b, op["input"])
    return op["kind"] == "concat" and all(_nonnegative(b, i) for i in op["inputs"])


def _relu_of_concat(b: Builder, node, cat: dict) -> None:
    """A Relu whose only input is a concat's output (and the concat's only reader): relu(concat(...))
    is the concat of each input's relu, so each input takes it: fused into its Conv, Add, Gemm or
    scale when the concat is that op's only reader, nothing when it holds no negative value
    (`_nonnegative`); otherwise refused. Exact, and free in cost."""
    fuse = []
    for t in cat["inputs"]:
        if _nonnegative(b, t):
            continue
        op = b.producer(t)
        if op is None or op["kind"] not in ("conv", "add", "gemm", "scale") or b.live_uses(t) != 1 or \
                op.get("activation"):
            raise Unmapped(f"a Relu after concat {cat['name']!r} fuses into its inputs' ops, but input {t!r} "
                           "is neither written by a Conv, Add, Gemm or scale the concat alone reads nor "
                           "free of negative values")
        fuse.append(op)
    for op in fuse:
        op["relu"] = True
    b.pass_through(node, node.output[0], node.input[0])
    b.fold_note("Relu after a concat fused into the ops that write the concat's inputs (an input "
                "of a pool of ReLU outputs needs none)", node)


def pool(b: Builder, node, a: dict) -> None:
    """MaxPool and AveragePool: pads per side (ONNX's [top, left, bottom, right] is the
    workload's order), ceil_mode, and AveragePool's count_include_pad (ONNX's default 0)."""
    x = _one_activation(b, node)
    _check_extra_outputs(b, node)
    kh, kw = a["kernel_shape"]
    stride, pads = _window(a, "pool")
    op = {"kind": "maxpool" if node.op_type == "MaxPool" else "avgpool", "input": b.resolve(x),
          "kh": kh, "kw": kw, "stride": stride}
    if len(set(pads)) == 1:
        op["pad"] = pads[0]
    else:
        op["pads"] = pads
    if a.get("ceil_mode", 0):
        op["ceil_mode"] = True
    if node.op_type == "AveragePool" and (any(pads) or op.get("ceil_mode")):
        op["count_include_pad"] = bool(a.get("count_include_pad", 0))
    b.add(node, op)


def lrn(b: Builder, node, a: dict) -> None:
    """LRN across channels, on the add (vector) unit."""
    x = _one_activation(b, node)
    b.add(node, {"kind": "lrn", "input": b.resolve(x), "size": int(a["size"]),
                 "alpha": float(a.get("alpha", 0.0001)), "beta": float(a.get("beta", 0.75)),
                 "bias": float(a.get("bias", 1.0))})


def softmax(b: Builder, node, a: dict) -> None:
    """Softmax over the channels (the last NHWC axis), on the add (vector) unit: a `[N, K]`
    classifier's, or over axis 1 of a map whose H x W is 1 (or, from opset 13, of any map)."""
    x = _one_activation(b, node)
    shape = b.shape(x)
    axis = int(a.get("axis", 1 if b.opset < 13 else -1))
    axis = axis + len(shape) if axis < 0 else axis
    spatial = math.prod(shape[2:]) if len(shape) == 4 else 1
    if len(shape) not in (2, 4) or axis != 1 or (spatial > 1 and b.opset < 13):
        raise Unmapped(f"a softmax over axis {axis} of {list(shape)} is not over the channels; accelsim "
                       "maps the channel softmax only")
    b.add(node, {"kind": "softmax", "input": b.resolve(x)})


def global_pool(b: Builder, node, a: dict) -> None:
    x = _one_activation(b, node)
    _, _, h, w = b.shape(x)
    b.add(node, {"kind": "maxpool" if node.op_type == "GlobalMaxPool" else "avgpool",
                 "input": b.resolve(x), "kh": h, "kw": w})


def layout(b: Builder, node, a: dict) -> None:
    """Flatten, Reshape, Squeeze, Unsqueeze of an activation: free when the NHWC layout does not
    change; a flatten of H x W > 1 waits for its Gemm/MatMul (which becomes a conv)."""
    for i in range(1, len(node.input)):
        b.constant(node, i, "shape" if node.op_type == "Reshape" else "axes")
    x = _one_activation(b, node)
    src, out = b.shape(x), b.shape(node.output[0])
    if _shuffle_step(b, node, x, src, out):
        return
    if x in b.flattened and src == out:
        b.flattened[node.output[0]] = b.flattened.pop(x)
        b.absorbed.add(id(node))
        return
    def vector(shape: tuple[int, ...]) -> bool:      # one axis > 1 at most: the same memory any way
        return sum(d > 1 for d in shape) <= 1

    if src == out or (x not in b.flattened and (
            (len(src) in (2, 4) and len(out) in (2, 4) and nhwc(src) == nhwc(out)) or
            (vector(src) and vector(out) and math.prod(src) == math.prod(out)))):
        b.pass_through(node, node.output[0], x)
        return
    if len(src) == 4 and src[2] * src[3] > 1 and out == (src[0], src[1] * src[2] * src[3]) and \
            x not in b.flattened:
        b.flattened[node.output[0]] = Flattened(b.resolve(x), src, node)   # type: ignore[arg-type]
        b.absorbed.add(id(node))
        return
    raise Unmapped(f"reshaping {list(src)} to {list(out)} is not supported; accelsim keeps NHWC tensors "
                   "and maps only reshapes that leave the layout unchanged, or a flatten right before "
                   "a Gemm/MatMul")


def _shuffle_step(b: Builder, node, x: str, src: tuple[int, ...], out: tuple[int, ...]) -> bool:
    """A Reshape of a channel shuffle (ShuffleNet's Reshape `[N, C, H, W]` -> `[N, g, C/g, H, W]`
    -> Transpose perm `[0, 2, 1, 3, 4]` -> Reshape back): the first is held (`Shuffling`), the
    last becomes one `shuffle` op of `groups: g`; whether `node` was one."""
    if node.op_type != "Reshape":
        return False
    if x in b.shuffling:
        held = b.shuffling.pop(x)
        if not held.transposed or out != held.shape:     # never skipped: a dropped one breaks the pattern
            raise refuse(b.source, node, f"reshaping {list(src)} to {list(out)}: only a channel shuffle "
                         "(Reshape to [N, g, C/g, H, W], Transpose perm [0, 2, 1, 3, 4], Reshape back) is "
                         "mapped")
        b.add(node, {"kind": "shuffle", "input": held.tensor, "groups": held.groups})
        b.fold_note("Reshape -> Transpose -> Reshape channel shuffles run as a DMA copy (shuffle)", node)
        return True
    if len(src) == 4 and len(out) == 5 and (out[0], out[1] * out[2], *out[3:]) == src and out[1] > 1:
        b.shuffling[node.output[0]] = Shuffling(b.resolve(x), src, out[1], node)  # type: ignore[arg-type]
        b.absorbed.add(id(node))
        return True
    return False


def transpose(b: Builder, node, a: dict) -> None:
    """The Transpose of a channel shuffle (`_shuffle_step`); any other Transpose is refused."""
    x = _one_activation(b, node)
    perm = [int(p) for p in a.get("perm", [])]
    held = b.shuffling.pop(x, None)
    if held is None or held.transposed or perm != [0, 2, 1, 3, 4]:
        raise Unmapped(f"a Transpose (perm {perm}) of {list(b.shape(x))} is mapped only as the middle of "
                       "a channel shuffle: Reshape [N, C, H, W] to [N, g, C/g, H, W], Transpose perm "
                       "[0, 2, 1, 3, 4], Reshape back to [N, C, H, W]")
    b.shuffling[node.output[0]] = Shuffling(held.tensor, held.shape, held.groups, held.node, True)
    b.absorbed.add(id(node))


def concat(b: Builder, node, a: dict) -> None:
    """Concat of activations along the channels (axis 1 of NCHW, or of `[N, K]`): a concat
    (the scheduler places or copies its inputs, `accelsim.layout`)."""
    acts = b.activations(node)
    if len(acts) != len(node.input):
        raise Unmapped(f"joins {len(node.input) - len(acts)} constant input(s) with activations; only "
                       "a concat of activations (or of constants only, folded) is mapped")
    shapes = [b.shape(t) for t in acts]
    rank = len(shapes[0])
    axis = int(a["axis"]) + (rank if int(a["axis"]) < 0 else 0)
    if axis != 1 or rank not in (2, 4):
        raise Unmapped(f"a concat along axis {a['axis']} of {list(shapes[0])} is not along the channels; "
                       "accelsim maps the channel concat (axis 1 of NCHW) only")
    if len(acts) == 1:
        b.pass_through(node, node.output[0], acts[0])
        return
    if len({b.resolve(t) for t in acts}) != len(acts):
        raise Unmapped("joins a tensor with itself; only distinct tensors are mapped")
    b.add(node, {"kind": "concat", "inputs": [b.resolve(t) for t in acts]})


def remove(b: Builder, node, a: dict) -> None:
    """Identity, and Dropout (inference: the identity)."""
    x = _one_activation(b, node)
    if node.op_type == "Dropout":
        training = b.constant(node, 2, "training_mode")
        if training is not None and bool(training):
            raise Unmapped("training_mode=True is not supported (inference only)")
    _check_extra_outputs(b, node)
    b.pass_through(node, node.output[0], x)
    b.fold_note(f"{node.op_type} removed (the identity at inference)", node)


@dataclass(frozen=True)
class Entry:
    """What one ONNX op type becomes (`becomes`, `cost`: the docs' words) and how."""

    becomes: str
    cost: str
    handle: Handler | None = None
    why: str = ""                  # for refused op types: the reason
    skippable: bool = True         # False: --skip-unsupported never drops it


_FOLD = ("folded into the Conv, Gemm or scale before it where exact (no activation between, no "
         "other reader); otherwise a scale (`x * a[c] + b[c]`) on the add unit")
_FOLD_COST = ("a fold: none (the conv's weights and bias absorb it); a scale: output elements x "
              "`add_unit.scale_cycles_per_element` (default 1) lane cycles and its `[2, C]` constants "
              "loaded by DMA")

OPS: dict[str, Entry] = {
    "Conv": Entry("conv", "systolic array: output elements x Cin/groups x kh x kw MACs", conv),
    "Gemm": Entry("gemm; after a flatten of H x W > 1, a conv with kh = H, kw = W, no padding",
                  "systolic array: rows x in x out MACs (the conv: the same MACs and bytes); bias, "
                  "alpha and beta are free", gemm),
    "MatMul": Entry("gemm (constant weights), as Gemm", "as Gemm", gemm),
    "Add": Entry("add (of two activations); with a per-channel constant, a fold or a scale as `Mul`",
                 "add unit: E output elements in `ceil(E / lanes)` cycles (fused into a ConvAdd after a "
                 "conv); a fold is free, a scale as `Mul`", add),
    "Sum": Entry("add (n inputs: a chain of n - 1 adds)", "add unit, as Add, per add of the chain; a "
                 "two-input Sum after a conv fuses into a ConvAdd", add),
    "Mul": Entry("by a per-channel constant: " + _FOLD, _FOLD_COST, affine),
    "Sub": Entry("of a per-channel constant: " + _FOLD, _FOLD_COST, affine),
    "Div": Entry("by a per-channel constant: " + _FOLD, _FOLD_COST, affine),
    "BatchNormalization": Entry(_FOLD[0].upper() + _FOLD[1:], _FOLD_COST, batchnorm),
    "Relu": Entry("the `relu` of the Conv, Add, Gemm or scale before; after a concat, that of each "
                  "input's op (none for an input already >= 0: a pool of ReLU outputs)",
                  "none (applied as outputs drain)",
                  activation),
    "Clip": Entry("the activation of the Conv, Add, Gemm or scale before (0..max: its `relu`)",
                  "none (applied as outputs drain)", activation),
    "MaxPool": Entry("maxpool (pads per side, ceil_mode)",
                     "add unit: output elements x kh x kw inputs, one per lane per cycle", pool),
    "AveragePool": Entry("avgpool (as MaxPool; count_include_pad as ONNX, default 0)", "add unit, as MaxPool",
                         pool),
    "GlobalAveragePool": Entry("avgpool over the whole map", "add unit, as AveragePool", global_pool),
    "GlobalMaxPool": Entry("maxpool over the whole map", "add unit, as MaxPool", global_pool),
    "Flatten": Entry("layout: free when H x W = 1; before a Gemm/MatMul, that Gemm becomes a conv",
                     "none", layout),
    "Reshape": Entry("layout, as Flatten; the first and last of a channel shuffle (see Transpose)", "none",
                     layout),
    "Squeeze": Entry("layout, as Flatten", "none", layout),
    "Unsqueeze": Entry("layout, as Flatten", "none", layout),
    "Identity": Entry("removed", "none", remove),
    "Dropout": Entry("removed (inference)", "none", remove),
    "Concat": Entry("concat along the channels (axis 1 of NCHW); of constants only, folded at import",
                    "none for an input its producer writes straight into its channel slice of the output "
                    "(an op's output joined by no other concat, not a shuffle's); else DMA: that input's "
                    "parts loaded into SRAM and stored into the slice (its bytes read and written once; "
                    "no compute). Per concat: no copy, copy, or copy (k of n inputs)", concat,
                    skippable=False),
    "Transpose": Entry("shuffle (`groups: g`), only as a channel shuffle: Reshape `[N, C, H, W]` to "
                       "`[N, g, C/g, H, W]`, Transpose perm `[0, 2, 1, 3, 4]`, Reshape back; any other "
                       "Transpose is refused", "DMA: each part's pixels loaded into SRAM with all channels "
                       "and stored permuted (output bytes read and written once; no compute)", transpose,
                       skippable=False),
    "LRN": Entry("lrn (across channels)", "add unit: output elements x (size + "
                 "`add_unit.lrn_cycles_per_element`) lane cycles", lrn),
    "Softmax": Entry("softmax (over the channels)", "add unit: output elements x "
                     "`add_unit.softmax_cycles_per_element` lane cycles", softmax),
}


def markdown_table() -> str:
    """The table as docs/model.md shows it."""
    rows = [f"| `{kind}` | {e.becomes} | {e.cost or e.why} |" for kind, e in OPS.items()]
    return "\n".join(["| ONNX op | becomes | cost (or why refused) |", "| --- | --- | --- |", *rows])


def refuse(source: str, node, why: str) -> ConfigError:
    return ConfigError(f"{source}: node {node.name or node.output[0]!r} ({node.op_type}): {why}")
