"""A sweep file, read and checked whole before any point runs (docs/sweeps.md):

    hw: default                 # a shipped name or a path (relative to the sweep file first)
    workload: resnet50          # likewise
    schedule: pipelined         # optional run options: schedule, splits, sync, dtype, parts, max_ops
    vary:                       # key paths into the hardware config, or run options
      systolic_array.rows: [16, 32, 64]
      dram.channel_bytes_per_cycle: {log2_range: [2, 64]}     # 2, 4, ..., 64
      splits: {range: [2, 8, 2]}                              # 2, 4, 6, 8 (stop included)
      schedule: [fused, pipelined]
    where: "sram.ifmap.size_bytes + sram.weight.size_bytes <= 2 * 2**20"

Every problem is a ConfigError naming the file and line: an unknown key or key path (with the
nearest valid ones), an empty list, a bad range, a value the hardware or the option refuses,
a `where` that does not parse or names nothing known. An axis of more than MAX_SWEEP_POINTS
values is a LimitError; so is a grid of more points, before any is made (`Sweep.check_grid`)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from accelsim import shipped
from accelsim.errors import AccelsimError, ConfigError, LimitError
from accelsim.hw import Hardware, hw_from_dict
from accelsim.limits import MAX_SWEEP_POINTS
from accelsim.options import RunOptions
from accelsim.schema import _keys_at, build
from accelsim.sparsity import option_density, option_pattern
from accelsim.sweep.expr import Expression, Value, parse
from accelsim.workload import Workload, load_workload
from accelsim.yamlio import YamlDocument, read_yaml

TEXT_OPTIONS = {"weight_sparsity": option_pattern, "activation_density": option_density}
"""Run options given as text that the run parses (accelsim.sparsity), and their parsers."""
OPTIONS = tuple(f.name for f in fields(RunOptions) if f.metadata.get("sweep", True))
"""The run options a sweep file may set, and vary (`parts` as `parts.LAYER`); not those whose
metadata says `"sweep": False` (input_data: a file of the run's graph inputs)."""
TOP_KEYS = ("hw", "workload", *OPTIONS, "vary", "where")
RANGES = ("log2_range", "range")


@dataclass(frozen=True)
class Axis:
    """One varied key path (`systolic_array.rows`) or run option (`schedule`, `parts.LAYER`),
    and its values in the order written."""

    name: str
    values: tuple[Value, ...]

    @property
    def option(self) -> bool:
        """Whether this axis is a run option (else a key path into the hardware config)."""
        return is_option(self.name)


@dataclass(frozen=True, eq=False)
class Sweep:
    """A checked sweep file: the base hardware (its YAML data and it validated), the workload
    (read once), the base run options, the axes in file order and the `where` condition with
    the values of the names it reads that no axis varies."""

    source: str
    hw_data: Mapping[str, Any]
    hw: Hardware
    workload: Workload
    options: RunOptions
    axes: tuple[Axis, ...]
    where: Expression | None = None
    where_at: str = ""
    constants: Mapping[str, Value] | None = None
    vary_at: str = ""

    def check_grid(self) -> None:
        """A LimitError, naming `vary`'s line, when the grid has more than MAX_SWEEP_POINTS
        points (a search draws from any product; a grid builds every point)."""
        if self.size > MAX_SWEEP_POINTS:
            raise LimitError(f"{self.vary_at}: the grid has {self.size:,} points "
                             f"({' x '.join(str(len(a.values)) for a in self.axes)}), over the limit of "
                             f"{MAX_SWEEP_POINTS:,} (a search, --search random|optuna, draws from it)")

    @property
    def size(self) -> int:
        """Points of the grid before `where`: the product of the axes' lengths."""
        return math.prod(len(a.values) for a in self.axes)


def is_option(name: str) -> bool:
    """Whether `name` is a run option (`schedule`, `parts.LAYER`, ...), not a hardware key path."""
    return (name in OPTIONS and name != "parts") or name.startswith("parts.")


def _input(value: Any, kind: str, doc: YamlDocument, base: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{doc.where((kind,))}: {kind}: must be a file path or a shipped name, "
                          f"got {value!r}")
    beside = base / value
    return beside if beside.is_file() else shipped.resolve(value, kind)


def _near(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    return f"; nearest: {', '.join(close)}" if close else ""


def _option_value(name: str, value: Any, at: str) -> Value | Mapping[str, int]:
    """A run option's value checked; ConfigError at `at` otherwise."""
    option = "parts" if name.startswith("parts.") else name
    field_ = next(f for f in fields(RunOptions) if f.name == option)
    meta = field_.metadata
    if option == "parts" and name == "parts":
        if not isinstance(value, dict):
            raise ConfigError(f"{at}: parts: must be a mapping LAYER: N, got {value!r}")
        for layer, n in value.items():
            _option_value(f"parts.{layer}", n, at)
        return value
    if value is None and field_.default is None:          # dtype, splits, fuse_depth, search: unset
        return value
    if isinstance(field_.default, bool):                  # a flag (winograd)
        if not isinstance(value, bool):
            raise ConfigError(f"{at}: {name}: must be true or false, got {value!r}")
        return value
    if option in TEXT_OPTIONS:                             # text the run parses, checked here first
        try:
            if isinstance(value, bool):
                raise ConfigError(f"{name}: expected text, got {value!r}")
            TEXT_OPTIONS[option](value)
        except ConfigError as exc:
            raise ConfigError(f"{at}: {name}: {str(exc).partition(': ')[2]}") from None
        return value if isinstance(value, str) else str(value)       # a density written as a number
    if option == "seed":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{at}: seed: must be a whole number >= 0, got {value!r}")
        return value
    if "choices" in meta:
        if value not in meta["choices"]:
            raise ConfigError(f"{at}: {name}: must be one of {', '.join(meta['choices'])}, got {value!r}")
        return value
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{at}: {name}: must be a whole number > 0, got {value!r}")
    return value


def _hw_path(name: str, data: Mapping[str, Any], at: str) -> None:
    """ConfigError at `at` unless `name` is a key path to one value of the hardware config:
    a key of `data`, or an optional key of a section `data` has."""
    steps = name.split(".")
    node: Any = data
    for i, step in enumerate(steps):
        here = ".".join(steps[:i]) or "the top level"
        keys = _keys_at(Hardware, tuple(steps[:i]))
        if isinstance(node, dict) and step in node:
            node = node[step]
            continue
        if step in keys and isinstance(node, dict) and i == len(steps) - 1:
            node = None                         # an optional key this config leaves out
            break
        have = sorted(set(keys) | (set(node) if isinstance(node, dict) else set()))
        if not have:
            raise ConfigError(f"{at}: {name}: {here} is a value, not a section with keys")
        missing = " (a section this config leaves out)" if step in keys else ""
        raise ConfigError(f"{at}: unknown key path {name!r}: no key {step!r} in {here}{missing} "
                          f"(expected one of: {', '.join(have)}{_near(step, have)}; or a run option: "
                          f"{', '.join(o if o != 'parts' else 'parts.LAYER' for o in OPTIONS)})")
    if isinstance(node, dict) or (node is None and _keys_at(Hardware, tuple(steps))):
        raise ConfigError(f"{at}: {name}: is a section, not one value (vary one of its keys: "
                          f"{', '.join(_keys_at(Hardware, tuple(steps)))})")


def _values(name: str, given: Any, doc: YamlDocument) -> list[tuple[Value, str]]:
    """An axis's values, each with the `file:line` it was written at."""
    at = doc.where(("vary", name))
    if isinstance(given, list):
        if not given:
            raise ConfigError(f"{at}: vary {name}: empty list (give at least one value)")
        out = []
        for i, value in enumerate(given):
            where = doc.where(("vary", name, i))
            if not isinstance(value, int | float | str | bool) and value is not None:
                raise ConfigError(f"{where}: vary {name}: each value must be a number, a string, true, "
                                  f"false or null, got {value!r}")
            out.append((value, where))
        return out
    if not isinstance(given, dict) or len(given) != 1 or next(iter(given)) not in RANGES:
        raise ConfigError(f"{at}: vary {name}: must be a list of values, {{log2_range: [LO, HI]}} or "
                          f"{{range: [START, STOP, STEP]}}, got {given!r}")
    kind, bounds = next(iter(given.items()))
    at = doc.where(("vary", name, kind))
    count = 2 if kind == "log2_range" else 3
    if (not isinstance(bounds, list) or len(bounds) != count
            or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)):
        form = "[LO, HI], powers of two" if kind == "log2_range" else "[START, STOP, STEP]"
        raise ConfigError(f"{at}: vary {name}: {kind} must be {count} whole numbers {form}, got {bounds!r}")
    if kind == "log2_range":
        lo, hi = bounds
        if lo < 1 or hi < lo or lo & (lo - 1) or hi & (hi - 1):
            raise ConfigError(f"{at}: vary {name}: log2_range needs powers of two 1 <= LO <= HI, "
                              f"got {bounds!r}")
        n = hi.bit_length() - lo.bit_length() + 1
        _check_count(n, name, at)
        return [(lo << i, at) for i in range(n)]
    start, stop, step = bounds
    if step == 0 or (stop - start) * step < 0:
        raise ConfigError(f"{at}: vary {name}: range [START, STOP, STEP] needs a STEP that goes from START "
                          f"to STOP (STOP included), got {bounds!r}")
    n = (stop - start) // step + 1
    _check_count(n, name, at)
    return [(start + i * step, at) for i in range(n)]


def _check_count(n: int, name: str, at: str) -> None:
    if n > MAX_SWEEP_POINTS:
        raise LimitError(f"{at}: vary {name}: {n:,} values, over the limit of {MAX_SWEEP_POINTS:,} points")


def edited(data: Mapping[str, Any], edits: Mapping[str, Value]) -> dict:
    """A copy of hardware YAML `data` with each key path of `edits` set (sections copied as
    they are edited; the rest shared)."""
    out = dict(data)
    for name, value in edits.items():
        *parents, last = name.split(".")
        node = out
        for step in parents:
            node[step] = dict(node[step])
            node = node[step]
        node[last] = value
    return out


def _axis(name: Any, given: Any, doc: YamlDocument, data: Mapping[str, Any]) -> list[tuple[Value, str]]:
    """An axis's values, each with its `file:line`, its name checked."""
    at = doc.where(("vary", name))
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{at}: vary: a key must be a key path or a run option, got {name!r}")
    if name in ("parts", "parts."):
        raise ConfigError(f"{at}: vary {name}: vary one layer's row parts at a time, as parts.LAYER")
    if not is_option(name):
        _hw_path(name, data, at)
    return _values(name, given, doc)


def _check_values(name: str, values: list[tuple[Value, str]], data: Mapping[str, Any]) -> tuple[Value, ...]:
    """Each value of an axis, set alone on the base: the option's or the hardware's check; the
    values as the run takes them (a density written as a number, as text)."""
    checked = []
    for value, where in values:
        if is_option(name):
            value = _option_value(name, value, where)            # type: ignore[assignment]
        else:
            hw_from_dict(edited(data, {name: value}), source=f"{where}: vary {name}: {value!r}")
        checked.append(value)
    return tuple(checked)


def _base_value(name: str, hw: Hardware, options: RunOptions, at: str) -> Value:
    """What `name` (a key path or option no axis varies) is in the base hardware and options."""
    if name.startswith("parts."):
        return options.parts.get(name.partition(".")[2])
    if name in OPTIONS:
        if name == "parts":
            raise ConfigError(f"{at}: where: parts is a mapping; name one layer's, parts.LAYER")
        return getattr(options, name)
    value: Any = hw
    for step in name.split("."):
        value = getattr(value, step, None)
    if is_dataclass(value):
        raise ConfigError(f"{at}: where: {name} is a section, not one value")
    return value


def read_sweep(path: str | Path) -> Sweep:
    """Read and check the sweep file at `path` (see the module's docstring)."""
    doc = read_yaml(path)
    source, data = str(path), doc.data
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a sweep file is a mapping with keys hw, workload and vary, "
                          f"got {data!r}")
    for key in data:
        if key not in TOP_KEYS:
            raise ConfigError(f"{doc.where((key,))}: unknown key {key!r} (expected one of: "
                              f"{', '.join(TOP_KEYS)}{_near(str(key), list(TOP_KEYS))})")
    for key in ("hw", "workload", "vary"):
        if key not in data:
            raise ConfigError(f"{source}: {key}: required key is missing")
    base = Path(path).parent
    hw_doc = read_yaml(_input(data["hw"], "hw", doc, base))
    hw = build(Hardware, hw_doc)
    workload_path = _input(data["workload"], "workload", doc, base)
    if workload_path.suffix.lower() == ".onnx":
        from accelsim.importers.onnx import import_onnx

        workload = import_onnx(workload_path).workload
    else:
        workload = load_workload(workload_path)
    given: dict[str, Any] = {name: _option_value(name, data[name], doc.where((name,)))
                             for name in OPTIONS if name in data}
    options = RunOptions(**given)
    vary = data["vary"]
    if not isinstance(vary, dict) or not vary:
        raise ConfigError(f"{doc.where(('vary',))}: vary: must be a mapping of key paths or run options "
                          f"to their values, at least one, got {vary!r}")
    found = {name: _axis(name, given, doc, hw_doc.data) for name, given in vary.items()}
    axes = tuple(Axis(name, _check_values(name, values, hw_doc.data)) for name, values in found.items())
    where, constants, at = None, {}, doc.where(("where",))
    if data.get("where") is not None:
        try:
            where = parse(data["where"])
        except AccelsimError as exc:
            raise type(exc)(f"{at}: where: {exc}") from None
        varied = {a.name for a in axes}
        for name in where.names:
            if name in varied:
                continue
            if not is_option(name) and name != "parts":
                _hw_path(name, hw_doc.data, f"{at}: where")
            constants[name] = _base_value(name, hw, options, at)
    return Sweep(source, hw_doc.data, hw, workload, options, axes, where, at, constants, doc.where(("vary",)))
