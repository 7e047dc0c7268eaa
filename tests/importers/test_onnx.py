"""ONNX import on small models built here with onnx.helper (nothing is downloaded)."""

import json
import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from accelsim import ConfigError, load_hw, simulate
from accelsim.importers.onnx import import_onnx, load_onnx
from accelsim.scheduler.network import network_schedule
from accelsim.workload import Add, Concat, Conv, Gemm, Pool, Scale, Shuffle, shuffle_channels
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
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


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
    sigmoid = helper.make_node("Sigmoid", ["y"], ["prob"], name="sigmoid")
    with pytest.raises(ConfigError, match=r"<onnx>: node 'sigmoid' \(Sigmoid\): unsupported op type "
                                          r"\(use --skip-unsupported to drop it\)"):
        load_onnx(residual_model([sigmoid]))
    wl, skipped = load_onnx(residual_model([sigmoid]), skip_unsupported=True)
    assert skipped == ["sigmoid (Sigmoid)"]
    assert len(wl.ops) == 6


def test_a_classifier_softmax_runs_on_the_add_unit():
    softmax = helper.make_node("Softmax", ["y"], ["prob"], name="softmax")
    wl, skipped = load_onnx(residual_model([softmax]))
    assert skipped == [] and len(wl.ops) == 7
    op = wl.ops[-1]
    assert (op.kind, op.name) == ("softmax", "softmax")
    assert wl.tensors[op.output].shape == wl.tensors[op.input].shape


def test_a_softmax_over_another_axis_than_the_channels_is_refused():
    softmax = helper.make_node("Softmax", ["y"], ["prob"], name="softmax", axis=0)
    with pytest.raises(ConfigError, match=r"node 'softmax' \(Softmax\): a softmax over axis 0 of "
                                          r"\[1, 10\] is not over the channels"):
        load_onnx(residual_model([softmax]))


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
    onnx.save(residual_model([helper.make_node("Sigmoid", ["y"], ["prob"], name="sigmoid")]), str(path))
    assert main(["run", str(DEFAULT_HW), str(path)]) == 2
    assert "node 'sigmoid' (Sigmoid): unsupported op type" in capsys.readouterr().err
    assert main(["run", str(DEFAULT_HW), str(path), "--skip-unsupported", "--schedule", "pipelined"]) == 0
    out, err = capsys.readouterr()
    assert err == "accelsim: skipped 1 unsupported ONNX nodes: sigmoid (Sigmoid)\n"
    assert out.startswith("tiny_resnet on default")
    assert "pipelined: import: skipped sigmoid (Sigmoid): unsupported op type" in out
    assert main(["run", str(DEFAULT_HW), str(path), "--skip-unsupported", "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert notes[0].startswith("import: skipped sigmoid (Sigmoid)")
    assert "1 of 1 adds fused with the conv before them" in notes


def test_cli_reads_a_model_by_its_suffix_in_any_case(tmp_path, capsys):
    from accelsim.cli import main
    path = tmp_path / "model.ONNX"
    onnx.save(residual_model(), str(path))
    assert main(["run", str(DEFAULT_HW), str(path), "--schedule", "pipelined"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("tiny_resnet on default")   # not read as YAML


def small_model(nodes, inputs, inits, out, opset=13):
    outputs = [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)]
    graph = helper.make_graph(nodes, "m", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])


@pytest.mark.parametrize(("node", "inits", "message"), [
    (helper.make_node("Flatten", ["x"], ["y"], name="flat"), [],
     r"node 'flat' \(Flatten\): flattening \[1, 3, 8, 8\] \(H x W > 1\) is supported only right before "
     r"a Gemm or MatMul"),
    (helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
     [weight("w", 4, 3, 3, 3)], r"node 'c' \(Conv\): auto_pad=SAME_UPPER is not supported"),
    (helper.make_node("Conv", ["x", "x"], ["y"], name="c", kernel_shape=[3, 3]), [],
     r"node 'c' \(Conv\): its weights must be a constant initializer"),
    (helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1), [weight("w", 10, 5)],
     r"node 'fc' \(Gemm\): its weights expect 5 input features, its input 'x' has shape \[1, 3, 8, 8\]"),
])
def test_what_accelsim_cannot_map_is_refused_by_name(node, inits, message):
    with pytest.raises(ConfigError, match=message):
        load_onnx(small_model([node], [X], inits, "y"))


# -- the model zoo that ships with onnx (opset 9, weights made by ConstantOfShape) -------------
ZOO = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def zoo(name: str) -> Path:
    return ZOO / f"light_{name}.onnx"


def independent_macs(path: Path) -> int:
    """Every Conv's output elements x Cin/groups x kh x kw, plus every Gemm/MatMul's M x K x N,
    from ONNX's own shape inference on the file as shipped (no accelsim code)."""
    g = onnx.shape_inference.infer_shapes(onnx.load(str(path))).graph
    shape = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in (*g.input, *g.value_info,
                                                                                   *g.output)}
    shape.update({t.name: list(t.dims) for t in g.initializer})
    total = 0
    for n in g.node:
        if n.op_type == "Conv":
            total += math.prod(shape[n.output[0]]) * math.prod(shape[n.input[1]][1:])
        elif n.op_type in ("Gemm", "MatMul"):
            (m, n_out), a = shape[n.output[0]], shape[n.input[0]]
            trans_a = any(at.name == "transA" and at.i for at in n.attribute)
            total += m * (a[0] if trans_a else a[1]) * n_out
    return total


# models that import as shipped, and the op kinds beyond conv, add, pools and gemm they bring
IMPORTS = {"bvlc_alexnet": {"lrn", "softmax"}, "resnet50": {"softmax"}, "vgg19": {"softmax"},
           "shufflenet": {"concat", "shuffle", "softmax"},
           "zfnet512": {"lrn", "softmax"}, "squeezenet": {"concat", "softmax"},
           "inception_v1": {"concat", "lrn", "softmax"}, "inception_v2": {"concat", "softmax"},
           "densenet121": {"concat", "scale"}}


@pytest.mark.parametrize("name", sorted(IMPORTS))
def test_a_zoo_model_imports_runs_and_its_macs_match_onnx_shape_inference(name, capsys):
    from accelsim.cli import main
    path = zoo(name)
    found = import_onnx(path)
    assert list(found.skipped) == []
    kinds = {op.kind for op in found.workload.ops}
    assert kinds - {"conv", "add", "maxpool", "avgpool", "gemm"} == IMPORTS[name]
    assert found.workload.macs == independent_macs(path)
    assert main(["run", "default", str(path), "--schedule", "pipelined", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["macs"] == independent_macs(path) and data["total_cycles"] > 0
    assert not [n for n in data["notes"] if n.startswith("import: skipped")]


@pytest.mark.parametrize("name", sorted(IMPORTS))
def test_a_zoo_model_converted_to_opsets_13_and_21_imports_as_the_same_workload(name):
    """onnx's own version converter rewrites BN, Squeeze/Unsqueeze, Dropout, Reshape and Clip
    for the newer opsets (DenseNet-121's and Inception v2's batch norms as Mul/Add of
    Unsqueezed constants); the import is the opset 9 one, op for op, but for tensor names."""
    from onnx import version_converter
    want = import_onnx(zoo(name)).workload
    for opset in (13, 21):
        got = import_onnx(version_converter.convert_version(onnx.load(zoo(name)), opset)).workload
        assert [(op.kind, got.tensors[op.output].shape) for op in got.ops] == \
               [(op.kind, want.tensors[op.output].shape) for op in want.ops]
        assert got.macs == want.macs


def test_the_zoo_resnet50_fuses_all_16_residual_sums_and_folds_its_batch_norms():
    from accelsim.scheduler.fusion import plan_fusion
    found = import_onnx(zoo("resnet50"))
    wl = found.workload
    assert sum(isinstance(op, Conv) for op in wl.ops) == 53
    assert sum(isinstance(op, Add) for op in wl.ops) == 16
    assert len(plan_fusion(wl).fused) == 16 and plan_fusion(wl).not_fused == {}
    assert "import: 53 BatchNormalization folded into the conv or gemm before it (exact; that op's cost is " \
           "unchanged): n1, n5, n8, n11 and 49 more" in found.notes
    assert "import: 239 nodes of constants evaluated when read (ConstantOfShape x239)" in found.notes
    result = simulate(load_hw(DEFAULT_HW), wl, "pipelined")
    assert "16 of 16 adds fused with the conv before them" in result.notes
    assert wl.ops[0].name == "n0" and wl.ops[0].relu           # the model's own names; BN, then Relu fused


def test_the_zoo_resnet50_is_the_shipped_resnet50_trace_op_for_op():
    """The same network written two ways: every op's kind and parameters (all but names) agree."""
    from dataclasses import asdict

    from accelsim import load_workload

    def params(op):
        return {k: v for k, v in asdict(op).items() if k not in ("name", "input", "inputs", "output")}

    *zoo_ops, softmax = import_onnx(zoo("resnet50")).workload.ops
    assert [params(op) for op in zoo_ops] == [params(op) for op in load_workload("resnet50").ops]
    assert softmax.kind == "softmax"                # the zoo model ends with its classifier's softmax


def test_the_zoo_vgg19_classifier_over_a_7x7_map_is_a_7x7_conv():
    wl = import_onnx(zoo("vgg19")).workload
    fc6 = next(op for op in wl.ops if op.name == "n38")
    assert isinstance(fc6, Conv) and (fc6.kh, fc6.kw, fc6.cin, fc6.cout, fc6.pad) == (7, 7, 512, 4096, 0)
    assert fc6.macs(wl.tensors[fc6.input].shape) == 25088 * 4096          # the Gemm's M x K x N


def test_the_zoo_shufflenet_shuffles_16_times_and_fuses_its_adds_and_the_relus_after_its_concats():
    found = import_onnx(zoo("shufflenet"))
    shuffles = [op for op in found.workload.ops if isinstance(op, Shuffle)]
    # n7 reshapes [1, 112, 56, 56] to [1, 4, 28, 56, 56]: 4 groups; stages of 136, 272, 544 channels
    assert len(shuffles) == 16 and {op.groups for op in shuffles} == {4} and shuffles[0].name == "n9"
    assert found.workload.tensors[shuffles[0].input].shape == (1, 56, 56, 112)
    assert "import: 3 Relu after a concat fused into the ops that write the concat's inputs (an input of a " \
           "pool of ReLU outputs needs none): n16, n65, n162" in found.notes
    hw = load_hw(DEFAULT_HW)
    result = simulate(hw, found.workload, "pipelined")
    assert "13 of 13 adds fused with the conv before them" in result.notes


def test_the_zoo_squeezenet_joins_its_8_fire_modules_with_no_copy():
    found = import_onnx(zoo("squeezenet"))
    cats = [op for op in found.workload.ops if isinstance(op, Concat)]
    assert len(cats) == 8 and cats[0].name == "n9"
    # fire2: expand1x1 and expand3x3, 64 channels each, over 55 x 55 (ONNX shape inference: r9 is
    # [1, 128, 55, 55])
    assert found.workload.tensors[cats[0].output].shape == (1, 55, 55, 128)
    assert [found.workload.tensors[t].shape[-1] for t in cats[0].inputs] == [64, 64]
    # each expand conv's output is read by its concat only: both store into their slices
    schedule, _, _ = network_schedule(found.workload, load_hw("default"), "pipelined")
    assert [(c.name, c.label) for c in schedule.concats] == [(c.name, "no copy") for c in cats]
    assert "n9: concat, no copy: r5, r7 written straight into the output's channel slice by their " \
           "producers" in schedule.notes


def concat_model(axis, shapes=((4, 1), (5, 3)), extra=()):
    """x [1, 3, 8, 8] -> a 1x1 and a 3x3 (pad 1) conv -> Concat along `axis`."""
    nodes = [conv_to(f"b{i}", w=f"w{i}", k=k, pads=[k // 2] * 4) for i, (_, k) in enumerate(shapes)]
    inits = [weight(f"w{i}", c, 3, k, k) for i, (c, k) in enumerate(shapes)]
    nodes.append(node("Concat", [f"b{i}" for i in range(len(shapes))] + list(extra), ["y"], axis=axis))
    return small_model(nodes, [X], inits, "y")


@pytest.mark.parametrize("axis", [1, -3])
def test_a_channel_concat_becomes_a_concat_op(axis):
    wl, skipped = load_onnx(concat_model(axis))
    assert skipped == []
    cat = wl.ops[-1]
    assert isinstance(cat, Concat) and cat.inputs == ("b0", "b1") and cat.name == "y"
    assert wl.tensors["y"].shape == (1, 8, 8, 9)


def test_a_concat_along_another_axis_is_refused_even_with_skip_unsupported():
    with pytest.raises(ConfigError, match=r"node 'y' \(Concat\): a concat along axis 2 of \[1, 4, 8, 8\] is "
                                          r"not along the channels"):
        load_onnx(concat_model(2, ((4, 1), (4, 3))))
    with pytest.raises(ConfigError, match=r"--skip-unsupported cannot drop it: it combines 2 tensors"):
        import_onnx(concat_model(2, ((4, 1), (4, 3))), skip_unsupported=True)


# -- one small graph per table entry ---------------------------------------------------------
def const(name, values, dtype=np.int64):
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def node(kind, inputs, outputs, **attrs):
    return helper.make_node(kind, inputs, outputs, name=outputs[0], **attrs)


def conv_to(out, x="x", w="w", k=3, **attrs):
    return node("Conv", [x, w], [out], kernel_shape=[k, k], **attrs)


def test_weights_and_shapes_made_of_constants_are_folded_when_read():
    """ConstantOfShape weights, and a Reshape target built by Shape -> Gather -> Unsqueeze -> Concat."""
    nodes = [node("ConstantOfShape", ["wshape"], ["w"]),
             conv_to("c"),
             node("Shape", ["c"], ["s"]), node("Gather", ["s", "zero"], ["n"], axis=0),
             node("Unsqueeze", ["n", "axes0"], ["n1"]),
             node("Concat", ["n1", "minus1"], ["target"], axis=0),
             node("Cast", ["target"], ["target64"], to=TensorProto.INT64),
             node("Reshape", ["c", "target64"], ["f"]),
             node("ConstantOfShape", ["fcshape"], ["wf"]),
             node("Gemm", ["f", "wf"], ["y"], transB=1)]
    inits = [const("wshape", [4, 3, 3, 3]), const("zero", 0), const("axes0", [0]), const("minus1", [-1]),
             const("fcshape", [10, 4 * 6 * 6])]
    found = import_onnx(small_model(nodes, [X], inits, "y"))
    conv, fc = found.workload.ops
    assert (conv.kh, conv.cin, conv.cout) == (3, 3, 4)
    assert isinstance(fc, Conv) and (fc.kh, fc.kw, fc.cin, fc.cout) == (6, 6, 4, 10)   # flatten of 6x6
    assert found.workload.macs == 6 * 6 * 4 * 3 * 9 + 144 * 10
    assert "import: 7 nodes of constants evaluated when read (ConstantOfShape x2, Shape x1, Gather x1, " \
           "Unsqueeze x1, Concat x1, Cast x1)" in found.notes
    assert "import: y (Gemm) over the 6x6x4 map flattened by f (Reshape): imported as a 6x6 conv, no " \
           "padding, 10 channels (same MACs and bytes)" in found.notes


def test_arithmetic_on_constants_folds_with_numpy():
    """BatchNorm parameters computed as sqrt(var + eps) etc.; Reshape of a weight (Inception v1)."""
    nodes = [node("Add", ["v", "eps"], ["v1"]), node("Sqrt", ["v1"], ["sd"]),
             node("Div", ["g", "sd"], ["sc"]),
             node("Reshape", ["wflat", "wshape"], ["w"]), conv_to("c"),
             node("Unsqueeze", ["sc", "axes12"], ["sc3"]), node("Mul", ["c", "sc3"], ["m"]),
             node("Add", ["sc3", "m"], ["y"])]
    inits = [numpy_helper.from_array(np.full(4, 3.0, np.float32), "v"),
             numpy_helper.from_array(np.ones(1, np.float32), "eps"),
             numpy_helper.from_array(np.full(4, 4.0, np.float32), "g"),
             numpy_helper.from_array(np.zeros(108, np.float32), "wflat"), const("wshape", [4, 3, 3, 3]),
             const("axes12", [1, 2])]
    found = import_onnx(small_model(nodes, [X], inits, "y"))
    assert [op.name for op in found.workload.ops] == ["c"]
    assert "import: 1 Mul folded into the conv or gemm before it (exact; that op's cost is unchanged): m" \
        in found.notes
    assert "import: 1 Add folded into the conv or gemm before it (exact; that op's cost is unchanged): y" \
        in found.notes


def bn(x, out, prefix="bn"):
    return node("BatchNormalization", [x, f"{prefix}s", f"{prefix}b", f"{prefix}m", f"{prefix}v"], [out])


def bn_inits(c, prefix="bn"):
    return [numpy_helper.from_array(np.ones(c, np.float32), f"{prefix}{k}") for k in "sbmv"]


def test_batch_norm_folds_into_the_conv_before_it_and_runs_as_a_scale_after_a_relu_or_a_shared_output():
    w = weight("w", 4, 3, 3, 3)
    found = import_onnx(small_model([conv_to("c"), bn("c", "b"), node("Relu", ["b"], ["y"])], [X],
                                    [w, *bn_inits(4)], "y"))
    (conv,) = found.workload.ops
    assert conv.relu and conv.output == "c"
    after_relu = [conv_to("c"), node("Relu", ["c"], ["r"]), bn("r", "y")]
    wl = import_onnx(small_model(after_relu, [X], [w, *bn_inits(4)], "y")).workload
    conv, scale = wl.ops
    assert conv.relu and isinstance(scale, Scale)
    assert (scale.input, scale.output, scale.relu) == ("c", "y", False)
    assert wl.tensors["y.weight"].shape == (2, 4)
    shared = [conv_to("c"), bn("c", "b"), node("Add", ["b", "c"], ["y"])]
    wl = import_onnx(small_model(shared, [X], [w, *bn_inits(4)], "y")).workload
    assert [type(op) for op in wl.ops] == [Conv, Scale, Add] and wl.ops[2].inputs == ("b", "c")


def test_a_pre_activation_block_is_a_scale_with_its_relu_fused_after_a_pool():
    """DenseNet's BN -> Relu -> Conv after a MaxPool (and a Mul, Add pair, as opset 13 writes a
    batch norm, folded into that scale): one scale op with a fused ReLU, its cost by the formula."""
    w = weight("w", 4, 3, 1, 1)
    k = numpy_helper.from_array(np.full((3, 1, 1), 2.0, np.float32), "k")
    nodes = [node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2]), bn("p", "b"),
             node("Mul", ["b", "k"], ["m"]), node("Add", ["m", "k"], ["a"]), node("Relu", ["a"], ["r"]),
             conv_to("y", x="r", k=1)]
    found = import_onnx(small_model(nodes, [X], [w, k, *bn_inits(3)], "y"))
    _pool, scale, conv = found.workload.ops
    assert isinstance(scale, Scale)
    assert (scale.name, scale.input, scale.output, scale.relu) == ("b", "p", "b", True)
    assert conv.input == "b"
    for kind, name in (("Mul", "m"), ("Add", "a")):
        assert f"import: 1 {kind} folded into the scale before it (exact; that op's cost is unchanged): " \
               f"{name}" in found.notes
    result = simulate(load_hw(DEFAULT_HW), found.workload, "serial")
    (op,) = [o for o in result.ops if o.kind == "scale"]
    # 4 x 4 x 3 = 48 outputs x 1 lane cycle = 48 / 32 lanes = 1.5 -> 2, + 4 latency
    assert (op.unit, op.end - op.start) == ("add", 6)


def test_a_per_channel_mul_of_a_graph_input_is_a_scale_and_a_relu_after_a_pool_is_refused():
    k = numpy_helper.from_array(np.full((1, 3, 1, 1), 0.5, np.float32), "k")
    (scale,) = import_onnx(small_model([node("Div", ["x", "k"], ["y"])], [X], [k], "y")).workload.ops
    assert isinstance(scale, Scale) and (scale.input, scale.relu) == ("x", False)
    pool_relu = [node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2]), node("Relu", ["p"], ["y"])]
    with pytest.raises(ConfigError, match=r"node 'y' \(Relu\): a Relu must follow a Conv, Add, Gemm or "
                                          r"scale"):
        import_onnx(small_model(pool_relu, [X], [], "y"))


def test_a_per_channel_mul_folds_but_not_a_per_pixel_one_and_never_a_product_of_activations():
    w = weight("w", 4, 3, 3, 3)
    pixel = numpy_helper.from_array(np.ones((1, 6, 6), np.float32), "k")
    with pytest.raises(ConfigError, match=r"node 'y' \(Mul\): its constant 'k' of shape \[1, 6, 6\] is not "
                                          r"per-channel for 'c' \[1, 4, 6, 6\]"):
        import_onnx(small_model([conv_to("c"), node("Mul", ["c", "k"], ["y"])], [X], [w, pixel], "y"))
    square = [conv_to("c"), node("Mul", ["c", "c"], ["y"])]
    with pytest.raises(ConfigError, match=r"node 'y' \(Mul\): multiplies 2 activations element-wise, "
                                          r"which is not an accelsim op; --skip-unsupported cannot drop "
                                          r"it: it combines 2 tensors"):
        import_onnx(small_model(square, [X], [w], "y"), skip_unsupported=True)


def test_sum_of_two_is_a_residual_add_that_fuses_and_of_three_a_chain_of_adds():
    from accelsim.scheduler.fusion import plan_fusion
    w = weight("w", 3, 3, 3, 3)
    two = import_onnx(small_model([conv_to("c", pads=[1] * 4), node("Sum", ["c", "x"], ["y"])], [X], [w],
                                  "y")).workload
    assert [type(op) for op in two.ops] == [Conv, Add] and plan_fusion(two).fused == ["y"]
    three = [conv_to("c", pads=[1] * 4), conv_to("d", pads=[1] * 4), node("Sum", ["c", "d", "x"], ["y"])]
    wl = import_onnx(small_model(three, [X], [w], "y")).workload
    adds = [op for op in wl.ops if isinstance(op, Add)]
    assert [(a.name, a.inputs, a.output) for a in adds] == [("y.sum1", ("c", "d"), "y.sum1"),
                                                           ("y", ("y.sum1", "x"), "y")]
    with pytest.raises(ConfigError, match=r"node 'y' \(Sum\): adds tensors of shapes \[1, 3, 8, 8\], "
                                          r"\[1, 3, 6, 6\]"):
        import_onnx(small_model([conv_to("c"), node("Sum", ["x", "c"], ["y"])], [X], [w], "y"),
                    skip_unsupported=True)


@pytest.mark.parametrize(("opset", "lo", "hi", "relu", "note"), [
    (10, 0.0, 6.0, True, "import: 1 Clip 0..6 fused as the ReLU of the op before; the upper bound is free"),
    (13, 0.0, 6.0, True, "import: 1 Clip 0..6 fused as the ReLU of the op before; the upper bound is free"),
    (13, -1.0, 1.0, False, "import: 1 Clip -1..1 fused as a free activation of the op before"),
])
def test_clip_is_fused_as_the_activation_of_the_op_before(opset, lo, hi, relu, note):
    w = weight("w", 4, 3, 3, 3)
    if opset < 11:
        clip, inits = node("Clip", ["c"], ["y"], min=lo, max=hi), [w]
    else:
        clip = node("Clip", ["c", "lo", "hi"], ["y"])
        inits = [w, numpy_helper.from_array(np.float32(lo), "lo"),
                 numpy_helper.from_array(np.float32(hi), "hi")]
    found = import_onnx(small_model([conv_to("c"), clip], [X], inits, "y", opset))
    (conv,) = found.workload.ops
    assert conv.relu is relu and any(n.startswith(note) for n in found.notes)


def test_gemm_with_and_without_trans_b_and_matmul_count_rows_times_in_times_out():
    v = helper.make_tensor_value_info("v", TensorProto.FLOAT, [2, 5])
    for nodes, wshape in (([node("Gemm", ["v", "w"], ["y"], transB=1)], (7, 5)),
                          ([node("Gemm", ["v", "w"], ["y"])], (5, 7)),
                          ([node("MatMul", ["v", "w"], ["y"])], (5, 7))):
        (fc,) = import_onnx(small_model(nodes, [v], [weight("w", *wshape)], "y")).workload.ops
        assert isinstance(fc, Gemm) and fc.out_features == 7
        assert fc.macs((2, 1, 1, 5)) == 2 * 5 * 7
    row = helper.make_tensor_value_info("v", TensorProto.FLOAT, [1, 5])
    one_row = [node("Reshape", ["v", "col"], ["c"]), node("Gemm", ["c", "w"], ["y"], transA=1)]
    inits = [weight("w", 5, 7), const("col", [5, 1])]
    (fc,) = import_onnx(small_model(one_row, [row], inits, "y")).workload.ops
    assert isinstance(fc, Gemm) and fc.input == "v" and fc.out_features == 7
    col = helper.make_tensor_value_info("v", TensorProto.FLOAT, [5, 2])
    with pytest.raises(ConfigError, match=r"node 'y' \(Gemm\): transA=1 with 2 rows is not supported"):
        import_onnx(small_model([node("Gemm", ["v", "w"], ["y"], transA=1)], [col], [weight("w", 5, 7)], "y"))


@pytest.mark.parametrize("opset", [7, 12, 13])
def test_opset_variants_of_dropout_squeeze_and_reshape(opset):
    """Dropout's ratio (input from 12), Squeeze/Unsqueeze axes (inputs from 13), Reshape's shape input."""
    w = weight("w", 4, 3, 8, 8)
    axes = {} if opset >= 13 else {"axes": [2, 3]}
    nodes = [conv_to("c", k=8),
             node("Dropout", ["c", "ratio"] if opset >= 12 else ["c"], ["d"]),
             node("Squeeze", ["d", "axes"] if opset >= 13 else ["d"], ["s"], **axes),
             node("Unsqueeze", ["s", "axes"] if opset >= 13 else ["s"], ["u"], **axes),
             node("Reshape", ["u", "flat"], ["f"]),
             node("Gemm", ["f", "wf"], ["y"], transB=1)]
    inits = [w, weight("wf", 10, 4), const("axes", [2, 3]), const("flat", [1, 4]),
             numpy_helper.from_array(np.float32(0.5), "ratio")]
    found = import_onnx(small_model(nodes, [X], inits, "y", opset))
    _, fc = found.workload.ops
    assert isinstance(fc, Gemm) and fc.input == "c" and found.workload.tensors["c"].shape == (1, 1, 1, 4)
    assert "import: 1 Dropout removed (the identity at inference): d" in found.notes


def test_node_names_become_op_names_cleaned_and_unique():
    w = weight("w", 3, 3, 3, 3)
    nodes = [helper.make_node("Conv", ["x", "w"], ["a+b"], name="conv 1", kernel_shape=[3, 3], pads=[1] * 4),
             helper.make_node("Conv", ["a+b", "w"], ["y"], name="conv 1", kernel_shape=[3, 3], pads=[1] * 4)]
    wl = import_onnx(small_model(nodes, [X], [w], "y")).workload
    assert [(op.name, op.input) for op in wl.ops] == [("conv_1", "x"), ("conv_1_", "a_b")]


def test_an_opset_older_than_7_is_refused():
    with pytest.raises(ConfigError, match=r"<onnx>: ONNX opset 6 is not supported; accelsim reads opsets 7 "
                                          r"to 21"):
        import_onnx(small_model([conv_to("y")], [X], [weight("w", 4, 3, 3, 3)], "y", 6))


def test_docs_show_the_importers_table_as_it_is():
    from accelsim.importers.onnx_ops import markdown_table
    from tests.helpers import ROOT
    assert markdown_table() in (ROOT / "docs" / "model.md").read_text()


def test_a_shape_known_only_after_a_fold_is_folded_on_the_next_pass():
    """Reshape to a shape computed from constants, then Shape of its output: two fold passes."""
    nodes = [node("Mul", ["half", "two"], ["target"]), node("Reshape", ["x", "target"], ["r"]),
             node("Shape", ["r"], ["s"]), node("Reshape", ["r", "s"], ["r2"]), conv_to("y", x="r2")]
    inits = [const("half", [1, 3, 4, 8]), const("two", [1, 1, 2, 1]), weight("w", 4, 3, 3, 3)]
    found = import_onnx(small_model(nodes, [X], inits, "y"))
    assert "import: 2 nodes of constants evaluated when read (Mul x1, Shape x1)" in found.notes
    assert found.workload.ops[0].input == "x"


def test_the_zoo_squeezenet_is_bit_exact_in_int8_through_its_concats():
    from accelsim.functional import check
    from accelsim.simulation import make_schedule
    hw, wl = load_hw(DEFAULT_HW), import_onnx(zoo("squeezenet")).workload
    schedule = make_schedule(hw, wl, "pipelined")
    found = check(schedule, wl, "int8", capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    assert {op.output for op in wl.ops if isinstance(op, Concat)} <= set(found.compared)


def test_the_zoo_resnet50_is_bit_exact_in_int8_through_its_fused_sums():
    from accelsim.functional import check
    from accelsim.simulation import make_schedule
    hw, wl = load_hw(DEFAULT_HW), import_onnx(zoo("resnet50")).workload
    schedule = make_schedule(hw, wl, "pipelined")
    found = check(schedule, wl, "int8", capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    sums = {op.output for op in wl.ops if isinstance(op, Add)}
    assert len(sums) == 16 and sums <= set(found.compared)       # each fused Sum's output, stored


def test_the_zoo_shufflenet_is_bit_exact_in_int8_through_its_shuffles():
    from accelsim.functional import check
    from accelsim.simulation import make_schedule
    hw, wl = load_hw(DEFAULT_HW), import_onnx(zoo("shufflenet")).workload
    schedule = make_schedule(hw, wl, "pipelined")
    found = check(schedule, wl, "int8", capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    assert {op.output for op in wl.ops if isinstance(op, Shuffle)} <= set(found.compared)


def test_the_zoo_densenet121_runs_its_62_pre_activation_batch_norms_as_scales_with_relus_fused():
    found = import_onnx(zoo("densenet121"))
    wl = found.workload
    scales = [op for op in wl.ops if isinstance(op, Scale)]
    assert len(scales) == 62 and all(op.relu for op in scales)
    assert sum(isinstance(op, Conv) for op in wl.ops) == 121
    # the first: n8, after the stem's max pool, whose output the first concat also reads
    assert (scales[0].name, scales[0].input) == ("n8", "r7")
    assert any(isinstance(op, Concat) and "r7" in op.inputs for op in wl.ops)
    assert wl.tensors["n8.weight"].shape == (2, 64)
    assert "import: 59 BatchNormalization folded into the conv or gemm before it (exact; that op's cost is " \
           "unchanged): n1, n15, n30, n45 and 55 more" in found.notes
    assert "import: 62 Mul folded into the scale before it (exact; that op's cost is unchanged): n10, n25, " \
           "n40, n55 and 58 more" in found.notes


# -- channel shuffle: Reshape -> Transpose -> Reshape becomes one shuffle op --------------------
def shuffle_model(groups=3, c=6, perm=(0, 2, 1, 3, 4), back=None, after=()):
    """x [1, c, 4, 4] -> Reshape [1, g, c/g, 4, 4] -> Transpose `perm` -> Reshape `back` (default
    [1, c, 4, 4]), then the nodes `after`."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, 4, 4])
    nodes = [node("Reshape", ["x", "s5"], ["r5"]), node("Transpose", ["r5"], ["t5"], perm=list(perm)),
             node("Reshape", ["t5", "s4"], ["y"]), *after]
    inits = [const("s5", [1, groups, c // groups, 4, 4]), const("s4", back or [1, c, 4, 4])]
    return small_model(nodes, [x], inits, after[-1].output[0] if after else "y")


def test_a_channel_shuffle_becomes_one_shuffle_op_that_permutes_as_onnx_does():
    model = shuffle_model()
    wl, skipped = load_onnx(model)
    (shuf,) = wl.ops
    assert skipped == [] and isinstance(shuf, Shuffle)
    assert (shuf.input, shuf.output, shuf.groups, shuf.name) == ("x", "y", 3, "y")
    x = np.random.default_rng(0).standard_normal((1, 6, 4, 4)).astype(np.float32)
    (want,) = ReferenceEvaluator(model).run(None, {"x": x})          # ONNX's own semantics
    got = shuffle_channels(x.transpose(0, 2, 3, 1), 3).transpose(0, 3, 1, 2)
    assert np.array_equal(got, want)


@pytest.mark.parametrize(("model", "message"), [
    (shuffle_model(perm=(0, 1, 2, 4, 3)), r"node 't5' \(Transpose\): a Transpose \(perm \[0, 1, 2, 4, 3\]\) "
     r"of \[1, 3, 2, 4, 4\] is mapped only as the middle of a channel shuffle"),
    (shuffle_model(back=[1, 2, 3, 4, 4]), r"node 'y' \(Reshape\): reshaping \[1, 2, 3, 4, 4\] to "
     r"\[1, 2, 3, 4, 4\]: only a channel shuffle"),
    (shuffle_model(after=[node("Relu", ["r5"], ["z"])]), r"node 'r5' \(Reshape\): reshaping \[1, 6, 4, 4\] "
     r"to rank 5 is mapped only as a channel shuffle .*; here it feeds Transpose 't5'"),   # read twice
    (small_model([node("Reshape", ["x", "s5"], ["r5"]), node("Relu", ["r5"], ["z"])],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, 4, 4])],
                 [const("s5", [1, 3, 2, 4, 4])], "z"),
     r"node 'r5' \(Reshape\): reshaping \[1, 6, 4, 4\] to rank 5 is mapped only as a channel shuffle .*; "
     r"here it feeds Relu 'z'"),
])
def test_any_other_rank_5_reshape_or_transpose_is_refused(model, message):
    with pytest.raises(ConfigError, match=message):
        load_onnx(model)
    with pytest.raises(ConfigError, match=message):
        import_onnx(model, skip_unsupported=True)


# -- a Relu after a concat: each input's op takes it, or the input is already >= 0 -------------
def relu_of_concat_model(first="c0"):
    """x -> conv c0; `first` and a conv c1 -> Concat -> Relu; c0 -> Relu -> AveragePool is `p`."""
    nodes = [conv_to("c0", w="w0", pads=[1] * 4), conv_to("c1", w="w1", pads=[1] * 4),
             node("Relu", ["c0"], ["r0"]),
             node("AveragePool", ["r0"], ["p"], kernel_shape=[3, 3], pads=[1] * 4),
             node("Concat", [first, "c1"], ["cat"], axis=1), node("Relu", ["cat"], ["y"])]
    if first != "p":
        nodes = [n for n in nodes if n.output[0] not in ("r0", "p")]
    return small_model(nodes, [X], [weight("w0", 4, 3, 3, 3), weight("w1", 5, 3, 3, 3)], "y")


def test_a_relu_after_a_concat_fuses_into_each_input_op_or_none_after_a_pool_of_relus():
    wl, _ = load_onnx(relu_of_concat_model("c0"))
    assert {op.name: op.relu for op in wl.ops if isinstance(op, Conv)} == {"c0": True, "c1": True}
    wl, _ = load_onnx(relu_of_concat_model("p"))                  # p = avgpool(relu(c0)) >= 0 already
    assert {op.name: op.relu for op in wl.ops if isinstance(op, Conv)} == {"c0": True, "c1": True}
    assert [op.kind for op in wl.ops] == ["conv", "conv", "avgpool", "concat"]


def test_a_relu_after_a_concat_of_a_graph_input_is_refused():
    with pytest.raises(ConfigError, match=r"node 'y' \(Relu\): a Relu after concat 'cat' fuses into its "
                                          r"inputs' ops, but input 'x' is neither"):
        load_onnx(relu_of_concat_model("x"))


@pytest.mark.parametrize("model", ["squeezenet", "inception_v1", "densenet121"])
def test_placing_the_zoo_concats_saves_reading_and_writing_each_concat_output_once(model):
    """Copying a concat loads each element of its output and stores it once; placed, neither."""
    wl = import_onnx(zoo(model)).workload
    hw = load_hw("default")
    joined = sum(math.prod(wl.tensors[op.output].shape) for op in wl.ops if isinstance(op, Concat))
    moved = {}
    for copy in (False, True):
        schedule, _, _ = network_schedule(wl, hw, "pipelined", copy_concats=copy)
        moved[copy] = sum(op.facts.moves for op in schedule.ops) * hw.element_bytes
        assert {c.label for c in schedule.concats} == {"copy" if copy else "no copy"}
    assert moved[True] - moved[False] == 2 * joined * hw.element_bytes


def test_each_conv_keeps_where_its_weights_come_from_with_the_folds_applied():
    # x -> Conv w1 -> Div by c -> Mul by d -> Relu -> Flatten (4x4 map) -> Gemm wf (transB 0):
    # the Div and Mul fold into the conv (weights times d / c per filter); the Gemm after the
    # flatten becomes a 4x4 conv whose filters are wf's columns
    rng = np.random.default_rng(1)
    w1, wf = rng.standard_normal((5, 2, 3, 3)), rng.standard_normal((5 * 16, 7))
    c, d = np.array([1, 2, 4, 8, 16.0]), np.array([-3, 1, 1, 2, 0.5])
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Div", ["c1", "c"], ["q"], name="div"),
             helper.make_node("Mul", ["d", "q"], ["m"], name="mul"),
             helper.make_node("Relu", ["m"], ["r"], name="relu"),
             helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "wf"], ["y"], name="fc")]
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in (
        ("w1", w1), ("c", c.reshape(1, 5, 1, 1)), ("d", d.reshape(5, 1, 1)), ("wf", wf))]
    graph = helper.make_graph(nodes, "folds",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    found = import_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    assert [type(op) for op in found.workload.ops] == [Conv, Conv]
    assert set(found.weights) == {"conv1", "fc"}
    w1_32, wf_32 = w1.astype(np.float32).astype(np.float64), wf.astype(np.float32).astype(np.float64)
    assert np.allclose(found.weights["conv1"].l1_norms(), np.abs(w1_32).sum(axis=(1, 2, 3)) * np.abs(d / c))
    assert np.allclose(found.weights["fc"].l1_norms(), np.abs(wf_32).sum(axis=0))
