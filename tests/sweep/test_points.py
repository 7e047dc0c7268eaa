"""A sweep's points: the grid in file order (last axis fastest) less what `where` refuses, and
each point resolved into the hardware config with its key paths set, the run options with its
options set, and the one workload."""

from __future__ import annotations

import pytest

from accelsim.errors import ConfigError
from accelsim.options import RunOptions
from accelsim.sweep.points import Point, expand, resolve
from accelsim.sweep.spec import read_sweep
from tests.helpers import hw, hw_data


def sweep_of(tmp_path, text):
    path = tmp_path / "sweep.yaml"
    path.write_text("hw: default\nworkload: resnet50_convadd\n" + text)
    return read_sweep(path)


def test_the_grid_runs_in_file_order_last_axis_fastest(tmp_path):
    sweep = sweep_of(tmp_path, "vary:\n  dma.engines: [1, 2]\n  schedule: [fused, pipelined, serial]\n")
    assert [p.params for p in expand(sweep)] == [
        (("dma.engines", e), ("schedule", s)) for e in (1, 2) for s in ("fused", "pipelined", "serial")]
    assert expand(sweep)[0].as_dict() == {"dma.engines": 1, "schedule": "fused"}
    assert str(expand(sweep)[0]) == "dma.engines=1, schedule=fused"


def test_where_keeps_the_points_it_is_true_at(tmp_path):
    # the condition: ifmap + weight SRAM at most 2 MiB
    sweep = sweep_of(tmp_path, """\
vary:
  sram.ifmap.size_bytes: [524288, 1048576, 2097152]
  sram.weight.size_bytes: [262144, 1048576]
where: "sram.ifmap.size_bytes + sram.weight.size_bytes <= 2 * 2**20"
""")
    assert [tuple(v for _, v in p.params) for p in expand(sweep)] == [
        (524288, 262144), (524288, 1048576), (1048576, 262144), (1048576, 1048576)]


def test_where_reads_unvaried_names_from_the_base(tmp_path):
    # default.yaml: a 32 x 32 array, so rows * cols <= 1024 keeps the rows up to 32
    sweep = sweep_of(tmp_path, "vary:\n  systolic_array.rows: [16, 32, 64]\n"
                               "where: systolic_array.rows * systolic_array.cols <= 1024\n")
    assert [p.as_dict() for p in expand(sweep)] == [{"systolic_array.rows": 16}, {"systolic_array.rows": 32}]


def test_an_error_in_where_names_its_line_and_the_point(tmp_path):
    sweep = sweep_of(tmp_path, "vary:\n  dma.engines: [2, 1]\nwhere: 4 // (dma.engines - 1) > 0\n")
    with pytest.raises(ConfigError) as found:
        expand(sweep)
    assert str(found.value) == (f"{tmp_path / 'sweep.yaml'}:5: where: integer division or modulo by zero "
                                "(at dma.engines=1)")


def test_resolve_sets_the_key_paths_and_options(tmp_path):
    sweep = sweep_of(tmp_path, """\
sync: deps
parts: {conv1: 2}
vary:
  systolic_array.rows: [8]
  dram.channel_bytes_per_cycle: [4]
  schedule: [fused]
  parts.add1: [3]
""")
    (point,) = expand(sweep)
    machine, workload, options = resolve(sweep, point)
    assert machine == hw(systolic_array__rows=8, dram__channel_bytes_per_cycle=4)
    assert workload is sweep.workload                       # read once, with the sweep
    assert options == RunOptions(schedule="fused", sync="deps", parts={"conv1": 2, "add1": 3})
    assert hw_data()["systolic_array"]["rows"] == 32        # the base data is not changed
    assert sweep.hw_data["systolic_array"]["rows"] == 32


def test_a_point_of_options_only_runs_on_the_base_hardware(tmp_path):
    sweep = sweep_of(tmp_path, "vary:\n  dtype: [fp16]\n")
    machine, _, options = resolve(sweep, expand(sweep)[0])
    assert machine is sweep.hw and options == RunOptions(dtype="fp16")


def test_a_value_the_hardware_refuses_names_the_key_path_and_the_point(tmp_path):
    sweep = sweep_of(tmp_path, "vary:\n  systolic_array.rows: [8]\n")
    with pytest.raises(ConfigError) as found:
        resolve(sweep, Point((("systolic_array.rows", 0), ("schedule", "fused"))))
    assert str(found.value) == (f"{tmp_path / 'sweep.yaml'}: point systolic_array.rows=0, schedule=fused: "
                                "systolic_array.rows: must be > 0, got 0")


def test_where_reads_run_options_and_strings(tmp_path):
    sweep = sweep_of(tmp_path, "vary:\n  dma.engines: [1, 2]\n  schedule: [serial, fused]\n"
                               "where: schedule != 'serial' or dma.engines == 1\n")
    assert [str(p) for p in expand(sweep)] == [
        "dma.engines=1, schedule=serial", "dma.engines=1, schedule=fused", "dma.engines=2, schedule=fused"]
