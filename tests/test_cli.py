"""Every subcommand through the CLI: output, JSON keys, exit codes, error text."""

import json
import os
import subprocess
import sys

import pytest

from accelsim.cli import main
from tests.helpers import BLOCK, DEFAULT_HW, IDEAL_HW


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_without_schedule_prints_the_three_schedule_table(capsys):
    code, out, err = run(capsys, "run", DEFAULT_HW, BLOCK)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("resnet50_convadd on default: 32x32 OS array")
    assert lines[1].split()[:4] == ["schedule", "splits", "total", "cycles"]
    assert "speedup" in lines[1] and "dma util" in lines[1]
    assert [line.split()[0] for line in lines[3:]] == ["serial", "fused", "pipelined"]
    assert lines[3].split()[-1] == "1.00x"


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
    assert data["hw"]["systolic_array"] == {"rows": 32, "cols": 32, "dataflow": "os"}
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
    code, out, _ = run(capsys, "run", DEFAULT_HW, path, "--splits", "40")
    lines = out.splitlines()
    assert code == 0
    assert [line.split()[0] for line in lines[3:]] == ["pipelined", "serial:", "fused:"]
    assert lines[3].split()[-1] == "-"                  # no serial run, so no speedup
    assert "fused: not run: fused schedule (splits=1) needs 4,014,080 bytes in SRAM buffer 'ifmap' in " \
           "stage 0, but it holds 524,288; use the pipelined schedule or a larger buffer" in out


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
    assert err == "accelsim: error: conv 'conv': splits=57 is more than the 56 output rows to split\n"


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(DEFAULT_HW), str(BLOCK), "--schedule", "overlapped"])
    assert exit_.value.code == 2


def test_the_module_runs_as_a_program_without_traceback(tmp_path):
    path = bad_hw(tmp_path, "  rows: 32", "  rows: 0")
    proc = subprocess.run([sys.executable, "-m", "accelsim", "run", str(path), str(BLOCK)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "systolic_array.rows: must be > 0, got 0" in proc.stderr
