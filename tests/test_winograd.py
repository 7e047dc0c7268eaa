"""Which convs run as Winograd, and the transforms' lane operations counted from their matrices."""

from __future__ import annotations

import numpy as np

from accelsim.winograd import (
    INPUT_LANE_OPS,
    OUTPUT_LANE_OPS,
    WEIGHT_LANE_OPS,
    input_lane_operations,
    layout,
    layout_widths,
    output_lane_operations,
    tiles,
    weight_lane_operations,
    why_not,
)
from accelsim.winograd_exec import A_T, B_T, G2, G
from accelsim.workload import Conv, Tensor, Workload


def conv(**changes) -> Conv:
    return Conv(**{"name": "c", "kind": "conv", "input": "x", "output": "y", "kh": 3, "kw": 3, "cin": 8,
                   "cout": 8, "pad": 1, **changes})


def test_only_3x3_stride_1_ungrouped_convs_in_int8_or_fp32_qualify():
    assert why_not(conv(), "int8") is None and why_not(conv(), "fp32") is None
    assert why_not(conv(kh=1, kw=1, pad=0), "int8") == "a kernel other than 3x3"
    assert why_not(conv(stride=2), "int8") == "stride > 1"
    assert why_not(conv(dilation=2), "int8") == "dilation > 1"
    assert why_not(conv(pad=0), "int8") == "padding other than 1"
    assert why_not(conv(groups=8), "int8") == "groups > 1 (depthwise or grouped)"
    assert why_not(conv(), "fp16") == "datatype fp16 (Winograd runs in int8 and fp32)"


def test_lane_operations_are_the_additions_the_matrices_need():
    # B^T d: each of 4 x 4 values sums (nonzeros in its row of B^T) terms: one operation fewer
    rows = int(np.count_nonzero(B_T)) - 4             # per column of d
    assert INPUT_LANE_OPS == rows * 4 + rows * 4 == 32          # then (B^T d) B, per row
    out_rows = int(np.count_nonzero(A_T)) - 2         # A^T M: 2 values per column of M
    assert OUTPUT_LANE_OPS == out_rows * 4 + out_rows * 2 == 24  # then (A^T M) A: 2 rows of 2
    assert input_lane_operations(16 * 5) == 32 * 5 and output_lane_operations(16 * 5) == 24 * 5
    assert tiles(7, 8) == (4, 4)


def row_operations(matrix: np.ndarray) -> int:
    """Lane operations of `matrix` times one column: per row, one add or subtract fewer than its
    nonzero terms, and one shift (x2) or halving (x1/2) when its nonzeros are not +-1 (they share
    one magnitude, factored out)."""
    ops = 0
    for row in matrix:
        nonzero = np.abs(row[row != 0])
        assert len(set(nonzero.tolist())) == 1
        ops += len(nonzero) - 1 + int(nonzero[0] != 1)
    return ops


def test_the_weight_transform_takes_42_lane_operations_per_filter_and_input_channel():
    # G' g (G' = 2G): rows 0 and 3 a shift, rows 1 and 2 two adds: 6 per column of g, 3 columns;
    # then (G' g) G'^T: 6 per row of G' g, 4 rows
    assert row_operations(G2) == 1 + 2 + 2 + 1 == 6
    assert WEIGHT_LANE_OPS == row_operations(G2) * 3 + row_operations(G2) * 4 == 28 + 14 == 42
    # fp32: G's rows 0 and 3 copy, rows 1 and 2 two adds and a halving: 6 per column too
    assert row_operations(G) == 0 + 3 + 3 + 0 == 6
    assert weight_lane_operations(16 * 7) == 42 * 7


def test_layout_names_its_tensors_after_the_conv_and_sizes_them():
    wl = Workload("w", {"x": Tensor("x", (1, 4, 4, 8)), "y": Tensor("y", (1, 4, 4, 8))}, ())
    lay = layout(conv(), wl, "int8")
    assert lay is not None and (lay.mac_dtype, lay.scale) == ("int16", 4)
    assert dict(layout_widths(lay, "int8", "int32")) == {"c.wg_weight": 2, "c.wg_in": 2, "c.wg_prod": 4}
    fp = layout(conv(), wl, "fp32")
    assert fp is not None and (fp.mac_dtype, fp.scale) == ("fp32", 1)
    taken = Workload("w", {**wl.tensors, "c.wg_in": Tensor("c.wg_in", (1,))}, ())
    assert layout(conv(), taken, "int8") is None


def test_the_products_of_a_box_of_m_are_16_batched_gemms():
    """Box rows 3..5, all 28 tile columns, filters 8..24 (channels 128..384 of M) of a
    one-image M: 2 x 28 = 56 tiles, K = Cin, N = 16 filters, 16 GEMMs (one per point)."""
    from accelsim.cost import Gemm
    from accelsim.winograd import products_gemm

    gemm = products_gemm(((0, 3, 0, 128), (1, 5, 28, 384)), cin=64)
    assert gemm == Gemm(m=56, k=64, n=16, groups=16)
    assert gemm.macs == 16 * 56 * 64 * 16
