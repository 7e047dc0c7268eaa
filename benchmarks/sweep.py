"""A hardware sweep through the public API, in one process: ResNet-50 pipelined on 50 machines.

    python benchmarks/sweep.py [--repeat 3] [--points 50]

The machines vary hwconfigs/default.yaml's array (8x8 .. 128x32) and DRAM bandwidth
(4 .. 64 B/cycle): 5 x 2 x 5 = 50 points. Each point builds its Hardware, schedules and
simulates the network, and reads total cycles, as a sweep script would. Prints the
points per second of the first pass (the scheduler's per-shape caches empty) and the best
of --repeat passes (caches warm, as in a sweep that revisits layer shapes), the split
between scheduling and simulation, and the fastest machine.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import time
from pathlib import Path

import yaml

import accelsim

ROOT = Path(__file__).resolve().parent.parent
ROWS = (8, 16, 32, 64, 128)
COLS = (16, 32)
DRAM_BYTES_PER_CYCLE = (2, 4, 8, 16, 32)          # per channel; 2 channels


def machines(count: int) -> list[accelsim.Hardware]:
    base = yaml.safe_load((ROOT / "hwconfigs" / "default.yaml").read_text())
    out = []
    for rows, cols, bw in itertools.islice(itertools.product(ROWS, COLS, DRAM_BYTES_PER_CYCLE), count):
        data = {**base, "name": f"{rows}x{cols}_{2 * bw}Bpc",
                "systolic_array": {**base["systolic_array"], "rows": rows, "cols": cols},
                "dram": {**base["dram"], "channel_bytes_per_cycle": bw}}
        out.append(accelsim.hw_from_dict(data))
    return out


def sweep(hws: list[accelsim.Hardware], workload: accelsim.Workload) -> tuple[float, float, list[int]]:
    """(scheduling seconds, simulation seconds, total cycles per point)."""
    sched_s = sim_s = 0.0
    cycles = []
    for hw in hws:
        t0 = time.perf_counter()
        schedule = accelsim.make_schedule(hw, workload, "pipelined")
        t1 = time.perf_counter()
        cycles.append(accelsim.run_schedule(hw, schedule).total_cycles)
        sched_s, sim_s = sched_s + t1 - t0, sim_s + time.perf_counter() - t1
    return sched_s, sim_s, cycles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--points", type=int, default=50)
    args = parser.parse_args()
    workload = accelsim.load_workload(ROOT / "traces" / "resnet50.yaml")
    hws = machines(args.points)
    passes = []
    for _ in range(args.repeat):
        gc.collect()
        t0 = time.perf_counter()
        sched_s, sim_s, cycles = sweep(hws, workload)
        passes.append((time.perf_counter() - t0, sched_s, sim_s, cycles))
    first = passes[0][0]
    print(f"first pass (nothing cached yet): {len(hws) / first:.1f} points/s ({first:.2f} s)")
    wall, sched_s, sim_s, cycles = min(passes, key=lambda p: p[0])
    fastest = min(range(len(hws)), key=lambda i: cycles[i])
    print(f"{len(hws)} points of ResNet-50 pipelined in {wall:.2f} s: {len(hws) / wall:.1f} points/s "
          f"(scheduling {sched_s:.2f} s, simulation {sim_s:.2f} s; best of {args.repeat})")
    print(f"fastest: {hws[fastest].name}, {cycles[fastest]:,} cycles")


if __name__ == "__main__":
    main()
