"""The machine's units, in one table: which op kinds each runs, how many at once, how
pictures show it. Every module that names units reads them from here, so a new unit (a
requantize/ReLU unit, a second array) is one more row (and its cycle formula in timing.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from accelsim.hw import Hardware


@dataclass(frozen=True)
class Unit:
    """A unit: its `name`, the op `kinds` it runs, how many ops it runs at once on a machine
    (`engines`), its colour in pictures, and whether its ops move data over DRAM (DMA:
    timed by the DRAM model, drawn as "DMA in" for loads and "DMA out" for stores)."""

    name: str
    kinds: tuple[str, ...]
    colour: str
    engines: Callable[[Hardware], int] = lambda hw: 1
    moves_data: bool = False


TABLE: tuple[Unit, ...] = (
    Unit("conv", ("conv",), "tab:blue"),
    Unit("add", ("add", "pool", "lrn", "softmax", "scale", "wgin", "wgout", "wgw"), "tab:orange"),
    Unit("dma", ("load", "store"), "tab:green", engines=lambda hw: hw.dma.engines, moves_data=True),
)
UNITS: tuple[str, ...] = tuple(u.name for u in TABLE)
BY_NAME: dict[str, Unit] = {u.name: u for u in TABLE}
UNIT_OF_KIND: dict[str, str] = {kind: u.name for u in TABLE for kind in u.kinds}
COMPUTE_UNITS: tuple[str, ...] = tuple(u.name for u in TABLE if not u.moves_data)
DIAGRAM_ROWS: tuple[str, ...] = ("DMA in", *COMPUTE_UNITS, "DMA out")


def engines(hw: Hardware) -> dict[str, int]:
    """Unit name -> ops it runs at once on `hw`."""
    return {u.name: u.engines(hw) for u in TABLE}


def moves_data(unit: str) -> bool:
    """Whether `unit`'s ops are DRAM transfers (timed by the DRAM model, not a cycle formula)."""
    return BY_NAME[unit].moves_data


def diagram_row(kind: str) -> str:
    """The pipeline-diagram row of an op kind: DMA in (loads), DMA out (stores), else its unit."""
    unit = BY_NAME[UNIT_OF_KIND[kind]]
    if unit.moves_data:
        return "DMA in" if kind == "load" else "DMA out"
    return unit.name
