"""Engine throughput: simulate a long chain of finely split ConvAdd blocks and print ops/s.

    python -m benchmarks.engine_throughput [--blocks 100] [--splits 28] [--repeat 3]

(run from the checkout, so that its `accelsim` is the one imported.)

Each block is a 3x3 conv (28x28x64 -> 28x28x64) plus its residual add, pipelined
in `splits` parts: 1 + 5 * splits ops per block (weight load; per part: input
load, residual load, conv, add, store). Scheduling (`make_schedule`) and the
engine (`run_schedule`) are timed separately, on the default (timed DRAM) and
ideal-memory machines, best of `--repeat`. The schedule's read/write matching
(`Schedule.match_reads`, worked out once per schedule when `run_schedule` first
needs it) is timed on its own: "engine s"
and "ops/s" exclude it, "ops/s all" include it. The scaling lines time the same
runs at about 1k, 10k and 100k ops (timed DRAM) and fit `time ~ ops^k` by least
squares on log-log.
"""

from __future__ import annotations

import argparse
import functools
import gc
import math
import time
from pathlib import Path

from accelsim import load_hw, workload_from_dict
from accelsim.engine.machine import run_schedule
from accelsim.hw import Hardware
from accelsim.schedule import Schedule
from accelsim.simulation import make_schedule

HWCONFIGS = Path(__file__).resolve().parent.parent / "hwconfigs"
SCALING_BLOCKS = (7, 71, 709)           # 987, 10,011 and 99,969 ops at 28 splits


def chain(blocks: int, size: int = 28, channels: int = 64) -> dict:
    shape = [1, size, size, channels]
    tensors, ops = {"x0": shape}, []
    for b in range(blocks):
        tensors.update({f"c{b}": shape, f"r{b}": shape, f"x{b + 1}": shape})
        ops.append({"name": f"conv{b}", "kind": "conv", "input": f"x{b}", "output": f"c{b}",
                    "kh": 3, "kw": 3, "pad": 1, "cin": channels, "cout": channels})
        ops.append({"name": f"add{b}", "kind": "add", "inputs": [f"c{b}", f"r{b}"], "output": f"x{b + 1}"})
    return {"name": f"chain{blocks}", "tensors": tensors, "ops": ops}


class _MatchReadsClock:
    """Seconds spent matching reads to writes (`Schedule._matches`, which `match_reads` and
    the engine's `Plan` call, once per schedule) while installed (wraps the method)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        original = Schedule._matches

        @functools.wraps(original)
        def timed(schedule: Schedule):
            t0 = time.perf_counter()
            try:
                return original(schedule)
            finally:
                self.seconds += time.perf_counter() - t0

        Schedule._matches = timed             # type: ignore[method-assign]


MATCH_READS = _MatchReadsClock()


def measure(hw: Hardware, blocks: int, splits: int, repeat: int) -> dict:
    """Best-of-`repeat` seconds: schedule, run_schedule, its match_reads, the engine without it."""
    workload = workload_from_dict(chain(blocks))
    best = dict.fromkeys(("schedule", "run", "match_reads", "engine"), math.inf)
    for _ in range(repeat):
        gc.collect()            # the previous run's garbage is not this run's cost
        t0 = time.perf_counter()
        schedule = make_schedule(hw, workload, "pipelined", splits)
        t1 = time.perf_counter()
        MATCH_READS.seconds = 0.0
        result = run_schedule(hw, schedule)
        t2 = time.perf_counter()
        times = {"schedule": t1 - t0, "run": t2 - t1, "match_reads": MATCH_READS.seconds,
                 "engine": t2 - t1 - MATCH_READS.seconds}
        best = {k: min(best[k], v) for k, v in times.items()}
    return {**best, "ops": len(schedule.ops), "cycles": result.total_cycles}


def exponent(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(seconds) against log(ops)."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(s) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blocks", type=int, default=100)
    parser.add_argument("--splits", type=int, default=28)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--no-scaling", action="store_true", help="skip the 1k/10k/100k-op runs")
    args = parser.parse_args()
    print(f"{args.blocks} ConvAdd blocks x {args.splits} splits")
    print(f"{'hw':<14}{'ops':>8}{'schedule s':>12}{'match_reads s':>15}{'engine s':>10}{'ops/s':>10}"
          f"{'ops/s all':>11}{'total cycles':>15}")
    for name in ("default", "ideal_memory"):
        m = measure(load_hw(HWCONFIGS / f"{name}.yaml"), args.blocks, args.splits, args.repeat)
        n = m["ops"]
        print(f"{name:<14}{n:>8,}{m['schedule']:>12.3f}{m['match_reads']:>15.3f}{m['engine']:>10.3f}"
              f"{n / m['engine']:>10,.0f}{n / m['run']:>11,.0f}{m['cycles']:>15,}")
    if args.no_scaling:
        return
    hw = load_hw(HWCONFIGS / "default.yaml")
    runs = [measure(hw, blocks, args.splits, args.repeat) for blocks in SCALING_BLOCKS]
    engine = [(m["ops"], m["engine"]) for m in runs]
    total = [(m["ops"], m["run"]) for m in runs]
    print("scaling (default): " + ", ".join(f"{n:,} ops {s:.3f} s" for n, s in engine)
          + f"; engine time ~ ops^{exponent(engine):.2f}"
          + f" (with match_reads: ops^{exponent(total):.2f})")


if __name__ == "__main__":
    main()
