"""SCALE-Sim 3.0.0's compute cycles of the whole ResNet-50 (53 convs + FC), three ways.

    python tools/resnet50_scalesim_totals.py [--rows 32 --cols 32]
    python tools/resnet50_scalesim_totals.py --run-scalesim [--venv .scalesim-venv] [--jobs 2]

For torchvision's v1.5 ResNet-50 (traces/scalesim/resnet50.csv: stride 2 in the 3x3 of
each stage's first block) and v1 (resnet50_v1.csv: stride 2 in that block's first 1x1),
each followed by its FC layer (resnet50_fc.csv), in OS, WS and IS, the total of:

- "closed form": `accelsim.cost.systolic_cycles(..., folds="scalesim")` per layer;
- "golden": SCALE-Sim's own per-layer figures in tests/data/scalesim_compute_cycles.csv
  (a layer whose shape no golden run covers counts as missing: "-");
- "SCALE-Sim" (with --run-scalesim): SCALE-Sim run on the whole topology, from its own
  venv (tools/scalesim_runner.py; made on first use, needs network for pip).
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


def golden(files: list[list[ScaleSimLayer]], rows: int, cols: int, dataflow: str) -> int | None:
    """The sum of SCALE-Sim's golden per-layer figures, or None if a layer's shape has none."""
    with open(GOLDEN) as f:
        runs = {tuple(str(r[k]) for k in SHAPE): int(r["compute_cycles"])
                for r in csv.DictReader(line for line in f if not line.startswith("#"))
                if (int(r["rows"]), int(r["cols"]), r["dataflow"]) == (rows, cols, dataflow)}
    keys = [tuple(str(getattr(layer, k)) for k in SHAPE) for layers in files for layer in layers]
    return sum(runs[k] for k in keys) if all(k in runs for k in keys) else None


def _run(job: tuple[list[ScaleSimLayer], int, int, str], python: Path, workdir: Path) -> int:
    layers, rows, cols, dataflow = job
    result = runner.run(python, layers, rows, cols, dataflow, workdir)
    return sum(row["compute_cycles"] for row in result.rows)


def scalesim(rows: int, cols: int, venv: Path, jobs: int) -> dict[tuple[str, str], int]:
    """SCALE-Sim's own totals, (version, dataflow) -> cycles, one run per topology file."""
    python = runner.ensure_venv(venv)
    plan = [(version, df, i, layers) for version in NETWORKS for df in DATAFLOWS
            for i, layers in enumerate(network(version))]
    totals: dict[tuple[str, str], int] = {}
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(jobs) as pool:
        futures = [(v, df, pool.submit(_run, (layers, rows, cols, df), python, Path(tmp) / f"{v}_{df}_{i}"))
                   for v, df, i, layers in plan]
        for version, df, future in futures:
            totals[version, df] = totals.get((version, df), 0) + future.result()
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--cols", type=int, default=32)
    parser.add_argument("--run-scalesim", action="store_true", help="also run SCALE-Sim on each topology")
    parser.add_argument("--venv", type=Path, default=runner.DEFAULT_VENV)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    ran = scalesim(args.rows, args.cols, args.venv, args.jobs) if args.run_scalesim else {}
    print(f"ResNet-50, 53 convs + FC, {args.rows}x{args.cols}: SCALE-Sim 3.0.0 compute cycles")
    print(f"{'version':8} {'dataflow':8} {'closed form':>12} {'golden':>12} {'SCALE-Sim':>12}")
    for version in NETWORKS:
        files = network(version)
        for df in DATAFLOWS:
            g = golden(files, args.rows, args.cols, df)
            s = ran.get((version, df))
            print(f"{version:8} {df:8} {closed_form(files, args.rows, args.cols, df):>12,} "
                  f"{'-' if g is None else format(g, ','):>12} {'-' if s is None else format(s, ','):>12}")


if __name__ == "__main__":
    main()
