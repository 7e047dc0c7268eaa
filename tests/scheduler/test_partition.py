import pytest

from accelsim.errors import ScheduleError
from accelsim.scheduler.partition import split_rows


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
