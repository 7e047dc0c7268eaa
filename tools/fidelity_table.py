"""Print the per-layer ResNet-50 table of docs/fidelity.md (markdown).

    python tools/fidelity_table.py [--rows 32 --cols 32 --dataflow os]

SCALE-Sim's figures come from tests/data/scalesim_compute_cycles.csv (its runs: 1024 kB
SRAMs, CALC bandwidth); accelsim's from simulating each layer on hwconfigs/default.yaml
with the same array and 1024 kB SRAM buffers.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accelsim import load_hw  # noqa: E402
from accelsim.importers.scalesim import read_topology, with_array  # noqa: E402
from accelsim.parity import layer_parity  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--cols", type=int, default=32)
    parser.add_argument("--dataflow", default="os")
    args = parser.parse_args()
    with open(ROOT / "tests" / "data" / "scalesim_compute_cycles.csv") as f:
        golden = [r for r in csv.DictReader(line for line in f if not line.startswith("#"))
                  if (int(r["rows"]), int(r["cols"]), r["dataflow"]) == (args.rows, args.cols, args.dataflow)]
    by_shape = {tuple(int(r[k]) for k in ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels",
                                          "num_filters", "stride")): r for r in golden}
    base = load_hw(ROOT / "hwconfigs" / "default.yaml")
    mib = dataclasses.replace(base.sram.ifmap, size_bytes=1024 * 1024)
    hw = with_array(dataclasses.replace(base, sram=dataclasses.replace(base.sram, ifmap=mib, weight=mib,
                                                                       ofmap=mib)),
                    args.rows, args.cols, args.dataflow)
    serialized = dataclasses.replace(hw, systolic_array=dataclasses.replace(hw.systolic_array,
                                                                             folds="serialized"))
    print("| layer | SCALE-Sim compute | SCALE-Sim total | accelsim, folds serialized | accelsim "
          "| accelsim / SCALE-Sim total | tiles | accelsim DRAM bytes |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    sums = [0, 0, 0, 0, 0]
    for layer in read_topology(ROOT / "traces" / "scalesim" / "resnet50.csv"):
        theirs = by_shape[(layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w, layer.channels,
                           layer.num_filters, layer.stride)]
        ours, slow = layer_parity(layer, hw), layer_parity(layer, serialized)
        compute, total = int(theirs["compute_cycles"]), int(theirs["total_cycles"])
        dram = ours.dram_read_bytes + ours.dram_write_bytes
        for i, v in enumerate((compute, total, slow.cycles, ours.cycles, dram)):
            sums[i] += v
        print(f"| {layer.name} | {compute:,} | {total:,} | {slow.cycles:,} | {ours.cycles:,} | "
              f"{ours.cycles / total:.2f} | {ours.tiles} | {dram:,} |")
    print(f"| **total** | **{sums[0]:,}** | **{sums[1]:,}** | **{sums[2]:,}** | **{sums[3]:,}** | "
          f"**{sums[3] / sums[1]:.2f}** | | **{sums[4]:,}** |")


if __name__ == "__main__":
    main()
