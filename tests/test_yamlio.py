"""The one YAML reader: hostile text (alias bombs, deep nesting, unreadable scalars) is refused
with the file, the line and the limit, by libyaml's loader and the pure-Python one alike."""

import time

import pytest

from accelsim import yamlio
from accelsim.cli import main
from accelsim.errors import ConfigError
from accelsim.yamlio import MAX_ALIAS_NODES, MAX_DEPTH, StrictSafeLoader, read_yaml_text
from tests.helpers import BLOCK, DEFAULT_HW

LOADERS = ["libyaml", "python"]


def read(text: str, loader: str) -> object:
    """The data of `text` read by `loader` (libyaml first, as read_yaml_text does; or the
    pure-Python loader alone)."""
    if loader == "libyaml":
        if yamlio._FastLoader is None:
            pytest.fail("PyYAML was built without libyaml")
        return read_yaml_text(text, "doc.yaml").data
    return yamlio._parse(StrictSafeLoader, text, "doc.yaml").data


def laughs(levels: int) -> str:
    """A billion-laughs document: level i is a list of 9 aliases of level i-1, so level k
    expands to 9^k strings (levels=9: 387 million nodes)."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("loader", LOADERS)
def test_alias_bomb_is_refused_at_the_alias_over_the_limit(loader):
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        read(laughs(9), loader)
    assert time.perf_counter() - start < 10        # a hang guard (before: past 60 s), not a speed test
    # aliases of a0 add 10 nodes each (the list and its 9 strings), of a1 9 x 10 + 1 = 91, of a2
    # 9 x 91 + 1 = 820, of a3 7,381: line 2 adds 90, line 3 819, line 4 7,380, and the first
    # alias on line 5 brings the total to 8,289 + 7,381 = 15,670
    assert str(err.value) == (f"doc.yaml:5: alias *a3 brings the nodes aliases add to 15,670, over the "
                              f"limit of {MAX_ALIAS_NODES:,}")


@pytest.mark.parametrize("loader", LOADERS)
def test_aliases_within_the_limit_are_read(loader):
    data = read(laughs(4), loader)                  # aliases add 8,289 nodes
    assert isinstance(data, dict) and len(data["a3"]) == 9 and data["a3"][0][0][0] == data["a0"]


@pytest.mark.parametrize("loader", LOADERS)
def test_an_alias_inside_what_it_names_is_refused(loader):
    with pytest.raises(ConfigError, match=r"^doc.yaml:2: alias \*a is inside the collection it names"):
        read("x: &a\n  - *a\n", loader)


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("text, line", [
    ("x: " + "[" * 10_000 + "]" * 10_000, 1),               # 10,000 nested flow lists
    ("x: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH, 1),          # the mapping and 100 lists: 101 levels
    ("{a: " * 3_000 + "1" + "}" * 3_000, 1),                 # 3,000 nested flow mappings
    ("".join(" " * i + f"k{i}:\n" for i in range(3_000)) + " " * 3_000 + "v: 1\n", MAX_DEPTH + 1),
])
def test_deep_nesting_is_refused_at_the_line_over_the_limit(loader, text, line):
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        read(text, loader)
    assert time.perf_counter() - start < 10        # a hang guard (before: past 60 s), not a speed test
    assert str(err.value) == f"doc.yaml:{line}: collections nested more than {MAX_DEPTH} levels deep " \
                             "(the limit)"


@pytest.mark.parametrize("loader", LOADERS)
def test_nesting_at_the_limit_is_read(loader):
    data = read("[" * MAX_DEPTH + "]" * MAX_DEPTH, loader)
    for _ in range(MAX_DEPTH - 1):
        assert isinstance(data, list) and len(data) == 1
        data = data[0]
    assert data == []


@pytest.mark.parametrize("loader", LOADERS)
def test_a_chain_of_aliases_counts_as_nesting(loader):
    # each a_i is a one-item list holding a_(i-1): a_99 nests 101 levels under the top mapping
    text = "\n".join(["a0: &a0 {x: 1}"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 120)])
    with pytest.raises(ConfigError, match=r"^doc.yaml:100: alias \*a98 nests collections 101 levels deep, "
                                          r"over the limit of 100$"):
        read(text, loader)


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("value, message", [
    ("1" + "0" * 5_000, "cannot read '10000000000000000000'... (5,001 characters) as int (Exceeds the limit "
                        "(4300 digits) for integer string conversion: value has 5001 digits)"),
    ("2001-13-45", "cannot read '2001-13-45' as timestamp (month must be in 1..12)"),
    ("!!int abc", "cannot read 'abc' as int (invalid literal for int() with base 10: 'abc')"),
])
def test_a_scalar_its_tag_cannot_read_is_an_error_at_its_line(loader, value, message):
    with pytest.raises(ConfigError) as err:
        read(f"a: 1\nb: {value}\n", loader)
    assert str(err.value) == f"doc.yaml:2: {message}"


def test_bomb_in_a_hardware_value_exits_2_with_the_file_and_line(capsys, tmp_path):
    hw = tmp_path / "hw.yaml"
    hw.write_text(laughs(9) + DEFAULT_HW.read_text().replace("latency_cycles: 100", "latency_cycles: *a8"))
    start = time.perf_counter()
    code = main(["run", str(hw), str(BLOCK)])
    out, err = capsys.readouterr()
    assert time.perf_counter() - start < 10        # a hang guard, not a speed test
    assert code == 2 and out == ""
    assert err == f"accelsim: error: {hw}:5: alias *a3 brings the nodes aliases add to 15,670, over the " \
                  f"limit of {MAX_ALIAS_NODES:,}\n"
