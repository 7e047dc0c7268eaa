import pytest

from accelsim import load_hw
from accelsim.result import OpRecord, Result, Stage, busy_cycles
from tests.helpers import DEFAULT_HW


def test_busy_cycles_is_the_union_of_intervals():
    assert busy_cycles([]) == 0
    assert busy_cycles([(0, 10), (20, 25)]) == 15
    assert busy_cycles([(0, 10), (5, 15), (15, 16)]) == 16       # overlapping and touching
    assert busy_cycles([(5, 15), (0, 10), (6, 8)]) == 15          # unsorted, nested
    assert busy_cycles([(3, 3)]) == 0                             # zero-length op


def _two_layer_result(**changes):
    """Layer a in stage 0 (a 50-cycle conv, a 70-cycle load), layer b in stage 1 (a 20-cycle
    add, a 50-cycle store); the default machine's barrier is 10 cycles."""
    records = (OpRecord("a/conv1", "conv", "conv", 0, 0, 50, layer="a"),
               OpRecord("a/load_x2", "load", "dma", 0, 0, 70, layer="a"),
               OpRecord("b/add1", "add", "add", 1, 80, 100, layer="b"),
               OpRecord("b/store1", "store", "dma", 1, 80, 130, layer="b"))
    fields = {"workload": "w", "schedule": "pipelined", "splits": 1, "total_cycles": 140, "units": {},
              "ops": records, "dram_read_bytes": 0, "dram_write_bytes": 0, "sram_peak_bytes": {}, "macs": 0,
              "hw": load_hw(DEFAULT_HW)}
    return Result(**{**fields, **changes})


def test_stages_and_time_split_of_the_run_and_of_each_layer():
    r = _two_layer_result()
    assert r.stages() == [Stage(0, 0, 70, 10), Stage(1, 80, 130, 10)]
    # stage 0 spans 70 cycles, 50 of them the conv; stage 1 spans 50, 20 of them the add
    assert r.time_split() == {"compute": 70, "memory": 50, "barrier": 20}
    assert [(layer.name, layer.time_split) for layer in r.layers()] == [
        ("a", {"compute": 50, "memory": 20, "barrier": 10}),
        ("b", {"compute": 20, "memory": 30, "barrier": 10})]
    assert _two_layer_result(sync="deps").stages() == []


def test_op_finds_a_record_by_id_the_first_when_ids_repeat():
    r = _two_layer_result()
    assert r.op("b/add1").start == 80
    twice = _two_layer_result(ops=(*r.ops, OpRecord("a/conv1", "conv", "conv", 1, 90, 95)))
    assert twice.op("a/conv1").end == 50
    with pytest.raises(StopIteration):
        r.op("c/add1")


def test_a_skipping_array_reports_the_macs_it_performs():
    """2:4 weights and density 0.5 on the ConvAdd block (3x3, 56x56x64 -> 64, K = 576): the
    array performs K' = 576 x 2/4 x 0.5 = 144 of each output's products, a quarter; `macs` stays
    the dense count, utilization and the layer's compute bound use the performed ones."""
    from accelsim import load_hw, load_workload, simulate
    from accelsim.options import RunOptions

    block = load_workload("resnet50_convadd")
    r = simulate(load_hw("default"), block,
                 options=RunOptions(weight_sparsity="2:4", activation_density="0.5"))
    assert r.macs == 56 * 56 * 64 * 576
    assert r.performed_macs == 56 * 56 * 64 * 144
    assert r.array_utilization == r.performed_macs / (32 * 32 * r.total_cycles)
    assert r.to_dict()["performed_macs"] == r.performed_macs
    (layer,) = [s for s in r.layers() if s.name == "conv+add"]
    memory = -(-(layer.dram_read_bytes + layer.dram_write_bytes) // 16)
    assert layer.bound_cycles == max(-(-r.performed_macs // 1024), memory)
