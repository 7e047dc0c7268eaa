"""Box algebra: what subtraction leaves is exactly the elements outside the cut."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.box import fmt, intersect, subtract, uncovered, volume


def cells(box):
    return set(itertools.product(*(range(a, b) for a, b in zip(*box, strict=True))))


def test_subtract_a_middle_row_leaves_the_rows_around_it():
    box = ((0, 0), (5, 3))
    assert sorted(subtract(box, ((2, 0), (3, 3)))) == [((0, 0), (2, 3)), ((3, 0), (5, 3))]
    assert subtract(box, ((7, 0), (9, 3))) == [box]
    assert subtract(box, box) == []


def test_uncovered_reports_the_halo_row_two_tiles_leave_out():
    need = ((0, 3, 0, 0), (1, 8, 8, 4))
    assert uncovered(need, [((0, 4, 0, 0), (1, 8, 8, 4))]) == [((0, 3, 0, 0), (1, 4, 8, 4))]
    assert fmt(((0, 3), (1, 4))) == "[0:1, 3:4]"
    assert intersect(((0, 0), (2, 2)), ((2, 0), (3, 2))) is None


span = st.tuples(st.integers(0, 5), st.integers(1, 4)).map(lambda t: (t[0], t[0] + t[1]))
box3 = st.tuples(span, span, span).map(lambda s: (tuple(a for a, _ in s), tuple(b for _, b in s)))


@settings(max_examples=150, derandomize=True, deadline=None)
@given(box3, st.lists(box3, max_size=4))
def test_uncovered_is_the_set_difference_in_disjoint_pieces(box, cuts):
    left = uncovered(box, cuts)
    want = cells(box) - set().union(*(cells(c) for c in cuts))
    got = [cells(p) for p in left]
    assert set().union(*got) == want
    assert sum(volume(p) for p in left) == len(want)             # pieces do not overlap
