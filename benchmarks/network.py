"""Whole-network simulation speed: ResNet-50 and MobileNetV2, default tiling and finer.

    python benchmarks/network.py [--repeat 3]

For each network, the pipelined schedule on hwconfigs/default.yaml with every layer's
row parts multiplied by 1, 4 and 16 (within each layer's rows): ops, scheduling and
simulation wall time (best of --repeat), engine ops/s, simulated cycles.
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from accelsim import load_hw, load_workload
from accelsim.engine.machine import run_schedule
from accelsim.scheduler.network import network_schedule

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    hw = load_hw(ROOT / "hwconfigs" / "default.yaml")
    print(f"{'network':<13}{'tiles':>6}{'ops':>8}{'schedule s':>12}{'simulate s':>12}{'total s':>9}"
          f"{'ops/s':>9}{'cycles':>13}")
    for name in ("resnet50", "mobilenetv2"):
        workload = load_workload(ROOT / "traces" / f"{name}.yaml")
        for scale in (1, 4, 16):
            sched_s = sim_s = float("inf")
            for _ in range(args.repeat):
                gc.collect()        # the previous run's garbage is not this run's cost
                t0 = time.perf_counter()
                schedule, _, _ = network_schedule(workload, hw, "pipelined", tile_scale=scale)
                t1 = time.perf_counter()
                result = run_schedule(hw, schedule)
                t2 = time.perf_counter()
                sched_s, sim_s = min(sched_s, t1 - t0), min(sim_s, t2 - t1)
            n = len(schedule.ops)
            print(f"{name:<13}{f'{scale}x':>6}{n:>8,}{sched_s:>12.3f}{sim_s:>12.3f}{sched_s + sim_s:>9.3f}"
                  f"{n / sim_s:>9,.0f}{result.total_cycles:>13,}")


if __name__ == "__main__":
    main()
