"""Depth-first fusion: a chain of convs run row tile by row tile, the tensors between them
kept in SRAM, never stored to DRAM.

A chain is convs each reading the output of the one before, that output read by no
other op (a bottleneck block: 1x1 -> 3x3 -> 1x1 + add; an inverted residual: expand ->
depthwise -> project + add); its last conv may be fused with its add. A group (a run of
at most `fuse_depth` convs of a chain whose weights fit the weight buffer together) runs
in N row parts of its last output. For part `[a, b)`, the rows each earlier tensor must
supply are found backwards through the chain by the tile model, so the halo grows at
every window. Rows that neighbouring tiles share are either
cached (`cache`: kept in SRAM from the tile that computed them, each tile computing only
rows no tile before it did) or recomputed (`recompute`: each tile computes every row it
needs). The residual is read from the chain input's rows in SRAM when it is that tensor
(an identity shortcut) and they hold it; else its rows load from DRAM.

Op ids: `L<j>.conv<t>` is the conv of the group's layer j (1-based) for tile t.
Stages, pipelined: every weight of the group loads in stage 0 and stays; tile t loads
its input rows in stage t-1 (with tile 1's weights), runs its convs in chain order in
stage t (its residual loading beside them), adds in t+1 and stores in t+2; so the add
of tile t overlaps the convs of tile t+1 as in the design note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accelsim.schedule import DRAM, Region
from accelsim.scheduler.builder import Builder
from accelsim.scheduler.fusion import Layer
from accelsim.scheduler.partition import split_rows
from accelsim.workload import Conv, Workload

HALO_MODES = ("cache", "recompute")
INTERMEDIATE = "ifmap"          # where a group's convs but the last write: the next conv reads it


@dataclass(frozen=True)
class Group:
    """Layers run depth first: each layer's conv reads the output of the layer before;
    only the last may have an add."""

    layers: tuple[Layer, ...]

    @property
    def name(self) -> str:
        return ">".join(layer.name for layer in self.layers)

    @property
    def convs(self) -> tuple[Conv, ...]:
        convs = tuple(layer.op for layer in self.layers)
        assert all(isinstance(c, Conv) for c in convs)
        return convs  # type: ignore[return-value]

    @property
    def output(self) -> str:
        return self.layers[-1].output


def chains(layers: Sequence[Layer], workload: Workload) -> list[list[int]]:
    """Indices into `layers` (in order) of every chain of two or more convs that can run depth
    first: each conv but the first reads the output of the one before, a plain conv (no add)
    whose output nothing else reads."""
    made_by = {layer.op.output: k for k, layer in enumerate(layers)
               if isinstance(layer.op, Conv) and layer.add is None}
    after: dict[int, int] = {}
    for k, layer in enumerate(layers):
        op = layer.op
        if isinstance(op, Conv) and op.input in made_by and len(workload.consumers(op.input)) == 1:
            after[made_by[op.input]] = k
    followers = set(after.values())
    found = []
    for head in sorted(set(after) - followers):
        chain = [head]
        while chain[-1] in after:
            chain.append(after[chain[-1]])
        found.append(chain)
    return found


def rows_needed(b: Builder, convs: Sequence[Conv], rows: tuple[int, int]) -> list[tuple[int, int]]:
    """Per tensor of the chain (its input, then each conv's output), the rows `[lo, hi)` that
    rows `rows` of the last output need, through each conv's window (the tile model)."""
    need = [rows]
    for conv in reversed(convs):
        part = b.tile(conv, b.region(conv.output, DRAM, need[0]))
        box = part.input_box(conv.input)
        need.insert(0, (box[0][1], box[1][1]))
    return need


def _rows(region: Region, lo: int, hi: int) -> Region:
    """Rows `[lo, hi)` of a region (all its other axes)."""
    return Region(region.tensor, (region.start[0], lo, *region.start[2:]),
                  (region.stop[0], hi, *region.stop[2:]), region.space)


def _read(held: list[tuple[Region, str, int]], lo: int, hi: int,
          tile: int = 0) -> tuple[list[Region], list[str], list[Region]]:
    """The parts of the held (region, writer, tile) (latest first) that together hold rows
    `[lo, hi)`, in row order, the ops that wrote them, and those of the parts written by a tile
    before `tile`; all empty when they do not hold them all."""
    left, found = [(lo, hi)], []
    for region, writer, at in reversed(held):
        a, z = region.start[1], region.stop[1]
        rest = []
        for x, y in left:
            if max(x, a) < min(y, z):
                found.append((max(x, a), _rows(region, max(x, a), min(y, z)), writer, at))
            rest += [(p, q) for p, q in ((x, min(y, a)), (max(x, z), y)) if p < q]
        left = rest
        if not left:
            break
    if left:
        return [], [], []
    found.sort(key=lambda f: f[0])
    return ([r for _, r, _, _ in found], list(dict.fromkeys(w for _, _, w, _ in found)),
            [r for _, r, _, at in found if at < tile])


def group_ops(b: Builder, group: Group, parts: int, halo: str = "cache") -> tuple[int, int]:
    """Ops of a depth-first group in `parts` row parts of its last output (module doc);
    `halo`: "cache" or "recompute" the rows neighbouring tiles share. Returns the stages used
    and the bytes tiles read of rows an earlier tile loaded or computed (what caching keeps)."""
    convs, wl = group.convs, b.workload
    last = group.layers[-1]
    tensors = [convs[0].input, *(c.output for c in convs)]
    weights = [(b.load(f"load_w{j}", 0, b.weights(conv, DRAM), "weight"), f"load_w{j}")
               for j, conv in enumerate(convs, start=1)]
    held: list[list[tuple[Region, str, int]]] = [[] for _ in tensors]   # per tensor: (region, writer, tile)
    kept = 0
    done = [0] * len(tensors)                                        # rows held so far, per tensor
    t = 0
    for t, rows in enumerate(split_rows(wl.tensors[group.output].shape[1], parts), start=1):
        need = rows_needed(b, convs, rows)
        for j, (lo, hi) in enumerate(need):
            start = max(lo, done[j]) if halo == "cache" else lo
            if start >= hi:
                continue
            if j == 0:
                x = b.load(f"load_x{t}", t - 1, b.region(tensors[0], DRAM, (start, hi)), "ifmap", t)
                held[0].append((x, f"load_x{t}", t))
            else:
                out = b.region(tensors[j], INTERMEDIATE if j < len(convs) else "ofmap", (start, hi))
                part = b.tile(convs[j - 1], out)
                box = part.input_box(tensors[j - 1])
                reads, deps, earlier = _read(held[j - 1], box[0][1], box[1][1], t)
                kept += sum(b.widths.bytes(r) for r in earlier)
                assert reads, f"rows {box[0][1]}:{box[1][1]} of {tensors[j - 1]} are not held"
                name = f"L{j}.conv{t}"         # layer j of the group, tile t
                b.op(name, "conv", t, [*reads, weights[j - 1][0]], [out], [*deps, weights[j - 1][1]],
                     part.gemm, tile=t)
                held[j].append((out, name, t))
            done[j] = max(done[j], hi)
        c, conv_name, _ = held[-1][-1]
        if last.add is None:
            b.store(f"store{t}", t + 1, c, conv_name, t)
            continue
        residual = last.residual
        assert residual is not None
        res, res_deps, earlier = _read(held[0], *rows, t) if residual == tensors[0] else ([], [], [])
        kept += sum(b.widths.bytes(r) for r in earlier)
        if not res:                          # not the chain's input rows in SRAM: load its rows
            res = [b.load(f"load_res{t}", t, b.region(residual, DRAM, rows), "ifmap", t)]
            res_deps = [f"load_res{t}"]
        y = b.region(last.output, "ofmap", rows)
        b.op(f"add{t}", "add", t + 1, [c, *res], [y], [conv_name, *res_deps], tile=t)
        b.store(f"store{t}", t + 2, y, f"add{t}", t)
    return t + (3 if last.add is not None else 2), kept
