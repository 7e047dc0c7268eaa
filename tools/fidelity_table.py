"""Print the ResNet-50 tables of docs/fidelity.md (markdown).

    python tools/fidelity_table.py [--rows 32 --cols 32 --dataflow os]   # per layer
    python tools/fidelity_table.py --summary [--rows 32 --cols 32]       # totals per dataflow

SCALE-Sim's figures come from tests/data/scalesim_compute_cycles.csv (its runs: 1024 kB
SRAMs, CALC bandwidth); accelsim's from simulating each layer on hwconfigs/default.yaml
with the same array and 1024 kB SRAM buffers (each layer a one-layer network), and its
compute-only cycles from `accelsim.cost.systolic_cycles`.
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
from accelsim.cost import fold_shape, systolic_cycles, systolic_folds  # noqa: E402
from accelsim.hw import Hardware  # noqa: E402
from accelsim.importers.scalesim import ScaleSimLayer, read_topology, with_array  # noqa: E402
from accelsim.parity import layer_parity  # noqa: E402

SHAPE = ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride")


def scalesim_rows(rows: int, cols: int, dataflow: str) -> dict[tuple[int, ...], dict]:
    """SCALE-Sim's golden rows on this array and dataflow, by layer shape."""
    with open(ROOT / "tests" / "data" / "scalesim_compute_cycles.csv") as f:
        golden = [r for r in csv.DictReader(line for line in f if not line.startswith("#"))
                  if (int(r["rows"]), int(r["cols"]), r["dataflow"]) == (rows, cols, dataflow)]
    return {tuple(int(r[k]) for k in SHAPE): r for r in golden}


def shape(layer: ScaleSimLayer) -> tuple[int, ...]:
    return tuple(getattr(layer, k) for k in SHAPE)


def machine(rows: int, cols: int, dataflow: str, folds: str = "overlapped") -> Hardware:
    """default.yaml with this array, `folds`, and 1024 kB SRAM buffers (SCALE-Sim's runs)."""
    base = load_hw(ROOT / "hwconfigs" / "default.yaml")
    mib = dataclasses.replace(base.sram.ifmap, size_bytes=1024 * 1024)
    hw = with_array(dataclasses.replace(base, sram=dataclasses.replace(base.sram, ifmap=mib, weight=mib,
                                                                       ofmap=mib)),
                    rows, cols, dataflow)
    return dataclasses.replace(hw, systolic_array=dataclasses.replace(hw.systolic_array, folds=folds))


def layers() -> list[ScaleSimLayer]:
    return read_topology(ROOT / "traces" / "scalesim" / "resnet50.csv")


def per_layer(rows: int, cols: int, dataflow: str) -> None:
    by_shape = scalesim_rows(rows, cols, dataflow)
    hw, serialized = machine(rows, cols, dataflow), machine(rows, cols, dataflow, "serialized")
    print("| layer | SCALE-Sim compute | SCALE-Sim total | accelsim, folds serialized | accelsim "
          "| accelsim / SCALE-Sim total | tiles | accelsim DRAM bytes |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    sums = [0, 0, 0, 0, 0]
    for layer in layers():
        theirs = by_shape[shape(layer)]
        ours, slow = layer_parity(layer, hw), layer_parity(layer, serialized)
        compute, total = int(theirs["compute_cycles"]), int(theirs["total_cycles"])
        dram = ours.dram_bytes
        for i, v in enumerate((compute, total, slow.cycles, ours.cycles, dram)):
            sums[i] += v
        print(f"| {layer.name} | {compute:,} | {total:,} | {slow.cycles:,} | {ours.cycles:,} | "
              f"{ours.cycles / total:.2f} | {ours.tiles} | {dram:,} |")
    print(f"| **total** | **{sums[0]:,}** | **{sums[1]:,}** | **{sums[2]:,}** | **{sums[3]:,}** | "
          f"**{sums[3] / sums[1]:.2f}** | | **{sums[4]:,}** |")


def summary(rows: int, cols: int) -> None:
    """Per dataflow, ResNet-50's 53 convs: SCALE-Sim's and accelsim's totals, compute-only and with memory."""
    print("| dataflow | SCALE-Sim compute | accelsim compute, serialized | accelsim compute, overlapped "
          "| of which streaming (F·T) | folds F | accelsim with memory, serialized "
          "| accelsim with memory, overlapped | overlapped with memory / SCALE-Sim compute |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for dataflow in ("os", "ws", "is"):
        by_shape = scalesim_rows(rows, cols, dataflow)
        hw, serialized = machine(rows, cols, dataflow), machine(rows, cols, dataflow, "serialized")
        s = dict.fromkeys(("scalesim", "ser", "ovl", "stream", "folds", "mem_ser", "mem_ovl"), 0)
        for layer in layers():
            gemm = layer.scalesim_gemm()
            t = fold_shape(gemm, dataflow)[0]
            folds = gemm.groups * systolic_folds(gemm, rows, cols, dataflow)
            s["scalesim"] += int(by_shape[shape(layer)]["compute_cycles"])
            s["ser"] += systolic_cycles(gemm, rows, cols, dataflow, "serialized")
            s["ovl"] += systolic_cycles(gemm, rows, cols, dataflow, "overlapped")
            s["stream"] += folds * t
            s["folds"] += folds
            s["mem_ser"] += layer_parity(layer, serialized).cycles
            s["mem_ovl"] += layer_parity(layer, hw).cycles
        print(f"| {dataflow.upper()} | {s['scalesim']:,} | {s['ser']:,} | {s['ovl']:,} | {s['stream']:,} | "
              f"{s['folds']:,} | {s['mem_ser']:,} | {s['mem_ovl']:,} | {s['mem_ovl'] / s['scalesim']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--cols", type=int, default=32)
    parser.add_argument("--dataflow", default="os")
    parser.add_argument("--summary", action="store_true", help="totals per dataflow instead of per layer")
    args = parser.parse_args()
    if args.summary:
        summary(args.rows, args.cols)
    else:
        per_layer(args.rows, args.cols, args.dataflow)


if __name__ == "__main__":
    main()
