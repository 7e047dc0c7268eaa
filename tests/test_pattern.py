"""N:M patterns: parsing, and the bytes of a filter stored compressed, by hand."""

import pytest

from accelsim.pattern import Pattern, parse_pattern


def test_a_pattern_reads_n_and_m():
    assert parse_pattern("2:4") == Pattern(2, 4)
    assert str(Pattern(1, 16)) == "1:16"
    assert [Pattern(1, m).index_bits for m in (2, 4, 8, 16)] == [1, 2, 3, 4]    # ceil(log2 M)


@pytest.mark.parametrize(("text", "why"), [
    ("3:2", "N must be at least 1 and less than M"),
    ("4:4", "N must be at least 1 and less than M"),
    ("0:4", "N must be at least 1 and less than M"),
    ("2:3", "M must be a power of two, at most 16"),
    ("2:32", "M must be a power of two, at most 16"),
    ("2/4", "expected a pattern N:M"),
    ("-1:4", "expected a pattern N:M"),
    (24, "expected a pattern N:M such as \"2:4\" (quoted)"),
])
def test_a_bad_pattern_says_what_was_expected(text, why):
    with pytest.raises(ValueError) as found:
        parse_pattern(text)
    assert why in str(found.value)


def test_compressed_filter_bytes_by_hand():
    # K = 576 (3x3x64), int8 2:4: 144 groups x 2 values = 288 B, 288 x 2 bits = 72 B of indices:
    # 360 B, 0.625 B per dense element
    assert Pattern(2, 4).filter_bytes(576, 1) == 360 == 576 * 5 // 8
    # 1:4: 144 values + 144 x 2 bits = 36 B
    assert Pattern(1, 4).filter_bytes(576, 1) == 180
    # K = 27 (3x3x3, a first conv), 2:4: ceil(27/4) = 7 groups, 14 values, 28 bits -> 4 B
    assert Pattern(2, 4).filter_bytes(27, 1) == 14 + 4
    # fp16 values, 2:8 on K = 64: 8 groups x 2 values x 2 B = 32 B, 16 x 3 bits = 6 B
    assert Pattern(2, 8).filter_bytes(64, 2) == 32 + 6
