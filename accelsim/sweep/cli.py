"""`accelsim sweep`: read the sweep file, run its grid into the store, print a summary, export."""

from __future__ import annotations

import time
from pathlib import Path

from accelsim.sweep.evaluate import Outcome
from accelsim.sweep.executors import executor
from accelsim.sweep.export import export, export_format
from accelsim.sweep.points import expand
from accelsim.sweep.runner import Planned, plan, run_planned
from accelsim.sweep.spec import read_sweep
from accelsim.sweep.store import Store


def best(planned: list[Planned], outcomes: dict[str, Outcome], metric: str = "total_cycles"
         ) -> Planned | None:
    """The first planned point of least `metric` (None when none has it)."""
    scored = []
    for i, p in enumerate(planned):
        value = (outcomes[p.key].metrics or {}).get(metric)
        if value is not None:
            scored.append((value, i, p))
    return min(scored, key=lambda s: (s[0], s[1]))[2] if scored else None


def summary(source: str, grid: int, planned: list[Planned], outcomes: dict[str, Outcome], skipped: int,
            seconds: float) -> str:
    """What `accelsim sweep` prints when done."""
    ran = len(outcomes) - skipped
    failed = sum(o.error is not None for o in outcomes.values())
    left_out = f", {grid - len(planned):,} left out by where" if grid != len(planned) else ""
    same = f", {len(planned) - len(outcomes):,} the same as another" if len(outcomes) != len(planned) else ""
    lines = [f"{source}: {len(planned):,} points ({grid:,} in the grid{left_out}{same}): {ran:,} run, "
             f"{skipped:,} skipped as done, {failed:,} failed, in {seconds:.1f} s"
             + (f" ({ran / seconds:.1f} points/s)" if ran and seconds > 0 else "")]
    top = best(planned, outcomes)
    if top is not None:
        cycles = outcomes[top.key].metrics["total_cycles"]       # type: ignore[index]
        lines.append(f"best total_cycles: {cycles:,} at {top.point}")
    return "\n".join(lines)


def run_sweep(sweep_file: str, store_path: str, jobs: int = 1, dask: str | None = None,
              export_to: str | None = None, progress: bool = True) -> None:
    """The `sweep` command: every point of `sweep_file` into the store at `store_path`."""
    if export_to is not None:
        export_format(export_to)                # a bad suffix or no pyarrow: refused before running
    sweep = read_sweep(sweep_file)
    planned = plan(sweep, expand(sweep))
    start = time.perf_counter()
    with Store(store_path) as store:
        skipped = len(store.done() & {p.key for p in planned})
        with executor(jobs, dask) as ex:
            outcomes = run_planned(planned, store, ex, progress)
    print(summary(sweep_file, sweep.size, planned, outcomes, skipped, time.perf_counter() - start))
    if export_to is not None:
        rows = export(store_path, export_to, [axis.name for axis in sweep.axes])
        print(f"wrote {rows:,} rows to {Path(export_to)}")
