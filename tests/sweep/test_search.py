"""Random and optuna searches: determinism, distinctness, the space's size, the accept filter,
and an optimum known in closed form."""

from __future__ import annotations

import itertools
import sys

import pytest

from accelsim.errors import ConfigError
from accelsim.sweep.search import decode, optuna_search, random_points, space_size

AXES = {"rows": [8, 16, 32, 64], "cols": [8, 16, 32, 64], "schedule": ["serial", "fused", "pipelined"]}


def test_decode_is_itertools_product_order():
    grid = [dict(zip(AXES, values, strict=True)) for values in itertools.product(*AXES.values())]
    assert space_size(AXES) == len(grid) == 48
    assert [decode(AXES, i) for i in range(48)] == grid


def test_random_points_deterministic_distinct_and_capped():
    a = random_points(AXES, 10, seed=7)
    assert a == random_points(AXES, 10, seed=7)
    assert a != random_points(AXES, 10, seed=8)
    assert len({tuple(p.items()) for p in a}) == 10
    every = random_points(AXES, 1000, seed=1)
    assert len(every) == 48
    assert sorted(map(str, every)) == sorted(str(decode(AXES, i)) for i in range(48))
    assert random_points(AXES, 0, seed=1) == []


def test_random_points_on_a_huge_space_without_building_it():
    axes = {f"k{i}": list(range(100)) for i in range(12)}       # 10**24 points > sys.maxsize
    assert space_size(axes) > sys.maxsize
    points = random_points(axes, 5, seed=3)
    assert points == random_points(axes, 5, seed=3)
    assert len({tuple(p.values()) for p in points}) == 5
    mid = {f"k{i}": list(range(1000)) for i in range(3)}        # 10**9: sampled from a range
    assert len(random_points(mid, 3, seed=0)) == 3


def test_random_points_accept_filter():
    def small(p):
        return p["rows"] * p["cols"] <= 256     # (8,8) (8,16) (8,32) (16,8) (16,16) (32,8), x 3
    points = random_points(AXES, 100, seed=2, accept=small)
    assert len(points) == 18 and all(map(small, points))
    assert random_points(AXES, 5, seed=2, accept=small) == random_points(AXES, 5, seed=2, accept=small)
    # a bounded number of draws: nothing accepted is an empty answer, not a hang
    assert random_points({"k": list(range(10**6))}, 3, seed=0, accept=lambda p: False, max_tries=50) == []


def test_bad_arguments():
    with pytest.raises(ValueError, match="no values"):
        random_points({"a": []}, 1, seed=0)
    with pytest.raises(ValueError, match="n must"):
        random_points(AXES, -1, seed=0)


def _toy(batch):
    """cycles = 4096 / (rows x cols) x stage factor, energy = rows + cols + a schedule cost."""
    factor = {"serial": 3, "fused": 2, "pipelined": 1}
    return [{"cycles": 4096 / (p["rows"] * p["cols"]) * factor[p["schedule"]],
             "energy": p["rows"] + p["cols"] + 10 * (3 - factor[p["schedule"]])} for p in batch]


def test_optuna_single_objective_finds_the_optimum():
    pytest.importorskip("optuna")
    calls = []

    def evaluate(batch):
        calls.append(len(batch))
        return _toy(batch)
    found = optuna_search(AXES, 30, ["cycles"], evaluate, seed=1)
    best = min(_toy(found), key=lambda m: m["cycles"])
    assert best["cycles"] == 1.0           # 64 x 64, pipelined
    assert len({tuple(p.items()) for p in found}) == len(found) == sum(calls) <= 30
    assert optuna_search(AXES, 30, ["cycles"], _toy, seed=1) == found


def test_optuna_multi_objective_batches_failures_and_accept():
    pytest.importorskip("optuna")
    sizes = []

    def evaluate(batch):
        sizes.append(len(batch))
        return [None if p["rows"] == 8 else m for p, m in zip(batch, _toy(batch), strict=True)]

    def accept(p):
        return p["schedule"] != "serial"
    found = optuna_search(AXES, 40, ["cycles", "energy"], evaluate, seed=1, batch=4, accept=accept)
    assert found and all(p["schedule"] != "serial" for p in found)
    assert len({tuple(p.items()) for p in found}) == len(found) == sum(sizes)
    assert max(sizes) <= 4
    assert optuna_search(AXES, 40, ["cycles", "energy"], evaluate, seed=1, batch=4, accept=accept) == found
    # the fastest point of the space: 64 x 64 pipelined, 4096 / 4096 x 1 = 1 cycle
    assert {"rows": 64, "cols": 64, "schedule": "pipelined"} in found


def test_optuna_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ConfigError, match=r"not installed: pip install 'accelsim\[optuna\]'"):
        optuna_search(AXES, 3, ["cycles"], _toy, seed=0)
