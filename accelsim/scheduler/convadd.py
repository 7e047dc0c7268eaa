"""Schedules for a chain of ConvAdd blocks: serial (unfused), fused, and pipelined.

serial     conv writes its whole output to DRAM, the add reads it back.
fused      one ConvAdd: the conv output stays in SRAM for the add; no overlap.
pipelined  fused, output rows split into N parts; stage s holds
           load of part s+1, conv of part s, add of part s-1, store of part s-2,
           so add(i) runs beside conv(i+1) as in the design note.

Every stage ends at a barrier. Blocks run one after another.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.errors import ScheduleError
from accelsim.schedule import DRAM, Op, Schedule
from accelsim.scheduler.builder import Builder, check_fits, conv_gemm
from accelsim.scheduler.partition import split_rows
from accelsim.workload import Add, Conv, Workload

SCHEDULES = ("serial", "fused", "pipelined")


@dataclass(frozen=True)
class ConvAddBlock:
    """A conv whose only consumer is an add; `residual` is the add's other input."""

    conv: Conv
    add: Add
    residual: str


def is_convadd_chain(workload: Workload) -> bool:
    """Whether the workload is nothing but conv -> add blocks, one after another."""
    try:
        find_blocks(workload)
    except ScheduleError:
        return False
    return True


def find_blocks(workload: Workload) -> list[ConvAddBlock]:
    """Pair every conv with the add that consumes it; anything else is a ScheduleError."""
    blocks, ops = [], iter(workload.ops)
    for conv in ops:
        add = next(ops, None)
        if not (isinstance(conv, Conv) and isinstance(add, Add) and conv.output in add.inputs):
            raise ScheduleError(
                f"op {conv.name!r}: this scheduler runs chains of conv -> add (ConvAdd) blocks; "
                f"expected a conv followed by an add of its output"
            )
        others = [op.name for op in workload.consumers(conv.output) if op is not add]
        if others or add.inputs[0] == add.inputs[1]:
            raise ScheduleError(f"op {conv.name!r}: its output {conv.output!r} is read by "
                                f"{others or [add.name]} besides add {add.name!r}; it cannot fuse")
        residual = add.inputs[1] if add.inputs[0] == conv.output else add.inputs[0]
        blocks.append(ConvAddBlock(conv, add, residual))
    return blocks


def _serial(b: Builder, block: ConvAddBlock, splits: int) -> int:
    conv, add, wl = block.conv, block.add, b.workload
    w = b.load("load_w", 0, b.weights(conv, DRAM), "weight")
    x = b.load("load_x1", 0, b.region(conv.input, DRAM), "ifmap")
    c = b.region(conv.output, "ofmap")
    ho = wl.tensors[conv.output].shape[1]
    b.op("conv1", "conv", 1, [x, w], [c], ["load_x1", "load_w"], conv_gemm(conv, wl, ho))
    b.store("store_c1", 2, c, "conv1")
    c_in = b.load("load_c1", 3, b.region(conv.output, DRAM), "ifmap")
    r = b.load("load_res1", 3, b.region(block.residual, DRAM), "ifmap")
    y = b.region(add.output, "ofmap")
    b.op("add1", "add", 4, [c_in, r], [y], ["load_c1", "load_res1"])
    b.store("store1", 5, y, "add1")
    return 6


def _fused(b: Builder, block: ConvAddBlock, splits: int) -> int:
    return convadd_ops(b, block, 1, pipelined=False)


def _pipelined(b: Builder, block: ConvAddBlock, splits: int) -> int:
    return convadd_ops(b, block, splits, pipelined=True)


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
    height = wl.tensors[conv.input].shape[1]
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
            x = b.region(conv.input, DRAM, conv.input_rows(*rows, height))
            if x.elements:
                x = b.load(f"load_x{t}", s, x, "ifmap")
                conv_reads.insert(0, x)
                conv_deps.insert(0, f"load_x{t}")
            r = b.region(block.residual, "ifmap", rows, channels)
            if r == x:
                res_dep = f"load_x{t}"
            else:
                res_dep = f"load_res{t}"
                b.load(res_dep, s + 1 if pipelined else s, r.moved(DRAM), "ifmap")
            c = b.region(conv.output, "ofmap", rows, channels)
            b.op(f"conv{t}", "conv", s + 1, conv_reads, [c], conv_deps,
                 conv_gemm(conv, wl, rows[1] - rows[0], f1 - f0))
            y = b.region(add.output, "ofmap", rows, channels)
            b.op(f"add{t}", "add", s + 2, [c, r], [y], [f"conv{t}", res_dep])
            b.store(f"store{t}", s + 3, y, f"add{t}")
    return (t + 3) if pipelined else 4 * t


_BUILDERS = {"serial": _serial, "fused": _fused, "pipelined": _pipelined}


def build_schedule(workload: Workload, kind: str = "pipelined", splits: int = 4,
                   element_bytes: int = 1, sram_bytes: dict[str, int] | None = None) -> Schedule:
    """The `kind` schedule of `workload`; `splits` applies to `pipelined` only.

    With `sram_bytes` (buffer -> capacity), a schedule whose live regions in any
    stage exceed a buffer is a ScheduleError, so it never deadlocks at run time.
    """
    if kind not in _BUILDERS:
        raise ScheduleError(f"unknown schedule {kind!r}: expected one of {', '.join(SCHEDULES)}")
    splits = splits if kind == "pipelined" else 1
    blocks = find_blocks(workload)
    ops: list[Op] = []
    stage = 0
    for block in blocks:
        prefix = "" if len(blocks) == 1 else f"{block.add.name}/"
        builder = Builder(workload, prefix, stage)
        try:
            stage += _BUILDERS[kind](builder, block, splits)
        except ScheduleError as exc:
            raise ScheduleError(f"conv {block.conv.name!r}: {exc}") from None
        ops += builder.ops
    schedule = Schedule(kind, workload.name, splits, tuple(sorted(ops, key=lambda op: op.stage)))
    hint = "use more splits" if kind == "pipelined" else "use the pipelined schedule"
    check_fits(schedule, element_bytes, sram_bytes, f"{hint} or a larger buffer")
    return schedule
