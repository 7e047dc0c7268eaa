import numpy as np
import pytest

from accelsim import ConfigError, load_workload, workload_from_dict
from accelsim.workload import (
    Add,
    Concat,
    Conv,
    Lrn,
    Pool,
    Scale,
    Shuffle,
    Softmax,
    pool_output,
    shuffle_channels,
)
from tests.helpers import BLOCK, convadd_data


def test_block_trace_loads():
    wl = load_workload(BLOCK)
    conv, add = wl.ops
    assert isinstance(conv, Conv) and isinstance(add, Add)
    assert (conv.kh, conv.kw, conv.stride, conv.pad, conv.cin, conv.cout) == (3, 3, 1, 1, 64, 64)
    assert wl.tensors["x"].shape == (1, 56, 56, 64)
    assert wl.tensors["conv.weight"].shape == (64, 3, 3, 64)
    assert add.inputs == ("conv_out", "identity")


def errors_of(data) -> str:
    with pytest.raises(ConfigError) as err:
        workload_from_dict(data, "w.yaml")
    return str(err.value)


def test_add_inputs_of_different_shape():
    data = convadd_data()
    data["tensors"]["r0"] = [1, 28, 28, 64]
    msg = errors_of(data)
    assert msg == ("w.yaml: ops[1] (add0): inputs c0 [1, 56, 56, 64] and r0 [1, 28, 28, 64] "
                   "must have equal shapes")


def test_conv_output_shape_must_follow_from_its_parameters():
    data = convadd_data(k=3, pad=1)
    data["ops"][0]["stride"] = 2
    msg = errors_of(data)
    assert "ops[0] (conv0): output c0 is [1, 56, 56, 64], but this conv of x0 [1, 56, 56, 64] " \
           "gives [1, 28, 28, 64]" in msg


def test_conv_channels_and_groups():
    data = convadd_data()
    data["ops"][0]["cin"] = 32
    assert "input x0 has 64 channels, cin is 32" in errors_of(data)
    data = convadd_data()
    data["ops"][0]["groups"] = 3
    assert "groups=3 must divide cin=64 and cout=64" in errors_of(data)


def test_undeclared_tensor_and_unknown_kind_and_bad_field_all_reported():
    data = convadd_data()
    data["ops"][1]["inputs"] = ["c0", "ghost"]
    data["ops"].append({"name": "sm", "kind": "lstm"})
    msg = errors_of(data)
    assert ("ops[2].kind: must be one of 'conv', 'add', 'maxpool', 'avgpool', 'gemm', 'lrn', 'softmax', "
            "'scale', 'concat', 'shuffle', "
            "got 'lstm'") in msg
    data = convadd_data()
    data["ops"][0]["kh"] = 0
    data["ops"][1]["inputs"] = ["c0", "ghost"]
    assert "ops[0].kh: must be > 0, got 0" in errors_of(data)
    data = convadd_data()
    data["ops"][1]["inputs"] = ["c0", "ghost"]
    assert ("ops[1] (add0): tensor 'ghost' is read but is neither declared under tensors nor written "
            "by an op") in errors_of(data)


def test_op_kind_that_is_not_a_string():
    data = convadd_data()
    data["ops"][0]["kind"] = ["conv"]
    assert ("ops[0].kind: must be one of 'conv', 'add', 'maxpool', 'avgpool', 'gemm', 'lrn', 'softmax', "
            "'scale', 'concat', 'shuffle', "
            "got ['conv']") in errors_of(data)


def test_a_tensor_may_not_take_the_name_of_conv_weights():
    data = convadd_data()
    data["tensors"]["conv0.weight"] = data["tensors"].pop("r0")
    data["ops"][1]["inputs"] = ["c0", "conv0.weight"]
    assert "tensors.conv0.weight: this name is taken by the weights of conv 'conv0'" in errors_of(data)


def test_ops_are_kept_in_dependency_order_whatever_the_file_order():
    data = convadd_data(blocks=2)
    data["ops"].reverse()
    wl = workload_from_dict(data)
    assert [op.name for op in wl.ops] == ["conv0", "add0", "conv1", "add1"]


def test_a_cycle_is_an_error_naming_its_ops():
    data = convadd_data()
    data["ops"][0]["input"] = "x1"                   # conv0 reads what add0 writes from conv0
    del data["tensors"]["x0"]
    assert "ops conv0, add0 wait on each other's outputs (a cycle)" in errors_of(data)


def test_a_declared_tensor_nothing_uses_is_dangling():
    data = convadd_data()
    data["tensors"]["spare"] = [1, 2, 2, 2]
    assert "tensors.spare: declared but no op reads or writes it" in errors_of(data)


def test_double_write():
    data = convadd_data()
    data["ops"][1]["output"] = "c0"
    assert "tensor 'c0' is already written by ops[0]" in errors_of(data)


def test_errors_cite_the_line(tmp_path):
    text = BLOCK.read_text().replace("identity: [1, 56, 56, 64]", "identity: [1, 56, 28, 64]")
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_workload(path)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "name: add" in s)
    assert str(err.value).startswith(f"{path}:{line}: ops[1] (add): inputs conv_out")


def test_only_inputs_need_shapes_the_rest_are_inferred():
    wl = workload_from_dict({
        "name": "net", "tensors": {"img": [1, 224, 224, 3]},
        "ops": [
            {"name": "conv1", "kind": "conv", "input": "img", "output": "c1", "kh": 7, "kw": 7, "stride": 2,
             "pad": 3, "cin": 3, "cout": 64, "relu": True},
            {"name": "pool", "kind": "maxpool", "input": "c1", "output": "p1", "kh": 3, "kw": 3, "stride": 2,
             "pad": 1},
            {"name": "gap", "kind": "avgpool", "input": "p1", "output": "g", "kh": 56, "kw": 56},
            {"name": "fc", "kind": "gemm", "input": "g", "output": "logits", "out_features": 1000},
        ]})
    shapes = {name: t.shape for name, t in wl.tensors.items()}
    assert shapes["c1"] == (1, 112, 112, 64) and shapes["p1"] == (1, 56, 56, 64)
    assert shapes["g"] == (1, 1, 1, 64) and shapes["logits"] == (1, 1, 1, 1000)
    assert shapes["fc.weight"] == (1000, 64) and shapes["conv1.weight"] == (64, 7, 7, 3)
    assert wl.ops[0].relu and not wl.ops[3].relu
    # conv1: 112*112*64*7*7*3 MACs; fc: 64*1000
    assert wl.macs == 112 * 112 * 64 * 7 * 7 * 3 + 64 * 1000


def test_a_declared_output_shape_is_checked_for_pools_too():
    data = {"name": "p", "tensors": {"x": [1, 8, 8, 4], "y": [1, 3, 3, 4]},
            "ops": [{"name": "pool", "kind": "maxpool", "input": "x", "output": "y", "kh": 2, "kw": 2,
                     "stride": 2}]}
    assert "ops[0] (pool): output y is [1, 3, 3, 4], but this maxpool of x [1, 8, 8, 4] gives " \
           "[1, 4, 4, 4]" in errors_of(data)


def test_consumers_lists_each_reader_once_in_order():
    wl = workload_from_dict({"name": "w", "tensors": {"x": [1, 4, 4, 8]}, "ops": [
        {"name": "double", "kind": "add", "inputs": ["x", "x"], "output": "d"},
        {"name": "conv", "kind": "conv", "input": "x", "output": "c", "kh": 1, "kw": 1, "cin": 8, "cout": 8},
        {"name": "sum", "kind": "add", "inputs": ["d", "c"], "output": "y"}]})
    assert [op.name for op in wl.consumers("x")] == ["double", "conv"]
    assert [op.name for op in wl.consumers("c")] == ["sum"]
    assert wl.consumers("y") == []


def pool_net(h=26, w=26, **pool) -> dict:
    return {"name": "p", "tensors": {"x": [1, h, w, 4]},
            "ops": [{"name": "pool", "kind": "maxpool", "input": "x", "output": "y", "kh": 3, "kw": 3,
                     "stride": 2, **pool}]}


@pytest.mark.parametrize(("pool", "rows", "cols"), [
    ({}, 12, 12),                                        # floor((26 - 3) / 2) + 1
    ({"pads": [0, 0, 1, 1]}, 13, 13),                    # AlexNet's pool2: floor((26 + 1 - 3) / 2) + 1
    ({"ceil_mode": True}, 13, 13),                       # Caffe's: ceil((26 - 3) / 2) + 1
    ({"pads": [1, 0, 0, 0]}, 13, 12),                    # only the top pad: rows floor(24 / 2) + 1
    ({"pads": [0, 0, 1, 1], "ceil_mode": True}, 13, 13),  # ceil(24 / 2) + 1: exact, no overhang
    ({"pad": 1}, 13, 13),                                # the symmetric shorthand: floor(25 / 2) + 1
])
def test_pool_output_shapes_with_asymmetric_pads_and_ceil_mode(pool, rows, cols):
    wl = workload_from_dict(pool_net(**pool))
    assert wl.tensors["y"].shape == (1, rows, cols, 4)


def test_ceil_mode_drops_a_last_window_that_would_start_in_the_end_padding():
    # 5 inputs, window 2, stride 2, pads 1 and 1: ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th
    # window would start at padded position (4 - 1) * 2 = 6 >= 5 + 1, in the end padding: 3
    assert pool_output(5, 2, 2, 1, 1, ceil_mode=True) == 3
    assert pool_output(6, 3, 2, 0, 0, ceil_mode=True) == 3       # (3 - 1) * 2 = 4 < 6: kept
    assert pool_output(6, 3, 2, 0, 0, ceil_mode=False) == 2
    assert pool_output(2, 3, 1, 0, 0, ceil_mode=True) == 0       # the window does not fit


def test_pool_keys_default_to_the_old_symmetric_floor_pool():
    (pool,) = workload_from_dict(pool_net(pad=1)).ops
    assert isinstance(pool, Pool) and pool.padding == (1, 1, 1, 1)
    assert (pool.pads, pool.ceil_mode, pool.count_include_pad) == (None, False, None)
    assert pool.counts_padding
    (pool,) = workload_from_dict(pool_net(pads=[0, 2, 1, 1])).ops
    assert pool.padding == (0, 2, 1, 1)


@pytest.mark.parametrize(("pool", "message"), [
    ({"pad": 1, "pads": [0, 0, 1, 1]}, "w.yaml: ops[0] (pool): give pad (every side) or pads [top, left, "
                                       "bottom, right], not both (pad: 1, pads: [0, 0, 1, 1])"),
    ({"pads": [0, 0, 3, 1]}, "w.yaml: ops[0] (pool): pads[2] (bottom) = 3 must be less than kh = 3: a window "
                             "would read padding only"),
    ({"pad": 3}, "w.yaml: ops[0] (pool): pad = 3 must be less than kh = 3"),
    ({"pads": [0, 0, 1]}, "w.yaml: ops[0].pads: must have at least 4 item(s), got [0, 0, 1]"),
    ({"pads": [0, 0, 1, 1, 0]}, "w.yaml: ops[0].pads: must have at most 4 item(s)"),
    ({"pads": [0, -1, 1, 1]}, "w.yaml: ops[0].pads[1]: must be >= 0, got -1"),
    ({"ceil_mode": 1}, "w.yaml: ops[0].ceil_mode: must be true or false, got 1"),
    ({"count_include_pad": False}, "w.yaml: ops[0] (pool): count_include_pad applies to avgpool only"),
])
def test_bad_pool_keys_name_the_op_and_key(pool, message):
    assert message in errors_of(pool_net(**pool))


def vector_net(*ops) -> dict:
    return {"name": "v", "tensors": {"x": [1, 4, 4, 16]},
            "ops": [{"input": "x", "output": f"y{i}", "name": f"op{i}", **op} for i, op in enumerate(ops)]}


def test_lrn_and_softmax_keep_the_shape_and_take_onnx_defaults():
    wl = workload_from_dict(vector_net({"kind": "lrn", "size": 5}, {"kind": "softmax"},
                                       {"kind": "lrn", "size": 3, "alpha": 0.0005, "beta": 1, "bias": 2}))
    lrn, softmax, other = wl.ops
    assert isinstance(lrn, Lrn) and isinstance(softmax, Softmax)
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.bias) == (5, 0.0001, 0.75, 1.0)     # ONNX's defaults
    assert (other.size, other.alpha, other.beta, other.bias) == (3, 0.0005, 1, 2)
    assert wl.tensors["y0"].shape == wl.tensors["y1"].shape == (1, 4, 4, 16)
    assert wl.macs == 0


@pytest.mark.parametrize(("op", "message"), [
    ({"kind": "lrn"}, "w.yaml: ops[0].size: required key is missing"),
    ({"kind": "lrn", "size": 0}, "w.yaml: ops[0].size: must be > 0, got 0"),
    ({"kind": "lrn", "size": 5, "bias": 0}, "w.yaml: ops[0].bias: must be > 0"),
    ({"kind": "lrn", "size": 5, "alpha": -1}, "w.yaml: ops[0].alpha: must be >= 0"),
    ({"kind": "lrn", "size": 5, "beta": "big"}, "w.yaml: ops[0].beta: must be a number, got 'big'"),
    ({"kind": "lrn", "size": 5, "beta": float("nan")}, "w.yaml: ops[0].beta: must be a finite number"),
    ({"kind": "softmax", "axis": 1}, "w.yaml: ops[0].axis: unknown key (expected one of: name, kind, input, "
                                     "output)"),
])
def test_bad_lrn_and_softmax_keys_name_the_op_and_key(op, message):
    assert message in errors_of(vector_net(op))


def test_a_scale_keeps_the_shape_and_reads_its_2_x_c_constants():
    wl = workload_from_dict(vector_net({"kind": "scale"}, {"kind": "scale", "relu": True}))
    plain, fused = wl.ops
    assert isinstance(plain, Scale) and (plain.relu, fused.relu) == (False, True)
    assert wl.tensors["y0"].shape == (1, 4, 4, 16)
    assert wl.tensors["op0.weight"].shape == (2, 16)           # row 0: a[c], row 1: b[c]
    assert wl.macs == 0


@pytest.mark.parametrize(("op", "message"), [
    ({"kind": "scale", "relu": 1}, "w.yaml: ops[0].relu: must be true or false"),
    ({"kind": "scale", "size": 3}, "w.yaml: ops[0].size: unknown key (expected one of: name, kind, input, "
                                   "output, relu)"),
])
def test_bad_scale_keys_name_the_op_and_key(op, message):
    assert message in errors_of(vector_net(op))


def test_a_tensor_named_like_a_scales_constants_is_refused():
    data = vector_net({"kind": "scale"})
    data["tensors"]["op0.weight"] = [1, 1, 1, 2]
    data["ops"].append({"name": "c", "kind": "conv", "input": "op0.weight", "output": "z", "kh": 1, "kw": 1,
                        "cin": 2, "cout": 2})
    assert "tensors.op0.weight: this name is taken by the weights of scale 'op0'" in errors_of(data)


def concat_data(*shapes, declared=None) -> dict:
    tensors = {f"x{i}": list(s) for i, s in enumerate(shapes)}
    if declared is not None:
        tensors["y"] = declared
    return {"name": "c", "tensors": tensors,
            "ops": [{"name": "cat", "kind": "concat", "inputs": [f"x{i}" for i in range(len(shapes))],
                     "output": "y"}]}


def test_a_concat_joins_along_the_channels_in_input_order():
    wl = workload_from_dict(concat_data((1, 5, 7, 3), (1, 5, 7, 16), (1, 5, 7, 1)))
    (cat,) = wl.ops
    assert isinstance(cat, Concat) and cat.inputs == ("x0", "x1", "x2")
    assert wl.tensors["y"].shape == (1, 5, 7, 20) and wl.macs == 0
    assert cat.offsets([3, 16, 1]) == [0, 3, 19]


@pytest.mark.parametrize(("data", "message"), [
    (concat_data((1, 5, 7, 3), (1, 4, 7, 3)),
     "w.yaml: ops[0] (cat): inputs x0 [1, 5, 7, 3] and x1 [1, 4, 7, 3] must have equal N, H and W "
     "(a concat joins along the channels, the last axis)"),
    (concat_data((1, 5, 7, 3), (2, 5, 7, 3)), "inputs x0 [1, 5, 7, 3] and x1 [2, 5, 7, 3] must have equal"),
    (concat_data((1, 5, 7, 3), (1, 5, 7, 4), declared=[1, 5, 7, 8]),
     "w.yaml: ops[0] (cat): output y is [1, 5, 7, 8], but this concat of x0, x1 gives [1, 5, 7, 7]"),
    (concat_data((1, 5, 7, 3)), "w.yaml: ops[0].inputs: must have at least 2 item(s), got ['x0']"),
    ({"name": "c", "tensors": {"x": [1, 2, 2, 2]},
      "ops": [{"name": "cat", "kind": "concat", "inputs": ["x", "x"], "output": "y"}]},
     "w.yaml: ops[0] (cat): input x is listed twice; a concat joins distinct tensors"),
])
def test_bad_concats_name_the_op_and_what_is_wrong(data, message):
    assert message in errors_of(data)


# -- shuffle: ShuffleNet's channel shuffle, against numpy's reshape -> transpose -> reshape --

def shuffle_data(shape, groups):
    return {"name": "s", "tensors": {"x": list(shape)},
            "ops": [{"name": "shuf", "kind": "shuffle", "input": "x", "output": "y", "groups": groups}]}


def test_a_shuffle_keeps_the_shape_and_computes_nothing():
    wl = workload_from_dict(shuffle_data((1, 5, 7, 12), 3))
    (shuf,) = wl.ops
    assert isinstance(shuf, Shuffle) and shuf.groups == 3
    assert wl.tensors["y"].shape == (1, 5, 7, 12) and wl.macs == 0


@pytest.mark.parametrize(("c", "g"), [(12, 3), (12, 4), (6, 2), (5, 1), (8, 8), (240, 3)])
def test_shuffle_channels_is_the_onnx_reshape_transpose_reshape(c, g):
    x = np.arange(2 * 3 * c).reshape(2, 3, c)
    nchw = x.transpose(0, 2, 1)                          # [N, C, L]: ONNX's layout
    onnx = nchw.reshape(2, g, c // g, 3).transpose(0, 2, 1, 3).reshape(2, c, 3).transpose(0, 2, 1)
    assert np.array_equal(shuffle_channels(x, g), onnx)
    k, j = divmod(c - 1, g)                              # the last output channel, by the formula
    assert shuffle_channels(x, g)[0, 0, c - 1] == x[0, 0, j * (c // g) + k]


def test_shuffle_of_12_channels_in_3_groups_by_hand():
    # groups [0 1 2 3] [4 5 6 7] [8 9 10 11]: one channel of each group in turn
    assert shuffle_channels(np.arange(12), 3).tolist() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]


@pytest.mark.parametrize(("data", "message"), [
    (shuffle_data((1, 5, 7, 10), 3), "w.yaml: ops[0] (shuf): groups=3 must divide the input's 10 channels"),
    (shuffle_data((1, 5, 7, 12), 0), "groups"),
])
def test_bad_shuffles_name_the_op_and_what_is_wrong(data, message):
    assert message in errors_of(data)
