import pytest
import yaml

from accelsim import ConfigError, hw_from_dict, load_hw
from tests.helpers import DEFAULT_HW, IDEAL_HW, hw, hw_data


def test_default_config_loads_into_frozen_objects():
    h = load_hw(DEFAULT_HW)
    assert (h.systolic_array.rows, h.systolic_array.cols, h.systolic_array.dataflow) == (32, 32, "os")
    assert h.dram.bytes_per_cycle == 16
    assert not h.ideal_memory
    with pytest.raises(AttributeError):
        h.systolic_array.rows = 8


def test_ideal_memory_is_the_default_machine_with_free_memory_and_barriers():
    ideal, default = load_hw(IDEAL_HW), load_hw(DEFAULT_HW)
    assert ideal.ideal_memory and ideal.barrier_cycles == 0
    assert ideal.systolic_array == default.systolic_array
    assert ideal.add_unit == default.add_unit and ideal.sram == default.sram


def test_to_dict_round_trips():
    h = load_hw(DEFAULT_HW)
    assert hw_from_dict(h.to_dict()) == h
    assert h.to_dict()["systolic_array"] == {"rows": 32, "cols": 32, "dataflow": "os", "folds": "overlapped"}


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_infinite_or_nan_rates_are_rejected(value):
    with pytest.raises(ConfigError, match=r"dram\.channel_bytes_per_cycle: must be a finite number"):
        hw(dram__channel_bytes_per_cycle=value)


def write(tmp_path, text):
    path = tmp_path / "hw.yaml"
    path.write_text(text)
    return path


def bad(tmp_path, old, new):
    text = DEFAULT_HW.read_text()
    assert old in text
    return write(tmp_path, text.replace(old, new))


def test_negative_size_names_file_line_and_key(tmp_path):
    path = bad(tmp_path, "  rows: 32", "  rows: -4")
    with pytest.raises(ConfigError) as err:
        load_hw(path)
    line = DEFAULT_HW.read_text().splitlines().index("  rows: 32") + 1
    assert str(err.value) == f"{path}:{line}: systolic_array.rows: must be > 0, got -4"


def test_unknown_dataflow(tmp_path):
    path = bad(tmp_path, "dataflow: os", "dataflow: xs")
    with pytest.raises(ConfigError, match=r"systolic_array.dataflow: must be one of 'os', 'ws' or 'is', "
                                          r"got 'xs'"):
        load_hw(path)


def test_unknown_key_lists_the_expected_keys(tmp_path):
    path = bad(tmp_path, "  engines: 2", "  engines: 2\n  engnes: 3")
    with pytest.raises(ConfigError, match=r"dma.engnes: unknown key \(expected one of: engines\)"):
        load_hw(path)


def test_wrong_type(tmp_path):
    path = bad(tmp_path, "  lanes: 32", "  lanes: 32.0")
    with pytest.raises(ConfigError, match=r"add_unit.lanes: must be an integer, got 32.0"):
        load_hw(path)
    path = bad(tmp_path, "  lanes: 32", "  lanes: true")
    with pytest.raises(ConfigError, match=r"add_unit.lanes: must be an integer, got True"):
        load_hw(path)


def test_missing_key(tmp_path):
    path = bad(tmp_path, "  latency_cycles: 100\n", "")
    with pytest.raises(ConfigError, match=r"dram.latency_cycles: required key is missing"):
        load_hw(path)


def test_every_problem_is_reported_at_once(tmp_path):
    data = hw_data()
    data["sram"]["ifmap"]["size_bytes"] = 0
    data["clock_mhz"] = "fast"
    data["dma"]["engines"] = -1
    path = write(tmp_path, yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_hw(path)
    lines = str(err.value).splitlines()
    assert len(lines) == 3
    assert any("sram.ifmap.size_bytes: must be > 0, got 0" in s for s in lines)
    assert any("clock_mhz: must be a number, got 'fast'" in s for s in lines)
    assert any("dma.engines: must be > 0, got -1" in s for s in lines)


def test_duplicate_key_is_rejected(tmp_path):
    path = bad(tmp_path, "element_bytes: 1", "element_bytes: 1\nelement_bytes: 2")
    with pytest.raises(ConfigError, match=r"duplicate key 'element_bytes' \(first given on line"):
        load_hw(path)


def test_yaml_tags_beyond_safe_loader_are_refused(tmp_path):
    path = write(tmp_path, "name: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_hw(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.yaml: cannot read: No such file"):
        load_hw(tmp_path / "nope.yaml")


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "hw.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ConfigError, match=r"hw.yaml: not UTF-8 text \(byte 6\)"):
        load_hw(path)


def test_mapping_key_that_is_not_a_plain_value(tmp_path):
    path = write(tmp_path, "? [a, b]\n: 1\n")
    with pytest.raises(ConfigError, match=r"hw.yaml:1: a mapping key must be a plain value, got \["):
        load_hw(path)


def test_document_that_is_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match=r"\(top level\): must be a mapping, got \[1, 2\]"):
        load_hw(write(tmp_path, "[1, 2]\n"))


@pytest.mark.parametrize("old, new, message", [
    ("  latency_cycles: 100", f"  latency_cycles: {10**30}",
     f"dram.latency_cycles: must be <= 1,000,000,000, got {10**30}"),
    ("barrier_cycles: 10 ", f"barrier_cycles: {10**9 + 1} ",
     "barrier_cycles: must be <= 1,000,000,000, got 1000000001"),
    ("clock_mhz: 1000", "clock_mhz: 1.0e-320", "clock_mhz: must be >= 0.001, got 1e-320"),
    ("clock_mhz: 1000", "clock_mhz: 1.0e+7", "clock_mhz: must be <= 1,000,000, got 10000000.0"),
    ("channel_bytes_per_cycle: 8", "channel_bytes_per_cycle: 1.0e-300",
     "dram.channel_bytes_per_cycle: must be >= 0.001, got 1e-300"),
])
def test_physically_absurd_values_are_out_of_bounds(tmp_path, old, new, message):
    path = bad(tmp_path, old, new)
    line = next(k for k, text in enumerate(DEFAULT_HW.read_text().splitlines(), 1) if old in text)
    with pytest.raises(ConfigError) as err:
        load_hw(path)
    assert str(err.value) == f"{path}:{line}: {message}"


def test_values_at_the_bounds_are_accepted():
    h = hw(clock_mhz=0.001, barrier_cycles=10**9, dram__latency_cycles=10**9,
           dram__channel_bytes_per_cycle=0.001, sram__weight__bytes_per_cycle=0.001,
           add_unit__latency_cycles=10**9)
    assert (h.clock_mhz, h.dram.latency_cycles, h.sram.weight.bytes_per_cycle) == (0.001, 10**9, 0.001)
    assert hw(clock_mhz=10**6).clock_mhz == 10**6


def test_the_add_units_lrn_and_softmax_costs_are_optional_with_documented_defaults():
    data = hw_data()
    assert data["add_unit"]["lrn_cycles_per_element"] == 5            # written out in default.yaml
    for key in ("lrn_cycles_per_element", "softmax_cycles_per_element", "scale_cycles_per_element"):
        del data["add_unit"][key]
    old = hw_from_dict(data)                                            # a config from before them
    assert (old.add_unit.lrn_cycles_per_element, old.add_unit.softmax_cycles_per_element) == (5, 5)
    assert old == load_hw(DEFAULT_HW) and load_hw(IDEAL_HW).add_unit == old.add_unit


def test_the_add_units_scale_cost_is_optional_default_1_and_checked():
    data = hw_data()
    assert data["add_unit"]["scale_cycles_per_element"] == 1          # written out in default.yaml
    del data["add_unit"]["scale_cycles_per_element"]
    assert hw_from_dict(data).add_unit.scale_cycles_per_element == 1
    with pytest.raises(ConfigError, match=r"add_unit\.scale_cycles_per_element: must be > 0, got 0"):
        hw(add_unit__scale_cycles_per_element=0)


@pytest.mark.parametrize(("value", "message"), [
    (0, "add_unit.lrn_cycles_per_element: must be > 0, got 0"),
    (2.5, "add_unit.lrn_cycles_per_element: must be an integer, got 2.5"),
])
def test_bad_lrn_cost_names_the_key(value, message):
    with pytest.raises(ConfigError, match=message):
        hw(add_unit__lrn_cycles_per_element=value)
