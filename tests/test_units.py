"""The one table of units."""

from accelsim import load_hw
from accelsim.units import COMPUTE_UNITS, DIAGRAM_ROWS, UNIT_OF_KIND, UNITS, diagram_row, engines
from tests.helpers import DEFAULT_HW


def test_every_op_kind_runs_on_one_unit():
    assert UNIT_OF_KIND == {"conv": "conv", "add": "add", "pool": "add", "lrn": "add", "softmax": "add",
                            "scale": "add", "wgin": "add", "wgout": "add", "wgw": "add", "load": "dma",
                            "store": "dma"}
    assert UNITS == ("conv", "add", "dma") and COMPUTE_UNITS == ("conv", "add")


def test_engines_come_from_the_hardware():
    assert engines(load_hw(DEFAULT_HW)) == {"conv": 1, "add": 1, "dma": 2}


def test_the_pipeline_diagram_rows():
    assert DIAGRAM_ROWS == ("DMA in", "conv", "add", "DMA out")
    assert [diagram_row(k) for k in ("load", "conv", "pool", "store")] == ["DMA in", "conv", "add", "DMA out"]
