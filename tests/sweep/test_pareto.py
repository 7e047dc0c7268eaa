"""The Pareto front and the parameter differences, on points whose front is known by hand."""

from __future__ import annotations

import itertools
import random

import pytest

from accelsim.sweep.pareto import describe, differences, front, short_names, split
from accelsim.sweep.store import StoredPoint


def _pt(cycles, energy, error=None, **params):
    return StoredPoint(key=str(cycles), params=params, metrics={"total_cycles": cycles, "energy_pj": energy},
                       fast_path=False, error=error, version="0")


def test_two_objectives_known_front():
    # (cycles, energy): (1, 9) (2, 5) (3, 5) (4, 1) (5, 6): (3, 5) is dominated by (2, 5), (5, 6) by (4, 1)
    points = [{"c": 3, "e": 5}, {"c": 1, "e": 9}, {"c": 5, "e": 6}, {"c": 4, "e": 1}, {"c": 2, "e": 5}]
    result = split(points, ["c", "e"])
    assert result.front == (1, 4, 3)          # in c order
    assert result.dominated == (0, 2)
    assert result.excluded == ()
    assert front(points, ["c", "e"]) == [1, 4, 3]


def test_equal_points_are_both_on_the_front_and_order_is_stable():
    points = [{"c": 2, "e": 2}, {"c": 1, "e": 3}, {"c": 2, "e": 2}]
    assert front(points, ["c", "e"]) == [1, 0, 2]


def test_errors_and_none_are_excluded_not_compared():
    points = [_pt(1, 1, error="does not fit SRAM"), _pt(5, None), _pt(3, 3), _pt(4, 2), _pt(6, 6)]
    result = split(points, ["total_cycles", "energy_pj"])
    assert result.excluded == (0, 1)
    assert result.front == (2, 3)
    assert result.dominated == (4,)
    # with only cycles, the None energy does not matter: (5, None) is dominated by (3, 3)
    assert split(points, ["total_cycles"]).front == (2,)


def test_exact_comparison_no_tolerance():
    points = [{"a": 1.0, "b": 2.0}, {"a": 1.0 + 2**-52, "b": 2.0}]
    assert front(points, ["a", "b"]) == [0]
    points = [{"a": 1.0, "b": 2.0}, {"a": 1.0 + 2**-52, "b": 2.0 - 2**-51}]
    assert front(points, ["a", "b"]) == [0, 1]


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_matches_the_definition_on_random_points(dims):
    rng = random.Random(dims)
    points = [{f"m{d}": rng.randint(0, 6) for d in range(dims)} for _ in range(60)]
    names = [f"m{d}" for d in range(dims)]
    vec = [tuple(p[n] for n in names) for p in points]
    expected = {i for i in range(len(points))
                if not any(vec[j] != vec[i] and all(a <= b for a, b in zip(vec[j], vec[i], strict=True))
                           for j in range(len(points)))}
    got = front(points, names)
    assert set(got) == expected
    assert got == sorted(got, key=lambda i: (vec[i], i))
    for perm_seed in range(3):        # the same set whatever the input order
        order = list(range(len(points)))
        random.Random(perm_seed).shuffle(order)
        assert {order[i] for i in front([points[k] for k in order], names)} == expected


def test_no_objective_is_an_error():
    with pytest.raises(ValueError, match="objective"):
        front([{"a": 1}], [])


def test_differences_and_describe():
    a = {"systolic_array.rows": 32, "schedule": "fused", "dtype": "int8"}
    b = {"systolic_array.rows": 64, "schedule": "pipelined", "dtype": "int8"}
    assert differences(a, b) == "schedule fused -> pipelined, systolic_array.rows 32 -> 64"
    assert differences(a, a) == ""
    assert differences({"x": 1}, {"x": 1.0}) == "x 1 -> 1.0"
    assert differences({"x": 1}, {}) == "x 1 -> -"
    assert describe(a) == "dtype=int8, schedule=fused, systolic_array.rows=32"
    names = short_names(a)
    assert describe(a, names) == "dtype=int8, schedule=fused, rows=32"
    assert differences(a, b, names) == "schedule fused -> pipelined, rows 32 -> 64"


def test_short_names_stay_unique():
    keys = ["systolic_array.rows", "sram.ifmap.size_bytes", "sram.weight.size_bytes", "rows"]
    names = short_names(keys)
    assert names == {"systolic_array.rows": "systolic_array.rows", "rows": "rows",
                     "sram.ifmap.size_bytes": "ifmap.size_bytes",
                     "sram.weight.size_bytes": "weight.size_bytes"}
    assert len(set(names.values())) == len(keys)
    for a, b in itertools.combinations(keys, 2):
        assert names[a] != names[b]
