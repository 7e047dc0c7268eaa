"""Print the README's table of what each datatype costs (markdown).

    python tools/datatype_table.py [--hw default] [--workloads resnet50 mobilenetv2]

Each workload runs pipelined on the hardware (default: the shipped default config) in fp32,
bf16, fp16 and int8, as `accelsim run HW WORKLOAD --schedule pipelined --dtype D` runs it,
and in int8 once more with four products per PE per cycle (DP4A-style packing:
`arithmetic.int8.macs_per_pe: 4`). Columns: cycles, DRAM bytes (read + written), energy
(uJ), pJ per MAC (all energy, memory and static included, over the network's MACs), and
the layers that are compute-bound (their MACs over the array take longer than their DRAM
bytes over the bandwidth) with how many of them packing made faster.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accelsim import load_hw, load_workload, simulate  # noqa: E402
from accelsim.hw import Arithmetic, Hardware, Precision  # noqa: E402
from accelsim.options import RunOptions  # noqa: E402

DTYPES = ("fp32", "bf16", "fp16", "int8")


def packed(hw: Hardware, macs_per_pe: int = 4) -> Hardware:
    """`hw` with int8 at `macs_per_pe` products per PE per cycle."""
    table = hw.arithmetic or Arithmetic()
    int8 = dataclasses.replace(hw.precision("int8"), macs_per_pe=macs_per_pe)
    return dataclasses.replace(hw, arithmetic=dataclasses.replace(table, int8=Precision(int8.macs_per_pe,
                                                                                        int8.accumulator)))


def rows(hw: Hardware, name: str) -> list[list[str]]:
    workload = load_workload(name)
    runs = {d: simulate(hw, workload, options=RunOptions(schedule="pipelined", dtype=d)) for d in DTYPES}
    runs["int8 packed x4"] = simulate(packed(hw), workload, options=RunOptions(schedule="pipelined",
                                                                                dtype="int8"))
    bound = [layer.name for layer in runs["int8"].layers() if layer.compute_bound]
    before = {layer.name: layer.cycles for layer in runs["int8"].layers()}
    after = {layer.name: layer.cycles for layer in runs["int8 packed x4"].layers()}
    faster = sum(after[n] < before[n] for n in bound)
    out = []
    for label, r in runs.items():
        energy = r.energy_pj
        out.append([name, label, f"{r.total_cycles:,}", f"{r.dram_bytes:,}",
                    f"{float(energy) / 1e6:,.1f}" if energy is not None else "-",
                    f"{float(energy) / r.macs:.2f}" if energy is not None else "-",
                    f"{float(r.area_mm2):.2f}" if r.area_mm2 is not None else "-",
                    (f"{faster} of {len(bound)} faster" if bound else "-") if label == "int8 packed x4" else
                    (f"{len(bound)} of {len(before)}" if label == "int8" else "")])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hw", default="default")
    parser.add_argument("--workloads", nargs="+", default=["resnet50", "mobilenetv2"])
    args = parser.parse_args()
    hw = load_hw(args.hw)
    print("| workload | datatype | cycles | DRAM bytes | energy (uJ) | pJ/MAC | area (mm^2) | "
          "compute-bound layers |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for name in args.workloads:
        for row in rows(hw, name):
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
