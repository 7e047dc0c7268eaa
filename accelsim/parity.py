"""SCALE-Sim parity: per layer, SCALE-Sim's compute cycles next to accelsim's simulated cycles.

`compute_cycles` is what SCALE-Sim 3.0.0 reports for the layer (its conventions:
ceil output size, folds serialized, minus one per layer). `cycles` is accelsim's
own simulation of the layer with memory: tiled to fit SRAM, DMA over shared
DRAM, software-pipelined (the `pipelined` schedule). `utilization` is the layer's
real MACs / (rows x cols x cycles).
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.cost import systolic_cycles
from accelsim.hw import Hardware
from accelsim.importers.scalesim import ScaleSimLayer, layer_workload
from accelsim.report import format_table
from accelsim.simulation import simulate


@dataclass(frozen=True)
class LayerParity:
    name: str
    compute_cycles: int
    cycles: int
    utilization: float
    tiles: int
    dram_read_bytes: int
    dram_write_bytes: int


def scalesim_compute_cycles(layer: ScaleSimLayer, hw: Hardware) -> int:
    """The compute cycles SCALE-Sim 3.0.0 reports for `layer` on `hw`'s array."""
    sa = hw.systolic_array
    return systolic_cycles(layer.scalesim_gemm(), sa.rows, sa.cols, sa.dataflow, folds="scalesim")


def layer_parity(layer: ScaleSimLayer, hw: Hardware) -> LayerParity:
    result = simulate(hw, layer_workload(layer), "pipelined")
    return LayerParity(layer.name, scalesim_compute_cycles(layer, hw), result.total_cycles,
                       result.array_utilization, result.tiles, result.dram_read_bytes,
                       result.dram_write_bytes)


def parity_table(rows: list[LayerParity]) -> str:
    head = ["layer", "SCALE-Sim compute", "accelsim cycles", "ratio", "array util", "tiles",
            "DRAM read B", "DRAM write B"]
    body = [[r.name, f"{r.compute_cycles:,}", f"{r.cycles:,}",
             f"{r.cycles / r.compute_cycles:.2f}" if r.compute_cycles else "-",
             f"{r.utilization:.1%}", str(r.tiles), f"{r.dram_read_bytes:,}", f"{r.dram_write_bytes:,}"]
            for r in rows]
    total_c, total = sum(r.compute_cycles for r in rows), sum(r.cycles for r in rows)
    return format_table(head, body, ["total", f"{total_c:,}", f"{total:,}",
                                     f"{total / total_c:.2f}" if total_c else "-", "", "",
                                     f"{sum(r.dram_read_bytes for r in rows):,}",
                                     f"{sum(r.dram_write_bytes for r in rows):,}"])


def parity_dict(rows: list[LayerParity]) -> dict:
    """The JSON of `accelsim scalesim --json`."""
    return {
        "layers": [{"name": r.name, "compute_cycles": r.compute_cycles, "cycles": r.cycles,
                    "utilization": r.utilization, "tiles": r.tiles, "dram_read_bytes": r.dram_read_bytes,
                    "dram_write_bytes": r.dram_write_bytes} for r in rows],
        "total_compute_cycles": sum(r.compute_cycles for r in rows),
        "total_cycles": sum(r.cycles for r in rows),
    }
