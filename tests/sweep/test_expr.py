"""The `where` language: Python's arithmetic and comparison results on the operators it has,
and every hostile text refused with a ConfigError or LimitError, never evaluated."""

from __future__ import annotations

import pytest

from accelsim.errors import ConfigError, LimitError
from accelsim.limits import MAX_WHERE_BITS, MAX_WHERE_CHARS, MAX_WHERE_DEPTH
from accelsim.sweep.expr import parse

ENV = {"a.b": 6, "c": 4, "f": 2.5, "s": "fused", "n": None}


@pytest.mark.parametrize("text", [
    "1 + 2 * 3 == 7", "(1 + 2) * 3 == 9", "7 // 2 == 3", "-7 // 2 == -4", "7 % 3 == 1", "-7 % 3 == 2",
    "7 / 2 == 3.5", "2 ** 3 ** 2 == 512", "-2 ** 2 == -4", "2 ** -1 == 0.5", "1 < 2 < 3", "not 1 < 3 < 2",
    "1 <= 1 >= 1", "1 != 2", "1.5e3 == 1500", ".5 == 0.5", "true and not false", "false or true",
    "a.b * c == 24", "a.b + f == 8.5", "s == 'fused'", 's != "pipelined"', "'a' < 'b'",
    "min(a.b, c, 9) == 4", "max(a.b, c) == 6", "abs(-3) == 3", "log2(c) == 2", "n == n", "n != 0",
    "sram.x + 1 > 0 or true", "true", "a.b > c and (c > 1 or a.b < 0)",
])
def test_conditions_agree_with_python(text):
    assert parse(text).evaluate({**ENV, "sram.x": 1}) is True


def test_false_conditions_are_false_and_and_or_short_circuit():
    assert parse("a.b < c").evaluate(ENV) is False
    assert parse("false and 1 // 0 == 0").evaluate(ENV) is False     # the right side is never computed
    assert parse("true or 1 // 0 == 0").evaluate(ENV) is True


def test_names_are_the_dotted_names_read_sorted_once():
    e = parse("sram.ifmap.size_bytes + sram.weight.size_bytes <= 2 * 2**20 and c < sram.ifmap.size_bytes")
    assert e.names == ("c", "sram.ifmap.size_bytes", "sram.weight.size_bytes")


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty condition"),
    ("1 +", "expected a number, a name or '(' at column 4, got the end"),
    ("(1 < 2", "expected ')' at column 7, got the end"),
    ("1 < 2)", "unexpected ')' at column 6"),
    ("1 + 2", "must be a condition"),
    ("a.b", "must be a condition"),
    ("__import__('os').system('x') == 0", "unexpected character '_' at column 1"),
    ("().__class__ == 1", "unexpected character '.' at column 3"),
    ("a.__class__ == 1", "unexpected character '.' at column 2"),
    ("c.real == 4", None),            # a name like any other: not an attribute of the number
    ("open('f') == 1", "unknown function 'open' at column 1 (functions: min, max, abs, log2)"),
    ("a.b(1) == 1", "unknown function 'a.b'"),
    ("eval('1') == 1", "unknown function 'eval'"),
    ("[1] == 1", "unexpected character '['"),
    ("lambda: 1", "unexpected character ':'"),
    ("1 if true else 2 == 1", "unexpected 'if' at column 3"),
    ("1 = 1", "unexpected character '='"),
    ("'unterminated == 1", "unexpected character \"'\""),
    ("min() == 1", "expected a number, a name or '('"),
    ("abs(1, 2) == 1", "abs() at column 1 takes 1 argument(s), got 2"),
])
def test_bad_text_is_a_config_error_saying_where(text, message):
    if message is None:
        assert parse(text).names == ("c.real",)
        return
    with pytest.raises(ConfigError) as found:
        parse(text)
    assert message in str(found.value)


@pytest.mark.parametrize(("text", "env", "message"), [
    ("1 // 0 == 0", {}, "integer division or modulo by zero"),
    ("c / 0 > 1", {"c": 4}, "division by zero"),
    ("s + 1 > 0", {"s": "x"}, "'+' needs numbers, got 'x'"),
    ("s < 1", {"s": "x"}, "'<' compares two numbers or two strings, got 'x' and 1"),
    ("n < 1", {"n": None}, "'<' compares two numbers or two strings, got None and 1"),
    ("c and true", {"c": 4}, "'and' needs true or false, got 4"),
    ("not c", {"c": 4}, "'not' needs true or false, got 4"),
    ("log2(0) > 1", {}, "log2 of 0: needs a number > 0"),
    ("(-8) ** 0.5 > 1", {}, "is not a real number"),
    ("0 ** -1 > 1", {}, "0 to a negative power"),
    ("2.0 ** 1000 * 1e300 > 1", {}, None),        # float overflow gives inf: allowed, true
    ("10.0 ** 400 > 1", {}, "Numerical result out of range"),
])
def test_evaluation_errors_are_config_errors(text, env, message):
    if message is None:
        assert parse(text).evaluate(env) is True
        return
    with pytest.raises(ConfigError) as found:
        parse(text).evaluate(env)
    assert message in str(found.value)


def test_long_text_is_refused_before_it_is_read():
    with pytest.raises(LimitError, match=f"over the limit of {MAX_WHERE_CHARS:,}"):
        parse("1 < 2" + " " * MAX_WHERE_CHARS)


@pytest.mark.parametrize("text", [
    "(" * (MAX_WHERE_DEPTH + 1) + "1 < 2" + ")" * (MAX_WHERE_DEPTH + 1),
    "-" * 500 + "1 < 2",
    "not " * 200 + "true",
    "1" + " + 1" * 200 + " > 0",                  # a long flat chain is a deep tree too
    "2" + " ** 2" * 100 + " > 0",
    "min(" * 60 + "1" + ")" * 60 + " > 0",
])
def test_deep_text_is_refused_without_recursing_through_it(text):
    with pytest.raises(LimitError, match=f"nested more than {MAX_WHERE_DEPTH} levels deep"):
        parse(text)


def test_depth_at_the_limit_parses():
    depth = MAX_WHERE_DEPTH - 2          # the parentheses, the comparison and its operand
    assert parse("(" * depth + "1 < 2" + ")" * depth).evaluate({}) is True


@pytest.mark.parametrize(("text", "message"), [
    ("9 ** 9 ** 9 > 0", f"exponent 387420489 is over {MAX_WHERE_BITS:,}"),
    ("2 ** 1025 > 0", f"exponent 1025 is over {MAX_WHERE_BITS:,}"),
    ("3 ** 1000 > 0", "a whole number of 1,585 bits"),           # 1000 log2(3) = 1584.96
    ("(2 ** 1000) ** 2 > 0", f"** 2 is over {MAX_WHERE_BITS:,} bits"),
    ("2 ** 1000 * 2 ** 1000 > 0", "a whole number of 2,001 bits"),
    ("c ** c > 0", "exponent 4096"),
])
def test_huge_numbers_are_refused(text, message):
    with pytest.raises(LimitError) as found:
        parse(text).evaluate({"c": 4096})
    assert message in str(found.value)


def test_a_number_literal_past_the_bits_is_refused():
    with pytest.raises(LimitError, match="digits"):
        parse("1" * 400 + " > 0")
    assert parse("2 ** 1023 > 2 ** 1022").evaluate({}) is True     # 1,024 bits: at the bound
