"""Lone conv layers (no fused add), tiled to fit SRAM and software-pipelined.

A layer is cut into tiles: its filters into `filter_parts` chunks and its output
rows into `row_parts` parts, so that the ops built for the tiling fit SRAM as
`Builder.overflow` counts them (pipelined, two tiles' inputs, halo rows
included, and outputs are in flight, and two weight chunks when there are
several; unpipelined, one of each). Of the tilings that fit, the fewest filter
chunks are taken, and the number of row parts whose estimated time
(`estimate_cycles`) is least; when not even one output row fits, one row per
part and the fewest output-column parts that fit
(each reading its columns' horizontal halo). The tiles run filter chunk by
filter chunk; tile t loads its input rows in stage
t, converts in stage t+1 and stores in stage t+2, and a chunk's weights load
with its first tile's input. With a single row part the input is loaded once
and kept for every filter chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from accelsim.cost import packed, systolic_cycles
from accelsim.dtypes import Widths
from accelsim.errors import ScheduleError
from accelsim.hw import Hardware
from accelsim.schedule import DRAM
from accelsim.scheduler.builder import Builder
from accelsim.scheduler.partition import fewest_fitting, fewest_meeting, split_rows
from accelsim.sparsity import sparse_weights
from accelsim.tiling import gemm_of, rows_read
from accelsim.workload import Conv, Tensor, Workload


@dataclass(frozen=True)
class Tiling:
    """How one conv layer is cut: filter chunks x output-row parts x output-column parts."""

    filter_parts: int
    row_parts: int
    col_parts: int = 1

    @property
    def tiles(self) -> int:
        return self.filter_parts * self.row_parts * self.col_parts


def estimate_cycles(conv: Conv, workload: Workload, tiling: Tiling, hw: Hardware,
                    pipelined: bool = True, widths: tuple[int, int, int] = (1, 1, 1),
                    macs_per_pe: int = 1) -> int:
    """A quick estimate of the tiled layer's cycles, DRAM traffic at full bandwidth plus its
    latency when a stage moves data, and a barrier per stage. Pipelined, per stage the longer
    of its conv and its traffic (loads of the next tile, store of the previous); else every
    tile's load, conv and store one after another. `widths`: bytes per element of the input,
    the weights and the output; `macs_per_pe`: the array's packing (`cost.packed`)."""
    n, h, w, c = workload.tensors[conv.input].shape
    _, ho, wo, _ = workload.tensors[conv.output].shape
    (eb, wb, ob), sa = widths, hw.systolic_array
    rate = None if hw.ideal_memory else hw.dram.bytes_per_cycle
    # exact integer arithmetic in units of 1/p cycles, the bandwidth being p/q bytes per cycle
    p, q = (rate.numerator, rate.denominator) if rate else (1, 0)
    latency = hw.dram.latency_cycles * p
    chunk = -(-conv.cout // tiling.filter_parts)
    parts = split_rows(ho, tiling.row_parts)
    _, kh, kw, cin_g = conv.weight_shape
    filter_bytes = Widths(wb, (), sparse_weights(workload, (conv,))).count(conv.weight, kh * kw * cin_g)
    inputs = [n * (b - a) * w * c * eb for a, b in (rows_read(conv, r0, r1, h) for r0, r1 in parts)]  # bytes
    heights = [r1 - r0 for r0, r1 in parts]
    loads: list[int] = []                                   # bytes
    convs: list[int] = []                                   # 1/p cycles
    stores: list[int] = []                                  # bytes
    for f0 in range(0, conv.cout, chunk):
        f = min(chunk, conv.cout - f0)
        cycles = {}                                         # rows -> 1/p cycles
        for rows in set(heights):
            gemm = gemm_of(conv, ((0, 0, 0, 0), (n, rows, wo, f)), workload)
            cycles[rows] = systolic_cycles(packed(gemm, macs_per_pe), sa.rows, sa.cols, sa.dataflow,
                                           sa.folds) * p
        chunk_loads = inputs.copy() if tiling.row_parts > 1 or f0 == 0 else [0] * len(parts)
        chunk_loads[0] += f * filter_bytes
        loads += chunk_loads
        convs += [cycles[rows] for rows in heights]
        stores += [n * rows * wo * f * ob for rows in heights]
    barrier = hw.barrier_cycles * p
    if not pipelined:
        total = sum(convs) + 3 * barrier * len(convs)
        if rate:
            total += sum(latency + moved * q for moved in (*loads, *stores) if moved)
        return -(-total // p)
    # stage s: the conv of tile s, the loads of tile s+1, the store of tile s-1 (tiles 1-based)
    total = barrier * (len(convs) + 2)
    if not rate:
        return -(-(total + sum(convs)) // p)
    moved_per_stage = [ld + st for ld, st in zip([*loads, 0, 0], [0, 0, *stores], strict=True)]
    total += sum(max(cv, latency + moved * q) if moved else cv
                 for cv, moved in zip([0, *convs, 0], moved_per_stage, strict=True))
    return -(-total // p)


def row_part_candidates(fewest: int, rows: int) -> list[int]:
    """Row-part counts worth estimating: the fewest that fit, the next few, then steps of ~1.5x."""
    out, r = [], fewest
    while r <= rows:
        out.append(r)
        r = r + 1 if r < fewest + 4 else max(r + 1, r * 3 // 2)
    return out


def choose_tiling(conv: Conv, workload: Workload, hw: Hardware, pipelined: bool = True,
                  widths: Widths | None = None, macs_per_pe: int = 1) -> Tiling:
    """The fewest filter chunks that fit, then the row parts with the least estimated cycles
    (run pipelined or not, as the schedule will);
    when not even one output row fits, one row per part and the fewest column parts.
    Bytes per element as `widths` says (None: the hardware's `element_bytes`). Worked out
    once per conv shape, tensor shapes and widths, machine, packing and pipelining (the
    tilings that fit once per SRAM size)."""
    shapes = (workload.tensors[conv.input].shape, workload.tensors[conv.output].shape)
    three = (widths.only((conv.input, conv.weight, conv.output)) if widths is not None
             else (hw.element_bytes,) * 3)
    try:
        return _choose_tiling(replace(conv, name="conv", input="x", output="y"), *shapes, hw, pipelined,
                              three, macs_per_pe)
    except ScheduleError as exc:
        raise ScheduleError(f"conv {conv.name!r}: {exc}") from None


def _shapes_only(conv: Conv, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Workload:
    """A workload of just the tensors a conv named conv reads (x, its weights) and writes (y)."""
    return Workload("tiling", {"x": Tensor("x", in_shape), "y": Tensor("y", out_shape),
                               conv.weight: Tensor(conv.weight, conv.weight_shape)}, ())


@lru_cache(maxsize=4096)
def _choose_tiling(conv: Conv, in_shape: tuple[int, ...], out_shape: tuple[int, ...], hw: Hardware,
                   pipelined: bool, widths: tuple[int, int, int], macs_per_pe: int) -> Tiling:
    """`choose_tiling` of a conv named conv, reading x of `in_shape`, writing y of `out_shape`;
    `widths`: bytes per element of x, the weights and y."""
    candidates = _fitting(conv, in_shape, out_shape, tuple(hw.sram_capacity().items()), widths, pipelined)
    if len(candidates) == 1:
        return candidates[0]
    workload = _shapes_only(conv, in_shape, out_shape)
    return min(candidates, key=lambda t: (
        estimate_cycles(conv, workload, t, hw, pipelined, widths, macs_per_pe), t.row_parts))


@lru_cache(maxsize=4096)
def _fitting(conv: Conv, in_shape: tuple[int, ...], out_shape: tuple[int, ...],
             sram: tuple[tuple[str, int], ...], widths: tuple[int, int, int],
             pipelined: bool) -> tuple[Tiling, ...]:
    """The tilings `_choose_tiling` picks from, which depend on the SRAM buffers' bytes (`sram`),
    the bytes per element of x, the weights and y (`widths`) and pipelining only: the fewest
    filter chunks that fit, with the row-part candidates that fit; else the one tiling of the
    fewest column parts. A tiling fits when the ops `conv_layer_ops` makes of it fit
    (`Builder.overflow`, the one SRAM count)."""
    workload = _shapes_only(conv, in_shape, out_shape)
    sizes = Widths(widths[0], (("x", widths[0]), (conv.weight, widths[1]), ("y", widths[2])),
                   sparse_weights(workload, (conv,)))
    capacity = dict(sram)
    ho = workload.tensors[conv.output].shape[1]
    # a grouped conv's filter chunk is whole groups or lies within one (its GEMMs are then
    # whole groups', or one group's filters reading that group's channels)
    max_filter_parts = conv.cout
    per_group = conv.cout // conv.groups

    def aligned(filter_parts: int) -> bool:
        chunk = -(-conv.cout // filter_parts)
        return conv.groups == 1 or chunk % per_group == 0 or per_group % chunk == 0

    def built(tiling: Tiling) -> Builder:
        """The layer's ops in `tiling`, collected with their SRAM lifetimes."""
        b = Builder(workload, "conv", "", 0, sizes)
        conv_layer_ops(b, conv, tiling, pipelined)
        return b

    def peaks(tiling: Tiling) -> dict[str, int]:
        """Most bytes each buffer holds at once when the layer runs in `tiling`."""
        return built(tiling).peaks()

    def fits(tiling: Tiling) -> bool:
        return built(tiling).overflow(capacity) is None

    def weights_fit(filter_parts: int) -> bool:         # the same whatever the row parts
        return aligned(filter_parts) and \
            peaks(Tiling(filter_parts, 1)).get("weight", 0) <= capacity["weight"]

    def input_never_fits() -> bool:
        """The input rows fit the ifmap buffer neither whole (one part) nor one row a part:
        filter chunks leave the input as it is (kept whole for one part; for several, each
        tile's rows, the first part's next to the last's), so no chunk count fits rows (fewer
        parts hold more rows)."""
        return all(peaks(Tiling(1, r)).get("ifmap", 0) > capacity["ifmap"] for r in (1, ho))

    probe = Builder(workload, "conv", "", 0, sizes)

    def output_fits(filter_parts: int, row_parts: int, col_parts: int = 1) -> bool:
        """One tile's output (the first, largest: `Builder.part_bytes`) fits the ofmap
        buffer, as it must for the tiling to fit."""
        return probe.part_bytes("y", (row_parts, col_parts, filter_parts)) <= capacity["ofmap"]

    # no tiling fits: say so before any search (the caller names the layer)
    check_pixel_window(probe, conv, capacity["ifmap"])
    first = fewest_fitting(weights_fit, max_filter_parts)
    if first is None:                       # not even one filter a chunk: no tiling fits
        filt = peaks(Tiling(max_filter_parts, 1)).get("weight", 0)
        raise ScheduleError(f"does not fit SRAM: needs at least "
                            f"{filt:,} bytes in SRAM buffer 'weight' (one filter a "
                            f"chunk), but it holds {capacity['weight']:,}; use a larger buffer")
    wo = workload.tensors[conv.output].shape[2]
    # fewer chunks than these hold more than the ofmap buffer in one output row (or pixel) a tile
    rows_from = fewest_meeting(lambda f: output_fits(f, ho), first, max_filter_parts)
    for filter_parts in range(rows_from or max_filter_parts + 1, max_filter_parts + 1):
        if not aligned(filter_parts):
            continue

        def rows_fit(r: int, f: int = filter_parts) -> bool:
            return fits(Tiling(f, r))

        def rows_held(r: int, f: int = filter_parts) -> bool:
            return output_fits(f, r)

        fewest = fewest_fitting(rows_fit, ho, bound=rows_held)
        if fewest is not None:
            return tuple(t for r in row_part_candidates(fewest, ho) if fits(t := Tiling(filter_parts, r)))
        if filter_parts == rows_from and input_never_fits():
            break                           # to column parts, not every chunk count in turn
    # not even one output row fits: one row per part, and the fewest column parts that fit
    pixels_from = fewest_meeting(lambda f: output_fits(f, ho, wo), first, max_filter_parts)
    for filter_parts in filter(aligned, range(pixels_from or max_filter_parts + 1, max_filter_parts + 1)):
        def cols_fit(c: int, f: int = filter_parts) -> bool:
            return fits(Tiling(f, ho, c))

        def cols_held(c: int, f: int = filter_parts) -> bool:
            return output_fits(f, ho, c)

        cols = fewest_fitting(cols_fit, wo, 2, cols_held)
        if cols is not None:
            return (Tiling(filter_parts, ho, cols),)
    need = peaks(Tiling(max_filter_parts, ho, wo))
    over = ", ".join(f"{b} needs {need[b]:,} of {capacity[b]:,} bytes" for b in need if need[b] > capacity[b])
    raise ScheduleError(f"even one output pixel per tile does not fit SRAM ({over})")


def pixel_window_bytes(b: Builder, conv: Conv) -> int:
    """Bytes of the input window of the conv's middle output pixel for its first filter (a
    grouped conv's: that group's channels): a lower bound on the ifmap buffer any tiling
    needs, as every tile holding that pixel loads at least this window."""
    _, ho, wo, _ = b.workload.tensors[conv.output].shape
    out = b.region(conv.output, DRAM, (ho // 2, ho // 2 + 1), (0, 1), cols=(wo // 2, wo // 2 + 1))
    return b.widths.bytes(b.input_region(b.tile(conv, out), conv.input, DRAM))


def check_pixel_window(b: Builder, conv: Conv, room: int, layer: str = "") -> None:
    """ScheduleError (naming `layer`, if given) when even one output pixel's input window
    (`pixel_window_bytes`) overflows the `room`-byte ifmap buffer: then no tiling fits."""
    need = pixel_window_bytes(b, conv)
    if need > room:
        raise ScheduleError(f"{layer + ' ' if layer else ''}does not fit SRAM: needs at least "
                            f"{need:,} bytes in SRAM buffer 'ifmap' (one output "
                            f"pixel's input window), but it holds {room:,}; use a larger buffer")


def tile_stages(t: int, pipelined: bool) -> tuple[int, int, int]:
    """Stages of tile t's (1-based) load, compute and store: overlapped with the tiles
    before and after it when `pipelined`, else one after another."""
    return (t - 1, t, t + 1) if pipelined else (3 * t - 3, 3 * t - 2, 3 * t - 1)


def conv_layer_ops(b: Builder, conv: Conv, tiling: Tiling, pipelined: bool = True) -> int:
    """Ops of one tiled conv layer; returns the stages used."""
    _, ho, wo, _ = b.workload.tensors[conv.output].shape
    parts = [(rows, cols) for rows in split_rows(ho, tiling.row_parts)
             for cols in split_rows(wo, tiling.col_parts)]
    chunk = -(-conv.cout // tiling.filter_parts)
    kept = None
    if len(parts) == 1:
        whole = b.tile(conv, b.region(conv.output, DRAM))
        kept = b.load("load_x", 0, b.input_region(whole, conv.input, DRAM), "ifmap")
    t = 0
    for j, f0 in enumerate(range(0, conv.cout, chunk), start=1):
        f1 = min(f0 + chunk, conv.cout)
        w = b.load(f"load_w{j}", tile_stages(t + 1, pipelined)[0], b.weights(conv, DRAM, (f0, f1)), "weight")
        for rows, cols in parts:
            t += 1
            load, compute, store = tile_stages(t, pipelined)
            reads, deps = [w], [f"load_w{j}"]
            if kept is not None:
                reads.insert(0, kept)
                deps.insert(0, "load_x")
            out = b.region(conv.output, "ofmap", rows, (f0, f1),
                           cols=cols if tiling.col_parts > 1 else None)
            part = b.tile(conv, out)
            if kept is None:
                x = b.input_region(part, conv.input, DRAM)
                if x.elements:
                    reads.insert(0, b.load(f"load_x{t}", load, x, "ifmap", t))
                    deps.insert(0, f"load_x{t}")
            b.op(f"conv{t}", "conv", compute, reads, [out], deps, part.gemm, tile=t)
            b.store(f"store{t}", store, out, f"conv{t}", t)
    return tile_stages(t, pipelined)[2] + 1
