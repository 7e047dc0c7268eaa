from accelsim.result import busy_cycles


def test_busy_cycles_is_the_union_of_intervals():
    assert busy_cycles([]) == 0
    assert busy_cycles([(0, 10), (20, 25)]) == 15
    assert busy_cycles([(0, 10), (5, 15), (15, 16)]) == 16       # overlapping and touching
    assert busy_cycles([(5, 15), (0, 10), (6, 8)]) == 15          # unsorted, nested
    assert busy_cycles([(3, 3)]) == 0                             # zero-length op
