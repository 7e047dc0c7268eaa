"""End-to-end: the pipeline formula of the design note, memory-bound behaviour, barriers."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim import load_workload, simulate
from tests.helpers import BLOCK, IDEAL_HW, ROOT, convadd, hw


def durations(result, prefix, n):
    return [result.op(f"{prefix}{i}").cycles for i in range(1, n + 1)]


def pipeline_formula(c, a):
    """c_1 + sum_{i<N} max(a_i, c_{i+1}) + a_N."""
    return c[0] + sum(max(a[i], c[i + 1]) for i in range(len(c) - 1)) + a[-1]


@pytest.mark.parametrize("splits", [1, 2, 3, 4, 7])
def test_pipelined_total_matches_the_formula_on_ideal_memory(splits):
    result = simulate(hw(IDEAL_HW), load_workload(BLOCK), "pipelined", splits)
    c, a = durations(result, "conv", splits), durations(result, "add", splits)
    assert result.total_cycles == pipeline_formula(c, a)
    assert all(r.cycles == 0 for r in result.ops if r.unit == "dma")


def test_formula_with_unequal_parts():
    # 10 output rows in 4 parts: 3, 3, 2, 2 -> M = 30, 30, 20, 20 on 8 rows: 4, 4, 3, 3 row folds
    h = hw(IDEAL_HW, systolic_array__rows=8, systolic_array__cols=8)
    result = simulate(h, convadd(h=10, w=10, cin=16, cout=16), "pipelined", 4)
    c, a = durations(result, "conv", 4), durations(result, "add", 4)
    assert c[0] == c[1] > c[2] == c[3] and a[0] == a[1] > a[2] == a[3]
    assert result.total_cycles == pipeline_formula(c, a)


def test_hand_derived_block_cycles_on_ideal_memory():
    # conv: M=3136, K=576, N=64 on 32x32 OS: 98 x 2 = 196 folds of T=576, overlapped:
    # 196 x 576 + 62 = 112,958 cycles (serialized: 196 x 638 = 125,048)
    # add: 200,704 elements / 32 lanes + 4 = 6,276 cycles
    serial = simulate(hw(IDEAL_HW), load_workload(BLOCK), "serial")
    assert serial.op("conv/conv1").cycles == 112_958
    assert serial.op("add/add1").cycles == 6_276
    assert serial.total_cycles == 112_958 + 6_276          # the plain sum
    # two parts of 28 rows: M=1568 -> 49 x 2 folds: 98 x 576 + 62 = 56,510; add 100,352/32 + 4 = 3,140
    piped = simulate(hw(IDEAL_HW), load_workload(BLOCK), "pipelined", 2)
    assert piped.total_cycles == 56_510 + max(3_140, 56_510) + 3_140
    serialized = hw(IDEAL_HW, systolic_array__folds="serialized")
    assert simulate(serialized, load_workload(BLOCK), "serial").op("conv/conv1").cycles == 125_048


@settings(max_examples=25, deadline=None, derandomize=True)
@given(h=st.integers(3, 24), c=st.sampled_from([3, 8, 16, 40]), k=st.sampled_from([1, 3, 5]),
       stride=st.integers(1, 2), splits=st.integers(1, 8), dataflow=st.sampled_from(["os", "ws", "is"]))
def test_formula_holds_for_random_blocks(h, c, k, stride, splits, dataflow):
    pad = k // 2
    ho = (h + 2 * pad - k) // stride + 1
    splits = min(splits, ho)
    wl = convadd(h=h, w=h, cin=c, cout=c, k=k, stride=stride, pad=pad)
    result = simulate(hw(IDEAL_HW, systolic_array__dataflow=dataflow, systolic_array__rows=8,
                         systolic_array__cols=4), wl, "pipelined", splits)
    c_, a_ = durations(result, "conv", splits), durations(result, "add", splits)
    assert result.total_cycles == pipeline_formula(c_, a_)
    serial = simulate(hw(IDEAL_HW, systolic_array__dataflow=dataflow, systolic_array__rows=8,
                         systolic_array__cols=4), wl, "serial")
    conv, add = (next(r for r in serial.ops if r.kind == kind) for kind in ("conv", "add"))
    assert serial.total_cycles == conv.cycles + add.cycles


@pytest.mark.parametrize("schedule", ["serial", "fused", "pipelined"])
def test_every_stage_starts_after_the_previous_stage_and_its_barrier(schedule):
    h = hw(barrier_cycles=25)
    result = simulate(h, load_workload(BLOCK), schedule, 4)
    stages = sorted({r.stage for r in result.ops})
    for s in stages[1:]:
        prev_end = max(r.end for r in result.ops if r.stage == s - 1)
        start = min(r.start for r in result.ops if r.stage == s)
        assert start >= prev_end + 25
    assert result.total_cycles == max(r.end for r in result.ops) + 25


def test_low_dram_bandwidth_makes_the_pipeline_memory_bound():
    wl = load_workload(BLOCK)
    totals, dma_util = [], []
    for bw in (8, 2, 0.5, 0.125):
        r = simulate(hw(dram__channel_bytes_per_cycle=bw), wl, "pipelined", 4)
        totals.append(r.total_cycles)
        dma_util.append(r.units["dma"].utilization)
    assert totals == sorted(totals) and totals[-1] > 10 * totals[0]
    assert dma_util[0] < 0.5
    assert dma_util[-1] > 0.99
    # at 0.25 B/cycle the run is essentially the DRAM traffic over the bandwidth
    r = simulate(hw(dram__channel_bytes_per_cycle=0.125), wl, "pipelined", 4)
    traffic = (r.dram_read_bytes + r.dram_write_bytes) / 0.25
    assert traffic <= r.total_cycles < 1.05 * traffic


def test_pipelining_beats_serial_on_the_default_machine():
    wl = load_workload(BLOCK)
    serial, fused, piped = (simulate(hw(), wl, s) for s in ("serial", "fused", "pipelined"))
    assert piped.total_cycles < fused.total_cycles < serial.total_cycles
    assert serial.dram_read_bytes == 64 * 3 * 3 * 64 + 3 * 56 * 56 * 64
    assert serial.dram_write_bytes == 2 * 56 * 56 * 64
    assert fused.dram_write_bytes == piped.dram_write_bytes == 56 * 56 * 64


def test_same_inputs_same_json():
    wl = load_workload(BLOCK)
    assert simulate(hw(), wl, "pipelined", 5).to_json() == simulate(hw(), wl, "pipelined", 5).to_json()


def test_time_split_adds_up_and_points_at_the_bottleneck():
    wl = load_workload(BLOCK)
    ideal = simulate(hw(IDEAL_HW, barrier_cycles=5), wl, "pipelined", 4)
    split = ideal.time_split()
    assert sum(split.values()) == ideal.total_cycles
    assert split["memory"] == 0 and split["barrier"] == 7 * 5            # N + 3 = 7 stages
    slow = simulate(hw(dram__channel_bytes_per_cycle=0.125), wl, "pipelined", 4)
    split = slow.time_split()
    assert sum(split.values()) == slow.total_cycles
    assert split["memory"] > 10 * split["compute"]
    assert simulate(hw(), wl, "pipelined", 4, sync="deps").time_split() is None


def test_sram_occupancy_over_time_peaks_at_the_reported_peak_and_ends_empty():
    result = simulate(hw(), load_workload(BLOCK), "pipelined", 4)
    for buffer, history in result.sram_occupancy.items():
        assert max(level for _, level in history) == result.sram_peak_bytes[buffer]
        assert history[-1][1] == 0
        assert [t for t, _ in history] == sorted({t for t, _ in history})


def test_scheduling_leaves_the_garbage_collector_as_it_found_it():
    import gc

    wl = load_workload(BLOCK)
    assert gc.isenabled()
    simulate(hw(), wl)
    assert gc.isenabled()
    gc.disable()
    try:
        simulate(hw(), wl)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("machine", ["default", "ws8x8", "is128x128", "dram4"])
@pytest.mark.parametrize("trace", ["resnet50", "resnet18", "mobilenetv2"])
@pytest.mark.parametrize("kind", ["serial", "pipelined"])
def test_every_layer_takes_at_least_its_compute_memory_and_drain_bounds(machine, trace, kind):
    """Per layer, from its first op's start to its last op's end: at least its MACs over the
    array's PEs, its DRAM bytes over the DRAM bandwidth, and its conv outputs over the array's
    columns (every output leaves the array through one of its C column ports, one per cycle);
    and so each conv op alone."""
    from accelsim import make_schedule, run_schedule
    from tests.golden import machine as golden_machine

    h = golden_machine(machine)
    schedule = make_schedule(h, load_workload(ROOT / "traces" / f"{trace}.yaml"), kind)
    result = run_schedule(h, schedule)
    sa = h.systolic_array
    outputs: dict[str, int] = {}
    for op, record in zip(schedule.ops, result.ops, strict=True):
        if op.kind == "conv":
            outputs[op.layer] = outputs.get(op.layer, 0) + op.writes[0].elements
            assert record.cycles * sa.cols >= op.writes[0].elements, op.id
            assert record.cycles * sa.rows * sa.cols >= record.macs, op.id
    for layer in result.layers():
        assert layer.cycles * sa.rows * sa.cols >= layer.macs, layer.name
        assert layer.cycles * h.dram.bytes_per_cycle >= layer.dram_bytes, layer.name
        assert layer.cycles * sa.cols >= outputs.get(layer.name, 0), layer.name
        assert layer.cycles >= layer.bound_cycles, layer.name
