"""A ConvAdd block through the one scheduler: a network of one fused layer."""

import pytest

from accelsim import ScheduleError, load_workload, make_schedule, workload_from_dict
from tests.helpers import BLOCK, convadd, convadd_data, hw, identity_block

BLOCK_BYTES = 56 * 56 * 64          # one 56x56x64 int8 activation
WEIGHT_BYTES = 64 * 3 * 3 * 64


def build(workload, kind, splits=None, **machine):
    return make_schedule(hw(**machine), workload, kind, splits)


def loaded_bytes(schedule, prefix):
    return sum(op.reads[0].elements for op in schedule.ops
               if op.kind == "load" and op.id.split("/")[-1].startswith(prefix))


def test_pipelined_puts_add_i_beside_conv_i_plus_1():
    s = build(load_workload(BLOCK), "pipelined", 4)
    stage = {op.id: op.stage for op in s.ops}
    assert s.num_stages == 4 + 3
    for p in range(1, 5):
        assert stage[f"load_x{p}"] == p - 1
        assert stage[f"conv{p}"] == p
        assert stage[f"add{p}"] == p + 1
        assert stage[f"store{p}"] == p + 2
    for p in range(1, 4):
        assert stage[f"add{p}"] == stage[f"conv{p + 1}"]
    assert stage["load_w"] == 0


def test_pipelined_loads_halo_rows_twice():
    s = build(load_workload(BLOCK), "pipelined", 4)
    # output parts of 14 rows read input rows [0,15) [13,29) [27,43) [41,56): 62 rows, not 56
    rows = [op.reads[0].stop[1] - op.reads[0].start[1] for op in s.ops if op.id.startswith("load_x")]
    assert rows == [15, 16, 16, 15]
    assert loaded_bytes(s, "load_x") == 62 * 56 * 64
    assert loaded_bytes(s, "load_res") == BLOCK_BYTES
    assert loaded_bytes(s, "load_w") == WEIGHT_BYTES


def test_no_halo_for_1x1_stride_1():
    s = build(convadd(k=1, pad=0), "pipelined", 4)
    assert loaded_bytes(s, "load_x") == BLOCK_BYTES


def test_stride_2_parts_read_overlapping_rows():
    # 3x3 stride 2 pad 1 on 56 rows -> 28 output rows; 2 parts of 14.
    # part 1: rows [0, 13*2 - 1 + 2 + 1) = [0, 28); part 2: [14*2 - 1, 56) = [27, 56)
    s = build(convadd(k=3, stride=2, pad=1), "pipelined", 2)
    boxes = [(op.reads[0].start[1], op.reads[0].stop[1]) for op in s.ops if op.id.startswith("load_x")]
    assert boxes == [(0, 28), (27, 56)]


def test_identity_residual_is_read_from_sram_not_loaded_twice():
    fused = build(identity_block(), "fused")
    assert [op.id for op in fused.ops] == ["load_w", "load_x1", "conv1", "add1", "store1"]
    assert fused.op("add1").reads[1] == fused.op("load_x1").writes[0]
    assert loaded_bytes(fused, "load") == BLOCK_BYTES + WEIGHT_BYTES
    # 1x1 pipelined: each part's input rows are exactly its residual rows
    piped = build(identity_block(k=1, pad=0), "pipelined", 4)
    assert not [op for op in piped.ops if op.id.startswith("load_res")]
    # a 3x3 part loads halo rows, so its residual rows are a different region: loaded
    piped = build(identity_block(), "pipelined", 4)
    assert loaded_bytes(piped, "load_res") == BLOCK_BYTES


def test_parts_that_read_only_padding_load_nothing():
    # 1x1 conv, pad 3, on 2 rows: 8 output rows, of which rows 0-2 and 5-7 read padding only
    s = build(convadd(h=2, w=2, cin=4, cout=4, k=1, pad=3), "pipelined", 8)
    loads = {op.id: op.reads[0].stop[1] - op.reads[0].start[1] for op in s.ops if op.id.startswith("load_x")}
    assert loads == {"load_x4": 1, "load_x5": 1}
    assert s.op("conv1").reads == (s.op("load_w").writes[0],)
    assert loaded_bytes(s, "load") == 2 * 2 * 4 + 8 * 8 * 4 + 4 * 4      # x, residual, weights


def test_conv_parts_become_gemms_of_their_rows():
    s = build(load_workload(BLOCK), "pipelined", 3)
    gemms = [s.op(f"conv{p}").gemm for p in (1, 2, 3)]
    assert [(g.m, g.k, g.n) for g in gemms] == [(19 * 56, 576, 64), (19 * 56, 576, 64), (18 * 56, 576, 64)]


def test_serial_round_trips_the_conv_output_through_dram():
    s = build(load_workload(BLOCK), "serial")
    assert [op.id for op in s.ops] == ["conv/load_x", "conv/load_w1", "conv/conv1", "conv/store1",
                                       "add/load_a1", "add/load_b1", "add/add1", "add/store1"]
    assert [op.layer for op in s.ops] == ["conv"] * 4 + ["add"] * 4
    assert loaded_bytes(s, "load") == WEIGHT_BYTES + 3 * BLOCK_BYTES
    assert s.num_stages == 6


def test_fused_keeps_the_conv_output_in_sram():
    s = build(load_workload(BLOCK), "fused")
    assert [op.kind for op in s.ops] == ["load", "load", "load", "conv", "add", "store"]
    assert s.op("add1").reads[0].space == "ofmap"


def test_a_schedule_that_overflows_sram_is_an_error_at_schedule_time():
    # one row part holds the whole input (200,704 B) and at least one channel of the residual
    # (3,136 B): in no number of filter chunks does it fit 200,000 B
    with pytest.raises(ScheduleError, match=r"layer 'conv\+add' in 1 row parts needs 401,408 bytes in SRAM "
                                            r"buffer 'ifmap' in stage 0, but it holds 200,000"):
        build(load_workload(BLOCK), "fused", 1, sram__ifmap__size_bytes=200_000)
    # four parts fit where one does not, and left to choose, fused takes the fewest that fit
    build(load_workload(BLOCK), "pipelined", 4, sram__ifmap__size_bytes=300_000)
    assert build(load_workload(BLOCK), "fused", sram__ifmap__size_bytes=300_000).tiles == 2


def test_fixed_row_parts_that_overflow_take_the_fewest_filter_chunks_that_fit():
    # one row part in 300,000 B of ifmap: the input (200,704 B) with the residual's 64 channels
    # (200,704 B) does not fit, nor with 32 (100,352 B); with 22 (68,992 B) it does: 3 chunks,
    # each adding its channels of the residual. Each chunk loads the whole input again (2 x
    # 200,704 B more), as many bytes as apart the conv output's store and reload: it stays fused
    s = build(load_workload(BLOCK), "fused", 1, sram__ifmap__size_bytes=300_000)
    assert s.tiles == 3
    assert [op.reads[1].stop[3] - op.reads[1].start[3] for op in s.ops if op.kind == "add"] == [22, 22, 20]
    assert s.peak_stage_bytes()["ifmap"][0] == 200_704 + 22 * 56 * 56 <= 300_000


def test_splits_beyond_the_output_rows_is_an_error():
    with pytest.raises(ScheduleError, match=r"splits=57 is more than the 56 output rows"):
        build(load_workload(BLOCK), "pipelined", 57)


def test_a_lone_conv_runs_as_a_tiled_conv_layer():
    data = convadd_data()
    data["ops"] = data["ops"][:1]
    del data["tensors"]["r0"], data["tensors"]["x1"]
    s = build(workload_from_dict(data), "pipelined", 2)
    assert [op.id for op in s.ops if op.kind == "conv"] == ["conv1", "conv2"]
    assert s.notes == ()


def test_blocks_of_a_chain_follow_one_another():
    s = build(convadd(blocks=2), "pipelined", 2)
    first = [op for op in s.ops if op.layer == "conv0+add0"]
    second = [op for op in s.ops if op.layer == "conv1+add1"]
    assert len(first) == len(second) == 1 + 5 * 2
    assert max(op.stage for op in first) < min(op.stage for op in second)
    assert s.tiles == 4


def test_splits_fix_the_row_parts_and_weights_too_big_split_into_filter_chunks():
    # a 30,000 B weight buffer cannot hold the block's 36,864 B of weights, nor two chunks of 32
    # filters in flight (2 x 32 x 576 B); three chunks of at most 22 need 2 x 22 x 576 = 25,344 B.
    # Each chunk runs in the 4 row parts asked for.
    s = build(load_workload(BLOCK), "pipelined", 4, sram__weight__size_bytes=30_000)
    convs = [op for op in s.ops if op.kind == "conv"]
    chunks = [(op.writes[0].start[3], op.writes[0].stop[3]) for op in convs]
    assert chunks == [(0, 22)] * 4 + [(22, 44)] * 4 + [(44, 64)] * 4
    assert s.tiles == 12 and s.splits == 4
