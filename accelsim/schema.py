"""Structural validation of YAML data into frozen dataclasses.

The dataclasses declare their own field types and bounds (with
``typing.Annotated`` and pydantic ``Field``); :func:`build` checks a mapping
against them, collects every problem at once and reports each as
``file:line: key.path: what was expected, got what``.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any, TypeVar

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from accelsim.errors import ConfigError
from accelsim.yamlio import YamlDocument

T = TypeVar("T")

STRICT = ConfigDict(extra="forbid")
"""pydantic config every schema dataclass sets: unknown keys are errors."""

PosInt = Annotated[int, Field(strict=True, gt=0)]
NonNegInt = Annotated[int, Field(strict=True, ge=0)]
PosNumber = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]
NonNegNumber = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Name = Annotated[str, Field(strict=True, min_length=1)]

_ADAPTERS: dict[type, TypeAdapter] = {}


def format_path(path: tuple[str | int, ...]) -> str:
    """`("ops", 1, "kh")` -> `ops[1].kh`."""
    out = ""
    for step in path:
        if step == "[key]":                 # pydantic's marker for a bad mapping key
            out += " (key)"
        elif isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out or "(top level)"


def _keys_at(cls: Any, path: tuple) -> list[str]:
    """Field names of the dataclass reached by following `path` from `cls`."""
    for step in path:
        if not dataclasses.is_dataclass(cls) or isinstance(step, int):
            return []
        hint = typing.get_type_hints(cls, include_extras=True).get(step)
        cls = typing.get_args(hint)[0] if typing.get_origin(hint) is Annotated else hint
        cls = next((a for a in typing.get_args(cls) if dataclasses.is_dataclass(a)), cls)    # X | None: X
    return [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []


def _describe(error: Any, cls: type) -> str:
    kind, got, ctx = error["type"], error.get("input"), error.get("ctx", {})
    if kind == "missing":
        return "required key is missing"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        keys = _keys_at(cls, tuple(error["loc"][:-1]))
        return f"unknown key (expected one of: {', '.join(keys)})" if keys else "unknown key"
    if kind == "greater_than":
        return f"must be > {ctx['gt']}, got {got!r}"
    if kind == "greater_than_equal":
        return f"must be >= {ctx['ge']}, got {got!r}"
    if kind == "less_than_equal":
        most = ctx["le"]
        return f"must be <= {int(most) if most == int(most) else most:,}, got {got!r}"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}, got {got!r}"
    if kind.startswith("int"):
        return f"must be an integer, got {got!r}"
    if kind.startswith("float"):
        return f"must be a number, got {got!r}"
    if kind.startswith("bool"):
        return f"must be true or false, got {got!r}"
    if kind.startswith("string_too_short"):
        return "must not be empty"
    if kind.startswith("string"):
        return f"must be a string, got {got!r}"
    if kind.startswith(("dataclass", "dict", "model")):
        return f"must be a mapping, got {got!r}"
    if kind.startswith(("list", "tuple")):
        return f"must be a list, got {got!r}"
    if kind == "too_short":
        return f"must have at least {ctx['min_length']} item(s), got {got!r}"
    if kind == "too_long":
        return f"must have at most {ctx['max_length']} item(s), got {got!r}"
    if kind == "value_error":                   # a field's own check said what was wrong
        return str(ctx.get("error", error["msg"]))
    if kind == "finite_number":
        return f"must be a finite number, got {got!r}"
    return f"{error['msg']}, got {got!r}"


def problems(cls: type, data: Any, doc: YamlDocument, prefix: tuple = ()) -> tuple[Any, list[str]]:
    """Validate `data` (found at `prefix` in `doc`) as `cls`: (instance or None, problems)."""
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    try:
        return adapter.validate_python(data), []
    except ValidationError as exc:
        found = []
        for error in exc.errors():
            path = prefix + tuple(error["loc"])
            found.append(f"{doc.where(path)}: {format_path(path)}: {_describe(error, cls)}")
        return None, found


def raise_all(found: list[str]) -> None:
    """Raise one ConfigError listing every problem, if there are any."""
    if found:
        raise ConfigError("\n".join(found))


def build(cls: type[T], doc: YamlDocument) -> T:
    """The whole document as `cls`, or a ConfigError listing every problem."""
    value, found = problems(cls, doc.data, doc)
    raise_all(found)
    return value
