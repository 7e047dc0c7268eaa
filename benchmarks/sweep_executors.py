"""Sweep throughput per executor: a 200-point ResNet-50 sweep in process, on 2 worker
processes (--jobs 2) and on a Dask LocalCluster of 2 workers, each into a fresh store.

    python benchmarks/sweep_executors.py [--points N]

The grid (benchmarks/resnet50_sweep.yaml): array rows 8..128 (5) x cols 16..128 (4) x DRAM
bandwidth 2..32 B/cycle per channel (5) x schedule fused, pipelined (2) = 200 points. Prints
points per second per executor (wall time from starting the executor to the last commit, so a
pool's spawned workers and Dask's cluster start are counted; and after the executor is up:
a LocalCluster waits for its workers, a pool spawns them at the first point), and checks that the three
stores hold the same points with the same metrics. Then the fast path: the same points on
hwconfigs/ideal_memory.yaml (barrier sync, where the closed form is exact), evaluated in
process by the closed form and by the engine, with their metrics checked equal. --points N
runs the first N points only.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from accelsim.sweep.evaluate import evaluate
from accelsim.sweep.executors import Executor, executor
from accelsim.sweep.points import expand
from accelsim.sweep.runner import plan, run_planned
from accelsim.sweep.spec import read_sweep
from accelsim.sweep.store import Store, read_points

SWEEP = Path(__file__).resolve().parent / "resnet50_sweep.yaml"
EXECUTORS = {"in process": lambda: executor(1), "--jobs 2": lambda: executor(2),
             "Dask local, 2 workers": lambda: executor(2, "local")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=None, help="run the first N points only")
    args = parser.parse_args()
    sweep = read_sweep(SWEEP)
    planned = plan(sweep, expand(sweep)[:args.points])
    print(f"{SWEEP.name}: {len(planned)} points of {sweep.workload.name}")
    stored = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in EXECUTORS.items():
            path = Path(tmp) / f"{len(stored)}.db"
            start = time.perf_counter()
            ex: Executor
            with Store(path) as store, make() as ex:
                ready = time.perf_counter()
                outcomes = run_planned(planned, store, ex, progress=False)
                end = time.perf_counter()
            seconds, starting = end - start, ready - start
            failed = sum(o.error is not None for o in outcomes.values())
            print(f"{name:>22}: {len(outcomes) / seconds:6.1f} points/s ({len(outcomes)} points, "
                  f"{failed} failed, {seconds:.1f} s; {len(outcomes) / (end - ready):.1f} points/s "
                  f"after {starting:.1f} s starting the executor)")
            stored[name] = [(p.key, dict(p.params), dict(p.metrics), p.error) for p in read_points(path)]
    same = all(rows == stored["in process"] for rows in stored.values())
    print("the three stores hold " + ("the same points with identical metrics" if same else
                                      "DIFFERENT points or metrics"))
    if not same:
        raise SystemExit(1)
    fast_path(planned)


def fast_path(planned) -> None:
    """Points/s of the same points on ideal memory, in process, caches warm: the closed form and
    the engine, interleaved, best of 3 each."""
    ideal = read_sweep(SWEEP.with_name("resnet50_sweep_ideal.yaml"))
    points = plan(ideal, [p.point for p in planned])
    for p in points:                    # the scheduler's per-shape caches warm for both ways
        evaluate(p.hw, p.workload, p.options, fast_path=False)
    rates: dict[str, float] = {}
    metrics, taken = {}, {}
    for _ in range(3):                  # interleaved, best of 3
        for way, fast in (("fast path", True), ("engine", False)):
            start = time.perf_counter()
            outcomes = [evaluate(p.hw, p.workload, p.options, fast_path=fast) for p in points]
            rates[way] = max(rates.get(way, 0.0), len(points) / (time.perf_counter() - start))
            metrics[way] = [o.metrics for o in outcomes]
            taken[way] = sum(o.fast_path for o in outcomes)
    for way in rates:
        print(f"{way + ', ideal memory':>22}: {rates[way]:6.1f} points/s ({len(points)} points in process, "
              f"{taken[way]} by the closed form)")
    same = metrics["fast path"] == metrics["engine"]
    print(f"fast path / engine: {rates['fast path'] / rates['engine']:.2f}x, metrics "
          + ("identical" if same else "DIFFERENT"))
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
