"""The scheduler: the fuse pass's layers, each tiled to fit SRAM, run one after another.

A ConvAdd block is a network of one layer; every workload is scheduled here.

Every layer reads its inputs from DRAM and writes its output back (no tensor
stays in SRAM between layers). Per layer:

- a fused ConvAdd runs as the ConvAdd block schedule in N output-row parts: the
  fewest parts (at least min(4, rows) when pipelined) whose live regions fit
  every SRAM buffer, and when its weights exceed the weight buffer, or not even
  one output row per part fits, in filter chunks too (the add then adds those
  channels of the residual); if nothing fits, or only chunks that reload the
  input for more DRAM bytes than running apart, the conv and the add run as two
  layers and the plan says why;
- a conv runs as the tiled conv-layer schedule (filter chunks x row parts);
- a gemm runs as the 1x1 conv it is;
- a concat's inputs that can be placed (`layout.placeable`) are written straight into
  their channel slice of its output by their producers (every DRAM region of such an
  input is moved to that slice, `layout.in_place`); a concat whose inputs are all placed
  has no ops (no copy). Its other inputs are copied by DMA: each one's part of an
  output part is loaded into the ifmap buffer and stored into its channel slice of the
  output (no compute op, so two stages a part: load, store; pipelined, part t+1 loads
  while part t stores), in row (column, channel) parts as an add;
- an add, pool, LRN, softmax or scale runs on the add unit in the fewest row parts that
  fit (one row per part in column parts when one row does not fit, and in
  channel parts when one output pixel does not: an LRN's parts load their
  channel halo, a softmax is never split by channel, as each output reads every
  channel of its pixel, a scale's parts each load their channels' constants into
  the weight buffer).

Kinds: `serial` (nothing fused, no overlap between tiles), `fused` (ConvAdd
fused, no overlap), `pipelined` (fused, and tile t+1 loads while tile t
computes and tile t-1 stores).

`splits` fixes the output-row parts of every layer (at most its rows; filter,
column and channel parts are still chosen to fit), `parts` those of named layers; a
fixed count that does not fit SRAM is an error naming the layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from accelsim.dtypes import ONE_BYTE, Widths, run_widths
from accelsim.errors import ScheduleError
from accelsim.hw import Hardware
from accelsim.layout import concat_layouts, in_place, placeable, resolved
from accelsim.limits import MAX_OPS, check_ops, check_schedule_ops
from accelsim.placement import places_within
from accelsim.schedule import DRAM, Op, OpKind, Region, Schedule
from accelsim.scheduler.builder import Builder
from accelsim.scheduler.conv_layer import (
    Tiling,
    check_pixel_window,
    choose_tiling,
    conv_layer_ops,
    row_part_candidates,
    tile_stages,
)
from accelsim.scheduler.convadd import ConvAddBlock, convadd_ops
from accelsim.scheduler.depthfirst import HALO_MODES, Group, chains, group_ops
from accelsim.scheduler.fusion import Layer, plan_fusion
from accelsim.scheduler.partition import fewest_fitting, fewest_meeting, split_rows
from accelsim.scheduler.search import OBJECTIVES, Built, Candidate, Search, score
from accelsim.scheduler.winograd import WinogradBlock, tile_rows, winograd_ops
from accelsim.sparsity import sparse_weights, sparse_workload
from accelsim.tiling import concat_parts, gemm_of
from accelsim.winograd import WEIGHT_MODES, WinogradLayout, layout, layout_widths, why_not
from accelsim.workload import Add, Concat, Conv, Gemm, Lrn, Pool, Scale, Shuffle, Softmax, VectorOp, Workload

SCHEDULES = ("serial", "fused", "pipelined")
"""The schedule kinds `accelsim run` compares by default."""
KINDS = (*SCHEDULES, "depthfirst")
"""Every schedule kind: the compared ones, and depth-first fusion across layers (`depthfirst`)."""


@dataclass(frozen=True)
class LayerPlan:
    """How one layer was scheduled: `kind` (convadd, conv, add, pool, gemm), its tiles, a note."""

    name: str
    kind: str
    tiles: int
    note: str = ""


def _fits(b: Builder, hw: Hardware) -> bool:
    return b.overflow(hw.sram_capacity()) is None


def _dram_bytes(ops: list[Op], widths: Widths) -> int:
    """Bytes the ops move between DRAM and SRAM."""
    return sum(widths.bytes(r) for op in ops for r in (*op.reads, *op.writes) if r.space == DRAM)


def _fixed_fits(name: str, n: int, b: Builder, hw: Hardware) -> None:
    """ScheduleError naming the buffer, bytes and stage when layer `name`'s ops in the `n` row
    parts it was asked for do not fit SRAM."""
    over = b.overflow(hw.sram_capacity())
    if over is None:
        return
    space, need, have, at = over
    raise ScheduleError(f"layer {name!r} in {n} row parts needs {need:,} bytes in SRAM buffer {space!r} "
                         f"in stage {at}, but it holds {have:,}; use more splits (or --parts LAYER=N) "
                         "or a larger buffer")


def _as_conv(gemm: Gemm, workload: Workload) -> Conv:
    k = workload.tensors[gemm.input].shape[-1]
    return Conv(name=gemm.name, kind="conv", input=gemm.input, output=gemm.output, kh=1, kw=1, cin=k,
                cout=gemm.out_features, weight_sparsity=gemm.weight_sparsity, skip=gemm.skip)


def _vector_kind(op: VectorOp) -> OpKind:
    """The schedule op kind of a workload op on the add unit."""
    if isinstance(op, Pool):
        return "pool"
    if isinstance(op, Lrn):
        return "lrn"
    if isinstance(op, Scale):
        return "scale"
    return "softmax" if isinstance(op, Softmax) else "add"


def _elementwise_ops(b: Builder, op: VectorOp | Concat | Shuffle, parts: int, pipelined: bool,
                     col_parts: int = 1, chan_parts: int = 1, placed: frozenset[str] = frozenset()) -> int:
    """An add, pool, LRN or softmax on the add unit, in `parts` output-row parts (times
    `col_parts` column parts, times `chan_parts` channel parts, channel part by channel part:
    each channel is added or pooled on its own, an LRN part loads its channel halo), or a
    concat's DMA copy in such parts (`_concat_part`: of its inputs not `placed`), or a
    shuffle's (each part's input pixels, all channels, loaded and stored as the output's same
    box); returns the stages used."""
    _, rows_out, cols_out, chans = b.workload.tensors[op.output].shape
    tiles = [(chan, rows, cols) for chan in split_rows(chans, chan_parts)
             for rows in split_rows(rows_out, parts) for cols in split_rows(cols_out, col_parts)]
    t = 0
    for t, (chan, rows, cols) in enumerate(tiles, start=1):
        load, compute, store = tile_stages(t, pipelined)
        out = b.region(op.output, "ofmap", rows, chan if chan_parts > 1 else None,
                       cols=cols if col_parts > 1 else None)
        if isinstance(op, Concat):              # no compute stage: load, then store
            load, store = (t - 1, t) if pipelined else (2 * t - 2, 2 * t - 1)
            _concat_part(b, op, out, t, load, store, placed)
            continue
        if isinstance(op, Shuffle):             # the part's pixels, all channels, stored permuted
            load, store = (t - 1, t) if pipelined else (2 * t - 2, 2 * t - 1)
            held = b.load(f"load{t}", load, Region(op.input, *out.box, DRAM), "ifmap", t)
            dest = Region(op.output, *out.box, DRAM)
            b.op(f"store{t}", "store", store, [held], [dest], [f"load{t}"], tile=t)
            continue
        part = b.tile(op, out)
        kind = _vector_kind(op)
        reads, deps = [], []
        for i, tensor in enumerate(op.inputs):
            name = f"load_{'ab'[i]}{t}"
            reads.append(b.load(name, load, b.input_region(part, tensor, DRAM), "ifmap", t))
            deps.append(name)
        if part.weight is not None:             # a scale's constants for its channels
            w, (start, stop) = part.weight
            reads.append(b.load(f"load_w{t}", load, Region(w, start, stop, DRAM), "weight", t))
            deps.append(f"load_w{t}")
        b.op(f"{kind}{t}", kind, compute, reads, [out], deps, window=part.window, tile=t)
        b.store(f"store{t}", store, out, f"{kind}{t}", t)
    if isinstance(op, Concat | Shuffle):
        return t + 1 if pipelined else 2 * t
    return tile_stages(t, pipelined)[2] + 1


def _concat_part(b: Builder, op: Concat, out: Region, t: int, load: int, store: int,
                 placed: frozenset[str]) -> None:
    """Output part `out` of a concat (tile `t`): each input's part of it (the tile model's
    `concat_parts`) loaded into the ifmap buffer and stored into its channel slice of the
    output, but for the inputs `placed` (their producers wrote them there)."""
    for i, (tensor, box, at) in enumerate(concat_parts(op, out.box, b.workload)):
        if box[0][3] == box[1][3] or tensor in placed:
            continue                              # none of this input's channels, or nothing to copy
        held = b.load(f"load_{i}_{t}", load, Region(tensor, *box, DRAM), "ifmap", t)
        (*lo, c0), (*hi, c1) = box
        dest = Region(op.output, (*lo, c0 + at), (*hi, c1 + at), DRAM)
        b.op(f"store_{i}_{t}", "store", store, [held], [dest], [f"load_{i}_{t}"], tile=t)


def _tensors(layer: Layer) -> tuple[str, ...]:
    """Every tensor a layer's ops can name: its ops' inputs, outputs and weights."""
    names: list[str] = []
    for op in (layer.op, layer.add) if layer.add else (layer.op,):
        names += [*op.inputs, op.output]
        if isinstance(op, Conv | Gemm | Scale):
            names.append(op.weight)
    return tuple(names)


def _unnamed(op: Conv | Gemm | VectorOp | Concat | Shuffle) -> Conv | Gemm | VectorOp | Concat | Shuffle:
    """The op with its own and its tensors' names blanked: what its tiles depend on besides shapes."""
    if isinstance(op, Add):
        return replace(op, name="", inputs=("", ""), output="")
    if isinstance(op, Concat):
        return replace(op, name="", inputs=("",) * len(op.inputs), output="")
    return replace(op, name="", input="", output="")


def _renamed(ops: list[Op], prefix: str, tensors: dict[str, str], new_prefix: str, layer: str,
             shift: int) -> list[Op]:
    """`ops` of another layer of the same key: ids and deps re-prefixed, tensors renamed,
    stages shifted by `shift` (the same ops, or their regions and ids when only stages move)."""
    if prefix == new_prefix and all(op.layer == layer for op in ops[:1]) and all(
            a == b for a, b in tensors.items()):
        if shift == 0:
            return list(ops)
        return [op.keep_facts(Op(op.id, op.kind, op.stage + shift, op.reads, op.writes, op.deps, op.gemm,
                                 op.window, op.offsets, layer, op.tile)) for op in ops]
    cut = len(prefix)
    regions: dict[int, Region] = {}          # id of a region of `ops` -> renamed

    def region(r: Region) -> Region:
        out = regions.get(id(r))
        if out is None:
            out = regions[id(r)] = Region(tensors[r.tensor], r.start, r.stop, r.space)
        return out

    return [op.keep_facts(Op(new_prefix + op.id[cut:], op.kind, op.stage + shift,
                             tuple(map(region, op.reads)), tuple(map(region, op.writes)),
                             tuple(new_prefix + d[cut:] for d in op.deps), op.gemm, op.window, op.offsets,
                             layer, op.tile)) for op in ops]


# layer key (`_Planner.layer_ops`) -> (tensors, id prefix, first stage, ops, stages, plan) of
# the first layer built with that key; cleared when it reaches _BUILT_MOST keys
_BUILT: dict[tuple, tuple[tuple[str, ...], str, int, list[Op], int, LayerPlan]] = {}
_BUILT_MOST = 1024


@dataclass(frozen=True)
class _Planner:
    """Builds each layer's ops: tiling chosen to fit SRAM, or the row parts `splits` (every
    layer) or `parts` (named layers) fix. With `single`, op ids carry no layer prefix."""

    workload: Workload
    hw: Hardware
    pipelined: bool
    scale: int = 1
    parts: dict[str, int] = field(default_factory=dict)
    splits: int | None = None
    single: bool = False
    placed: frozenset[str] = frozenset()     # concat inputs written in place (`layout.placeable`)
    widths: Widths = ONE_BYTE                # bytes per element of each tensor
    macs_per_pe: int = 1                     # the array's packing in the run's datatype
    halo: str = "cache"                      # depth-first groups: cache or recompute shared rows
    winograd: dict[str, WinogradLayout] = field(default_factory=dict)   # conv name -> its Winograd layout
    winograd_weights: str = "chip"           # Winograd U made on chip or loaded (`winograd.WEIGHT_MODES`)

    def prefix(self, name: str) -> str:
        return "" if self.single else f"{name}/"

    def builder(self, name: str, first: int) -> Builder:
        return Builder(self.workload, name, self.prefix(name), first, self.widths)

    def fixed(self, name: str) -> int | None:
        """The row parts fixed for layer `name` (by `parts`, else `splits`), or None."""
        return self.parts.get(name, self.splits)

    def fit(self, name: str, first: int, build, counts: range,
            output: tuple[str, Callable[[int], tuple[int, int, int]]] | None = None) -> tuple | None:
        """(ops, stages, count) for the first count in `counts` whose ops fit SRAM (times
        `scale`, within `counts`, if that fits too), or the fixed count (within `counts`);
        else None. `output`: the tensor the ops hold in the ofmap buffer and its (rows,
        columns, channels) parts at a count; counts whose first part alone overflows the
        buffer (`output_fits`) are not built."""
        fixed = self.fixed(name)
        if fixed is not None:
            n = min(fixed, counts[-1])
            b = self.builder(name, first)
            stages = build(b, n)
            _fixed_fits(name, n, b, self.hw)
            return b.ops, stages, n
        if output is not None:
            tensor, parts = output
            start = fewest_meeting(lambda n: self.output_fits(tensor, parts(n)), counts.start, counts[-1])
            counts = range(counts.stop if start is None else start, counts.stop)
        for n in counts:
            b = self.builder(name, first)
            stages = build(b, n)
            if not _fits(b, self.hw):
                continue
            if self.scale > 1:
                scaled = self.builder(name, first)
                scaled_stages = build(scaled, min(n * self.scale, counts[-1]))
                if _fits(scaled, self.hw):
                    return scaled.ops, scaled_stages, min(n * self.scale, counts[-1])
            return b.ops, stages, n
        return None

    def output_fits(self, tensor: str, parts: tuple[int, int, int]) -> bool:
        """The first (largest) part of `tensor` split in (rows, columns, channels) `parts` fits
        the ofmap buffer (`Builder.part_bytes`), as it must for any tiling making such parts."""
        return self.builder("", 0).part_bytes(tensor, parts) <= self.hw.sram.ofmap.size_bytes

    def _filter_chunks(self, name: str, block: ConvAddBlock) -> range:
        """Filter chunk counts worth trying for a fused conv: from the fewest whose weights fit
        the weight buffer (counted on the block's ops) to twice that; ScheduleError naming layer
        `name`, the buffer and the bytes one filter needs when not even that fits."""
        conv, room = block.conv, self.hw.sram.weight.size_bytes

        def weights_fit(chunks: int) -> bool:             # the same whatever the row parts
            b = self.builder(block.conv.name, 0)
            convadd_ops(b, block, 1, self.pipelined, chunks)
            return b.peaks().get("weight", 0) <= room

        if conv.groups > 1 or weights_fit(1):
            return range(1, 2)
        fewest = fewest_fitting(weights_fit, conv.cout, start=2)
        if fewest is None:                                # not even one filter a chunk fits
            b = self.builder(block.conv.name, 0)
            convadd_ops(b, block, 1, self.pipelined, conv.cout)
            raise ScheduleError(f"layer {name!r} does not fit SRAM: needs at least "
                            f"{b.peaks().get('weight', 0):,} bytes in SRAM "
                                f"buffer 'weight' (one filter a chunk), but it holds {room:,}; use a larger "
                                "buffer")
        return range(fewest, min(2 * fewest, conv.cout) + 1)

    def _more_filter_chunks(self, name: str, block: ConvAddBlock, tried: int) -> int | None:
        """The fewest filter chunks, more than `tried`, with which a fused conv fits SRAM in its
        finest row split (its fixed row parts, else one row per part): each chunk holds fewer
        channels of the conv's output, the residual and the sum. None when no count does (the
        input rows alone overflow: only splitting the input channels would help) or the conv
        is grouped."""
        conv, rows, fixed = block.conv, self.workload.tensors[block.conv.output].shape[1], self.fixed(name)
        parts = rows if fixed is None else min(fixed, rows)
        if conv.groups > 1 or tried >= conv.cout:
            return None

        def finest_fits(chunks: int) -> bool:
            b = self.builder(conv.name, 0)
            convadd_ops(b, block, parts, self.pipelined, chunks)
            return _fits(b, self.hw)

        chunks = fewest_fitting(finest_fits, conv.cout, tried + 1,
                                lambda c: self.output_fits(conv.output, (parts, 1, c)))
        return chunks if chunks is not None and chunks > tried else None

    def layer_ops(self, layer: Layer, first: int,
                  im2col: bool = False) -> tuple[list[Op], int, list[LayerPlan]]:
        """The ops of one layer, the stages they take, and how it was planned: planned and
        built once per layer key (ops, tensor shapes, which tensors are the same, fixed parts,
        SRAM buffer and element bytes, pipelining, scale, and a lone conv's tiling; nothing
        else of the machine shapes the ops), renamed for other layers of that key. A conv
        with a Winograd layout (`winograd`) runs as Winograd (`_winograd_layer`) unless
        `im2col` or it does not fit SRAM (then im2col, its plan's note says why)."""
        if im2col and layer.op.name in self.winograd:
            return replace(self, winograd={}).layer_ops(layer, first)
        if layer.op.name in self.winograd and not im2col:       # not cached: tensors named after the conv
            built, why = self._winograd_layer(layer, first)
            if built is not None:
                return built
            ops, stages, plans = self.layer_ops(layer, first, im2col=True)
            return ops, stages, [replace(plans[0], note=f"im2col, not Winograd: {why}"
                                         + (f"; {plans[0].note}" if plans[0].note else "")), *plans[1:]]
        names = _tensors(layer)
        wl, hw = self.workload, self.hw
        op = layer.op
        tiling = None
        if layer.add is None and isinstance(op, Conv | Gemm):
            tiling = choose_tiling(op if isinstance(op, Conv) else _as_conv(op, wl), wl, hw, self.pipelined,
                                   self.widths, self.macs_per_pe)
        key = (tuple(_unnamed(o) for o in (op, layer.add) if o is not None),
               tuple(wl.tensors[t].shape for t in names), tuple(map(names.index, names)),
               self.fixed(layer.name), tiling, tuple(hw.sram_capacity().items()), self.widths.only(names),
               self.pipelined, self.scale, tuple(t in self.placed for t in op.inputs))
        seen = _BUILT.get(key)
        if seen is not None:
            like, prefix, at, ops, stages, plan = seen
            tensors = dict(zip(like, names, strict=True))
            return (_renamed(ops, prefix, tensors, self.prefix(layer.name), layer.name, first - at), stages,
                    [replace(plan, name=layer.name)])
        ops, stages, plans = self._layer_ops(layer, first)
        if len(plans) == 1 and plans[0].name == layer.name and not plans[0].note:
            if len(_BUILT) >= _BUILT_MOST:
                _BUILT.clear()
            _BUILT[key] = (names, self.prefix(layer.name), first, ops, stages, plans[0])
        return ops, stages, plans

    def _winograd_layer(self, layer: Layer, first: int) -> tuple[tuple[list[Op], int, list[LayerPlan]] | None,
                                                                   str]:
        """A conv (and its fused add) as Winograd (`scheduler/winograd.py`): in the fewest filter
        chunks whose transformed weights (and, made on chip, a chunk's dense weights while it is
        transformed) fit the weight buffer (up to twice that many), the
        fewest tile-row parts that fit SRAM (at least min(4, tile rows) when pipelined in one
        chunk; `splits` and `parts` fix the tile-row parts); and why not, when nothing fits."""
        op = layer.op
        assert isinstance(op, Conv)
        block = WinogradBlock(op, self.winograd[op.name], layer.add, layer.residual,
                              self.winograd_weights == "chip")
        room, pipelined = self.hw.sram.weight.size_bytes, self.pipelined

        def weights_fit(chunks: int) -> bool:             # the same whatever the row parts
            b = self.builder(layer.name, 0)
            winograd_ops(b, block, 1, pipelined, chunks)
            return b.peaks().get("weight", 0) <= room

        fewest = fewest_fitting(weights_fit, op.cout)
        if fewest is None:
            return None, "one filter's transformed weights do not fit the weight buffer"
        rows = tile_rows(self.builder(layer.name, 0), block)
        for chunks in range(fewest, min(2 * fewest, op.cout) + 1):
            counts = range(min(4, rows) if pipelined and chunks == 1 else 1, rows + 1)
            try:
                found = self.fit(layer.name, first,
                                 lambda b, n, c=chunks: winograd_ops(b, block, n, pipelined, c), counts)
            except ScheduleError as exc:
                return None, str(exc)
            if found is not None:
                ops, stages, n = found
                macs = sum(o.gemm.macs for o in ops if o.gemm is not None)
                shape = self.workload.tensors[op.output].shape
                direct = gemm_of(op, ((0, 0, 0, 0), shape), self.workload).macs
                note = (f"Winograd F(2x2,3x3) in {n} tile-row parts x {chunks} filter chunks: {macs:,} MACs "
                        f"against {direct:,} im2col ({direct / macs:.2f}x fewer)")
                return (ops, stages, [LayerPlan(layer.name, "winograd", n * chunks, note)]), ""
        return None, f"does not fit SRAM in {fewest} to {min(2 * fewest, op.cout)} filter chunks"

    def group_parts(self, group: Group, least: int = 4) -> int | None:
        """The fewest row parts (at least min(`least`, rows)) in which a depth-first group fits SRAM,
        live bytes and placed (`places_within`); its fixed parts when `parts` or `splits` fix
        them and they fit. None when none does, or its weights alone overflow the weight buffer
        (they stay for every tile); a ScheduleError when `parts` names the group and its count
        does not fit."""
        b = self.builder(group.name, 0)
        weights = sum(self.widths.bytes(b.weights(conv, DRAM)) for conv in group.convs)
        if weights > self.hw.sram.weight.size_bytes:
            return None
        rows = self.workload.tensors[group.output].shape[1]

        def fits(n: int) -> bool:
            b = self.builder(group.name, 0)
            group_ops(b, group, n, self.halo)
            return self.placed_fit(b)

        fixed = self.fixed(group.name)
        if fixed is not None:
            n = min(fixed, rows)
            if fits(n):
                return n
            if group.name in self.parts:
                raise ScheduleError(f"depth-first group {group.name!r} in {n} row parts does not fit SRAM "
                                    "(its tiles' live bytes or their placement); use more parts")
            return None
        return fewest_fitting(fits, rows, min(least, rows),
                              lambda n: self.output_fits(group.output, (n, 1, 1)))

    def group_layer(self, group: Group, parts: int, first: int) -> tuple[list[Op], int, list[LayerPlan]]:
        """A depth-first group's ops in `parts` row parts, and its plan: what it saves and what
        its shared rows cost (cached: the bytes tiles read from the tile before; recomputed:
        the MACs computed again)."""
        b = self.builder(group.name, first)
        stages, kept = group_ops(b, group, parts, self.halo)
        return b.ops, stages, [self._group_plan(group, parts, b.ops, kept)]

    def _group_plan(self, group: Group, parts: int, ops: list[Op], kept: int) -> LayerPlan:
        """The plan of a depth-first group built in `parts` row parts as `ops`, `kept` bytes read
        back from earlier tiles (`group_ops`)."""
        macs = sum(op.gemm.macs for op in ops if op.gemm is not None)
        once = sum(gemm_of(conv, ((0, 0, 0, 0), self.workload.tensors[conv.output].shape), self.workload).macs
                   for conv in group.convs)
        cost = (f"shared rows recomputed: {macs - once:,} MACs more ({(macs - once) / once:.1%})"
                if self.halo == "recompute" else f"shared rows cached: {kept:,} B read from earlier tiles")
        note = (f"depth first over {len(group.convs)} convs in {parts} row tiles, "
                f"{', '.join(c.output for c in group.convs[:-1])} kept in SRAM; {cost}")
        return LayerPlan(group.name, "depthfirst", parts, note)

    def placed_fit(self, b: Builder) -> bool:
        """The ops `b` collected fit every buffer, live bytes and placed."""
        capacity = self.hw.sram_capacity()
        return b.overflow(capacity) is None and places_within(tuple(b.ops), self.widths, capacity)

    def _tried(self, name: str, build: Callable[[Builder, int], int], counts: list[int],
               label: Callable[[int], str], plan: Callable[[int], LayerPlan]) -> list[Candidate]:
        """Candidates of layer `name`: `build(b, n)` for each count n in `counts` whose ops fit
        SRAM (`_fits`, as the greedy tiling's), each planned as `plan(n)`."""
        found = []
        for n in dict.fromkeys(counts):
            b = self.builder(name, 0)
            stages = build(b, n)
            if _fits(b, self.hw):
                found.append(Candidate(label(n), _built_at_zero(
                    (b.ops, stages, [plan(n)]), partial(_layer_built, self, name, build, n, plan(n)))))
        return found

    def _fits_in(self, name: str, build: Callable[[Builder, int], int], n: int) -> bool:
        b = self.builder(name, 0)
        build(b, n)
        return _fits(b, self.hw)

    def candidates(self, layer: Layer) -> list[Candidate]:
        """Other ways than the greedy one to tile a layer, for the search: a lone conv's filter
        chunks (the greedy count, twice and four times it) x row parts (the fewest that fit,
        the next few, then steps of ~1.5x); a fused ConvAdd's filter chunks (those its
        weights allow) x row parts likewise. None for a layer whose parts are fixed, tiled in
        columns, scaled (`tile_scale`), or of another kind."""
        if self.fixed(layer.name) is not None or self.scale > 1:
            return []
        wl, op, name = self.workload, layer.op, layer.name
        rows = wl.tensors[layer.output].shape[1]
        found: list[Candidate] = []
        if layer.add is None and isinstance(op, Conv | Gemm):
            conv = op if isinstance(op, Conv) else _as_conv(op, wl)
            greedy = choose_tiling(conv, wl, self.hw, self.pipelined, self.widths, self.macs_per_pe)
            if greedy.col_parts > 1:
                return []
            f0 = greedy.filter_parts
            for f in [f0] if conv.groups > 1 else [f for f in (f0, 2 * f0, 4 * f0) if f <= conv.cout]:
                found += self._counted(name, rows, f, conv.output, partial(_conv_tiles, self, conv, f),
                                       partial(_conv_label, f), partial(_planned, name, op.kind, f))
        elif layer.add is not None and isinstance(op, Conv) and layer.residual is not None:
            block = ConvAddBlock(op, layer.add, layer.residual)
            try:
                chunk_counts = list(self._filter_chunks(name, block))
            except ScheduleError:
                return []
            for c in chunk_counts:
                found += self._counted(name, rows, c, op.output, partial(_fused_tiles, self, block, c),
                                       partial(_fused_label, c), partial(_planned, name, "convadd", c))
        return found

    def _counted(self, name: str, rows: int, chunks: int, output: str,
                 build: Callable[[Builder, int], int], label: Callable[[int], str],
                 plan: Callable[[int], LayerPlan]) -> list[Candidate]:
        """Candidates of layer `name` in `chunks` filter chunks: the row-part counts from the
        fewest that fit on (`row_part_candidates`; a pipelined ConvAdd's fewer than the greedy
        minimum of 4 too)."""
        def held(n: int) -> bool:
            return self.output_fits(output, (n, 1, chunks))

        fewest = fewest_fitting(partial(self._fits_in, name, build), rows, bound=held)
        if fewest is None:
            return []
        return self._tried(name, build, row_part_candidates(fewest, rows), label, plan)

    def group_candidates(self, group: Group) -> list[Candidate]:
        """A depth-first group's candidates for the search: each halo mode x row tiles (the
        fewest that fit, even below the greedy minimum of 4, the next few, then steps of ~1.5x)."""
        found = []
        rows = self.workload.tensors[group.output].shape[1]
        for halo in HALO_MODES:
            planner = replace(self, halo=halo)
            fewest = planner.group_parts(group, least=1)
            if fewest is None:
                continue
            for n in row_part_candidates(fewest, rows):
                b = planner.builder(group.name, 0)
                stages, kept = group_ops(b, group, n, halo)
                if planner.placed_fit(b):
                    at_zero = (b.ops, stages, [planner._group_plan(group, n, b.ops, kept)])
                    found.append(Candidate(_group_label(n, halo), _built_at_zero(
                        at_zero, partial(_group_built, planner, group, n)), group=group))
        return found

    def _convadd_layer(self, layer: Layer, first: int) -> tuple[list[Op], int, list[LayerPlan]]:
        """A fused conv and add: in the filter chunks its weights need (`_filter_chunks`), the
        fewest row parts that fit; when no row split fits in those, in the fewest more filter
        chunks with which one does (`_more_filter_chunks`), unless that moves more DRAM bytes
        than the conv and the add apart (each chunk loads the conv's input again; apart, the
        conv's output is stored and loaded back); else the conv and the add run apart, and the
        plan says why."""
        op, add, pipelined = layer.op, layer.add, self.pipelined
        assert isinstance(op, Conv) and add is not None and layer.residual is not None   # fused convs only
        block = ConvAddBlock(op, add, layer.residual)
        rows = self.workload.tensors[op.output].shape[1]
        check_pixel_window(self.builder(op.name, first), op, self.hw.sram.ifmap.size_bytes,
                           f"layer {layer.name!r}")
        chunk_counts = self._filter_chunks(layer.name, block)
        refused = None                        # why the fixed row parts do not fit
        why = "does not fit SRAM in any number of parts"
        for chunks in (*chunk_counts, None):
            more = chunks is None
            if chunks is None:                # rows are not enough in those chunks: more chunks?
                chunks = self._more_filter_chunks(layer.name, block, chunk_counts[-1])
                if chunks is None:
                    break
            # pipelining wants a few tiles: row parts, or filter chunks when the weights need them
            counts = range(min(4, rows) if pipelined and chunks == 1 else 1, rows + 1)

            def parts(n: int, c: int = chunks) -> tuple[int, int, int]:
                return n, 1, c

            try:
                found = self.fit(layer.name, first,
                                 lambda b, n, c=chunks: convadd_ops(b, block, n, pipelined, c), counts,
                                 (op.output, parts))
            except ScheduleError as exc:
                found, refused = None, exc
            if found is None:
                continue
            ops, stages, n = found
            if more:
                try:
                    alone = _dram_bytes(self._apart(layer, first)[0], self._apart_widths(layer))
                except ScheduleError:
                    alone = None
                if alone is not None and alone < _dram_bytes(ops, self.widths):
                    why = (f"fits SRAM only in {chunks} filter chunks, each loading the input again: "
                           f"{_dram_bytes(ops, self.widths):,} B to and from DRAM against {alone:,} B apart")
                    break
            return ops, stages, [LayerPlan(layer.name, "convadd", n * chunks)]
        if refused is not None:
            raise refused
        ops, stages, (conv_plan, *add_plan) = self._apart(layer, first)
        note = f"not fused with {add.name}: {why}; conv and add run apart"
        return ops, stages, [replace(conv_plan, note=note), *add_plan]

    def _apart_widths(self, layer: Layer) -> Widths:
        """The widths with a fused layer's conv output at its datatype's, as when the conv and
        the add run apart (the conv's output requantized as it drains, then stored)."""
        return self.widths.without(layer.op.output)

    def _apart(self, layer: Layer, first: int) -> tuple[list[Op], int, list[LayerPlan]]:
        """The conv and the add of a fused layer as two layers, one after the other."""
        assert layer.add is not None
        apart = replace(self, single=False, widths=self._apart_widths(layer))
        conv_ops, conv_stages, conv_plan = apart.layer_ops(Layer(layer.op), first)
        add_ops, add_stages, add_plan = apart.layer_ops(Layer(layer.add), first + conv_stages)
        return conv_ops + add_ops, conv_stages + add_stages, [*conv_plan, *add_plan]

    def _layer_ops(self, layer: Layer, first: int) -> tuple[list[Op], int, list[LayerPlan]]:
        """`layer_ops`, built."""
        wl, op, pipelined = self.workload, layer.op, self.pipelined
        if layer.add is not None:
            return self._convadd_layer(layer, first)
        if isinstance(op, Conv | Gemm):
            conv = op if isinstance(op, Conv) else _as_conv(op, wl)
            chosen = choose_tiling(conv, wl, self.hw, pipelined, self.widths, self.macs_per_pe)
            rows = wl.tensors[conv.output].shape[1]
            tiling = chosen
            fixed = self.fixed(layer.name)
            if chosen.col_parts == 1 and (fixed is not None or self.scale > 1):
                row_parts = fixed if fixed is not None else chosen.row_parts * self.scale
                tiling = Tiling(chosen.filter_parts, min(rows, row_parts))
            b = self.builder(layer.name, first)
            stages = conv_layer_ops(b, conv, tiling, pipelined)
            if not _fits(b, self.hw):
                if fixed is not None:
                    _fixed_fits(layer.name, tiling.row_parts, b, self.hw)
                tiling = chosen                       # a scaled tiling that does not fit: keep the chosen
                b = self.builder(layer.name, first)
                stages = conv_layer_ops(b, conv, tiling, pipelined)
            return b.ops, stages, [LayerPlan(layer.name, op.kind, tiling.tiles)]
        if isinstance(op, Concat) and self.placed.issuperset(op.inputs):
            return [], 0, [LayerPlan(layer.name, op.kind, 0)]         # no copy: nothing to do
        return self._elementwise_layer(layer.name, op, first)

    def _elementwise_layer(self, name: str, op: VectorOp | Concat | Shuffle,
                           first: int) -> tuple[list[Op], int, list[LayerPlan]]:
        """An add, pool, LRN or softmax in the fewest row parts that fit; when not even one row
        fits, one row per part in the fewest column parts; when not even one output pixel fits
        (or the fixed row parts do not), the fewest channel parts with which some such split
        fits, then the fewest row (column) parts with that many channel parts (never for a
        softmax: each output reads every channel of its pixel)."""
        _, rows, cols, chans = self.workload.tensors[op.output].shape
        pipelined, fixed = self.pipelined, self.fixed(name)

        # a copy's parts pass through the ifmap buffer: no output bound for them
        held = not isinstance(op, Concat | Shuffle)

        def spatial(k: int) -> tuple[list[Op], int, int] | None:
            """(ops, stages, tiles) in `k` channel parts, row parts first, then column parts."""
            found = self.fit(name, first, lambda b, n: _elementwise_ops(b, op, n, pipelined, 1, k,
                                                                        self.placed), range(1, rows + 1),
                             (op.output, lambda n: (n, 1, k)) if held else None)
            if found is not None:
                return found[0], found[1], found[2] * k
            if cols > 1:                  # not even one row: one row per part, in column parts
                found = self.fit(name, first, lambda b, c: _elementwise_ops(b, op, rows, pipelined, c, k,
                                                                          self.placed),
                                 range(2, cols + 1), (op.output, lambda c: (rows, c, k)) if held else None)
            return None if found is None else (found[0], found[1], rows * found[2] * k)

        def finest_fits(k: int) -> bool:
            """Whether the finest split left to choose fits in `k` channel parts: the fixed row
            parts, else one output pixel per part."""
            b = self.builder(name, first)
            if fixed is not None:
                _elementwise_ops(b, op, min(fixed, rows), pipelined, 1, k, self.placed)
            else:
                _elementwise_ops(b, op, rows, pipelined, cols, k, self.placed)
            return _fits(b, self.hw)

        try:
            found, refused = spatial(1), None
        except ScheduleError as exc:      # the fixed row parts do not fit in one channel part
            found, refused = None, exc
        if found is None:
            if isinstance(op, Softmax | Shuffle):
                raise refused or ScheduleError(f"{op.kind} {op.name!r}: even one output pixel does not fit "
                                               f"SRAM with its {chans:,} channels, and a {op.kind} cannot be "
                                               "split by channel (each output pixel reads them all)")
            finest = (min(fixed, rows), 1) if fixed is not None else (rows, cols)
            k = fewest_fitting(finest_fits, chans, 2,
                               (lambda k: self.output_fits(op.output, (*finest, k))) if held else None)
            if k is None:
                raise refused or ScheduleError(f"{op.kind} {op.name!r}: even one output pixel of one "
                                               "channel per part does not fit SRAM")
            found = spatial(k)
        assert found is not None          # the finest split fits in k channel parts
        ops, stages, tiles = found
        return ops, stages, [LayerPlan(name, op.kind, tiles)]


def _winograd_layouts(workload: Workload, dtype: str,
                      hw: Hardware) -> tuple[dict[str, WinogradLayout], list[str]]:
    """Per conv that can run as Winograd in `dtype` (`winograd.why_not`), its layout; and a note
    counting the 3x3 convs that cannot, by reason. An int8 run needs the hardware's int16
    arithmetic (V and U are int16): without it no conv runs as Winograd."""
    found: dict[str, WinogradLayout] = {}
    why: dict[str, int] = {}
    for op in workload.ops:
        if not isinstance(op, Conv) or (op.kh, op.kw) != (3, 3):
            continue
        reason = why_not(op, dtype, hw.dtypes)
        lay = layout(op, workload, dtype) if reason is None else None
        if lay is not None:
            found[op.name] = lay
            continue
        reason = reason or "a workload tensor named as one of its transformed tensors"
        why[reason] = why.get(reason, 0) + 1
    total = len(found) + sum(why.values())
    note = f"Winograd F(2x2,3x3): {len(found)} of {total} 3x3 convs eligible"
    if why:
        note += "; im2col: " + ", ".join(f"{n} with {r}" for r, n in sorted(why.items()))
    return found, [note]


def _built_at_zero(at_zero: Built, make: Callable[[int], Built]) -> Callable[[int], Built]:
    """A candidate's `make`: what was built from stage 0 already (the search measures it
    there), else `make(first)`."""
    def made(first: int) -> Built:
        return at_zero if first == 0 else make(first)
    return made


def _layer_built(planner: _Planner, name: str, build: Callable[[Builder, int], int], n: int, plan: LayerPlan,
                 first: int) -> Built:
    """Layer `name` built as `build(b, n)` from stage `first`, planned as `plan`."""
    b = planner.builder(name, first)
    return b.ops, build(b, n), [plan]


def _conv_tiles(planner: _Planner, conv: Conv, filter_parts: int, b: Builder, row_parts: int) -> int:
    return conv_layer_ops(b, conv, Tiling(filter_parts, row_parts), planner.pipelined)


def _conv_label(filter_parts: int, row_parts: int) -> str:
    return f"{filter_parts} filter chunks x {row_parts} row parts"


def _fused_tiles(planner: _Planner, block: ConvAddBlock, chunks: int, b: Builder, row_parts: int) -> int:
    return convadd_ops(b, block, row_parts, planner.pipelined, chunks)


def _fused_label(chunks: int, row_parts: int) -> str:
    return f"{row_parts} row parts x {chunks} filter chunks"


def _planned(name: str, kind: str, chunks: int, row_parts: int) -> LayerPlan:
    return LayerPlan(name, kind, chunks * row_parts)


def _group_built(planner: _Planner, group: Group, parts: int, first: int) -> Built:
    return planner.group_layer(group, parts, first)


def _depth_first(planner: _Planner, layers: list[Layer], depth: int | None) -> dict[str, Candidate | None]:
    """The depth-first groups of `layers`, by the name of each member: the group's (greedy)
    candidate for its last layer, None for the others. Along each chain (`chains`), greedily
    the longest run of at most `depth` convs that fits SRAM (`_Planner.group_parts`), then
    the next run after it."""
    grouped: dict[str, Candidate | None] = {}
    most = len(layers) if depth is None else depth
    for chain in chains(layers, planner.workload):
        i = 0
        while i < len(chain) - 1:
            for m in range(min(most, len(chain) - i), 1, -1):
                group = Group(tuple(layers[k] for k in chain[i:i + m]))
                n = planner.group_parts(group)
                if n is not None:
                    grouped.update({layer.name: None for layer in group.layers[:-1]})
                    grouped[group.layers[-1].name] = Candidate(
                        _group_label(n, planner.halo), partial(_group_built, planner, group, n), True, group)
                    i += m
                    break
            else:
                i += 1
    return grouped


def _group_label(parts: int, halo: str) -> str:
    return f"depth first, {parts} row tiles, halo {halo}"


def _search(planner: _Planner, layers: list[Layer], greedy: dict[str, Candidate | None], depthfirst: bool,
            depth: int | None, search: Search) -> tuple[dict[str, Candidate | None], list[str]]:
    """The schedule search (`search.py`): every layer's candidates (its greedy tiling first,
    then `_Planner.candidates`) and, depth first, every run of a chain that can be a group
    (`_Planner.group_candidates`), each measured alone; then per layer the best, and per chain
    the partition into runs whose best candidates sum least. Returns what to build per layer
    name (as `_depth_first`) and the notes: what was tried, the margin over the greedy choice,
    and each layer or group the search changed."""
    found_chains = chains(layers, planner.workload) if depthfirst else []
    most = len(layers) if depth is None else depth
    measured: dict[str, list[tuple[Candidate, int, float]]] = {}   # layer or group name -> candidates
    groups: dict[tuple[int, int], Group] = {}                      # (first, last) index of a run -> group
    for layer in layers:
        plan = planner.layer_ops(layer, 0)[2]
        winograd = " as Winograd" if plan[0].kind == "winograd" else ""
        lone = Candidate(f"{sum(p.tiles for p in plan)} tiles{winograd}", partial(planner.layer_ops, layer),
                         greedy=greedy.get(layer.name, False) is False)
        measured[layer.name] = search.measure(layer.name, [lone, *planner.candidates(layer)])
    for chain in found_chains:
        for i in range(len(chain)):
            for j in range(i + 2, min(i + most, len(chain)) + 1):
                group = Group(tuple(layers[k] for k in chain[i:j]))
                held = greedy.get(group.layers[-1].name)
                label = held.label if held is not None and held.group == group else None
                options = [replace(c, greedy=c.label == label) for c in planner.group_candidates(group)]
                if options:
                    groups[(chain[i], chain[j - 1])] = group
                    measured[group.name] = search.measure(group.name, options)
    # the greedy run's totals: the mix objective's scale and the margin's baseline
    base = [(c, e) for options in measured.values() for cand, c, e in options if cand.greedy]
    scale = (sum(c for c, _ in base), sum(e for _, e in base))

    def best(name: str) -> tuple[Candidate, int, float]:
        """The candidate of least objective (the greedy one on a tie)."""
        return min(measured[name], key=lambda o: (score(search.objective, o[1], o[2], scale),
                                                   not o[0].greedy))

    def value(name: str) -> float:
        _, cycles, energy = best(name)
        return score(search.objective, cycles, energy, scale)

    picked: list[str] = []                    # names of the layers and groups chosen
    in_chain = {k for chain in found_chains for k in chain}
    picked += [layer.name for k, layer in enumerate(layers) if k not in in_chain]
    for chain in found_chains:                # least sum over runs, from the chain's end back
        # tail[i]: the least objective of the chain from its i-th conv on, and the runs taken
        tail: list[tuple[float, list[str]]] = [(0.0, [])] * (len(chain) + 1)
        for i in range(len(chain) - 1, -1, -1):
            first = layers[chain[i]].name
            ways = [(value(first) + tail[i + 1][0], [first, *tail[i + 1][1]])]
            ways += [(value(groups[key].name) + tail[j + 1][0], [groups[key].name, *tail[j + 1][1]])
                     for j in range(i + 1, len(chain)) if (key := (chain[i], chain[j])) in groups]
            tail[i] = min(ways, key=lambda way: way[0])
        picked += tail[0][1]
    chosen: dict[str, Candidate | None] = {}
    by_name = {g.name: g for g in groups.values()}
    changed, total = [], [0, 0.0]
    for name in picked:
        cand, cycles, energy = best(name)
        total[0] += cycles
        total[1] += energy
        run = by_name.get(name)
        if run is not None:
            chosen.update({layer.name: None for layer in run.layers[:-1]})
            chosen[run.layers[-1].name] = cand
        else:
            chosen[name] = cand
        if not cand.greedy:
            was = next((c.label for c, _, _ in measured[name] if c.greedy), None)
            changed.append(f"search: {name}: {cand.label} (greedy: {was or 'another depth-first grouping'})")
    tried = search.tried
    simulated = sum(t.cycles is not None for t in tried)
    margin = total[0] / scale[0] - 1 if scale[0] else 0.0
    runs = f" and {len(groups)} depth-first runs" if groups else ""
    notes = [f"search ({search.objective}): tried {len(tried):,} tilings of {len(layers)} layers{runs}, "
             f"simulated {simulated:,} ({len(tried) - simulated:,} pruned by the closed-form bound); best "
             f"{total[0]:,} cycles, {total[1] / 1e6:,.1f} uJ against the greedy tiling's "
             f"{scale[0]:,} cycles, {scale[1] / 1e6:,.1f} uJ ({margin:+.2%} cycles)"]
    return chosen, notes + changed


def network_schedule(workload: Workload, hw: Hardware, kind: str = "pipelined", tile_scale: int = 1,
                     parts: dict[str, int] | None = None,
                     splits: int | None = None,
                     max_ops: int = MAX_OPS, copy_concats: bool = False, dtype: str | None = None,
                     fuse_depth: int | None = None, halo: str = "cache", search: str | None = None,
                     winograd: bool = False, weight_sparsity: str | None = None,
                     activation_density: str | None = None, input_data: str | None = None, seed: int = 0,
                     winograd_weights: str = "chip") -> tuple[Schedule, list[LayerPlan], dict[str, str]]:
    """The schedule of a workload, how each layer was planned, and why adds did not fuse.

    `splits` sets the output-row parts of every layer (at most its rows), `parts` those
    of named layers (a fused layer is named "conv+add"); `tile_scale` multiplies the row
    parts chosen for the other layers (within their rows, where they still fit), for
    studies of finer tiling. More than `max_ops` ops is a LimitError: before tiling when the
    shapes already need more (`limits.check_ops`), else once the ops are built. With
    `copy_concats`, every concat copies all its inputs (none is placed: for comparison).
    `dtype`: the run's datatype, every tensor's (None: the workload's, else the hardware's,
    `Hardware.default_dtype`; a tensor with its own `dtype` keeps it). A fused ConvAdd's
    conv output is held in SRAM at the accumulator's width (`dtypes.run_widths`).
    `depthfirst`: pipelined, and chains of convs run depth first (`depthfirst.py`) in groups
    of at most `fuse_depth` convs (None: as many as fit), their shared rows cached in SRAM
    or recomputed (`halo`). `search` ("cycles", "energy" or "mix"): each layer's tiling (and a
    depth-first chain's groups) chosen by that simulated objective (`search.py`), the
    schedule's notes saying what was tried and the margin over the greedy choice. `winograd`:
    every 3x3 stride-1 conv (`winograd.why_not`) runs as Winograd F(2x2, 3x3) where it fits
    SRAM (`_Planner._winograd_layer`; else im2col, a note says why); a conv a depth-first group
    takes runs im2col in the group; `winograd_weights` (`winograd.WEIGHT_MODES`): its U made
    on chip from the dense weights (chip) or loaded transformed (dram). `weight_sparsity`,
    `activation_density`, `input_data` and `seed`: the run's sparsity, resolved for `hw`
    before anything is planned (`sparsity.sparse_workload`)."""
    workload, sparse_notes = sparse_workload(workload, hw, weight_sparsity, activation_density, input_data,
                                             seed, dtype)
    if kind not in KINDS:
        raise ScheduleError(f"unknown schedule {kind!r}: expected one of {', '.join(KINDS)}")
    if halo not in HALO_MODES:
        raise ScheduleError(f"unknown halo mode {halo!r}: expected one of {', '.join(HALO_MODES)}")
    if fuse_depth is not None and fuse_depth < 1:
        raise ScheduleError(f"fuse depth must be >= 1, got {fuse_depth}")
    if winograd_weights not in WEIGHT_MODES:
        raise ScheduleError(f"unknown Winograd weights {winograd_weights!r}: expected one of "
                            f"{', '.join(WEIGHT_MODES)}")
    if search is not None and search not in OBJECTIVES:
        raise ScheduleError(f"unknown search objective {search!r}: expected one of {', '.join(OBJECTIVES)}")
    if kind == "serial":
        layers, not_fused = [Layer(op) for op in workload.ops], {}
    else:
        plan = plan_fusion(workload)
        layers, not_fused = list(plan.layers), dict(plan.not_fused)
    parts = parts or {}
    named = {layer.name for layer in layers}
    if kind == "depthfirst":                  # a run of a chain may be named as the group it makes
        named |= {">".join(layers[k].name for k in chain[i:j]) for chain in chains(layers, workload)
                  for i in range(len(chain)) for j in range(i + 2, len(chain) + 1)}
    unknown = sorted(set(parts) - named)
    if unknown:
        raise ScheduleError(f"--parts names no layer of this {kind} schedule: {', '.join(unknown)} "
                            f"(layers are named like {layers[0].name!r})")
    if splits is not None:
        if splits < 1:
            raise ScheduleError(f"splits must be >= 1, got {splits}")
        most = max(workload.tensors[layer.output].shape[1] for layer in layers)
        if splits > most:
            raise ScheduleError(f"splits={splits} is more than the {most} output rows to split")
    own = {} if dtype else {t.name: t.dtype for t in workload.tensors.values() if t.dtype}
    dtype = dtype or workload.dtype or hw.default_dtype
    precision = hw.precision(dtype)
    held = (tuple(layer.op.output for layer in layers if layer.add is not None)
            if hw.requantizes_on_add_unit(dtype) else ())
    widths = run_widths(dtype, own, precision.accumulator, held, sparse_weights(workload))
    wg_layouts, winograd_notes = _winograd_layouts(workload, dtype, hw) if winograd else ({}, [])
    if not winograd and winograd_weights != "chip":
        winograd_notes = [f"Winograd weights {winograd_weights}: no effect, no conv runs as Winograd "
                          "without --winograd"]
    if wg_layouts:
        widths = widths.plus(pair for lay in wg_layouts.values()
                             for pair in layout_widths(lay, dtype, precision.accumulator))
    check_ops(workload, hw, kind, max_ops, splits, parts, widths)
    placed = {} if copy_concats else placeable(workload)
    planner = _Planner(workload, hw, kind in ("pipelined", "depthfirst"), tile_scale, parts, splits,
                       len(layers) == 1, frozenset(placed), widths, precision.macs_per_pe, halo, wg_layouts,
                       winograd_weights)
    chosen = _depth_first(planner, layers, fuse_depth) if kind == "depthfirst" else {}
    searched: list[str] = []
    if search is not None:
        found = Search(hw, workload.name, dtype, widths, precision.macs_per_pe, search)
        chosen, searched = _search(planner, layers, chosen, kind == "depthfirst", fuse_depth, found)
    ops, plans, stage = [], [], 0
    for layer in layers:
        if layer.name in chosen:
            cand = chosen[layer.name]
            if cand is None:              # a member of a group: runs with its last layer
                continue
            layer_ops, stages, layer_plans = cand.make(stage)
        else:
            layer_ops, stages, layer_plans = planner.layer_ops(layer, stage)
        ops += layer_ops
        plans += layer_plans
        stage += stages
    check_schedule_ops(len(ops), workload.name, kind, max_ops)
    ops = in_place(ops, resolved(placed))
    layouts = concat_layouts(workload, tuple(ops))
    # a ConvAdd ran fused, or its conv and add ended a depth-first group
    ran_fused = {p.name for p in plans if p.kind in ("convadd", "winograd")} | {
        c.group.layers[-1].name for c in chosen.values() if c is not None and c.group is not None}
    fused = sum(layer.add is not None and layer.name in ran_fused for layer in layers)
    adds = sum(isinstance(op, Add) for op in workload.ops)
    notes = ([f"{fused} of {adds} adds fused with the conv before them"] if kind != "serial" and adds else [])
    notes += [f"{name}: not fused: {why}" for name, why in not_fused.items()]
    notes += [f"{c.name}: {c.note}" for c in layouts]
    notes += [f"{op.name}: channel shuffle as a DMA copy (each part's pixels loaded, all channels, and "
              "stored permuted)" for op in workload.ops if isinstance(op, Shuffle)]
    notes += [f"{p.name}: {p.note}" for p in plans if p.note]
    notes += [*searched, *winograd_notes, *sparse_notes]
    # each layer was checked to fit, and layers take disjoint stages: the whole schedule fits
    for layer in layers:                      # a conv that ran apart from its add drains requantized
        if layer.add is not None and layer.name not in ran_fused:
            widths = widths.without(layer.op.output)
    read = {r.tensor for op in ops for r in op.reads}
    ran = tuple(lay for lay in wg_layouts.values() if lay.weight in read)
    unused = {t for lay in wg_layouts.values() if lay not in ran for t in lay.tensors}
    if unused:
        widths = widths.without(*unused)
    schedule = Schedule(kind, workload.name, splits, tuple(sorted(ops, key=lambda op: op.stage)),
                        tuple(notes), layouts, dtype, widths, ran)
    return schedule, plans, not_fused
