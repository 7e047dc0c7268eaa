"""The Pareto front of a sweep's points (every objective minimised) and what tells two points
apart: pure functions, exact comparisons (metrics are compared as stored, no tolerance)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Metrics = Mapping[str, Any]


@dataclass(frozen=True)
class Front:
    """Indices into the points given: `front` (non-dominated; in order of the objectives,
    first objective ascending, ties by index), `dominated` and `excluded` (an error, or a
    None or NaN objective: not compared), both ascending."""

    front: tuple[int, ...]
    dominated: tuple[int, ...]
    excluded: tuple[int, ...]


def _metrics(point: object) -> Metrics | None:
    """A point's metrics: a StoredPoint's (None when it has an error), or the mapping itself."""
    if isinstance(point, Mapping):
        return point
    if getattr(point, "error", None) is not None:
        return None
    metrics = getattr(point, "metrics", None)
    return metrics if isinstance(metrics, Mapping) else None


def objective_values(point: object, objectives: Sequence[str]) -> tuple | None:
    """The point's values of `objectives`, in order; None when it has an error or any of them
    is missing, None or NaN."""
    metrics = _metrics(point)
    if metrics is None:
        return None
    values = tuple(metrics.get(name) for name in objectives)
    if any(v is None or isinstance(v, bool) or (isinstance(v, float) and math.isnan(v)) for v in values):
        return None
    return values


def split(points: Sequence[object], objectives: Sequence[str]) -> Front:
    """Split `points` (StoredPoints or metric mappings) into the front over `objectives`, the
    dominated and the excluded. A point is dominated when another is no worse in every
    objective and better in one; equal points are both on the front. O(n log n + n x front)."""
    if not objectives:
        raise ValueError("a Pareto front needs at least one objective")
    valued: list[tuple[tuple, int]] = []
    excluded: list[int] = []
    for index, point in enumerate(points):
        values = objective_values(point, objectives)
        if values is None:
            excluded.append(index)
        else:
            valued.append((values, index))
    valued.sort()
    # a point can be dominated only by one before it in this order, and if by any, then by one
    # on the front (domination is transitive): so compare with the front so far
    kept: list[tuple[tuple, int]] = []
    dominated: list[int] = []
    for values, index in valued:
        if any(_dominates(other, values) for other, _ in kept):
            dominated.append(index)
        else:
            kept.append((values, index))
    return Front(tuple(index for _, index in kept), tuple(sorted(dominated)), tuple(excluded))


def _dominates(a: tuple, b: tuple) -> bool:
    return a != b and all(x <= y for x, y in zip(a, b, strict=True))


def front(points: Sequence[object], objectives: Sequence[str]) -> list[int]:
    """Indices of the points on the front over `objectives` (minimised), first objective
    ascending (ties by the others, then index); see `split` for the excluded."""
    return list(split(points, objectives).front)


def value_text(value: object) -> str:
    """A parameter value as a person reads it (floats shortest round-trip, as stored)."""
    return "-" if value is None else str(value)


def differences(a_params: Mapping[str, Any], b_params: Mapping[str, Any],
                names: Mapping[str, str] | None = None) -> str:
    """What changes from `a_params` to `b_params`, key paths sorted: "systolic_array.rows 32 ->
    64, schedule fused -> pipelined" ("-" for a key one of them lacks; "" when none differ).
    `names` renames key paths (e.g. `short_names`)."""
    names = names or {}
    parts = []
    for key in sorted(set(a_params) | set(b_params)):
        a, b = a_params.get(key), b_params.get(key)
        if a != b or type(a) is not type(b):
            parts.append(f"{names.get(key, key)} {value_text(a)} -> {value_text(b)}")
    return ", ".join(parts)


def describe(params: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """Every parameter, key paths sorted: "schedule=fused, systolic_array.rows=32"."""
    names = names or {}
    return ", ".join(f"{names.get(k, k)}={value_text(params[k])}" for k in sorted(params))


def short_names(keys: Iterable[str]) -> dict[str, str]:
    """Each key path -> its shortest dotted suffix that no other key ends with
    ("systolic_array.rows" -> "rows" unless another key path ends in ".rows")."""
    keys = sorted(set(keys))
    split_keys = {k: k.split(".") for k in keys}
    names = {}
    for key, parts in split_keys.items():
        for n in range(1, len(parts) + 1):
            suffix = parts[-n:]
            if not any(o != key and other[-n:] == suffix for o, other in split_keys.items()):
                names[key] = ".".join(suffix)
                break
        else:
            names[key] = key
    return names
