"""The one place a sweep's point is computed: scheduled once, then run by the closed form where
it is exact (`accelsim.sweep.fastpath`: ideal memory, barrier sync, no stage that waits inside
itself) and by the engine everywhere else; its metrics read, or why it could not run."""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.engine.machine import run_schedule
from accelsim.errors import AccelsimError
from accelsim.hw import Hardware
from accelsim.options import RunOptions
from accelsim.simulation import make_schedule
from accelsim.sweep.fastpath import applies, fast_result
from accelsim.sweep.metrics import result_metrics
from accelsim.workload import Workload

Task = tuple[str, Hardware, Workload, RunOptions]
"""What a worker gets for one point: its key, hardware, workload and run options (all pickle)."""


@dataclass(frozen=True)
class Outcome:
    """A point's result: its `metrics` (`accelsim.sweep.metrics.METRICS`) or None, the `error`
    that stopped it (e.g. its schedule does not fit SRAM) or None, and whether the closed-form
    fast path gave the metrics instead of the engine."""

    metrics: dict[str, float | int | None] | None
    error: str | None = None
    fast_path: bool = False


def evaluate(hw: Hardware, workload: Workload, options: RunOptions, fast_path: bool = True) -> Outcome:
    """Schedule one point and run it: by the closed form where it gives the engine's metrics
    exactly (and `fast_path`; the Outcome says so), else by the engine. An AccelsimError (does
    not fit SRAM, over a limit, a datatype the hardware lacks) is the Outcome's error, not raised."""
    try:
        schedule = make_schedule(hw, workload, options=options)
        if fast_path and applies(hw, options):
            result = fast_result(hw, schedule)
            if result is not None:
                return Outcome(result_metrics(result), fast_path=True)
        return Outcome(result_metrics(run_schedule(hw, schedule, options.sync)))
    except AccelsimError as exc:
        return Outcome(None, str(exc))


def evaluate_task(task: Task) -> tuple[str, Outcome]:
    """A worker's call: (key, the point's Outcome)."""
    key, hw, workload, options = task
    return key, evaluate(hw, workload, options)
