import pytest

from accelsim.errors import ScheduleError
from accelsim.scheduler.partition import SCANNED, fewest_fitting, fewest_meeting, split_rows


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


def test_fewest_fitting_scans_every_count_up_to_scanned_then_doubles_and_bisects():
    tried = []

    def fits(n):
        tried.append(n)
        return n in (3, 5) or n >= 100

    assert fewest_fitting(fits, 200) == 3 and tried == [1, 2, 3]
    tried.clear()
    assert fewest_fitting(lambda n: fits(n) and n > 5, 200) == 100   # 64 fails, 128 fits, bisect to 100
    assert tried[:SCANNED] == list(range(1, SCANNED + 1)) and tried[SCANNED] == 2 * SCANNED
    assert fewest_fitting(lambda n: False, 10) is None


def test_a_bound_skips_the_counts_below_the_fewest_that_meets_it_and_keeps_the_answer():
    tried = []

    def fits(n):                          # not monotone: 12 rows under a 7x7 window
        tried.append(n)
        return n in (3, 5) or n >= 7

    def one_part_fits(n):                 # a 12-row part of 10 bytes a row in a 40-byte buffer
        return -(-12 // n) * 10 <= 40

    assert fewest_meeting(one_part_fits, 1, 12) == 3
    assert fewest_fitting(fits, 12, bound=one_part_fits) == 3 and tried == [3]
    assert fewest_fitting(fits, 12, 4, one_part_fits) == 5
    assert fewest_fitting(fits, 12, bound=lambda n: False) is None
    assert fewest_meeting(one_part_fits, 4, 3) is None


def test_a_bound_beyond_scanned_starts_the_scan_there():
    tried = []

    def fits(n):
        tried.append(n)
        return n >= 1000

    assert fewest_fitting(fits, 5000, bound=lambda n: n >= 990) == 1000
    assert tried == list(range(990, 1001))
