"""A problem found in a schedule: where (file, line, op) and what."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding; `line` is 1-based in `source`, None when the schedule came from no file."""

    source: str
    line: int | None
    op: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: " + (f"op {self.op}: " if self.op else "") + self.message
