"""Silicon area of a machine, mm^2, from its `area` table (docs/energy.md derives the shipped
45 nm table): a pure function of the Hardware.

- conv: rows x cols PEs. A PE holds the MACs of the widest arithmetic it computes: the
  largest, over the datatypes the array supports (`Hardware.dtypes`), of `macs_per_pe` x
  `mac_mm2` (a MAC is one multiplier and its accumulator adder; datapaths are shared between
  datatypes, not summed);
- sram: the three buffers' bytes / 1,024 x `sram_mm2_per_kib`;
- dma: engines x `dma_engine_mm2`;
- add: lanes x `add_lane_mm2`.
Exact: the table's decimals as written (Fractions).
"""

from __future__ import annotations

from fractions import Fraction

from accelsim.cost import exact
from accelsim.energy import per_dtype
from accelsim.hw import SRAM_BUFFERS, Hardware

PARTS = ("conv", "sram", "dma", "add")


def pe_mm2(hw: Hardware) -> Fraction:
    """One PE's area: the largest `macs_per_pe` x `area.mac_mm2` over the array's datatypes;
    ConfigError naming `area.mac_mm2.<dtype>` when the table lacks one of them."""
    assert hw.area is not None
    table = hw.area.mac_mm2
    return max(hw.precision(d).macs_per_pe * per_dtype(table, "area.mac_mm2", d, hw, "the array computes")
               for d in hw.dtypes)


def area_breakdown_mm2(hw: Hardware) -> dict[str, Fraction] | None:
    """Area of each part (PARTS), mm^2; None when `hw` has no area table."""
    table = hw.area
    if table is None:
        return None
    sa = hw.systolic_array
    sram_bytes = sum(hw.buffer(b).size_bytes for b in SRAM_BUFFERS)
    return {"conv": sa.rows * sa.cols * pe_mm2(hw),
            "sram": Fraction(sram_bytes, 1024) * exact(table.sram_mm2_per_kib),
            "dma": hw.dma.engines * exact(table.dma_engine_mm2),
            "add": hw.add_unit.lanes * exact(table.add_lane_mm2)}


def area_mm2(hw: Hardware) -> Fraction | None:
    """The machine's area, mm^2: the sum of its parts; None without an area table."""
    parts = area_breakdown_mm2(hw)
    return None if parts is None else sum(parts.values(), Fraction(0))
