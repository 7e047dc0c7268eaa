"""N:M weight sparsity and activation zero-skipping: resolved once for the machine, then cycles,
DRAM bytes and energy from closed forms by hand (docs/model.md, "Sparsity"), functional
execution bit-exact, and bad input refused with the key."""

import dataclasses
import json
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from accelsim import (
    ConfigError,
    hw_from_dict,
    load_workload,
    make_schedule,
    run_schedule,
    simulate,
    workload_from_dict,
)
from accelsim.cli import main
from accelsim.cost import Skip
from accelsim.functional import check, random_inputs, reference
from accelsim.options import RunOptions
from accelsim.schedule_file import dump_schedule, schedule_from_text
from accelsim.sparsity import measure_densities, sparse_workload
from tests.helpers import BLOCK, DEFAULT_HW, ROOT, hw, hw_data

MAC_PJ = Fraction("0.3")                   # default.yaml: pJ per int8 MAC
DENSE_MACS = 56 * 56 * 64 * 576            # the 3x3 conv 56x56x64 -> 64: M x K x N


def _run(workload, **options):
    return simulate(hw(), workload, options=RunOptions(schedule="pipelined", **options))


def _weight_load_bytes(result, prefix=""):
    return sum(r.bytes for r in result.ops if r.kind == "load" and r.id.startswith(prefix + "load_w"))


@pytest.mark.parametrize(("options", "t", "weight_bytes"), [
    ({}, 576, 64 * 576),
    ({"weight_sparsity": "2:4"}, 288, 64 * (288 + 72)),           # 288 values + 288 x 2 bits
    ({"weight_sparsity": "1:4"}, 144, 64 * (144 + 36)),
    ({"activation_density": "0.5"}, 288, 64 * 576),             # activations skipped, stored dense
    ({"weight_sparsity": "2:4", "activation_density": "0.5"}, 144, 64 * (288 + 72)),
])
def test_the_convadd_conv_by_hand(options, t, weight_bytes):
    """resnet50_convadd pipelined: 4 parts of 14 rows, M = 784, N = 64 on 32x32 OS: 25 x 2 = 50
    folds, 50 T + 62 cycles a part (T = K'); the MACs reported stay dense, energy's are M K' N."""
    result = _run(load_workload(BLOCK), **options)
    assert result.units["conv"].busy_cycles == 4 * (50 * t + 62)
    assert _weight_load_bytes(result) == weight_bytes
    assert result.macs == DENSE_MACS
    assert result.energy_breakdown_pj["mac"] == DENSE_MACS * t // 576 * MAC_PJ


def test_the_resnet50_layer_by_hand():
    """ResNet-50's layer1.0.conv2 in the whole network (docs/model.md's table): 7 parts of 8 rows,
    M = 448: 14 x 2 = 28 folds, 28 T + 62 cycles a part; weights 36,864 B dense, 23,040 B in 2:4;
    MAC energy 34.68 uJ dense, half for 2:4 and for density 0.5."""
    net = load_workload("resnet50")
    for options, t, weights in (({}, 576, 36_864), ({"weight_sparsity": "2:4"}, 288, 23_040),
                                ({"activation_density": "0.5"}, 288, 36_864)):
        result = _run(net, **options)
        layer = next(s for s in result.layers() if s.name == "layer1.0.conv2")
        assert layer.units["conv"].busy_cycles == 7 * (28 * t + 62)
        assert _weight_load_bytes(result, "layer1.0.conv2/") == weights
        assert layer.macs == DENSE_MACS
        assert layer.energy_breakdown_pj["mac"] == DENSE_MACS * t // 576 * MAC_PJ


def test_the_2_4_energy_falls_by_the_actions_it_saves():
    """170.85 -> 145.01 uJ: the MACs halved, 13,824 DRAM bytes fewer (x 162.5 pJ), those bytes once
    fewer written to and 4 times fewer read from the weight buffer (x 6.57 pJ), and static power
    over the cycles saved."""
    dense, sparse = _run(load_workload(BLOCK)), _run(load_workload(BLOCK), weight_sparsity="2:4")
    d, s = dense.energy_breakdown_pj, sparse.energy_breakdown_pj
    assert d["mac"] - s["mac"] == DENSE_MACS // 2 * MAC_PJ
    assert d["dram"] - s["dram"] == 13_824 * Fraction("162.5")
    assert d["sram"] - s["sram"] == 5 * 13_824 * Fraction("6.57")
    saved_us = Fraction(dense.total_cycles - sparse.total_cycles, 1000)
    assert d["static"] - s["static"] == saved_us * Fraction("99.16") * 1000
    uj = [round(float(r.energy_pj) / 1e6, 2) for r in (dense, sparse)]
    assert uj == [170.85, 145.01]


def test_a_trace_declares_what_the_flags_set():
    data = {"name": "decl",
            "tensors": {"x": {"shape": [1, 56, 56, 64], "density": 0.5}, "identity": [1, 56, 56, 64]},
            "ops": [{"name": "conv", "kind": "conv", "input": "x", "output": "conv_out", "kh": 3, "kw": 3,
                     "cin": 64, "cout": 64, "pad": 1, "weight_sparsity": "2:4"},
                    {"name": "add", "kind": "add", "inputs": ["conv_out", "identity"], "output": "y"}]}
    declared = _run(workload_from_dict(data))
    flagged = _run(load_workload(BLOCK), weight_sparsity="2:4", activation_density="0.5")
    assert declared.total_cycles == flagged.total_cycles
    assert declared.units["conv"].busy_cycles == 4 * (50 * 144 + 62)
    assert declared.dram_read_bytes == flagged.dram_read_bytes


def test_a_machine_without_the_pattern_runs_dense_and_says_so():
    plain = hw_data()
    del plain["sparsity"]
    machine = hw_from_dict(plain)
    block = load_workload(BLOCK)
    dense = simulate(machine, block, options=RunOptions())
    sparse = simulate(machine, block, options=RunOptions(weight_sparsity="2:4", activation_density="0.5"))
    assert (sparse.total_cycles, sparse.dram_read_bytes) == (dense.total_cycles, dense.dram_read_bytes)
    assert ("conv: weights 2:4 sparse, run dense: the array skips no N:M pattern (sparsity.weights)"
            in sparse.notes)
    assert any("not skipped: the array does not skip zero activations" in n for n in sparse.notes)
    only_1_4 = hw(sparsity__weights=["1:4"])
    assert "conv: weights 2:4 sparse, run dense: the array skips 1:4 (sparsity.weights)" in simulate(
        only_1_4, block, options=RunOptions(weight_sparsity="2:4")).notes


def test_a_filter_shorter_than_a_group_runs_dense():
    dw = workload_from_dict({"name": "dw", "tensors": {"x": [1, 8, 8, 16]}, "ops": [
        {"name": "dw", "kind": "conv", "input": "x", "output": "y", "kh": 3, "kw": 3, "cin": 16, "cout": 16,
         "groups": 16, "pad": 1, "weight_sparsity": "1:16"}]})
    resolved, notes = sparse_workload(dw, hw(sparsity__weights=["1:16"]))
    assert resolved.ops[0].skip is None
    assert notes == ("dw: weights 1:16 sparse, run dense: a filter of K = 9 elements is shorter than a group "
                     "of M = 16",)
    # K = 9 >= 4: 2:4 keeps ceil(9/4) x 2 = 6 of 9
    assert sparse_workload(dw, hw(), "2:4")[0].ops[0].skip == Skip(2, 4)


def test_measured_density_is_the_fraction_of_nonzeros_of_the_reference():
    net = load_workload("resnet18")
    densities = measure_densities(net, "int8", seed=3)
    values = reference(net, random_inputs(net, "int8", 3))
    for tensor in ("image", "layer1.0.conv1", "layer4.1.add"):
        assert densities[tensor] == np.count_nonzero(values[tensor]) / values[tensor].size
    resolved, notes = sparse_workload(net, hw(), activation_density="measured", seed=3)
    conv = next(op for op in resolved.ops if op.name == "layer1.0.conv2")
    assert conv.skip == Skip(density=densities["layer1.0.conv1"])
    read = {op.input: densities[op.input] for op in net.ops if op.kind in ("conv", "gemm")}
    assert notes[0].startswith("activation densities measured on seeded random data, seed 3 (int8 reference "
                               f"run), {len(read)} tensors convs and gemms read, "
                               f"{min(read.values()):.3f} to {max(read.values()):.3f}")
    assert f"layer1.0.conv1 {densities['layer1.0.conv1']:.3f}" in notes[0]
    assert 0.3 < densities["layer1.0.conv1"] < 0.7                     # after a ReLU


def test_measured_density_reads_the_given_inputs(tmp_path):
    block = load_workload(BLOCK)
    x = np.zeros((1, 56, 56, 64), dtype=np.int8)
    x[:, :, :, :16] = 7                                                 # a quarter nonzero
    identity = np.ones((1, 56, 56, 64), dtype=np.int8)
    path = tmp_path / "in.npz"
    np.savez(path, x=x, identity=identity)
    resolved, _ = sparse_workload(block, hw(), activation_density="measured", input_data=str(path))
    assert resolved.ops[0].skip == Skip(density=0.25)
    # K' = ceil(576 x 0.25) = 144
    assert simulate(hw(), block, options=RunOptions(activation_density="measured", input_data=str(path))
                    ).units["conv"].busy_cycles == 4 * (50 * 144 + 62)


@pytest.mark.parametrize(("arrays", "message"), [
    ({"x": np.zeros((1, 56, 56, 64), np.int8)},
     "expected one array per graph input (identity, x); missing identity"),
    ({"x": np.zeros((1, 56, 56, 64), np.int8), "identity": np.zeros((1, 56, 56, 64), np.int8),
      "z": np.zeros(1)}, "not a graph input: z"),
    ({"x": np.zeros((1, 5, 56, 64), np.int8), "identity": np.zeros((1, 56, 56, 64), np.int8)},
     "array x is [1, 5, 56, 64], the graph input is [1, 56, 56, 64]"),
    ({"x": np.full((1, 56, 56, 64), 300, np.int32), "identity": np.zeros((1, 56, 56, 64), np.int8)},
     "array x has values int8 cannot hold exactly"),
])
def test_bad_input_data_names_the_array(tmp_path, arrays, message):
    path = tmp_path / "in.npz"
    np.savez(path, **arrays)
    with pytest.raises(ConfigError, match="--input-data") as found:
        sparse_workload(load_workload(BLOCK), hw(), activation_density="measured", input_data=str(path))
    assert message in str(found.value)


def _npy(shape: tuple[int, ...], data: bytes) -> bytes:
    """A .npy member: an int8 header declaring `shape`, then `data` (however short)."""
    import io

    from numpy.lib import format as npy

    out = io.BytesIO()
    npy.write_array_header_1_0(out, {"descr": "|i1", "fortran_order": False, "shape": shape})
    return out.getvalue() + data


@pytest.mark.parametrize(("members", "message"), [
    # 600 bytes declaring 10**15 int8 elements: refused by its header, nothing allocated (numpy
    # allocates the declared shape before reading: a MemoryError traceback)
    ({"x.npy": _npy((10**15,), b"\0" * 16)},
     "array x is [1000000000000000], the graph input is [1, 56, 56, 64]"),
    ({"x": b"abc"}, "x is not a .npy array in the archive"),   # np.load hands back bytes, not an array
])
def test_input_data_is_checked_by_its_headers_before_its_data(tmp_path, members, message):
    import zipfile

    path = tmp_path / "in.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("identity.npy", _npy((1, 56, 56, 64), bytes(200_704)))
        for member, data in members.items():
            z.writestr(member, data)
    with pytest.raises(ConfigError, match="--input-data") as found:
        sparse_workload(load_workload(BLOCK), hw(), activation_density="measured", input_data=str(path))
    assert message in str(found.value)


@pytest.mark.parametrize(("options", "message"), [
    ({"weight_sparsity": "3:2"}, "--weight-sparsity: pattern '3:2': N must be at least 1 and less than M"),
    ({"weight_sparsity": "2:3"}, "--weight-sparsity: pattern '2:3': M must be a power of two, at most 16"),
    ({"activation_density": "0"}, "--activation-density: expected a density 0 < D <= 1"),
    ({"activation_density": "1.5"}, "--activation-density: expected a density 0 < D <= 1"),
    ({"activation_density": "dense"}, "or 'measured', got 'dense'"),
    ({"input_data": "x.npz"}, "--input-data: only --activation-density measured reads input data"),
])
def test_bad_options_name_the_flag(options, message):
    with pytest.raises(ConfigError) as found:
        make_schedule(hw(), load_workload(BLOCK), options=RunOptions(**options))
    assert message in str(found.value)


def _trace(conv_extra: dict, x=None) -> str:
    x = x or "[1, 8, 8, 16]"
    fields = ", ".join(f"{k}: {v}" for k, v in conv_extra.items())
    return (f"name: t\ntensors:\n  x: {x}\nops:\n"
            f"  - {{name: c, kind: conv, input: x, output: y, kh: 3, kw: 3, "
            f"cin: 16, cout: 16, {fields}}}\n")


@pytest.mark.parametrize(("text", "message"), [
    (_trace({"weight_sparsity": '"3:2"'}),
     "t.yaml:5: ops[0].weight_sparsity: pattern '3:2': N must be at least 1"),
    (_trace({"weight_sparsity": '"2:3"'}),
     "t.yaml:5: ops[0].weight_sparsity: pattern '2:3': M must be a power"),
    (_trace({"weight_sparsity": "24"}), "ops[0].weight_sparsity: must be a string"),
    (_trace({"weight_sparsity": "2:4"}),                  # YAML 1.1 reads it as 2 x 60 + 4
     "t.yaml:5: ops[0].weight_sparsity: expected a pattern N:M such as \"2:4\", quoted: YAML reads an "
     "unquoted 2:4 as the base-60 number 124"),
    (_trace({"pad": 1}, "{shape: [1, 8, 8, 16], density: true}"),
     "t.yaml:3: tensors.x.density: must be a number 0 < density <= 1, got True"),
    (_trace({"pad": 1}, "{shape: [1, 8, 8, 16], density: 0}"), "t.yaml:3: tensors.x.density: must be > 0"),
    (_trace({"pad": 1}, "{shape: [1, 8, 8, 16], density: 1.5}"), "t.yaml:3: tensors.x.density: must be <= 1"),
    (_trace({"skip": "{n: 1}"}), "t.yaml:5: ops[0].skip: set by a run"),
])
def test_bad_traces_name_the_key_and_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    assert main(["run", str(DEFAULT_HW), str(path)]) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_pattern_in_the_hardware_names_the_key(tmp_path, capsys):
    text = (DEFAULT_HW.read_text()).replace('weights: ["2:4", "1:4"]', 'weights: ["2:4", "5:4"]')
    path = tmp_path / "hw.yaml"
    path.write_text(text)
    assert main(["run", str(path), str(BLOCK)]) == 2
    err = capsys.readouterr().err
    assert "hw.yaml:" in err
    assert "sparsity.weights[1]: pattern '5:4': N must be at least 1 and less than M" in err


def test_a_measured_density_too_big_to_run_points_at_what_helps(monkeypatch):
    """The reference run is bounded by limits.MAX_FUNCTIONAL_BYTES, which --max-functional-bytes
    (the --functional check's) does not raise: the message offers declared densities instead."""
    from accelsim.errors import LimitError

    monkeypatch.setattr("accelsim.limits.MAX_FUNCTIONAL_BYTES", 100_000)
    with pytest.raises(LimitError) as found:
        sparse_workload(load_workload(BLOCK), hw(), activation_density="measured")
    message = str(found.value)
    assert "--activation-density measured: the int8 reference run would need about" in message
    assert "the limit of 100,000" in message and "--max-functional-bytes" not in message
    assert "declare the densities instead (--activation-density D" in message


@pytest.mark.parametrize(("weights", "message"), [
    ('["2:4", "2:4"]', "sparsity.weights: each pattern once: 2:4 listed more than once"),
    ('[2:4, "1:4"]', "sparsity.weights[0]: expected a pattern N:M such as \"2:4\", quoted"),
])
def test_a_repeated_or_unquoted_pattern_in_the_hardware_names_the_key(tmp_path, capsys, weights, message):
    path = tmp_path / "hw.yaml"
    path.write_text(DEFAULT_HW.read_text().replace('weights: ["2:4", "1:4"]', f"weights: {weights}"))
    assert main(["run", str(path), str(BLOCK)]) == 2
    err = capsys.readouterr().err
    line = DEFAULT_HW.read_text().splitlines().index('  weights: ["2:4", "1:4"]') + 1
    assert f"hw.yaml:{line}: {message}" in err


def test_a_trace_density_in_yaml_exponent_form_is_read():
    """YAML 1.1 reads 1e-3 (no point) as a string; the density is still the number."""
    from accelsim.workload import workload_from_document
    from accelsim.yamlio import read_yaml_text

    text = _trace({"pad": 1}, "{shape: [1, 8, 8, 16], density: 1e-3}")
    assert workload_from_document(read_yaml_text(text, "t.yaml")).tensors["x"].density == 0.001


def test_the_cli_exits_2_on_a_bad_flag(capsys):
    assert main(["run", str(DEFAULT_HW), str(BLOCK), "--weight-sparsity", "3:2"]) == 2
    assert "accelsim: error: --weight-sparsity: pattern '3:2'" in capsys.readouterr().err
    assert main(["run", str(DEFAULT_HW), str(BLOCK), "--activation-density", "1.5"]) == 2
    assert "accelsim: error: --activation-density" in capsys.readouterr().err


@pytest.mark.parametrize("options", [{"weight_sparsity": "2:4"},
                                     {"weight_sparsity": "1:4", "activation_density": "0.5"}])
def test_functional_is_bit_exact_on_the_convadd_block(options):
    block = load_workload(BLOCK)
    o = RunOptions(**options)
    sparse, _ = sparse_workload(block, hw(), o.weight_sparsity, o.activation_density)
    weights = random_inputs(sparse, "int8", 0)["conv.weight"].reshape(64, -1, 4)
    n = int(o.weight_sparsity[0])
    assert (np.count_nonzero(weights, axis=-1) <= n).all()
    assert np.count_nonzero(weights) > 64 * 144 * (n - 0.1)             # few kept values drawn 0
    report = check(make_schedule(hw(), block, options=o), sparse, "int8", 0, hw().sram_capacity())
    assert report.ok, report.mismatches


@pytest.mark.parametrize("flags", [["--weight-sparsity", "2:4"], ["--activation-density", "0.5"]])
def test_functional_is_bit_exact_on_resnet18(flags, capsys):
    """The CLI resolves the run's sparsity for the functional check too (a density changes the
    tiling, not the values); 4 s each."""
    code = main(["run", str(DEFAULT_HW), "resnet18", "--schedule", "pipelined", *flags, "--functional"])
    assert code == 0
    assert "functional (int8, seed 0): matches the reference" in capsys.readouterr().out


def test_resnet18_weights_keep_the_largest_of_each_group():
    net = load_workload("resnet18")
    sparse, _ = sparse_workload(net, hw(), "2:4")
    dense_w, sparse_w = random_inputs(net, "int8", 0), random_inputs(sparse, "int8", 0)
    w = "layer1.0.conv1.weight"
    kept = np.abs(dense_w[w].astype(np.int32)).reshape(64, -1, 4)
    # each group keeps its two largest magnitudes: what is kept is never smaller than what is dropped
    got = sparse_w[w].reshape(64, -1, 4)
    dropped = np.where(got == 0, kept, 0).max(axis=-1)
    smallest_kept = np.where(got != 0, kept, 1 << 20).min(axis=-1)
    assert (dropped <= smallest_kept).all()


def test_a_sparse_schedule_file_round_trips(tmp_path):
    block = load_workload(BLOCK)
    o = RunOptions(weight_sparsity="2:4", activation_density="0.5")
    schedule = make_schedule(hw(), block, options=o)
    text = dump_schedule(schedule, hw())
    assert 'sparsity: {"conv": {weights: "2:4", density: 0.5}}' in text
    read = schedule_from_text(text, hw(), block)
    assert not read.problems
    again, first = run_schedule(hw(), read.schedule), run_schedule(hw(), schedule)
    assert (again.total_cycles, again.dram_read_bytes, again.energy_pj) == (
        first.total_cycles, first.dram_read_bytes, first.energy_pj)


@pytest.mark.parametrize(("density", "zeros"), [(1e-05, False), (0.0, True)])
def test_a_schedule_file_round_trips_any_density_a_run_skips(tmp_path, density, zeros):
    """1e-05 (Python writes it without a point, which YAML 1.1 reads as a string) and 0.0 (the
    density measured on inputs of zeros) read back as the skip written."""
    block = load_workload(BLOCK)
    if zeros:
        path = tmp_path / "zeros.npz"
        np.savez(path, x=np.zeros((1, 56, 56, 64), np.int8), identity=np.zeros((1, 56, 56, 64), np.int8))
        o = RunOptions(activation_density="measured", input_data=str(path))
    else:
        o = RunOptions(activation_density="0.00001")
    schedule = make_schedule(hw(), block, options=o)
    read = schedule_from_text(dump_schedule(schedule, hw()), hw(), block)
    assert not read.problems, read.problems
    assert [op.gemm.skip for op in read.schedule.ops if op.gemm is not None] == [
        op.gemm.skip for op in schedule.ops if op.gemm is not None] != []
    assert next(op.gemm.skip for op in read.schedule.ops if op.gemm is not None) == Skip(density=density)
    assert run_schedule(hw(), read.schedule).total_cycles == run_schedule(hw(), schedule).total_cycles


@pytest.mark.parametrize(("entry", "message"), [
    ('{"nosuch": {weights: "2:4"}}', "sparsity names 'nosuch', no conv or gemm"),
    ('{"conv": {weights: "2:3"}}', "sparsity.conv.weights: pattern '2:3': M must be a power of two"),
    ('{"conv": {density: -0.5}}', "sparsity.conv.density must be a number 0 <= D <= 1"),
    ('{"conv": {density: true}}', "sparsity.conv.density must be a number 0 <= D <= 1"),
    ('{"conv": {n: 2}}', "sparsity.conv must be a mapping with keys weights, density"),
])
def test_a_bad_sparsity_entry_in_a_schedule_file_is_a_problem(entry, message):
    block = load_workload(BLOCK)
    text = dump_schedule(make_schedule(hw(), block, options=RunOptions(weight_sparsity="2:4")), hw())
    bad = text.replace('sparsity: {"conv": {weights: "2:4"}}', f"sparsity: {entry}")
    found = schedule_from_text(bad, hw(), block)
    assert any(message in p.message for p in found.problems), found.problems


def test_the_figure_command_runs_from_the_shell():
    """The README figures come from one command each."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = ["run", "default", "resnet50_convadd", "--schedule", "pipelined", "--json",
               "--weight-sparsity", "2:4"]
    out = subprocess.run([sys.executable, "-m", "accelsim", *command], capture_output=True, text=True,
                         env=env, check=True).stdout
    data = json.loads(out)
    assert data["units"]["conv"]["busy_cycles"] == 4 * (50 * 288 + 62) and data["macs"] == DENSE_MACS


def test_defaults_change_nothing():
    block = load_workload(BLOCK)
    assert sparse_workload(block, hw())[0] is block
    assert dataclasses.replace(RunOptions(), seed=0) == RunOptions()
