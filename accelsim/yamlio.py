"""Strict YAML reading: SafeLoader only, duplicate keys rejected, lines kept for errors.

libyaml's parser (CSafeLoader) reads when PyYAML has it; text it rejects is read again by
the pure-Python one, so the error messages are the same either way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from accelsim.errors import ConfigError

if TYPE_CHECKING:
    _Constructor = yaml.constructor.SafeConstructor
else:
    _Constructor = object


class _UniqueKeys(_Constructor):
    """Loader mixin: refuses a mapping with the same key twice, or with a key that is not a
    plain value."""

    name: str

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise ConfigError(f"{self.name}:{key_node.start_mark.line + 1}: a mapping key must be "
                                  f"a plain value, got {key!r}")
            if key in seen:
                raise ConfigError(
                    f"{self.name}:{key_node.start_mark.line + 1}: duplicate key {key!r} "
                    f"(first given on line {seen[key]})"
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


class StrictSafeLoader(_UniqueKeys, yaml.SafeLoader):
    """The pure-Python SafeLoader, strict."""


_FastLoader: type | None = None
if yaml.__with_libyaml__:
    class StrictCSafeLoader(_UniqueKeys, yaml.CSafeLoader):
        """libyaml's SafeLoader, strict."""

    _FastLoader = StrictCSafeLoader


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML data plus the node tree, so errors can cite a line."""

    source: str
    data: Any
    root: yaml.Node | None

    def line(self, path: tuple[str | int, ...]) -> int | None:
        """1-based line of the deepest node along `path` (a key path into the data)."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for step in path:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == str(step):
                        child, line = value_node, key_node.start_mark.line + 1
                        break
            elif (isinstance(node, yaml.SequenceNode) and isinstance(step, int)
                  and 0 <= step < len(node.value)):
                child = node.value[step]
                line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line

    def where(self, path: tuple[str | int, ...]) -> str:
        """`source:line` for a key path, for the front of an error message."""
        line = self.line(path)
        return f"{self.source}:{line}" if line is not None else self.source


def read_yaml(path: str | Path) -> YamlDocument:
    """Read one YAML document from `path`; any problem is a ConfigError naming the file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    return read_yaml_text(text, source)


def _parse(loader_class: type, text: str, source: str) -> YamlDocument:
    loader = loader_class(text)
    loader.name = source
    try:
        root = loader.get_single_node()
        return YamlDocument(source, loader.construct_document(root) if root is not None else None, root)
    finally:
        loader.dispose()


def read_yaml_text(text: str, source: str) -> YamlDocument:
    """Parse one YAML document held in `text`, naming it `source` in errors."""
    if _FastLoader is not None:
        try:
            return _parse(_FastLoader, text, source)
        except yaml.YAMLError:
            pass                            # the pure-Python parser words the error
    try:
        return _parse(StrictSafeLoader, text, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}{line}: not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
