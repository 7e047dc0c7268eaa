"""Schedule files: a Schedule as YAML a person can read, write, diff and validate.

Format 1 (docs/schedule-format.md has the whole story)::

    format: 1
    name: pipelined                  # what made it (any text)
    workload: resnet50_convadd       # the workload it computes
    splits: 4                        # row parts asked of every layer, or auto (chosen per layer)
    units: {conv: 1, add: 1, dma: 2}                      # of the hardware it was written for
    buffers: {ifmap: 65536, weight: 73728, ofmap: 65536}  # bytes, likewise
    dtype: int8                      # the run's datatype (optional: the hardware's)
    winograd: [conv]                 # convs run as Winograd F(2x2,3x3) (optional; accelsim.winograd)
    widths: {c0: 4}                  # bytes per element of tensors not at the datatype's (optional)
    sparsity: {conv: {weights: "2:4", density: 0.5}}  # what the array skips of a conv or gemm (optional)
    ops:
    - id: conv2
      layer: conv+add                # the workload layer and its tile (optional: for the views)
      tile: 2
      unit: conv                     # dma (load, store), conv (conv), add (add, pool, lrn, softmax, scale)
      kind: conv
      stage: 2                       # a barrier closes every stage
      deps: [load_x2]                # ops of the same stage it waits for (optional)
      reads: ["x[0:1, 13:29, 0:56, 0:64] @ ifmap", "conv.weight[0:64, 0:3, 0:3, 0:64] @ weight"]
      writes: ["y[0:1, 14:28, 0:56, 0:64] @ ofmap+0"]

A region is `TENSOR[a:b, ...]` (elements, `[a, b)` per axis) in DRAM, or
`TENSOR[...] @ BUFFER` in an SRAM buffer; an op that writes SRAM places the
region at a byte offset, `@ BUFFER+OFFSET`. A conv op's GEMM and a pool
or LRN op's window follow from the workload op whose output it writes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from accelsim.box import fmt
from accelsim.cost import Gemm, Skip
from accelsim.dtypes import ACCUMULATOR_BYTES, DTYPE_BYTES, Widths
from accelsim.graph import topological_order
from accelsim.hw import SRAM_BUFFERS, Hardware
from accelsim.layout import concat_layouts, concat_offsets
from accelsim.pattern import Pattern, parse_pattern
from accelsim.placement import place
from accelsim.problems import Problem
from accelsim.schedule import DRAM, Op, Region, Schedule
from accelsim.sparsity import sparse_weights
from accelsim.tiling import gemm_of, tile
from accelsim.units import UNIT_OF_KIND, UNITS, engines
from accelsim.winograd import POINTS, TILE_IN, WinogradLayout, layouts_of, products_gemm, shapes
from accelsim.workload import Add, Concat, Conv, Lrn, Pool, Scale, Shuffle, Softmax, Workload
from accelsim.workload import Gemm as GemmOp
from accelsim.workload import Op as WorkloadOp
from accelsim.yamlio import YamlDocument, read_yaml, read_yaml_text

FORMAT = 1
TOP_KEYS = ("format", "name", "workload", "splits", "units", "buffers", "dtype", "winograd", "widths",
            "sparsity", "notes", "ops")
SKIP_KEYS = ("weights", "density")
MAX_STAGE = 1_000_000
OP_KEYS = ("id", "layer", "tile", "unit", "kind", "stage", "deps", "reads", "writes")
_REGION = re.compile(r"^\s*(?P<tensor>[^\s\[\]@]+)\s*\[(?P<box>[^\]]*)\]\s*"
                     r"(?:@\s*(?P<buffer>[A-Za-z_]\w*)\s*(?:\+\s*(?P<offset>\S+))?)?\s*$")
_AXIS = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")
COMPUTE_OF_KIND = {"conv": (Conv, GemmOp), "add": (Add,), "pool": (Pool,), "lrn": (Lrn,),
                   "softmax": (Softmax,), "scale": (Scale,)}


def _region_text(region: Region, offset: int | None = None) -> str:
    text = region.tensor + fmt(region.box)
    if region.space != DRAM:
        text += f" @ {region.space}" + (f"+{offset}" if offset is not None else "")
    return text


def _flow(items) -> str:
    return "[" + ", ".join(json.dumps(x) for x in items) + "]"


def dump_schedule(schedule: Schedule, hw: Hardware) -> str:
    """The schedule as a format-1 YAML document (SRAM writes placed when not yet)."""
    if any(op.sram_writes() and not op.offsets for op in schedule.ops):
        schedule = place(schedule, hw.sram_capacity())
    units = ", ".join(f"{u}: {n}" for u, n in engines(hw).items())
    buffers = ", ".join(f"{b}: {n}" for b, n in hw.sram_capacity().items())
    lines = [f"# accelsim schedule for workload {schedule.workload} on hardware {hw.name}; "
             "format: docs/schedule-format.md",
             f"format: {FORMAT}", f"name: {json.dumps(schedule.name)}",
             f"workload: {json.dumps(schedule.workload)}",
             f"splits: {'auto' if schedule.splits is None else schedule.splits}",
             f"units: {{{units}}}", f"buffers: {{{buffers}}}", f"dtype: {schedule.dtype}"]
    if schedule.winograd:
        lines.append(f"winograd: {_flow(lay.conv for lay in schedule.winograd)}")
    if schedule.widths.tensors:
        own = ", ".join(f"{json.dumps(t)}: {b}" for t, b in schedule.widths.tensors)
        lines.append(f"widths: {{{own}}}")
    skips = _skips(schedule)
    if skips:
        entries = ", ".join(f"{json.dumps(name)}: {{{text}}}" for name, text in skips.items())
        lines.append(f"sparsity: {{{entries}}}")
    lines.append("notes: " + _flow(schedule.notes) if schedule.notes else "notes: []")
    lines.append("ops:")
    for op in schedule.ops:
        offsets = iter(op.offsets)
        lines.append(f"- id: {json.dumps(op.id)}")
        if op.layer:
            lines.append(f"  layer: {json.dumps(op.layer)}")
        if op.tile is not None:
            lines.append(f"  tile: {op.tile}")
        lines += [f"  unit: {op.unit}", f"  kind: {op.kind}", f"  stage: {op.stage}"]
        if op.deps:
            lines.append(f"  deps: {_flow(op.deps)}")
        lines.append(f"  reads: {_flow(_region_text(r) for r in op.reads)}")
        lines.append("  writes: " + _flow(_region_text(r, next(offsets) if r.space != DRAM else None)
                                         for r in op.writes))
    return "\n".join(lines) + "\n"


def _yaml_float(value: float) -> str:
    """`value` as YAML reads it back exactly (a float, not the string `1e-05` is to YAML 1.1)."""
    return yaml.safe_dump(value).split("\n", 1)[0]


def _skips(schedule: Schedule) -> dict[str, str]:
    """What the array skips of each conv or gemm (by workload op name, the name of the weights it
    reads), as a schedule file's `sparsity` entry holds it."""
    found: dict[str, str] = {}
    for op in schedule.ops:
        skip = op.gemm.skip if op.gemm is not None else None
        weight = next((r.tensor for r in op.reads if r.space == "weight"), None)
        if skip is None or weight is None:
            continue
        parts = ([f'weights: "{skip.n}:{skip.m}"'] if skip.n < skip.m else []) + (
            [f"density: {_yaml_float(skip.density)}"] if skip.density != 1.0 else [])
        found[weight.removesuffix(".weight")] = ", ".join(parts)
    return found


def _skipped_workload(reader: _Reader, given: object) -> Workload:
    """The reader's workload with each conv's or gemm's `skip` as the file's `sparsity` says;
    problems reported."""
    workload = reader.workload
    if not given:
        return workload
    if not isinstance(given, dict):
        reader.problem(("sparsity",), "sparsity must map a conv or gemm's name to {weights: \"N:M\", "
                                      "density: D}")
        return workload
    ops = {op.name: op for op in workload.ops}
    for name, entry in given.items():
        op = ops.get(name)
        if not isinstance(op, Conv | GemmOp):
            reader.problem(("sparsity", name), f"sparsity names {name!r}, no conv or gemm of workload "
                                               f"{workload.name!r}")
            continue
        if not isinstance(entry, dict) or set(entry) - set(SKIP_KEYS):
            reader.problem(("sparsity", name), f"sparsity.{name} must be a mapping with keys "
                                               f"{', '.join(SKIP_KEYS)}, got {entry!r}")
            continue
        try:
            pattern = parse_pattern(entry["weights"]) if "weights" in entry else Pattern(1, 1)
        except ValueError as exc:
            reader.problem(("sparsity", name, "weights"), f"sparsity.{name}.weights: {exc}")
            continue
        density = entry.get("density", 1.0)
        if isinstance(density, bool) or not isinstance(density, int | float) or not 0 <= density <= 1:
            reader.problem(("sparsity", name, "density"), f"sparsity.{name}.density must be a number "
                                                          f"0 <= D <= 1 (0: a measured input of zeros), "
                                                          f"got {density!r}")
            continue
        ops[name] = replace(op, skip=Skip(pattern.n, pattern.m, float(density)))
    return replace(workload, ops=tuple(ops[op.name] for op in workload.ops))


@dataclass
class ScheduleFile:
    """A schedule file read against a hardware and a workload: the Schedule (None when
    the problems leave none to build), the line of each op, and the problems found."""

    source: str
    schedule: Schedule | None
    lines: dict[str, int | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def producers(workload: Workload) -> dict[str, WorkloadOp]:
    """Tensor -> the workload op that writes it."""
    return {op.output: op for op in workload.ops}


class _Reader:
    """Turns the parsed YAML into ops, collecting every problem with its line."""

    def __init__(self, doc: YamlDocument, hw: Hardware, workload: Workload):
        self.doc, self.hw, self.workload = doc, hw, workload
        self.problems: list[Problem] = []
        self.producers = producers(workload)
        self._offsets: dict[str, list[tuple[str, int]]] = {}
        self.winograd: tuple[WinogradLayout, ...] = ()
        self.extra: dict[str, tuple[int, ...]] = {}     # Winograd tensors -> shape

    def read_winograd(self, given, dtype: str) -> None:
        """The `winograd` list: the convs run as Winograd, their tensors' shapes."""
        if not isinstance(given, list) or not all(isinstance(c, str) for c in given):
            self.problem(("winograd",), f"winograd must be a list of conv names, got {given!r}")
            return
        if len(set(given)) < len(given):
            self.problem(("winograd",), f"winograd names a conv twice: {given!r}")
            return
        self.winograd, problems = layouts_of(given, self.workload, dtype, self.hw.dtypes)
        for message in problems:
            self.problem(("winograd",), message)
        convs = {op.name: op for op in self.workload.ops}
        for lay in self.winograd:
            conv = convs[lay.conv]
            assert isinstance(conv, Conv)
            self.extra.update(shapes(lay, conv, self.workload))

    def problem(self, path: tuple, message: str, op: str | None = None) -> None:
        self.problems.append(Problem(self.doc.source, self.doc.line(path), op, message))

    def region(self, text, path: tuple, op: str, write: bool) -> tuple[Region, int | None] | None:
        if not isinstance(text, str):
            self.problem(path, f"a region must be a string like \"x[0:1, 0:8, 0:56, 0:64] @ ifmap\", "
                               f"got {text!r}", op)
            return None
        m = _REGION.match(text)
        if not m:
            self.problem(path, f"cannot read region {text!r}: expected TENSOR[a:b, ...] optionally "
                               "followed by @ BUFFER (and +OFFSET in bytes for a write to SRAM)", op)
            return None
        tensor, buffer, offset = m["tensor"], m["buffer"], m["offset"]
        if tensor not in self.workload.tensors and tensor not in self.extra:
            self.problem(path, f"unknown tensor {tensor!r}: workload {self.workload.name} has no such "
                               "tensor", op)
            return None
        shape = self.extra[tensor] if tensor in self.extra else self.workload.tensors[tensor].shape
        axes = [_AXIS.match(a) for a in m["box"].split(",")]
        matched = [a for a in axes if a is not None]
        if len(matched) != len(shape) or len(matched) != len(axes):
            self.problem(path, f"{text!r}: tensor {tensor} has {len(shape)} axes {list(shape)}; "
                               "write one start:stop of whole numbers per axis", op)
            return None
        start = tuple(int(a[1]) for a in matched)
        stop = tuple(int(a[2]) for a in matched)
        bad = [i for i, (a, b, n) in enumerate(zip(start, stop, shape, strict=True)) if not 0 <= a < b <= n]
        if bad:
            self.problem(path, f"{text!r}: axis {bad[0]} range {start[bad[0]]}:{stop[bad[0]]} is empty or "
                               f"outside tensor {tensor}'s {shape[bad[0]]} elements", op)
            return None
        space = buffer or DRAM
        if buffer is not None and buffer not in SRAM_BUFFERS:
            self.problem(path, f"{text!r}: unknown SRAM buffer {buffer!r}; the hardware has "
                               f"{', '.join(SRAM_BUFFERS)}", op)
            return None
        at = None
        if offset is not None:
            if not write:
                self.problem(path, f"{text!r}: a read names no offset; it reads what was last written "
                                   "there", op)
                return None
            if not (offset.isascii() and offset.isdigit()):
                self.problem(path, f"{text!r}: offset must be a whole number of bytes, got {offset!r}", op)
                return None
            at = int(offset)
        elif write and buffer is not None:
            self.problem(path, f"{text!r}: a write to SRAM needs its byte offset, e.g. "
                               f"\"@ {buffer}+0\"", op)
            return None
        return Region(tensor, start, stop, space), at

    def op(self, i: int, raw) -> dict | None:
        path = ("ops", i)
        if not isinstance(raw, dict):
            self.problem(path, f"an op must be a mapping with keys {', '.join(OP_KEYS)}")
            return None
        op_id = raw.get("id")
        if not isinstance(op_id, str) or not op_id:
            self.problem(path, "every op needs an id (a non-empty string)")
            return None
        ok = True
        for key in raw:
            if key not in OP_KEYS:
                self.problem((*path, key), f"unknown key {key!r}; expected {', '.join(OP_KEYS)}", op_id)
                ok = False
        kind, unit = raw.get("kind"), raw.get("unit")
        kind = kind if isinstance(kind, str) else repr(kind)
        unit = unit if isinstance(unit, str) else repr(unit)
        if kind not in UNIT_OF_KIND:
            self.problem((*path, "kind"), f"unknown kind {kind!r}; expected one of "
                                          f"{', '.join(UNIT_OF_KIND)}", op_id)
            ok = False
        if unit not in UNITS:
            self.problem((*path, "unit"), f"unknown unit {unit!r}; the hardware has {', '.join(UNITS)}",
                         op_id)
            ok = False
        elif kind in UNIT_OF_KIND and UNIT_OF_KIND[kind] != unit:
            self.problem((*path, "unit"), f"a {kind} op runs on unit {UNIT_OF_KIND[kind]}, not {unit}",
                         op_id)
            ok = False
        stage = raw.get("stage")
        if not isinstance(stage, int) or isinstance(stage, bool) or not 0 <= stage <= MAX_STAGE:
            self.problem((*path, "stage"), f"stage must be a whole number from 0 to {MAX_STAGE:,}, "
                                           f"got {stage!r}", op_id)
            ok = False
        layer, tile = raw.get("layer", ""), raw.get("tile")
        if not isinstance(layer, str):
            self.problem((*path, "layer"), f"layer must be a layer name (text), got {layer!r}", op_id)
            ok = False
        if tile is not None and (not isinstance(tile, int) or isinstance(tile, bool) or tile < 1):
            self.problem((*path, "tile"), f"tile must be a whole number > 0, got {tile!r}", op_id)
            ok = False
        deps = raw.get("deps", [])
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            self.problem((*path, "deps"), f"deps must be a list of op ids, got {deps!r}", op_id)
            ok = False
        sides = {}
        for side in ("reads", "writes"):
            items = raw.get(side, [])
            if not isinstance(items, list):
                self.problem((*path, side), f"{side} must be a list of regions", op_id)
                ok = False
                continue
            parsed = [self.region(t, (*path, side), op_id, side == "writes") for t in items]
            ok = ok and all(p is not None for p in parsed)
            sides[side] = [p for p in parsed if p is not None]
        if not ok:
            return None
        return {"id": op_id, "kind": kind, "stage": stage, "deps": tuple(deps), "index": i,
                "layer": layer, "tile": tile,
                "reads": tuple(r for r, _ in sides["reads"]), "writes": tuple(r for r, _ in sides["writes"]),
                "offsets": tuple(at for r, at in sides["writes"] if r.space != DRAM)}

    def in_slice(self, held: Region, dram: Region) -> bool:
        """Whether DRAM region `dram` is SRAM region `held`'s box in its channel slice of a
        concat's output (`layout.concat_offsets`: the input's own concat, or one its output
        joins in turn): what a concat's copy stores, and what a placed tensor's loads and
        stores move."""
        (*lo, c0), (*hi, c1) = held.box
        return c0 < c1 and any(t == dram.tensor and dram.box == ((*lo, c0 + at), (*hi, c1 + at))
                               for t, at in self.offsets(held.tensor))

    def offsets(self, tensor: str) -> list[tuple[str, int]]:
        found = self._offsets.get(tensor)
        if found is None:
            found = self._offsets[tensor] = concat_offsets(self.workload, tensor)
        return found

    def shuffle_copy(self, r: Region, w: Region) -> bool:
        """Whether a store from `r` (SRAM) to `w` (DRAM) writes part of a shuffle's output from
        its input: the same box, every channel (the store permutes them, `shuffle_channels`)."""
        wop = self.producers.get(w.tensor)
        return isinstance(wop, Shuffle) and r.tensor == wop.input and r.box == w.box and \
            r.box[0][-1] == 0 and r.box[1][-1] == self.workload.tensors[w.tensor].shape[-1]

    def shape(self, op: dict) -> tuple[Gemm | None, int]:
        """Checks an op's regions against its kind; its GEMM and window."""
        path, kind, reads, writes = ("ops", op["index"]), op["kind"], op["reads"], op["writes"]

        def bad(message: str) -> tuple[None, int]:
            self.problem(path, message, op["id"])
            return None, 0
        if kind in ("load", "store"):
            src, dst = (DRAM, "SRAM") if kind == "load" else ("SRAM", DRAM)
            if len(reads) != 1 or len(writes) != 1:
                return bad(f"a {kind} reads one region and writes one")
            r, w = reads[0], writes[0]
            if (r.space == DRAM) != (src == DRAM) or (w.space == DRAM) != (dst == DRAM):
                return bad(f"a {kind} moves a region from {src} to {dst}, not {r.space} to {w.space}")
            held, dram = (w, r) if kind == "load" else (r, w)
            if (r.tensor, r.box) != (w.tensor, w.box) and not (
                    self.in_slice(held, dram) or (kind == "store" and self.shuffle_copy(r, w))):
                return bad(f"a {kind} writes the region it reads; {r} and {w} differ"
                           + (" (a concat's input part moves to or from its channel slice of the concat's "
                              "output)" if isinstance(self.producers.get(dram.tensor), Concat)
                              else " (a store into a shuffle's output writes the same box of its input, "
                              "every channel)" if isinstance(self.producers.get(w.tensor), Shuffle) else ""))
            return None, 1
        if any(r.space == DRAM for r in (*reads, *writes)):
            return bad(f"a {kind} op reads and writes SRAM only; DMA moves data from and to DRAM")
        if len(writes) != 1:
            return bad(f"a {kind} op writes one region, the part of its output it computes")
        out = writes[0]
        if kind in ("wgin", "wgout", "wgw") or out.tensor in self.extra:
            return self.winograd_shape(kind, reads, out, bad)
        wop = self.producers.get(out.tensor)
        if not isinstance(wop, COMPUTE_OF_KIND[kind]):
            what = f"{wop.kind} {wop.name}" if wop is not None else "a graph input or weight"
            return bad(f"a {kind} op must write the output of a {kind} of the workload; {out.tensor} "
                       f"is written by {what}")
        if isinstance(wop, Conv | GemmOp):
            per_group = wop.cout // wop.groups if isinstance(wop, Conv) else 0
            if isinstance(wop, Conv) and wop.groups > 1 and (out.start[-1] % per_group
                                                             or out.stop[-1] % per_group):
                return bad(f"a tile of grouped conv {wop.name} computes whole groups of {per_group} output "
                           f"channels; {out} splits one")
            return gemm_of(wop, out.box, self.workload), 1
        return None, tile(wop, out.box, self.workload).window


    def winograd_shape(self, kind: str, reads: tuple[Region, ...], out: Region,
                       bad) -> tuple[Gemm | None, int]:
        """A Winograd op's regions checked (`scheduler/winograd.py`): a wgw writes whole filters of a
        layer's U, a wgin its V, a conv
        its M (whole filters' 16 values: its GEMM), a wgout reads its M and writes the conv's output or
        its fused add's; its GEMM and window."""
        role = {"wgw": "weight", "wgin": "transformed", "conv": "products", "wgout": "products"}.get(kind)
        if role is None:
            return bad(f"a {kind} op cannot write {out.tensor}, a Winograd layer's tensor (wgw, wgin, conv "
                       "and wgout write them)")
        seen = out.tensor if kind != "wgout" else (reads[0].tensor if reads else "")
        lay = next((lay for lay in self.winograd if getattr(lay, role) == seen), None)
        if lay is None:
            where = "write" if kind != "wgout" else "first read"
            return bad(f"a {kind} op's {where} must be the {role} tensor of a conv this file's winograd "
                       f"list names; {seen or 'nothing'} is not")
        if kind == "wgin":
            return None, 1
        conv = next(op for op in self.workload.ops if op.name == lay.conv)
        assert isinstance(conv, Conv)
        if kind == "wgw":
            if out.start[1:] != (0, 0, 0) or out.stop[1:] != (TILE_IN, TILE_IN, conv.cin):
                return bad(f"a wgw op writes whole filters' U ({TILE_IN}x{TILE_IN} values per input channel, "
                           f"all {conv.cin}); {out} is part of one")
            return None, 1
        if kind == "wgout":
            adds = [op.output for op in self.workload.ops if isinstance(op, Add) and conv.output in op.inputs]
            if out.tensor not in (conv.output, *adds):
                return bad(f"a wgout op writes {conv.name}'s output or its add's, not {out.tensor}")
            return None, 1
        if out.box[0][3] % POINTS or out.box[1][3] % POINTS:
            return bad(f"a Winograd GEMM computes whole filters' {POINTS} values; {out} splits one")
        return products_gemm(out.box, conv.cin), 1


def _order(raw: list[dict], problem) -> list[dict] | None:
    """The ops in an order where every dependency comes first (file order where it can);
    None, after reporting, when dependencies are unknown or form a cycle."""
    index = {op["id"]: k for k, op in enumerate(raw)}
    ok = True
    for op in raw:
        for d in op["deps"]:
            if d not in index:
                problem(op, f"depends on {d!r}, which is not an op of this schedule")
                ok = False
            elif d == op["id"]:
                problem(op, "depends on itself (deadlock)")
                ok = False
            elif raw[index[d]]["stage"] > op["stage"]:
                problem(op, f"(stage {op['stage']}) depends on {d!r} of the later stage "
                            f"{raw[index[d]]['stage']}: that stage opens only after this op ends (deadlock)")
                ok = False
    if not ok:
        return None
    order, left = topological_order([[index[d] for d in op["deps"]] for op in raw],
                                    lambda k: raw[k]["stage"])
    if left:
        stuck = set(left)
        k = min(stuck)
        path = [k]                             # walk back through stuck deps until one repeats
        while True:
            k = next(index[d] for d in raw[k]["deps"] if index[d] in stuck)
            if k in path:
                cycle = path[path.index(k):]
                break
            path.append(k)
        names = " <- ".join(raw[c]["id"] for c in [*cycle, cycle[0]])
        problem(raw[cycle[0]], f"dependency cycle {names} (each waits for the next: deadlock)")
        return None
    return [raw[k] for k in order]


def schedule_from_document(doc: YamlDocument, hw: Hardware, workload: Workload) -> ScheduleFile:
    """Read a schedule document; every problem found is in the result, none raised."""
    reader = _Reader(doc, hw, workload)
    data = doc.data
    result = ScheduleFile(doc.source, None, problems=reader.problems)
    if not isinstance(data, dict):
        reader.problem((), "a schedule file is a mapping with keys " + ", ".join(TOP_KEYS))
        return result
    for key in data:
        if key not in TOP_KEYS:
            reader.problem((key,), f"unknown key {key!r}; expected {', '.join(TOP_KEYS)}")
    if data.get("format") != FORMAT:
        reader.problem(("format",), f"format must be {FORMAT}, got {data.get('format')!r}")
    if data.get("workload") != workload.name:
        reader.problem(("workload",), f"the schedule is for workload {data.get('workload')!r}, "
                                      f"but the workload given is {workload.name!r}")
    label = data.get("name", "file")
    if not isinstance(label, str) or not label:
        reader.problem(("name",), f"name must be text, got {label!r}")
    splits = data.get("splits", "auto")
    if splits == "auto":
        splits = None
    elif not isinstance(splits, int) or isinstance(splits, bool) or splits < 1:
        reader.problem(("splits",), f"splits must be a whole number > 0 or auto, got {splits!r}")
    notes = data.get("notes") or []
    if not isinstance(notes, list):
        reader.problem(("notes",), "notes must be a list of text")
    dtype = data.get("dtype") or workload.dtype or hw.default_dtype
    if dtype not in DTYPE_BYTES:
        reader.problem(("dtype",), f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
        dtype = "int8"
    reader.workload = _skipped_workload(reader, data.get("sparsity"))   # first: a skipped conv is no Winograd
    if "winograd" in data:
        reader.read_winograd(data["winograd"], dtype)
    given = data.get("widths") or {}
    widths = Widths(DTYPE_BYTES[dtype])
    if not isinstance(given, dict):
        reader.problem(("widths",), "widths must be a mapping of tensor to bytes per element")
    else:
        for t, b in given.items():
            if t not in workload.tensors and t not in reader.extra:
                reader.problem(("widths", t), f"widths names {t!r}, no tensor of workload {workload.name!r}")
            elif b not in (*DTYPE_BYTES.values(), *ACCUMULATOR_BYTES.values()) or isinstance(b, bool):
                reader.problem(("widths", t), f"widths.{t} must be the bytes of a datatype or accumulator "
                                              f"(1, 2 or 4), got {b!r}")
        widths = Widths(widths.default, tuple((str(t), b) for t, b in given.items() if isinstance(b, int)))
    reader.producers = producers(reader.workload)
    widths = Widths(widths.default, widths.tensors, sparse_weights(reader.workload))
    units, buffers = data.get("units", {}), data.get("buffers", {})
    for name, table, known in (("units", units, UNITS), ("buffers", buffers, SRAM_BUFFERS)):
        if not isinstance(table, dict):
            reader.problem((name,), f"{name} must be a mapping of name to count")
            continue
        for key, count in table.items():
            if key not in known:
                reader.problem((name, key), f"unknown {name[:-1]} {key!r}; the hardware has "
                                            f"{', '.join(known)}")
            elif not isinstance(count, int) or isinstance(count, bool) or count < 1:
                reader.problem((name, key), f"{name}.{key} must be a whole number > 0, got {count!r}")
    ops = data.get("ops")
    if not isinstance(ops, list) or not ops:
        reader.problem(("ops",), "ops must be a non-empty list")
        return result
    seen: dict[str, int] = {}
    for i, item in enumerate(ops):
        op_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(op_id, str) and op_id in seen:
            reader.problem(("ops", i), f"id {op_id!r} used twice (first on line "
                                       f"{doc.line(('ops', seen[op_id]))})", op_id)
        elif isinstance(op_id, str):
            seen[op_id] = i
            result.lines[op_id] = doc.line(("ops", i))
    raw = [op for op in (reader.op(i, item) for i, item in enumerate(ops)) if op is not None]
    for op in raw:
        op["gemm"], op["window"] = reader.shape(op)
    if reader.problems:
        return result
    ordered = _order(raw, lambda op, msg: reader.problem(("ops", op["index"]), msg, op["id"]))
    if ordered is None:
        return result
    built = tuple(Op(o["id"], o["kind"], o["stage"], o["reads"], o["writes"], o["deps"], o["gemm"],
                     o["window"], o["offsets"], o["layer"], o["tile"]) for o in ordered)
    result.schedule = Schedule(label, workload.name, splits, built, tuple(str(n) for n in notes),
                               concat_layouts(workload, built), dtype, widths, reader.winograd)
    return result


def read_schedule(path: str | Path, hw: Hardware, workload: Workload) -> ScheduleFile:
    """Read a schedule file (ConfigError when it is not YAML)."""
    return schedule_from_document(read_yaml(path), hw, workload)


def schedule_from_text(text: str, hw: Hardware, workload: Workload,
                       source: str = "<schedule>") -> ScheduleFile:
    return schedule_from_document(read_yaml_text(text, source), hw, workload)
