"""SCALE-Sim's inputs: topology CSVs (conv and GEMM forms) and `.cfg` files.

How SCALE-Sim 3.0.0 reads them (scalesim/topology_utils.py, scale_config.py),
and how each field maps onto accelsim:

Conv topology, one layer per row after a header:
    Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
    Channels, Num Filter, Strides,
- IFMAP sizes already include the padding, so the accelsim conv has pad 0.
- One stride for both directions.
- A layer whose name contains "DP" is depthwise: SCALE-Sim runs it as one
  layer per channel, each with 1 channel and `Num Filter` filters; accelsim
  maps it to a conv with groups = channels, cout = channels x filters.
- SCALE-Sim's output size is ceil((H - Fh + S) / S); a real conv gives
  floor((H - Fh) / S) + 1. The two differ when S does not divide H - Fh.
  `scalesim_gemm` uses SCALE-Sim's; the workload uses the real one.
GEMM topology (`Layer, M, N, K,`): SCALE-Sim runs it as a conv with an
M x K ifmap, a 1 x K filter, 1 channel and N filters; accelsim does the same.

SCALE-Sim drops the last field of every row (its rows end with a comma);
here a trailing empty field is dropped and a row without one is read whole.
"""

from __future__ import annotations

import configparser
import csv
import dataclasses
from dataclasses import dataclass
from math import ceil
from pathlib import Path

from accelsim.cost import Gemm
from accelsim.errors import ConfigError
from accelsim.hw import Dataflow, Hardware, hw_from_dict
from accelsim.shipped import resolve
from accelsim.workload import Workload, workload_from_dict

CONV_COLUMNS = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
                "Channels", "Num Filter", "Strides")
GEMM_COLUMNS = ("Layer", "M", "N", "K")


@dataclass(frozen=True)
class ScaleSimLayer:
    """One topology row in SCALE-Sim's conv terms (a GEMM row is converted as SCALE-Sim does)."""

    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filters: int
    stride: int
    form: str = "conv"

    @property
    def depthwise(self) -> bool:
        return self.form == "conv" and "DP" in self.name

    def scalesim_gemm(self) -> Gemm:
        """The GEMM SCALE-Sim computes: its ceil output size, one group per channel if depthwise."""
        ho = ceil((self.ifmap_h - self.filter_h + self.stride) / self.stride)
        wo = ceil((self.ifmap_w - self.filter_w + self.stride) / self.stride)
        channels = 1 if self.depthwise else self.channels
        return Gemm(m=ho * wo, k=self.filter_h * self.filter_w * channels, n=self.num_filters,
                    groups=self.channels if self.depthwise else 1)

    def conv_op(self, input_name: str, output_name: str) -> dict:
        """The accelsim conv op (trace form) for this layer: pad 0, real output size."""
        groups = self.channels if self.depthwise else 1
        return {"name": self.name, "kind": "conv", "input": input_name, "output": output_name,
                "kh": self.filter_h, "kw": self.filter_w, "stride": self.stride, "pad": 0,
                "cin": self.channels, "cout": self.num_filters * groups, "groups": groups}

    def output_hw(self) -> tuple[int, int]:
        """Output rows and cols of the real conv (floor), as accelsim computes them."""
        return ((self.ifmap_h - self.filter_h) // self.stride + 1,
                (self.ifmap_w - self.filter_w) // self.stride + 1)


def _fields(row: list[str]) -> list[str]:
    fields = [f.strip() for f in row]
    return fields[:-1] if fields and fields[-1] == "" else fields


def read_topology(path: str | Path) -> list[ScaleSimLayer]:
    """Read a SCALE-Sim topology CSV, conv or GEMM form (told apart by the header), or the
    shipped topology of that name (`resnet50`: traces/scalesim/resnet50.csv)."""
    path = resolve(path, "topology")
    source = str(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    if not rows:
        raise ConfigError(f"{source}: empty file; expected a header row and one row per layer")
    header = _fields(rows[0])
    gemm = len(header) > 1 and header[1].upper() == "M"
    columns = GEMM_COLUMNS if gemm else CONV_COLUMNS
    layers, names = [], set()
    for line, row in enumerate(rows[1:], start=2):
        fields = _fields(row)
        if not any(fields):
            continue
        where = f"{source}:{line}"
        if len(fields) != len(columns):
            raise ConfigError(f"{where}: expected {len(columns)} columns ({', '.join(columns)}), "
                              f"got {len(fields)}")
        name = fields[0]
        values: list[int] = []
        if not name:
            raise ConfigError(f"{where}: column 1 ({columns[0]}): the layer needs a name")
        if name in names:
            raise ConfigError(f"{where}: column 1 ({columns[0]}): layer {name!r} appears twice")
        names.add(name)
        for col, text in enumerate(fields[1:], start=2):
            try:
                value = int(text)
            except ValueError:
                value = 0
            if value < 1:
                raise ConfigError(f"{where}: column {col} ({columns[col - 1]}): expected a positive "
                                  f"integer, got {text!r}")
            values.append(value)
        if gemm:
            m, n, k = values
            layer = ScaleSimLayer(name, m, k, 1, k, 1, n, 1, form="gemm")
        else:
            ifmap_h, ifmap_w, filter_h, filter_w, channels, filters, stride = values
            layer = ScaleSimLayer(name, ifmap_h, ifmap_w, filter_h, filter_w, channels, filters, stride)
            if layer.filter_h > layer.ifmap_h or layer.filter_w > layer.ifmap_w:
                raise ConfigError(f"{where}: the {layer.filter_h}x{layer.filter_w} filter is larger "
                                  f"than the {layer.ifmap_h}x{layer.ifmap_w} IFMAP")
        layers.append(layer)
    if not layers:
        raise ConfigError(f"{source}: no layers after the header")
    return layers


def layer_workload(layer: ScaleSimLayer) -> Workload:
    """One layer as an accelsim workload: a lone conv from DRAM to DRAM."""
    ho, wo = layer.output_hw()
    op = layer.conv_op("ifmap", "ofmap")
    return workload_from_dict({
        "name": layer.name,
        "tensors": {"ifmap": [1, layer.ifmap_h, layer.ifmap_w, layer.channels],
                    "ofmap": [1, ho, wo, op["cout"]]},
        "ops": [op],
    }, source=layer.name)


_CFG_KEYS = {
    ("architecture_presets", "ArrayHeight"): ("systolic_array", "rows"),
    ("architecture_presets", "ArrayWidth"): ("systolic_array", "cols"),
    ("architecture_presets", "IfmapSramSzkB"): ("sram", "ifmap"),
    ("architecture_presets", "FilterSramSzkB"): ("sram", "weight"),
    ("architecture_presets", "OfmapSramSzkB"): ("sram", "ofmap"),
}


def read_config(path: str | Path, base: Hardware) -> Hardware:
    """A SCALE-Sim `.cfg` applied to `base`.

    Taken: ArrayHeight/ArrayWidth (rows, cols), Dataflow, the three SRAM sizes
    (kB -> bytes; one byte per word), and with `InterfaceBandwidth: USER` the
    first Bandwidth value (words = bytes per cycle, one channel). Everything else
    (offsets, request buffers, layouts, sparsity, CALC bandwidth) keeps `base`.
    """
    source = str(path)
    parser = configparser.ConfigParser()
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: not a SCALE-Sim config: {exc}") from None

    def get(section: str, key: str) -> str:
        try:
            return parser.get(section, key).strip()
        except (configparser.NoSectionError, configparser.NoOptionError):
            raise ConfigError(f"{source}: [{section}] {key}: required key is missing") from None

    def positive(section: str, key: str, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise ConfigError(f"{source}: [{section}] {key}: expected a positive integer, got {text!r}")
        return value

    data = base.to_dict()
    for (section, key), (group, field) in _CFG_KEYS.items():
        value = positive(section, key, get(section, key))
        if group == "sram":
            data["sram"][field]["size_bytes"] = value * 1024
        else:
            data[group][field] = value
    dataflow = get("architecture_presets", "Dataflow").lower()
    if dataflow not in ("os", "ws", "is"):
        raise ConfigError(f"{source}: [architecture_presets] Dataflow: must be one of os, ws, is, "
                          f"got {dataflow!r}")
    data["systolic_array"]["dataflow"] = dataflow
    mode = get("run_presets", "InterfaceBandwidth").upper()
    if mode not in ("USER", "CALC"):
        raise ConfigError(f"{source}: [run_presets] InterfaceBandwidth: must be USER or CALC, got {mode!r}")
    if mode == "USER":
        first = get("architecture_presets", "Bandwidth").split(",")[0].strip()
        data["dram"]["channels"] = 1
        data["dram"]["channel_bytes_per_cycle"] = positive("architecture_presets", "Bandwidth", first)
    data["element_bytes"] = 1
    data["name"] = f"{base.name}+{Path(source).name}"
    return hw_from_dict(data, source)


def with_array(hw: Hardware, rows: int | None, cols: int | None, dataflow: Dataflow | None) -> Hardware:
    """`hw` with the systolic array's rows, cols or dataflow replaced where given."""
    sa = hw.systolic_array
    new = dataclasses.replace(sa, rows=rows or sa.rows, cols=cols or sa.cols,
                              dataflow=dataflow or sa.dataflow)
    return hw if new == sa else dataclasses.replace(hw, systolic_array=new)
