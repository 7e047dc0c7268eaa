"""Box algebra: what subtraction leaves is exactly the elements outside the cut."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim import box as box_module
from accelsim.box import BoxIndex, contains, fmt, intersect, meets, subtract, uncovered, volume


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


def test_meets_and_contains_on_touching_and_empty_boxes():
    assert meets(((0, 0), (2, 2)), ((1, 1), (3, 3)))
    assert not meets(((0, 0), (2, 2)), ((2, 0), (3, 2)))           # touching rows share nothing
    assert contains(((0, 0), (4, 4)), ((1, 1), (4, 2)))
    assert not contains(((0, 0), (4, 4)), ((1, 1), (5, 2)))
    assert not contains(((0, 0), (4, 4)), ((1, 1), (1, 2)))        # an empty box is never covered


any_span = st.tuples(st.integers(0, 6), st.integers(0, 3)).map(lambda t: (t[0], t[0] + t[1]))
box2 = st.tuples(any_span, any_span).map(lambda s: (tuple(a for a, _ in s), tuple(b for _, b in s)))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(box2, max_size=70), box2, st.integers(0, 75), st.sampled_from([2, 3, 16]))
def test_an_index_finds_what_a_scan_of_every_box_finds(boxes, query, floor, fanout):
    index = type("Index", (BoxIndex,), {"FANOUT": fanout})()
    for k, b in enumerate(boxes):
        index.add(k, b)
    scan = [(k, b) for k, b in enumerate(boxes) if meets(b, query)]
    assert list(index.overlapping(query, floor)) == [(k, b) for k, b in reversed(scan) if k >= floor]
    assert index.in_order(query) == scan
    assert len(index) == len(boxes)


def test_a_query_tests_a_few_runs_per_level_not_every_box(monkeypatch):
    tests = []

    def counted(a, b):
        tests.append(a)
        return meets(a, b)
    monkeypatch.setattr(box_module, "meets", counted)
    index = BoxIndex()
    for row in range(4096):                     # 16**3 one-row tiles: runs of 16, 256 and 4096
        index.add(row, ((row, 0), (row + 1, 8)))
    query = ((1000, 0), (1001, 8))
    found = index.overlapping(query)
    assert next(found) == (1000, query)
    # the run of 4096 (1 test); runs of 256 from the last down to rows 768:1024 (13); runs of
    # 16 from 1008:1024 down to 992:1008 (2); rows 1007 down to 1000 (8)
    assert len(tests) == 1 + 13 + 2 + 8
    assert list(found) == []
    # then rows 999 down to 992 (8), the runs of 16 left in 768:1024 (14), of 256 in 0:768 (3)
    assert len(tests) == 24 + 8 + 14 + 3
