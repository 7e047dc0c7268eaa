"""The `where` language of a sweep file: a condition on a point's values, parsed once by a
tokenizer and recursive-descent parser of its own (nothing of Python's is evaluated), and
evaluated per point over the names it uses.

    condition := or
    or        := and ("or" and)*
    and       := not ("and" not)*
    not       := "not" not | compare
    compare   := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)*     (chained: a < b <= c)
    sum       := term (("+" | "-") term)*
    term      := unary (("*" | "/" | "//" | "%") unary)*
    unary     := ("-" | "+") unary | power
    power     := atom ("**" unary)?                                     (right to left, as Python)
    atom      := NUMBER | STRING | "true" | "false" | NAME | FUNC "(" condition ("," condition)* ")"
               | "(" condition ")"
    NAME      := WORD ("." WORD)*      a key path into the hardware config, or a run option
    FUNC      := "min" | "max" | "abs" | "log2"

Numbers are whole (`2`, digits only) or decimal (`0.5`, `1e6`); strings are quoted with '
or " (no escapes). Arithmetic takes numbers only, `<`-style comparisons two
numbers or two strings, `and`/`or`/`not` true or false. Bounded: at most MAX_WHERE_CHARS
characters, MAX_WHERE_DEPTH levels of nesting, whole numbers of at most MAX_WHERE_BITS bits
(an exponent too); past a bound, a LimitError."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from accelsim.errors import AccelsimError, ConfigError, LimitError
from accelsim.limits import MAX_WHERE_BITS, MAX_WHERE_CHARS, MAX_WHERE_DEPTH

Value = int | float | str | bool | None

KEYWORDS = ("and", "or", "not", "true", "false")
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<name>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)
  | (?P<op>\*\*|//|<=|>=|==|!=|[-+*/%<>(),])
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str           # number, string, name, op, keyword, end
    text: str
    column: int         # 1-based


@dataclass(frozen=True)
class Node:
    """One node of a parsed condition: `kind` (const, name, neg, pos, not, binary operator,
    compare, and, or, call), its `value` (a constant, a name, a function's name or the
    comparison operators) and its operands."""

    kind: str
    value: object = None
    args: tuple[Node, ...] = ()
    depth: int = 1


def _positive_log2(x: float) -> float:
    if x <= 0:
        raise ValueError(f"log2 of {x!r}: needs a number > 0")
    return math.log2(x)


FUNCTIONS: Mapping[str, tuple[int, int | None, Callable]] = {
    "min": (1, None, min), "max": (1, None, max), "abs": (1, 1, abs), "log2": (1, 1, _positive_log2)}
"""Function name -> (least arguments, most arguments or None, implementation)."""


def tokens(text: str) -> list[Token]:
    """The tokens of `text`; ConfigError at the first character that starts none."""
    out, at = [], 0
    while at < len(text):
        m = _TOKEN.match(text, at)
        if m is None:
            raise ConfigError(f"unexpected character {text[at]!r} at column {at + 1}")
        kind = m.lastgroup or ""
        if kind != "space":
            word = m.group()
            out.append(Token("keyword" if kind == "name" and word in KEYWORDS else kind, word, at + 1))
        at = m.end()
    out.append(Token("end", "", len(text) + 1))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokens(text)
        self.at = 0
        self.level = 0

    def peek(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text or token.kind not in ("op", "keyword"):
            raise ConfigError(f"expected {text!r} at column {token.column}, got {_shown(token)}")

    def node(self, kind: str, value: object = None, args: tuple[Node, ...] = ()) -> Node:
        depth = 1 + max((a.depth for a in args), default=0)
        if depth > MAX_WHERE_DEPTH:
            raise LimitError(f"nested more than {MAX_WHERE_DEPTH} levels deep (the limit) at column "
                             f"{self.peek().column}")
        return Node(kind, value, args, depth)

    def nested(self, parse: Callable[[], Node]) -> Node:
        """`parse()` one level deeper (parentheses, a call, a prefix operator, an exponent)."""
        self.level += 1
        if self.level > MAX_WHERE_DEPTH:
            raise LimitError(f"nested more than {MAX_WHERE_DEPTH} levels deep (the limit) at column "
                             f"{self.peek().column}")
        try:
            return parse()
        finally:
            self.level -= 1

    def condition(self) -> Node:
        return self.logic("or", lambda: self.logic("and", self.negation))

    def logic(self, word: str, operand: Callable[[], Node]) -> Node:
        parts = [operand()]
        while self.peek().kind == "keyword" and self.peek().text == word:
            self.take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else self.node(word, None, tuple(parts))

    def negation(self) -> Node:
        if self.peek().kind == "keyword" and self.peek().text == "not":
            self.take()
            return self.node("not", None, (self.nested(self.negation),))
        return self.compare()

    def compare(self) -> Node:
        first = self.binary(("+", "-"), lambda: self.binary(("*", "/", "//", "%"), self.unary))
        ops, rest = [], [first]
        while self.peek().kind == "op" and self.peek().text in COMPARISONS:
            ops.append(self.take().text)
            rest.append(self.binary(("+", "-"), lambda: self.binary(("*", "/", "//", "%"), self.unary)))
        return first if not ops else self.node("compare", tuple(ops), tuple(rest))

    def binary(self, ops: tuple[str, ...], operand: Callable[[], Node]) -> Node:
        left = operand()
        while self.peek().kind == "op" and self.peek().text in ops:
            op = self.take().text
            left = self.node(op, None, (left, operand()))
        return left

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text in ("-", "+"):
            self.take()
            return self.node("neg" if token.text == "-" else "pos", None, (self.nested(self.unary),))
        base = self.atom()
        if self.peek().kind == "op" and self.peek().text == "**":
            self.take()
            return self.node("**", None, (base, self.nested(self.unary)))
        return base

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return self.node("const", _number(token))
        if token.kind == "string":
            return self.node("const", token.text[1:-1])
        if token.kind == "keyword" and token.text in ("true", "false"):
            return self.node("const", token.text == "true")
        if token.kind == "op" and token.text == "(":
            inner = self.nested(self.condition)
            self.expect(")")
            return inner
        if token.kind == "name":
            if self.peek().text == "(" and self.peek().kind == "op":
                return self.call(token)
            return self.node("name", token.text)
        raise ConfigError(f"expected a number, a name or '(' at column {token.column}, got {_shown(token)}")

    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            raise ConfigError(f"unknown function {name.text!r} at column {name.column} "
                              f"(functions: {', '.join(FUNCTIONS)})")
        self.expect("(")
        args = [self.nested(self.condition)]
        while self.peek().kind == "op" and self.peek().text == ",":
            self.take()
            args.append(self.nested(self.condition))
        self.expect(")")
        least, most, _ = FUNCTIONS[name.text]
        if len(args) < least or (most is not None and len(args) > most):
            count = f"{least}" if least == most else f"at least {least}"
            raise ConfigError(f"{name.text}() at column {name.column} takes {count} argument(s), "
                              f"got {len(args)}")
        return self.node("call", name.text, tuple(args))


def _shown(token: Token) -> str:
    return "the end" if token.kind == "end" else repr(token.text)


def _number(token: Token) -> int | float:
    text = token.text
    if re.fullmatch(r"\d+", text):
        if len(text) > MAX_WHERE_BITS // 3:         # a decimal digit is more than 3 bits
            raise LimitError(f"number at column {token.column} has {len(text):,} digits, over "
                             f"{MAX_WHERE_BITS:,} bits (the limit)")
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise ConfigError(f"number {text!r} at column {token.column} is too large")
    return value


def _names(node: Node) -> set[str]:
    if node.kind == "name":
        return {str(node.value)}
    return set().union(*(_names(a) for a in node.args)) if node.args else set()


@dataclass(frozen=True)
class Expression:
    """A parsed `where` condition: its `text`, its tree, and the `names` it reads (sorted)."""

    text: str
    root: Node
    names: tuple[str, ...]

    def evaluate(self, env: Mapping[str, Value]) -> bool:
        """The condition at one point, `env` holding a value for each of `names`; ConfigError
        (LimitError past a bound) on a type or arithmetic error, e.g. a division by zero."""
        try:
            result = _evaluate(self.root, env)
        except (ZeroDivisionError, OverflowError, ValueError) as exc:
            if isinstance(exc, AccelsimError):
                raise
            raise ConfigError(str(exc)) from None
        if not isinstance(result, bool):
            raise ConfigError(f"the condition gives {result!r}, not true or false")
        return result


def parse(text: str) -> Expression:
    """Parse a `where` condition; ConfigError (LimitError past a bound) saying where it fails."""
    if not isinstance(text, str):
        raise ConfigError(f"must be a string (a condition), got {text!r}")
    if len(text) > MAX_WHERE_CHARS:
        raise LimitError(f"{len(text):,} characters, over the limit of {MAX_WHERE_CHARS:,}")
    parser = _Parser(text)
    if parser.peek().kind == "end":
        raise ConfigError("empty condition")
    root = parser.condition()
    if parser.peek().kind != "end":
        token = parser.peek()
        raise ConfigError(f"unexpected {_shown(token)} at column {token.column}")
    if root.kind not in ("compare", "and", "or", "not") and not (
            root.kind == "const" and isinstance(root.value, bool)):
        raise ConfigError("must be a condition (a comparison, and, or, not, true or false)")
    return Expression(text, root, tuple(sorted(_names(root))))


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _check_int(x: Value) -> Value:
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > MAX_WHERE_BITS:
        raise LimitError(f"a whole number of {x.bit_length():,} bits, over {MAX_WHERE_BITS:,} (the limit)")
    return x


def _power(a: int | float, b: int | float) -> int | float:
    if abs(b) > MAX_WHERE_BITS:
        raise LimitError(f"exponent {b!r} is over {MAX_WHERE_BITS:,} (the limit)")
    if isinstance(a, int) and isinstance(b, int) and b > 0 and (abs(a).bit_length() - 1) * b > MAX_WHERE_BITS:
        raise LimitError(f"{a!r} ** {b!r} is over {MAX_WHERE_BITS:,} bits (the limit)")
    if a == 0 and b < 0:
        raise ZeroDivisionError("0 to a negative power")
    out = a ** b
    if isinstance(out, complex):
        raise ValueError(f"{a!r} ** {b!r} is not a real number")
    return out


_ARITHMETIC: Mapping[str, Callable[[int | float, int | float], int | float]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "//": lambda a, b: a // b, "%": lambda a, b: a % b, "**": _power}
_COMPARE: Mapping[str, Callable[[Value, Value], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,     # type: ignore[operator]
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,     # type: ignore[operator]
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def _bool(x: Value, what: str) -> bool:
    if not isinstance(x, bool):
        raise ConfigError(f"{what} needs true or false, got {x!r}")
    return x


def _evaluate(node: Node, env: Mapping[str, Value]) -> Value:
    kind = node.kind
    if kind == "const":
        return node.value         # type: ignore[return-value]
    if kind == "name":
        return env[str(node.value)]
    if kind in ("and", "or"):
        for arg in node.args:
            if _bool(_evaluate(arg, env), f"'{kind}'") == (kind == "or"):
                return kind == "or"
        return kind == "and"
    if kind == "not":
        return not _bool(_evaluate(node.args[0], env), "'not'")
    if kind == "compare":
        left = _evaluate(node.args[0], env)
        for op, arg in zip(node.value, node.args[1:], strict=True):   # type: ignore[call-overload]
            right = _evaluate(arg, env)
            if op not in ("==", "!=") and not (_is_number(left) and _is_number(right)) and not (
                    isinstance(left, str) and isinstance(right, str)):
                raise ConfigError(f"'{op}' compares two numbers or two strings, got {left!r} and {right!r}")
            if not _COMPARE[op](left, right):
                return False
            left = right
        return True
    args = [_evaluate(a, env) for a in node.args]
    what = f"{node.value}()" if kind == "call" else {"neg": "'-'", "pos": "'+'"}.get(kind, f"'{kind}'")
    for a in args:
        if not _is_number(a):
            raise ConfigError(f"{what} needs numbers, got {a!r}")
    numbers: list[int | float] = args      # type: ignore[assignment]
    if kind == "call":
        return _check_int(FUNCTIONS[str(node.value)][2](*numbers))
    if kind == "neg":
        return -numbers[0]
    if kind == "pos":
        return numbers[0]
    return _check_int(_ARITHMETIC[kind](*numbers))
