"""Print the README's table of what each lever makes of a conv on this machine (markdown).

    python tools/levers_table.py [--hw default] [--workloads resnet50 mobilenetv2]

Each workload runs pipelined in int8 on the hardware (default: the shipped default config,
whose array skips 2:4 and 1:4 weights and zero activations) six ways, as the command in the
last column runs it: dense im2col, every conv's weights 2:4 sparse (`--weight-sparsity 2:4`),
every conv input at half density (`--activation-density 0.5`), 30% of the prunable convs'
filters removed by L1 norm (`accelsim prune NET --ratio 0.3`, then run), and every 3x3
stride-1 conv as Winograd F(2x2,3x3) (`--winograd`: its weights transformed on chip; and
with `--winograd-weights dram`: transformed offline and loaded). Columns: cycles, DRAM bytes
(read + written), energy (uJ), each against dense.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accelsim import load_hw, load_workload, simulate  # noqa: E402
from accelsim.options import RunOptions  # noqa: E402
from accelsim.prune import prune, random_norms  # noqa: E402
from accelsim.result import Result  # noqa: E402

LEVERS = (
    ("dense int8 (im2col)", {}, ""),
    ("2:4 weights", {"weight_sparsity": "2:4"}, " --weight-sparsity 2:4"),
    ("50% activation density", {"activation_density": "0.5"}, " --activation-density 0.5"),
    ("pruned 30%", None, ""),
    ("Winograd on the 3x3 convs", {"winograd": True}, " --winograd"),
    ("Winograd, weights transformed offline", {"winograd": True, "winograd_weights": "dram"},
     " --winograd --winograd-weights dram"),
)


def runs(hw_name: str, name: str) -> list[tuple[str, Result, str]]:
    """Each lever's (label, Result, command) for workload `name`."""
    hw, workload = load_hw(hw_name), load_workload(name)
    out = []
    for label, options, flags in LEVERS:
        if options is None:
            smaller = prune(workload, "0.3", random_norms(workload, 0, "int8")).pruned
            result = simulate(hw, smaller, options=RunOptions(schedule="pipelined"))
            command = (f"accelsim prune {name} --ratio 0.3 -o {name}_p30.yaml && "
                       f"accelsim run {hw_name} {name}_p30.yaml --schedule pipelined")
        else:
            result = simulate(hw, workload, options=RunOptions(schedule="pipelined", **options))
            command = f"accelsim run {hw_name} {name} --schedule pipelined{flags}"
        out.append((label, result, command))
    return out


def _change(value: float, base: float) -> str:
    return f"{(value - base) / base:+.1%}" if value != base else "0"


def rows(hw_name: str, name: str) -> list[list[str]]:
    found = runs(hw_name, name)
    base = found[0][1]
    out = []
    for label, r, command in found:
        moved, base_moved = r.dram_bytes, base.dram_bytes
        energy, base_energy = float(r.energy_pj or 0), float(base.energy_pj or 0)
        out.append([name, label, f"{r.total_cycles:,}", _change(r.total_cycles, base.total_cycles),
                    f"{moved:,}", _change(moved, base_moved), f"{energy / 1e6:,.1f}",
                    _change(energy, base_energy), f"`{command}`"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hw", default="default")
    parser.add_argument("--workloads", nargs="+", default=["resnet50", "mobilenetv2"])
    args = parser.parse_args()
    print("| network | mapping | cycles | vs dense | DRAM bytes | vs dense | energy (uJ) | vs dense "
          "| command |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for name in args.workloads:
        for row in rows(args.hw, name):
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
