"""The sweep store: a point inserted once, kept across opening, read without writing, two
processes writing one store at once each row exactly once, and any other file refused."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys

import pytest

from accelsim import __version__
from accelsim.errors import ConfigError
from accelsim.options import RunOptions
from accelsim.sweep.metrics import METRICS
from accelsim.sweep.store import Store, point_key, read_points
from accelsim.workload import load_workload
from tests.helpers import BLOCK, ROOT, hw

METRIC_VALUES = {name: (i + 1 if unit in ("cycles", "bytes", "MACs") else (i + 1) / 3)
                 for i, (name, unit) in enumerate(METRICS.items())}


def test_a_point_is_inserted_once_and_kept_as_first_written(tmp_path):
    path = tmp_path / "r.db"
    with Store(path) as store:
        assert store.add("k1", {"a": 1}, METRIC_VALUES) is True
        assert store.add("k1", {"a": 2}, None, error="later") is False
        assert store.done() == {"k1"}
    (point,) = read_points(path)
    assert (point.key, dict(point.params), point.fast_path, point.error, point.version) == (
        "k1", {"a": 1}, False, None, __version__)
    assert dict(point.metrics) == METRIC_VALUES                        # floats exact, counts whole
    assert all(type(point.metrics[n]) is type(v) for n, v in METRIC_VALUES.items())


def test_reopened_store_keeps_its_points_and_reads_them_by_key(tmp_path):
    path = tmp_path / "r.db"
    with Store(path) as store:
        for i in range(1200):                                          # more than one query's worth
            store.add(f"k{i}", {"i": i}, None, error=f"e{i}", fast_path=i % 2 == 1)
    with Store(path) as store:
        assert store.done() == {f"k{i}" for i in range(1200)}
        found = store.read([f"k{i}" for i in range(0, 1300, 3)])
    assert sorted(found) == sorted(f"k{i}" for i in range(0, 1200, 3))
    assert (found["k3"].error, found["k3"].fast_path, found["k3"].params) == ("e3", True, {"i": 3})
    assert [p.params["i"] for p in read_points(path)] == list(range(1200))     # by value, not as text


def test_reading_never_writes(tmp_path):
    path = tmp_path / "r.db"
    with Store(path) as store:
        store.add("k", {}, METRIC_VALUES)
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        assert [p.key for p in read_points(path)] == ["k"]
    finally:
        path.chmod(0o644)
    assert path.read_bytes() == before


def _writer(path: str, start: int, stop: int, result) -> None:      # a separate process
    added = 0
    with Store(path) as store:
        for i in range(start, stop):
            added += store.add(f"k{i:04d}", {"i": i}, METRIC_VALUES)
    result.put(added)


def test_two_processes_writing_one_store_write_each_row_once(tmp_path):
    path = str(tmp_path / "r.db")
    context = multiprocessing.get_context("spawn")
    result = context.Queue()
    procs = [context.Process(target=_writer, args=(path, a, b, result)) for a, b in ((0, 300), (150, 450))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert result.get() + result.get() == 450                          # the 150 shared keys added once
    keys = [p.key for p in read_points(path)]
    assert keys == [f"k{i:04d}" for i in range(450)]
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("content", [b"not a database at all\n" * 10, b""])
def test_a_file_that_is_no_store_is_a_config_error(tmp_path, content):
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    if content:
        with pytest.raises(ConfigError, match="not a sweep store"):
            Store(path)
    with pytest.raises(ConfigError, match="not a sweep store"):
        read_points(path)


def test_another_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE points (key TEXT)").connection.commit()
    with pytest.raises(ConfigError, match="not a sweep store of schema version 1"):
        Store(path)
    with pytest.raises(ConfigError, match=f"{tmp_path / 'missing.db'}: no such sweep store"):
        read_points(tmp_path / "missing.db")
    with pytest.raises(ConfigError, match="is a directory"):
        Store(tmp_path)


def test_point_key_is_the_content_not_the_name():
    block = load_workload(BLOCK)
    by_name = load_workload("resnet50_convadd")
    same = point_key(hw(), block, RunOptions()), point_key(hw(), by_name, RunOptions())
    assert same[0] == same[1] and len(same[0]) == 64
    assert point_key(hw(dma__engines=3), block, RunOptions()) != same[0]
    assert point_key(hw(), block, RunOptions(schedule="fused")) != same[0]


def test_point_key_is_the_same_in_every_process():
    # resnet50_convadd's tensors come in a different dict order under some string-hash seeds
    # (0 and 2 differ): the key must not
    code = ("from accelsim.options import RunOptions; from accelsim.workload import load_workload; "
            "from accelsim.hw import load_hw; from accelsim.sweep.store import point_key; "
            "print(point_key(load_hw('default'), load_workload('resnet50_convadd'), RunOptions()))")
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed}).stdout
            for seed in ("0", "2")}
    assert len(keys) == 1
    assert keys == {point_key(hw(), load_workload(BLOCK), RunOptions()) + "\n"}
