"""Files written whole or not at all: every file accelsim writes goes to a temporary name in
the same directory and is renamed over the target only once complete, so an interrupt (Ctrl-C)
or an error mid-write never leaves a half-written file (an older file of that name stays)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from accelsim.errors import ConfigError


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a new, empty temporary file beside `path` to write; when the block ends normally
    it is renamed to `path` (atomic on one file system), on any exception (KeyboardInterrupt
    too) it is removed and the exception goes on. A directory that cannot take the file is a
    ConfigError naming `path`."""
    target = Path(path)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        # 0o666 less the umask: the file gets the mode a plain open() would give it
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write: {exc.strerror or exc}") from None
    try:
        yield temp
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` whole or not at all; ConfigError naming `path` if it cannot."""
    try:
        with replacing(path) as temp:
            temp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
