"""The tile model: input boxes with halos, channel groups, weights, GEMMs and bytes, by hand."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accelsim import workload_from_dict
from accelsim.cost import Gemm
from accelsim.tiling import cols_read, concat_parts, rows_read, tile, window_padded
from tests.helpers import concat_net, convadd, convadd_data


def test_halo_rows_3x3_stride_1_pad_1():
    conv = convadd(h=56, k=3, stride=1, pad=1).ops[0]
    # output rows [14, 28) read input rows 13 .. 28 (one halo row on each side)
    assert rows_read(conv, 14, 28, 56) == (13, 29)
    # the first and last parts lose the row that lies in the padding
    assert rows_read(conv, 0, 14, 56) == (0, 15)
    assert rows_read(conv, 42, 56, 56) == (41, 56)


def test_halo_rows_3x3_stride_2():
    conv = convadd(h=9, w=9, cin=4, cout=10, k=3, stride=2, pad=0).ops[0]
    # output rows [1, 3): first = 1*2 = 2, last = 2*2 + 2 = 6 -> rows [2, 7)
    assert rows_read(conv, 1, 3, 9) == (2, 7)


def test_no_halo_for_1x1_stride_1():
    conv = convadd(k=1, pad=0).ops[0]
    assert rows_read(conv, 14, 28, 56) == (14, 28)


def test_halo_with_dilation():
    conv = convadd(h=20, w=20, k=3, pad=2, dilation=2).ops[0]
    # output rows [5, 10): first = 5 - 2 = 3, last = 9 - 2 + 2*2 = 11 -> [3, 12)
    assert rows_read(conv, 5, 10, 20) == (3, 12)


def test_a_dilated_window_cut_by_the_padding_loads_no_row_between_its_taps():
    # 3x3, dilation 2, pad 1 on 8 rows: 6 output rows; output row r reads rows r-1, r+1, r+3
    conv = convadd(h=8, w=8, k=3, pad=1, dilation=2).ops[0]
    assert rows_read(conv, 0, 1, 8) == (1, 4)       # rows -1 (padding), 1, 3: row 0 is not read
    assert rows_read(conv, 0, 2, 8) == (0, 5)       # output row 1 reads rows 0, 2, 4
    assert rows_read(conv, 5, 6, 8) == (4, 7)       # rows 4, 6, 8 (padding): row 7 is not read
    assert cols_read(conv, 5, 6, 8) == (4, 7)
    wl = convadd(h=8, w=8, cin=4, cout=4, k=3, pad=1, dilation=2)
    t = tile(wl.ops[0], ((0, 0, 5, 0), (1, 1, 6, 4)), wl)
    assert t.inputs[0][1] == ((0, 1, 4, 0), (1, 4, 7, 4))
    assert t.padded == ((0, -1, 4, 0), (1, 4, 9, 4))  # the window itself is unchanged


def test_a_stride_longer_than_the_window_skips_the_rows_between():
    # 1x1, stride 2, pad 1 on 8 rows: output row r reads row 2r - 1
    conv = convadd(h=8, w=8, k=1, stride=2, pad=1).ops[0]
    assert rows_read(conv, 0, 1, 8) == (0, 0)       # row -1 only: padding, nothing loaded
    assert rows_read(conv, 0, 2, 8) == (1, 2)       # rows -1 and 1


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.data(), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4),
       st.integers(0, 5), st.integers(1, 16), st.integers(1, 16))
def test_the_box_a_tile_loads_spans_exactly_the_rows_and_columns_its_windows_read(
        data, kh, kw, stride, dilation, pad, h, w):
    """Brute force: every tap of every output of the part, kept where it lies in the tensor;
    the box is their first to last row (column), empty when all lie in the padding."""
    ho = (h + 2 * pad - dilation * (kh - 1) - 1) // stride + 1
    wo = (w + 2 * pad - dilation * (kw - 1) - 1) // stride + 1
    assume(ho >= 1 and wo >= 1)
    wl = workload_from_dict({"name": "t", "tensors": {"x": [1, h, w, 2]}, "ops": [
        {"name": "conv", "kind": "conv", "input": "x", "output": "y", "kh": kh, "kw": kw, "stride": stride,
         "pad": pad, "dilation": dilation, "cin": 2, "cout": 3}]})
    conv = wl.ops[0]
    a = data.draw(st.integers(0, ho - 1))
    b = data.draw(st.integers(a + 1, ho))
    c = data.draw(st.integers(0, wo - 1))
    d = data.draw(st.integers(c + 1, wo))

    def exact(lo, hi, k, size):
        read = {r * stride - pad + j * dilation for r in range(lo, hi) for j in range(k)} & set(range(size))
        return (min(read), max(read) + 1) if read else None

    def agrees(span, want):
        return span[0] == span[1] if want is None else span == want

    rows, cols = exact(a, b, kh, h), exact(c, d, kw, w)
    assert agrees(rows_read(conv, a, b, h), rows) and agrees(cols_read(conv, c, d, w), cols)
    (_, r0, c0, ch0), (_, r1, c1, ch1) = tile(conv, ((0, a, c, 0), (1, b, d, 3)), wl).input_box("x")
    assert agrees((r0, r1), rows) and agrees((c0, c1), cols) and (ch0, ch1) == (0, 2)


def test_a_conv_tile_reads_its_halo_and_pads_nothing():
    wl = convadd(h=56, w=56, cin=64, cout=64, k=3, stride=1, pad=1)
    conv = wl.ops[0]
    t = tile(conv, ((0, 14, 0, 0), (1, 28, 56, 32)), wl)
    # rows 13..28 and all 56 columns (the padding columns -1 and 56 are not stored); all 64 input
    # channels feed each of the 32 filters
    assert t.inputs == (("x0", ((0, 13, 0, 0), (1, 29, 56, 64))),)
    assert t.padded == ((0, 13, -1, 0), (1, 29, 57, 64))
    assert t.weight == ("conv0.weight", ((0, 0, 0, 0), (32, 3, 3, 64)))
    assert t.gemm == Gemm(m=14 * 56, k=3 * 3 * 64, n=32)
    assert t.input_bytes(1) == 16 * 56 * 64 and t.weight_bytes(2) == 2 * 32 * 576
    assert t.output_bytes(1) == 14 * 56 * 32


def test_a_grouped_conv_tile_reads_its_groups_channels():
    # 8 -> 16 channels in 4 groups: each group maps 2 input channels to 4 output channels
    data = convadd_data(h=8, w=8, cin=8, cout=16, k=1, pad=0)
    data["ops"][0]["groups"] = 4
    data["tensors"].update({"c0": [1, 8, 8, 16], "r0": [1, 8, 8, 16], "x1": [1, 8, 8, 16]})
    wl = workload_from_dict(data)
    t = tile(wl.ops[0], ((0, 0, 0, 4), (1, 8, 8, 12)), wl)           # output channels of groups 1 and 2
    assert t.inputs[0][1] == ((0, 0, 0, 2), (1, 8, 8, 6))
    assert t.gemm == Gemm(m=64, k=2, n=4, groups=2)


def test_an_add_reads_its_output_box_of_both_inputs():
    wl = convadd(h=8, w=8, cin=4, cout=4)
    box = ((0, 2, 0, 0), (1, 5, 8, 4))
    t = tile(wl.ops[1], box, wl)
    assert t.inputs == (("c0", box), ("r0", box)) and t.gemm is None and t.window == 1


def test_a_pool_reads_its_window_and_reduces_kh_kw_inputs():
    data = {"name": "p", "tensors": {"x": [1, 112, 112, 8]},
            "ops": [{"name": "pool", "kind": "maxpool", "input": "x", "output": "y", "kh": 3, "kw": 3,
                     "stride": 2, "pad": 1}]}
    wl = workload_from_dict(data)
    t = tile(wl.ops[0], ((0, 0, 0, 0), (1, 28, 56, 8)), wl)
    # outputs 0..27 read rows -1 .. 27*2 - 1 + 2 = 55: rows [0, 56) once the padding row is cut
    assert t.inputs[0][1] == ((0, 0, 0, 0), (1, 56, 112, 8))
    assert t.window == 9 and t.weight is None


def test_a_gemm_tile_reads_every_input_feature():
    data = {"name": "fc", "tensors": {"x": [1, 1, 1, 2048]},
            "ops": [{"name": "fc", "kind": "gemm", "input": "x", "output": "y", "out_features": 1000}]}
    wl = workload_from_dict(data)
    t = tile(wl.ops[0], ((0, 0, 0, 100), (1, 1, 1, 300)), wl)
    assert t.inputs[0][1] == ((0, 0, 0, 0), (1, 1, 1, 2048))
    assert t.weight == ("fc.weight", ((100, 0), (300, 2048)))
    assert t.gemm == Gemm(m=1, k=2048, n=200)


def test_window_padded_reaches_into_the_padding():
    assert window_padded(0, 4, 3, 1, 1) == (-1, 5)
    assert window_padded(0, 2, 3, 2, 0, dilation=2) == (0, 7)


def one_op(op: dict, shape=(1, 26, 26, 16)):
    return workload_from_dict({"name": "t", "tensors": {"x": list(shape)},
                               "ops": [{"name": "op", "input": "x", "output": "y", **op}]})


def test_a_pool_with_asymmetric_pads_reads_from_its_top_and_left_pads():
    # pads [top 1, left 2, bottom 0, right 0], 3x3 stride 2 on 26 x 26: output row o reads rows
    # 2o - 1 .. 2o + 1, column o reads columns 2o - 2 .. 2o
    wl = one_op({"kind": "maxpool", "kh": 3, "kw": 3, "stride": 2, "pads": [1, 2, 0, 0]})
    assert wl.tensors["y"].shape == (1, 13, 13, 16)       # floor((26 + 1 - 3) / 2) + 1, (26 + 2 - 3)
    t = tile(wl.ops[0], ((0, 0, 0, 0), (1, 4, 5, 16)), wl)
    assert t.padded == ((0, -1, -2, 0), (1, 8, 9, 16))    # rows -1 .. 7, columns -2 .. 8
    assert t.inputs[0][1] == ((0, 0, 0, 0), (1, 8, 9, 16))
    assert rows_read(wl.ops[0], 12, 13, 26) == (23, 26) and cols_read(wl.ops[0], 12, 13, 26) == (22, 25)


def test_a_ceil_mode_window_hanging_past_the_input_reads_only_the_rows_that_exist():
    # AlexNet's pool2, Caffe style: 3x3 stride 2, pads [0, 0, 1, 1] on 26 x 26, 13 outputs; the
    # last row reads rows 24, 25 and 26 (the bottom pad): input rows [24, 26)
    wl = one_op({"kind": "maxpool", "kh": 3, "kw": 3, "stride": 2, "pads": [0, 0, 1, 1]})
    t = tile(wl.ops[0], ((0, 12, 12, 0), (1, 13, 13, 16)), wl)
    assert t.padded == ((0, 24, 24, 0), (1, 27, 27, 16))
    assert t.inputs[0][1] == ((0, 24, 24, 0), (1, 26, 26, 16))
    # ceil_mode without pads on 6 rows, window 3, stride 2: 3 outputs, the last reads rows 4, 5, 6
    wl = one_op({"kind": "avgpool", "kh": 3, "kw": 3, "stride": 2, "ceil_mode": True}, (1, 6, 6, 2))
    t = tile(wl.ops[0], ((0, 2, 0, 0), (1, 3, 3, 2)), wl)
    assert t.padded == ((0, 4, 0, 0), (1, 7, 7, 2)) and t.inputs[0][1] == ((0, 4, 0, 0), (1, 6, 6, 2))


@pytest.mark.parametrize(("size", "out", "read"), [
    (5, (4, 8), (2, 10)),          # 2 channels below, 2 above
    (5, (0, 4), (0, 6)),           # clipped at channel 0
    (5, (12, 16), (10, 16)),       # clipped at the last channel
    (4, (4, 8), (3, 10)),          # an even window: floor(3 / 2) = 1 below, ceil(3 / 2) = 2 above
    (1, (4, 8), (4, 8)),           # no halo
    (40, (4, 8), (0, 16)),         # a window wider than the tensor reads every channel
])
def test_an_lrn_tile_reads_its_channel_halo(size, out, read):
    wl = one_op({"kind": "lrn", "size": size}, (1, 4, 4, 16))
    t = tile(wl.ops[0], ((0, 1, 0, out[0]), (1, 3, 4, out[1])), wl)
    assert t.inputs == (("x", ((0, 1, 0, read[0]), (1, 3, 4, read[1]))),)
    assert t.window == size and t.weight is None and t.gemm is None and t.padded is None


def test_a_softmax_tile_reads_every_channel_of_its_pixels():
    wl = one_op({"kind": "softmax"}, (1, 4, 4, 16))
    t = tile(wl.ops[0], ((0, 1, 2, 3), (1, 2, 4, 5)), wl)
    assert t.inputs == (("x", ((0, 1, 2, 0), (1, 2, 4, 16))),) and t.window == 1


def test_a_concat_tile_reads_the_channels_of_its_box_that_fall_in_each_input():
    wl = concat_net()                       # y = [b1 (8 channels), b3 (24 channels)], 12 x 10
    cat = next(op for op in wl.ops if op.name == "cat")
    rows = ((0, 3, 0), (1, 7, 10))          # rows 3:7, every column
    whole = tile(cat, ((*rows[0], 0), (*rows[1], 32)), wl)
    assert whole.inputs == (("b1", ((0, 3, 0, 0), (1, 7, 10, 8))), ("b3", ((0, 3, 0, 0), (1, 7, 10, 24))))
    assert whole.weight is None and whole.gemm is None and whole.window == 1
    # channels 5:12 of y: 5:8 of b1 and 0:4 of b3 (y's 8:12)
    part = tile(cat, ((*rows[0], 5), (*rows[1], 12)), wl)
    assert part.inputs == (("b1", ((0, 3, 0, 5), (1, 7, 10, 8))), ("b3", ((0, 3, 0, 0), (1, 7, 10, 4))))
    # channels 10:20 of y: all in b3 (its 2:12); b1's box is empty
    inside = tile(cat, ((*rows[0], 10), (*rows[1], 20)), wl)
    assert inside.inputs[1] == ("b3", ((0, 3, 0, 2), (1, 7, 10, 12)))
    assert inside.inputs[0][1][0][3] == inside.inputs[0][1][1][3]
    parts = concat_parts(cat, ((*rows[0], 10), (*rows[1], 20)), wl)
    assert parts[1] == ("b3", ((0, 3, 0, 2), (1, 7, 10, 12)), 8)      # b3 starts at y's channel 8
