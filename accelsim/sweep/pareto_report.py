"""The Pareto front of a store as text: the front's points in x order (their parameters and
the chosen metrics with units), and a line counting the points, the front and the excluded."""

from __future__ import annotations

from collections.abc import Sequence

from accelsim.errors import ConfigError
from accelsim.report import format_table
from accelsim.sweep.metrics import METRICS
from accelsim.sweep.pareto import Front, split, value_text
from accelsim.sweep.store import StoredPoint


def check_metrics(names: Sequence[str]) -> None:
    """ConfigError naming the first of `names` that is no metric (METRICS), and any repeat."""
    for name in names:
        if name not in METRICS:
            raise ConfigError(f"unknown metric {name!r}: expected one of {', '.join(METRICS)}")
    if len(set(names)) != len(names):
        raise ConfigError(f"a metric is named twice in {', '.join(names)}: each axis needs its own")


def metric_text(value: object) -> str:
    """A metric as a table shows it: integers with thousands separators, floats to 6
    significant digits (whole numbers past a million), "-" for none."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1e6 else f"{value:,.6g}"
    return value_text(value)


def summary(points: Sequence[StoredPoint], parts: Front, objectives: Sequence[str]) -> str:
    """"12 points, 5 on the front over total_cycles, energy_pj, 1 excluded (1 with an error,
    0 without a value)"."""
    errors = sum(1 for i in parts.excluded if points[i].error is not None)
    return (f"{len(points)} points, {len(parts.front)} on the front over {', '.join(objectives)}, "
            f"{len(parts.excluded)} excluded ({errors} with an error, {len(parts.excluded) - errors} "
            "without a value)")


def front_table(points: Sequence[StoredPoint], objectives: Sequence[str]) -> str:
    """The front over `objectives` (the first is x: rows in its order), one row per point:
    its number on the front, every parameter (key paths sorted), each objective with its
    unit; then the summary line."""
    check_metrics(objectives)
    parts = split(points, objectives)
    keys = sorted({k for i in parts.front for k in points[i].params})
    head = ["#", *keys, *(f"{m} ({METRICS[m]})" for m in objectives)]
    rows = [[str(n), *(value_text(points[i].params.get(k)) for k in keys),
             *(metric_text(points[i].metrics[m]) for m in objectives)]
            for n, i in enumerate(parts.front, 1)]
    table = format_table(head, rows) if rows else "(no point on the front)"
    return f"{table}\n{summary(points, parts, objectives)}"
