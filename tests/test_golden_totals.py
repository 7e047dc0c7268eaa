"""Whole-run totals pinned in tests/data/golden_totals.csv (see tests/golden.py)."""

import pytest

from tests.golden import COLUMNS, GOLDEN, cases, measure, read_golden

GOLDEN_ROWS = read_golden(GOLDEN)


def test_the_file_lists_every_case():
    assert sorted(GOLDEN_ROWS) == sorted(cases())


@pytest.mark.parametrize("case", list(cases()), ids=lambda c: "-".join(c))
def test_run_matches_golden(case):
    want = GOLDEN_ROWS[case]
    got = measure(*case)
    assert {c: got[c] for c in COLUMNS[4:]} == {c: want[c] for c in COLUMNS[4:]}
