"""Run a batch of a sweep's points into a store: each point's key (the content hash of what it
runs), those already in the store skipped, the rest computed by an executor and each committed
the moment it finishes, with a progress bar. A grid runs one batch; a search asks for a batch,
reads its metrics, and asks for the next."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from accelsim.hw import Hardware
from accelsim.options import RunOptions
from accelsim.sweep.evaluate import Outcome
from accelsim.sweep.executors import Executor
from accelsim.sweep.points import Point, resolve
from accelsim.sweep.spec import Sweep
from accelsim.sweep.store import Store, StoredPoint, point_key
from accelsim.workload import Workload

KILL_AFTER = "ACCELSIM_SWEEP_KILL_AFTER"
"""Tests only: with this environment variable set to N, the runner kills its own process
(SIGKILL, as `kill -9` would) right after committing its N-th point: a crash at a known place."""


@dataclass(frozen=True)
class Planned:
    """A point resolved, with its key."""

    point: Point
    key: str
    hw: Hardware
    workload: Workload
    options: RunOptions


def plan(sweep: Sweep, points: Iterable[Point]) -> list[Planned]:
    """Each point resolved (`accelsim.sweep.points.resolve`) and keyed (`point_key`), in order."""
    out = []
    for point in points:
        hw, workload, options = resolve(sweep, point)
        out.append(Planned(point, point_key(hw, workload, options), hw, workload, options))
    return out


def stored_outcome(point: StoredPoint) -> Outcome:
    """The Outcome a stored row holds."""
    metrics = None if point.error is not None else dict(point.metrics)
    return Outcome(metrics, point.error, point.fast_path)


def progress_bar(total: int, initial: int, shown: bool) -> Any:
    """A tqdm bar on stderr (done of total, rate, ETA), shown when `shown` and stderr is a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="point", file=sys.stderr, dynamic_ncols=True,
                disable=not (shown and sys.stderr.isatty()), smoothing=0.1)


def run_planned(planned: Sequence[Planned], store: Store, executor: Executor,
                progress: bool = True) -> dict[str, Outcome]:
    """Compute the planned points not yet in `store` (each key once), committing each as it
    finishes; the Outcome of every planned key, in plan order (those done before read back
    from the store). A progress bar on stderr (done of total, rate, ETA) when `progress` and
    stderr is a terminal."""
    wanted = list(dict.fromkeys(p.key for p in planned))
    done = store.done() & set(wanted)
    todo, seen = [], set(done)
    for p in planned:
        if p.key not in seen:
            seen.add(p.key)
            todo.append(p)
    params = {p.key: p.point.as_dict() for p in todo}
    outcomes: dict[str, Outcome] = {}
    kill_after = int(os.environ.get(KILL_AFTER, "0"))
    with progress_bar(len(wanted), len(done), progress) as bar:
        for key, outcome in executor.run((p.key, p.hw, p.workload, p.options) for p in todo):
            store.add(key, params[key], outcome.metrics, fast_path=outcome.fast_path, error=outcome.error)
            outcomes[key] = outcome
            bar.update()
            if len(outcomes) == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
    before = {key: stored_outcome(point) for key, point in store.read(done).items()}
    return {key: outcomes[key] if key in outcomes else before[key] for key in wanted}


def run_points(sweep: Sweep, points: Iterable[Point], store: Store, executor: Executor,
               progress: bool = True) -> dict[str, Outcome]:
    """`run_planned` of `plan(sweep, points)`: the Outcome of every point by key, in order."""
    return run_planned(plan(sweep, points), store, executor, progress)
