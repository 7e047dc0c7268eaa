"""Hardware description: frozen dataclasses and their validating YAML loader.

Units are in the field names: cycles, bytes, bytes per cycle, MHz, elements.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from accelsim.cost import exact
from accelsim.dtypes import (
    ACCUMULATOR_BYTES,
    BY_ELEMENT_BYTES,
    DEFAULT_ACCUMULATOR,
    DTYPE_BYTES,
    DTYPES,
    Accumulator,
    Dtype,
)
from accelsim.errors import ConfigError
from accelsim.pattern import PatternText
from accelsim.schema import STRICT, Name, NonNegNumber, PosInt, build
from accelsim.shipped import resolve
from accelsim.yamlio import YamlDocument, read_yaml

Dataflow = Literal["os", "ws", "is"]
FoldConvention = Literal["overlapped", "serialized"]
MemoryModel = Literal["timed", "ideal"]
SRAM_BUFFERS = ("ifmap", "weight", "ofmap")

MOST_CYCLES = 10**9
"""Longest latency or barrier, cycles: one second at 1 GHz, beyond any memory or sync. With
the least rate below, a run's cycles stay far inside what a float (and a plot axis) holds."""
LEAST_RATE = 0.001
"""Slowest SRAM port or DRAM channel, bytes per cycle (one byte per 1,000 cycles)."""
CLOCK_MHZ = (0.001, 10**6)
"""Clock range, MHz: 1 kHz to 1 THz (the clock only converts cycles to microseconds)."""

Cycles = Annotated[int, Field(strict=True, ge=0, le=MOST_CYCLES)]
Rate = Annotated[float, Field(strict=True, ge=LEAST_RATE, allow_inf_nan=False)]
ClockMhz = Annotated[float, Field(strict=True, ge=CLOCK_MHZ[0], le=CLOCK_MHZ[1], allow_inf_nan=False)]


@dataclass(frozen=True)
class SystolicArray:
    """The conv unit: `rows` x `cols` processing elements in one dataflow.

    `folds`: "overlapped" (double-buffered stationary operands, outputs draining on each
    column's bus: the next fold streams while the last drains, at most one fold per
    max(T, R) cycles), or "serialized" (every fold fills and drains the array,
    as SCALE-Sim counts). See accelsim/cost.py.
    """

    __pydantic_config__ = STRICT
    rows: PosInt
    cols: PosInt
    dataflow: Dataflow
    folds: FoldConvention = "overlapped"


def _distinct(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """Each N:M pattern listed once."""
    twice = sorted({p for p in patterns if patterns.count(p) > 1})
    if twice:
        raise ValueError(f"each pattern once: {', '.join(twice)} listed more than once")
    return patterns


@dataclass(frozen=True)
class Sparsity:
    """What the conv unit skips: `weights`, the N:M patterns ("2:4") whose pruned products it
    skips (those weights stored compressed, `accelsim.pattern`), and `zero_skipping`, whether
    it skips zero activations (Cnvlutin-style). Both default off; docs/model.md, "Sparsity"."""

    __pydantic_config__ = STRICT
    weights: Annotated[tuple[PatternText, ...], AfterValidator(_distinct)] = ()
    zero_skipping: Annotated[bool, Field(strict=True)] = False


@dataclass(frozen=True)
class AddUnit:
    """The vector unit: `lanes` lane operations per cycle after `latency_cycles`.

    An add is one lane operation per output element, a pool kh x kw; an LRN
    `size` (the window's squares and sums) plus `lrn_cycles_per_element` (scale,
    power, divide), a softmax `softmax_cycles_per_element` (max, subtract, exp,
    sum, scale). Both default to 5 (docs/model.md says why). A scale (a batch norm on the
    vector unit) `scale_cycles_per_element`, default 1: one fused multiply-add. A fused
    ConvAdd's add that requantizes its conv input (`Arithmetic.requantize: add_unit`) costs
    `requantize_cycles_per_element` more (default 1: a multiply, round and shift; 0 when the
    lane pipelines it with the add)."""

    __pydantic_config__ = STRICT
    lanes: PosInt
    latency_cycles: Cycles
    lrn_cycles_per_element: PosInt = 5
    softmax_cycles_per_element: PosInt = 5
    scale_cycles_per_element: PosInt = 1
    requantize_cycles_per_element: Cycles = 1


@dataclass(frozen=True)
class SramBuffer:
    """One on-chip buffer: capacity in bytes and one port of `bytes_per_cycle`."""

    __pydantic_config__ = STRICT
    size_bytes: PosInt
    bytes_per_cycle: Rate


@dataclass(frozen=True)
class Sram:
    """The three on-chip buffers: conv/add inputs, weights, conv/add outputs."""

    __pydantic_config__ = STRICT
    ifmap: SramBuffer
    weight: SramBuffer
    ofmap: SramBuffer


@dataclass(frozen=True)
class Dram:
    """Off-chip memory; transfers are interleaved over all channels."""

    __pydantic_config__ = STRICT
    channels: PosInt
    channel_bytes_per_cycle: Rate
    latency_cycles: Cycles

    @property
    def bytes_per_cycle(self) -> Fraction:
        """Aggregate bandwidth in bytes per cycle, exact (decimal as written)."""
        return self.channels * exact(self.channel_bytes_per_cycle)


@dataclass(frozen=True)
class Dma:
    """DMA engines: how many DRAM<->SRAM transfers may be in flight at once."""

    __pydantic_config__ = STRICT
    engines: PosInt


@dataclass(frozen=True)
class Precision:
    """The array in one datatype: `macs_per_pe` products per PE per cycle (4 for int8 with
    DP4A-style packing: four int8 products summed into one accumulator; they pack along
    the reduction K), accumulated in `accumulator`."""

    __pydantic_config__ = STRICT
    macs_per_pe: PosInt
    accumulator: Accumulator


@dataclass(frozen=True)
class Arithmetic:
    """The datatypes the array computes in (a datatype without an entry is refused), and where
    a conv's accumulator is requantized to the datatype: `drain` (the array's output stage, as
    outputs drain: every conv output is stored in SRAM at the datatype's width) or `add_unit`
    (a fused ConvAdd's conv output stays in SRAM at accumulator width and the add unit
    requantizes it before the add, `AddUnit.requantize_cycles_per_element`; a lone conv's
    output, with no add to do it, is requantized as it drains)."""

    __pydantic_config__ = STRICT
    requantize: Literal["drain", "add_unit"] = "drain"
    int8: Precision | None = None
    int16: Precision | None = None
    fp16: Precision | None = None
    bf16: Precision | None = None
    fp32: Precision | None = None


@dataclass(frozen=True)
class PerDtype:
    """A number per datatype (pJ or mm^2); a datatype the table leaves out has none."""

    __pydantic_config__ = STRICT
    int8: NonNegNumber | None = None
    int16: NonNegNumber | None = None
    fp16: NonNegNumber | None = None
    bf16: NonNegNumber | None = None
    fp32: NonNegNumber | None = None


@dataclass(frozen=True)
class PerBuffer:
    """A number per SRAM buffer (pJ per byte)."""

    __pydantic_config__ = STRICT
    ifmap: NonNegNumber
    weight: NonNegNumber
    ofmap: NonNegNumber


@dataclass(frozen=True)
class StaticPower:
    """Static (leakage) power of each part of the machine, mW, paid for the whole run."""

    __pydantic_config__ = STRICT
    conv: NonNegNumber
    add: NonNegNumber
    dma: NonNegNumber
    sram: NonNegNumber


@dataclass(frozen=True)
class EnergyTable:
    """What each action costs (accelsim/energy.py counts the actions): `mac_pj` per MAC of
    the run's datatype, `add_pj` per add-unit lane operation in the run's datatype,
    `sram_read_pj_per_byte` / `sram_write_pj_per_byte` per buffer, `dram_pj_per_byte` per
    byte moved, `static_mw` per unit over the run's time; `source` says where they come from."""

    __pydantic_config__ = STRICT
    source: Name
    mac_pj: PerDtype
    add_pj: PerDtype
    sram_read_pj_per_byte: PerBuffer
    sram_write_pj_per_byte: PerBuffer
    dram_pj_per_byte: NonNegNumber
    static_mw: StaticPower


@dataclass(frozen=True)
class AreaTable:
    """Silicon area (accelsim/area.py sums it): `mac_mm2` of one MAC (multiplier and
    accumulator adder) per datatype, `sram_mm2_per_kib`, `dma_engine_mm2`, `add_lane_mm2`;
    `source` says where they come from."""

    __pydantic_config__ = STRICT
    source: Name
    mac_mm2: PerDtype
    sram_mm2_per_kib: NonNegNumber
    dma_engine_mm2: NonNegNumber
    add_lane_mm2: NonNegNumber


@dataclass(frozen=True)
class Hardware:
    """One accelerator configuration.

    `memory_model: ideal` makes every DRAM transfer and SRAM port access free
    (0 cycles) while SRAM capacity is still enforced; `timed` simulates them.
    """

    __pydantic_config__ = STRICT
    name: Name
    clock_mhz: ClockMhz
    element_bytes: PosInt
    barrier_cycles: Cycles
    memory_model: MemoryModel
    systolic_array: SystolicArray
    add_unit: AddUnit
    sram: Sram
    dram: Dram
    dma: Dma
    dtype: Dtype | None = None              # the run's datatype unless a run or workload says
    arithmetic: Arithmetic | None = None    # None: every datatype, one MAC per PE per cycle
    energy: EnergyTable | None = None       # None: no energy reported
    area: AreaTable | None = None           # None: no area reported
    sparsity: Sparsity = Sparsity()         # what the conv unit skips (default: nothing)

    @property
    def default_dtype(self) -> str:
        """The datatype of a run that names none: `dtype`, else the one `element_bytes`
        stands for (1 int8, 2 fp16, 4 fp32)."""
        if self.dtype is not None:
            return self.dtype
        found = BY_ELEMENT_BYTES.get(self.element_bytes)
        if found is None:
            raise ConfigError(f"{self.name}: element_bytes {self.element_bytes} is no datatype's width "
                              "(int8 1; int16, fp16, bf16 2; fp32 4); set dtype")
        return found

    def requantizes_on_add_unit(self, dtype: str) -> bool:
        """Whether a fused ConvAdd in `dtype` holds its conv output at accumulator width for the
        add unit to requantize (`Arithmetic.requantize`, and an accumulator wider than `dtype`)."""
        return (self.arithmetic is not None and self.arithmetic.requantize == "add_unit"
                and ACCUMULATOR_BYTES[self.precision(dtype).accumulator] > DTYPE_BYTES[dtype])

    def precision(self, dtype: str) -> Precision:
        """How the array computes in `dtype`; ConfigError naming the key when the `arithmetic`
        table has no entry for it."""
        if self.arithmetic is None:
            return Precision(1, DEFAULT_ACCUMULATOR[dtype])     # type: ignore[arg-type]
        found = getattr(self.arithmetic, dtype, None)
        if found is None:
            have = self.dtypes
            raise ConfigError(f"{self.name}: arithmetic.{dtype}: no entry for datatype {dtype!r}, which this "
                              f"run uses; the table has {', '.join(have) or 'none'}")
        return found

    @property
    def dtypes(self) -> tuple[str, ...]:
        """The datatypes the array computes in: those of `arithmetic`, every one without it."""
        if self.arithmetic is None:
            return DTYPES
        return tuple(d for d in DTYPES if getattr(self.arithmetic, d) is not None)

    @property
    def ideal_memory(self) -> bool:
        return self.memory_model == "ideal"

    def buffer(self, name: str) -> SramBuffer:
        """The SRAM buffer called `name` (one of SRAM_BUFFERS)."""
        return getattr(self.sram, name)

    def sram_capacity(self) -> dict[str, int]:
        """Bytes each SRAM buffer holds, by name."""
        return {b: self.buffer(b).size_bytes for b in SRAM_BUFFERS}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def load_hw(path: str | Path) -> Hardware:
    """Read and validate a hardware YAML file, or the shipped config of that name (`default`);
    ConfigError lists every problem."""
    return build(Hardware, read_yaml(resolve(path, "hw")))


def hw_from_dict(data: dict, source: str = "<hw>") -> Hardware:
    """Validate plain data (as a YAML file would hold it) into a Hardware."""
    return build(Hardware, YamlDocument(source, data, None))
