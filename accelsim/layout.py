"""Where tensors live in DRAM: a concat's inputs written in place, or copied.

A concat joins tensors along channels, the innermost axis of NHWC. An input of a
concat is *placed* when its producer can write it straight into its channel
slice of the concat's output: every DRAM region of it, stored or loaded, is that
slice (per pixel a run of its channels: the same bytes, in strided bursts), and
the concat copies nothing for it. An input is placed when an op of the workload
writes it (a graph input already lies in DRAM where it was given), that op is no
shuffle (whose store permutes the channels of another tensor), and it is an input
of no other concat (a tensor lives in one place). Placing nests: a placed concat
output's own placed inputs lie in the outer concat's output (DenseNet's chain of
concats is one tensor). A concat whose inputs are all placed has no ops: no copy;
the others are copied by DMA, each part loaded and stored into its slice.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.schedule import DRAM, Op, Region
from accelsim.workload import Concat, Shuffle, Workload


@dataclass(frozen=True)
class ConcatLayout:
    """How one concat was laid out: its inputs `placed` (written straight into their channel
    slice of its output) and `copied` (by DMA), in input order; `after`, the layer whose row
    a concat without ops follows in the layer table (the last to write into its output)."""

    name: str
    placed: tuple[str, ...]
    copied: tuple[str, ...]
    after: str = ""

    @property
    def label(self) -> str:
        """"no copy", "copy", or "copy (k of n inputs)"."""
        if not self.copied:
            return "no copy"
        n = len(self.placed) + len(self.copied)
        return "copy" if not self.placed else f"copy ({len(self.copied)} of {n} inputs)"

    @property
    def note(self) -> str:
        """The label and what it means, input by input."""
        said = []
        if self.placed:
            said.append(f"{', '.join(self.placed)} written straight into the output's channel slice by "
                        f"{'its producer' if len(self.placed) == 1 else 'their producers'}")
        if self.copied:
            said.append(f"{', '.join(self.copied)} copied by DMA (loaded, and stored into the output's "
                        "channel slice)")
        return f"concat, {self.label}: {'; '.join(said)}"


def concat_offsets(workload: Workload, tensor: str) -> list[tuple[str, int]]:
    """Every (concat output, channel offset) where `tensor` is a channel slice, through a
    chain of concats, nearest first: the tensors a region of it can be read from or written
    to at that offset."""
    found: list[tuple[str, int]] = []
    todo = [(tensor, 0)]
    while todo:
        t, at = todo.pop(0)
        for op in workload.consumers(t):
            if isinstance(op, Concat):
                offset = at + sum(workload.tensors[i].shape[-1] for i in op.inputs[:op.inputs.index(t)])
                found.append((op.output, offset))
                todo.append((op.output, offset))
    return found


def placeable(workload: Workload) -> dict[str, tuple[str, int]]:
    """The concat inputs that are placed (see the module): input -> (the concat's output,
    channel offset)."""
    writers = {op.output: op for op in workload.ops}
    found: dict[str, tuple[str, int]] = {}
    for op in workload.ops:
        if not isinstance(op, Concat):
            continue
        at = 0
        for t in op.inputs:
            joins = [c for c in workload.consumers(t) if isinstance(c, Concat)]
            if t in writers and not isinstance(writers[t], Shuffle) and len(joins) == 1:
                found[t] = (op.output, at)
            at += workload.tensors[t].shape[-1]
    return found


def resolved(placed: dict[str, tuple[str, int]]) -> dict[str, tuple[str, int]]:
    """`placed` followed to the end of each chain: tensor -> (the tensor it lies in, which is
    not itself placed, channel offset)."""
    out: dict[str, tuple[str, int]] = {}
    for t in placed:
        root, at = t, 0
        while root in placed:
            root, shift = placed[root]
            at += shift
        out[t] = (root, at)
    return out


def in_place(ops: list[Op], where: dict[str, tuple[str, int]]) -> list[Op]:
    """`ops` with every DRAM region of a placed tensor (`where`: tensor -> (the tensor it lies
    in, channel offset)) moved to its slice of that tensor."""
    if not where:
        return ops

    def moved(r: Region) -> Region:
        if r.space != DRAM or r.tensor not in where:
            return r
        root, at = where[r.tensor]
        (*lo, c0), (*hi, c1) = r.start, r.stop
        return Region(root, (*lo, c0 + at), (*hi, c1 + at), DRAM)

    out = []
    for op in ops:
        if any(r.space == DRAM and r.tensor in where for r in (*op.reads, *op.writes)):
            op = op.keep_facts(Op(op.id, op.kind, op.stage, tuple(map(moved, op.reads)),
                                  tuple(map(moved, op.writes)), op.deps, op.gemm, op.window, op.offsets,
                                  op.layer, op.tile))
        out.append(op)
    return out


def concat_layouts(workload: Workload, ops: tuple[Op, ...]) -> tuple[ConcatLayout, ...]:
    """Per concat of the workload, which of its inputs the schedule's ops place (no DRAM
    region names them: they live in the concat's output) and which they copy, and the layer
    of the last op that writes into its slice of the tensor it lies in."""
    named = {r.tensor for op in ops for r in (*op.reads, *op.writes) if r.space == DRAM}
    writes: dict[str, list[tuple[int, int, int, str]]] = {}     # tensor -> (stage, c0, c1, layer)
    for op in ops:
        for w in op.writes:
            if w.space == DRAM:
                writes.setdefault(w.tensor, []).append((op.stage, w.start[-1], w.stop[-1], op.layer))
    layouts: list[ConcatLayout] = []
    for cat in workload.ops:
        if not isinstance(cat, Concat):
            continue
        root, at = cat.output, 0
        if root not in named:
            root, at = next(((t, a) for t, a in concat_offsets(workload, cat.output) if t in named),
                            (root, 0))
        c0, c1 = at, at + workload.tensors[cat.output].shape[-1]
        last = max(((stage, layer) for stage, a, b, layer in writes.get(root, ()) if a < c1 and c0 < b),
                   default=(0, ""), key=lambda found: found[0])
        layouts.append(ConcatLayout(cat.name, tuple(t for t in cat.inputs if t not in named),
                                    tuple(t for t in cat.inputs if t in named), last[1]))
    return tuple(layouts)
