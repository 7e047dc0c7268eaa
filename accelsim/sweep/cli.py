"""`accelsim sweep`: read the sweep file, run its grid (or a search's points) into the store,
print a summary, export."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from accelsim.errors import ConfigError, LimitError
from accelsim.limits import MAX_SWEEP_POINTS
from accelsim.sweep.evaluate import Outcome
from accelsim.sweep.executors import Executor, executor
from accelsim.sweep.export import export, export_format
from accelsim.sweep.metrics import METRICS
from accelsim.sweep.pareto import front
from accelsim.sweep.points import Point, accepts, expand
from accelsim.sweep.runner import Planned, plan, progress_bar, run_planned
from accelsim.sweep.search import Params, optuna_module, optuna_search, random_points
from accelsim.sweep.spec import Sweep, read_sweep
from accelsim.sweep.store import Store


@dataclass(frozen=True)
class Search:
    """A search instead of the grid: `kind` random or optuna, `trials` points, the metrics an
    optuna search minimises, and the seed."""

    kind: str
    trials: int
    objectives: tuple[str, ...] = ("total_cycles", "energy_pj")
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [m for m in self.objectives if m not in METRICS]
        if unknown or not self.objectives:
            raise ConfigError(f"--objectives: unknown metric {', '.join(unknown) or '(none given)'}; "
                              f"expected some of {', '.join(METRICS)}")
        if self.trials > MAX_SWEEP_POINTS:
            raise LimitError(f"--trials {self.trials:,}: over the limit of {MAX_SWEEP_POINTS:,} points")
        if self.kind == "optuna":
            optuna_module()             # not installed: refused before the store is touched


def searched(sweep: Sweep, search: Search, store: Store, ex: Executor, jobs: int,
             progress: bool = True) -> tuple[list[Planned], dict[str, Outcome]]:
    """The points `search` chooses among the sweep's axes (those `where` keeps), each run into
    `store` as it finishes: random draws them all first; optuna asks `jobs` at a time, each
    batch's metrics told before the next is asked. The points in the order chosen, and their
    Outcomes by key."""
    axes = {axis.name: axis.values for axis in sweep.axes}

    def point(params: Params) -> Point:
        return Point(tuple(params.items()))

    def keep(params: Params) -> bool:
        return accepts(sweep, point(params))

    if search.kind == "random":
        planned = plan(sweep, map(point, random_points(axes, search.trials, search.seed, keep)))
        return planned, run_planned(planned, store, ex, progress)
    chosen: list[Planned] = []
    outcomes: dict[str, Outcome] = {}
    with progress_bar(search.trials, 0, progress) as bar:
        def evaluate_batch(batch: list[Params]) -> list[dict | None]:
            planned = plan(sweep, map(point, batch))
            found = run_planned(planned, store, ex, progress=False)
            chosen.extend(planned)
            outcomes.update(found)
            bar.update(len(batch))
            return [found[p.key].metrics for p in planned]

        optuna_search(axes, search.trials, search.objectives, evaluate_batch, search.seed, batch=jobs,
                      accept=keep)
    return chosen, outcomes


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
            seconds: float, search: Search | None = None) -> str:
    """What `accelsim sweep` prints when done."""
    ran = len(outcomes) - skipped
    failed = sum(o.error is not None for o in outcomes.values())
    if search is None:
        left_out = f", {grid - len(planned):,} left out by where" if grid != len(planned) else ""
    else:
        left_out = f", {search.kind} search, seed {search.seed}"
    same = f", {len(planned) - len(outcomes):,} the same as another" if len(outcomes) != len(planned) else ""
    lines = [f"{source}: {len(planned):,} points ({grid:,} in the grid{left_out}{same}): {ran:,} run, "
             f"{skipped:,} skipped as done, {failed:,} failed, in {seconds:.1f} s"
             + (f" ({ran / seconds:.1f} points/s)" if ran and seconds > 0 else "")]
    top = best(planned, outcomes)
    if top is not None:
        cycles = outcomes[top.key].metrics["total_cycles"]       # type: ignore[index]
        lines.append(f"best total_cycles: {cycles:,} at {top.point}")
    if search is not None and search.kind == "optuna":
        unique = list({p.key: p for p in planned}.values())
        on_front = front([outcomes[p.key].metrics or {} for p in unique], list(search.objectives))
        lines.append(f"Pareto front over {', '.join(search.objectives)}: {len(on_front):,} of "
                     f"{len(unique):,} points (accelsim pareto shows them)")
    return "\n".join(lines)


def run_sweep(sweep_file: str, store_path: str, jobs: int = 1, dask: str | None = None,
              export_to: str | None = None, progress: bool = True, search: Search | None = None) -> None:
    """The `sweep` command: every point of `sweep_file` (or those `search` chooses) into the
    store at `store_path`."""
    if export_to is not None:
        export_format(export_to)                # a bad suffix or no pyarrow: refused before running
    sweep = read_sweep(sweep_file)
    planned = plan(sweep, expand(sweep)) if search is None else []
    start = time.perf_counter()
    with Store(store_path) as store:
        done = store.done()
        with executor(jobs, dask) as ex:
            if search is None:
                outcomes = run_planned(planned, store, ex, progress)
            else:
                planned, outcomes = searched(sweep, search, store, ex, jobs, progress)
        skipped = len(done & set(outcomes))
    print(summary(sweep_file, sweep.size, planned, outcomes, skipped, time.perf_counter() - start, search))
    if export_to is not None:
        rows = export(store_path, export_to, [axis.name for axis in sweep.axes])
        print(f"wrote {rows:,} rows to {Path(export_to)}")
