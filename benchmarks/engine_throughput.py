"""Engine throughput: simulate a long chain of finely split ConvAdd blocks and print ops/s.

    python benchmarks/engine_throughput.py [--blocks 100] [--splits 28]

Each block is a 3x3 conv (28x28x64 -> 28x28x64) plus its residual add, pipelined
in `splits` parts: 1 + 5 * splits ops per block (weight load; per part: input
load, residual load, conv, add, store). Scheduling and simulation are timed
separately, on the default (timed DRAM) and ideal-memory machines.
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from accelsim import load_hw, workload_from_dict
from accelsim.engine.machine import run_schedule
from accelsim.simulation import make_schedule

HWCONFIGS = Path(__file__).resolve().parent.parent / "hwconfigs"


def chain(blocks: int, size: int = 28, channels: int = 64) -> dict:
    shape = [1, size, size, channels]
    tensors, ops = {"x0": shape}, []
    for b in range(blocks):
        tensors.update({f"c{b}": shape, f"r{b}": shape, f"x{b + 1}": shape})
        ops.append({"name": f"conv{b}", "kind": "conv", "input": f"x{b}", "output": f"c{b}",
                    "kh": 3, "kw": 3, "pad": 1, "cin": channels, "cout": channels})
        ops.append({"name": f"add{b}", "kind": "add", "inputs": [f"c{b}", f"r{b}"], "output": f"x{b + 1}"})
    return {"name": f"chain{blocks}", "tensors": tensors, "ops": ops}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blocks", type=int, default=100)
    parser.add_argument("--splits", type=int, default=28)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    workload = workload_from_dict(chain(args.blocks))
    print(f"{args.blocks} ConvAdd blocks x {args.splits} splits")
    print(f"{'hw':<14}{'ops':>8}{'schedule s':>12}{'simulate s':>12}{'ops/s':>10}{'total cycles':>15}")
    for name in ("default", "ideal_memory"):
        hw = load_hw(HWCONFIGS / f"{name}.yaml")
        sched_s, sim_s = float("inf"), float("inf")
        for _ in range(args.repeat):
            gc.collect()            # the previous run's garbage is not this run's cost
            t0 = time.perf_counter()
            schedule = make_schedule(hw, workload, "pipelined", args.splits)
            t1 = time.perf_counter()
            result = run_schedule(hw, schedule)
            t2 = time.perf_counter()
            sched_s, sim_s = min(sched_s, t1 - t0), min(sim_s, t2 - t1)
        n = len(schedule.ops)
        print(f"{name:<14}{n:>8,}{sched_s:>12.3f}{sim_s:>12.3f}{n / sim_s:>10,.0f}{result.total_cycles:>15,}")


if __name__ == "__main__":
    main()
