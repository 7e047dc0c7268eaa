"""The runner: each point computed once (the engine's metrics, as a separate run gives them),
committed at once, skipped when done, read back for the caller; batch after batch, as a
search asks."""

from __future__ import annotations

from accelsim.simulation import simulate
from accelsim.sweep.evaluate import Outcome, evaluate
from accelsim.sweep.executors import InProcess
from accelsim.sweep.metrics import result_metrics
from accelsim.sweep.points import expand, resolve
from accelsim.sweep.runner import plan, run_points, stored_outcome
from accelsim.sweep.spec import read_sweep
from accelsim.sweep.store import Store, point_key, read_points


class Counting(InProcess):
    """In process, remembering which keys it was asked to compute."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def run(self, tasks):
        for task in tasks:
            self.asked.append(task[0])
            yield from super().run([task])


def sweep_of(tmp_path, vary):
    path = tmp_path / "sweep.yaml"
    path.write_text(f"hw: default\nworkload: resnet50_convadd\nschedule: pipelined\nvary:\n{vary}")
    return read_sweep(path)


GRID = "  systolic_array.rows: [16, 32]\n  dram.channel_bytes_per_cycle: [4, 16]\n"


def test_every_point_is_the_engines_run_committed_once(tmp_path):
    sweep = sweep_of(tmp_path, GRID)
    points = expand(sweep)
    with Store(tmp_path / "r.db") as store:
        outcomes = run_points(sweep, points, store, Counting(), progress=False)
    assert len(outcomes) == 4
    for point, (key, outcome) in zip(points, outcomes.items(), strict=True):
        hw, workload, options = resolve(sweep, point)
        assert key == point_key(hw, workload, options)
        assert outcome == Outcome(result_metrics(simulate(hw, workload, options=options)))
    stored = {p.key: p for p in read_points(tmp_path / "r.db")}
    assert {k: stored_outcome(p) for k, p in stored.items()} == outcomes
    assert {k: dict(p.params) for k, p in stored.items()} == {
        k: p.as_dict() for k, p in zip(outcomes, points, strict=True)}


def test_done_points_are_skipped_and_read_back(tmp_path):
    sweep = sweep_of(tmp_path, GRID)
    points = expand(sweep)
    with Store(tmp_path / "r.db") as store:
        first = run_points(sweep, points[:3], store, Counting(), progress=False)
        again = Counting()
        second = run_points(sweep, points, store, again, progress=False)
    assert again.asked == [plan(sweep, points[3:])[0].key]                 # only the new one
    assert list(second) == [p.key for p in plan(sweep, points)]              # every point, in order
    assert {k: second[k] for k in first} == first
    assert len(read_points(tmp_path / "r.db")) == 4


def test_a_point_twice_in_a_batch_runs_once(tmp_path):
    sweep = sweep_of(tmp_path, "  dma.engines: [2, 2, 1]\n")
    executor = Counting()
    with Store(tmp_path / "r.db") as store:
        outcomes = run_points(sweep, expand(sweep), store, executor, progress=False)
    assert len(executor.asked) == len(set(executor.asked)) == len(outcomes) == 2


def test_a_point_that_cannot_run_is_stored_with_its_error(tmp_path):
    # the pipelined schedule of resnet50_convadd has 21 ops: over a limit of 20, it is not run
    sweep = sweep_of(tmp_path, "  max_ops: [20, 21]\n")
    with Store(tmp_path / "r.db") as store:
        outcomes = run_points(sweep, expand(sweep), store, InProcess(), progress=False)
    over, within = outcomes.values()
    assert over == Outcome(None, "workload 'resnet50_convadd': the pipelined schedule has 21 ops, 1.1x the "
                                 "limit of 20; raise the limit with --max-ops")
    assert within.error is None and within.metrics is not None
    hw, workload, options = resolve(sweep, expand(sweep)[1])
    assert within == evaluate(hw, workload, options)
    stored = {p.params["max_ops"]: p for p in read_points(tmp_path / "r.db")}
    assert stored[20].error == over.error and set(stored[20].metrics.values()) == {None}


def test_no_progress_bar_off_a_terminal(tmp_path, capsys):
    sweep = sweep_of(tmp_path, "  dma.engines: [1]\n")
    with Store(tmp_path / "r.db") as store:
        run_points(sweep, expand(sweep), store, InProcess(), progress=True)
    assert capsys.readouterr().err == ""
