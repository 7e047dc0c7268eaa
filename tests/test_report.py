"""The text pipeline: the design note's drawing, from the Result."""

from accelsim import load_hw, load_workload, simulate
from accelsim.report import pipeline_text
from tests.helpers import BLOCK, DEFAULT_HW, IDEAL_HW


def test_text_pipeline_of_the_n4_block_is_the_design_notes_picture():
    r = simulate(load_hw(IDEAL_HW), load_workload(BLOCK), "pipelined", 4)
    lines = pipeline_text(r).splitlines()
    rows = [line for line in lines if line.startswith("stage ")]
    # stage p: conv of part p, add of part p-1 side by side (loads and stores cost nothing here)
    assert [[c.strip() for c in row.split("|")[1:3]] for row in rows] == [
        ["-", "-"], ["conv1", "-"], ["conv2", "add1"], ["conv3", "add2"], ["conv4", "add3"], ["-", "add4"],
        ["-", "-"]]
    cycles = [int(row.split("|")[-1].replace(",", "")) for row in rows]
    # a part is 14 of the 56 output rows: conv M = 14*56 = 784, K = 576, N = 64 on a 32x32 OS array is
    # ceil(784/32) * ceil(64/32) = 50 folds of 576 cycles plus 32 + 32 - 2 fill/drain; the add streams
    # 14*56*64 = 50,176 elements through 32 lanes plus its 4-cycle latency
    conv, add = 50 * 576 + 62, 50_176 // 32 + 4
    assert cycles == [0, conv, max(conv, add), max(conv, add), max(conv, add), add, 0]
    assert sum(1 for line in lines if "barrier (0 cycles)" in line) == 7
    assert lines[-1] == f"total {r.total_cycles:,} cycles"


def test_a_run_synced_by_data_has_no_stages_to_draw():
    r = simulate(load_hw(DEFAULT_HW), load_workload(BLOCK), "pipelined", 4, sync="deps")
    assert pipeline_text(r) == "synced by data dependencies: no stages or barriers to draw"


def test_tables_gain_energy_and_pj_per_mac_columns_with_an_energy_table():
    from accelsim import hw_from_dict
    from accelsim.report import layers_table, results_table
    from tests.helpers import hw_data

    result = simulate(load_hw(DEFAULT_HW), load_workload(BLOCK), "pipelined")
    head, _, row = results_table([result]).splitlines()[:3]
    assert head.endswith("energy (uJ)  pJ/MAC  speedup")
    assert f"{float(result.energy_pj) / 1e6:,.2f}" in row
    assert f"{float(result.energy_pj) / result.macs:.2f}" in row
    net = simulate(load_hw(DEFAULT_HW), load_workload("resnet18"), "pipelined")
    lines = layers_table(net).splitlines()
    assert lines[0].endswith("energy (uJ)  pJ/MAC")
    conv1 = next(line for line in lines if line.startswith("conv1 "))
    layer = next(d for d in net.layers() if d.name == "conv1")
    assert conv1.split()[-2:] == [f"{float(layer.energy_pj) / 1e6:,.2f}",
                                  f"{float(layer.energy_pj) / layer.macs:.2f}"]
    data = hw_data()
    del data["energy"]
    assert "energy" not in results_table([simulate(hw_from_dict(data), load_workload(BLOCK), "pipelined")])
