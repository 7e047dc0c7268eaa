"""Energy counted from a schedule's actions (accelsim/energy.py), against counts by hand.

Exact arithmetic throughout: the energy module keeps pJ as Fractions of the table's decimals as
written, so every comparison here is `==` against Fractions computed by hand (no tolerance)."""

import dataclasses
from fractions import Fraction as F

import pytest
import yaml

from accelsim import (
    ConfigError,
    hw_from_dict,
    load_workload,
    make_schedule,
    run_schedule,
    simulate,
    workload_from_dict,
)
from accelsim.cli import main
from accelsim.energy import ACTIONS, run_energy, static_pj
from tests.helpers import BLOCK, DEFAULT_HW, changed, convadd, hw, hw_data

# default.yaml's table, as written there
MAC_INT8, MAC_FP32 = F("0.3"), F("4.6")
ADD_INT8 = F("0.1")
IFMAP, WEIGHT, OFMAP = F("9.06"), F("6.57"), F("9.06")      # read = write, pJ per byte
DRAM = F("162.5")
STATIC_MW = F("60.85") + F("1.9") + F("0.12") + F("36.29")


def one_conv():
    """x 1x8x8x16 -> 3x3 conv, pad 1 -> y 1x8x8x32: fits SRAM whole."""
    return workload_from_dict({"name": "one_conv", "tensors": {"x": [1, 8, 8, 16]}, "ops": [
        {"name": "c", "kind": "conv", "input": "x", "output": "y", "kh": 3, "kw": 3, "pad": 1,
         "cin": 16, "cout": 32}]})


def test_one_conv_serial_by_hand():
    result = simulate(hw(), one_conv(), schedule="serial")
    assert [r.kind for r in result.ops] == ["load", "load", "conv", "store"]     # the tiling: one tile
    x, w, y = 8 * 8 * 16, 32 * 3 * 3 * 16, 8 * 8 * 32       # bytes (int8): 1,024, 4,608, 2,048
    macs = 8 * 8 * 32 * (3 * 3 * 16)                        # outputs x reduction: 294,912
    e = result.energy.breakdown
    assert result.macs == macs and e["mac"] == macs * MAC_INT8 == F("88473.6")
    # loads write x to ifmap and w to weight; the conv reads both and writes y to ofmap; the store reads y
    assert e["sram"] == 2 * (x * IFMAP + w * WEIGHT + y * OFMAP) == F("116213.76")
    assert e["dram"] == (x + w + y) * DRAM == 1_248_000
    assert e["add"] == 0
    assert e["static"] == STATIC_MW * result.total_cycles          # 1,000 MHz: 1 cycle = 1 ns, mW x ns = pJ
    assert result.energy_pj == sum(e.values())


def test_one_conv_pipelined_pays_for_its_halo_rows_by_hand():
    result = simulate(hw(), one_conv(), schedule="pipelined", splits=2)
    # two parts of 4 output rows, each loading 5 input rows (one halo row): 2 x 5 x 8 x 16 bytes
    x, w, y = 2 * 5 * 8 * 16, 32 * 3 * 3 * 16, 8 * 8 * 32
    e = result.energy.breakdown
    assert result.dram_read_bytes + result.dram_write_bytes == x + w + y
    # the weights are loaded (written) once and read by both convs
    assert e["sram"] == 2 * x * IFMAP + (1 + 2) * w * WEIGHT + 2 * y * OFMAP == F("151127.04")
    assert e["dram"] == (x + w + y) * DRAM == 1_289_600
    assert e["mac"] == 294_912 * MAC_INT8


def test_total_is_the_sum_of_the_breakdown_and_of_the_layers():
    result = simulate(hw(), load_workload("resnet50"), schedule="pipelined")
    energy = result.energy
    assert list(energy.breakdown) == list(ACTIONS)
    assert energy.total == sum(energy.breakdown.values())
    assert sum(energy.layer_total(name) for name in energy.layers) == energy.total
    for action in ACTIONS:
        assert sum(layer[action] for layer in energy.layers.values()) == energy.breakdown[action]
    assert {layer.name for layer in result.layers()} == set(energy.layers)
    for layer in result.layers():        # each op's actions land in its own layer
        assert energy.layers[layer.name]["dram"] == layer.dram_bytes * DRAM
        assert energy.layers[layer.name]["mac"] == layer.macs * MAC_INT8


@pytest.mark.parametrize("schedule", ["serial", "fused", "pipelined"])
def test_dram_energy_is_the_bytes_moved_times_the_tables_pj_per_byte_exactly(schedule):
    result = simulate(hw(), load_workload(str(BLOCK)), schedule=schedule)
    assert result.energy.breakdown["dram"] == (result.dram_read_bytes + result.dram_write_bytes) * DRAM


def test_mac_energy_is_the_macs_times_the_run_datatypes_pj_per_mac():
    machine = hw()
    schedule = make_schedule(machine, load_workload(str(BLOCK)), "pipelined")
    result = run_schedule(machine, schedule)
    assert result.energy.breakdown["mac"] == result.macs * MAC_INT8
    fp32 = dataclasses.replace(schedule, dtype="fp32")       # the datatype comes from the schedule
    energy = run_energy(machine, fp32, result.ops, result.total_cycles)
    assert energy.breakdown["mac"] == result.macs * MAC_FP32


def test_add_energy_is_the_lane_operations_the_add_units_cycles_count():
    result = simulate(hw(), load_workload(str(BLOCK)), schedule="fused")
    assert result.energy.breakdown["add"] == 56 * 56 * 64 * ADD_INT8        # one lane op per output element
    pool = workload_from_dict({"name": "pool", "tensors": {"x": [1, 8, 8, 4]}, "ops": [
        {"name": "p", "kind": "maxpool", "input": "x", "output": "y", "kh": 3, "kw": 3, "stride": 1,
         "pad": 1}]})
    assert simulate(hw(), pool, schedule="serial").energy.breakdown["add"] == 8 * 8 * 4 * 9 * ADD_INT8


def test_static_energy_is_the_power_times_the_runs_time():
    slow = hw(clock_mhz=250)                    # 1 cycle = 4 ns
    result = simulate(slow, convadd(h=14, w=14), schedule="pipelined")
    assert result.energy.breakdown["static"] == STATIC_MW * result.total_cycles * 4
    assert static_pj(slow, slow.energy, 1000) == STATIC_MW * 4000
    # layers share the static energy by the cycles from their first start to the next layer's
    net = simulate(hw(), load_workload("resnet50"), schedule="pipelined")
    starts = sorted({layer.name: layer.start for layer in net.layers()}.items(), key=lambda kv: kv[1])
    first, second = starts[0][0], starts[1][0]
    assert net.energy.layers[first]["static"] == STATIC_MW * starts[1][1]
    assert net.energy.layers[second]["static"] == STATIC_MW * (starts[2][1] - starts[1][1])


def test_no_energy_table_no_energy_and_no_crash():
    data = hw_data()
    del data["energy"]
    result = simulate(hw_from_dict(data), load_workload("resnet50"), schedule="pipelined")
    assert result.energy is None and result.energy_pj is None and result.pj_per_mac is None
    out = result.to_dict()
    assert out["energy_pj"] is None and out["energy_breakdown_pj"] is None
    assert all(layer["energy_pj"] is None for layer in out["layers"])


def test_json_has_the_energy_keys_as_the_issue_names_them():
    out = simulate(hw(), load_workload("resnet50"), schedule="pipelined").to_dict()
    assert list(out["energy_breakdown_pj"]) == ["mac", "sram", "dram", "add", "static"]
    assert out["energy_pj"] == pytest.approx(sum(out["energy_breakdown_pj"].values()), rel=1e-12)
    assert out["area_mm2"] == pytest.approx(19.830904, rel=1e-12)
    assert all(isinstance(layer["energy_pj"], float) for layer in out["layers"])
    assert sum(layer["energy_pj"] for layer in out["layers"]) == pytest.approx(out["energy_pj"], rel=1e-12)


# -- bad tables -----------------------------------------------------------------------------


def bad_config(**changes):
    with pytest.raises(ConfigError) as info:
        hw_from_dict(changed(hw_data(), **changes))
    return str(info.value)


def test_negative_energy_names_the_key():
    message = bad_config(energy__mac_pj__int8=-0.3)
    assert "energy.mac_pj.int8" in message and "must be >= 0" in message
    assert "energy.static_mw.sram" in bad_config(energy__static_mw__sram=-1)
    assert "energy.dram_pj_per_byte" in bad_config(energy__dram_pj_per_byte=-162.5)


def test_unknown_datatype_and_buffer_name_the_key():
    message = bad_config(energy__mac_pj={"int8": 0.3, "int4": 0.1})
    assert "energy.mac_pj.int4" in message and "unknown key" in message and "bf16" in message
    message = bad_config(energy__sram_read_pj_per_byte={"ifmap": 1, "weight": 1, "ofmap": 1, "psum": 1})
    assert "energy.sram_read_pj_per_byte.psum" in message and "unknown key" in message
    assert "area.mac_mm2.fp8" in bad_config(area__mac_mm2={"fp8": 0.001})


def test_missing_entry_for_the_datatype_in_use_names_the_key_when_run():
    machine = hw_from_dict(changed(hw_data(), energy__mac_pj={"fp16": 2.0, "fp32": 4.6}))
    with pytest.raises(ConfigError, match=r"energy\.mac_pj\.int8: no entry for datatype 'int8'.*fp16, fp32"):
        simulate(machine, one_conv())
    # the add unit's entry is needed only by a run with add-unit ops
    no_add = hw_from_dict(changed(hw_data(), energy__add_pj={"fp32": 0.9}))
    assert simulate(no_add, one_conv()).energy.breakdown["add"] == 0
    with pytest.raises(ConfigError, match=r"energy\.add_pj\.int8"):
        simulate(no_add, convadd(h=8, w=8))


@pytest.mark.parametrize("change, key", [
    ({"mac_pj": {"fp32": 4.6}}, "energy.mac_pj.int8"),
    ({"dram_pj_per_byte": -1}, "energy.dram_pj_per_byte"),
    ({"mac_pj": {"int8": 0.3, "int2": 0.1}}, "energy.mac_pj.int2"),
])
def test_cli_exits_2_with_one_line_naming_the_key(capsys, tmp_path, change, key):
    data = hw_data()
    data["energy"].update(change)
    config = tmp_path / "hw.yaml"
    config.write_text(yaml.safe_dump(data))
    code = main(["run", str(config), str(BLOCK), "--schedule", "pipelined"])
    _, err = capsys.readouterr()
    assert code == 2 and key in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_shipped_configs_carry_the_same_sourced_table():
    default = hw()
    assert "Horowitz ISSCC 2014" in default.energy.source and "Horowitz ISSCC 2014" in default.area.source
    assert hw(DEFAULT_HW.parent / "ideal_memory.yaml").energy == default.energy
