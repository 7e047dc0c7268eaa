from accelsim import load_workload, workload_from_dict
from accelsim.scheduler.fusion import plan_fusion
from tests.helpers import ROOT, convadd_data


def test_resnet50_fuses_every_residual_add_and_runs_downsamples_first():
    plan = plan_fusion(load_workload(ROOT / "traces" / "resnet50.yaml"))
    assert len(plan.fused) == 16 and plan.not_fused == {}
    names = [layer.name for layer in plan.layers]
    assert len(names) == 72 - 16
    # the block's add needs the downsample, so it runs before the fused conv3 + add
    assert names.index("layer1.0.downsample") < names.index("layer1.0.conv3+layer1.0.add")
    produced = {"image"}
    for layer in plan.layers:                        # every layer after its inputs' producers
        assert set(layer.op.inputs) <= produced
        if layer.add:
            assert layer.residual in produced
            produced.add(layer.op.output)
        produced.add(layer.output)


def test_an_add_whose_conv_output_is_also_read_elsewhere_does_not_fuse():
    data = convadd_data()
    data["ops"].append({"name": "tap", "kind": "maxpool", "input": "c0", "output": "t", "kh": 2, "kw": 2})
    plan = plan_fusion(workload_from_dict(data))
    assert plan.fused == []
    assert plan.not_fused == {"add0": "conv0's output is also read by another op"}


def test_an_add_of_two_non_convs_says_so():
    data = {"name": "p", "tensors": {"x": [1, 4, 4, 2], "y": [1, 4, 4, 2]},
            "ops": [{"name": "a", "kind": "add", "inputs": ["x", "y"], "output": "z"}]}
    assert plan_fusion(workload_from_dict(data)).not_fused == {"a": "neither input comes from a conv"}


def test_an_add_of_a_tensor_to_itself_does_not_fuse():
    data = convadd_data()
    data["ops"][1]["inputs"] = ["c0", "c0"]
    del data["tensors"]["r0"]
    plan = plan_fusion(workload_from_dict(data))
    assert plan.fused == [] and plan.not_fused == {"add0": "it adds a tensor to itself"}
