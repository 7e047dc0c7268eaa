"""Whole networks on the default machine: SRAM respected, every output written once, speedups."""

import pytest

from accelsim import ScheduleError, load_hw, load_workload, simulate, workload_from_dict
from accelsim.placement import place
from accelsim.schedule import DRAM
from accelsim.scheduler.network import SCHEDULES, network_schedule
from accelsim.validate import validate
from accelsim.workload import Conv
from tests.helpers import (
    DEFAULT_HW,
    ROOT,
    add_then_pool,
    concat_net,
    concat_net_data,
    convadd_data,
    shuffle_net,
)
from tests.helpers import hw as hw_with


@pytest.fixture(scope="module")
def hw():
    return load_hw(DEFAULT_HW)


def trace(name):
    return load_workload(ROOT / "traces" / f"{name}.yaml")


@pytest.mark.parametrize("name", ["resnet50", "resnet18", "mobilenetv2"])
@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
def test_sram_is_never_exceeded_and_every_layer_output_is_stored_once(hw, name, kind):
    wl = trace(name)
    schedule, plans, _ = network_schedule(wl, hw, kind)
    assert_fits_and_stores_each_output_once(schedule, plans, wl, hw)


def assert_fits_and_stores_each_output_once(schedule, plans, wl, hw):
    for space, (need, _) in schedule.peak_stage_bytes().items():
        assert need <= hw.buffer(space).size_bytes
    stored = {}
    for op in schedule.ops:
        if op.kind == "store":
            (region,) = op.writes
            assert region.space == DRAM
            stored[region.tensor] = stored.get(region.tensor, 0) + region.elements
    fused_convs = {p.name.split("+")[0] for p in plans if p.kind == "convadd"}
    expected = {op.output for op in wl.ops if op.name not in fused_convs}
    assert set(stored) == expected
    for tensor, elements in stored.items():          # parts tile the tensor: no gap, no overlap
        total = 1
        for d in wl.tensors[tensor].shape:
            total *= d
        assert elements == total, tensor


def kb48():
    """The default machine with 48 KB (49,152 B) in each SRAM buffer."""
    return hw_with(sram__ifmap__size_bytes=49_152, sram__weight__size_bytes=49_152,
                   sram__ofmap__size_bytes=49_152)


# The global average pool, in channel parts: ResNet-50 reads 7 x 7 x 2,048 = 100,352 B,
# MobileNetV2 7 x 7 x 1,280 = 62,720 B, ResNet-18 7 x 7 x 512 = 25,088 B. Unpipelined one part
# is in the ifmap at a time: 49 x ceil(2048/3) = 33,467 B fits, 49 x 1,024 = 50,176 B does not
# (3 parts); 49 x 640 = 31,360 B fits (2 parts); ResNet-18's fits whole. Pipelined the next part
# loads while the last is pooled, two in flight: 2 x 49 x 410 = 40,180 B fits, 2 x 49 x 512 =
# 50,176 B does not (5 parts); 2 x 49 x 427 = 41,846 B fits, 2 x 49 x 640 = 62,720 B does not
# (3 parts); one part has nothing loading beside it (ResNet-18: 1).
@pytest.mark.parametrize(("name", "pool_parts"), [("resnet50", (3, 3, 5)), ("resnet18", (1, 1, 1)),
                                                  ("mobilenetv2", (2, 2, 3))])
@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
def test_the_three_networks_schedule_on_48_kb_buffers_within_sram(name, pool_parts, kind):
    machine, wl = kb48(), trace(name)
    schedule, plans, _ = network_schedule(wl, machine, kind)
    assert_fits_and_stores_each_output_once(schedule, plans, wl, machine)
    assert all(not p.note for p in plans)                        # every ConvAdd fused
    pool = next(p for p in plans if p.kind == "avgpool")
    assert pool.tiles == pool_parts[SCHEDULES.index(kind)]
    widths = [op.writes[0].stop[3] - op.writes[0].start[3] for op in schedule.ops
              if op.layer == "avgpool" and op.kind == "pool"]
    channels = wl.tensors[next(op.output for op in wl.ops if op.name == "avgpool")].shape[3]
    assert len(widths) == pool.tiles and sum(widths) == channels
    assert max(widths) == -(-channels // pool.tiles)


@pytest.mark.parametrize(("kind", "parts", "tiles"), [
    ("serial", {}, (8, 3)), ("pipelined", {}, (12, 6)), ("serial", {"sum": 2, "pool": 1}, (6, 3))])
def test_adds_and_pools_split_by_channel_when_one_pixel_does_not_fit(kind, parts, tiles):
    """a + b (2 x 2 x 64 each), then a 2x2 average pool, with 100 B of ifmap. One pixel of the
    add loads 2 x 64 B: unpipelined 2 x 32 B fits, so 2 channel parts of 4 pixels; pipelined two
    tiles are in flight: 2 x 2 x 22 B = 88 B fits, 2 x 2 x 32 B does not: 3 channel parts. The
    pool's one output pixel reads 4 x 64 B: 4 x 22 B = 88 B fits, 4 x 32 B does not (3 parts);
    pipelined 2 x 4 x 11 B = 88 B fits, 2 x 4 x 13 B = 104 B does not (6 parts). With the row
    parts fixed, channel parts are still chosen: the add in 2 one-row parts loads 2 x 2 pixels
    of 22 B (3 channel parts)."""
    small = hw_with(sram__ifmap__size_bytes=100)
    wl = add_then_pool()
    schedule, plans, _ = network_schedule(wl, small, kind, parts=parts)
    assert [(p.name, p.tiles) for p in plans] == [("sum", tiles[0]), ("pool", tiles[1])]
    assert_fits_and_stores_each_output_once(schedule, plans, wl, small)
    placed = place(schedule, small.sram_capacity())
    assert validate(placed, small, wl) == []


def test_fixed_row_parts_that_no_channel_split_fits_are_an_error():
    # one row of the add is 2 pixels: with 1 channel per part, 2 inputs x 2 B = 4 B > 3 B; the
    # error names what the fixed parts need whole: 2 inputs x 2 pixels x 64 B = 256 B
    small = hw_with(sram__ifmap__size_bytes=3)
    with pytest.raises(ScheduleError, match=r"layer 'sum' in 2 row parts needs 256 bytes in SRAM buffer "
                                            r"'ifmap' in stage 0, but it holds 3"):
        network_schedule(add_then_pool(), small, "serial", parts={"sum": 2})
    with pytest.raises(ScheduleError, match=r"add 'sum': even one output pixel of one channel per part "
                                            r"does not fit SRAM"):
        network_schedule(add_then_pool(), hw_with(sram__ifmap__size_bytes=1), "serial")


def test_a_convadd_whose_rows_do_not_fit_splits_its_filters():
    """1x1 conv, 8 -> 64 channels, over 4 rows of 8 pixels, with 600 B of ofmap: the conv output
    and the sum of one row are 512 B each. Unpipelined one tile holds both (1,024 B): in 2
    filter chunks 512 B fits, so 4 one-row parts x 2 chunks. Pipelined two tiles' of each are
    live: 4 x 128 B fits in 4 chunks (3 chunks: 4 x 22 x 8 = 704 B does not): 16 tiles."""
    small = hw_with(sram__ofmap__size_bytes=600)
    wl = workload_from_dict(convadd_data(h=4, w=8, cin=8, cout=64, k=1, pad=0))
    for kind, tiles, chunks in (("fused", 8, 2), ("pipelined", 16, 4)):
        schedule, plans, _ = network_schedule(wl, small, kind)
        assert [(p.kind, p.tiles, p.note) for p in plans] == [("convadd", tiles, "")]
        assert sum(op.id.startswith("load_w") for op in schedule.ops) == chunks
        assert_fits_and_stores_each_output_once(schedule, plans, wl, small)


def test_resnet50_pipelined_beats_serial(hw):
    wl = trace("resnet50")
    serial, fused, piped = (simulate(hw, wl, kind) for kind in ("serial", "fused", "pipelined"))
    assert piped.total_cycles < fused.total_cycles < serial.total_cycles
    assert serial.total_cycles / piped.total_cycles > 1.4
    # fusing keeps 16 conv outputs (the ones the adds consume) out of DRAM, both ways
    assert fused.dram_write_bytes < serial.dram_write_bytes
    assert piped.macs == wl.macs == 4_089_184_256       # the FC runs as a 1x1 conv: the same MACs
    for space, peak in piped.sram_peak_bytes.items():
        assert peak <= hw.buffer(space).size_bytes


def test_convadds_whose_weights_exceed_the_buffer_fuse_in_filter_chunks(hw):
    schedule, plans, _ = network_schedule(trace("resnet50"), hw, "pipelined")
    assert all(not p.note for p in plans)
    assert sum(p.kind == "convadd" for p in plans) == 16
    # layer4's 1x1 512 -> 2048 conv has 1 MiB of weights, four times the 256 KiB buffer:
    # two chunks in flight need chunks of at most 128 KiB, so 8 chunks of 256 filters
    name = "layer4.0.conv3+layer4.0.add"
    weights = [op for op in schedule.ops if op.id.startswith(f"{name}/load_w")]
    assert len(weights) == 8
    assert all(op.writes[0].elements == 256 * 512 for op in weights)
    adds = [op for op in schedule.ops if op.id.startswith(f"{name}/add")]
    assert {op.reads[1].stop[3] - op.reads[1].start[3] for op in adds} == {256}   # residual channel chunks


def test_a_convadd_that_cannot_fit_runs_as_conv_and_add_and_says_why():
    # fused, ifmap holds two tiles' input rows and two tiles' residual at once: in one-row parts,
    # 2 x 3 rows x 2,048 B = 12,288 B of input, and in any number of filter chunks at least
    # 2 x 64 B of residual (one channel): 12,416 B. Apart, the conv holds only input rows:
    # 12,300 B of ifmap fits the conv but not the ConvAdd
    data = convadd_data(h=8, w=64, cin=32, cout=32, k=3)
    data["ops"].append({"name": "tap", "kind": "maxpool", "input": "x1", "output": "t", "kh": 1, "kw": 1})
    small = hw_with(sram__ifmap__size_bytes=12_300)
    schedule, plans, _ = network_schedule(workload_from_dict(data), small, "pipelined")
    assert [(p.name, p.kind) for p in plans] == [("conv0", "conv"), ("add0", "add"), ("tap", "maxpool")]
    assert plans[0].note == ("not fused with add0: does not fit SRAM in any number of parts; "
                             "conv and add run apart")
    assert "conv0: not fused with add0" in schedule.notes[1]


def test_a_convadd_runs_apart_when_its_filter_chunks_would_move_more_dram_bytes():
    # 14,000 B of ifmap: fused in one-row parts, 2 x 6,144 B of input rows and two residual parts
    # of 64 x ceil(32/3) = 704 B fit in 3 filter chunks. Each chunk loads the input rows again:
    # 3 x 22 rows (halos included) x 2,048 B = 135,168 B, plus weights 9,216 B, residual 16,384 B
    # and the stored sum 16,384 B: 177,152 B. Apart: input 45,056 B, weights, the conv output
    # stored and loaded back (2 x 16,384 B), residual and sum: 119,808 B
    data = convadd_data(h=8, w=64, cin=32, cout=32, k=3)
    small = hw_with(sram__ifmap__size_bytes=14_000)
    _, plans, _ = network_schedule(workload_from_dict(data), small, "pipelined")
    assert [(p.name, p.kind) for p in plans] == [("conv0", "conv"), ("add0", "add")]
    assert plans[0].note == ("not fused with add0: fits SRAM only in 3 filter chunks, each loading the "
                             "input again: 177,152 B to and from DRAM against 119,808 B apart; conv and "
                             "add run apart")


def test_depthwise_layers_use_one_array_column(hw):
    # A depthwise conv is one GEMM per channel with N = 1 filter: it maps onto 1 of the 32
    # columns. On OS each fold puts R = 32 outputs of K = 3 x 3 = 9 MACs in that column, and
    # they leave on its output bus one per cycle: max(K, R) = 32 cycles per fold, so at most
    # R x K / max(K, R) = min(R, K) = 9 MACs per busy conv cycle.
    result = simulate(hw, trace("mobilenetv2"), "pipelined")
    sa = hw.systolic_array
    layers = {layer.name: layer for layer in result.layers()}
    depthwise = [op for op in trace("mobilenetv2").ops if isinstance(op, Conv) and op.groups > 1]
    assert depthwise and {op.kh * op.kw for op in depthwise} == {9}
    for op in depthwise:
        layer = layers[op.name]
        per_cycle = layer.macs / layer.units["conv"].busy_cycles
        assert per_cycle <= min(sa.rows, 9)
        assert per_cycle > 0.5 * min(sa.rows, 9)   # close to the bound: M fills the rows


def test_layers_in_json(hw):
    data = simulate(hw, trace("resnet18"), "pipelined").to_dict()
    layers = data["layers"]
    assert layers[0]["name"] == "conv1" and layers[-1]["name"] == "fc"
    assert set(layers[0]) >= {"name", "kinds", "cycles", "units", "dram_read_bytes", "dram_write_bytes",
                              "bound_cycles"}
    assert all(layer["bound_cycles"] <= layer["cycles"] for layer in layers)
    assert sum(layer["macs"] for layer in layers) == data["macs"]


@pytest.mark.parametrize("name", ["resnet50", "mobilenetv2"])
def test_sync_by_deps_runs_whole_networks_within_sram(hw, name):
    wl = trace(name)
    barrier = simulate(hw, wl, "pipelined")
    deps = simulate(hw, wl, "pipelined", sync="deps")
    assert deps.total_cycles < barrier.total_cycles
    for space, peak in deps.sram_peak_bytes.items():
        assert peak <= hw.buffer(space).size_bytes


def test_parts_override_a_layers_tiling(hw):
    wl = trace("resnet18")
    _, plans, _ = network_schedule(wl, hw, "pipelined", parts={"layer1.0.conv2+layer1.0.add": 8, "conv1": 56})
    by_name = {p.name: p.tiles for p in plans}
    assert by_name["layer1.0.conv2+layer1.0.add"] == 8 and by_name["conv1"] == 56
    with pytest.raises(ScheduleError, match=r"--parts names no layer of this pipelined schedule: nope"):
        network_schedule(wl, hw, "pipelined", parts={"nope": 2})
    # conv1's 112 x 112 x 64 output in two parts of 401,408 B: two in flight overflow the ofmap buffer
    with pytest.raises(ScheduleError, match=r"layer 'conv1' in 2 row parts needs 802,816 bytes in SRAM "
                                            r"buffer 'ofmap'"):
        network_schedule(wl, hw, "pipelined", parts={"conv1": 2})


def test_wide_rows_are_split_into_columns_for_adds_and_pools_too():
    # rows of 4,000 x 16 = 64,000 B: an add loads two of them, twice in flight, into 40,000 B
    data = {"name": "wide", "tensors": {"a": [1, 2, 4000, 16], "b": [1, 2, 4000, 16]},
            "ops": [{"name": "sum", "kind": "add", "inputs": ["a", "b"], "output": "s"},
                    {"name": "pool", "kind": "maxpool", "input": "s", "output": "p", "kh": 2, "kw": 2,
                     "stride": 2}]}
    wl = workload_from_dict(data)
    small = hw_with(sram__ifmap__size_bytes=40_000)
    schedule, plans, _ = network_schedule(wl, small, "pipelined")
    for space, (need, _) in schedule.peak_stage_bytes().items():
        assert need <= small.buffer(space).size_bytes
    stored = {}
    for op in schedule.ops:
        if op.kind == "store":
            stored[op.writes[0].tensor] = stored.get(op.writes[0].tensor, 0) + op.writes[0].elements
    assert stored == {"s": 2 * 4000 * 16, "p": 1 * 2000 * 16}
    assert all(p.tiles > 2 for p in plans)


def conv_pool(h, w, c, cout, k, stride, pad):
    return workload_from_dict({"name": "cp", "tensors": {"x": [1, h, w, c]}, "ops": [
        {"name": "conv", "kind": "conv", "input": "x", "output": "y", "kh": k, "kw": k, "stride": stride,
         "pad": pad, "cin": c, "cout": cout},
        {"name": "pool", "kind": "maxpool", "input": "y", "output": "p", "kh": 2, "kw": 2, "stride": 2}]})


def test_a_conv_split_into_columns_inside_a_network_keeps_its_columns():
    small = hw_with(sram__ifmap__size_bytes=2000, sram__ofmap__size_bytes=2000)
    result = simulate(small, conv_pool(8, 64, 16, 16, 3, 1, 1), "pipelined")
    for space, peak in result.sram_peak_bytes.items():
        assert peak <= small.buffer(space).size_bytes


def test_a_strided_conv_loads_only_the_columns_it_reads():
    # 1x1 stride 2 over 6 columns reads columns 0, 2, 4: column 5 is never loaded. Two row
    # parts (output rows 0-1 and 2-3) load input rows 0-2 and 4-6 as boxes: 6 rows x 5 columns
    small = hw_with(sram__ifmap__size_bytes=800)
    result = simulate(small, conv_pool(7, 6, 24, 16, 1, 2, 0), "pipelined")
    loads = [r for r in result.ops if r.id.startswith("conv/load_x")]
    assert sum(r.bytes for r in loads) == 6 * 5 * 24
    assert result.sram_peak_bytes["ifmap"] <= 800


def test_finer_tiling_that_would_not_fit_keeps_the_chosen_tiling():
    small = hw_with(sram__ifmap__size_bytes=600)
    schedule, _, _ = network_schedule(conv_pool(8, 8, 8, 8, 3, 1, 1), small, "pipelined", tile_scale=2)
    for space, (need, _) in schedule.peak_stage_bytes().items():
        assert need <= small.buffer(space).size_bytes


def test_stages_with_no_op_cost_no_barrier():
    # 1x1 conv with pad 1: its first and last output rows read only padding, so unpipelined
    # their load stages are empty; the run pays one barrier per stage that has ops
    small = hw_with(sram__ifmap__size_bytes=300)
    result = simulate(small, conv_pool(6, 6, 4, 4, 1, 1, 1), "fused")
    stages = {r.stage for r in result.ops}
    assert result.time_split()["barrier"] == len(stages) * small.barrier_cycles
    assert sum(result.time_split().values()) == result.total_cycles


def test_splits_set_the_row_parts_of_every_layer(hw):
    wl = trace("resnet18")
    schedule, plans, _ = network_schedule(wl, hw, "pipelined", splits=7)
    assert schedule.splits == 7 and schedule.tiles == sum(p.tiles for p in plans)
    rows_of: dict[str, set] = {}
    for op in schedule.ops:
        if op.unit != "dma":
            out = op.writes[0]
            rows_of.setdefault(op.layer, set()).add((out.start[1], out.stop[1]))
    for layer, parts in rows_of.items():
        height = wl.tensors[next(op for op in schedule.ops if op.layer == layer and op.unit != "dma")
                            .writes[0].tensor].shape[1]
        assert len(parts) == min(7, height), layer          # layer4 (7 rows): one row each; fc: 1
    assert len(rows_of) == len(plans)


@pytest.mark.parametrize(("kind", "chunks"), [("fused", 2), ("pipelined", 4)])
def test_a_convadd_splits_its_filters_as_the_weights_it_holds_at_once_require(kind, chunks):
    """Weights of 8 filters (3x3x8 each) in a buffer of 4: unpipelined, one chunk is held at a
    time, so 2 chunks of 4 fit; pipelined, the next chunk loads while the last is in use, so
    two chunks of at most 2 filters: 4 chunks."""
    machine = hw_with(sram__weight__size_bytes=4 * 3 * 3 * 8 * load_hw(DEFAULT_HW).element_bytes)
    wl = workload_from_dict(convadd_data(h=8, w=8, cin=8, cout=8))
    schedule, plans, _ = network_schedule(wl, machine, kind, splits=1)
    assert [p.kind for p in plans] == ["convadd"]
    assert sum(op.id.startswith("load_w") for op in schedule.ops) == chunks
    assert schedule.peak_stage_bytes()["weight"][0] <= machine.sram.weight.size_bytes


def one_vector_op(op: dict, shape) -> object:
    return workload_from_dict({"name": "v", "tensors": {"x": list(shape)},
                               "ops": [{"name": "v", "input": "x", "output": "y", **op}]})


@pytest.mark.parametrize(("kind", "tiles", "reads"), [
    # 2 x 2 x 64 with 40 B of ifmap: one pixel (64 B) does not fit. Serial: 2 channel parts of
    # 32 load 34 channels each (2 of halo), one pixel per part: 2 rows x 2 columns x 2 = 8 tiles.
    ("serial", 8, {(0, 34), (30, 64)}),
    # pipelined two tiles are in flight: 2 x 34 > 40; 3 parts (22, 21, 21) load 24 or 25: 2 x 24
    # > 40; 4 parts of 16 load 18 or 20 (2 + 16 + 2): 2 x 20 = 40 fits: 2 x 2 x 4 = 16 tiles
    ("pipelined", 16, {(0, 18), (14, 34), (30, 50), (46, 64)}),
])
def test_an_lrn_split_by_channel_loads_its_channel_halo(kind, tiles, reads):
    small = hw_with(sram__ifmap__size_bytes=40)
    wl = one_vector_op({"kind": "lrn", "size": 5}, (1, 2, 2, 64))
    schedule, plans, _ = network_schedule(wl, small, kind)
    assert [(p.kind, p.tiles) for p in plans] == [("lrn", tiles)]
    lrns = [op for op in schedule.ops if op.kind == "lrn"]
    assert {(op.reads[0].start[3], op.reads[0].stop[3]) for op in lrns} == reads
    assert all(op.unit == "add" and op.window == 5 for op in lrns)
    assert_fits_and_stores_each_output_once(schedule, plans, wl, small)
    assert validate(place(schedule, small.sram_capacity()), small, wl) == []


def test_a_softmax_is_split_by_rows_and_columns_never_by_channel():
    # 4 x 4 x 64 with 100 B of ifmap: a row (4 x 64 B) does not fit, nor 2 pixels (128 B); one
    # pixel with its 64 channels does: 4 rows x 4 column parts = 16 tiles, each all 64 channels
    small = hw_with(sram__ifmap__size_bytes=100)
    wl = one_vector_op({"kind": "softmax"}, (1, 4, 4, 64))
    schedule, plans, _ = network_schedule(wl, small, "serial")
    assert [(p.kind, p.tiles) for p in plans] == [("softmax", 16)]
    softmaxes = [op for op in schedule.ops if op.kind == "softmax"]
    assert len(softmaxes) == 16
    assert all((op.reads[0].start[3], op.reads[0].stop[3]) == (0, 64) == (op.writes[0].start[3],
                                                                          op.writes[0].stop[3])
               for op in softmaxes)
    assert_fits_and_stores_each_output_once(schedule, plans, wl, small)
    assert validate(place(schedule, small.sram_capacity()), small, wl) == []
    # pipelined, two pixels are in flight (128 B): only a channel split would fit, and there is none
    with pytest.raises(ScheduleError, match=r"softmax 'v': even one output pixel does not fit SRAM with its "
                                            r"64 channels, and a softmax cannot be split by channel"):
        network_schedule(wl, small, "pipelined")


def test_a_pool_with_asymmetric_pads_and_ceil_mode_tiles_by_rows_within_sram():
    # AlexNet's pool2 on 26 x 26 x 16: 13 x 13 outputs; 200 B of ifmap hold no row part (output
    # row o reads input rows 2o .. 2o + 2, 3 x 26 x 16 B = 1,248 B), so rows go one per part, in
    # column parts: k output columns read 3 x (2k + 1) x 16 B, 144 B for k = 1, 240 B for 2: 13
    # parts of one pixel; the last one's window hangs over the bottom-right padding
    small = hw_with(sram__ifmap__size_bytes=200)
    wl = one_vector_op({"kind": "maxpool", "kh": 3, "kw": 3, "stride": 2, "pads": [0, 0, 1, 1],
                        "ceil_mode": True}, (1, 26, 26, 16))
    schedule, plans, _ = network_schedule(wl, small, "serial")
    assert [(p.kind, p.tiles) for p in plans] == [("maxpool", 13 * 13)]
    pools = [op for op in schedule.ops if op.kind == "pool"]
    last = pools[-1]
    assert last.writes[0].box == ((0, 12, 12, 0), (1, 13, 13, 16))
    assert last.reads[0].box == ((0, 24, 24, 0), (1, 26, 26, 16))      # rows and columns 24, 25
    assert_fits_and_stores_each_output_once(schedule, plans, wl, small)
    assert validate(place(schedule, small.sram_capacity()), small, wl) == []


@pytest.mark.parametrize("kind", SCHEDULES)
def test_a_concat_of_op_outputs_is_no_copy_its_producers_store_into_their_slices(kind):
    hw = load_hw(DEFAULT_HW)
    wl = concat_net()                               # y [1, 12, 10, 32] = b1 (8 ch) then b3 (24 ch)
    schedule, plans, _ = network_schedule(wl, hw, kind)
    assert [op for op in schedule.ops if op.layer == "cat"] == []
    assert next(p for p in plans if p.name == "cat").tiles == 0
    assert not any(r.tensor in ("b1", "b3") and r.space == DRAM for op in schedule.ops
                   for r in (*op.reads, *op.writes))
    # e1's stores cover y's channels 0:8 and e3's 8:32, each element once: 12 x 10 x 32
    for layer, (c0, c1) in (("e1", (0, 8)), ("e3", (8, 32))):
        writes = [op.writes[0] for op in schedule.ops if op.layer == layer and op.kind == "store"]
        assert {(w.tensor, w.start[3], w.stop[3]) for w in writes} == {("y", c0, c1)}
        assert sum(w.elements for w in writes) == 12 * 10 * (c1 - c0)
    (layout,) = schedule.concats
    assert (layout.placed, layout.copied, layout.label, layout.after) == (("b1", "b3"), (), "no copy", "e3")
    assert "cat: concat, no copy: b1, b3 written straight into the output's channel slice by their " \
           "producers" in schedule.notes
    assert validate(place(schedule, hw.sram_capacity()), hw, wl) == []


@pytest.mark.parametrize("kind", SCHEDULES)
def test_a_concat_copies_a_graph_input_into_its_channel_slice_and_places_the_rest(kind):
    hw = load_hw(DEFAULT_HW)
    data = concat_net_data()
    data["ops"][3]["inputs"] = ["x", "b3"]          # y [1, 12, 10, 32] = x (8 ch, a graph input), b3
    wl = workload_from_dict(data)
    schedule, plans, _ = network_schedule(wl, hw, kind)
    ops = [op for op in schedule.ops if op.layer == "cat"]
    assert {op.kind for op in ops} == {"load", "store"}     # no compute op
    loads, stores = [op for op in ops if op.kind == "load"], [op for op in ops if op.kind == "store"]
    # every element of x read once (12 x 10 x 8 B), written once into y's channels 0:8
    assert sum(op.facts.moves for op in loads) == sum(op.facts.moves for op in stores) == 12 * 10 * 8
    for store in stores:
        (src,), (dst,) = store.reads, store.writes
        assert src.tensor == "x" and dst.tensor == "y" and (dst.start, dst.stop) == (src.start, src.stop)
    plan = next(p for p in plans if p.name == "cat")
    assert plan.kind == "concat" and plan.tiles == len({op.tile for op in stores})
    (layout,) = schedule.concats
    assert (layout.placed, layout.copied, layout.label) == (("b3",), ("x",), "copy (1 of 2 inputs)")
    assert "cat: concat, copy (1 of 2 inputs): b3 written straight into the output's channel slice by " \
           "its producer; x copied by DMA (loaded, and stored into the output's channel slice)" \
        in schedule.notes
    assert validate(place(schedule, hw.sram_capacity()), hw, wl) == []


def test_a_concat_too_wide_for_the_ifmap_buffer_runs_in_channel_parts():
    # 20 B of ifmap: one pixel of y (32 channels) does not fit, 16 channels do: 2 channel parts
    # (y 0:16 = a 0:8 + b 0:8, y 16:32 = b 8:24), each in 2 x 2 one-pixel parts (2 pixels: 32 B)
    small = hw_with(sram__ifmap__size_bytes=20)
    wl = workload_from_dict({"name": "c", "tensors": {"a": [1, 2, 2, 8], "b": [1, 2, 2, 24]},
                             "ops": [{"name": "cat", "kind": "concat", "inputs": ["a", "b"], "output": "y"}]})
    schedule, plans, _ = network_schedule(wl, small, "serial")
    widths = {op.writes[0].stop[3] - op.writes[0].start[3] for op in schedule.ops if op.kind == "store"}
    assert widths == {8, 16} and plans[0].tiles == 2 * 2 * 2
    assert validate(place(schedule, small.sram_capacity()), small, wl) == []


@pytest.mark.parametrize("kind", SCHEDULES)
def test_a_shuffle_is_a_dma_copy_of_each_part_all_channels_stored_permuted(kind):
    hw = load_hw(DEFAULT_HW)
    wl = shuffle_net()                              # s [1, 6, 5, 12] = a shuffled in 3 groups
    schedule, _, _ = network_schedule(wl, hw, kind)
    ops = [op for op in schedule.ops if op.layer == "shuf"]
    assert {op.kind for op in ops} == {"load", "store"}     # no compute op
    loads, stores = [op for op in ops if op.kind == "load"], [op for op in ops if op.kind == "store"]
    # every element of a read once (6 x 5 x 12 B), written once into s
    assert sum(op.facts.moves for op in loads) == sum(op.facts.moves for op in stores) == 6 * 5 * 12
    for store in stores:
        (src,), (dst,) = store.reads, store.writes
        assert (src.tensor, dst.tensor) == ("a", "s") and (src.start, src.stop) == (dst.start, dst.stop)
        assert (dst.start[3], dst.stop[3]) == (0, 12)
    assert "shuf: channel shuffle as a DMA copy (each part's pixels loaded, all channels, and stored " \
           "permuted)" in schedule.notes
    assert validate(place(schedule, hw.sram_capacity()), hw, wl) == []


def test_a_shuffle_whose_one_pixel_does_not_fit_is_refused_not_split_by_channel():
    small = hw_with(sram__ifmap__size_bytes=8)      # one pixel of 12 channels: 12 B
    wl = workload_from_dict({"name": "s", "tensors": {"a": [1, 2, 2, 12]}, "ops": [
        {"name": "shuf", "kind": "shuffle", "input": "a", "output": "y", "groups": 3}]})
    with pytest.raises(ScheduleError, match="shuffle 'shuf': even one output pixel does not fit SRAM with "
                                            "its 12 channels, and a shuffle cannot be split by channel"):
        network_schedule(wl, small, "serial")
