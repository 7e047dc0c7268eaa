"""Retype the shape-only ResNet-18 ONNX from Stream's repository to INT8 (our machine is int8).

Stream's resnet18.onnx is FLOAT with its weights external and absent, so Stream would count every
tensor at 32 bit. Only element types change; shapes and graph stay identical.

Usage: python make_int8_onnx.py [path/to/resnet18.onnx]
  default input: resnet18.onnx next to this script; writes resnet18_int8.onnx next to this script.
"""

import sys
from pathlib import Path

import onnx
from onnx import TensorProto

HERE = Path(__file__).resolve().parent
src = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "resnet18.onnx"

m = onnx.load(str(src), load_external_data=False)
for t in m.graph.initializer:
    t.data_type = TensorProto.INT8
for v in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
    v.type.tensor_type.elem_type = TensorProto.INT8
onnx.save(m, str(HERE / "resnet18_int8.onnx"))
