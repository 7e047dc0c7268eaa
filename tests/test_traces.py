"""The shipped network traces: op counts and MACs against the published architectures."""

import pytest

from accelsim import load_workload
from accelsim.workload import Add, Conv, Gemm, Pool
from tests.helpers import ROOT


def counts(wl):
    kinds = (Conv, Add, Pool, Gemm)
    return tuple(sum(isinstance(op, k) for op in wl.ops) for k in kinds)


@pytest.mark.parametrize(("name", "convs_adds_pools_gemms", "macs"), [
    # ResNet-50 v1.5: 53 convs (incl. 4 downsamples), 16 residual adds, max + avg pool, FC;
    # 4.09 GMACs (convs + FC), as published.
    ("resnet50", (53, 16, 2, 1), 4_089_184_256),
    # ResNet-18: 20 convs (incl. 3 downsamples), 8 adds; 1.81 GMACs.
    ("resnet18", (20, 8, 2, 1), 1_814_073_344),
    # MobileNetV2: 52 convs (17 depthwise), 10 residual adds; 300 M MACs.
    ("mobilenetv2", (52, 10, 1, 1), 300_774_272),
])
def test_network_traces(name, convs_adds_pools_gemms, macs):
    wl = load_workload(ROOT / "traces" / f"{name}.yaml")
    assert counts(wl) == convs_adds_pools_gemms
    assert wl.macs == macs
    assert wl.tensors[wl.ops[-1].output].shape == (1, 1, 1, 1000)


def test_resnet50_published_total_rounds_to_4_09_gmacs():
    assert round(load_workload(ROOT / "traces" / "resnet50.yaml").macs / 1e9, 2) == 4.09


def test_mobilenetv2_depthwise_convs_have_one_group_per_channel():
    wl = load_workload(ROOT / "traces" / "mobilenetv2.yaml")
    depthwise = [op for op in wl.ops if isinstance(op, Conv) and op.groups > 1]
    assert len(depthwise) == 17
    assert all(op.groups == op.cin == op.cout for op in depthwise)
