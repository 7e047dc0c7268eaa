"""The Winograd transforms on numpy arrays, and functional execution of Winograd schedules
against the direct conv: bit-exact in int8, within the fp32 check's tolerance."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from accelsim import functional, load_hw, load_workload
from accelsim.functional import ATOL, RTOL, check, conv_valid
from accelsim.options import RunOptions
from accelsim.simulation import make_schedule
from accelsim.winograd_exec import G2, G, products, transform_input, transform_output, transform_weights
from tests.helpers import BLOCK, DEFAULT_HW, ROOT


def test_the_integer_variant_is_exact_and_in_int16():
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, (2, 7, 9, 5)).astype(np.int8)         # odd sizes: edge tiles
    w = rng.integers(-128, 128, (6, 3, 3, 5)).astype(np.int8)
    want = conv_valid(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), w, 1, 1, 1)
    padded = np.pad(x, ((0, 0), (1, 2), (1, 2), (0, 0)))              # 4 x 5 tiles: 10 x 12 padded
    u, v = transform_weights(w), transform_input(padded)
    assert (u.dtype, v.dtype, u.shape, v.shape) == (np.int16, np.int16, (6, 4, 4, 5), (2, 4, 5, 80))
    assert np.abs(v).max() <= 4 * 128 and np.abs(u).max() <= 9 * 128             # 10 and 12 bits
    assert np.array_equal(G2, 2 * G)
    y = transform_output(products(v, u), 4)
    assert np.array_equal(y[:, :7, :9], want)
    with pytest.raises(ValueError, match="not a multiple of 8"):
        transform_output(products(v, u), 8)


def test_fp32_stays_within_the_checks_tolerance():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 8, 8, 64), dtype=np.float32)
    w = (rng.standard_normal((8, 3, 3, 64), dtype=np.float32) / 24).astype(np.float32)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    want = conv_valid(padded, w, 1, 1, 1)
    got = transform_output(products(transform_input(padded), transform_weights(w)))
    scale = float(np.abs(want).max())
    assert np.abs(got - want).max() <= RTOL * np.abs(want).min() + ATOL * max(1.0, scale)
    assert not np.array_equal(got, want)          # not exact: a tolerance is needed


@pytest.mark.parametrize(("kind", "dtype", "weights"), [
    ("pipelined", "int8", "chip"), ("fused", "int8", "chip"), ("pipelined", "fp32", "chip"),
    ("serial", "fp32", "chip"), ("pipelined", "int8", "dram"), ("serial", "fp32", "dram")])
def test_the_convadd_block_matches_the_direct_reference(kind, dtype, weights):
    machine, wl = load_hw(DEFAULT_HW), load_workload(BLOCK)
    s = make_schedule(machine, wl, options=RunOptions(schedule=kind, dtype=dtype, winograd=True,
                                                      winograd_weights=weights))
    assert len(s.winograd) == 1
    assert any(op.kind == "wgw" for op in s.ops) == (weights == "chip")
    found = check(s, wl, dtype, 0, machine.sram_capacity())
    assert found.ok, found.mismatches
    assert found.compared == (("y",) if kind != "serial" else ("conv_out", "y"))


def test_a_wrong_output_scale_is_caught():
    machine, wl = load_hw(DEFAULT_HW), load_workload(BLOCK)
    s = make_schedule(machine, wl, options=RunOptions(winograd=True))
    wrong = dataclasses.replace(s, winograd=(dataclasses.replace(s.winograd[0], scale=2),))
    found = check(wrong, wl, "int8", 0, machine.sram_capacity())
    assert not found.ok and "differs from the reference" in found.mismatches[0]


def test_the_gemm_multiplies_the_weights_the_wgw_op_transformed(monkeypatch):
    """On chip, U is what the wgw ops compute from the weights in SRAM: a wrong transform (U
    negated) gives a wrong output, and only the wgw ops ran it, on the weights (64 filters x 3 x 3
    x 64 channels, one chunk)."""
    machine, wl = load_hw(DEFAULT_HW), load_workload(BLOCK)
    s = make_schedule(machine, wl, options=RunOptions(winograd=True))
    seen = []

    def negated(w):
        seen.append(w.shape)
        return -transform_weights(w)
    monkeypatch.setattr(functional, "transform_weights", negated)
    found = check(s, wl, "int8", 0, machine.sram_capacity())
    assert not found.ok and "differs from the reference" in found.mismatches[0]
    assert seen == [(64, 3, 3, 64)] * sum(op.kind == "wgw" for op in s.ops) == [(64, 3, 3, 64)]


@pytest.mark.parametrize("weights", ["chip", "dram"])
def test_resnet18_matches_bit_for_bit_in_int8(weights):
    machine, wl = load_hw(DEFAULT_HW), load_workload(ROOT / "traces" / "resnet18.yaml")
    start = time.perf_counter()
    s = make_schedule(machine, wl, options=RunOptions(winograd=True, winograd_weights=weights))
    assert len(s.winograd) == 13                  # its 3x3 convs but the three of stride 2 (and conv1, 7x7)
    found = check(s, wl, "int8", 0, machine.sram_capacity())
    assert found.ok, found.mismatches
    assert time.perf_counter() - start < 30
