"""The closed forms in accelsim.cost against the register-level systolic array model."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accelsim.cost import Gemm, systolic_cycles
from accelsim.reference.systolic import Hazard, _execute, simulate, split_folds

DATAFLOWS = ("os", "ws", "is")


@st.composite
def gemms(draw):
    """A grouped integer GEMM and an array up to 16 x 16: up to 2 groups, dims up to 40 and at
    most 3 times the array's smaller side (at most 9 folds per group, to keep runs short)."""
    g = draw(st.integers(1, 2))
    rows, cols = draw(st.integers(1, 16)), draw(st.integers(1, 16))
    m, k, n = (draw(st.integers(1, min(40, 3 * min(rows, cols)))) for _ in range(3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return rng.integers(-9, 10, (g, m, k)), rng.integers(-9, 10, (g, k, n)), rows, cols


@pytest.mark.parametrize("folds", ["overlapped", "serialized"])
@pytest.mark.parametrize("dataflow", DATAFLOWS)
@settings(max_examples=12, deadline=None)
@given(case=gemms())
def test_closed_form_equals_the_register_level_model(dataflow, folds, case):
    a, b, rows, cols = case
    run = simulate(a, b, rows, cols, dataflow, folds)
    assert np.array_equal(run.result, a @ b)
    gemm = Gemm(a.shape[1], a.shape[2], b.shape[2], groups=a.shape[0])
    assert run.cycles == systolic_cycles(gemm, rows, cols, dataflow, folds)


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@settings(max_examples=8, deadline=None)
@given(case=gemms())
def test_overlapped_interval_is_tight(dataflow, case):
    # one cycle less between folds and the hardware loses a value: the interval is the smallest
    a, b, rows, cols = case
    plan = split_folds(a, b, rows, cols, dataflow)
    assume(len(plan) >= 2)
    run = simulate(a, b, rows, cols, dataflow, "overlapped")
    with pytest.raises(Hazard):
        _execute(plan, [f * (run.interval - 1) for f in range(len(plan))], rows, cols, dataflow, True)


def test_os_outputs_drain_one_per_column_per_cycle():
    # 8x8 OS, M=32, K=2, N=8: 4 folds of T=2 streamed operands, but each fold's 8 outputs per
    # column take 8 bus cycles: 2 + 14 + 3 x max(2, 8) = 40 cycles (without the drain limit
    # it would be 4 x 2 + 14 = 22, less than the 32 x 8 / 8 = 32 cycles the 256 outputs need).
    rng = np.random.default_rng(1)
    a, b = rng.integers(-9, 10, (32, 2)), rng.integers(-9, 10, (2, 8))
    run = simulate(a, b, 8, 8, "os")
    assert run.cycles == 40 == systolic_cycles(Gemm(32, 2, 8), 8, 8, "os")
    assert run.interval == 8
    assert np.array_equal(run.result[0], a @ b)


@pytest.mark.parametrize(("dataflow", "t"), [("ws", 10), ("is", 7)])
def test_single_buffered_stationary_operands_add_the_load_to_each_fold(dataflow, t):
    # M=10, K=9, N=7 on 4x4. Without shadow registers, row i's next stationary value reaches
    # it in cycle L' + j + i and must not before the current fold's last use, cycle
    # L + R + i + j + T - 1: folds T + R - 1 apart (WS: T=M=10 -> 13, IS: T=N=7 -> 10),
    # against max(T, R) with shadow registers.
    rng = np.random.default_rng(2)
    a, b = rng.integers(-9, 10, (10, 9)), rng.integers(-9, 10, (9, 7))
    single = simulate(a, b, 4, 4, dataflow, "overlapped", double_buffered=False)
    double = simulate(a, b, 4, 4, dataflow, "overlapped")
    assert (single.interval, double.interval) == (t + 4 - 1, max(t, 4))
    assert np.array_equal(single.result[0], a @ b)


def test_one_fold_takes_scalesim_s_count():
    # a 4x4 GEMM on 4x4: OS 4 + 4 + 4 - 2 = 10; WS/IS 4 + 2 x 4 + 4 - 2 = 14
    a = np.arange(16).reshape(4, 4)
    assert [simulate(a, a, 4, 4, df, "serialized").cycles for df in DATAFLOWS] == [10, 14, 14]


def test_unknown_dataflow_is_an_error():
    with pytest.raises(ValueError, match="unknown dataflow 'xs'"):
        simulate(np.eye(2), np.eye(2), 2, 2, "xs")
    with pytest.raises(ValueError, match="unknown fold schedule 'lazy'"):
        simulate(np.eye(2), np.eye(2), 2, 2, "os", "lazy")
