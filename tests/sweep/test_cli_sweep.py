"""`accelsim sweep`: the store holds what separate `accelsim run --json` runs give, a sweep
killed with SIGKILL and rerun ends as an uninterrupted one, Ctrl-C keeps what finished, the
export is the store as a table, and bad input is exit 2 with a clear message."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from accelsim.cli import main
from accelsim.sweep import cli as sweep_cli
from accelsim.sweep.executors import InProcess
from accelsim.sweep.metrics import METRICS
from accelsim.sweep.pareto import front
from accelsim.sweep.runner import KILL_AFTER
from accelsim.sweep.search import random_points
from accelsim.sweep.spec import read_sweep
from accelsim.sweep.store import read_points
from accelsim.units import UNITS
from tests.helpers import DEFAULT_HW, ROOT

GRID = """\
hw: default
workload: resnet50_convadd
schedule: pipelined
vary:
  systolic_array.rows: [16, 32, 64]
  dram.channel_bytes_per_cycle: [4, 16]
"""


def sweep_file(tmp_path: Path, text: str = GRID) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def json_metrics(data: dict) -> dict:
    """The METRICS of an `accelsim run --json` result, named as the store names them."""
    found = {"total_cycles": data["total_cycles"], "time_us": data["time_us"], "energy_pj": data["energy_pj"],
             "area_mm2": data["area_mm2"], "dram_read_bytes": data["dram"]["read_bytes"],
             "dram_write_bytes": data["dram"]["write_bytes"],
             "dram_bytes": data["dram"]["read_bytes"] + data["dram"]["write_bytes"], "macs": data["macs"],
             "array_utilization": data["array_utilization"],
             **{f"{u}_utilization": data["units"][u]["utilization"] for u in UNITS}}
    assert set(found) == set(METRICS) - {"pj_per_mac"}          # --json has every other metric
    return found


def test_a_3x2_grid_equals_six_separate_runs(tmp_path, capsys):
    code, out, _ = run(capsys, "sweep", sweep_file(tmp_path), "-o", tmp_path / "r.db")
    assert code == 0
    points = read_points(tmp_path / "r.db")
    assert len(points) == 6
    base = yaml.safe_load(DEFAULT_HW.read_text())
    for i, point in enumerate(points):
        rows, bandwidth = point.params["systolic_array.rows"], point.params["dram.channel_bytes_per_cycle"]
        data = {**base, "systolic_array": {**base["systolic_array"], "rows": rows},
                "dram": {**base["dram"], "channel_bytes_per_cycle": bandwidth}}
        (tmp_path / f"hw{i}.yaml").write_text(yaml.safe_dump(data))
        code, out, _ = run(capsys, "run", tmp_path / f"hw{i}.yaml", "resnet50_convadd",
                           "--schedule", "pipelined", "--json")
        assert code == 0
        expected = json_metrics(json.loads(out))
        assert {name: point.metrics[name] for name in expected} == expected, point.params
        # --json has no pJ per MAC: it is the energy over the MACs (the energy an exact fraction there)
        per_mac = expected["energy_pj"] / expected["macs"]
        assert point.metrics["pj_per_mac"] == pytest.approx(per_mac, rel=1e-15)
    assert len({p.metrics["total_cycles"] for p in points}) == 6       # six different machines


def _sweep(tmp_path: Path, store: str, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "accelsim", "sweep", str(sweep_file(tmp_path, KILL_GRID)),
                           "-o", str(tmp_path / store), *extra], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=120)


KILL_GRID = GRID.replace("[4, 16]", "[4, 8, 16]")


def _rows(path: Path) -> list[tuple]:
    return [(p.key, dict(p.params), dict(p.metrics), p.fast_path, p.error, p.version)
            for p in read_points(path)]


def test_a_sweep_killed_with_sigkill_and_rerun_ends_as_an_uninterrupted_one(tmp_path):
    killed = _sweep(tmp_path, "killed.db", "--jobs", "2", env={KILL_AFTER: "4"})
    assert killed.returncode == -signal.SIGKILL
    assert len(read_points(tmp_path / "killed.db")) == 4                 # committed before the kill
    rerun = _sweep(tmp_path, "killed.db", "--jobs", "2")
    assert rerun.returncode == 0, rerun.stderr
    assert "9 points (9 in the grid): 5 run, 4 skipped as done, 0 failed" in rerun.stdout
    whole = _sweep(tmp_path, "whole.db")
    assert whole.returncode == 0, whole.stderr
    assert len(_rows(tmp_path / "whole.db")) == 9
    assert _rows(tmp_path / "killed.db") == _rows(tmp_path / "whole.db")  # every point once, same metrics


class Interrupted(InProcess):
    """Ctrl-C after two points."""

    def run(self, tasks):
        for i, outcome in enumerate(super().run(tasks)):
            if i == 2:
                raise KeyboardInterrupt
            yield outcome


def test_ctrl_c_keeps_every_finished_point(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sweep_cli, "executor", lambda jobs, dask: Interrupted())
    code, out, err = run(capsys, "sweep", sweep_file(tmp_path), "-o", tmp_path / "r.db")
    assert (code, out, err) == (130, "", "accelsim: interrupted\n")
    assert len(read_points(tmp_path / "r.db")) == 2
    monkeypatch.setattr(sweep_cli, "executor", lambda jobs, dask: InProcess())
    code, out, _ = run(capsys, "sweep", sweep_file(tmp_path), "-o", tmp_path / "r.db")
    assert code == 0 and "6 points (6 in the grid): 4 run, 2 skipped as done, 0 failed" in out


def test_summary_counts_and_the_best_point(tmp_path, capsys):
    text = GRID + "  max_ops: [20, 100]\nwhere: systolic_array.rows * dram.channel_bytes_per_cycle != 64\n"
    code, out, _ = run(capsys, "sweep", sweep_file(tmp_path, text), "-o", tmp_path / "r.db")
    lines = out.splitlines()
    # 3 x 2 x 2 = 12 points; rows x bandwidth = 64 only at (16, 4): 2 left out; of the 10, the 5 with
    # max_ops 20 fail (the pipelined schedule has 21 ops)
    assert code == 0 and lines[0].startswith(
        f"{tmp_path / 'sweep.yaml'}: 10 points (12 in the grid, 2 left out by where): 10 run, "
        "0 skipped as done, 5 failed, in ")
    points = [p for p in read_points(tmp_path / "r.db") if p.error is None]
    top = min(points, key=lambda p: p.metrics["total_cycles"])
    assert lines[1] == (f"best total_cycles: {top.metrics['total_cycles']:,} at systolic_array.rows="
                        f"{top.params['systolic_array.rows']}, dram.channel_bytes_per_cycle="
                        f"{top.params['dram.channel_bytes_per_cycle']}, max_ops=100")
    code, out, _ = run(capsys, "sweep", tmp_path / "sweep.yaml", "-o", tmp_path / "r.db")
    assert ": 0 run, 10 skipped as done, 5 failed, in " in out and out.splitlines()[1] == lines[1]


def test_export_is_the_store_one_row_per_point(tmp_path, capsys):
    code, out, _ = run(capsys, "sweep", sweep_file(tmp_path), "-o", tmp_path / "r.db", "--export",
                       tmp_path / "r.csv")
    assert code == 0 and out.splitlines()[-1] == f"wrote 6 rows to {tmp_path / 'r.csv'}"
    with (tmp_path / "r.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["systolic_array.rows", "dram.channel_bytes_per_cycle", *METRICS, "fast_path", "error"]
    points = read_points(tmp_path / "r.db")
    assert rows[1:] == [[str(p.params["systolic_array.rows"]), str(p.params["dram.channel_bytes_per_cycle"]),
                         *(repr(p.metrics[m]) for m in METRICS), "False", ""] for p in points]
    first = (tmp_path / "r.csv").read_bytes()
    run(capsys, "sweep", tmp_path / "sweep.yaml", "-o", tmp_path / "r.db", "--export", tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_bytes() == first                    # deterministic


def test_export_parquet_holds_the_same_table(tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    code, _, _ = run(capsys, "sweep", sweep_file(tmp_path), "-o", tmp_path / "r.db", "--export",
                     tmp_path / "r.parquet")
    assert code == 0
    table = pq.read_table(tmp_path / "r.parquet").to_pylist()
    points = read_points(tmp_path / "r.db")
    assert table == [{**dict(p.params), **dict(p.metrics), "fast_path": False, "error": None} for p in points]
    assert list(table[0]) == ["systolic_array.rows", "dram.channel_bytes_per_cycle", *METRICS, "fast_path",
                              "error"]


@pytest.mark.parametrize(("args", "message"), [
    (["--export", "r.txt"], "r.txt: export to .csv or .parquet (by the suffix)"),
    (["--jobs", "2", "--dask", "local"], "--dask needs dask.distributed, which is not installed: "
                                         "pip install 'accelsim[sweep]'"),
    (["--trials", "3"], "--search and --trials go together: --search random|optuna --trials N"),
    (["--search", "random"], "--search and --trials go together: --search random|optuna --trials N"),
    (["--search", "optuna", "--trials", "3", "--objectives", "total_cycles,speed"],
     "--objectives: unknown metric speed; expected some of total_cycles, time_us, energy_pj"),
    (["--search", "random", "--trials", "100001"], "--trials 100,001: over the limit of 100,000 points"),
    (["--search", "optuna", "--trials", "3"], "--search optuna needs optuna, which is not installed: "
                                              "pip install 'accelsim[optuna]'"),
])
def test_bad_options_are_exit_2_before_any_point_runs(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    monkeypatch.setitem(sys.modules, "optuna", None)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "sweep", sweep_file(tmp_path), "-o", "r.db", *args)
    assert code == 2 and out == "" and err.startswith(f"accelsim: error: {message}")
    assert not (tmp_path / "r.db").exists() or read_points(tmp_path / "r.db") == []


def test_a_bad_sweep_file_is_exit_2_naming_its_line(tmp_path, capsys):
    path = sweep_file(tmp_path, GRID.replace("dram.channel_bytes_per_cycle", "dram.bandwidth"))
    code, out, err = run(capsys, "sweep", path, "-o", tmp_path / "r.db")
    assert code == 2 and out == ""
    assert err.startswith(f"accelsim: error: {path}:6: unknown key path 'dram.bandwidth': no key 'bandwidth' "
                          "in dram (expected one of: channel_bytes_per_cycle, channels, latency_cycles")
    assert "Traceback" not in err


SPACE = """\
hw: ideal_memory
workload: resnet50_convadd
vary:
  systolic_array.rows: [8, 16, 32, 64]
  systolic_array.cols: [8, 16, 32, 64]
  schedule: [fused, pipelined]
where: "systolic_array.rows * systolic_array.cols >= 128"
"""


def test_a_random_search_runs_the_points_random_points_draws_and_again_none(tmp_path, capsys):
    path = sweep_file(tmp_path, SPACE)
    sweep = read_sweep(path)
    axes = {a.name: a.values for a in sweep.axes}
    drawn = random_points(axes, 5, 3, lambda p: p["systolic_array.rows"] * p["systolic_array.cols"] >= 128)
    code, out, _ = run(capsys, "sweep", path, "-o", tmp_path / "r.db", "--search", "random", "--trials", 5,
                       "--seed", 3)
    assert code == 0 and "5 points (32 in the grid, random search, seed 3): 5 run, 0 skipped" in out
    stored = read_points(tmp_path / "r.db")
    assert sorted(map(sorted_items, (p.params for p in stored))) == sorted(map(sorted_items, drawn))
    assert all(p.fast_path for p in stored)                    # ideal memory, barrier: the closed form
    code, out, _ = run(capsys, "sweep", path, "-o", tmp_path / "r.db", "--search", "random", "--trials", 5,
                       "--seed", 3)
    assert "0 run, 5 skipped as done" in out and len(read_points(tmp_path / "r.db")) == 5


def sorted_items(params) -> tuple:
    return tuple(sorted(params.items()))


def test_an_optuna_search_is_the_same_for_a_seed_and_reports_its_front(tmp_path, capsys):
    path = sweep_file(tmp_path, SPACE)
    stores = []
    for name in ("a.db", "b.db"):
        code, out, _ = run(capsys, "sweep", path, "-o", tmp_path / name, "--search", "optuna", "--trials", 10,
                           "--objectives", "total_cycles,area_mm2", "--seed", 7)
        assert code == 0
        points = read_points(tmp_path / name)
        stores.append([(p.key, dict(p.params), dict(p.metrics)) for p in points])
        # every point kept by where, at most one per trial; the front the summary counts is the store's
        assert 0 < len(points) <= 10
        assert all(p.params["systolic_array.rows"] * p.params["systolic_array.cols"] >= 128 for p in points)
        on_front = front(points, ["total_cycles", "area_mm2"])
        assert f"Pareto front over total_cycles, area_mm2: {len(on_front)} of {len(points)} points" in out
    assert stores[0] == stores[1]
