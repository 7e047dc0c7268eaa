"""Cycle formulas against counts derived by hand (see each docstring)."""

from fractions import Fraction

import pytest

from accelsim.cost import Gemm, add_cycles, stream_cycles, systolic_cycles, systolic_folds, transfer_cycles


@pytest.mark.parametrize(("dataflow", "expected"), [
    # 4x4 GEMM on a 4x4 array: one fold. OS: T=K=4, 4+4+4-2=10. WS/IS: T=4, 4+8+4-2=14.
    ("os", 10), ("ws", 14), ("is", 14),
])
def test_gemm_that_fits_the_array_exactly(dataflow, expected):
    assert systolic_folds(Gemm(4, 4, 4), 4, 4, dataflow) == 1
    assert systolic_cycles(Gemm(4, 4, 4), 4, 4, dataflow) == expected


@pytest.mark.parametrize(("dataflow", "folds", "expected"), [
    # M=10, K=9, N=7 on 4x4.
    # OS: Sr=M=10 -> 3, Sc=N=7 -> 2: 6 folds x (T=9 + 4+4-2) = 6 x 15 = 90
    ("os", 6, 90),
    # WS: Sr=K=9 -> 3, Sc=N=7 -> 2: 6 folds x (T=10 + 8+4-2) = 6 x 20 = 120
    ("ws", 6, 120),
    # IS: Sr=K=9 -> 3, Sc=M=10 -> 3: 9 folds x (T=7 + 8+4-2) = 9 x 17 = 153
    ("is", 9, 153),
])
def test_gemm_with_several_folds_in_both_directions(dataflow, folds, expected):
    assert systolic_folds(Gemm(10, 9, 7), 4, 4, dataflow) == folds
    assert systolic_cycles(Gemm(10, 9, 7), 4, 4, dataflow) == expected


def test_non_square_array_uses_rows_and_cols_separately():
    # OS, M=10, K=9, N=7 on 8 rows x 2 cols: Sr=10 -> 2, Sc=7 -> 4: 8 folds x (9 + 8+2-2) = 136
    assert systolic_cycles(Gemm(10, 9, 7), 8, 2, "os") == 136
    # WS on 8x2: Sr=K=9 -> 2, Sc=N=7 -> 4: 8 folds x (10 + 16+2-2) = 208
    assert systolic_cycles(Gemm(10, 9, 7), 8, 2, "ws") == 208


def test_groups_run_one_after_another():
    assert systolic_cycles(Gemm(10, 9, 7, groups=3), 4, 4, "os") == 3 * 90
    assert Gemm(10, 9, 7, groups=3).macs == 3 * 10 * 9 * 7


def test_unknown_dataflow_is_an_error():
    with pytest.raises(ValueError, match="unknown dataflow 'xs'"):
        systolic_cycles(Gemm(4, 4, 4), 4, 4, "xs")


def test_add_cycles():
    assert add_cycles(200_704, 32, 4) == 6272 + 4
    assert add_cycles(33, 32, 0) == 2


def test_transfer_cycles_exact_for_decimal_bandwidth():
    assert transfer_cycles(1000, 16, 100) == 100 + 63     # 62.5 rounds up
    assert stream_cycles(128, 12.8) == 10                 # exactly 10, not 10.000000001
    assert stream_cycles(129, Fraction(64, 5)) == 11


def test_scalesim_mode_reports_one_less_per_group():
    # SCALE-Sim 3.0.0 reports the index of the last cycle: 9x9x4 input, 3x3 stride 2,
    # 10 filters (M=16, K=36, N=10) on 8x8 OS is 2 x 2 folds x (36 + 14) = 200 cycles;
    # SCALE-Sim prints 199. A depthwise layer runs as one SCALE-Sim layer per channel.
    assert systolic_cycles(Gemm(16, 36, 10), 8, 8, "os", scalesim=True) == 199
    assert systolic_cycles(Gemm(64, 9, 1, groups=4), 8, 8, "os", scalesim=True) == 4 * (8 * 23 - 1)
