"""Workloads written as trace YAML (`accelsim.workload`'s file form), which `load_workload`
reads back into an equal Workload.

A trace declares its graph inputs (and any tensor with its own datatype) and lists its ops,
one flow mapping a line, each key the op's field and only those whose value is not the
default; every other shape follows from the ops. The text is a function of the workload
(and the comment lines given), so the same workload gives the same bytes."""

from __future__ import annotations

import math
from dataclasses import MISSING, fields
from pathlib import Path

import yaml

from accelsim import atomic
from accelsim.workload import Op, Workload, workload_from_document
from accelsim.yamlio import read_yaml_text


def op_data(op: Op) -> dict:
    """An op as its trace entry: every field without a default, and every other field whose
    value is not its default (tuples as lists)."""
    out: dict = {}
    for f in fields(op):  # type: ignore[arg-type]
        if f.name == "skip":                 # what a run's array skips: set by the run, never by a trace
            continue
        value = getattr(op, f.name)
        if f.default is not MISSING and value == f.default and type(value) is type(f.default):
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def workload_data(workload: Workload) -> dict:
    """The workload as a trace file holds it: name, dtype (when set), the tensors no op writes
    (graph inputs) and those with their own datatype or a declared density, and the ops in order."""
    written = {op.output for op in workload.ops}
    weights = {op.weight for op in workload.ops if hasattr(op, "weight")}
    tensors: dict = {}
    for name, t in workload.tensors.items():
        own = {key: value for key, value in (("dtype", t.dtype), ("density", t.density)) if value is not None}
        if name in weights or (name in written and not own):
            continue
        tensors[name] = {"shape": list(t.shape), **own} if own else list(t.shape)
    data: dict = {"name": workload.name}
    if workload.dtype is not None:
        data["dtype"] = workload.dtype
    data["tensors"] = tensors
    data["ops"] = [op_data(op) for op in workload.ops]
    return data


def _flow(value) -> str:
    """`value` as YAML flow text on one line (a scalar quoted where YAML would misread it)."""
    if not isinstance(value, dict | list):
        return _flow([value])[1:-1]
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=math.inf,
                          allow_unicode=False).strip()


def workload_to_yaml(workload: Workload, comments: tuple[str, ...] = ()) -> str:
    """The workload as trace YAML: `comments` first (each line prefixed `# `), then the trace.
    Checked: the text read back is this workload (a ValueError if not, a bug)."""
    data = workload_data(workload)
    lines = [f"# {line}".rstrip() for line in comments]
    lines.append(f"name: {_flow(data['name'])}")
    if "dtype" in data:
        lines.append(f"dtype: {data['dtype']}")
    lines.append("tensors:")
    lines += [f"  {_flow(name)}: {_flow(entry)}" for name, entry in data["tensors"].items()]
    lines.append("ops:")
    lines += [f"  - {_flow(op)}" for op in data["ops"]]
    text = "\n".join(lines) + "\n"
    back = workload_from_document(read_yaml_text(text, f"<{workload.name}>"))
    if back != workload:
        raise ValueError(f"workload {workload.name!r}: its YAML does not read back as the same workload")
    return text


def write_workload(path: str | Path, workload: Workload, comments: tuple[str, ...] = ()) -> None:
    """Write `workload_to_yaml(workload, comments)` to `path`, whole or not at all."""
    atomic.write_text(path, workload_to_yaml(workload, comments))
