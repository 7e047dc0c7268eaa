"""Winograd F(2x2, 3x3) on numpy arrays: the transforms functional execution runs
(`accelsim.winograd` says what they are and what they cost).

Layouts: U `[Cout, 4, 4, Cin]`; V `[N, Ht, Wt, 16 Cin]` and M `[N, Ht, Wt, 16 Cout]`, channel
c's 16 values at 16c..16c+15 (row-major over the 4x4 tile). Integers compute in int64 with
G' = 2G (U' = 4U, every value an integer); floats in float32.
"""

from __future__ import annotations

import numpy as np

from accelsim.winograd import POINTS, TILE_IN, TILE_OUT

B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.int64)
"""The input transform's B^T: V = B^T d B."""
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float32)
"""The weight transform's G: U = G g G^T."""
G2 = np.array([[2, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 2]], dtype=np.int64)
"""2G, integer: U' = G' g G'^T = 4U."""
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.int64)
"""The output transform's A^T: Y = A^T M A."""


def transform_weights(w: np.ndarray) -> np.ndarray:
    """U `[Cout, 4, 4, Cin]` of weights `[Cout, 3, 3, Cin]`: G g G^T in float32, or G' g G'^T
    (= 4U) as int16 for integer weights (|U'| <= 9 x 2^7 for int8)."""
    if np.issubdtype(w.dtype, np.integer):
        return np.einsum("ik,okld,jl->oijd", G2, w.astype(np.int64), G2).astype(np.int16)
    return np.einsum("ik,okld,jl->oijd", G, w.astype(np.float32), G).astype(np.float32)


def transform_input(x: np.ndarray) -> np.ndarray:
    """V `[N, Ht, Wt, 16 C]` of input rows and columns `x` `[N, 2 Ht + 2, 2 Wt + 2, C]` (padding
    included): per 4x4 tile at stride 2, B^T d B; int16 for integers (|V| <= 4 x 2^7 for int8),
    else float32."""
    n, h, w, c = x.shape
    ht, wt = (h - 2) // TILE_OUT, (w - 2) // TILE_OUT
    integer = np.issubdtype(x.dtype, np.integer)
    xa = x.astype(np.int64 if integer else np.float32)
    d = np.stack([np.stack([xa[:, i: i + TILE_OUT * ht: TILE_OUT, j: j + TILE_OUT * wt: TILE_OUT, :]
                            for j in range(TILE_IN)], axis=-1) for i in range(TILE_IN)], axis=-2)
    bt = B_T if integer else B_T.astype(np.float32)
    v = np.einsum("ai,nyxcij,bj->nyxcab", bt, d, bt)               # [N, Ht, Wt, C, 4, 4]
    return v.reshape(n, ht, wt, c * POINTS).astype(np.int16 if integer else np.float32)


def products(v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """M `[N, Ht, Wt, 16 F]`: per tile, filter f and point p, the sum over channels c of V[c, p]
    U[f, p, c] (`v` V `[N, Ht, Wt, 16 C]`, `u` U of F filters); int64 or float32."""
    n, ht, wt, cp = v.shape
    f = u.shape[0]
    integer = np.issubdtype(v.dtype, np.integer)
    acc: np.dtype = np.dtype(np.int64 if integer else np.float32)
    vv: np.ndarray = v.astype(acc).reshape(n, ht, wt, cp // POINTS, POINTS)
    uu: np.ndarray = u.astype(acc).reshape(f, POINTS, -1)
    return np.einsum("nyxcp,fpc->nyxfp", vv, uu).reshape(n, ht, wt, f * POINTS)


def transform_output(m: np.ndarray, scale: int = 1) -> np.ndarray:
    """Y `[N, 2 Ht, 2 Wt, F]` of M `[N, Ht, Wt, 16 F]`: per tile A^T M A, divided by `scale`
    (integers: exactly, ValueError when it does not divide)."""
    n, ht, wt, fp = m.shape
    integer = np.issubdtype(m.dtype, np.integer)
    at = A_T if integer else A_T.astype(np.float32)
    y = np.einsum("ai,nyxfij,bj->nyaxbf", at, m.reshape(n, ht, wt, fp // POINTS, TILE_IN, TILE_IN), at)
    y = y.reshape(n, TILE_OUT * ht, TILE_OUT * wt, fp // POINTS)
    if scale == 1:
        return y
    if integer:
        if np.any(y % scale):
            raise ValueError(f"the output transform's result is not a multiple of {scale}")
        return y // scale
    return y / np.float32(scale)
