"""Cycles of one schedule op on one machine: the formulas of `cost` applied to an op.

A compute op takes the longer of its unit's compute time and the time its
bytes need through each SRAM buffer's port (reads and writes of one buffer
share its port). With ideal memory the ports cost nothing. DRAM transfers
are timed by the engine's DRAM model, not here.
"""

from __future__ import annotations

from accelsim.cost import add_cycles, stream_cycles, systolic_cycles
from accelsim.hw import AddUnit, Hardware
from accelsim.schedule import Op

VECTOR_KINDS = ("add", "pool", "lrn", "softmax", "scale")


def lane_cycles_per_element(kind: str, window: int, unit: AddUnit) -> int:
    """Lane operations (one per lane per cycle) per output element of a vector op: an add 1,
    a scale `scale_cycles_per_element` (default 1: one fused multiply-add),
    a pool its window (kh x kw inputs), an LRN its window of `size` squares and sums plus
    `lrn_cycles_per_element` (scale, power, divide), a softmax `softmax_cycles_per_element`."""
    if kind == "lrn":
        return window + unit.lrn_cycles_per_element
    if kind == "softmax":
        return unit.softmax_cycles_per_element
    if kind == "scale":
        return unit.scale_cycles_per_element
    return window


def lane_operations(op: Op, hw: Hardware) -> int:
    """Lane operations a vector op performs on the add unit: its output elements x
    `lane_cycles_per_element` (what its cycles and its energy count)."""
    return op.writes[0].elements * lane_cycles_per_element(op.kind, op.window, hw.add_unit)


def unit_cycles(op: Op, hw: Hardware) -> int:
    """Cycles the conv or add unit computes for `op`, ignoring memory. The add unit
    pools, normalizes and takes softmaxes too: `ceil(outputs x lane_cycles_per_element /
    lanes) + latency_cycles`."""
    if op.kind == "conv" and op.gemm is not None:
        sa = hw.systolic_array
        return systolic_cycles(op.gemm, sa.rows, sa.cols, sa.dataflow, sa.folds)
    if op.kind in VECTOR_KINDS:
        return add_cycles(lane_operations(op, hw), hw.add_unit.lanes, hw.add_unit.latency_cycles)
    raise ValueError(f"op {op.id!r}: {op.kind} is a transfer; its time comes from the DRAM model")


def sram_port_cycles(op: Op, hw: Hardware) -> int:
    """Cycles the op's SRAM reads and writes need through the busiest buffer port."""
    per_buffer: dict[str, int] = {}
    for region in (*op.sram_reads(), *op.sram_writes()):
        per_buffer[region.space] = per_buffer.get(region.space, 0) + region.elements * hw.element_bytes
    return max((stream_cycles(n, hw.buffer(b).bytes_per_cycle) for b, n in per_buffer.items()), default=0)


def compute_op_cycles(op: Op, hw: Hardware) -> int:
    """Duration of a conv or add op: its unit's cycles, or its SRAM port time if longer."""
    cycles = unit_cycles(op, hw)
    return cycles if hw.ideal_memory else max(cycles, sram_port_cycles(op, hw))


def transfer_bytes(op: Op, hw: Hardware) -> int:
    """Bytes a load or store moves across DRAM."""
    return sum(r.elements for r in op.reads) * hw.element_bytes
