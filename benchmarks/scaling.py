"""How every pass scales: one ConvAdd block split into as many parts as it has rows.

    python -m benchmarks.scaling [--rows 1000 10000 100000] [--kernel 1] [--blocks 1] [--cli]

The block is a 1 x ROWS x 8 x 8 input x, a KxK conv of it (pad K//2, 8 -> 8 channels)
and an add, pipelined with splits = ROWS on hwconfigs/default.yaml. With K = 1 the add's
other operand is x itself, so each part is 4 ops (input load, conv, add, store: the
residual is the loaded input); with K > 1 it is a separate input r (5 ops: its own
load). (With a halo, x as the residual would be read from the next part's input load,
leaving each part's residual load unread and its SRAM held to the end.) --blocks
chains that many such blocks, each ROWS high, so the run has layers.

Per size it prints the ops and the wall time, in seconds, to build the schedule
(fit check included), to match its reads (`Schedule.match_reads` on a fresh copy),
to run the engine, to turn the Result into JSON (`to_dict` + `json.dumps`), and
their total; then the exponent b of a fit total ~ ops^b (1 is linear). With
--cli, also the whole `accelsim run HW BLOCK.yaml --schedule pipelined --splits ROWS`
command of the last size, in a fresh process.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from accelsim import load_hw, workload_from_dict
from accelsim.engine.machine import run_schedule
from accelsim.schedule import Schedule
from accelsim.simulation import make_schedule

ROOT = Path(__file__).resolve().parent.parent
HW = ROOT / "hwconfigs" / "default.yaml"


def block(rows: int, kernel: int = 1, blocks: int = 1, channels: int = 8, width: int = 8) -> dict:
    """The workload: `blocks` ConvAdd blocks in a chain (one block's ops are named conv and
    add, so they get no layer prefix)."""
    shape = [1, rows, width, channels]
    tensors: dict[str, list[int]] = {}
    ops: list[dict] = []
    for b in range(blocks):
        x, c, y = (f"x{b}", f"c{b}", f"x{b + 1}") if blocks > 1 else ("x", "c", "y")
        residual = x if kernel == 1 else (f"r{b}" if blocks > 1 else "r")
        if b == 0:
            tensors[x] = shape
        if residual != x:
            tensors[residual] = shape
        ops += [{"name": f"conv{b}" if blocks > 1 else "conv", "kind": "conv", "input": x, "output": c,
                 "kh": kernel, "kw": kernel, "pad": kernel // 2, "cin": channels, "cout": channels},
                {"name": f"add{b}" if blocks > 1 else "add", "kind": "add", "inputs": [c, residual],
                 "output": y}]
    return {"name": f"convadd{rows}" + (f"x{blocks}" if blocks > 1 else ""), "tensors": tensors, "ops": ops}


def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def measure(rows: int, kernel: int, blocks: int = 1) -> dict:
    """Seconds per pass for one size."""
    hw = load_hw(HW)
    workload = workload_from_dict(block(rows, kernel, blocks))
    schedule, build_s = timed(lambda: make_schedule(hw, workload, "pipelined", rows))
    fresh = Schedule(schedule.name, schedule.workload, schedule.splits, schedule.ops, schedule.notes)
    _, match_s = timed(fresh.match_reads)
    result, engine_s = timed(lambda: run_schedule(hw, schedule))
    _, dict_s = timed(lambda: json.dumps(result.to_dict(), indent=2))
    return {"ops": len(schedule.ops), "schedule": build_s, "match_reads": match_s, "engine": engine_s,
            "to_dict": dict_s, "total": build_s + engine_s + dict_s}


def exponent(points: list[tuple[int, float]]) -> float | None:
    """The least-squares slope of log(seconds) over log(ops)."""
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(t, 1e-9)) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def cli_seconds(rows: int, kernel: int, blocks: int = 1) -> float:
    """Wall time of the whole `accelsim run` command, in a fresh interpreter."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"block{rows}.yaml"
        path.write_text(yaml.safe_dump(block(rows, kernel, blocks)), encoding="utf-8")
        command = [sys.executable, "-m", "accelsim.cli", "run", str(HW), str(path), "--schedule",
                   "pipelined", "--splits", str(rows)]
        t0 = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000, 100000],
                        help="block heights to run (splits = rows)")
    parser.add_argument("--kernel", type=int, default=1, help="conv kernel size K (default 1)")
    parser.add_argument("--blocks", type=int, default=1,
                        help="ConvAdd blocks in the chain, each ROWS high (default 1; more make layers)")
    parser.add_argument("--cli", action="store_true", help="also time the CLI on the last size")
    args = parser.parse_args()
    columns = ("ops", "schedule", "match_reads", "engine", "to_dict", "total")
    print(f"{'rows':>8}" + "".join(f"{c:>13}" for c in columns))
    points = []
    for rows in args.rows:
        m = measure(rows, args.kernel, args.blocks)
        points.append((m["ops"], m["total"]))
        print(f"{rows:>8}{m['ops']:>13,}" + "".join(f"{m[c]:>13.2f}" for c in columns[1:]), flush=True)
    b = exponent(points)
    if b is not None:
        print(f"total time ~ ops^{b:.2f}")
    if args.cli:
        rows = args.rows[-1]
        print(f"accelsim run {HW.relative_to(ROOT)} block{rows}.yaml --schedule pipelined --splits {rows}: "
              f"{cli_seconds(rows, args.kernel, args.blocks):.1f} s end to end")


if __name__ == "__main__":
    main()
