"""Executors: in process, a pool of spawned processes and Dask give the same Outcome for every
point (one evaluate_task runs everywhere); Dask is optional and its absence is a clear error."""

from __future__ import annotations

import re
import sys

import pytest

from accelsim.errors import ConfigError
from accelsim.sweep import executors
from accelsim.sweep.executors import Dask, InProcess, ProcessPool, executor
from accelsim.sweep.points import expand
from accelsim.sweep.runner import plan, run_points
from accelsim.sweep.spec import read_sweep
from accelsim.sweep.store import Store, read_points

VARY = "  systolic_array.rows: [16, 32]\n  schedule: [fused, pipelined]\n  max_ops: [10, 100]\n"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "sweep.yaml"
    path.write_text(f"hw: default\nworkload: resnet50_convadd\nvary:\n{VARY}")
    return read_sweep(path)


def tasks(sweep):
    return [(p.key, p.hw, p.workload, p.options) for p in plan(sweep, expand(sweep))]


@pytest.fixture(scope="module")
def in_process(sweep):
    with InProcess() as ex:
        return dict(ex.run(tasks(sweep)))


def test_the_pool_gives_what_in_process_gives(sweep, in_process):
    # 6 ops fused, 21 pipelined: over a limit of 10, the pipelined points are errors
    assert sum(o.error is not None for o in in_process.values()) == 2
    with ProcessPool(2) as ex:
        assert dict(ex.run(tasks(sweep))) == in_process


def test_dask_local_gives_what_the_pool_gives_into_a_store(sweep, tmp_path):
    pytest.importorskip("dask.distributed")
    stores = {}
    for name, make in (("pool", lambda: executor(jobs=2)), ("dask", lambda: executor(jobs=2, dask="local"))):
        with Store(tmp_path / f"{name}.db") as store, make() as ex:
            run_points(sweep, expand(sweep), store, ex, progress=False)
        stores[name] = [(p.key, dict(p.params), dict(p.metrics), p.error, p.fast_path)
                        for p in read_points(tmp_path / f"{name}.db")]
    assert len(stores["dask"]) == 8 and stores["dask"] == stores["pool"]


def test_the_cli_choice_of_executor():
    assert isinstance(executor(1), InProcess)
    with executor(3) as ex:
        assert isinstance(ex, ProcessPool) and ex.jobs == 3


def test_without_dask_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)        # import fails as if not installed
    with pytest.raises(ConfigError, match=r"--dask needs dask.distributed.*pip install 'accelsim\[sweep\]'"):
        Dask("local", 2)


def test_an_address_with_no_scheduler_is_a_config_error(monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(executors, "DASK_TIMEOUT_S", 1)
    message = "--dask tcp://127.0.0.1:9: cannot reach a Dask scheduler there"
    with pytest.raises(ConfigError, match=re.escape(message)):
        Dask("tcp://127.0.0.1:9", 2)
