"""Write tests/data/scalesim_compute_cycles.csv: SCALE-Sim 3.0.0's compute cycles, with provenance.

    python tools/scalesim_golden.py [--venv .scalesim-venv] [--jobs 2]

Runs SCALE-Sim (from its own venv, made on first use) on:
- every distinct conv shape of ResNet-50 (traces/scalesim/resnet50.csv) and its FC layer
  as a GEMM, on 32x32 and 128x128 arrays;
- the small shapes of traces/scalesim/shapes.csv (1x1/3x3/5x5/7x7, stride 1 and 2,
  odd channel and filter counts, a depthwise layer, layers smaller than the array)
  on 8x8, 32x32, 128x128, 16x4 and 1x16 arrays;
each in the OS, WS and IS dataflows, and records the "Total Cycles" column of its
COMPUTE_REPORT.csv (a depthwise layer's per-channel rows summed). The test suite
compares every row with accelsim's SCALE-Sim-compatible cycle count; it does not
need SCALE-Sim installed.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scalesim_runner as runner

from accelsim.importers.scalesim import ScaleSimLayer, read_topology

TOPOLOGIES = runner.ROOT / "traces" / "scalesim"
OUT = runner.ROOT / "tests" / "data" / "scalesim_compute_cycles.csv"
DATAFLOWS = ("os", "ws", "is")
COLUMNS = ("topology", "layer", "form", "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels",
           "num_filters", "stride", "rows", "cols", "dataflow", "compute_cycles", "total_cycles",
           "stall_cycles")


def distinct(layers: list[ScaleSimLayer]) -> list[ScaleSimLayer]:
    """The first layer of every distinct shape, in order."""
    seen, out = set(), []
    for layer in layers:
        key = (layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w, layer.channels,
               layer.num_filters, layer.stride, layer.depthwise)
        if key not in seen:
            seen.add(key)
            out.append(layer)
    return out


def plan() -> list[tuple[str, list[ScaleSimLayer], int, int, str]]:
    """(topology, layers, rows, cols, dataflow) for every SCALE-Sim run."""
    resnet = distinct(read_topology(TOPOLOGIES / "resnet50.csv"))
    fc = read_topology(TOPOLOGIES / "resnet50_fc.csv")
    shapes = read_topology(TOPOLOGIES / "shapes.csv")
    jobs = []
    for df in DATAFLOWS:
        for rows, cols in ((32, 32), (128, 128)):
            jobs += [("resnet50", [layer], rows, cols, df) for layer in resnet]
            jobs.append(("resnet50_fc", fc, rows, cols, df))
        for rows, cols in ((8, 8), (32, 32), (128, 128), (16, 4), (1, 16)):
            jobs.append(("shapes", shapes, rows, cols, df))
    # longest first, so two workers finish together: SCALE-Sim's time grows with the cycles
    return sorted(jobs, key=lambda j: -sum(layer.scalesim_gemm().macs for layer in j[1]) / (j[2] * j[3]))


def _run(job, python: Path, tmp: Path, index: int):
    topology, layers, rows, cols, df = job
    result = runner.run(python, layers, rows, cols, df, tmp / f"job{index}")
    return [(topology, layer, rows, cols, df, row) for layer, row in zip(layers, result.rows, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venv", type=Path, default=runner.DEFAULT_VENV)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    python = runner.ensure_venv(args.venv)
    jobs = plan()
    records = []
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(_run, job, python, Path(tmp), i) for i, job in enumerate(jobs)]
        for done, future in enumerate(futures, start=1):
            records += future.result()
            print(f"{done}/{len(jobs)} runs", file=sys.stderr)
    records.sort(key=lambda r: (r[0], r[2], r[3], r[4], r[1].name))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        f.write(f"# SCALE-Sim compute cycles, written by tools/scalesim_golden.py on "
                f"{datetime.date.today().isoformat()}\n")
        f.write(f"# SCALE-Sim venv: {runner.versions(python)}\n")
        f.write("# each run: python -m scalesim.scale -c CFG -t TOPOLOGY -l LAYOUT -p DIR -s N "
                "[-i gemm], CALC bandwidth, 1024 kB SRAMs (tools/scalesim_runner.py)\n")
        f.write("# compute_cycles = COMPUTE_REPORT 'Total Cycles'; total_cycles = 'Total Cycles "
                "(incl. prefetch)'; depthwise (DP) rows summed over channels\n")
        f.write(",".join(COLUMNS) + "\n")
        for topology, ly, rows, cols, df, row in records:
            f.write(",".join(map(str, (
                topology, ly.name, ly.form, ly.ifmap_h, ly.ifmap_w, ly.filter_h, ly.filter_w,
                ly.channels, ly.num_filters, ly.stride, rows, cols, df, row["compute_cycles"],
                row["total_cycles"], row["stall_cycles"]))) + "\n")
    print(f"wrote {len(records)} rows to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
