"""Cycle formulas against counts derived by hand (see each docstring)."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.cost import (
    Gemm,
    add_cycles,
    ceil_div,
    stream_cycles,
    systolic_cycles,
    systolic_folds,
    transfer_cycles,
)


@pytest.mark.parametrize("folds", ["overlapped", "serialized"])
@pytest.mark.parametrize(("dataflow", "expected"), [
    # 4x4 GEMM on a 4x4 array: one fold, so both conventions agree.
    # OS: T=K=4, 4 + 4+4-2 = 10. WS/IS: T=4, 4 + 4 (load) + 4+4-2 = 14.
    ("os", 10), ("ws", 14), ("is", 14),
])
def test_gemm_that_fits_the_array_exactly(folds, dataflow, expected):
    assert systolic_folds(Gemm(4, 4, 4), 4, 4, dataflow) == 1
    assert systolic_cycles(Gemm(4, 4, 4), 4, 4, dataflow, folds) == expected


@pytest.mark.parametrize(("dataflow", "folds", "serialized", "overlapped"), [
    # M=10, K=9, N=7 on 4x4.
    # OS: Sr=M=10 -> 3, Sc=N=7 -> 2: 6 folds of T=9.
    #   serialized 6 x (9 + 6) = 90; overlapped 6 x 9 + 6 = 60
    ("os", 6, 90, 60),
    # WS: Sr=K=9 -> 3, Sc=N=7 -> 2: 6 folds of T=M=10.
    #   serialized 6 x (10 + 4 + 6) = 120; overlapped 4 + 6 x max(10, 4) + 6 = 70
    ("ws", 6, 120, 70),
    # IS: Sr=K=9 -> 3, Sc=M=10 -> 3: 9 folds of T=N=7.
    #   serialized 9 x (7 + 4 + 6) = 153; overlapped 4 + 9 x 7 + 6 = 73
    ("is", 9, 153, 73),
])
def test_gemm_with_several_folds_in_both_directions(dataflow, folds, serialized, overlapped):
    assert systolic_folds(Gemm(10, 9, 7), 4, 4, dataflow) == folds
    assert systolic_cycles(Gemm(10, 9, 7), 4, 4, dataflow, "serialized") == serialized
    assert systolic_cycles(Gemm(10, 9, 7), 4, 4, dataflow, "overlapped") == overlapped


def test_non_square_array_uses_rows_and_cols_separately():
    # OS, M=10, K=9, N=7 on 8 rows x 2 cols: Sr=10 -> 2, Sc=7 -> 4: 8 folds of T=9
    assert systolic_cycles(Gemm(10, 9, 7), 8, 2, "os", "serialized") == 8 * (9 + 8)
    assert systolic_cycles(Gemm(10, 9, 7), 8, 2, "os", "overlapped") == 8 * 9 + 8
    # WS on 8x2: Sr=K=9 -> 2, Sc=N=7 -> 4: 8 folds of T=10
    assert systolic_cycles(Gemm(10, 9, 7), 8, 2, "ws", "serialized") == 8 * (10 + 8 + 8)
    assert systolic_cycles(Gemm(10, 9, 7), 8, 2, "ws", "overlapped") == 8 + 8 * 10 + 8


def test_overlapped_ws_stalls_when_streaming_is_shorter_than_the_operand_load():
    # M=2 rows stream per fold but the next 4 weight rows take 4 cycles to load:
    # K=8 -> 2, N=8 -> 2: 4 folds: 4 (first load) + 2 + 3 x max(2, 4) + 6 = 24
    # (serialized: 4 x (2 + 4 + 6) = 48)
    assert systolic_cycles(Gemm(2, 8, 8), 4, 4, "ws", "overlapped") == 24
    assert systolic_cycles(Gemm(2, 8, 8), 4, 4, "ws", "serialized") == 48
    # one fold: nothing to overlap, so both conventions agree (a batch-1 FC tile: T = M = 1)
    assert systolic_cycles(Gemm(1, 32, 32), 32, 32, "ws", "overlapped") == 32 + 1 + 62
    assert systolic_cycles(Gemm(1, 32, 32), 32, 32, "ws", "serialized") == 32 + 1 + 62


def test_groups_run_one_after_another():
    assert systolic_cycles(Gemm(10, 9, 7, groups=3), 4, 4, "os", "serialized") == 3 * 90
    assert systolic_cycles(Gemm(10, 9, 7, groups=3), 4, 4, "os", "overlapped") == 3 * 6 * 9 + 6
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
    assert systolic_cycles(Gemm(16, 36, 10), 8, 8, "os", "scalesim") == 199
    assert systolic_cycles(Gemm(64, 9, 1, groups=4), 8, 8, "os", "scalesim") == 4 * (8 * 23 - 1)


def test_unknown_fold_convention_is_an_error():
    with pytest.raises(ValueError, match="unknown fold convention 'lazy'"):
        systolic_cycles(Gemm(16, 36, 10), 8, 8, "os", "lazy")


def test_overlapped_os_is_limited_by_the_output_drain():
    # MobileNetV2 features.2 expand conv, one tile on 32x32 OS: M=1568 pixels, K=16, N=96:
    # 49 x 3 = 147 folds of T=16. Each column's 32 outputs of a fold leave one per cycle, so
    # folds are max(16, 32) = 32 cycles apart: 16 + 62 + 146 x 32 = 4750 cycles, no fewer
    # than the 150,528 outputs / 32 columns = 4704 cycles they take to leave (was 147 x 16 + 62 = 2414).
    assert systolic_cycles(Gemm(1568, 16, 96), 32, 32, "os") == 4750
    assert 4750 >= 1568 * 96 // 32


@settings(max_examples=200, deadline=None)
@given(m=st.integers(1, 5000), k=st.integers(1, 5000), n=st.integers(1, 2000), groups=st.integers(1, 64),
       rows=st.integers(1, 256), cols=st.integers(1, 256), dataflow=st.sampled_from(["os", "ws", "is"]),
       folds=st.sampled_from(["overlapped", "serialized"]))
def test_no_gemm_beats_the_pes_or_the_output_ports(m, k, n, groups, rows, cols, dataflow, folds):
    # R x C PEs do at most R x C MACs a cycle, and outputs leave through C ports (OS: a bus per
    # column; WS/IS: the bottom edge), one per port per cycle, so no count is below either bound.
    gemm = Gemm(m, k, n, groups)
    cycles = systolic_cycles(gemm, rows, cols, dataflow, folds)
    assert cycles >= ceil_div(gemm.macs, rows * cols)
    assert cycles >= ceil_div(groups * m * n, cols)


def test_skipped_shrinks_k_by_the_pattern_then_the_density():
    from accelsim.cost import Skip, packed, skipped

    g = Gemm(784, 576, 64)
    assert skipped(g) == g                                              # no skip: itself
    assert skipped(Gemm(784, 576, 64, skip=Skip(2, 4))) == Gemm(784, 288, 64)      # 576 x 2/4
    assert skipped(Gemm(784, 576, 64, skip=Skip(1, 4))) == Gemm(784, 144, 64)
    assert skipped(Gemm(784, 576, 64, skip=Skip(density=0.5))) == Gemm(784, 288, 64)
    assert skipped(Gemm(784, 576, 64, skip=Skip(2, 4, 0.5))) == Gemm(784, 144, 64)
    # the last short group keeps N too: K = 27, 2:4 -> ceil(27/4) x 2 = 14; x 0.3 -> ceil(4.2) = 5
    assert skipped(Gemm(10, 27, 8, skip=Skip(2, 4))).k == 14
    assert skipped(Gemm(10, 27, 8, skip=Skip(2, 4, 0.3))).k == 5
    # the MACs a GEMM computes stay dense; the array performs M x K' x N
    assert Gemm(784, 576, 64, skip=Skip(2, 4)).macs == 784 * 576 * 64
    # packing counts the products left: ceil(288 / 4) = 72
    assert packed(Gemm(784, 576, 64, skip=Skip(2, 4)), 4) == Gemm(784, 72, 64)


def test_a_skipped_conv_part_takes_the_closed_form_cycles():
    """One 14-row part of the ResNet-50 layer1 3x3 conv (M = 784, N = 64) on 32x32 OS,
    overlapped: 25 x 2 = 50 folds, T + 62 + 49 T = 50 T + 62 cycles, T = K'."""
    from accelsim.cost import Skip

    for skip, t in ((None, 576), (Skip(2, 4), 288), (Skip(1, 4), 144), (Skip(density=0.5), 288)):
        from accelsim.cost import packed
        assert systolic_cycles(packed(Gemm(784, 576, 64, skip=skip), 1), 32, 32, "os") == 50 * t + 62
