"""A sweep's store: one SQLite file, one row per point, committed the moment the point is done.

Table `points`: `key` (the point's content hash, `point_key`: primary key), `params` (the
varied key paths and their values, canonical JSON), one column per metric
(`accelsim.sweep.metrics.METRICS`, NULL where the run has none), `fast_path` (1 when the
closed form gave the metrics, not the engine), `error` (why the point could not run, e.g.
its schedule does not fit SRAM; its metrics NULL) and `version` (accelsim's). A point is
inserted once (`INSERT OR IGNORE`); the database runs in WAL mode with a busy timeout, so two
sweeps writing one store both finish and neither corrupts it. Reading never writes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelsim.errors import ConfigError
from accelsim.hw import Hardware
from accelsim.options import RunOptions
from accelsim.sweep.metrics import METRICS
from accelsim.workload import Workload

SCHEMA_VERSION = 1
COUNTS = ("cycles", "bytes", "MACs")
"""Metric units stored as INTEGER columns (exact); the rest are REAL."""
BUSY_TIMEOUT_S = 60.0
"""How long a write waits for another process's transaction on the same store, seconds."""

Value = int | float | str | bool | None


@dataclass(frozen=True)
class StoredPoint:
    """One row of a store."""

    key: str
    params: Mapping[str, Value]
    metrics: Mapping[str, float | int | None]
    fast_path: bool
    error: str | None
    version: str


def point_key(hw: Hardware, workload: Workload, options: RunOptions) -> str:
    """The content hash (sha256, hex) of the resolved hardware, workload and run options: equal
    inputs, equal keys, whatever file or key path they came from, in every process (nothing in
    it depends on the order of a set or of a dict's entries: Python's string hashing differs
    from process to process)."""
    text = json.dumps({"hw": hw.to_dict(), "workload": workload_digest(workload),
                       "options": options.as_dict()},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


_DIGESTS: dict[int, tuple[Workload, str]] = {}
_MOST_DIGESTS = 16


def workload_digest(workload: Workload) -> str:
    """The sha256 (hex) of a workload's content: its name, its tensors by name, its ops in order
    and its dtype, as canonical JSON; kept per workload object (a sweep keys every point with
    one workload: ResNet-50's JSON takes 3 ms)."""
    held = _DIGESTS.get(id(workload))
    if held is None or held[0] is not workload:
        text = json.dumps(dataclasses.asdict(workload), sort_keys=True, default=str)
        if len(_DIGESTS) >= _MOST_DIGESTS:
            _DIGESTS.clear()
        held = _DIGESTS[id(workload)] = (workload, hashlib.sha256(text.encode()).hexdigest())
    return held[1]


def canonical_params(params: Mapping[str, Value]) -> str:
    """`params` as the store writes them: JSON, keys sorted."""
    return json.dumps(dict(params), sort_keys=True)


_COLUMNS = ("key", "params", *METRICS, "fast_path", "error", "version")
_CHUNK = 500
"""Keys per query of `Store.read` (SQLite bounds the parameters of one statement)."""


def _connect(path: Path) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path}: not a sweep store: {exc}") from None
    return connection


class Store:
    """A store opened for writing (created with its table when new)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ConfigError(f"{self.path}: is a directory, expected a sweep store file (SQLite)")
        self._db = _connect(self.path)
        metric_columns = ", ".join(f"{name} {'INTEGER' if unit in COUNTS else 'REAL'}"
                                   for name, unit in METRICS.items())
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            db.execute(f"CREATE TABLE IF NOT EXISTS points (key TEXT PRIMARY KEY, params TEXT NOT NULL, "
                       f"{metric_columns}, fast_path INTEGER NOT NULL, error TEXT, version TEXT NOT NULL)")
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path}: not a sweep store: {exc}") from None
        _check_schema(self._db, self.path)

    def done(self) -> set[str]:
        """The keys of every point already in the store."""
        return {key for (key,) in self._db.execute("SELECT key FROM points")}

    def read(self, keys: Iterable[str]) -> dict[str, StoredPoint]:
        """The stored points among `keys`, by key (a key not in the store left out)."""
        wanted, found = list(dict.fromkeys(keys)), dict[str, StoredPoint]()
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM points WHERE key IN "
                                    f"({', '.join('?' * len(chunk))})", chunk)
            found.update((point.key, point) for point in map(_point, rows))
        return found

    def add(self, key: str, params: Mapping[str, Value], metrics: Mapping[str, Any] | None, *,
            fast_path: bool = False, error: str | None = None) -> bool:
        """Commit one point now; False when its key was already there (the row is kept as it was)."""
        from accelsim import __version__

        values = [metrics.get(name) if metrics else None for name in METRICS]
        cursor = self._db.execute(
            f"INSERT OR IGNORE INTO points ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            (key, canonical_params(params), *values, int(fast_path), error, __version__))
        return cursor.rowcount == 1

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_schema(db: sqlite3.Connection, path: Path) -> None:
    try:
        row = db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        columns = [r[1] for r in db.execute("PRAGMA table_info(points)")]
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path}: not a sweep store: {exc}") from None
    if row is None or row[0] != str(SCHEMA_VERSION) or tuple(columns) != _COLUMNS:
        raise ConfigError(f"{path}: not a sweep store of schema version {SCHEMA_VERSION} "
                          f"(expected table points with columns {', '.join(_COLUMNS)})")


def _order(point: StoredPoint) -> tuple:
    """Rows in a stable order: by their parameters (numbers by value), then key."""
    return (tuple((name, type(v).__name__ if not isinstance(v, int | float) or isinstance(v, bool)
                   else "", v if isinstance(v, int | float) and not isinstance(v, bool) else 0, str(v))
                  for name, v in sorted(point.params.items())), point.key)


def read_points(path: str | Path) -> list[StoredPoint]:
    """Every point of the store at `path`, in a stable order (by parameters, then key); the
    file is opened read-only. A missing file or one that is no store is a ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such sweep store")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path}: not a sweep store: {exc}") from None
    try:
        _check_schema(db, path)
        rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM points").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path}: not a sweep store: {exc}") from None
    finally:
        db.close()
    return sorted((_point(row) for row in rows), key=_order)


def _point(row: Iterable[Any]) -> StoredPoint:
    key, params, *values = row
    metrics = dict(zip(METRICS, values[:len(METRICS)], strict=True))
    fast_path, error, version = values[len(METRICS):]
    return StoredPoint(key, json.loads(params), metrics, bool(fast_path), error, version)
