import pytest

from accelsim.errors import ScheduleError
from accelsim.scheduler.partition import split_rows
from tests.helpers import convadd


def test_equal_parts():
    assert split_rows(56, 4) == [(0, 14), (14, 28), (28, 42), (42, 56)]


def test_unequal_parts_differ_by_at_most_one():
    assert split_rows(10, 4) == [(0, 3), (3, 6), (6, 8), (8, 10)]
    assert split_rows(56, 3) == [(0, 19), (19, 38), (38, 56)]


def test_one_row_per_part_is_allowed_more_is_an_error():
    assert split_rows(3, 3) == [(0, 1), (1, 2), (2, 3)]
    with pytest.raises(ScheduleError, match="splits=4 is more than the 3 output rows"):
        split_rows(3, 4)
    with pytest.raises(ScheduleError, match="splits must be >= 1"):
        split_rows(3, 0)


def test_halo_rows_3x3_stride_1_pad_1():
    conv = convadd(h=56, k=3, stride=1, pad=1).ops[0]
    # output rows [14, 28) read input rows 13 .. 28 (one halo row on each side)
    assert conv.input_rows(14, 28, 56) == (13, 29)
    # the first and last parts lose the row that lies in the padding
    assert conv.input_rows(0, 14, 56) == (0, 15)
    assert conv.input_rows(42, 56, 56) == (41, 56)


def test_halo_rows_3x3_stride_2():
    conv = convadd(h=9, w=9, cin=4, cout=10, k=3, stride=2, pad=0).ops[0]
    # output rows [1, 3): first = 1*2 = 2, last = 2*2 + 2 = 6 -> rows [2, 7)
    assert conv.input_rows(1, 3, 9) == (2, 7)


def test_no_halo_for_1x1_stride_1():
    conv = convadd(k=1, pad=0).ops[0]
    assert conv.input_rows(14, 28, 56) == (14, 28)


def test_halo_with_dilation():
    conv = convadd(h=20, w=20, k=3, pad=2, dilation=2).ops[0]
    # output rows [5, 10): first = 5 - 2 = 3, last = 9 - 2 + 2*2 = 11 -> [3, 12)
    assert conv.input_rows(5, 10, 20) == (3, 12)
