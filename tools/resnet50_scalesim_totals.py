"""SCALE-Sim 3.0.0's compute cycles of the whole ResNet-50 (53 convs + FC), two ways.

    python tools/resnet50_scalesim_totals.py [--rows 32 --cols 32]
    python tools/resnet50_scalesim_totals.py --run-scalesim [--venv .scalesim-venv] [--jobs 2]

For torchvision's v1.5 ResNet-50 (traces/scalesim/resnet50.csv: stride 2 in the 3x3 of
each stage's first block) and v1 (resnet50_v1.csv: stride 2 in that block's first 1x1),
each followed by its FC layer (resnet50_fc.csv), in OS, WS and IS, the total of:

- "closed form": `accelsim.cost.systolic_cycles(..., folds="scalesim")` per layer;
- "SCALE-Sim": SCALE-Sim's own figure per layer: from tests/data/scalesim_compute_cycles.csv
  (its golden runs of every distinct v1.5 shape) and, with --run-scalesim, from running
  SCALE-Sim on each shape the golden file lacks (v1's strided 1x1 and stride-1 3x3 convs),
  one layer per run, from its own venv (tools/scalesim_runner.py: made on first use, pip
  needs network). Without --run-scalesim a total with a missing layer shows "-".
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scalesim_runner as runner

from accelsim.cost import systolic_cycles
from accelsim.importers.scalesim import ScaleSimLayer, read_topology

TOPOLOGIES = runner.ROOT / "traces" / "scalesim"
GOLDEN = runner.ROOT / "tests" / "data" / "scalesim_compute_cycles.csv"
NETWORKS = {"v1.5": ("resnet50.csv", "resnet50_fc.csv"), "v1": ("resnet50_v1.csv", "resnet50_fc.csv")}
DATAFLOWS = ("os", "ws", "is")
SHAPE = ("form", "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride")


def network(version: str) -> list[list[ScaleSimLayer]]:
    """The topology files of one ResNet-50 version, each a list of layers (SCALE-Sim runs a file)."""
    return [read_topology(TOPOLOGIES / name) for name in NETWORKS[version]]


def closed_form(files: list[list[ScaleSimLayer]], rows: int, cols: int, dataflow: str) -> int:
    return sum(systolic_cycles(layer.scalesim_gemm(), rows, cols, dataflow, folds="scalesim")
               for layers in files for layer in layers)


def key(layer: ScaleSimLayer, rows: int, cols: int, dataflow: str) -> tuple[str, ...]:
    return (*(str(getattr(layer, k)) for k in SHAPE), str(rows), str(cols), dataflow)


def golden() -> dict[tuple[str, ...], int]:
    """SCALE-Sim's golden compute cycles by layer shape, array and dataflow."""
    with open(GOLDEN) as f:
        return {(*(r[k] for k in SHAPE), r["rows"], r["cols"], r["dataflow"]): int(r["compute_cycles"])
                for r in csv.DictReader(line for line in f if not line.startswith("#"))}


def _run(layer: ScaleSimLayer, rows: int, cols: int, dataflow: str, python: Path, workdir: Path) -> int:
    return runner.run(python, [layer], rows, cols, dataflow, workdir).rows[0]["compute_cycles"]


def run_missing(known: dict[tuple[str, ...], int], rows: int, cols: int, venv: Path,
                jobs: int) -> dict[tuple[str, ...], int]:
    """SCALE-Sim's compute cycles of every layer shape of the networks that `known` lacks."""
    missing = {key(ly, rows, cols, df): (ly, df) for version in NETWORKS for files in network(version)
               for ly in files for df in DATAFLOWS if key(ly, rows, cols, df) not in known}
    if not missing:
        return {}
    python = runner.ensure_venv(venv)
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(jobs) as pool:
        futures = {k: pool.submit(_run, ly, rows, cols, df, python, Path(tmp) / f"run{i}")
                   for i, (k, (ly, df)) in enumerate(missing.items())}
        return {k: f.result() for k, f in futures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--cols", type=int, default=32)
    parser.add_argument("--run-scalesim", action="store_true",
                        help="run SCALE-Sim on the layer shapes the golden file lacks")
    parser.add_argument("--venv", type=Path, default=runner.DEFAULT_VENV)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    known = golden()
    if args.run_scalesim:
        known |= run_missing(known, args.rows, args.cols, args.venv, args.jobs)
    print(f"ResNet-50, 53 convs + FC, {args.rows}x{args.cols}: SCALE-Sim 3.0.0 compute cycles")
    print(f"{'version':8} {'dataflow':8} {'closed form':>12} {'SCALE-Sim':>12}")
    for version in NETWORKS:
        files = network(version)
        for df in DATAFLOWS:
            keys = [key(ly, args.rows, args.cols, df) for layers in files for ly in layers]
            theirs = f"{sum(known[k] for k in keys):,}" if all(k in known for k in keys) else "-"
            print(f"{version:8} {df:8} {closed_form(files, args.rows, args.cols, df):>12,} {theirs:>12}")


if __name__ == "__main__":
    main()
