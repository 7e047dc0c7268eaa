"""Strict YAML reading: SafeLoader only, duplicate keys rejected, lines kept for errors.

libyaml's parser (CSafeLoader) reads when PyYAML has it; text it rejects is read again by
the pure-Python one, so the error messages are the same either way.

Hostile text is refused before any object is built: collections nested deeper than
MAX_DEPTH levels (the pure-Python composer recurses once per level, so this is checked as
it composes), and aliases that would add more than MAX_ALIAS_NODES nodes to the document
once expanded (a "billion laughs" bomb composes into a few nodes, but every reader of the
data, the schema checks first, walks the expanded tree) or that refer to the collection
holding them. libyaml composes in C (its own limit is 1,000 levels); its node graph is
measured without recursion, and the pure-Python composer re-reads text over a limit to
name the line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from accelsim.errors import ConfigError

MAX_DEPTH = 100
"""Most nested collection levels a document may have (aliases expanded): the files accelsim
reads nest 5 at most, and the pure-Python composer recurses twice per level."""
MAX_ALIAS_NODES = 10_000
"""Most nodes the aliases of a document may add when expanded (each alias counts the nodes of
what it names)."""

_TOO_DEEP = f"collections nested more than {MAX_DEPTH} levels deep (the limit)"

if TYPE_CHECKING:
    _Constructor = yaml.constructor.SafeConstructor
    _Composer = yaml.SafeLoader
else:
    _Constructor = _Composer = object


def _children(node: yaml.Node | None) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class _Bounded(_Composer):
    """Composer mixin: refuses nesting deeper than MAX_DEPTH, aliases adding more than
    MAX_ALIAS_NODES nodes, and an alias inside the collection it names, at the line where
    that happens, before the nested or aliased nodes are composed."""

    name: str
    _open: int                                  # collections being composed around the next node
    _added: int                                 # nodes the aliases so far add
    _measure: dict[int, tuple[int, int]]        # id(node) -> (nodes, height), aliases expanded

    def compose_document(self) -> yaml.Node | None:
        self._open, self._added, self._measure = 0, 0, {}
        return super().compose_document()

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        line = f"{self.name}:{event.start_mark.line + 1}"
        if isinstance(event, yaml.AliasEvent) and event.anchor in self.anchors:
            target = self.anchors[event.anchor]
            if id(target) not in self._measure:
                raise ConfigError(f"{line}: alias *{event.anchor} is inside the collection it names "
                                  "(a structure without end)")
            nodes, height = self._measure[id(target)]
            self._added += nodes
            if self._added > MAX_ALIAS_NODES:
                raise ConfigError(f"{line}: alias *{event.anchor} brings the nodes aliases add to "
                                  f"{self._added:,}, over the limit of {MAX_ALIAS_NODES:,}")
            if self._open + height > MAX_DEPTH:
                raise ConfigError(f"{line}: alias *{event.anchor} nests collections "
                                  f"{self._open + height} levels deep, over the limit of {MAX_DEPTH}")
            return super().compose_node(parent, index)
        opens = isinstance(event, yaml.CollectionStartEvent)
        if opens:
            if self._open >= MAX_DEPTH:
                raise ConfigError(f"{line}: {_TOO_DEEP}")
            self._open += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._open -= opens
        kids = [self._measure[id(n)] for n in _children(node)]
        self._measure[id(node)] = (1 + sum(n for n, _ in kids),
                                   opens + max((h for _, h in kids), default=0))
        return node


def over_limits(root: yaml.Node, aliased: bool) -> bool:
    """Whether a composed node graph nests deeper than MAX_DEPTH, or (`aliased`: the text has
    anchors) has aliases adding more than MAX_ALIAS_NODES nodes or contains itself; measured
    without recursion. Without anchors the graph is a tree and only its collections are
    visited."""
    if not aliased:
        stack = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if isinstance(node, yaml.CollectionNode):
                if depth > MAX_DEPTH:
                    return True
                stack += [(n, depth + 1) for n in _children(node) if isinstance(n, yaml.CollectionNode)]
        return False
    measure: dict[int, tuple[int, int]] = {}        # id(node) -> (nodes, height), expanded
    entered: set[int] = set()
    todo: list[tuple[yaml.Node, bool]] = [(root, False)]
    while todo:
        node, done = todo.pop()
        key, kids = id(node), _children(node)
        if done:
            sub = [measure[id(n)] for n in kids]
            height = isinstance(node, yaml.CollectionNode) + max((h for _, h in sub), default=0)
            measure[key] = (1 + sum(n for n, _ in sub), height)
            entered.discard(key)
            if height > MAX_DEPTH:
                return True
        elif key not in measure:
            if key in entered:
                return True                         # reached again below itself: a cycle
            entered.add(key)
            todo.append((node, True))
            todo += [(n, False) for n in kids]
    return measure[id(root)][0] - len(measure) > MAX_ALIAS_NODES


class _UniqueKeys(_Constructor):
    """Loader mixin: refuses a mapping with the same key twice, or with a key that is not a
    plain value, and words a scalar its tag cannot read (`!!int abc`, a month 13, an integer
    of more digits than Python converts) as an error at its line."""

    name: str

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except ConfigError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            kind = node.tag.rpartition(":")[2]
            text = node.value if isinstance(node, yaml.ScalarNode) else ""
            shown = repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text):,} characters)"
            raise ConfigError(f"{self.name}:{node.start_mark.line + 1}: cannot read {shown} as "
                              f"{kind} ({str(exc).partition(';')[0]})") from None

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


class StrictSafeLoader(_Bounded, _UniqueKeys, yaml.SafeLoader):
    """The pure-Python SafeLoader, strict and bounded."""


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
        if root is not None and loader_class is _FastLoader and over_limits(root, "&" in text):
            raise yaml.YAMLError("over a limit")    # the pure-Python composer says which, where
        return YamlDocument(source, loader.construct_document(root) if root is not None else None, root)
    finally:
        loader.dispose()


def read_yaml_text(text: str, source: str) -> YamlDocument:
    """Parse one YAML document held in `text`, naming it `source` in errors."""
    if _FastLoader is not None:
        try:
            return _parse(_FastLoader, text, source)
        except yaml.MarkedYAMLError as exc:
            if exc.problem_mark is not None and "flow level" in str(exc.context) \
                    and "maximum nesting depth" in str(exc.problem):
                # libyaml stops at 1,000 flow levels; the pure-Python scanner takes ~0.5 s to
                # reach level MAX_DEPTH in a long run of brackets (it looks 1,024 characters ahead
                # for a key at each level), so its line is not waited for
                raise ConfigError(f"{source}:{exc.problem_mark.line + 1}: {_TOO_DEEP}") from None
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
