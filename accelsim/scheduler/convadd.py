"""The ops of one fused ConvAdd layer: the conv output stays in SRAM for the add.

Unpipelined, each tile loads, converts, adds and stores alone; pipelined, stage s
holds the load of tile s+1, the conv of tile s, the add of tile s-1 and the store
of tile s-2, so add(i) runs beside conv(i+1) as in the design note. Every stage
ends at a barrier.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.schedule import DRAM
from accelsim.scheduler.builder import Builder
from accelsim.scheduler.partition import split_rows
from accelsim.workload import Add, Conv


@dataclass(frozen=True)
class ConvAddBlock:
    """A conv whose only consumer is an add; `residual` is the add's other input."""

    conv: Conv
    add: Add
    residual: str


def convadd_ops(b: Builder, block: ConvAddBlock, splits: int, pipelined: bool, filter_parts: int = 1) -> int:
    """Ops of one ConvAdd block in `splits` output-row parts (times `filter_parts` filter
    chunks, chunk by chunk); returns the stages used.

    Pipelined, tile t (1-based) loads its input rows (halo included) in stage t-1,
    loads its residual and converts in stage t, adds in t+1 and stores in t+2.
    Unpipelined, tile t takes stages 4(t-1) (both loads) to 4(t-1)+3 (store) alone.
    A filter chunk's weights load with its first tile's input (all weights in stage 0
    when there is one chunk); the add of a chunk adds the same channels of the residual.

    A residual that is exactly the tile's loaded input (an identity add around a conv
    that keeps the shape, with no halo) is read from SRAM rather than loaded twice; a
    part whose outputs read only padding loads no input rows.
    """
    conv, add, wl = block.conv, block.add, b.workload
    parts = split_rows(wl.tensors[conv.output].shape[1], splits)
    chunk = -(-conv.cout // filter_parts)
    t = 0
    for j, f0 in enumerate(range(0, conv.cout, chunk), start=1):
        f1 = min(f0 + chunk, conv.cout)
        channels = None if filter_parts == 1 else (f0, f1)
        w_id = "load_w" if filter_parts == 1 else f"load_w{j}"
        w = b.load(w_id, t if pipelined else 4 * t, b.weights(conv, DRAM, (f0, f1)), "weight")
        for rows in parts:
            t += 1
            s = t - 1 if pipelined else 4 * (t - 1)          # this tile's load stage
            conv_reads, conv_deps = [w], [w_id]
            c = b.region(conv.output, "ofmap", rows, channels)
            part = b.tile(conv, c)
            x = b.input_region(part, conv.input, DRAM)
            if x.elements:
                x = b.load(f"load_x{t}", s, x, "ifmap", t)
                conv_reads.insert(0, x)
                conv_deps.insert(0, f"load_x{t}")
            r = b.region(block.residual, "ifmap", rows, channels)
            if r == x:
                res_dep = f"load_x{t}"
            else:
                res_dep = f"load_res{t}"
                b.load(res_dep, s + 1 if pipelined else s, r.moved(DRAM), "ifmap", t)
            b.op(f"conv{t}", "conv", s + 1, conv_reads, [c], conv_deps, part.gemm, tile=t)
            y = b.region(add.output, "ofmap", rows, channels)
            b.op(f"add{t}", "add", s + 2, [c, r], [y], [f"conv{t}", res_dep], tile=t)
            b.store(f"store{t}", s + 3, y, f"add{t}", t)
    return (t + 3) if pipelined else 4 * t
