"""Schedule-file and validation speed on whole networks.

    python benchmarks/validate.py [--repeat 3] [--functional]

For ResNet-50 (and MobileNetV2), the pipelined schedule on hwconfigs/default.yaml at the
default tiling and at 4x the row parts: ops, then wall time (best of --repeat) to
write the schedule file, read it back (parse + checks of names and dependencies), run
every static check, and the whole `accelsim validate` path (read + static). With
--functional, also the time to execute the schedule on fp32 tensors with numpy and
compare it with the whole-network reference (once).
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from accelsim import load_hw, load_workload
from accelsim.functional import check
from accelsim.placement import place
from accelsim.schedule_file import dump_schedule, schedule_from_text
from accelsim.scheduler.network import network_schedule
from accelsim.validate import validate

ROOT = Path(__file__).resolve().parent.parent


def best(repeat: int, fn):
    out, took = None, float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        took = min(took, time.perf_counter() - t0)
    return out, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--functional", action="store_true")
    args = parser.parse_args()
    hw = load_hw(ROOT / "hwconfigs" / "default.yaml")
    head = (f"{'network':<13}{'tiles':>6}{'ops':>7}{'file kB':>9}{'write s':>9}{'read s':>8}"
            f"{'static s':>10}{'validate s':>12}{'problems':>10}")
    print(head + (f"{'functional s':>14}" if args.functional else ""))
    for name in ("resnet50", "mobilenetv2"):
        workload = load_workload(ROOT / "traces" / f"{name}.yaml")
        for scale in (1, 4):
            schedule = place(network_schedule(workload, hw, "pipelined", tile_scale=scale)[0],
                             hw.sram_capacity())
            text, write_s = best(args.repeat, lambda s=schedule: dump_schedule(s, hw))
            file, read_s = best(args.repeat, lambda t=text, w=workload: schedule_from_text(t, hw, w))
            problems, static_s = best(args.repeat, lambda f=file, w=workload: validate(
                f.schedule, hw, w, f.lines))
            line = (f"{name:<13}{scale:>5}x{len(schedule.ops):>7}{len(text) / 1000:>9.0f}{write_s:>9.2f}"
                    f"{read_s:>8.2f}{static_s:>10.2f}{read_s + static_s:>12.2f}"
                    f"{len(file.problems) + len(problems):>10}")
            if args.functional:
                t0 = time.perf_counter()
                found = check(file.schedule, workload, "fp32")
                line += f"{time.perf_counter() - t0:>13.2f}" + ("" if found.ok else "!")
            print(line)


if __name__ == "__main__":
    main()
