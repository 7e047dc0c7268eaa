"""One evaluate for every point: the closed form where it is exact (ideal memory, barrier
sync), marked so in the store, with the engine's metrics exactly; the engine elsewhere."""

from __future__ import annotations

import pytest

from accelsim import load_hw, load_workload, simulate
from accelsim.options import RunOptions
from accelsim.sweep.evaluate import evaluate
from accelsim.sweep.executors import InProcess
from accelsim.sweep.metrics import result_metrics
from accelsim.sweep.points import expand, resolve
from accelsim.sweep.runner import run_points
from accelsim.sweep.spec import read_sweep
from accelsim.sweep.store import Store, read_points

BLOCK = load_workload("resnet50_convadd")


@pytest.mark.parametrize("schedule", ["serial", "fused", "pipelined"])
def test_ideal_memory_takes_the_fast_path_with_the_engines_metrics(schedule):
    hw = load_hw("ideal_memory")
    options = RunOptions(schedule=schedule)
    outcome = evaluate(hw, BLOCK, options)
    assert outcome.fast_path and outcome.error is None
    assert outcome.metrics == result_metrics(simulate(hw, BLOCK, options=options))
    engine = evaluate(hw, BLOCK, options, fast_path=False)
    assert not engine.fast_path and engine.metrics == outcome.metrics


def test_timed_dram_and_sync_by_deps_run_the_engine():
    assert not evaluate(load_hw("default"), BLOCK, RunOptions()).fast_path
    assert not evaluate(load_hw("ideal_memory"), BLOCK, RunOptions(sync="deps")).fast_path


def test_a_sweep_on_ideal_memory_marks_its_points_and_equals_the_engine(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("hw: ideal_memory\nworkload: resnet50_convadd\nvary:\n"
                    "  systolic_array.rows: [16, 64]\n  schedule: [fused, pipelined]\n"
                    "  sync: [barrier, deps]\n")
    sweep = read_sweep(path)
    points = expand(sweep)
    with Store(tmp_path / "r.db") as store:
        run_points(sweep, points, store, InProcess(), progress=False)
    stored = {tuple(sorted(p.params.items())): p for p in read_points(tmp_path / "r.db")}
    assert len(stored) == 8
    for point in points:
        row = stored[tuple(sorted(point.params))]
        hw, workload, options = resolve(sweep, point)
        assert row.fast_path == (options.sync == "barrier")
        assert dict(row.metrics) == result_metrics(simulate(hw, workload, options=options))
