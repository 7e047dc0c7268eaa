"""`accelsim pareto`: the front's table and summary from stores filled by hand (the front known),
the picture, bad stores and metrics (exit 2), and one store of real runs."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from accelsim.cli import main
from accelsim.errors import ConfigError
from accelsim.options import RunOptions
from accelsim.simulation import simulate
from accelsim.sweep.metrics import result_metrics
from accelsim.sweep.pareto_report import front_table, metric_text
from accelsim.sweep.store import Store, point_key, read_points
from accelsim.workload import load_workload
from tests.helpers import BLOCK, IDEAL_HW, hw

# (rows, schedule) -> (cycles, energy pJ, area mm^2). By hand: on (cycles, energy) the front
# is A (100, 9.5), C (200, 5.0), E (400, 1.0); B (150, 9.5) is dominated by A, D (300, 6.0) by C.
# With area too, D (area 1.0, the least) joins the front.
POINTS = {
    "A": ({"rows": 64, "schedule": "pipelined"}, (100, 9.5, 4.0)),
    "B": ({"rows": 64, "schedule": "fused"}, (150, 9.5, 4.0)),
    "C": ({"rows": 32, "schedule": "pipelined"}, (200, 5.0, 2.0)),
    "D": ({"rows": 16, "schedule": "fused"}, (300, 6.0, 1.0)),
    "E": ({"rows": 32, "schedule": "serial"}, (400, 1.0, 2.0)),
}


def _store(path, points=POINTS, extra=True):
    with Store(path) as store:
        for key, (params, (cycles, energy, area)) in points.items():
            store.add(key, params, {"total_cycles": cycles, "energy_pj": energy, "area_mm2": area})
        if extra:
            store.add("F", {"rows": 8, "schedule": "fused"}, None, error="does not fit SRAM")
            store.add("G", {"rows": 8, "schedule": "pipelined"}, {"total_cycles": 50, "energy_pj": None})
    return path


def _rows(out: str) -> list[list[str]]:
    lines = out.strip().splitlines()
    return [line.split() for line in lines[2:-1]]


def test_table_lists_the_front_in_x_order_with_units(tmp_path, capsys):
    db = _store(tmp_path / "r.db")
    assert main(["pareto", str(db), "--x", "total_cycles", "--y", "energy_pj"]) == 0
    out = capsys.readouterr().out
    head = out.splitlines()[0].split()
    assert head == ["#", "rows", "schedule", "total_cycles", "(cycles)", "energy_pj", "(pJ)"]
    assert _rows(out) == [["1", "64", "pipelined", "100", "9.5"], ["2", "32", "pipelined", "200", "5"],
                          ["3", "32", "serial", "400", "1"]]
    assert out.splitlines()[-1] == ("7 points, 3 on the front over total_cycles, energy_pj, 2 excluded "
                                    "(1 with an error, 1 without a value)")


def test_three_objectives_and_the_order_of_x(tmp_path, capsys):
    db = _store(tmp_path / "r.db")
    assert main(["pareto", str(db), "--x", "energy_pj", "--y", "total_cycles", "--z", "area_mm2"]) == 0
    rows = _rows(capsys.readouterr().out)
    # x is energy now: E 1.0, C 5.0, D 6.0, A 9.5
    assert [r[1:3] for r in rows] == [["32", "serial"], ["32", "pipelined"], ["16", "fused"],
                                      ["64", "pipelined"]]
    assert rows[2][-1] == "1"              # D's area


def test_picture_is_written_whole_and_the_same_each_time(tmp_path, capsys):
    db = _store(tmp_path / "r.db")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    for name in ("a.png", "b.png"):
        assert main(["pareto", str(db), "--z", "area_mm2", "-o", str(tmp_path / name)]) == 0
    a, b = (tmp_path / "a.png").read_bytes(), (tmp_path / "b.png").read_bytes()
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a == b
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before         # read only
    # no temporary file left (SQLite's own -wal and -shm beside a WAL store aside)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == \
        ["a.png", "b.png", "r.db"]


@pytest.mark.parametrize("case", ["missing", "not sqlite", "other table", "empty", "directory"])
def test_bad_stores_exit_2_with_a_message(tmp_path, capsys, case):
    path = tmp_path / "r.db"
    if case == "not sqlite":
        path.write_text("x,y\n1,2\n")
    elif case == "other table":
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE t (a)")
    elif case == "empty":
        Store(path).close()
    elif case == "directory":
        path.mkdir()
    assert main(["pareto", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"accelsim: error: {path}") and "Traceback" not in err
    assert {"missing": "no such sweep store", "not sqlite": "not a sweep store",
            "other table": "not a sweep store", "empty": "no points",
            "directory": "no such sweep store"}[case] in err


def test_unknown_metric_exits_2(tmp_path, capsys):
    db = _store(tmp_path / "r.db")
    with pytest.raises(SystemExit) as exc:
        main(["pareto", str(db), "--x", "speed"])
    assert exc.value.code == 2
    assert "invalid choice: 'speed'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="unknown metric 'speed'"):
        front_table(read_points(db), ["speed", "energy_pj"])
    with pytest.raises(ConfigError, match="named twice"):
        front_table(read_points(db), ["energy_pj", "energy_pj"])


def test_no_point_with_the_metrics(tmp_path, capsys):
    db = _store(tmp_path / "r.db")
    assert main(["pareto", str(db), "--y", "dram_bytes"]) == 0        # no point has dram_bytes
    assert "(no point on the front)" in capsys.readouterr().out
    assert main(["pareto", str(db), "--y", "dram_bytes", "-o", str(tmp_path / "f.png")]) == 2
    assert "no point has total_cycles, dram_bytes" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()


def test_metric_text():
    assert metric_text(1234567) == "1,234,567"
    assert metric_text(0.25) == "0.25"
    assert metric_text(3412345678.9) == "3,412,345,679"
    assert metric_text(None) == "-"


def test_real_runs(tmp_path, capsys):
    block = load_workload(BLOCK)
    db = tmp_path / "real.db"
    metrics = {}
    with Store(db) as store:
        for rows in (16, 32, 64):
            for schedule in ("serial", "pipelined"):
                machine, options = hw(IDEAL_HW, systolic_array__rows=rows), RunOptions(schedule=schedule)
                m = result_metrics(simulate(machine, block, options=options))
                metrics[(rows, schedule)] = m
                store.add(point_key(machine, block, options), {"rows": rows, "schedule": schedule}, m)
    assert main(["pareto", str(db), "--x", "total_cycles", "--y", "area_mm2"]) == 0
    rows = _rows(capsys.readouterr().out)
    # cycles and area by the definition, from the runs' own metrics
    vec = {k: (m["total_cycles"], m["area_mm2"]) for k, m in metrics.items()}
    on_front = sorted((v, k) for k, v in vec.items()
                      if not any(o != v and o[0] <= v[0] and o[1] <= v[1] for o in vec.values()))
    assert [(int(r[1]), r[2]) for r in rows] == [k for _, k in on_front]
    assert [int(r[3].replace(",", "")) for r in rows] == [v[0] for v, _ in on_front]
    # pipelined beats serial at every shape on cycles at the same area: no serial point is on it
    assert all(k[1] == "pipelined" for _, k in on_front) and len(on_front) == 3
