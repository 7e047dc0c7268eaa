"""A store as a table: one row per point (the store's order, `read_points`), a column per
varied key path or run option, per metric (`METRICS`), then `fast_path` and `error`. CSV
(the csv module) or Parquet (pyarrow, the `sweep` extra), by the file's suffix; written whole
(accelsim/atomic.py)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accelsim import atomic
from accelsim.errors import ConfigError
from accelsim.sweep.metrics import METRICS
from accelsim.sweep.store import read_points

FORMATS = {".csv": "csv", ".parquet": "parquet"}


def export_format(path: str | Path) -> str:
    """csv or parquet, by `path`'s suffix; ConfigError for another suffix, or for Parquet
    without pyarrow installed (checked before a sweep runs)."""
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise ConfigError(f"{path}: export to .csv or .parquet (by the suffix)")
    if found == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ConfigError(f"{path}: Parquet needs pyarrow, which is not installed: "
                              "pip install 'accelsim[sweep]'") from None
    return found


def table(store: str | Path, first: Sequence[str] = ()) -> tuple[list[str], list[list[Any]]]:
    """(column names, rows) of the store: the parameter columns `first` in that order, then
    any other parameter the store's points have (sorted), the metrics, fast_path, error."""
    points = read_points(store)
    names = dict.fromkeys(first)
    names.update(dict.fromkeys(sorted({n for p in points for n in p.params} - set(names))))
    columns = [*names, *METRICS, "fast_path", "error"]
    rows = [[p.params.get(n) for n in names] + [p.metrics[m] for m in METRICS] + [p.fast_path, p.error]
            for p in points]
    return columns, rows


def export(store: str | Path, path: str | Path, first: Sequence[str] = ()) -> int:
    """Write the store's table (`table`) to `path`, CSV or Parquet by its suffix; the rows."""
    kind = export_format(path)
    columns, rows = table(store, first)
    try:
        with atomic.replacing(path) as temp:
            if kind == "csv":
                with temp.open("w", newline="", encoding="utf-8") as f:
                    writer = csv.writer(f, lineterminator="\n")
                    writer.writerow(columns)
                    writer.writerows([["" if v is None else v for v in row] for row in rows])
            else:
                _parquet(columns, rows, temp)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return len(rows)


def _parquet(columns: list[str], rows: list[list[Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for i in range(len(columns)):
        values = [row[i] for row in rows]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):      # mixed types (a string and a number)
            arrays.append(pa.array([None if v is None else str(v) for v in values]))
    pq.write_table(pa.table(arrays, names=columns), path)
