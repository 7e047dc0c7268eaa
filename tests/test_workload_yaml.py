"""Workloads written as trace YAML read back as the same workload, byte for byte the same."""

from __future__ import annotations

import pytest

from accelsim.workload import load_workload, workload_from_dict
from accelsim.workload_yaml import op_data, workload_to_yaml, write_workload
from accelsim.yamlio import read_yaml_text
from tests.helpers import ROOT


@pytest.mark.parametrize("trace", ["resnet50", "resnet18", "mobilenetv2", "resnet50_convadd",
                                   str(ROOT / "tests" / "data" / "lrn_softmax.yaml")])
def test_the_shipped_traces_read_back_equal(trace, tmp_path):
    wl = load_workload(trace)
    path = tmp_path / "back.yaml"
    write_workload(path, wl, ("a comment", "another"))
    assert load_workload(path) == wl
    text = path.read_text()
    assert text.startswith("# a comment\n# another\nname: ")
    assert text == workload_to_yaml(wl, ("a comment", "another"))


def test_names_yaml_would_misread_floats_and_own_dtypes_survive():
    data = {"name": "123", "dtype": "fp16",
            "tensors": {"yes": {"shape": [1, 4, 4, 2], "dtype": "int8"}, "null": [1, 4, 4, 2],
                        "x: y": {"shape": [1, 4, 4, 3], "dtype": "fp32"}},
            "ops": [{"name": "on", "kind": "conv", "input": "yes", "output": "x: y", "kh": 1, "kw": 1,
                     "cin": 2, "cout": 3},
                    {"name": "#n", "kind": "lrn", "input": "x: y", "output": "1e5", "size": 3,
                     "alpha": 1e-05, "beta": 1e20, "bias": 2.5},
                    {"name": "a", "kind": "add", "inputs": ["yes", "null"], "output": "~"}]}
    wl = workload_from_dict(data)
    text = workload_to_yaml(wl)
    back = workload_from_dict(read_yaml_text(text, "<t>").data)
    assert back == wl
    assert back.ops[1].alpha == 1e-05 and back.tensors["x: y"].dtype == "fp32"


def test_only_fields_off_their_default_are_written():
    wl = load_workload("resnet50_convadd")
    conv, add = wl.ops
    assert op_data(conv) == {"name": "conv", "kind": "conv", "input": "x", "output": "conv_out", "kh": 3,
                             "kw": 3, "cin": 64, "cout": 64, "pad": 1}
    assert op_data(add) == {"name": "add", "kind": "add", "inputs": ["conv_out", "identity"], "output": "y"}


def test_sparsity_a_trace_declares_survives():
    """A conv's weight_sparsity and a tensor's density (an input's and an intermediate's) are
    written; what a run's array skips (`skip`) never is."""
    data = {"name": "sparse", "tensors": {"x": {"shape": [1, 4, 4, 8], "density": 0.5},
                                          "h": {"shape": [1, 4, 4, 8], "density": 0.25}},
            "ops": [{"name": "c1", "kind": "conv", "input": "x", "output": "h", "kh": 1, "kw": 1, "cin": 8,
                     "cout": 8, "weight_sparsity": "2:4"},
                    {"name": "c2", "kind": "conv", "input": "h", "output": "y", "kh": 1, "kw": 1, "cin": 8,
                     "cout": 8}]}
    wl = workload_from_dict(data)
    text = workload_to_yaml(wl)
    assert "x: {shape: [1, 4, 4, 8], density: 0.5}" in text
    assert "h: {shape: [1, 4, 4, 8], density: 0.25}" in text
    assert "weight_sparsity: '2:4'" in text and "skip" not in text
    assert workload_from_dict(read_yaml_text(text, "<t>").data) == wl
