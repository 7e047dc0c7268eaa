"""Where a concat's inputs live: placed (written straight into their channel slice) or copied."""

import pytest

from accelsim import load_hw, workload_from_dict
from accelsim.functional import check
from accelsim.layout import concat_layouts, concat_offsets, placeable, resolved
from accelsim.placement import place
from accelsim.schedule import DRAM
from accelsim.scheduler.network import SCHEDULES, network_schedule
from accelsim.validate import validate
from tests.helpers import DEFAULT_HW


def conv(name, src, dst, cin, cout, k=1):
    return {"name": name, "kind": "conv", "input": src, "output": dst, "kh": k, "kw": k, "cin": cin,
            "cout": cout, "pad": k // 2}


def dense_chain():
    """DenseNet's block in small: y1 = [x0, g1], y2 = [y1, g2], where g_i = conv(y_{i-1}), and
    y1 is read by g2's conv and by the second concat; x0 = conv(x)."""
    return workload_from_dict({"name": "dense", "tensors": {"x": [1, 6, 5, 4]}, "ops": [
        conv("c0", "x", "x0", 4, 8, 3),
        conv("g1", "x0", "n1", 8, 4, 3),
        {"name": "cat1", "kind": "concat", "inputs": ["x0", "n1"], "output": "y1"},
        conv("g2", "y1", "n2", 12, 4, 3),
        {"name": "cat2", "kind": "concat", "inputs": ["y1", "n2"], "output": "y2"},
        conv("out", "y2", "z", 16, 8)]})


def test_offsets_follow_the_chain_of_concats_nearest_first():
    wl = dense_chain()
    assert concat_offsets(wl, "n1") == [("y1", 8), ("y2", 8)]
    assert concat_offsets(wl, "n2") == [("y2", 12)]
    assert concat_offsets(wl, "z") == []


def test_a_densenet_chain_lies_in_its_last_concat():
    wl = dense_chain()
    assert placeable(wl) == {"x0": ("y1", 0), "n1": ("y1", 8), "y1": ("y2", 0), "n2": ("y2", 12)}
    assert resolved(placeable(wl)) == {"x0": ("y2", 0), "n1": ("y2", 8), "y1": ("y2", 0), "n2": ("y2", 12)}


def test_graph_inputs_shuffle_outputs_and_tensors_of_two_concats_are_copied():
    wl = workload_from_dict({"name": "w", "tensors": {"x": [1, 4, 4, 6]}, "ops": [
        conv("c0", "x", "a", 6, 6),
        {"name": "shuf", "kind": "shuffle", "input": "a", "output": "s", "groups": 3},
        conv("c1", "x", "b", 6, 2),
        {"name": "cat1", "kind": "concat", "inputs": ["x", "s", "b"], "output": "y1"},
        {"name": "cat2", "kind": "concat", "inputs": ["b", "a"], "output": "y2"},
        {"name": "sum", "kind": "add", "inputs": ["y1", "y1"], "output": "z1"}]})
    # x: a graph input; s: a shuffle's (permuted) output; b: joined twice; a: placed in y2
    assert placeable(wl) == {"a": ("y2", 2)}


@pytest.mark.parametrize("kind", SCHEDULES)
def test_a_placed_chain_is_read_from_its_slice_and_computes_the_reference(kind):
    hw = load_hw(DEFAULT_HW)
    wl = dense_chain()
    schedule, _, _ = network_schedule(wl, hw, kind)
    dram = {r.tensor for op in schedule.ops for r in (*op.reads, *op.writes) if r.space == DRAM}
    assert dram == {"x", "y2", "z"} | {op.weight for op in wl.ops if op.kind == "conv"}
    # g2 reads y1, which is y2's channels 0:12 (and x0 and n1 within them)
    g2_loads = [op.reads[0] for op in schedule.ops if op.layer == "g2" and op.kind == "load"
                and op.writes[0].tensor == "y1"]
    assert g2_loads and all((r.tensor, r.start[3], r.stop[3]) == ("y2", 0, 12) for r in g2_loads)
    assert [(c.name, c.label, c.after) for c in schedule.concats] == [("cat1", "no copy", "g1"),
                                                                     ("cat2", "no copy", "g2")]
    assert concat_layouts(wl, schedule.ops) == schedule.concats
    placed = place(schedule, hw.sram_capacity())
    assert validate(placed, hw, wl) == []
    report = check(placed, wl, "int8", capacity=hw.sram_capacity())
    assert report.ok and "y2" in report.compared and "z" in report.compared, report.mismatches
