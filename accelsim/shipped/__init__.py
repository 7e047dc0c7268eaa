"""What ships with accelsim, and the one rule that turns a name or a path into an input file.

Shipped: the hardware configs (`hwconfigs/*.yaml`), the workload traces (`traces/*.yaml`) and
the SCALE-Sim topologies (`traces/scalesim/*.csv`). The repository's top-level `hwconfigs/` and
`traces/` directories are linked into this package (`accelsim/shipped/hwconfigs`, `.../traces`
are symlinks), so a checkout, an editable install and a plain `pip install .` (which copies the
files into the wheel: pyproject.toml's package-data) all read them from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from accelsim.errors import ConfigError

ROOT = Path(__file__).parent
"""Where the shipped files are: ROOT / Kind.directory / NAME + Kind.suffix."""


@dataclass(frozen=True)
class Kind:
    """One kind of shipped input file."""

    title: str        # what one such file is, e.g. "hardware config"
    plural: str       # and more than one, e.g. "hardware configs"
    directory: str    # relative to ROOT, and to the repository's top
    suffix: str       # lower case, e.g. ".yaml"
    usage: str        # where a NAME of this kind goes on the command line


KINDS = {
    "hw": Kind("hardware config", "hardware configs", "hwconfigs", ".yaml",
               "accelsim run NAME WORKLOAD, scalesim --hw NAME"),
    "workload": Kind("workload trace", "workload traces", "traces", ".yaml", "accelsim run HW NAME"),
    "topology": Kind("SCALE-Sim topology", "SCALE-Sim topologies", "traces/scalesim", ".csv",
                     "accelsim scalesim NAME"),
}
"""The kinds of shipped file, by the key `resolve` takes."""


def names(kind: str) -> list[str]:
    """The names of the shipped files of `kind` (file names without the suffix), sorted."""
    k = KINDS[kind]
    folder = ROOT / k.directory
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(k.suffix)] for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() == k.suffix)


def shipped_file(kind: str, name: str) -> Path | None:
    """The shipped file of `kind` called `name` (`default`, or `default.yaml` with the
    suffix in any case), or None."""
    k = KINDS[kind]
    if name.lower().endswith(k.suffix):
        name = name[: -len(k.suffix)]
    return ROOT / k.directory / f"{name}{k.suffix}" if name in names(kind) else None


def resolve(path: str | Path, kind: str) -> Path:
    """The file that `path` names, for an input of `kind` (a key of KINDS).

    An existing file wins. Otherwise a bare name (`default`, `resnet50.yaml`) or a shipped
    file's path relative to the repository's top (`hwconfigs/default.yaml`) names the shipped
    file, from any directory. An unknown bare name is a ConfigError listing what ships; any
    other path is returned as given, for its reader to report."""
    given = Path(path)
    if given.is_file():
        return given
    directory = KINDS[kind].directory
    bare = given.parent == Path(".") and str(path) == given.name
    if bare or (not given.is_absolute() and given.parent.as_posix() == directory):
        found = shipped_file(kind, given.name)
        if found is not None:
            return found
    if bare and not given.exists():
        raise ConfigError(f"{path}: no such file, and no shipped {KINDS[kind].title} of that name "
                          f"(shipped: {', '.join(names(kind)) or 'none'}; `accelsim list` describes them)")
    return given


def description(path: Path) -> str:
    """The first sentence of the comment lines a file starts with ('' when it has none);
    a leading `NAME: ` that repeats the file's name is dropped."""
    lines = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("#"):
                break
            lines.append(line.lstrip("#").strip())
    text = " ".join(part for part in lines if part)
    match = re.match(r"(.+?\.)(?:\s|$)", text)
    sentence = match.group(1) if match else text
    stem = path.name.rsplit(".", 1)[0]
    return sentence[len(stem) + 2:] if sentence.startswith(f"{stem}: ") else sentence


def listing() -> str:
    """What `accelsim list` prints: each kind of shipped file, its names and descriptions."""
    out = []
    for key, k in KINDS.items():
        found = names(key)
        out.append(f"{k.plural} ({k.usage}), in {ROOT / k.directory}:")
        width = max((len(n) for n in found), default=0)
        out += [f"  {n:<{width}}  {description(ROOT / k.directory / (n + k.suffix))}".rstrip()
                for n in found] or ["  (none)"]
    out.append("A path to a file of your own works wherever a NAME does; an existing file wins.")
    return "\n".join(out)
