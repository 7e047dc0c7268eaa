"""Print the README's table of the nine model-zoo CNNs that ship with `onnx` (markdown).

    python tools/onnx_zoo_table.py [--hw default]

Each model is read from the installed onnx package (onnx/backend/test/data/light/,
opset 9) with --skip-unsupported, as `accelsim run default <model> --skip-unsupported`
reads it, and run as that command runs it (serial, fused and pipelined). Columns: the
workload's ops (layers), GMACs, serial and pipelined cycles, the speedup, the pipelined
run's DRAM bytes (read + written) and array utilization, the nodes dropped (op types, with
their counts), and the wall
time of the import and the three simulations (seconds, this machine). A model that does
not import gets the error that stops it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import onnx  # noqa: E402

from accelsim import ConfigError, compare_schedules, load_hw  # noqa: E402
from accelsim.importers.onnx import import_onnx  # noqa: E402
from accelsim.scheduler.fusion import plan_fusion  # noqa: E402

ZOO = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
HEAD = ("model", "layers (ops)", "GMACs", "serial cycles", "pipelined cycles", "speedup", "DRAM bytes",
        "array util", "fused adds", "dropped", "wall s")


def row(path: Path, hw) -> list[str]:
    start = time.perf_counter()
    found = import_onnx(path, skip_unsupported=True)
    results, _ = compare_schedules(hw, found.workload)
    wall = time.perf_counter() - start
    by = {r.schedule: r for r in results}
    serial, piped = by["serial"], by["pipelined"]
    adds = sum(op.kind == "add" for op in found.workload.ops)
    name = path.stem.removeprefix("light_")
    return [name, str(len(found.workload.ops)), f"{found.workload.macs / 1e9:.2f}",
            f"{serial.total_cycles:,}", f"{piped.total_cycles:,}",
            f"{serial.total_cycles / piped.total_cycles:.2f}x",
            f"{piped.dram_bytes:,}", f"{piped.array_utilization:.1%}",
            f"{len(plan_fusion(found.workload).fused)} of {adds}",
            _dropped([s.split(" ")[1].strip("()") for s in found.skipped]), f"{wall:.2f}"]


def _dropped(kinds: list[str]) -> str:
    """The op types dropped, each with its count when more than one ("-" for none)."""
    counts = Counter(kinds)
    return ", ".join(k if n == 1 else f"{k} x{n}" for k, n in counts.items()) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hw", default="default", help="hardware config (default: default)")
    args = parser.parse_args()
    hw = load_hw(args.hw)
    rows, stops = [], []
    for path in sorted(ZOO.glob("light_*.onnx")):
        try:
            rows.append(row(path, hw))
        except ConfigError as exc:
            stops.append(f"- {path.stem.removeprefix('light_')}: {str(exc).split(': ', 1)[1]}")
    print("| " + " | ".join(HEAD) + " |")
    print("|" + "|".join("---" if k == 0 else "---:" for k in range(len(HEAD))) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if stops:
        print("\nNot imported (with --skip-unsupported), the node that stops each:\n")
        print("\n".join(stops))


if __name__ == "__main__":
    main()
