import pytest

from accelsim import ConfigError, load_workload, workload_from_dict
from accelsim.workload import Add, Conv
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
    data["ops"].append({"name": "sm", "kind": "softmax"})
    msg = errors_of(data)
    assert "ops[2].kind: must be one of 'conv', 'add', 'maxpool', 'avgpool', 'gemm', got 'softmax'" in msg
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
    assert "ops[0].kind: must be one of 'conv', 'add', 'maxpool', 'avgpool', 'gemm', got ['conv']" \
        in errors_of(data)


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
