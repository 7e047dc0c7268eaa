"""The ops of one Winograd F(2x2, 3x3) conv layer (`accelsim.winograd`), optionally with its
fused add: the transformed tensors stay in SRAM.

The layer's tile rows (two output rows each) are cut into parts, and its filters into chunks.
Per part: load the input rows it reads (halo included: rows 2a-1 .. 2b of tile rows [a, b)),
`wgin` on the add unit writes V into the ifmap buffer, `conv` (16 batched GEMMs on the array,
reading V and the chunk's U in the weight buffer) writes M into the ofmap buffer at
accumulator width, `wgout` on the add unit reads M (and the residual, when fused) and writes
the output rows, which are stored. A chunk's transformed weights U are made in its first
part's input-transform stage, a stage before its first GEMM: on chip (`on_chip`), its dense
weights g load in that stage and `wgw` on the add unit, waiting for them, writes U from them
into the weight buffer (g's region ends there: g and U are held together only in that
stage, and no two chunks' g ever are; the add unit runs the stage's input or output
transform while g loads); else U loads from DRAM in that stage. So at most two chunks' U
(and one chunk's g) are in the weight buffer at once. With one part and several chunks, the
input is loaded and transformed once and V kept for every chunk; with several parts, each
chunk loads and transforms its parts again.

Pipelined, tile t (1-based) loads in stage t-1, transforms its input in t, multiplies in
t+1, transforms its output in t+2 and stores in t+3: stage s runs the GEMM of tile s-1 on
the array while the add unit runs the input transform of tile s and the output transform
of tile s-2 (both transforms of a tile on the one add unit, so the array and the add unit
work at once). Unpipelined, tile t takes stages 5(t-1) to 5(t-1)+4 alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.schedule import DRAM, Region
from accelsim.scheduler.builder import Builder
from accelsim.scheduler.partition import split_rows
from accelsim.winograd import POINTS, TILE_IN, TILE_OUT, WinogradLayout, products_gemm, tiles
from accelsim.workload import Add, Conv

STAGES = 5
"""Stages of one tile: load, input transform, GEMM, output transform, store."""


@dataclass(frozen=True)
class WinogradBlock:
    """A conv run as Winograd (`layout`), and the add fused after it, if any (`residual`: the
    add's other input); `on_chip`: U made on the add unit from the conv's dense weights
    (`wgw`), else loaded transformed from DRAM."""

    conv: Conv
    layout: WinogradLayout
    add: Add | None = None
    residual: str | None = None
    on_chip: bool = True

    @property
    def output(self) -> str:
        return self.add.output if self.add is not None else self.conv.output


def tile_rows(b: Builder, block: WinogradBlock) -> int:
    """Tile rows of the block's output: ceil(output rows / 2)."""
    _, ho, wo, _ = b.workload.tensors[block.conv.output].shape
    return tiles(ho, wo)[0]


def weight_region(block: WinogradBlock, filters: tuple[int, int], space: str) -> Region:
    """Filters `[a, b)` of U, `[Cout, 4, 4, Cin]`."""
    return Region(block.layout.weight, (filters[0], 0, 0, 0), (filters[1], TILE_IN, TILE_IN, block.conv.cin),
                  space)


def winograd_ops(b: Builder, block: WinogradBlock, row_parts: int, pipelined: bool,
                 filter_parts: int = 1) -> int:
    """Ops of the block in `row_parts` tile-row parts times `filter_parts` filter chunks (chunk
    by chunk); returns the stages used."""
    conv, lay = block.conv, block.layout
    n, ho, wo, _ = b.workload.tensors[conv.output].shape
    ht, wt = tiles(ho, wo)
    parts = split_rows(ht, row_parts)
    chunk = -(-conv.cout // filter_parts)
    fused = block.add is not None and block.residual is not None
    kept: tuple[Region, str] | None = None          # V of the one part, transformed once
    t = 0
    for j, f0 in enumerate(range(0, conv.cout, chunk), start=1):
        f1 = min(f0 + chunk, conv.cout)
        channels = None if filter_parts == 1 else (f0, f1)
        first = t + 1 if pipelined else STAGES * t + 1      # with its first tile's input transform
        if block.on_chip:                 # g loads, then wgw writes U from it, in one stage
            g = b.load(f"load_g{j}", first, b.weights(conv, DRAM, (f0, f1)), "weight")
            w_id, w = f"wgw{j}", weight_region(block, (f0, f1), "weight")
            b.op(w_id, "wgw", first, [g], [w], [f"load_g{j}"])
        else:
            w_id = f"load_w{j}"
            w = b.load(w_id, first, weight_region(block, (f0, f1), DRAM), "weight")
        for ta, tb in parts:
            t += 1
            s = t - 1 if pipelined else STAGES * (t - 1)         # this tile's load stage
            rows = (TILE_OUT * ta, min(TILE_OUT * tb, ho))
            if kept is None:
                x = b.input_region(b.tile(conv, b.region(conv.output, DRAM, rows)), conv.input, DRAM)
                held = b.load(f"load_x{t}", s, x, "ifmap", t)
                v = Region(lay.transformed, (0, ta, 0, 0), (n, tb, wt, POINTS * conv.cin), "ifmap")
                b.op(f"wgin{t}", "wgin", s + 1, [held], [v], [f"load_x{t}"], tile=t)
                v_id = f"wgin{t}"
                if row_parts == 1:
                    kept = v, v_id
            else:
                v, v_id = kept
            m = Region(lay.products, (0, ta, 0, POINTS * f0), (n, tb, wt, POINTS * f1), "ofmap")
            b.op(f"conv{t}", "conv", s + 2, [v, w], [m], [v_id, w_id], products_gemm(m.box, conv.cin), tile=t)
            reads, deps = [m], [f"conv{t}"]
            if fused:
                assert block.residual is not None
                r = b.load(f"load_res{t}", s + 2, b.region(block.residual, DRAM, rows, channels), "ifmap", t)
                reads.append(r)
                deps.append(f"load_res{t}")
            y = b.region(block.output, "ofmap", rows, channels)
            b.op(f"wgout{t}", "wgout", s + 3, reads, [y], deps, tile=t)
            b.store(f"store{t}", s + 4, y, f"wgout{t}", t)
    return t + STAGES - 1 if pipelined else STAGES * t
