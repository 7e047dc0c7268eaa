"""Area of a machine from its area table (accelsim/area.py), by hand; exact Fractions."""

from fractions import Fraction as F

import pytest

from accelsim import ConfigError, hw_from_dict
from accelsim.area import area_breakdown_mm2, area_mm2, pe_mm2
from tests.helpers import changed, hw, hw_data

# default.yaml's area table, as written there (mm^2)
MAC = {"int8": F("0.000419"), "fp16": F("0.005824"), "fp32": F("0.011884")}
SRAM_PER_KIB, DMA_ENGINE, ADD_LANE = F("0.00567"), F("0.0119"), F("0.011884")


def test_default_by_hand():
    # no arithmetic table: the array computes every datatype, one MAC per PE; the widest is fp32
    conv = 32 * 32 * MAC["fp32"]                                     # 12.169216
    sram = (524_288 + 262_144 + 524_288) // 1024 * SRAM_PER_KIB       # 1,280 KiB: 7.2576
    dma = 2 * DMA_ENGINE                                              # 0.0238
    add = 32 * ADD_LANE                                               # 0.380288
    machine = hw()
    assert area_breakdown_mm2(machine) == {"conv": conv, "sram": sram, "dma": dma, "add": add}
    assert area_mm2(machine) == conv + sram + dma + add == F("19.830904")


def test_a_pe_holds_its_widest_arithmetic_packing_included():
    int8_only = hw(arithmetic={"int8": {"macs_per_pe": 4, "accumulator": "int32"}})
    assert pe_mm2(int8_only) == 4 * MAC["int8"]                      # four packed int8 MACs
    mixed = hw(arithmetic={"int8": {"macs_per_pe": 4, "accumulator": "int32"},
                           "fp16": {"macs_per_pe": 2, "accumulator": "fp32"}})
    assert pe_mm2(mixed) == max(4 * MAC["int8"], 2 * MAC["fp16"]) == 2 * MAC["fp16"]
    bigger = hw(systolic_array__rows=64)
    assert area_mm2(bigger) - area_mm2(hw()) == 32 * 32 * MAC["fp32"]   # area grows with the PEs only


def test_sram_and_dma_scale_with_their_bytes_and_engines():
    base = area_breakdown_mm2(hw())
    more = area_breakdown_mm2(hw(sram__weight__size_bytes=262_144 * 3, dma__engines=5))
    assert more["sram"] - base["sram"] == 512 * SRAM_PER_KIB
    assert more["dma"] == 5 * DMA_ENGINE


def test_no_area_table_no_area():
    data = hw_data()
    del data["area"]
    assert area_mm2(hw_from_dict(data)) is None


def test_a_datatype_the_array_computes_without_an_area_entry_names_the_key():
    machine = hw(area__mac_mm2={"int8": 0.000419})              # yet the array computes every datatype
    with pytest.raises(ConfigError, match=r"area\.mac_mm2\.int16: no entry"):
        area_mm2(machine)
    with pytest.raises(ConfigError, match=r"area\.sram_mm2_per_kib: must be >= 0"):
        hw_from_dict(changed(hw_data(), area__sram_mm2_per_kib=-1))
