"""The fluid DRAM model against hand-computed finish times."""

from fractions import Fraction

import simpy

from accelsim.cost import transfer_cycles
from accelsim.engine.dram import FluidDram


def finish_times(bytes_per_cycle, latency, transfers):
    """Run (start_cycle, nbytes) transfers; return each one's finish cycle."""
    env = simpy.Environment()
    dram = FluidDram(env, Fraction(bytes_per_cycle), latency)
    ends = {}

    def one(i, start, nbytes):
        yield env.timeout(start)
        yield from dram.transfer(nbytes)
        ends[i] = env.now

    for i, (start, nbytes) in enumerate(transfers):
        env.process(one(i, start, nbytes))
    env.run()
    return [ends[i] for i in range(len(transfers))]


def test_lone_transfer_takes_latency_plus_bytes_over_bandwidth():
    assert finish_times(16, 100, [(0, 1600)]) == [200] == [transfer_cycles(1600, 16, 100)]
    assert finish_times(16, 100, [(0, 1601)]) == [201] == [transfer_cycles(1601, 16, 100)]


def test_two_equal_concurrent_transfers_each_take_twice_the_transfer_part():
    assert finish_times(16, 100, [(0, 1600), (0, 1600)]) == [300, 300]
    # Bytes are shared exactly and rounded once: 2 x 1601 B at 16 B/cycle is 200.125
    # cycles of streaming, so both end at 100 + 201 (not 100 + 2 x ceil(1601 / 16) = 302).
    assert finish_times(16, 100, [(0, 1601), (0, 1601)]) == [301, 301]


def test_staggered_transfers_share_bandwidth_only_while_both_stream():
    # A: 1600 B from 0; B: 800 B from 50 (no latency). A alone 0-50: 800 B left.
    # Both at 8 B/cycle: B's 800 B and A's 800 B both end at 50 + 100 = 150.
    assert finish_times(16, 0, [(0, 1600), (50, 800)]) == [150, 150]
    # B of 400 B: ends at 50 + 400/8 = 100; A then has 400 B left at 16 B/cycle: 125.
    assert finish_times(16, 0, [(0, 1600), (50, 400)]) == [125, 100]


def test_latency_does_not_use_bandwidth():
    # A streams 100..200 alone; B's latency (100..200) overlaps it without slowing it,
    # then B streams 200..300 alone.
    assert finish_times(16, 100, [(0, 1600), (100, 1600)]) == [200, 300]


def test_fractional_bandwidth_is_exact():
    # 12.8 B/cycle: 128 B take exactly 10 cycles; three at once take 30.
    assert finish_times(Fraction("12.8"), 0, [(0, 128)]) == [10]
    assert finish_times(Fraction("12.8"), 0, [(0, 128)] * 3) == [30, 30, 30]
