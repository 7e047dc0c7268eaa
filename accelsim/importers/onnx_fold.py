"""Constant folding for the ONNX importer: every node whose inputs are all constants is
evaluated with numpy when the model is read, and its outputs become constants.

Weights written by `ConstantOfShape` (as in the model-zoo files that ship with `onnx`),
per-channel constants made by `Unsqueeze`, shapes made by `Shape`/`Gather`/`Concat` and
arithmetic on them all end up as constants, which the importer treats exactly like
initializers. Large constants are kept as zero-copy broadcast views (`ConstantOfShape`
of a 100 MB weight allocates nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: constants up to this many elements are given to ONNX shape inference as data
#: (shape vectors, axes, per-channel vectors); bigger ones only by type and shape
SMALL = 4096


def _axes(inputs: list, attrs: dict, position: int = 1) -> list[int] | None:
    """Axes from the attribute (opset < 13) or the input at `position` (opset >= 13)."""
    if "axes" in attrs:
        return list(attrs["axes"])
    if len(inputs) > position and inputs[position] is not None:
        return [int(a) for a in np.asarray(inputs[position]).ravel()]
    return None


def _int_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(np.result_type(a, b), np.integer):
        return np.trunc(np.true_divide(a, b)).astype(np.result_type(a, b))   # ONNX truncates
    return np.divide(a, b)


def _unsqueeze(x: np.ndarray, axes: list[int]) -> np.ndarray:
    rank = x.ndim + len(axes)
    for axis in sorted(a % rank for a in axes):
        x = np.expand_dims(x, axis)
    return x


def _squeeze(x: np.ndarray, axes: list[int] | None) -> np.ndarray:
    if axes is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(a % x.ndim for a in axes))


def _reshape(x: np.ndarray, shape: np.ndarray, allowzero: int) -> np.ndarray:
    dims = [int(d) for d in shape]
    if not allowzero:
        dims = [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]
    return np.reshape(x, dims)


def _slice(x: np.ndarray, inputs: list, attrs: dict) -> np.ndarray:
    if "starts" in attrs:                       # opset < 10
        starts, ends, axes = attrs["starts"], attrs["ends"], attrs.get("axes")
        steps = None
    else:
        starts, ends = (list(np.asarray(v).ravel()) for v in inputs[1:3])
        axes = list(np.asarray(inputs[3]).ravel()) if len(inputs) > 3 and inputs[3] is not None else None
        steps = list(np.asarray(inputs[4]).ravel()) if len(inputs) > 4 and inputs[4] is not None else None
    axes = axes if axes is not None else list(range(len(starts)))
    steps = steps or [1] * len(starts)
    index = [slice(None)] * x.ndim
    for axis, start, end, step in zip(axes, starts, ends, steps, strict=True):
        index[int(axis)] = slice(int(start), int(end), int(step))
    return x[tuple(index)]


def _constant(attrs: dict) -> np.ndarray:
    from onnx import numpy_helper

    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in attrs:
            return np.asarray(attrs[key], dtype=dtype)
    if "value" in attrs:
        return numpy_helper.to_array(attrs["value"])
    raise ValueError("a Constant needs a value, value_float(s) or value_int(s) attribute "
                     "(sparse and string constants are not supported)")


def _constant_of_shape(inputs: list, attrs: dict) -> np.ndarray:
    from onnx import numpy_helper

    value = numpy_helper.to_array(attrs["value"]).ravel() if "value" in attrs else np.zeros(1, np.float32)
    shape = tuple(int(d) for d in np.asarray(inputs[0]).ravel())
    return np.broadcast_to(value[:1].reshape(()), shape)       # a view: no memory for big weights


def _cast(x: np.ndarray, attrs: dict) -> np.ndarray:
    from onnx import helper

    return x.astype(helper.tensor_dtype_to_np_dtype(attrs["to"]))


def _shape(shape: tuple[int, ...], attrs: dict) -> np.ndarray:
    start, end = attrs.get("start", 0), attrs.get("end")
    return np.asarray(shape[start:end], dtype=np.int64)


Evaluator = Callable[[list, dict], list]

#: op type -> numpy evaluation of (inputs, attributes) into outputs
FOLDERS: dict[str, Evaluator] = {
    "Constant": lambda i, a: [_constant(a)],
    "ConstantOfShape": lambda i, a: [_constant_of_shape(i, a)],
    "Identity": lambda i, a: [i[0]],
    "Cast": lambda i, a: [_cast(i[0], a)],
    "Gather": lambda i, a: [np.take(i[0], np.asarray(i[1]), axis=a.get("axis", 0))],
    "Unsqueeze": lambda i, a: [_unsqueeze(i[0], _axes(i, a) or [])],
    "Squeeze": lambda i, a: [_squeeze(i[0], _axes(i, a))],
    "Concat": lambda i, a: [np.concatenate([np.asarray(x) for x in i], axis=a["axis"])],
    "Reshape": lambda i, a: [_reshape(i[0], np.asarray(i[1]).ravel(), a.get("allowzero", 0))],
    "Flatten": lambda i, a: [np.reshape(i[0], (int(np.prod(i[0].shape[:a.get("axis", 1)])), -1))],
    "Transpose": lambda i, a: [np.transpose(i[0], a.get("perm"))],
    "Slice": lambda i, a: [_slice(i[0], i, a)],
    "Expand": lambda i, a: [np.broadcast_to(i[0], np.broadcast_shapes(np.shape(i[0]),
                                                                      tuple(int(d) for d in i[1])))],
    "Range": lambda i, a: [np.arange(i[0], i[1], i[2])],
    "Add": lambda i, a: [np.add(i[0], i[1])],
    "Sub": lambda i, a: [np.subtract(i[0], i[1])],
    "Mul": lambda i, a: [np.multiply(i[0], i[1])],
    "Div": lambda i, a: [_int_div(np.asarray(i[0]), np.asarray(i[1]))],
    "Pow": lambda i, a: [np.power(i[0], i[1]).astype(np.asarray(i[0]).dtype)],
    "Sqrt": lambda i, a: [np.sqrt(i[0])],
    "Neg": lambda i, a: [np.negative(i[0])],
    "Reciprocal": lambda i, a: [np.reciprocal(i[0])],
    "Abs": lambda i, a: [np.abs(i[0])],
    "Exp": lambda i, a: [np.exp(i[0])],
    "Log": lambda i, a: [np.log(i[0])],
    "Sum": lambda i, a: [sum(i[1:], start=np.asarray(i[0]))],
}


class FoldError(ValueError):
    """A node of constants that numpy cannot evaluate (`node`: the ONNX node)."""

    def __init__(self, node, message: str):
        super().__init__(message)
        self.node = node


@dataclass
class Constants:
    """Constant tensors by name: initializers (converted to numpy when first read) and
    folded node outputs."""

    protos: dict = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.arrays or name in self.protos

    def array(self, name: str) -> np.ndarray:
        if name not in self.arrays:
            from onnx import numpy_helper

            self.arrays[name] = numpy_helper.to_array(self.protos[name])
        return self.arrays[name]

    def shape(self, name: str) -> tuple[int, ...]:
        if name in self.arrays:
            return tuple(self.arrays[name].shape)
        return tuple(self.protos[name].dims)

    def dtype(self, name: str) -> int:
        """The ONNX element type (TensorProto.FLOAT, ...)."""
        if name in self.arrays:
            from onnx import helper

            return helper.np_dtype_to_tensor_dtype(self.arrays[name].dtype)
        return self.protos[name].data_type


def fold(nodes: list, constants: Constants, shapes: dict[str, tuple[int, ...]],
         attrs_of: Callable[[object], dict]) -> tuple[list, list[str]]:
    """Evaluate, in graph order, every node of `nodes` whose inputs are all constants (or, for
    `Shape`/`Size`, whose input has a static shape in `shapes`); add their outputs to `constants`.
    Returns the nodes left, and one line per folded node (`name (OpType)`)."""
    left, folded = [], []
    for node in nodes:
        kind, inputs = node.op_type, list(node.input)
        if kind in ("Shape", "Size"):
            shape = shapes.get(inputs[0]) or (constants.shape(inputs[0]) if inputs[0] in constants else None)
            if shape is None:
                left.append(node)
                continue
            constants.arrays[node.output[0]] = (_shape(shape, attrs_of(node)) if kind == "Shape"
                                                 else np.asarray(int(np.prod(shape)), np.int64))
        elif kind in FOLDERS and all(t in constants for t in inputs if t) and \
                not any(a.type in (5, 10) for a in node.attribute):      # GRAPH(S): If, Loop, Scan
            values = [constants.array(t) if t else None for t in inputs]
            try:
                outputs = FOLDERS[kind](values, attrs_of(node))
            except Exception as exc:               # numpy says why (shapes, dtypes)
                raise FoldError(node, f"its inputs are all constants but it cannot be evaluated: {exc}") \
                    from None
            for name, value in zip(node.output, outputs, strict=False):
                constants.arrays[name] = value if isinstance(value, np.ndarray) else np.asarray(value)
        else:
            left.append(node)
            continue
        folded.append(f"{node.name or node.output[0]} ({kind})")
    return left, folded
