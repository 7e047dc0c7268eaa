"""Depth-first groups: which convs chain, the rows each tile needs through the chain, the DRAM
bytes and MACs by hand on a small block, and every depth-first schedule of the shipped networks
valid statically and bit-exact in int8."""

import pytest

from accelsim import load_workload, run_schedule, workload_from_dict
from accelsim.errors import ScheduleError
from accelsim.functional import check
from accelsim.placement import place
from accelsim.schedule_file import dump_schedule
from accelsim.scheduler.builder import Builder
from accelsim.scheduler.depthfirst import chains, rows_needed
from accelsim.scheduler.fusion import plan_fusion
from accelsim.scheduler.network import network_schedule
from accelsim.validate import checked_schedule, validate
from tests.helpers import ROOT, hw

NETWORKS = ("resnet18", "resnet50", "mobilenetv2")


def _conv(name, x, y, k, c=4, **more):
    return {"name": name, "kind": "conv", "input": x, "output": y, "kh": k, "kw": k, "stride": 1,
            "pad": k // 2, "cin": c, "cout": c, **more}


def block(h=8, w=8, c=4) -> dict:
    """x -> 1x1 conv -> a -> 3x3 conv (pad 1) -> b, + x -> y: one-byte elements."""
    return {"name": "block", "tensors": {t: [1, h, w, c] for t in ("x", "a", "b", "y")},
            "ops": [_conv("c1", "x", "a", 1, c), _conv("c2", "a", "b", 3, c),
                    {"name": "add", "kind": "add", "inputs": ["b", "x"], "output": "y"}]}


@pytest.fixture(scope="module")
def small():
    return workload_from_dict(block())


def _network(name):
    return load_workload(ROOT / "traces" / f"{name}.yaml")


def test_chains_are_convs_each_reading_the_last_ones_output_read_by_nothing_else():
    layers = list(plan_fusion(_network("resnet50")).layers)
    found = [[layers[k].name for k in chain] for chain in chains(layers, _network("resnet50"))]
    assert len(found) == 16                                 # one per bottleneck block
    assert found[0] == ["layer1.0.conv1", "layer1.0.conv2", "layer1.0.conv3+layer1.0.add"]
    net = _network("mobilenetv2")
    layers = list(plan_fusion(net).layers)
    names = [[layers[k].name for k in chain] for chain in chains(layers, net)]
    # features.2's output feeds features.3.expand and features.3's add: the chain stops there
    assert names[0] == ["features.0", "features.1.depthwise", "features.1.project", "features.2.expand",
                        "features.2.depthwise", "features.2.project"]
    assert names[1] == ["features.3.expand", "features.3.depthwise", "features.3.project+features.3.add"]


def test_the_halo_grows_backwards_through_the_chain(small):
    """Rows 2:4 of b (a 3x3 window, pad 1) need rows 1:5 of a, which (1x1) need rows 1:5 of x;
    the first and last tiles' halos are clipped to the tensor."""
    b = Builder(small, "g", "", 0)
    convs = [small.ops[0], small.ops[1]]
    assert rows_needed(b, convs, (2, 4)) == [(1, 5), (1, 5), (2, 4)]
    assert rows_needed(b, convs, (0, 2)) == [(0, 3), (0, 3), (0, 2)]
    assert rows_needed(b, convs, (6, 8)) == [(5, 8), (5, 8), (6, 8)]


def _run(workload, halo, splits=4, kind="depthfirst"):
    machine = hw()
    schedule, plans, _ = network_schedule(workload, machine, kind, splits=splits, halo=halo)
    return schedule, plans, run_schedule(machine, schedule)


def test_cached_the_block_reads_x_and_the_weights_once_and_writes_only_y(small):
    """x is 8x8x4 = 256 B, the weights 4x4 + 4x3x3x4 = 160 B, y 256 B: a, b and the residual
    never leave SRAM. Tiles read again what earlier tiles hold: rows 1:3, 3:5 and 5:7 of a
    (2 rows x 8 x 4 = 64 B each) and, for the add, x rows 2, 4 and 6 (32 B each): 288 B."""
    _, plans, result = _run(small, "cache")
    assert (result.dram_read_bytes, result.dram_write_bytes) == (256 + 160, 256)
    assert [(p.name, p.kind, p.tiles) for p in plans] == [("c1>c2+add", "depthfirst", 4)]
    assert plans[0].note.endswith("shared rows cached: 288 B read from earlier tiles")


def test_recomputed_the_block_loads_each_tiles_halo_rows_again_and_computes_them_again(small):
    """Tiles of y rows 0:2, 2:4, 4:6, 6:8 need x (and a) rows 0:3, 1:5, 3:7, 5:8: 14 rows of
    8 x 4 = 448 B read, and 14 rows of the 1x1 conv (14 x 8 x 4 x 4 = 1,792 MACs) where 8 would
    do (1,024): 768 MACs more, 7.5% of the group's 1,024 + 9,216 (the 3x3: 64 x 36 x 4)."""
    _, plans, result = _run(small, "recompute")
    assert (result.dram_read_bytes, result.dram_write_bytes) == (448 + 160, 256)
    assert plans[0].note.endswith("shared rows recomputed: 768 MACs more (7.5%)")


def test_layer_by_layer_stores_and_loads_the_intermediate(small):
    """Pipelined, c1 stores a (256 B) and c2+add loads it back with its halo rows."""
    _, _, result = _run(small, "cache", kind="pipelined")
    assert result.dram_write_bytes == 256 + 256
    assert result.dram_read_bytes > 256 + 160 + 256


def test_fuse_depth_one_is_the_pipelined_schedule():
    net = _network("resnet18")
    machine = hw()
    one = network_schedule(net, machine, "depthfirst", fuse_depth=1)[0]
    pipelined = network_schedule(net, machine, "pipelined")[0]
    assert run_schedule(machine, one).total_cycles == run_schedule(machine, pipelined).total_cycles
    assert one.ops == pipelined.ops


def test_fuse_depth_two_splits_a_bottleneck():
    plans = network_schedule(_network("resnet50"), hw(), "depthfirst", fuse_depth=2)[1]
    groups = [p.name for p in plans if p.kind == "depthfirst"]
    assert groups[0] == "layer1.0.conv1>layer1.0.conv2"
    assert all(name.count(">") == 1 for name in groups)


def test_bad_halo_and_depth_are_schedule_errors(small):
    with pytest.raises(ScheduleError, match="unknown halo mode 'keep': expected one of cache, recompute"):
        network_schedule(small, hw(), "depthfirst", halo="keep")
    with pytest.raises(ScheduleError, match="fuse depth must be >= 1, got 0"):
        network_schedule(small, hw(), "depthfirst", fuse_depth=0)


def test_a_group_whose_weights_overflow_the_weight_buffer_runs_layer_by_layer(small):
    """160 B of weights in a 150-byte buffer: no group (each conv's own 16 and 144 B fit)."""
    plans = network_schedule(small, hw(sram__weight__size_bytes=150), "depthfirst")[1]
    assert [p.kind for p in plans] == ["conv", "convadd"]


@pytest.mark.parametrize("halo", ["cache", "recompute"])
@pytest.mark.parametrize("name", NETWORKS)
def test_every_depth_first_schedule_validates_and_runs_bit_exact_in_int8(name, halo):
    net, machine = _network(name), hw()
    schedule, plans, _ = network_schedule(net, machine, "depthfirst", halo=halo)
    assert any(p.kind == "depthfirst" for p in plans)
    assert validate(place(schedule, machine.sram_capacity()), machine, net) == []
    report = check(schedule, net, "int8", capacity=machine.sram_capacity())
    assert report.ok, report.mismatches


@pytest.mark.parametrize("name", NETWORKS)
def test_depth_first_moves_fewer_dram_bytes_than_pipelined(name):
    net, machine = _network(name), hw()
    runs = {kind: run_schedule(machine, network_schedule(net, machine, kind)[0])
            for kind in ("pipelined", "depthfirst")}
    moved = {kind: r.dram_read_bytes + r.dram_write_bytes for kind, r in runs.items()}
    assert moved["depthfirst"] < moved["pipelined"]


def test_sync_by_dependencies_runs_a_depth_first_schedule_no_slower():
    net, machine = _network("resnet18"), hw()
    schedule = network_schedule(net, machine, "depthfirst")[0]
    deps, barrier = (run_schedule(machine, schedule, sync).total_cycles for sync in ("deps", "barrier"))
    assert deps <= barrier


@pytest.mark.parametrize("halo", ["cache", "recompute"])
def test_a_depth_first_schedule_file_reads_back_validates_and_runs_the_same(halo, tmp_path):
    net, machine = _network("mobilenetv2"), hw()
    schedule = place(network_schedule(net, machine, "depthfirst", halo=halo)[0], machine.sram_capacity())
    path = tmp_path / "df.yaml"
    path.write_text(dump_schedule(schedule, machine))
    again = checked_schedule(path, machine, net)
    assert again.ops == schedule.ops
    assert run_schedule(machine, again).total_cycles == run_schedule(machine, schedule).total_cycles


def test_parts_may_name_a_depth_first_group(small):
    """--parts c1>c2+add=2: the group in 2 row tiles of 4 rows (cached: x rows 0:5, then 5:8);
    a count whose tiles do not fit is an error naming the group."""
    plans = network_schedule(small, hw(), "depthfirst", parts={"c1>c2+add": 2})[1]
    assert [(p.name, p.tiles) for p in plans] == [("c1>c2+add", 2)]
    with pytest.raises(ScheduleError, match=r"group 'c1>c2\+add' in 1 row parts does not fit SRAM"):
        network_schedule(small, hw(sram__ofmap__size_bytes=300), "depthfirst", parts={"c1>c2+add": 1})
    with pytest.raises(ScheduleError, match="--parts names no layer"):
        network_schedule(small, hw(), "pipelined", parts={"c1>c2+add": 2})
