"""The sweep fast path against the engine: points per second on the same ResNet-50 points.

    python benchmarks/fastpath.py [--repeat 3] [--points 20] [--workload resnet50]

The points vary hwconfigs/ideal_memory.yaml's array over 20 shapes (rows x cols, 8 .. 128, at most 8:1),
pipelined with barrier sync, where the closed form applies (accelsim/sweep/fastpath.py).
Each point is evaluated both ways, `result_metrics(simulate(...))` and `fast_metrics(...)`,
and the metrics must be equal (exactly). A first pass warms the scheduler's per-shape caches
for every point; then each way runs --repeat passes, interleaved, and the best is kept.
Prints points per second of each way and their ratio, and per point what both share
(scheduling; energy counting and the Plan are in both too) and what the closed form
replaces: the engine's run of the built schedule.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accelsim import hw_from_dict, load_hw, load_workload, simulate  # noqa: E402
from accelsim.engine.machine import run_schedule  # noqa: E402
from accelsim.hw import Hardware  # noqa: E402
from accelsim.options import RunOptions  # noqa: E402
from accelsim.shipped import resolve  # noqa: E402
from accelsim.simulation import make_schedule  # noqa: E402
from accelsim.sweep.fastpath import fast_metrics, fast_result  # noqa: E402
from accelsim.sweep.metrics import result_metrics  # noqa: E402

SIDES = (8, 16, 32, 64, 128)


def machines(count: int) -> list[Hardware]:
    base = load_hw(resolve("ideal_memory", "hw")).to_dict()
    shapes = [(r, c) for r, c in itertools.product(SIDES, SIDES) if max(r, c) <= 8 * min(r, c)]
    return [hw_from_dict({**base, "name": f"ideal_{r}x{c}",
                          "systolic_array": {**base["systolic_array"], "rows": r, "cols": c}})
            for r, c in shapes[:count]]


def timed(evaluate, points) -> float:
    start = time.perf_counter()
    for hw in points:
        evaluate(hw)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--workload", default="resnet50")
    args = parser.parse_args()
    workload = load_workload(resolve(args.workload, "workload"))
    options = RunOptions()
    points = machines(args.points)
    unequal = []
    for hw in points:                       # warm the caches; check equality
        engine = result_metrics(simulate(hw, workload, options=options))
        fast = fast_metrics(hw, workload, options)
        if fast != engine:
            unequal.append(hw.name)
    schedules = {hw.name: make_schedule(hw, workload, options=options) for hw in points}
    ways = {
        "engine": lambda hw: result_metrics(simulate(hw, workload, options=options)),
        "fast path": lambda hw: fast_metrics(hw, workload, options),
        "scheduling": lambda hw: make_schedule(hw, workload, options=options),
        "engine run": lambda hw: run_schedule(hw, schedules[hw.name]),
        "closed form": lambda hw: fast_result(hw, schedules[hw.name]),
    }
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(args.repeat):            # interleaved, so that load from elsewhere hits each alike
        for name, way in ways.items():
            best[name] = min(best[name], timed(way, points))
    n = len(points)
    print(f"{args.workload}, {n} array shapes on ideal_memory, pipelined, barrier sync "
          f"(best of {args.repeat} interleaved passes, caches warm)")
    for name in ("engine", "fast path"):
        print(f"  {name:<10} {n / best[name]:7.1f} points/s  ({1e3 * best[name] / n:6.1f} ms/point)")
    print(f"  ratio      {best['engine'] / best['fast path']:7.2f}x")
    ms = {name: 1e3 * t / n for name, t in best.items()}
    print(f"  per point, shared by both: scheduling {ms['scheduling']:.1f} ms; replaced: the engine's run "
          f"{ms['engine run']:.1f} ms by the closed form {ms['closed form']:.1f} ms "
          "(each with its Plan and Result)")
    verdict = f"; NOT on {', '.join(unequal)}" if unequal else ""
    print(f"  metrics equal on {n - len(unequal)} of {n} points{verdict}")
    return 1 if unequal else 0


if __name__ == "__main__":
    sys.exit(main())
