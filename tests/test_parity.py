"""accelsim's SCALE-Sim-compatible cycles against SCALE-Sim 3.0.0's own output.

tests/data/scalesim_compute_cycles.csv is written by tools/scalesim_golden.py, which runs
SCALE-Sim in its own venv; its header records the version and command.
"""

import csv
import dataclasses

import pytest

from accelsim import load_hw
from accelsim.cost import systolic_cycles
from accelsim.importers.scalesim import ScaleSimLayer, read_topology, with_array
from accelsim.parity import layer_parity, scalesim_compute_cycles
from tests.helpers import DEFAULT_HW, ROOT

GOLDEN = ROOT / "tests" / "data" / "scalesim_compute_cycles.csv"


def golden_rows() -> list[dict]:
    with open(GOLDEN) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def layer_of(row: dict) -> ScaleSimLayer:
    ints = [int(row[k]) for k in ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters",
                                  "stride")]
    return ScaleSimLayer(row["layer"], *ints, form=row["form"])


def test_every_golden_row_matches_scalesim_exactly():
    base = load_hw(DEFAULT_HW)
    rows = golden_rows()
    mismatches = []
    for row in rows:
        hw = with_array(base, int(row["rows"]), int(row["cols"]), row["dataflow"])
        ours = scalesim_compute_cycles(layer_of(row), hw)
        if ours != int(row["compute_cycles"]):
            mismatches.append((row["layer"], row["rows"], row["cols"], row["dataflow"],
                               row["compute_cycles"], ours))
    assert mismatches == []
    # 23 distinct ResNet-50 conv shapes + its FC, on 2 arrays; 10 small shapes on 5 arrays; 3 dataflows
    assert len(rows) == (23 + 1) * 2 * 3 + 10 * 5 * 3


def test_the_golden_file_covers_what_it_should():
    rows = golden_rows()
    assert GOLDEN.read_text().splitlines()[1].startswith("# SCALE-Sim venv: scalesim==3.0.0")
    assert {r["dataflow"] for r in rows} == {"os", "ws", "is"}
    arrays = {(int(r["rows"]), int(r["cols"])) for r in rows}
    assert {(8, 8), (32, 32), (128, 128), (16, 4), (1, 16)} <= arrays
    assert {(int(r["filter_h"]), int(r["stride"])) for r in rows if r["form"] == "conv"} >= {
        (1, 1), (1, 2), (3, 1), (3, 2), (5, 1), (5, 2), (7, 2)}
    assert any(r["layer"].startswith("DP") for r in rows) and any(r["form"] == "gemm" for r in rows)
    shapes = {(ly.ifmap_h, ly.ifmap_w, ly.filter_h, ly.channels, ly.num_filters, ly.stride)
              for ly in read_topology(ROOT / "traces" / "scalesim" / "resnet50.csv")}
    covered = {(int(r["ifmap_h"]), int(r["ifmap_w"]), int(r["filter_h"]), int(r["channels"]),
                int(r["num_filters"]), int(r["stride"])) for r in rows if r["topology"] == "resnet50"}
    assert shapes == covered                    # every ResNet-50 conv shape, each on 32x32 and 128x128


def test_layer_parity_of_a_small_layer_by_hand():
    # k1_small: 4x4x3 input, 1x1, 5 filters on default.yaml (32x32 OS, DRAM 16 B/cycle,
    # latency 100, barrier 10); one tile.
    # stage 0: input (48 B) and weights (15 B) share DRAM after 100 cycles of latency:
    #   weights end at 100 + 2*15/16 -> 102; input's other 33 B at 16 B/cycle -> 104. Barrier: 114.
    # stage 1: conv M=16, K=3, N=5: 1 fold x (3 + 62) = 65 -> 179. Barrier: 189.
    # stage 2: store 80 B: 100 + 5 -> 294. Barrier: 304.
    # SCALE-Sim: 1 fold x 65 - 1 = 64.
    layer = read_topology(ROOT / "traces" / "scalesim" / "shapes.csv")[0]
    parity = layer_parity(layer, load_hw(DEFAULT_HW))
    assert (parity.name, parity.compute_cycles, parity.cycles, parity.tiles) == ("k1_small", 64, 304, 1)
    assert (parity.dram_read_bytes, parity.dram_write_bytes) == (48 + 15, 80)
    assert parity.utilization == 16 * 3 * 5 / (32 * 32 * 304)


@pytest.mark.parametrize(("topology", "dataflow", "cycles"), [
    ("resnet50.csv", "os", 5_259_378), ("resnet50.csv", "ws", 6_463_792), ("resnet50.csv", "is", 6_695_674),
    ("resnet50_v1.csv", "os", 4_975_482)])
def test_whole_resnet50_on_32x32_matches_scalesim(topology, dataflow, cycles):
    # SCALE-Sim 3.0.0's compute cycles of torchvision's ResNet-50 (53 convs, then the FC), as issue 12
    # records them: v1.5 (stride in the 3x3) and v1 (stride in the 1x1). The closed form adds up to
    # them; for v1.5 so do the golden per-layer runs (every layer's shape is one of them).
    layers = read_topology(ROOT / "traces" / "scalesim" / topology) + read_topology(
        ROOT / "traces" / "scalesim" / "resnet50_fc.csv")
    assert len(layers) == 53 + 1
    closed_form = sum(systolic_cycles(ly.scalesim_gemm(), 32, 32, dataflow, "scalesim") for ly in layers)
    assert closed_form == cycles
    if topology == "resnet50.csv":
        runs = {dataclasses.replace(layer_of(r), name=""): int(r["compute_cycles"]) for r in golden_rows()
                if (r["rows"], r["cols"], r["dataflow"]) == ("32", "32", dataflow)}
        assert sum(runs[dataclasses.replace(ly, name="")] for ly in layers) == cycles
