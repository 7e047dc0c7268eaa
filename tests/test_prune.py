"""Filter pruning by L1 norm (accelsim.prune, `accelsim prune`): which convs, which filters,
the smaller workload's shapes and MACs, and that it computes what the dense one computes with
the removed filters zeroed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from accelsim import ConfigError, load_hw
from accelsim.cli import main
from accelsim.cost import Gemm, systolic_cycles
from accelsim.functional import check, random_inputs, reference
from accelsim.importers.onnx import import_onnx
from accelsim.prune import (
    filter_norms,
    onnx_norms,
    parse_ratio,
    prune,
    pruned_arrays,
    random_norms,
    regions,
    smallest,
    summary,
    totals,
)
from accelsim.simulation import make_schedule, simulate
from accelsim.workload import Conv, load_workload, workload_from_dict
from tests.helpers import BLOCK, DEFAULT_HW, ROOT


def chain_data() -> dict:
    """x -> c1 (3x3, 4->10) -> maxpool -> dw (depthwise 3x3) -> c2 (1x1, 10->4) -> add(r) -> c3
    (1x1, 4->6) -> avgpool -> fc (gemm, 3): c1 and c3 prunable, c2 pinned by the add."""
    def conv(name, x, cin, cout, k, groups=1, relu=True):
        return {"name": name, "kind": "conv", "input": x, "output": name, "kh": k, "kw": k, "pad": k // 2,
                "cin": cin, "cout": cout, "groups": groups, "relu": relu}
    return {"name": "chain", "tensors": {"x": [1, 8, 8, 4], "r": [1, 4, 4, 4]}, "ops": [
        conv("c1", "x", 4, 10, 3),
        {"name": "p", "kind": "maxpool", "input": "c1", "output": "p", "kh": 2, "kw": 2, "stride": 2},
        conv("dw", "p", 10, 10, 3, groups=10),
        conv("c2", "dw", 10, 4, 1, relu=False),
        {"name": "add", "kind": "add", "inputs": ["c2", "r"], "output": "y"},
        conv("c3", "y", 4, 6, 1),
        {"name": "gap", "kind": "avgpool", "input": "c3", "output": "g", "kh": 4, "kw": 4},
        {"name": "fc", "kind": "gemm", "input": "g", "output": "fc", "out_features": 3}]}


CHAIN = workload_from_dict(chain_data())


def l1(w: np.ndarray) -> np.ndarray:
    return np.abs(w.astype(np.int64)).sum(axis=(1, 2, 3))


def test_the_chain_drops_the_filters_numpy_ranks_smallest_and_shrinks_their_readers():
    weights = random_inputs(CHAIN, "int8", seed=0)
    result = prune(CHAIN, "0.3", random_norms(CHAIN, seed=0))
    # floor(0.3 * 10) = 3 filters of c1, floor(0.3 * 6) = 1 of c3; c2's output feeds the add
    want_c1 = tuple(sorted(np.argsort(l1(weights["c1.weight"]), kind="stable")[:3].tolist()))
    want_c3 = (int(np.argmin(l1(weights["c3.weight"]))),)
    assert [(p.conv, p.removed) for p in result.layers] == [("c1", want_c1), ("c3", want_c3)]
    assert dict(result.pinned) == {"c2": "add add reads its channels"}
    ops = {op.name: op for op in result.pruned.ops}
    assert (ops["c1"].cin, ops["c1"].cout) == (4, 7)
    assert (ops["dw"].cin, ops["dw"].cout, ops["dw"].groups) == (7, 7, 7)
    assert (ops["c2"].cin, ops["c2"].cout) == (7, 4)             # its filters untouched
    assert (ops["c3"].cin, ops["c3"].cout) == (4, 5)
    assert result.pruned.tensors["fc.weight"].shape == (3, 5)
    assert result.channels["p"] == tuple(c for c in range(10) if c not in want_c1)
    # MACs by hand: c1 8*8*Cout*9*4, dw 4*4*C*9, c2 4*4*4*C, c3 4*4*Cout*4, fc Cin*3
    assert CHAIN.macs == 64 * 10 * 36 + 16 * 10 * 9 + 16 * 4 * 10 + 16 * 6 * 4 + 6 * 3 == 25_522
    assert result.pruned.macs == 64 * 7 * 36 + 16 * 7 * 9 + 16 * 4 * 7 + 16 * 5 * 4 + 5 * 3 == 17_919
    # weights: c1 10*9*4, dw 10*9, c2 4*10, c3 6*4, fc 3*6 elements (int8: bytes)
    assert totals(CHAIN).weight_bytes == 360 + 90 + 40 + 24 + 18
    assert totals(result.pruned).weight_bytes == 7 * 36 + 7 * 9 + 4 * 7 + 5 * 4 + 3 * 5


def test_ties_go_to_the_lower_index_and_at_least_one_filter_stays():
    assert smallest(np.array([2, 1, 2, 2, 5]), 2) == (0, 1)
    assert smallest(np.array([3, 3, 3]), 2) == (0, 1)
    norms = {"c1": np.array([2, 1, 2, 2, 9, 9, 9, 9, 9, 9]), "c3": np.ones(6)}
    result = prune(CHAIN, 0.2, norms)                 # floor(0.2 * 10) = 2, floor(0.2 * 6) = 1
    assert [p.removed for p in result.layers] == [(0, 1), (0,)]
    last = prune(CHAIN, "0.99", norms)               # floor(0.99 * 6) = 5: one filter left
    assert [len(p.kept) for p in last.layers] == [1, 1]


def test_the_ratio_is_exact_decimal_and_in_zero_to_one():
    assert parse_ratio("0.29") * 100 == 29          # a float 0.29 * 100 is 28.999...
    assert prune(CHAIN, 0.0, {"c1": np.arange(10), "c3": np.arange(6)}).pruned.macs == CHAIN.macs
    for bad in ("1", "-0.1", "1.5", "abc", "nan"):
        with pytest.raises(ConfigError, match="ratio"):
            parse_ratio(bad)


def test_the_pruned_chain_equals_the_dense_one_with_the_removed_filters_zeroed():
    # what pruning means: the kept weights, sliced from the dense ones, compute exactly what the
    # dense network computes when the removed filters are zero (int8: a zero filter gives 0)
    dense = random_inputs(CHAIN, "int8", seed=3)
    result = prune(CHAIN, "0.3", random_norms(CHAIN, seed=3))
    zeroed = dict(dense)
    for layer in result.layers:
        w = dense[f"{layer.conv}.weight"].copy()
        w[list(layer.removed)] = 0
        zeroed[f"{layer.conv}.weight"] = w
    want = reference(CHAIN, zeroed)
    got = reference(result.pruned, pruned_arrays(result, dense))
    for tensor in ("y", "fc"):                      # past the pruned channels: equal whole
        assert np.array_equal(got[tensor], want[tensor]), tensor
    for tensor, kept in result.channels.items():     # the pruned tensors: their kept channels
        assert np.array_equal(got[tensor], want[tensor][..., list(kept)]), tensor
        gone = [c for c in range(want[tensor].shape[-1]) if c not in kept]
        assert not want[tensor][..., gone].any(), tensor
    assert want["fc"].any() and want["y"].any()


def test_functional_execution_of_the_pruned_workloads_is_bit_exact():
    # the ConvAdd block has nothing to prune (its conv feeds the add): it is written unchanged
    hw = load_hw(DEFAULT_HW)
    block = load_workload(BLOCK)
    same = prune(block, "0.3", random_norms(block))
    assert same.convs_pruned == 0 and same.pruned.ops == block.ops
    for wl in (same.pruned, prune(CHAIN, "0.5", random_norms(CHAIN)).pruned):
        found = check(make_schedule(hw, wl, "pipelined"), wl, "int8", capacity=hw.sram_capacity())
        assert found.ok, found.mismatches


def test_pruned_resnet18_executes_bit_exact():
    hw = load_hw(DEFAULT_HW)
    wl = load_workload("resnet18")
    result = prune(wl, "0.3", random_norms(wl))
    # basic blocks: only each block's conv1 feeds a conv alone (conv2 and the downsample feed
    # the add; the stem's maxpool output is layer1.0's identity)
    assert [p.conv for p in result.layers] == [f"layer{i}.{b}.conv1" for i in range(1, 5) for b in (0, 1)]
    pruned = result.pruned
    found = check(make_schedule(hw, pruned, "pipelined"), pruned, "int8", capacity=hw.sram_capacity())
    assert found.ok, found.mismatches
    assert "fc" in found.compared


def kept(c: int, ratio: Fraction = Fraction(3, 10)) -> int:
    return c - int(ratio * c)


def conv_macs(wl, op: Conv, cin: int, cout: int) -> int:
    """A conv's MACs with `cin` and `cout` channels (a depthwise conv: one input channel a filter)."""
    _, ho, wo, _ = wl.tensors[op.output].shape
    return ho * wo * op.kh * op.kw * (1 if op.groups > 1 else cin) * cout


def test_resnet50_prunes_the_stem_and_each_bottlenecks_first_two_convs():
    wl = load_workload("resnet50")
    found, pinned = regions(wl)
    blocks = sorted({op.name.rsplit(".", 1)[0] for op in wl.ops if op.name.endswith(".conv3")})
    assert len(blocks) == 16
    assert list(found) == ["conv1", *[f"{b}.{c}" for b in blocks for c in ("conv1", "conv2")]]
    assert set(pinned) == {f"{b}.conv3" for b in blocks} | {op.name for op in wl.ops
                                                             if op.name.endswith("downsample")}
    # MACs after, by the rule: a pruned conv keeps c - floor(0.3 c) filters; a conv reading
    # the stem (through the maxpool) or a pruned conv has that many input channels
    result = prune(wl, "0.3", random_norms(wl))
    assert len(result.layers) == result.convs_pruned == 33
    couts = {name: kept(op.cout) for op in wl.ops if isinstance(op, Conv) for name in [op.name]
             if name in found}
    source = {"layer1.0.conv1": "conv1", "layer1.0.downsample": "conv1"}
    macs = 0
    for op in wl.ops:
        if isinstance(op, Conv):
            block, last = op.name.rsplit(".", 1) if "." in op.name else ("", op.name)
            before = {"conv2": f"{block}.conv1", "conv3": f"{block}.conv2"}.get(last) or source.get(op.name)
            macs += conv_macs(wl, op, couts.get(before, op.cin), couts.get(op.name, op.cout))
    macs += 2048 * 1000                               # fc
    assert result.pruned.macs == macs
    assert result.filters_removed == sum(int(Fraction(3, 10) * wl.tensors[f"{n}.weight"].shape[0])
                                         for n in found)


def test_mobilenetv2_prunes_the_expands_and_the_projects_no_add_reads():
    wl = load_workload("mobilenetv2")
    names = [op.name for op in wl.ops]
    blocks = sorted({int(n.split(".")[1]) for n in names if n.endswith(".project")})
    has_add = {b: f"features.{b}.add" in names for b in blocks}
    # a project's output is read by its own block's add, or (no add there) it is the next
    # block's input, read by that block's add if it has one
    projects = [f"features.{b}.project" for b in blocks
                if not has_add[b] and not has_add.get(b + 1, False)]
    expands = [n for n in names if n.endswith(".expand")]
    assert projects == ["features.1.project", "features.17.project"]
    result = prune(wl, "0.3", random_norms(wl))
    order = {n: i for i, n in enumerate(names)}
    want = sorted(["features.0", *expands, *projects, "features.18"], key=order.__getitem__)
    assert [p.conv for p in result.layers] == want
    # MACs by the rule: a depthwise conv keeps the channels of the conv before it
    ops = {op.name: op for op in wl.ops}
    cout = {n: kept(ops[n].cout) for n in want}
    cin: dict[str, int] = {}
    for b in blocks:
        first = f"features.{b}.expand" if f"features.{b}.expand" in ops else f"features.{b}.depthwise"
        before = f"features.{b - 1}" if b == 1 else f"features.{b - 1}.project"
        if before in cout:
            cin[first] = cout[before]
        hidden = cout.get(f"features.{b}.expand", cin.get(f"features.{b}.depthwise"))
        if hidden is not None:
            cin[f"features.{b}.depthwise"] = hidden
            cout[f"features.{b}.depthwise"] = hidden
            cin[f"features.{b}.project"] = hidden
    cin["features.18"] = cout["features.17.project"]
    macs = sum(conv_macs(wl, op, cin.get(op.name, op.cin), cout.get(op.name, op.cout))
               for op in wl.ops if isinstance(op, Conv))
    assert result.pruned.macs == macs + kept(1280) * 1000            # the classifier reads 896
    assert result.pruned.tensors["classifier.weight"].shape == (1000, 896)


def test_one_resnet50_layer_by_hand():
    # layer1.1.conv2, a 3x3 conv on 56x56: its own filters 64 -> 45 and its input channels
    # (layer1.1.conv1's filters) 64 -> 45. Whole-layer GEMM M = 3136, K = 9 * Cin, N = Cout.
    dense_wl = load_workload("resnet50")
    result = prune(dense_wl, "0.3", random_norms(dense_wl))
    hw = load_hw(DEFAULT_HW)
    for wl, c in ((dense_wl, 64), (result.pruned, 45)):
        op = next(op for op in wl.ops if op.name == "layer1.1.conv2")
        assert (op.cin, op.cout) == (c, c)
        assert wl.tensors[op.weight].shape == (c, 3, 3, c)          # weight bytes: 36,864 -> 18,225
        assert op.macs(wl.tensors[op.input].shape) == 56 * 56 * 9 * c * c   # 115,605,504 -> 57,153,600
    # the formula, 32x32 OS: T = K, folds ceil(3136/32) * ceil(N/32) = 98 * 2 (45 filters still
    # take two column folds), cycles K + 62 + 195 * K: 112,958 -> 79,442 (K 576 -> 405)
    assert systolic_cycles(Gemm(3136, 576, 64), 32, 32, "os") == 576 + 62 + 195 * 576 == 112_958
    assert systolic_cycles(Gemm(3136, 405, 45), 32, 32, "os") == 405 + 62 + 195 * 405 == 79_442
    # simulated (pipelined): the layer runs in P row parts of 56/P rows, each a GEMM of
    # M = 56 * 56/P; its DRAM reads are the input with 2 halo rows per inner boundary plus the
    # weights once, its writes the output; energy: MACs x 0.3 pJ, DRAM bytes x 162.5 pJ
    for wl, c, cycles, read, written in ((dense_wl, 64, 113_330, 280_576, 200_704),
                                         (result.pruned, 45, 79_814, 189_585, 141_120)):
        run = simulate(hw, wl, schedule="pipelined")
        layer = next(L for L in run.layers() if L.name == "layer1.1.conv2")
        parts = sum(1 for o in run.ops if o.layer == "layer1.1.conv2" and o.unit == "conv")
        assert parts == 7
        rows = 56 // parts
        formula = systolic_cycles(Gemm(56 * rows, 9 * c, c), 32, 32, "os")
        assert layer.units["conv"].busy_cycles == parts * formula == cycles
        assert layer.dram_read_bytes == (56 + 2 * (parts - 1)) * 56 * c + 9 * c * c == read
        assert layer.dram_write_bytes == 56 * 56 * c == written
        assert layer.energy_breakdown_pj["mac"] == pytest.approx(0.3 * 56 * 56 * 9 * c * c)
        assert layer.energy_breakdown_pj["dram"] == pytest.approx(162.5 * (read + written))


# -- ONNX ---------------------------------------------------------------------------------------
def onnx_chain(w1: np.ndarray, gamma: np.ndarray) -> onnx.ModelProto:
    """x[1,3,8,8] -> Conv w1 (6 filters, 3x3) -> BatchNormalization -> Relu -> Conv (1x1, 4) -> y."""
    var = np.full(6, 3.0, np.float32)
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c1", "gamma", "beta", "mean", "var"], ["b1"],
                              name="bn1", epsilon=1.0),
             helper.make_node("Relu", ["b1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "w2"], ["y"], name="conv2", kernel_shape=[1, 1])]
    inits = [numpy_helper.from_array(a, n) for n, a in (
        ("w1", w1), ("gamma", gamma), ("beta", np.ones(6, np.float32)), ("mean", np.zeros(6, np.float32)),
        ("var", var), ("w2", np.ones((4, 6, 1, 1), np.float32)))]
    graph = helper.make_graph(nodes, "onnx_chain",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_onnx_filters_go_by_their_initializers_with_the_batch_norm_folded(tmp_path):
    rng = np.random.default_rng(7)
    w1 = rng.standard_normal((6, 3, 3, 3)).astype(np.float32)
    gamma = np.array([0.1, 4.0, 1.0, 0.5, 2.0, 8.0], np.float32)
    model = onnx_chain(w1, gamma)
    found = import_onnx(model)
    folded = np.abs(w1.astype(np.float64)).sum(axis=(1, 2, 3)) * gamma / 2.0    # sqrt(var + eps) = 2
    assert np.allclose(onnx_norms(found)["conv1"], folded)
    result = prune(found.workload, "0.5", onnx_norms(found))
    want = tuple(sorted(np.argsort(folded, kind="stable")[:3].tolist()))
    raw = tuple(sorted(np.argsort(filter_norms(w1), kind="stable")[:3].tolist()))
    assert want != raw                                # the batch norm changes the choice
    assert [(p.conv, p.removed) for p in result.layers] == [("conv1", want)]
    # the CLI on the file: the trace it writes reads back as the pruned workload
    path, out = tmp_path / "chain.onnx", tmp_path / "smaller.yaml"
    onnx.save(model, str(path))
    assert main(["prune", str(path), "--ratio", "0.5", "-o", str(out)]) == 0
    written = load_workload(out)
    assert written == result.pruned
    assert [(op.cin, op.cout) for op in written.ops] == [(3, 3), (3, 4)]
    assert f"conv1: 3 of 6 kept (removed: {', '.join(map(str, want))})" in out.read_text()


# -- CLI ----------------------------------------------------------------------------------------
def write_chain(tmp_path):
    path = tmp_path / "chain.yaml"
    path.write_text(json.dumps(chain_data()))                # JSON is YAML
    return path


def test_the_cli_writes_a_trace_that_reads_back_and_runs(tmp_path, capsys):
    src, out = write_chain(tmp_path), tmp_path / "smaller.yaml"
    assert main(["prune", str(src), "--ratio", "0.3", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "pruned 2 of 4 convs at ratio 0.3: 4 of their 16 filters removed" in printed
    assert "MACs: 25,522 -> 17,919 (-29.8%)" in printed
    assert "weights: 532 -> 378 bytes at int8" in printed
    assert load_workload(out) == prune(CHAIN, "0.3", random_norms(CHAIN)).pruned
    assert main(["run", str(DEFAULT_HW), str(out), "--schedule", "pipelined", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["macs"] == 17_919


def test_the_same_inputs_give_the_same_bytes_and_the_seed_is_used(tmp_path):
    src = write_chain(tmp_path)
    texts = []
    for k, seed in enumerate(("0", "0", "5")):
        out = tmp_path / f"out{k}.yaml"
        assert main(["prune", str(src), "--ratio", "0.5", "-o", str(out), "--seed", seed]) == 0
        texts.append(out.read_bytes())
    assert texts[0] == texts[1]
    assert texts[0] != texts[2]
    assert b"seed 5" in texts[2]


def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys):
    src = write_chain(tmp_path)
    for ratio in ("1", "-0.2", "x"):
        with pytest.raises(SystemExit) as exc:
            main(["prune", str(src), "--ratio", ratio, "-o", str(tmp_path / "o.yaml")])
        assert exc.value.code == 2
        assert "--ratio" in capsys.readouterr().err
    assert main(["prune", str(src), "--ratio", "0.3", "-o", str(tmp_path / "no" / "o.yaml")]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert main(["prune", str(tmp_path / "none.yaml"), "--ratio", "0.3", "-o", str(tmp_path / "o.yaml")]) == 2


def test_nothing_to_prune_writes_the_workload_unchanged_and_says_so(tmp_path, capsys):
    out = tmp_path / "block.yaml"
    assert main(["prune", str(BLOCK), "--ratio", "0.3", "-o", str(out)]) == 0
    assert "nothing to prune" in capsys.readouterr().err
    assert load_workload(out).ops == load_workload(BLOCK).ops


def test_the_command_runs_as_a_subprocess(tmp_path):
    out = tmp_path / "r18.yaml"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "accelsim", "prune", "resnet18", "--ratio", "0.3", "-o",
                           str(out)], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "pruned 8 of 20 convs" in done.stdout
    assert load_workload(out).name == "resnet18_pruned"


def test_every_reader_that_pins_the_channels_keeps_the_conv_whole():
    def conv(name, x, cin, cout, groups=1):
        return {"name": name, "kind": "conv", "input": x, "output": name, "kh": 1, "kw": 1, "cin": cin,
                "cout": cout, "groups": groups}
    wl = workload_from_dict({"name": "pins", "tensors": {"x": [1, 4, 4, 8]}, "ops": [
        conv("a", "x", 8, 8), conv("b", "x", 8, 8), conv("c", "x", 8, 8), conv("d", "x", 8, 8),
        conv("e", "x", 8, 8), conv("f", "x", 8, 8),
        {"name": "cat", "kind": "concat", "inputs": ["a", "b"], "output": "cat"},
        {"name": "n", "kind": "lrn", "input": "c", "output": "n", "size": 3},
        conv("g", "d", 8, 8, groups=2),
        {"name": "s", "kind": "shuffle", "input": "e", "output": "s", "groups": 2},
        {"name": "sc", "kind": "scale", "input": "f", "output": "sc"},       # then a graph output
        conv("h", "cat", 16, 4), conv("i", "n", 8, 4), conv("j", "g", 8, 4), conv("k", "s", 8, 4)]})
    found, pinned = regions(wl)
    assert pinned == {"a": "concat cat reads its channels", "b": "concat cat reads its channels",
                      "c": "lrn n reads its channels", "d": "grouped conv g reads its channels",
                      "e": "shuffle s reads its channels", "f": "a graph output reads its channels (sc)",
                      **{t: f"a graph output reads its channels ({t})" for t in "hijk"}}
    assert found == {}
    lines = summary(prune(wl, "0.3", {}))
    assert lines[0] == "pins: pruned 0 of 11 convs at ratio 0.3: no conv can lose filters"
    assert lines[-1] == ("kept whole: 10 convs (read by: concat 2, lrn 1, grouped conv 1, shuffle 1, "
                         "a graph output 5)")


def test_the_seed_changes_which_filters_go_never_how_many():
    wl = load_workload("resnet18")
    a, b = (prune(wl, "0.3", random_norms(wl, seed=s)) for s in (0, 1))
    assert a.pruned == b.pruned
    assert [p.removed for p in a.layers] != [p.removed for p in b.layers]


def test_a_pruned_tensor_with_its_own_dtype_keeps_it_at_its_new_shape():
    data = chain_data()
    data["tensors"]["c1"] = {"shape": [1, 8, 8, 10], "dtype": "int16"}
    wl = workload_from_dict(data)
    result = prune(wl, "0.3", {"c1": np.arange(10), "c3": np.arange(6)})
    assert result.pruned.tensors["c1"].shape == (1, 8, 8, 7)
    assert result.pruned.tensors["c1"].dtype == "int16"
    assert result.channels["c1"] == tuple(range(3, 10))
