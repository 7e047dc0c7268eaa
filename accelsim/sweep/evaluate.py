"""The one place a sweep's point is computed: simulated by the engine (the closed-form fast
path, where exact, is to be hooked in here), its metrics read, or why it could not run."""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.errors import AccelsimError
from accelsim.hw import Hardware
from accelsim.options import RunOptions
from accelsim.simulation import simulate
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


def evaluate(hw: Hardware, workload: Workload, options: RunOptions) -> Outcome:
    """Schedule and simulate one point; an AccelsimError (does not fit SRAM, over a limit, a
    datatype the hardware lacks) is the Outcome's error, not raised."""
    try:
        return Outcome(result_metrics(simulate(hw, workload, options=options)))
    except AccelsimError as exc:
        return Outcome(None, str(exc))


def evaluate_task(task: Task) -> tuple[str, Outcome]:
    """A worker's call: (key, the point's Outcome)."""
    key, hw, workload, options = task
    return key, evaluate(hw, workload, options)
