"""Where a sweep's points are computed, behind one interface: `run(tasks)` yields
(key, Outcome) as each point finishes, in whatever order they finish.

- InProcess: one after another in this process.
- ProcessPool: `jobs` worker processes (concurrent.futures). They are started with `spawn`, not
  `fork`: the parent holds an open SQLite connection (the store) and may run threads (the
  progress bar's monitor, Dask's), and neither survives a fork safely (SQLite says a
  connection must not cross a fork; a fork copies locks other threads hold). Spawning costs
  each worker one import of accelsim (about 0.3 s), once per sweep. Workers ignore Ctrl-C:
  the parent stops the sweep; they exit on their own once it is gone (kill -9).
- Dask: dask.distributed, on a LocalCluster of `jobs` one-thread worker processes (`local`) or
  on a running cluster's scheduler at an address (e.g. a dask-jobqueue SLURMCluster's).

Every executor runs the same `evaluate_task`, so a point gives the same metrics on each. At most
a few tasks per worker are in flight at once, so a large sweep is not held in memory whole."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from accelsim.errors import ConfigError
from accelsim.sweep.evaluate import Outcome, Task, evaluate_task

IN_FLIGHT_PER_WORKER = 4
"""Tasks handed out per worker ahead of their results."""
DASK_TIMEOUT_S = 30
"""How long to wait for a Dask scheduler at an address to answer, seconds."""


class Executor(ABC):
    """Computes tasks; a context manager that releases its workers on exit."""

    description: str = ""

    @abstractmethod
    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[str, Outcome]]:
        """(key, Outcome) of every task, as each finishes."""

    def close(self, wait: bool = True) -> None:  # noqa: B027 (nothing to release by default)
        """Release the workers; with `wait` False (an error or Ctrl-C), drop the tasks in flight."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(wait=kind is None)


class InProcess(Executor):
    """Each task in turn, in this process."""

    description = "in process"

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[str, Outcome]]:
        for task in tasks:
            yield evaluate_task(task)


PARENT_CHECK_S = 1.0
"""How often a pool worker checks that the sweep that started it is still alive, seconds."""


def _worker_start(parent: int) -> None:
    """A pool worker ignores Ctrl-C (the parent stops the sweep) and exits within
    PARENT_CHECK_S once its parent is gone (killed with -9, it cannot tell the pool to stop:
    an idle worker would otherwise wait for tasks forever)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_without, args=(parent,), daemon=True).start()


def _exit_without(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


class ProcessPool(Executor):
    """`jobs` spawned worker processes (see the module's docstring for why spawned)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.description = f"{jobs} worker processes"
        self._pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_worker_start, initargs=(os.getpid(),))

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[str, Outcome]]:
        todo = iter(tasks)
        pending: set[Future] = set()
        while True:
            for task in itertools.islice(todo, self.jobs * IN_FLIGHT_PER_WORKER - len(pending)):
                pending.add(self._pool.submit(evaluate_task, task))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()

    def close(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)


class Dask(Executor):
    """dask.distributed: a LocalCluster of `jobs` one-thread worker processes when `address` is
    `local`, else the running cluster whose scheduler is at `address` (tcp://host:8786)."""

    def __init__(self, address: str, jobs: int) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("--dask needs dask.distributed, which is not installed: "
                              "pip install 'accelsim[sweep]'") from None
        self._cluster: Any = None
        if address == "local":
            self._cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
            self.description = f"Dask LocalCluster of {jobs} workers"
        else:
            try:
                self._client = Client(address, timeout=DASK_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConfigError(f"--dask {address}: cannot reach a Dask scheduler there: {exc}") from None
            self.description = f"Dask cluster at {address}"

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[str, Outcome]]:
        from dask.distributed import as_completed

        todo = iter(tasks)
        workers = max(sum(self._client.nthreads().values()), 1)
        found = as_completed()
        for task in itertools.islice(todo, workers * IN_FLIGHT_PER_WORKER):
            found.add(self._client.submit(evaluate_task, task, pure=False))
        for future in found:
            result = future.result()
            future.release()
            yield result
            for task in itertools.islice(todo, 1):
                found.add(self._client.submit(evaluate_task, task, pure=False))

    def close(self, wait: bool = True) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def executor(jobs: int = 1, dask: str | None = None) -> Executor:
    """The executor the CLI's `--jobs N` and `--dask local|ADDRESS` ask for."""
    if dask is not None:
        return Dask(dask, jobs)
    return ProcessPool(jobs) if jobs > 1 else InProcess()
