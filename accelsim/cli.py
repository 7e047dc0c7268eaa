"""Command line: parses, calls the public API, prints, exits (2 on bad input)."""

from __future__ import annotations

import argparse
import json
import sys

from accelsim.errors import AccelsimError
from accelsim.hw import load_hw
from accelsim.report import compare_schedules, describe_hw, results_table, speedups
from accelsim.scheduler import SCHEDULES
from accelsim.simulation import simulate
from accelsim.workload import load_workload


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accelsim", description="Simulate a deep-learning accelerator with a fused ConvAdd operator.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a workload on a hardware config",
                         description="Simulate WORKLOAD on HW. Without --schedule, compare "
                                     "the serial, fused and pipelined schedules.")
    run.add_argument("hw", metavar="HW.yaml", help="hardware config (see hwconfigs/)")
    run.add_argument("workload", metavar="WORKLOAD.yaml", help="workload trace (see traces/)")
    run.add_argument("--schedule", choices=SCHEDULES,
                     help="run one schedule (default: compare all three)")
    run.add_argument("--splits", type=int, default=4, metavar="N",
                     help="H parts of the pipelined schedule (default 4)")
    run.add_argument("--json", action="store_true",
                     help="print one JSON object (the pipelined result when no --schedule)")
    return parser


def _run(args: argparse.Namespace) -> None:
    hw, workload = load_hw(args.hw), load_workload(args.workload)
    if args.schedule:
        result = simulate(hw, workload, args.schedule, args.splits)
        if args.json:
            print(result.to_json())
        else:
            print(f"{workload.name} on {describe_hw(hw)}")
            print(results_table([result], with_speedup=False))
        return
    results, failed = compare_schedules(hw, workload, args.splits)
    if args.json:
        if "pipelined" in failed:
            raise failed["pipelined"]
        data = results[-1].to_dict()
        data["comparison"] = [
            {"schedule": r.schedule, "splits": r.splits, "total_cycles": r.total_cycles,
             "speedup_vs_serial": s} for r, s in zip(results, speedups(results), strict=True)]
        data["comparison"] += [{"schedule": kind, "error": str(exc)} for kind, exc in failed.items()]
        print(json.dumps(data, indent=2))
        return
    if not results:
        raise next(iter(failed.values()))
    print(f"{workload.name} on {describe_hw(hw)}")
    print(results_table(results))
    for kind, exc in failed.items():
        print(f"{kind}: not run: {exc}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except AccelsimError as exc:
        print(f"accelsim: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
