"""Shared test data: the shipped configs, and small workloads built in code."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from accelsim import hw_from_dict, workload_from_dict
from accelsim.workload import Workload

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HW = ROOT / "hwconfigs" / "default.yaml"
IDEAL_HW = ROOT / "hwconfigs" / "ideal_memory.yaml"
BLOCK = ROOT / "traces" / "resnet50_convadd.yaml"


def hw_data(path: Path = DEFAULT_HW) -> dict:
    return yaml.safe_load(path.read_text())


def changed(data: dict, **changes) -> dict:
    """A deep copy of `data` with dotted keys (`dram__latency_cycles`) set."""
    out = copy.deepcopy(data)
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        node = out
        for key in path:
            node = node[key]
        node[last] = value
    return out


def hw(path: Path = DEFAULT_HW, **changes):
    return hw_from_dict(changed(hw_data(path), **changes))


def convadd_data(n=1, h=56, w=56, cin=64, cout=64, k=3, stride=1, pad=1, dilation=1, groups=1,
                 blocks=1) -> dict:
    """A chain of `blocks` ConvAdd blocks (a chain needs convs that keep the shape)."""
    ho = (h + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    wo = (w + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    if blocks > 1 and (ho, wo, cout) != (h, w, cin):
        raise ValueError("a chain of blocks needs shape-preserving convs")
    tensors, ops = {"x0": [n, h, w, cin]}, []
    for b in range(blocks):
        x, c, r, y = f"x{b}", f"c{b}", f"r{b}", f"x{b + 1}"
        tensors.update({c: [n, ho, wo, cout], r: [n, ho, wo, cout], y: [n, ho, wo, cout]})
        ops.append({"name": f"conv{b}", "kind": "conv", "input": x, "output": c, "kh": k, "kw": k,
                    "stride": stride, "pad": pad, "dilation": dilation, "groups": groups,
                    "cin": cin, "cout": cout})
        ops.append({"name": f"add{b}", "kind": "add", "inputs": [c, r], "output": y})
    return {"name": "test_convadd", "tensors": tensors, "ops": ops}


def convadd(**kw):
    return workload_from_dict(convadd_data(**kw))


def identity_block(**shape):
    """add(conv(x), x): the residual is the conv's own input."""
    data = convadd_data(**shape)
    data["ops"][1]["inputs"] = ["c0", "x0"]
    del data["tensors"]["r0"]
    return workload_from_dict(data)


def add_then_pool(h=2, w=2, c=64):
    """s = a + b, then a 2x2 stride-2 average pool of s: element-wise ops only."""
    return workload_from_dict({"name": "add_pool", "tensors": {"a": [1, h, w, c], "b": [1, h, w, c]}, "ops": [
        {"name": "sum", "kind": "add", "inputs": ["a", "b"], "output": "s"},
        {"name": "pool", "kind": "avgpool", "input": "s", "output": "p", "kh": 2, "kw": 2, "stride": 2}]})


def shuffle_net(h=6, w=5, groups=3) -> Workload:
    """conv (12 channels) -> channel shuffle of `groups` groups -> conv: ShuffleNet's unit in small."""
    return workload_from_dict(shuffle_net_data(h, w, groups))


def shuffle_net_data(h=6, w=5, groups=3) -> dict:
    """`shuffle_net` as a trace file holds it."""
    return ({"name": "shuffle_net", "tensors": {"x": [1, h, w, 8]}, "ops": [
        {"name": "c0", "kind": "conv", "input": "x", "output": "a", "kh": 3, "kw": 3, "cin": 8, "cout": 12,
         "pad": 1},
        {"name": "shuf", "kind": "shuffle", "input": "a", "output": "s", "groups": groups},
        {"name": "c1", "kind": "conv", "input": "s", "output": "z", "kh": 1, "kw": 1, "cin": 12, "cout": 8}]})


def concat_net(h=12, w=10) -> Workload:
    """conv -> two convs (8 and 24 channels) -> concat (32 channels) -> conv: an Inception-like
    join of a 1x1 and a 3x3 branch."""
    return workload_from_dict(concat_net_data(h, w))


def concat_net_data(h=12, w=10) -> dict:
    """`concat_net` as a trace file holds it."""
    return ({"name": "concat_net", "tensors": {"x": [1, h, w, 8]}, "ops": [
        {"name": "c0", "kind": "conv", "input": "x", "output": "a", "kh": 3, "kw": 3, "cin": 8, "cout": 16,
         "pad": 1, "relu": True},
        {"name": "e1", "kind": "conv", "input": "a", "output": "b1", "kh": 1, "kw": 1, "cin": 16, "cout": 8},
        {"name": "e3", "kind": "conv", "input": "a", "output": "b3", "kh": 3, "kw": 3, "cin": 16, "cout": 24,
         "pad": 1},
        {"name": "cat", "kind": "concat", "inputs": ["b1", "b3"], "output": "y"},
        {"name": "c2", "kind": "conv", "input": "y", "output": "z", "kh": 3, "kw": 3, "cin": 32, "cout": 8}]})
