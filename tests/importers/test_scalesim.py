import pytest

from accelsim import ConfigError, load_hw
from accelsim.importers.scalesim import layer_workload, read_config, read_topology, with_array
from tests.helpers import DEFAULT_HW, ROOT

SCALESIM = ROOT / "traces" / "scalesim"


def write(tmp_path, text, name="topo.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
          "Strides,\n")


def test_conv_rows_with_and_without_the_trailing_comma(tmp_path):
    layers = read_topology(write(tmp_path, HEADER + "a, 9, 9, 3, 3, 4, 10, 2,\nb, 5, 5, 1, 1, 20, 3, 2\n\n"))
    got = [(ly.name, ly.ifmap_h, ly.filter_h, ly.channels, ly.num_filters, ly.stride) for ly in layers]
    assert got == [("a", 9, 3, 4, 10, 2), ("b", 5, 1, 20, 3, 2)]


def test_scalesim_output_size_is_a_ceiling_the_workload_keeps_the_real_one(tmp_path):
    # 1x1 stride 2 on 56 rows: SCALE-Sim ceil((56 - 1 + 2) / 2) = 29; a real conv gives 28
    (layer,) = read_topology(write(tmp_path, HEADER + "ds, 56, 56, 1, 1, 256, 512, 2,\n"))
    assert layer.scalesim_gemm().m == 29 * 29
    assert layer_workload(layer).tensors["ofmap"].shape == (1, 28, 28, 512)


def test_ifmap_already_includes_padding(tmp_path):
    (layer,) = read_topology(write(tmp_path, HEADER + "c, 58, 58, 3, 3, 64, 64, 1,\n"))
    conv = layer_workload(layer).ops[0]
    assert conv.pad == 0
    assert layer_workload(layer).tensors["ofmap"].shape == (1, 56, 56, 64)
    assert (layer.scalesim_gemm().m, layer.scalesim_gemm().k, layer.scalesim_gemm().n) == (3136, 576, 64)


def test_dp_in_the_name_makes_a_depthwise_layer(tmp_path):
    (layer,) = read_topology(write(tmp_path, HEADER + "DP_1, 10, 10, 3, 3, 4, 1, 1,\n"))
    g = layer.scalesim_gemm()
    assert (g.m, g.k, g.n, g.groups) == (64, 9, 1, 4)          # one GEMM per channel
    conv = layer_workload(layer).ops[0]
    assert (conv.groups, conv.cin, conv.cout) == (4, 4, 4)


def test_gemm_form_is_told_by_its_header(tmp_path):
    (layer,) = read_topology(write(tmp_path, "Layer, M, N, K,\nfc, 1, 1000, 2048,\n"))
    g = layer.scalesim_gemm()
    assert (layer.form, g.m, g.k, g.n) == ("gemm", 1, 2048, 1000)
    assert layer_workload(layer).tensors["ofmap"].shape == (1, 1, 1, 1000)


@pytest.mark.parametrize(("row", "message"), [
    ("a, 9, 9, 3, 3, 4, 10,", r"topo.csv:2: expected 8 columns \(Layer name, IFMAP Height, .*\), got 7"),
    ("a, 9, x, 3, 3, 4, 10, 2,", r"topo.csv:2: column 3 \(IFMAP Width\): expected a positive integer, "
                                 r"got 'x'"),
    ("a, 9, 9, 3, 3, 4, 0, 2,", r"topo.csv:2: column 7 \(Num Filter\): expected a positive integer, got '0'"),
    ("a, 2, 9, 3, 3, 4, 10, 2,", r"topo.csv:2: the 3x3 filter is larger than the 2x9 IFMAP"),
    (", 9, 9, 3, 3, 4, 10, 2,", r"topo.csv:2: column 1 \(Layer name\): the layer needs a name"),
])
def test_malformed_rows_name_file_row_and_column(tmp_path, row, message):
    with pytest.raises(ConfigError, match=message):
        read_topology(write(tmp_path, HEADER + row + "\n"))


def test_duplicate_layer_names_and_empty_files(tmp_path):
    with pytest.raises(ConfigError, match=r"topo.csv:3: column 1 \(Layer name\): layer 'a' appears twice"):
        read_topology(write(tmp_path, HEADER + "a, 9, 9, 3, 3, 4, 10, 2,\na, 9, 9, 3, 3, 4, 10, 2,\n"))
    with pytest.raises(ConfigError, match="no layers after the header"):
        read_topology(write(tmp_path, HEADER))


def test_resnet50_topology_has_the_published_macs():
    layers = read_topology(SCALESIM / "resnet50.csv") + read_topology(SCALESIM / "resnet50_fc.csv")
    assert len(layers) == 54
    macs = 0
    for layer in layers:
        ho, wo = layer.output_hw()
        macs += ho * wo * layer.filter_h * layer.filter_w * layer.channels * layer.num_filters
    assert macs == 4_089_184_256                                 # 4.09 GMACs


CFG = """[general]
run_name = t
[architecture_presets]
ArrayHeight:    16
ArrayWidth:     8
IfmapSramSzkB:    64
FilterSramSzkB:   32
OfmapSramSzkB:    16
Bandwidth : 10
Dataflow : {dataflow}
[run_presets]
InterfaceBandwidth: {mode}
"""


def test_config_maps_array_sram_and_user_bandwidth(tmp_path):
    base = load_hw(DEFAULT_HW)
    hw = read_config(write(tmp_path, CFG.format(dataflow="ws", mode="USER"), "a.cfg"), base)
    assert (hw.systolic_array.rows, hw.systolic_array.cols, hw.systolic_array.dataflow) == (16, 8, "ws")
    assert (hw.sram.ifmap.size_bytes, hw.sram.weight.size_bytes, hw.sram.ofmap.size_bytes) == (
        64 * 1024, 32 * 1024, 16 * 1024)
    assert hw.dram.bytes_per_cycle == 10
    assert hw.add_unit == base.add_unit and hw.dram.latency_cycles == base.dram.latency_cycles
    calc = read_config(write(tmp_path, CFG.format(dataflow="os", mode="CALC"), "b.cfg"), base)
    assert calc.dram == base.dram


def test_config_errors_name_section_and_key(tmp_path):
    base = load_hw(DEFAULT_HW)
    with pytest.raises(ConfigError, match=r"a.cfg: \[architecture_presets\] Dataflow: must be one of os, "
                                          r"ws, is, got 'rs'"):
        read_config(write(tmp_path, CFG.format(dataflow="rs", mode="USER"), "a.cfg"), base)
    text = CFG.format(dataflow="os", mode="USER").replace("ArrayWidth:     8\n", "")
    with pytest.raises(ConfigError, match=r"b.cfg: \[architecture_presets\] ArrayWidth: required key is "
                                          r"missing"):
        read_config(write(tmp_path, text, "b.cfg"), base)


def test_with_array_overrides_only_what_is_given():
    base = load_hw(DEFAULT_HW)
    hw = with_array(base, None, 4, "is")
    assert (hw.systolic_array.rows, hw.systolic_array.cols, hw.systolic_array.dataflow) == (32, 4, "is")
    assert with_array(base, None, None, None) is base
