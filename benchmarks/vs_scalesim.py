"""accelsim against SCALE-Sim 3.0.0 on the same ResNet-50 layers and array, CPU time measured in one run.

    python benchmarks/vs_scalesim.py [--layers layer1.0.] [--rows 32 --cols 32 --dataflow os]
                                     [--venv .scalesim-venv] [--repeat 5]

SCALE-Sim runs from its own venv (made on first use, see tools/scalesim_runner.py)
on the ResNet-50 layers whose names start with --layers (all 53 with --layers ''),
with 1024 kB SRAMs and CALC bandwidth; its CPU time is its child process's user +
system time. accelsim simulates the same layers with memory (each layer a one-layer network:
tiled, DMA over shared DRAM, pipelined) on the same array and SRAM sizes (read
from the same .cfg; DRAM from hwconfigs/default.yaml); its CPU time is the best
of --repeat runs of all the layers. Both compute-cycle counts are printed too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import scalesim_runner as runner  # noqa: E402

from accelsim import load_hw  # noqa: E402
from accelsim.importers.scalesim import read_config, read_topology  # noqa: E402
from accelsim.parity import layer_parity  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", default="layer1.0.", help="ResNet-50 layer name prefix")
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--cols", type=int, default=32)
    parser.add_argument("--dataflow", default="os", choices=("os", "ws", "is"))
    parser.add_argument("--venv", type=Path, default=runner.DEFAULT_VENV)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    layers = [ly for ly in read_topology(ROOT / "traces" / "scalesim" / "resnet50.csv")
              if ly.name.startswith(args.layers)]
    if not layers:
        sys.exit(f"no ResNet-50 layer name starts with {args.layers!r}")
    python = runner.ensure_venv(args.venv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        scalesim = runner.run(python, layers, args.rows, args.cols, args.dataflow, work)
        cfg = next(work.glob("*.cfg"))
        hw = read_config(cfg, load_hw(ROOT / "hwconfigs" / "default.yaml"))

    best = float("inf")
    for _ in range(args.repeat):
        start = time.process_time()
        ours = [layer_parity(layer, hw) for layer in layers]
        best = min(best, time.process_time() - start)

    print(f"{len(layers)} ResNet-50 layers ({args.layers}*) on a {args.rows}x{args.cols} "
          f"{args.dataflow.upper()} array; {runner.versions(python)}")
    print(f"{'layer':<22}{'SCALE-Sim compute':>18}{'accelsim compat':>16}{'SCALE-Sim total':>16}"
          f"{'accelsim cycles':>16}")
    for layer, theirs, mine in zip(layers, scalesim.rows, ours, strict=True):
        print(f"{layer.name:<22}{theirs['compute_cycles']:>18,}{mine.compute_cycles:>16,}"
              f"{theirs['total_cycles']:>16,}{mine.cycles:>16,}")
    print(f"SCALE-Sim CPU time: {scalesim.cpu_seconds:.2f} s")
    print(f"accelsim CPU time:  {best:.4f} s (best of {args.repeat}; memory-aware simulation)")
    print(f"ratio:              {scalesim.cpu_seconds / best:,.0f}x")


if __name__ == "__main__":
    main()
