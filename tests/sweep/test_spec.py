"""Reading a sweep file: the axes as written, ranges expanded, inputs found beside the file,
and every mistake a ConfigError naming the file's line (a grid too big a LimitError)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from accelsim.errors import ConfigError, LimitError
from accelsim.limits import MAX_SWEEP_POINTS
from accelsim.options import RunOptions
from accelsim.sweep.points import expand, resolve
from accelsim.sweep.spec import read_sweep
from tests.helpers import DEFAULT_HW

ISSUE = """\
hw: default
workload: resnet50_convadd
schedule: pipelined
vary:
  systolic_array.rows: [16, 32, 64]
  systolic_array.cols: [16, 32, 64]
  dram.channel_bytes_per_cycle: {log2_range: [2, 64]}
  schedule: [fused, pipelined]
where: "sram.ifmap.size_bytes + sram.weight.size_bytes <= 2 * 2**20"
"""


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error(tmp_path: Path, text: str, kind: type[Exception] = ConfigError) -> str:
    path = write(tmp_path, text)
    with pytest.raises(kind) as found:
        read_sweep(path)
    return str(found.value).replace(str(path), "sweep.yaml")


def test_the_issue_example_reads_as_written(tmp_path):
    sweep = read_sweep(write(tmp_path, ISSUE))
    assert [(a.name, a.values, a.option) for a in sweep.axes] == [
        ("systolic_array.rows", (16, 32, 64), False), ("systolic_array.cols", (16, 32, 64), False),
        ("dram.channel_bytes_per_cycle", (2, 4, 8, 16, 32, 64), False),
        ("schedule", ("fused", "pipelined"), True)]
    assert sweep.size == 3 * 3 * 6 * 2
    assert sweep.options == RunOptions(schedule="pipelined")
    assert sweep.workload.name == "resnet50_convadd"
    # the names `where` reads that no axis varies hold the base config's values (default.yaml)
    assert sweep.constants == {"sram.ifmap.size_bytes": 524288, "sram.weight.size_bytes": 262144}
    assert sweep.where_at.endswith("sweep.yaml:9")


@pytest.mark.parametrize(("given", "values"), [
    ("{range: [2, 8, 2]}", (2, 4, 6, 8)),
    ("{range: [2, 9, 2]}", (2, 4, 6, 8)),
    ("{range: [8, 2, -3]}", (8, 5, 2)),
    ("{range: [5, 5, 1]}", (5,)),
    ("{log2_range: [1, 1]}", (1,)),
    ("{log2_range: [4, 1024]}", (4, 8, 16, 32, 64, 128, 256, 512, 1024)),
    ("[64, 8, 8]", (64, 8, 8)),
])
def test_ranges_and_lists(tmp_path, given, values):
    text = f"hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines: {given}\n"
    sweep = read_sweep(write(tmp_path, text))
    assert sweep.axes[0].values == values


def test_inputs_are_found_beside_the_sweep_file_first(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    data = yaml.safe_load(DEFAULT_HW.read_text())
    data["systolic_array"]["rows"] = 8
    (tmp_path / "sub" / "default.yaml").write_text(yaml.safe_dump(data))     # shadows the shipped name
    path = write(tmp_path / "sub", "hw: default.yaml\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\n")
    monkeypatch.chdir(tmp_path)
    assert read_sweep(path).hw.systolic_array.rows == 8
    path.write_text("hw: default\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\n")
    assert read_sweep(path).hw.systolic_array.rows == 32                    # the shipped one


def test_options_and_optional_keys(tmp_path):
    sweep = read_sweep(write(tmp_path, """\
hw: default
workload: resnet50_convadd
sync: deps
splits: 4
dtype: fp16
parts: {conv1+add1: 2}
vary:
  add_unit.requantize_cycles_per_element: [0, 1]     # optional: default.yaml leaves it out
  parts.conv1: [2, 3]
  dtype: [int8, null]
where: "add_unit.lrn_cycles_per_element + add_unit.scale_cycles_per_element == 6 and splits == 4"
"""))
    assert sweep.options == RunOptions(sync="deps", splits=4, dtype="fp16", parts={"conv1+add1": 2})
    assert [a.option for a in sweep.axes] == [False, True, True]
    assert sweep.constants == {"add_unit.lrn_cycles_per_element": 5, "add_unit.scale_cycles_per_element": 1,
                               "splits": 4}


@pytest.mark.parametrize(("text", "message"), [
    ("hw: default\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\nwhere: 1 <\nschedul: fused\n",
     "sweep.yaml:5: unknown key 'schedul' (expected one of: hw, workload, "
     + ", ".join(f.name for f in fields(RunOptions) if f.name != "input_data")
     + ", vary, where; nearest: schedule, seed)"),
    ("hw: default\nworkload: resnet50_convadd\n", "sweep.yaml: vary: required key is missing"),
    ("- 1\n", "sweep.yaml: a sweep file is a mapping with keys hw, workload and vary, got [1]"),
    ("hw: nosuch\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\n", "nosuch: no such file"),
    ("hw: 3\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\n",
     "sweep.yaml:1: hw: must be a file path or a shipped name, got 3"),
    ("hw: default\nworkload: resnet50_convadd\nvary: {}\n", "sweep.yaml:3: vary: must be a mapping"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines: [1]\n  systolic_array.rowz: [1]\n",
     "sweep.yaml:5: unknown key path 'systolic_array.rowz': no key 'rowz' in systolic_array (expected one "
     "of: cols, dataflow, folds, rows; nearest: rows; or a run option: schedule, splits, sync, parts.LAYER"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dram.bandwidth: [1]\n",
     "sweep.yaml:4: unknown key path 'dram.bandwidth': no key 'bandwidth' in dram (expected one of: "
     "channel_bytes_per_cycle, channels, latency_cycles"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dram.channels.x: [1]\n",
     "sweep.yaml:4: dram.channels.x: dram.channels is a value, not a section with keys"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  sram.ifmap: [1]\n",
     "sweep.yaml:4: sram.ifmap: is a section, not one value (vary one of its keys: size_bytes, "
     "bytes_per_cycle)"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines: []\n",
     "sweep.yaml:4: vary dma.engines: empty list (give at least one value)"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines:\n    - 1\n    - [2]\n",
     "sweep.yaml:6: vary dma.engines: each value must be a number, a string, true, false or null, got [2]"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines:\n    log2_range: [3, 8]\n",
     "sweep.yaml:5: vary dma.engines: log2_range needs powers of two 1 <= LO <= HI, got [3, 8]"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines: {log2_range: [8, 2]}\n",
     "log2_range needs powers of two 1 <= LO <= HI, got [8, 2]"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines: {log2_range: [2, 8.0]}\n",
     "sweep.yaml:4: vary dma.engines: log2_range must be 2 whole numbers [LO, HI], powers of two, "
     "got [2, 8.0]"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines: {range: [1, 8, 0]}\n",
     "range [START, STOP, STEP] needs a STEP that goes from START to STOP (STOP included), got [1, 8, 0]"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines: {range: [8, 1, 1]}\n",
     "needs a STEP that goes from START to STOP"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines: {range: [1, 8]}\n",
     "range must be 3 whole numbers [START, STOP, STEP], got [1, 8]"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines: {steps: [1, 8]}\n",
     "sweep.yaml:4: vary dma.engines: must be a list of values, {log2_range: [LO, HI]} or "
     "{range: [START, STOP, STEP]}, got {'steps': [1, 8]}"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  systolic_array.rows:\n    - 8\n    - 0\n",
     "sweep.yaml:6: vary systolic_array.rows: 0: systolic_array.rows: must be > 0, got 0"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  systolic_array.dataflow: [os, xs]\n",
     "sweep.yaml:4: vary systolic_array.dataflow: 'xs': systolic_array.dataflow: must be one of 'os', "
     "'ws' or 'is', got 'xs'"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  schedule: [fused, serial, bogus]\n",
     "sweep.yaml:4: schedule: must be one of serial, fused, pipelined, depthfirst, got 'bogus'"),
    ("hw: default\nworkload: resnet50_convadd\nsplits: 0\nvary: {dma.engines: [1]}\n",
     "sweep.yaml:3: splits: must be a whole number > 0, got 0"),
    ("hw: default\nworkload: resnet50_convadd\nparts: {conv1: -1}\nvary: {dma.engines: [1]}\n",
     "sweep.yaml:3: parts.conv1: must be a whole number > 0, got -1"),
    ("hw: default\nworkload: resnet50_convadd\nvary:\n  parts: [1]\n",
     "sweep.yaml:4: vary parts: vary one layer's row parts at a time, as parts.LAYER"),
    ("hw: default\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\nwhere: dma.engines <\n",
     "sweep.yaml:4: where: expected a number, a name or '(' at column 14, got the end"),
    ("hw: default\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\nwhere: dram.bandwith > 1\n",
     "sweep.yaml:4: where: unknown key path 'dram.bandwith': no key 'bandwith' in dram (expected one of: "
     "channel_bytes_per_cycle, channels, latency_cycles; nearest: bandwidth"[:120]),
    ("hw: default\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\nwhere: sram > 1\n",
     "sweep.yaml:4: where: sram: is a section, not one value"),
    ("hw: default\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\nwhere: parts > 1\n",
     "sweep.yaml:4: where: parts is a mapping; name one layer's, parts.LAYER"),
    ("hw: default\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\nwhere: [1]\n",
     "sweep.yaml:4: where: must be a string (a condition), got [1]"),
])
def test_mistakes_name_the_line(tmp_path, text, message):
    assert message in error(tmp_path, text)


def test_a_grid_over_the_limit_is_refused_before_it_is_made(tmp_path):
    side = int(MAX_SWEEP_POINTS ** 0.5) + 1
    text = (f"hw: default\nworkload: resnet50_convadd\nvary:\n"
            f"  systolic_array.rows: {{range: [1, {side}, 1]}}\n"
            f"  systolic_array.cols: {{range: [1, {side}, 1]}}\n")
    path = write(tmp_path, text)
    sweep = read_sweep(path)                # a search may draw from it; the grid is refused
    with pytest.raises(LimitError) as found:
        expand(sweep)
    assert (f"{path}:3: the grid has {side * side:,} points ({side} x {side}), over the limit of "
            f"{MAX_SWEEP_POINTS:,}") in str(found.value)
    text = "hw: default\nworkload: resnet50_convadd\nvary:\n  dma.engines: {range: [1, 1000000000000, 1]}\n"
    assert (f"sweep.yaml:4: vary dma.engines: 1,000,000,000,000 values, over the limit of "
            f"{MAX_SWEEP_POINTS:,} points") in error(tmp_path, text, LimitError)


def test_a_hostile_where_is_a_limit_error_at_its_line(tmp_path):
    text = "hw: default\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\nwhere: '" + "(" * 80 + "'\n"
    assert "sweep.yaml:4: where: nested more than 50 levels deep" in error(tmp_path, text, LimitError)


def test_depth_first_options_and_an_unset_search_can_be_varied(tmp_path):
    sweep = read_sweep(write(tmp_path, """\
hw: default
workload: resnet18
schedule: depthfirst
halo: recompute
fuse_depth: 2
vary:
  search: [null, mix]
"""))
    assert sweep.options == RunOptions(schedule="depthfirst", halo="recompute", fuse_depth=2)
    assert [p.as_dict()["search"] for p in expand(sweep)] == [None, "mix"]
    assert "halo: must be one of cache, recompute, got 'keep'" in error(
        tmp_path, "hw: default\nworkload: resnet18\nhalo: keep\nvary: {search: [cycles]}\n")


def test_a_flag_option_is_true_or_false(tmp_path):
    text = "hw: default\nworkload: resnet50_convadd\nvary: {winograd: [false, 1]}\n"
    assert error(tmp_path, text) == "sweep.yaml:3: winograd: must be true or false, got 1"
    sweep = read_sweep(write(tmp_path, text.replace("[false, 1]", "[false, true]")))
    assert [p.as_dict()["winograd"] for p in expand(sweep)] == [False, True]


def test_sparsity_options_are_checked_as_the_run_parses_them(tmp_path):
    sweep = read_sweep(write(tmp_path, """\
hw: default
workload: resnet50_convadd
seed: 3
vary:
  weight_sparsity: [null, "2:4", "1:4"]
  activation_density: [1, 0.5, measured]
"""))
    points = [(o.weight_sparsity, o.activation_density, o.seed)
              for o in (resolve(sweep, p)[2] for p in expand(sweep))]
    assert points[:4] == [(None, "1", 3), (None, "0.5", 3), (None, "measured", 3), ("2:4", "1", 3)]
    assert len(points) == 9
    base = "hw: default\nworkload: resnet50_convadd\nvary: {dma.engines: [1]}\n"
    assert error(tmp_path, base + "weight_sparsity: 2:4\n") == (
        'sweep.yaml:4: weight_sparsity: expected a pattern N:M such as "2:4" (quoted), got 124')
    assert "sweep.yaml:4: weight_sparsity: pattern '3:2': N must be at least 1 and less than M" in error(
        tmp_path, base + 'weight_sparsity: "3:2"\n')
    assert error(tmp_path, base + "activation_density: 0\n").startswith(
        "sweep.yaml:4: activation_density: expected a density 0 < D <= 1")
    assert error(tmp_path, base + "activation_density: true\n") == (
        "sweep.yaml:4: activation_density: expected text, got True")
    assert error(tmp_path, base + "seed: -1\n") == "sweep.yaml:4: seed: must be a whole number >= 0, got -1"
    assert "unknown key 'input_data'" in error(tmp_path, base + "input_data: x.npz\n")


def test_winograd_weights_are_one_of_the_modes(tmp_path):
    text = "hw: default\nworkload: resnet50_convadd\nwinograd: true\nvary: {winograd_weights: [chip, disk]}\n"
    assert error(tmp_path, text) == "sweep.yaml:4: winograd_weights: must be one of chip, dram, got 'disk'"
    sweep = read_sweep(write(tmp_path, text.replace("disk", "dram")))
    assert sweep.options.winograd
    assert [p.as_dict()["winograd_weights"] for p in expand(sweep)] == ["chip", "dram"]
