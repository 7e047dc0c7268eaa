"""Options declared once: how a workload is scheduled and run (RunOptions), and the choices
of pictures, trace formats and functional data types, which the CLI offers without
importing matplotlib, pyvcd or numpy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from accelsim.dtypes import DTYPES
from accelsim.engine.machine import SYNC_MODES
from accelsim.limits import MAX_OPS
from accelsim.scheduler.depthfirst import HALO_MODES
from accelsim.scheduler.network import KINDS
from accelsim.scheduler.search import OBJECTIVES
from accelsim.winograd import WEIGHT_MODES

PLOT_KINDS = ("pipeline", "utilization", "roofline", "layers", "energy")
TRACE_FORMATS = ("perfetto", "vcd")
"""The functional datatypes: every datatype (`accelsim.dtypes.DTYPES`)."""


@dataclass(frozen=True)
class RunOptions:
    """Which schedule to build and how to run it. Each field's metadata has its one-line
    `help` (the default is not in it) and, for a fixed set of values, its `choices`;
    `parts` may be given as a mapping or as (layer, count) pairs. A field whose metadata says
    `"sweep": False` is a command-line and Python option that sweep files do not set."""

    schedule: str = field(default="pipelined", metadata={
        "choices": KINDS, "help": "which schedule (depthfirst: pipelined, and chains of convs fused "
                                  "depth first, their intermediate tensors kept in SRAM)"})
    splits: int | None = field(default=None, metadata={
        "metavar": "N", "help": "output-row parts of every layer (default: chosen per layer to fit SRAM, "
                                "at least 4 for a pipelined ConvAdd)"})
    sync: str = field(default="barrier", metadata={
        "choices": SYNC_MODES,
        "help": "barrier: each stage waits for the last; deps: ops wait only for the data they read"})
    parts: Mapping[str, int] = field(default_factory=dict, hash=False, metadata={
        "metavar": "LAYER=N",
        "help": "networks: split LAYER's output rows into N parts (repeatable; a fused layer is "
                "named CONV+ADD, a depth-first group FIRST>...>LAST)"})
    max_ops: int = field(default=MAX_OPS, metadata={
        "metavar": "N", "help": "refuse a schedule of more than N ops (loads, computes, stores), "
                                "estimated from the shapes before it is built"})
    dtype: str | None = field(default=None, metadata={
        "choices": DTYPES,
        "help": "datatype of every tensor: bytes per element everywhere, the array's MACs per PE "
                "(hardware arithmetic), and the functional data (default: the workload's dtype, else "
                "the hardware's, else the one its element_bytes stands for)"})
    fuse_depth: int | None = field(default=None, metadata={
        "metavar": "K", "help": "depthfirst: at most K convs in a depth-first group (default: as many "
                                "as fit SRAM; 1: none, as pipelined)"})
    halo: str = field(default="cache", metadata={
        "choices": HALO_MODES,
        "help": "depthfirst: rows that neighbouring tiles share are cached in SRAM or recomputed"})
    search: str | None = field(default=None, metadata={
        "choices": OBJECTIVES, "metavar": "OBJECTIVE",
        "help": "choose each layer's tiling (and, depthfirst, the fusion depth and halo mode) by simulated "
                "cycles, energy, or a mix of both, instead of the fewest tiles that fit; the notes say what "
                "was tried and the margin over that greedy choice (--search alone: cycles)"})
    winograd: bool = field(default=False, metadata={
        "help": "run every 3x3 stride-1 conv as Winograd F(2x2,3x3): input and output transforms on the "
                "add unit, 16 batched GEMMs on the array, transformed weights in SRAM (int8 and fp32; "
                "a layer that does not fit SRAM runs im2col, a note says why)"})
    weight_sparsity: str | None = field(default=None, metadata={
        "metavar": "N:M",
        "help": "make every conv's and gemm's weights N:M sparse (2:4: 2 of every 4 along K kept); the array "
                "skips the pruned products where the hardware's sparsity.weights lists the pattern, and "
                "stores those weights compressed (default: as the workload declares)"})
    activation_density: str | None = field(default=None, metadata={
        "metavar": "D|measured",
        "help": "fraction 0 < D <= 1 of nonzero elements in every conv's input, or 'measured' from a "
                "reference run (on --input-data, else seeded random data); an array with "
                "sparsity.zero_skipping skips the zeros (default: as the workload declares)"})
    input_data: str | None = field(default=None, metadata={
        "sweep": False, "metavar": "FILE.npz",
        "help": "--activation-density measured: the graph inputs, one array per input tensor, named by it"})
    seed: int = field(default=0, metadata={
        "metavar": "N",
        "help": "seed of the random data: weights and inputs of measured densities and of --functional"})
    winograd_weights: str = field(default="chip", metadata={
        "choices": WEIGHT_MODES,
        "help": "--winograd: chip: dense weights loaded, transformed on the add unit into the weight buffer; "
                "dram: transformed offline, loaded transformed"})

    def __post_init__(self) -> None:
        parts: Mapping[str, int] | Iterable[tuple[str, int]] | None = self.parts
        object.__setattr__(self, "parts", MappingProxyType(dict(parts or {})))

    def __reduce__(self) -> tuple:
        """Pickled as its fields, `parts` a plain dict (a mappingproxy does not pickle): options
        cross to a process pool's or a Dask cluster's workers."""
        return (RunOptions, tuple(self.as_dict().values()))

    def as_dict(self) -> dict:
        """The fields as plain data, by name, in declaration order (`parts` a dict)."""
        return {f.name: dict(self.parts) if f.name == "parts" else getattr(self, f.name)
                for f in fields(self)}


def run_options(options: RunOptions | None, **keywords) -> RunOptions:
    """`options`, or else RunOptions(**keywords); TypeError when both set something."""
    given = RunOptions(**keywords)
    if options is None:
        return given
    if given != RunOptions():
        raise TypeError(f"pass options or {', '.join(keywords)}, not both")
    return options
