"""The metrics a sweep records for each point: one name, one unit, one definition each (the
Result's own, see accelsim/result.py), as the store's columns and the export's."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from accelsim.result import Result
from accelsim.units import UNITS

METRICS: Mapping[str, str] = MappingProxyType({
    "total_cycles": "cycles",
    "time_us": "us",
    "energy_pj": "pJ",
    "area_mm2": "mm^2",
    "pj_per_mac": "pJ/MAC",
    "dram_read_bytes": "bytes",
    "dram_write_bytes": "bytes",
    "dram_bytes": "bytes",
    "macs": "MACs",
    "array_utilization": "fraction",
    **{f"{unit}_utilization": "fraction" for unit in UNITS},
})
"""Metric name -> unit, in the store's and the export's column order."""


def result_metrics(result: Result) -> dict[str, float | int | None]:
    """Every METRICS entry of `result` (energy and area None without the hardware's tables)."""
    energy, area = result.energy_pj, result.area_mm2
    return {
        "total_cycles": result.total_cycles,
        "time_us": result.time_us,
        "energy_pj": None if energy is None else float(energy),
        "area_mm2": None if area is None else float(area),
        "pj_per_mac": result.pj_per_mac,
        "dram_read_bytes": result.dram_read_bytes,
        "dram_write_bytes": result.dram_write_bytes,
        "dram_bytes": result.dram_bytes,
        "macs": result.macs,
        "array_utilization": result.array_utilization,
        **{f"{unit}_utilization": result.units[unit].utilization for unit in UNITS},
    }
