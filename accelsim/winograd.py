"""Winograd F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
CVPR 2016): which convs qualify, the tensors a Winograd layer keeps, and its operation counts.

Per 4x4 input tile d (tiles at stride 2, overlapping by 2, the conv's padding of 1 around the
input) and input channel, V = B^T d B; per filter and input channel, U = G g G^T (16 values for
the 9 weights: transformed on chip, `wgw` on the add unit from the dense weights loaded into
the weight buffer, or offline and loaded transformed: `WEIGHT_MODES`); per tile and filter,
the 16 products M[xi] = sum over input channels of V[xi] U[xi] (16 batched GEMMs of
(tiles x Cin) @ (Cin x Cout) on the array); Y = A^T M A, the tile's 2x2 outputs.
`accelsim.winograd_exec` holds the matrices and computes them.

Lane operations on the add unit (one add or subtract per lane per cycle; B^T and A^T have
entries 0 and +-1 only): B^T d takes 16 (each of its 4x4 values a sum of two of d's), then
(B^T d) B 16 more: 32 per tile and input channel, 2 per value of V. A^T M takes 16 (each of
its 2x4 values a sum of three of M's: two operations), then (A^T M) A 8 (2x2 values, two
each): 24 per tile and output channel, 3/2 per value of M. The weight transform G' g G'^T
(G' = 2G, the integer variant): per column of g, G' g's rows 0 and 3 take a shift each (x2)
and rows 1 and 2 two adds each: 6, 18 for the 3 columns; then (G' g) G'^T 6 per row of G' g,
24: 42 per filter and input channel, 21/8 per value of U. In fp32, G's rows 0 and 3 copy
(none) and rows 1 and 2 take two adds and a halving: 6 per column too, 42. A shift (or a
halving, an exponent decrement) is a lane operation: a lane does one operation per cycle,
whichever it is. The array computes 16 products per
tile, input and output channel against im2col's 36 (2x2 outputs x 9 taps): 2.25 times fewer
MACs when the output's rows and columns are even (an odd edge computes a whole tile).

Datatypes. fp32 keeps every tensor at fp32. int8 (the integer variant): G' = 2G has integer
entries, so U' = G' g G'^T = 4U is exact in integers; V (|V| <= 4 x 128, 10 bits) and U'
(|U'| <= 9 x 128, 12 bits) are held at int16 width, the array multiplies them as int16 (its
MACs priced at the `int16` entries), M' = sum V U' accumulates at int32 width, Y' = A^T M' A is
4Y exactly, and the add unit divides by 4 (folded into the requantization's shift) and
requantizes as the output transform drains: bit-exact against the direct conv. Other
datatypes run im2col.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from accelsim.cost import Gemm
from accelsim.dtypes import ACCUMULATOR_BYTES, DTYPE_BYTES
from accelsim.workload import Conv, Workload

TILE_OUT = 2
"""Output rows (and columns) per tile."""
TILE_IN = 4
"""Input rows (and columns) per tile: TILE_OUT + 3 - 1."""
POINTS = TILE_IN * TILE_IN
"""Values per tile in the transformed domain (16): the batched GEMMs' count."""
INPUT_LANE_OPS = 32
"""Add-unit lane operations per tile and input channel of the input transform (B^T d B)."""
OUTPUT_LANE_OPS = 24
"""Add-unit lane operations per tile and output channel of the output transform (A^T M A)."""
WEIGHT_LANE_OPS = 42
"""Add-unit lane operations per filter and input channel of the weight transform (G g G^T):
28 adds and 14 shifts (or halvings)."""
WEIGHT_MODES = ("chip", "dram")
"""Where U is made: chip, the dense weights loaded and transformed on the add unit into the
weight buffer (`wgw`); dram, transformed offline and loaded transformed."""
DTYPES = ("int8", "fp32")
"""The datatypes a Winograd layer runs in (others run im2col)."""
STORED = {"int8": "int16", "fp32": "fp32"}
"""The datatype V and U are held in, and the array multiplies in, per run datatype."""
INTEGER_SCALE = 4
"""int8: U' = 4U, so the output transform yields 4Y."""


@dataclass(frozen=True)
class WinogradLayout:
    """The tensors of one conv run as Winograd, none of them a workload tensor: `weight` U
    `[Cout, 4, 4, Cin]` (made on chip from the conv's weights, or loaded from DRAM),
    `transformed` V `[N, Ht, Wt, 16 Cin]` and `products` M `[N, Ht, Wt, 16 Cout]` (channel
    c's 16 values at 16c..16c+15; Ht, Wt the tile rows and columns), both only in SRAM;
    `mac_dtype` what the array multiplies V and U in; `scale` what the output transform's
    result is times Y (4 for int8, else 1)."""

    conv: str
    weight: str
    transformed: str
    products: str
    mac_dtype: str
    scale: int = 1

    @property
    def tensors(self) -> tuple[str, str, str]:
        return self.weight, self.transformed, self.products


def why_not(conv: Conv, dtype: str, hw_dtypes: Collection[str] | None = None) -> str | None:
    """Why `conv` cannot run as Winograd F(2x2, 3x3) in `dtype` on an array computing in
    `hw_dtypes` (`Hardware.dtypes`; None: any), or None when it can."""
    if (conv.kh, conv.kw) != (3, 3):
        return "a kernel other than 3x3"
    if conv.stride != 1:
        return "stride > 1"
    if conv.dilation != 1:
        return "dilation > 1"
    if conv.pad != 1:
        return "padding other than 1"
    if conv.groups != 1:
        return "groups > 1 (depthwise or grouped)"
    if conv.skip is not None:
        return "the array skips its sparse weights or zero activations (their transforms are dense)"
    if dtype not in DTYPES:
        return f"datatype {dtype} (Winograd runs in {' and '.join(DTYPES)})"
    if hw_dtypes is not None and STORED[dtype] not in hw_dtypes:
        return f"no {STORED[dtype]} arithmetic in the hardware for the transformed operands"
    return None


def layout(conv: Conv, workload: Workload, dtype: str) -> WinogradLayout | None:
    """The layout of `conv` run as Winograd in `dtype` (tensors named after the conv), None
    when one of those names is a workload tensor's."""
    names = (f"{conv.name}.wg_weight", f"{conv.name}.wg_in", f"{conv.name}.wg_prod")
    if any(n in workload.tensors for n in names):
        return None
    return WinogradLayout(conv.name, *names, STORED[dtype], INTEGER_SCALE if dtype == "int8" else 1)


def layout_widths(lay: WinogradLayout, dtype: str, accumulator: str) -> tuple[tuple[str, int], ...]:
    """Bytes per element of its tensors: U and V at `mac_dtype`'s, M at the `accumulator`'s."""
    held = DTYPE_BYTES[lay.mac_dtype]
    return ((lay.weight, held), (lay.transformed, held), (lay.products, ACCUMULATOR_BYTES[accumulator]))


def tiles(rows: int, cols: int) -> tuple[int, int]:
    """Tile rows and columns covering `rows` x `cols` outputs: ceil of each / 2."""
    return -(-rows // TILE_OUT), -(-cols // TILE_OUT)


def products_gemm(box, cin: int) -> Gemm:
    """The 16 batched GEMMs that compute box `box` of M (`[N, Ht, Wt, 16 Cout]`, whole
    filters' 16 values): (tiles x Cin) @ (Cin x filters) per point, tiles = the box's
    N x Ht x Wt, filters its channels / 16."""
    (n0, r0, c0, k0), (n1, r1, c1, k1) = box
    return Gemm(m=(n1 - n0) * (r1 - r0) * (c1 - c0), k=cin, n=(k1 - k0) // POINTS, groups=POINTS)


def input_lane_operations(values: int) -> int:
    """Lane operations of an input transform that writes `values` values of V (16 per tile and
    channel): INPUT_LANE_OPS per 16."""
    return values * INPUT_LANE_OPS // POINTS


def output_lane_operations(products: int) -> int:
    """Lane operations of an output transform that reads `products` values of M (16 per tile
    and channel): OUTPUT_LANE_OPS per 16."""
    return products * OUTPUT_LANE_OPS // POINTS


def weight_lane_operations(values: int) -> int:
    """Lane operations of a weight transform that writes `values` values of U (16 per filter
    and input channel): WEIGHT_LANE_OPS per 16."""
    return values * WEIGHT_LANE_OPS // POINTS


def mac_dtype_of(op, other: dict[str, str]) -> str | None:
    """The datatype a conv op's MACs run in when not the run's: `other` maps a Winograd
    layout's U tensor to its `mac_dtype` (`other_mac_dtypes`); None for every other op."""
    if op.kind != "conv" or not other:
        return None
    return next((other[r.tensor] for r in op.reads if r.tensor in other), None)


def other_mac_dtypes(layouts: tuple[WinogradLayout, ...], dtype: str) -> dict[str, str]:
    """U tensor -> `mac_dtype` of the layouts whose array multiplies in another datatype than
    the run's `dtype` (int8 runs: int16)."""
    return {lay.weight: lay.mac_dtype for lay in layouts if lay.mac_dtype != dtype}


def shapes(lay: WinogradLayout, conv: Conv, workload: Workload) -> dict[str, tuple[int, ...]]:
    """Tensor -> shape of the layout's tensors: U `[Cout, 4, 4, Cin]`, V `[N, Ht, Wt, 16 Cin]`,
    M `[N, Ht, Wt, 16 Cout]`."""
    n, ho, wo, _ = workload.tensors[conv.output].shape
    ht, wt = tiles(ho, wo)
    return {lay.weight: (conv.cout, TILE_IN, TILE_IN, conv.cin),
            lay.transformed: (n, ht, wt, POINTS * conv.cin), lay.products: (n, ht, wt, POINTS * conv.cout)}


def layouts_of(convs: list[str], workload: Workload, dtype: str,
               hw_dtypes: Collection[str] | None = None) -> tuple[tuple[WinogradLayout, ...], list[str]]:
    """The layouts of the named convs run as Winograd in `dtype` (a schedule file's `winograd`
    list), and the problems: a name that is no conv of the workload, or one that cannot run so
    (`why_not`, on an array computing in `hw_dtypes`)."""
    found, problems = [], []
    by_name = {op.name: op for op in workload.ops}
    for name in convs:
        conv = by_name.get(name)
        why = "no conv of the workload" if not isinstance(conv, Conv) else why_not(conv, dtype, hw_dtypes)
        lay = layout(conv, workload, dtype) if isinstance(conv, Conv) and why is None else None
        if lay is None:
            problems.append(f"winograd names {name!r}, which cannot run as Winograd: "
                            f"{why or 'a workload tensor is named as one of its transformed tensors'}")
        else:
            found.append(lay)
    return tuple(found), problems
