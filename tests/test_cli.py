"""Every subcommand through the CLI: output, JSON keys, exit codes, error text."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from matplotlib.figure import Figure

from accelsim.cli import main
from tests.helpers import BLOCK, DEFAULT_HW, IDEAL_HW, ROOT, concat_net_data, hw_data, shuffle_net_data


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_without_schedule_prints_the_three_schedule_table(capsys):
    code, out, err = run(capsys, "run", DEFAULT_HW, BLOCK)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("resnet50_convadd on default: 32x32 OS array")
    assert lines[1].split()[:5] == ["schedule", "splits", "tiles", "total", "cycles"]
    assert "speedup" in lines[1] and "dma util" in lines[1]
    assert [line.split()[0] for line in lines[3:]] == ["serial", "fused", "pipelined", "pipelined:"]
    assert lines[3].split()[-1] == "1.00x"
    assert lines[6] == "pipelined: 1 of 1 adds fused with the conv before them"


def test_run_json_has_the_documented_keys(capsys):
    code, out, _ = run(capsys, "run", DEFAULT_HW, BLOCK, "--schedule", "pipelined", "--splits", "4", "--json")
    data = json.loads(out)
    assert code == 0
    for key in ("total_cycles", "units", "ops", "dram", "sram_peak_bytes", "hw"):
        assert key in data
    assert set(data["units"]) == {"conv", "add", "dma"}
    assert set(data["units"]["conv"]) == {"busy_cycles", "utilization"}
    assert set(data["dram"]) == {"read_bytes", "write_bytes"}
    assert {op["kind"] for op in data["ops"]} == {"conv", "add", "load", "store"}
    assert set(data["ops"][0]) == {"id", "kind", "unit", "stage", "start", "end"}
    assert data["hw"]["systolic_array"] == {"rows": 32, "cols": 32, "dataflow": "os", "folds": "overlapped"}
    assert data["total_cycles"] == max(op["end"] for op in data["ops"]) + data["hw"]["barrier_cycles"]


def test_run_json_without_schedule_adds_the_comparison(capsys):
    _, out, _ = run(capsys, "run", IDEAL_HW, BLOCK, "--json")
    data = json.loads(out)
    assert data["schedule"] == "pipelined"
    assert [c["schedule"] for c in data["comparison"]] == ["serial", "fused", "pipelined"]
    assert data["comparison"][0]["speedup_vs_serial"] == 1.0


def test_json_output_is_byte_identical_run_after_run():
    outs = set()
    for seed in ("0", "1", "2"):
        cmd = [sys.executable, "-m", "accelsim", "run", str(DEFAULT_HW), str(BLOCK), "--json"]
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(cmd, capture_output=True, env=env, check=True)
        outs.add(proc.stdout)
    assert len(outs) == 1


def test_schedules_that_do_not_fit_are_listed_under_the_table(capsys, tmp_path):
    path = tmp_path / "tall.yaml"
    path.write_text(BLOCK.read_text().replace("56, 56, 64", "560, 56, 64"))
    code, out, _ = run(capsys, "run", DEFAULT_HW, path, "--splits", "8")
    lines = out.splitlines()
    assert code == 0
    assert [line.split()[0] for line in lines[3:]] == ["serial", "fused", "pipelined:", "fused:"]
    # parts of 70 output rows read 72 input rows: 72 x 56 x 64 = 258,048 B; pipelined stage 2 holds
    # the inputs of parts 2 and 3 and the residuals (70 x 56 x 64 = 250,880 B) of parts 1 and 2
    assert "pipelined: not run: layer 'conv+add' in 8 row parts needs 1,017,856 bytes in SRAM buffer " \
           "'ifmap' in stage 2, but it holds 524,288; use more splits" in out


def test_single_schedule_table(capsys):
    code, out, _ = run(capsys, "run", DEFAULT_HW, BLOCK, "--schedule", "fused")
    assert code == 0
    assert out.splitlines()[3].split()[0] == "fused" and "speedup" not in out


def bad_hw(tmp_path, old, new):
    text = DEFAULT_HW.read_text()
    assert old in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  engines: 2", "  engines: 2\n  speed: 9", "dma.speed: unknown key (expected one of: engines)"),
    ("  rows: 32", "  rows: -4", "systolic_array.rows: must be > 0, got -4"),
    ("  lanes: 32", "  lanes: many", "add_unit.lanes: must be an integer, got 'many'"),
    ("dataflow: os", "dataflow: rs", "systolic_array.dataflow: must be one of 'os', 'ws' or 'is', got 'rs'"),
])
def test_bad_hw_config_exits_2_with_the_key(capsys, tmp_path, old, new, message):
    path = bad_hw(tmp_path, old, new)
    code, out, err = run(capsys, "run", path, BLOCK)
    assert code == 2 and out == ""
    assert err.startswith(f"accelsim: error: {path}:")
    assert message in err


def test_mismatched_add_shapes_exit_2(capsys, tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(BLOCK.read_text().replace("identity: [1, 56, 56, 64]", "identity: [1, 56, 56, 32]"))
    code, _, err = run(capsys, "run", DEFAULT_HW, path)
    assert code == 2
    assert "ops[1] (add): inputs conv_out [1, 56, 56, 64] and identity [1, 56, 56, 32] must have equal " \
           "shapes" in err


def test_splits_beyond_output_rows_exit_2(capsys):
    code, _, err = run(capsys, "run", DEFAULT_HW, BLOCK, "--schedule", "pipelined", "--splits", "57")
    assert code == 2
    assert err == "accelsim: error: splits=57 is more than the 56 output rows to split\n"


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(DEFAULT_HW), str(BLOCK), "--schedule", "overlapped"])
    assert exit_.value.code == 2


LAZY = ("matplotlib", "vcd", "onnx", "accelsim.functional", "accelsim.plots", "accelsim.export",
        "accelsim.outputs", "accelsim.importers")


def test_run_imports_no_plotting_tracing_or_functional_modules():
    code = ("import json, sys\nfrom accelsim import cli\n"
            f"assert cli.main(['run', {str(DEFAULT_HW)!r}, {str(BLOCK)!r}]) == 0\n"
            "print(json.dumps(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert proc.stdout.splitlines()[-5].startswith("serial ")            # the table was printed
    loaded = json.loads(proc.stdout.splitlines()[-1])
    assert [m for m in loaded if m.startswith(LAZY)] == []


def test_the_module_runs_as_a_program_without_traceback(tmp_path):
    path = bad_hw(tmp_path, "  rows: 32", "  rows: 0")
    proc = subprocess.run([sys.executable, "-m", "accelsim", "run", str(path), str(BLOCK)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "systolic_array.rows: must be > 0, got 0" in proc.stderr


SCALESIM = BLOCK.parent / "scalesim"


def test_scalesim_table_for_resnet50(capsys):
    code, out, err = run(capsys, "scalesim", SCALESIM / "resnet50.csv")
    lines = out.splitlines()
    assert code == 0 and err == ""
    assert lines[1].split()[:3] == ["layer", "SCALE-Sim", "compute"]
    assert [line.split()[0] for line in lines[3:5]] == ["conv1", "layer1.0.conv1"]
    assert lines[-1].split()[0] == "total" and len(lines) == 3 + 53 + 2


def test_scalesim_json_keys_and_totals(capsys):
    code, out, _ = run(capsys, "scalesim", SCALESIM / "shapes.csv", "--rows", "8", "--cols", "8",
                       "--dataflow", "os", "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) >= {"layers", "total_compute_cycles", "total_cycles"}
    assert set(data["layers"][0]) >= {"name", "compute_cycles", "cycles", "utilization"}
    assert data["total_compute_cycles"] == sum(layer["compute_cycles"] for layer in data["layers"])
    assert data["total_cycles"] == sum(layer["cycles"] for layer in data["layers"])
    # k3_s2_ceil: 10x10x5 input, 3x3 stride 2, 7 filters: SCALE-Sim's Ho = ceil(9/2) = 5,
    # M=25, K=45, N=7 on 8x8 OS: 4 x 1 folds x (45 + 14) - 1 = 235 (SCALE-Sim 3.0.0 printed 235)
    assert next(layer for layer in data["layers"] if layer["name"] == "k3_s2_ceil")["compute_cycles"] == 235


def test_scalesim_flags_override_the_config(capsys, tmp_path):
    cfg = tmp_path / "a.cfg"
    cfg.write_text("[architecture_presets]\nArrayHeight: 16\nArrayWidth: 16\nIfmapSramSzkB: 64\n"
                   "FilterSramSzkB: 64\nOfmapSramSzkB: 64\nDataflow: ws\n[run_presets]\n"
                   "InterfaceBandwidth: CALC\n")
    code, out, _ = run(capsys, "scalesim", SCALESIM / "shapes.csv", "--config", cfg, "--cols", "4")
    assert code == 0
    assert ": 16x4 WS array" in out.splitlines()[0]


def test_scalesim_broken_row_exits_2(capsys, tmp_path):
    path = tmp_path / "t.csv"
    text = (SCALESIM / "shapes.csv").read_text()
    path.write_text(text.replace("k5, 20, 20, 5, 5,", "k5, 20, 20, 5, five,"))
    code, out, err = run(capsys, "scalesim", path)
    assert code == 2 and out == ""
    assert err == (f"accelsim: error: {path}:7: column 5 (Filter Width): expected a positive integer, "
                   "got 'five'\n")


@pytest.mark.parametrize("args", [["scalesim", SCALESIM / "shapes.csv", "--rows", "0"],
                                  ["run", DEFAULT_HW, BLOCK, "--splits", "-1"],
                                  ["run", DEFAULT_HW, BLOCK, "--schedule", "depthfirst",
                                   "--fuse-depth", "0"]])
def test_non_positive_counts_are_usage_errors(capsys, args):
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in args])
    assert exit_.value.code == 2
    assert "must be a whole number > 0" in capsys.readouterr().err


def test_run_sync_deps(capsys):
    _, barrier, _ = run(capsys, "run", DEFAULT_HW, BLOCK, "--schedule", "pipelined", "--json")
    code, deps, _ = run(capsys, "run", DEFAULT_HW, BLOCK, "--schedule", "pipelined", "--sync", "deps",
                        "--json")
    assert code == 0
    assert json.loads(deps)["total_cycles"] < json.loads(barrier)["total_cycles"]


def test_run_network_with_layers_table(capsys):
    code, out, _ = run(capsys, "run", DEFAULT_HW, BLOCK.parent / "resnet18.yaml", "--schedule", "pipelined",
                       "--layers")
    lines = out.splitlines()
    assert code == 0
    assert lines[4] == "pipelined: 8 of 8 adds fused with the conv before them"
    head = next(i for i, line in enumerate(lines) if line.startswith("layer "))
    assert lines[head].split()[:3] == ["layer", "kinds", "cycles"]
    assert [line.split()[0] for line in lines[head + 2:head + 4]] == ["conv1", "maxpool"]
    assert lines[-1].split()[0] == "fc"


SCHEDULES = BLOCK.parent.parent / "tests" / "data" / "schedules"


def test_schedule_written_then_run_gives_the_schedulers_cycles(capsys, tmp_path):
    sched = tmp_path / "sched.yaml"
    code, out, err = run(capsys, "schedule", DEFAULT_HW, BLOCK, "--splits", "4", "-o", sched)
    assert (code, out, err) == (0, "", "")
    assert sched.read_text().splitlines()[1] == "format: 1"
    code, out, _ = run(capsys, "run", DEFAULT_HW, BLOCK, "--schedule-file", sched, "--json")
    from_file = json.loads(out)
    code2, out, _ = run(capsys, "run", DEFAULT_HW, BLOCK, "--schedule", "pipelined", "--splits", "4",
                        "--json")
    assert code == code2 == 0
    assert from_file["total_cycles"] == json.loads(out)["total_cycles"] == 127_754
    code, out, _ = run(capsys, "schedule", DEFAULT_HW, BLOCK, "--splits", "4")
    assert out == sched.read_text()                     # stdout without -o, byte-identical


def test_validate_a_valid_schedule_exits_0_and_says_valid(capsys):
    code, out, err = run(capsys, "validate", DEFAULT_HW, SCHEDULES / "block.yaml",
                         SCHEDULES / "valid_pipelined.yaml", "--functional")
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "functional (int8, seed 0): matches the reference in 1 stored tensor (y), bit-exact (int8, "
        "int32 accumulation, per-channel requantization rounded half to even, saturating)",
        f"{SCHEDULES / 'valid_pipelined.yaml'}: valid (11 ops in 5 stages)"]


TOLERANCES = {
    "int8": "bit-exact (int8, int32 accumulation, per-channel requantization rounded half to even, "
            "saturating)",
    "int16": "bit-exact (int16, int64 accumulation, per-channel requantization rounded half to even, "
             "saturating)",
    "fp16": "|got - expected| <= 2^-10 * |expected| + r * 2^-10 * max |reference| (fp16: eps 2^-10, one unit "
            "in the last place per rounding; r the tensor's roundings, at most 2)",
    "bf16": "|got - expected| <= 2^-7 * |expected| + r * 2^-7 * max |reference| (bf16: eps 2^-7, one unit "
            "in the last place per rounding; r the tensor's roundings, at most 2)",
    "fp32": "|got - expected| <= 0.0001 * |expected| + 1e-05 * max(1, max |reference|)",
}


@pytest.mark.parametrize("dtype", list(TOLERANCES))
def test_validate_and_run_functional_in_every_datatype_print_its_tolerance(capsys, dtype):
    # the block: a conv then an add, two roundings deep
    code, out, err = run(capsys, "validate", DEFAULT_HW, SCHEDULES / "block.yaml",
                         SCHEDULES / "valid_pipelined.yaml", "--functional", "--dtype", dtype)
    assert code == 0 and err == ""
    assert out.splitlines()[0] == (f"functional ({dtype}, seed 0): matches the reference in 1 stored tensor "
                                   f"(y), {TOLERANCES[dtype]}")
    code, out, err = run(capsys, "run", DEFAULT_HW, SCHEDULES / "block.yaml", "--schedule", "fused",
                         "--functional", "--dtype", dtype, "--seed", "3")
    assert code == 0 and err == ""
    line = f"functional ({dtype}, seed 3): matches the reference in 1 stored tensor (y), {TOLERANCES[dtype]}"
    assert line in out.splitlines()


def test_validate_lists_every_problem_with_file_and_line_and_exits_2(capsys):
    path = SCHEDULES / "war.yaml"
    code, out, err = run(capsys, "validate", DEFAULT_HW, SCHEDULES / "block.yaml", path)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"accelsim: error: {path}: not valid, 2 problems:"
    assert lines[1].startswith(f"  {path}:36: op load_x2: overwrites ifmap bytes 0:160")
    assert "Traceback" not in err


def test_halo_row_removed_is_caught_statically_and_functionally(capsys):
    args = ["validate", DEFAULT_HW, SCHEDULES / "block.yaml", SCHEDULES / "halo_missing.yaml"]
    code, _, err = run(capsys, *args)
    assert code == 2 and "input x row 3 missing (halo)" in err
    code, _, err = run(capsys, *args, "--skip-static", "--functional")
    assert code == 2
    assert "functional check (int8, seed 0) failed:" in err
    assert "y[0:1, 4:8, 0:8, 0:4] stored by op store2 (computed by op add2) differs" in err


def test_run_refuses_an_invalid_schedule_file(capsys):
    code, out, err = run(capsys, "run", DEFAULT_HW, SCHEDULES / "block.yaml", "--schedule-file",
                         SCHEDULES / "cycle.yaml")
    assert code == 2 and out == ""
    assert "dependency cycle" in err


def test_schedule_file_that_is_missing_or_not_yaml(capsys, tmp_path):
    code, _, err = run(capsys, "validate", DEFAULT_HW, BLOCK, tmp_path / "nope.yaml")
    assert code == 2 and "nope.yaml: cannot read" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("ops: [\n")
    code, _, err = run(capsys, "validate", DEFAULT_HW, BLOCK, bad)
    assert code == 2 and "not valid YAML" in err


@pytest.mark.parametrize("kind", ["pipeline", "utilization", "roofline", "layers", "energy"])
def test_plot_writes_each_kind(capsys, tmp_path, kind):
    out = tmp_path / f"{kind}.png"
    code, stdout, err = run(capsys, "plot", DEFAULT_HW, BLOCK, "--kind", kind, "-o", out)
    assert (code, stdout, err) == (0, "", "")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_svg_and_bad_arguments(capsys, tmp_path):
    code, _, _ = run(capsys, "plot", DEFAULT_HW, BLOCK, "--splits", "8", "-o", tmp_path / "p.svg")
    svg = (tmp_path / "p.svg").read_text()
    # the speedup is over the serial schedule as the scheduler builds it, not serial in 8 parts
    assert code == 0 and svg.startswith("<?xml") and "over serial (184,718)" in svg
    code, _, err = run(capsys, "plot", DEFAULT_HW, BLOCK, "-o", tmp_path / "p.gif")
    assert code == 2 and "p.gif: write a .png or .svg picture" in err
    code, _, err = run(capsys, "plot", DEFAULT_HW, BLOCK, "--layer", "conv9", "-o", tmp_path / "p.png")
    assert code == 2 and "no layer 'conv9' in this run" in err
    with pytest.raises(SystemExit) as stop:
        main(["plot", str(DEFAULT_HW), str(BLOCK), "--zoom", "9:3", "-o", str(tmp_path / "p.png")])
    assert stop.value.code == 2


@pytest.mark.parametrize("fmt,head", [("perfetto", b'{"traceEvents"'), ("vcd", b"$comment")])
def test_trace_writes_each_format(capsys, tmp_path, fmt, head):
    out = tmp_path / f"t.{fmt}"
    code, _, _ = run(capsys, "trace", DEFAULT_HW, BLOCK, "--format", fmt, "-o", out)
    assert code == 0 and out.read_bytes().startswith(head)


def test_run_out_writes_report_pictures_and_traces_together(capsys, tmp_path):
    code, out, err = run(capsys, "run", DEFAULT_HW, BLOCK, "--out", tmp_path / "run", "--pipeline")
    assert code == 0
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == ["energy.png", "layers.png", "pipeline.png", "pipeline.svg", "report.txt", "result.json",
                     "roofline.png", "trace.json", "trace.vcd", "utilization.png"]
    assert (tmp_path / "run" / "report.txt").read_text() == out
    assert json.loads((tmp_path / "run" / "result.json").read_text())["total_cycles"] == 127_754
    assert "stage 1 | conv1" in out and "barrier (10 cycles)" in out
    assert err.startswith(f"accelsim: wrote 10 files to {tmp_path / 'run'}")


def test_run_out_without_an_energy_table_writes_no_energy_picture(capsys, tmp_path):
    data = hw_data()
    del data["energy"]
    config = tmp_path / "hw.yaml"
    config.write_text(yaml.safe_dump(data))
    code, _, err = run(capsys, "run", config, BLOCK, "--schedule", "pipelined", "--out", tmp_path / "run")
    assert code == 0 and not (tmp_path / "run" / "energy.png").exists()
    assert err.startswith(f"accelsim: wrote 9 files to {tmp_path / 'run'}")


def test_ctrl_c_mid_run_prints_one_line_and_exits_130(capsys, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr("accelsim.cli.compare_schedules", interrupted)
    code, out, err = run(capsys, "run", DEFAULT_HW, BLOCK, "--out", tmp_path / "run")
    assert (code, out, err) == (130, "", "accelsim: interrupted\n")
    assert not (tmp_path / "run").exists()


def half_then_interrupt(self, path, *args, **kwargs):
    """Figure.savefig or Path.write_text interrupted half-way through its bytes."""
    if isinstance(self, Figure):
        Path(path).write_bytes(b"\x89PNG\r\n\x1a\n half a picture")
    else:
        with open(self, "w") as f:
            f.write(path[: len(path) // 2])
    raise KeyboardInterrupt


@pytest.mark.parametrize("args", [["plot", "-o", "p.png"], ["trace", "-o", "t.json"],
                                  ["schedule", "-o", "s.yaml"]])
def test_ctrl_c_mid_write_leaves_no_half_written_file(capsys, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    Path("old.png").write_bytes(b"an older picture")
    monkeypatch.setattr(Figure, "savefig", half_then_interrupt)
    monkeypatch.setattr(Path, "write_text", half_then_interrupt)
    code, out, err = run(capsys, args[0], DEFAULT_HW, BLOCK, *args[1:])
    assert (code, out, err) == (130, "", "accelsim: interrupted\n")
    assert [p.name for p in tmp_path.iterdir()] == ["old.png"]
    code, _, _ = run(capsys, "plot", DEFAULT_HW, BLOCK, "-o", "old.png")     # a file being replaced
    assert code == 130 and Path("old.png").read_bytes() == b"an older picture"


def test_ctrl_c_during_run_out_keeps_the_files_already_whole(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(Figure, "savefig", half_then_interrupt)
    code, out, err = run(capsys, "run", DEFAULT_HW, BLOCK, "--out", tmp_path / "run", "--json")
    assert code == 130 and err == "accelsim: interrupted\n" and json.loads(out)["total_cycles"] == 127_754
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["report.txt", "result.json"]
    assert json.loads((tmp_path / "run" / "result.json").read_text())["total_cycles"] == 127_754


def test_functional_seed_must_not_be_negative(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["validate", str(DEFAULT_HW), str(BLOCK), "x.yaml", "--seed", "-1"])
    assert stop.value.code == 2


@pytest.mark.parametrize("schedule", ["serial", "fused", "pipelined"])
def test_lrn_pool_and_softmax_run_schedule_and_validate_functionally(capsys, tmp_path, schedule):
    trace = ROOT / "tests" / "data" / "lrn_softmax.yaml"
    code, out, _ = run(capsys, "run", DEFAULT_HW, trace, "--schedule", schedule, "--json")
    result = json.loads(out)
    assert code == 0 and {"lrn", "pool", "softmax"} <= {op["kind"] for op in result["ops"]}
    # the LRN of 16 x 16 x 48 outputs in one tile: 12,288 x (5 + 5) / 32 lanes + 4 = 3,844 cycles
    (lrn,) = [op for op in result["ops"] if op["kind"] == "lrn"]
    assert lrn["unit"] == "add" and lrn["end"] - lrn["start"] == 3844
    path = tmp_path / "s.yaml"
    assert run(capsys, "schedule", DEFAULT_HW, trace, "--schedule", schedule, "-o", path)[0] == 0
    code, out, err = run(capsys, "validate", DEFAULT_HW, trace, path, "--functional")
    assert code == 0, err
    assert "functional (int8, seed 0): matches the reference in 5 stored tensors" in out and "valid" in out


@pytest.mark.parametrize("schedule", ["serial", "pipelined"])
def test_scales_run_schedule_and_validate_functionally(capsys, tmp_path, schedule):
    trace = ROOT / "tests" / "data" / "scale.yaml"
    code, out, _ = run(capsys, "run", DEFAULT_HW, trace, "--schedule", schedule, "--json")
    result = json.loads(out)
    # bn2 over 8 x 8 x 32 = 2,048 outputs in one tile: 2,048 x 1 / 32 lanes + 4 = 68 cycles
    (bn2,) = [op for op in result["ops"] if op["id"] == "bn2/scale1"]
    assert code == 0 and bn2["unit"] == "add" and bn2["end"] - bn2["start"] == 68
    path = tmp_path / "s.yaml"
    assert run(capsys, "schedule", DEFAULT_HW, trace, "--schedule", schedule, "-o", path)[0] == 0
    assert "bn2.weight[0:2, 0:32] @ weight" in path.read_text()
    for dtype in ("int8", "fp32"):
        code, out, err = run(capsys, "validate", DEFAULT_HW, trace, path, "--functional", "--dtype", dtype)
        assert code == 0 and "matches the reference in 5 stored tensors" in out and "valid" in out, err


def test_a_concat_schedule_file_validates_bit_exact_and_a_wrong_slice_is_refused(capsys, tmp_path):
    trace = tmp_path / "concat.yaml"
    trace.write_text(yaml.safe_dump(concat_net_data()))
    for kind in ("serial", "fused", "pipelined"):
        path = tmp_path / f"{kind}.yaml"
        assert run(capsys, "schedule", DEFAULT_HW, trace, "--schedule", kind, "-o", path)[0] == 0
        code, out, err = run(capsys, "validate", DEFAULT_HW, trace, path, "--functional")
        assert code == 0 and err == "" and "bit-exact" in out and f"{path}: valid" in out
    text = (tmp_path / "serial.yaml").read_text()
    # e3 stores b3 (24 channels) straight into y after b1's 8: the concat copies nothing
    assert '"y[0:1, 0:12, 0:10, 8:32]"' in text and "cat/" not in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace('"y[0:1, 0:12, 0:10, 8:32]"', '"y[0:1, 0:12, 0:10, 7:31]"'))
    code, out, err = run(capsys, "validate", DEFAULT_HW, trace, bad)
    assert code == 2 and "Traceback" not in err
    assert "op e3/store1: a store writes the region it reads; b3[0:1, 0:12, 0:10, 0:24]@ofmap and " \
           "y[0:1, 0:12, 0:10, 7:31]@dram differ (a concat's input part moves to or from its channel slice " \
           "of the concat's output)" in err
    code, out, err = run(capsys, "run", DEFAULT_HW, trace, "--schedule-file", tmp_path / "serial.yaml",
                         "--layers")
    assert code == 0 and "cat    concat, no copy  " in out


def test_a_shuffle_schedule_file_validates_bit_exact_and_a_part_of_the_channels_is_refused(capsys, tmp_path):
    trace = tmp_path / "shuffle.yaml"
    trace.write_text(yaml.safe_dump(shuffle_net_data()))
    for kind in ("serial", "fused", "pipelined"):
        path = tmp_path / f"{kind}.yaml"
        assert run(capsys, "schedule", DEFAULT_HW, trace, "--schedule", kind, "-o", path)[0] == 0
        code, out, err = run(capsys, "validate", DEFAULT_HW, trace, path, "--functional")
        assert code == 0 and err == "" and "bit-exact" in out and f"{path}: valid" in out
    text = (tmp_path / "serial.yaml").read_text()
    assert '"s[0:1, 0:6, 0:5, 0:12]"' in text            # one store of every channel of a
    bad = tmp_path / "bad.yaml"                          # all 12 channels stored into 6: no permutation
    bad.write_text(text.replace('"s[0:1, 0:6, 0:5, 0:12]"', '"s[0:1, 0:6, 0:5, 0:6]"'))
    code, out, err = run(capsys, "validate", DEFAULT_HW, trace, bad)
    assert code == 2 and "Traceback" not in err
    assert "a store writes the region it reads; a[0:1, 0:6, 0:5, 0:12]@ifmap and " \
           "s[0:1, 0:6, 0:5, 0:6]@dram differ (a store into a shuffle's output writes the same box of its " \
           "input, every channel)" in err


def test_plot_energy_and_json_energy_keys(capsys, tmp_path):
    png = tmp_path / "energy.png"
    code, _, _ = run(capsys, "plot", DEFAULT_HW, "resnet18", "--kind", "energy", "-o", png)
    assert code == 0 and png.read_bytes().startswith(b"\x89PNG")
    code, out, _ = run(capsys, "run", DEFAULT_HW, BLOCK, "--schedule", "pipelined", "--json")
    data = json.loads(out)
    assert code == 0 and set(data["energy_breakdown_pj"]) == {"mac", "sram", "dram", "add", "static"}
    assert data["energy_pj"] > 0 and data["area_mm2"] > 0


def test_run_depthfirst_reports_its_groups(capsys):
    """ResNet-18's layer1 and layer2.0 blocks run depth first (their 2 convs' weights fit);
    the JSON says which schedule ran and the per-layer table has one row per group."""
    code, out, _ = run(capsys, "run", DEFAULT_HW, ROOT / "traces" / "resnet18.yaml",
                       "--schedule", "depthfirst", "--fuse-depth", "2", "--halo", "recompute", "--json")
    data = json.loads(out)
    assert code == 0 and data["schedule"] == "depthfirst"
    groups = [layer["name"] for layer in data["layers"] if ">" in layer["name"]]
    assert groups == [f"layer{b}.conv1>layer{b}.conv2+layer{b}.add" for b in ("1.0", "1.1", "2.0")]
    assert any("shared rows recomputed" in note for note in data["notes"])


def test_winograd_weights_choose_where_u_is_made(capsys):
    from accelsim import load_hw, load_workload, simulate
    from accelsim.options import RunOptions
    totals = {}
    for weights in ("chip", "dram"):
        code, out, _ = run(capsys, "run", DEFAULT_HW, BLOCK, "--schedule", "pipelined", "--json",
                           "--winograd", "--winograd-weights", weights)
        data = json.loads(out)
        assert code == 0 and ("wgw" in {op["kind"] for op in data["ops"]}) == (weights == "chip")
        totals[weights] = data["total_cycles"]
    wanted = {w: simulate(load_hw(DEFAULT_HW), load_workload(BLOCK),
                          options=RunOptions(winograd=True, winograd_weights=w)).total_cycles for w in totals}
    assert totals == wanted and totals["chip"] != totals["dram"]
    with pytest.raises(SystemExit) as exited:
        main(["run", str(DEFAULT_HW), str(BLOCK), "--winograd", "--winograd-weights", "disk"])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "invalid choice: 'disk' (choose from 'chip', 'dram')" in err
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert ("chip: dense weights loaded, transformed on the add unit into the weight buffer; dram: "
            "transformed offline, loaded transformed") in help_text
