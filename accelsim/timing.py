"""Cycles of one schedule op on one machine: the formulas of `cost` applied to an op.

A compute op takes the longer of its unit's compute time and the time its
bytes need through each SRAM buffer's port (reads and writes of one buffer
share its port). With ideal memory the ports cost nothing. DRAM transfers
are timed by the engine's DRAM model, not here.
"""

from __future__ import annotations

from accelsim.cost import add_cycles, packed, stream_cycles, systolic_cycles
from accelsim.dtypes import ONE_BYTE, Widths
from accelsim.hw import AddUnit, Hardware
from accelsim.schedule import Op
from accelsim.winograd import input_lane_operations, output_lane_operations, weight_lane_operations

WINOGRAD_KINDS = ("wgin", "wgout", "wgw")
"""The Winograd transforms on the add unit (`accelsim.winograd`)."""
VECTOR_KINDS = ("add", "pool", "lrn", "softmax", "scale", *WINOGRAD_KINDS)


def lane_cycles_per_element(kind: str, window: int, unit: AddUnit, requantizes: bool = False) -> int:
    """Lane operations (one per lane per cycle) per output element of a vector op: an add 1
    (plus `requantize_cycles_per_element` when it `requantizes` an accumulator-width input),
    a scale `scale_cycles_per_element` (default 1: one fused multiply-add),
    a pool its window (kh x kw inputs), an LRN its window of `size` squares and sums plus
    `lrn_cycles_per_element` (scale, power, divide), a softmax `softmax_cycles_per_element`."""
    if kind == "add" and requantizes:
        return window + unit.requantize_cycles_per_element
    if kind == "lrn":
        return window + unit.lrn_cycles_per_element
    if kind == "softmax":
        return unit.softmax_cycles_per_element
    if kind == "scale":
        return unit.scale_cycles_per_element
    return window


def lane_operations(op: Op, hw: Hardware, widths: Widths = ONE_BYTE) -> int:
    """Lane operations a vector op performs on the add unit: its output elements x
    `lane_cycles_per_element` (what its cycles and its energy count); an add that reads an
    input wider than its output (a fused conv's accumulator, `widths`) requantizes it."""
    if op.kind in WINOGRAD_KINDS:
        return winograd_lane_operations(op, hw, widths)
    out_width = widths.of(op.writes[0].tensor)
    wide = op.kind == "add" and any(widths.of(r.tensor) > out_width for r in op.reads)
    return op.writes[0].elements * lane_cycles_per_element(op.kind, op.window, hw.add_unit, wide)


def winograd_lane_operations(op: Op, hw: Hardware, widths: Widths = ONE_BYTE) -> int:
    """Lane operations of a Winograd transform (`accelsim.winograd`): an input transform 2 per
    value of V it writes; a weight transform 21/8 per value of U it writes (42 per 16); an
    output transform 3/2 per value of M it reads (its first read),
    plus per output element `requantize_cycles_per_element` when M is wider than the output
    (an integer run: the add unit requantizes) and 1 when it also reads a residual (a fused
    add)."""
    if op.kind == "wgin":
        return input_lane_operations(op.writes[0].elements)
    if op.kind == "wgw":
        return weight_lane_operations(op.writes[0].elements)
    products, out = op.reads[0], op.writes[0]
    per_output = (len(op.reads) > 1) + (hw.add_unit.requantize_cycles_per_element
                                        if widths.of(products.tensor) > widths.of(out.tensor) else 0)
    return output_lane_operations(products.elements) + out.elements * per_output


def unit_cycles(op: Op, hw: Hardware, macs_per_pe: int = 1, widths: Widths = ONE_BYTE) -> int:
    """Cycles the conv or add unit computes for `op`, ignoring memory: the array's formula for
    its GEMM with `macs_per_pe` products per PE per cycle (`cost.packed`). The add unit
    pools, normalizes and takes softmaxes too: `ceil(outputs x lane_cycles_per_element /
    lanes) + latency_cycles`; an add that reads an input wider than its output (a fused
    conv's accumulator, `widths`) requantizes it."""
    if op.kind == "conv" and op.gemm is not None:
        sa = hw.systolic_array
        return systolic_cycles(packed(op.gemm, macs_per_pe), sa.rows, sa.cols, sa.dataflow, sa.folds)
    if op.kind in VECTOR_KINDS:
        return add_cycles(lane_operations(op, hw, widths), hw.add_unit.lanes, hw.add_unit.latency_cycles)
    raise ValueError(f"op {op.id!r}: {op.kind} is a transfer; its time comes from the DRAM model")


def sram_port_cycles(op: Op, hw: Hardware, widths: Widths = ONE_BYTE) -> int:
    """Cycles the op's SRAM reads and writes (bytes per `widths`) need through the busiest
    buffer port."""
    per_buffer: dict[str, int] = {}
    for region in (*op.sram_reads(), *op.sram_writes()):
        per_buffer[region.space] = per_buffer.get(region.space, 0) + widths.bytes(region)
    return max((stream_cycles(n, hw.buffer(b).bytes_per_cycle) for b, n in per_buffer.items()), default=0)


def compute_op_cycles(op: Op, hw: Hardware, widths: Widths = ONE_BYTE, macs_per_pe: int = 1) -> int:
    """Duration of a conv or add op: its unit's cycles, or its SRAM port time if longer."""
    cycles = unit_cycles(op, hw, macs_per_pe, widths)
    return cycles if hw.ideal_memory else max(cycles, sram_port_cycles(op, hw, widths))


def transfer_bytes(op: Op, widths: Widths = ONE_BYTE) -> int:
    """Bytes a load or store moves across DRAM."""
    return sum(widths.bytes(r) for r in op.reads)
