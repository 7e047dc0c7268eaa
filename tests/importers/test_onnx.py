"""ONNX import on small models built here with onnx.helper (nothing is downloaded)."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from accelsim import ConfigError, load_hw, simulate
from accelsim.importers.onnx import load_onnx
from accelsim.workload import Add, Conv, Gemm, Pool
from tests.helpers import DEFAULT_HW


def weight(name, *shape):
    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def residual_model(extra_nodes=(), extra_inits=()):
    """x[1,16,8,8] -> conv3x3+relu -> conv3x3 -> add(x) -> relu -> maxpool -> gap -> flatten -> gemm(10)."""
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "x"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf"], ["y"], name="fc", transB=1),
        *extra_nodes,
    ]
    out = nodes[-1].output[0]
    graph = helper.make_graph(
        nodes, "tiny_resnet",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 8, 8])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        [weight("w1", 16, 16, 3, 3), weight("w2", 16, 16, 3, 3), weight("b2", 16), weight("wf", 10, 16),
         *extra_inits])
    return helper.make_model(graph)


def test_a_residual_block_imports_with_relus_fused_and_nhwc_shapes():
    wl, skipped = load_onnx(residual_model())
    assert skipped == []
    kinds = [type(op) for op in wl.ops]
    assert kinds == [Conv, Conv, Add, Pool, Pool, Gemm]
    conv1, conv2, add, pool, gap, fc = wl.ops
    assert conv1.relu and not conv2.relu and add.relu
    assert (conv1.kh, conv1.pad, conv1.cin, conv1.cout) == (3, 1, 16, 16)
    assert add.inputs == ("c2", "x")
    assert wl.tensors["x"].shape == (1, 8, 8, 16)
    assert wl.tensors[pool.output].shape == (1, 4, 4, 16)
    assert (gap.kh, gap.kw) == (4, 4)
    assert wl.tensors[fc.output].shape == (1, 1, 1, 10)
    assert wl.macs == 2 * 8 * 8 * 16 * 16 * 9 + 16 * 10


def test_the_imported_model_simulates_with_the_conv_and_add_fused():
    wl, _ = load_onnx(residual_model())
    result = simulate(load_hw(DEFAULT_HW), wl, "pipelined")
    assert "conv2+add" in {layer.name for layer in result.layers()}


def test_unsupported_nodes_are_named_or_skipped_and_listed():
    softmax = helper.make_node("Softmax", ["y"], ["prob"], name="softmax")
    with pytest.raises(ConfigError, match=r"<onnx>: node 'softmax' \(Softmax\): unsupported op type "
                                          r"\(use --skip-unsupported to drop it\)"):
        load_onnx(residual_model([softmax]))
    wl, skipped = load_onnx(residual_model([softmax]), skip_unsupported=True)
    assert skipped == ["softmax (Softmax)"]
    assert len(wl.ops) == 6


def test_asymmetric_padding_is_refused_with_the_node():
    model = residual_model()
    model.graph.node[0].attribute[1].ints[:] = [0, 0, 1, 1]
    with pytest.raises(ConfigError, match=r"node 'conv1' \(Conv\): strides \[1, 1\], dilations \[1, 1\] "
                                          r"and pads \[0, 0, 1, 1\] must each be the same for both axes"):
        load_onnx(model)


def test_a_file_that_is_not_onnx(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match=r"m.onnx: cannot read as ONNX"):
        load_onnx(path)


def test_a_saved_model_loads_from_its_path(tmp_path):
    path = tmp_path / "tiny.onnx"
    onnx.save(residual_model(), str(path))
    wl, _ = load_onnx(path)
    assert wl.name == "tiny_resnet" and len(wl.ops) == 6


def test_cli_runs_an_onnx_file_and_lists_what_it_skipped(tmp_path, capsys):
    from accelsim.cli import main
    path = tmp_path / "tiny.onnx"
    onnx.save(residual_model([helper.make_node("Softmax", ["y"], ["prob"], name="softmax")]), str(path))
    assert main(["run", str(DEFAULT_HW), str(path)]) == 2
    assert "node 'softmax' (Softmax): unsupported op type" in capsys.readouterr().err
    assert main(["run", str(DEFAULT_HW), str(path), "--skip-unsupported", "--schedule", "pipelined"]) == 0
    out, err = capsys.readouterr()
    assert err == "accelsim: skipped 1 unsupported ONNX nodes: softmax (Softmax)\n"
    assert out.startswith("tiny_resnet on default")


def test_cli_reads_a_model_by_its_suffix_in_any_case(tmp_path, capsys):
    from accelsim.cli import main
    path = tmp_path / "model.ONNX"
    onnx.save(residual_model(), str(path))
    assert main(["run", str(DEFAULT_HW), str(path), "--schedule", "pipelined"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("tiny_resnet on default")   # not read as YAML


def small_model(nodes, inputs, inits, out):
    outputs = [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)]
    graph = helper.make_graph(nodes, "m", inputs, outputs, inits)
    return helper.make_model(graph)


X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])


@pytest.mark.parametrize(("node", "inits", "message"), [
    (helper.make_node("Flatten", ["x"], ["y"], name="flat"), [],
     r"node 'flat' \(Flatten\): flattening \[1, 3, 8, 8\] \(H x W > 1\) is not supported"),
    (helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
     [weight("w", 4, 3, 3, 3)], r"node 'c' \(Conv\): auto_pad=SAME_UPPER is not supported"),
    (helper.make_node("MaxPool", ["x"], ["y"], name="p", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
     [], r"node 'p' \(MaxPool\): ceil_mode=1 is not supported"),
    (helper.make_node("Conv", ["x", "x"], ["y"], name="c", kernel_shape=[3, 3]), [],
     r"node 'c' \(Conv\): its weights must be a constant initializer"),
    (helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1), [weight("w", 10, 5)],
     r"node 'fc' \(Gemm\): its weights expect 5 input features, its input 'x' has shape \[1, 3, 8, 8\]"),
])
def test_what_accelsim_cannot_map_is_refused_by_name(node, inits, message):
    with pytest.raises(ConfigError, match=message):
        load_onnx(small_model([node], [X], inits, "y"))
