"""Run SCALE-Sim 3.0.0 from its own virtual environment and read its reports.

SCALE-Sim needs numpy<2 and pandas<3, so it never shares accelsim's
environment: `ensure_venv` makes one (default `.scalesim-venv/`, ignored by
git) and every run is a subprocess of that interpreter. Used by
tools/scalesim_golden.py and benchmarks/vs_scalesim.py.
"""

from __future__ import annotations

import csv
import resource
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accelsim.importers.scalesim import ScaleSimLayer  # noqa: E402

PINS = ("scalesim==3.0.0", "numpy<2", "pandas<3")
DEFAULT_VENV = ROOT / ".scalesim-venv"

CFG = """[general]
run_name = {name}

[architecture_presets]
ArrayHeight:    {rows}
ArrayWidth:     {cols}
IfmapSramSzkB:    {ifmap_kb}
FilterSramSzkB:   {filter_kb}
OfmapSramSzkB:    {ofmap_kb}
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : {bandwidth}
Dataflow : {dataflow}
MemoryBanks:   1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: {bandwidth_mode}
UseRamulatorTrace: False
"""


@dataclass(frozen=True)
class Run:
    """One SCALE-Sim invocation: its per-topology-row results and the CPU seconds it used."""

    rows: list[dict]
    cpu_seconds: float


def ensure_venv(path: Path = DEFAULT_VENV) -> Path:
    """The python of a venv holding SCALE-Sim (created and installed on first use)."""
    python = path / "bin" / "python"
    if not python.exists():
        venv.create(path, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
    return python


def versions(python: Path) -> str:
    """`scalesim==X numpy==Y pandas==Z` as installed in that venv."""
    code = ("import importlib.metadata as m; "
            "print(' '.join(f'{p}=={m.version(p)}' for p in ('scalesim', 'numpy', 'pandas')))")
    return subprocess.run([str(python), "-c", code], check=True, capture_output=True,
                          text=True).stdout.strip()


def write_topology(path: Path, layers: list[ScaleSimLayer]) -> bool:
    """Write `layers` in SCALE-Sim's format; True if they are GEMM rows (needs `-i gemm`)."""
    gemm = all(layer.form == "gemm" for layer in layers)
    with open(path, "w") as f:
        if gemm:
            f.write("Layer, M, N, K,\n")
            for layer in layers:
                f.write(f"{layer.name}, {layer.ifmap_h}, {layer.num_filters}, {layer.ifmap_w},\n")
        else:
            f.write("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                    "Num Filter, Strides,\n")
            for ly in layers:
                f.write(f"{ly.name}, {ly.ifmap_h}, {ly.ifmap_w}, {ly.filter_h}, {ly.filter_w}, "
                        f"{ly.channels}, {ly.num_filters}, {ly.stride},\n")
    return gemm


def _write_layout(path: Path, layers: list[ScaleSimLayer]) -> None:
    with open(path, "w") as f:
        f.write("Layer name," + ",".join(f"c{i}" for i in range(20)) + ",\n")
        for layer in layers:
            f.write(f"{layer.name}, 1, 1, 1, 1, 1, 1, 0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 0, 1, 2, 3,\n")


def run(python: Path, layers: list[ScaleSimLayer], rows: int, cols: int, dataflow: str, workdir: Path,
        sram_kb: tuple[int, int, int] = (1024, 1024, 1024), bandwidth: int | None = None) -> Run:
    """Run SCALE-Sim on `layers`; `bandwidth` (words/cycle) selects USER mode, else CALC.

    Each returned row: name, compute_cycles ("Total Cycles"), total_cycles ("Total Cycles
    (incl. prefetch)"), stall_cycles; a depthwise layer's per-channel rows are summed.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    name = f"r{rows}x{cols}_{dataflow}"
    topo, layout, cfg = workdir / "topology.csv", workdir / "layout.csv", workdir / f"{name}.cfg"
    gemm = write_topology(topo, layers)
    _write_layout(layout, layers)
    cfg.write_text(CFG.format(name=name, rows=rows, cols=cols, dataflow=dataflow,
                              ifmap_kb=sram_kb[0], filter_kb=sram_kb[1], ofmap_kb=sram_kb[2],
                              bandwidth=bandwidth or 10, bandwidth_mode="USER" if bandwidth else "CALC"))
    cmd = [str(python), "-m", "scalesim.scale", "-c", str(cfg), "-t", str(topo), "-l", str(layout),
           "-p", str(workdir), "-s", "N"]
    if gemm:
        cmd += ["-i", "gemm"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(workdir / name / "COMPUTE_REPORT.csv") as f:
        report = [[c.strip() for c in r] for r in list(csv.reader(f))[1:] if r]
    out, i = [], 0
    for layer in layers:
        n = layer.channels if layer.depthwise else 1
        part = report[i:i + n]
        i += n
        out.append({"name": layer.name,
                    "total_cycles": sum(int(float(r[1])) for r in part),
                    "compute_cycles": sum(int(float(r[2])) for r in part),
                    "stall_cycles": sum(int(float(r[3])) for r in part)})
    if i != len(report):
        raise RuntimeError(f"{workdir}: {len(report)} report rows for {i} expected")
    return Run(out, cpu)
