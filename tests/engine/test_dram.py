"""The fluid DRAM model against hand-computed finish times and an exact reference."""

import itertools
import random
from fractions import Fraction
from math import ceil

import simpy

from accelsim.cost import transfer_cycles
from accelsim.engine.dram import FluidDram
from accelsim.engine.steps import Steps


def run(bytes_per_cycle, latency, transfers):
    """Run (start_cycle, nbytes) transfers; return each one's finish cycle and the DRAM."""
    env = simpy.Environment()
    steps = Steps(env)
    dram = FluidDram(steps, Fraction(bytes_per_cycle), latency)
    ends = {}

    def done(i):
        ends[i] = env.now

    def begin(i):
        dram.stream(transfers[i][1], done, i)

    for i, (start, _) in enumerate(transfers):
        steps.at(start + latency, begin, i)
    steps.run()
    env.run()
    return [ends[i] for i in range(len(transfers))], dram


def finish_times(bytes_per_cycle, latency, transfers):
    return run(bytes_per_cycle, latency, transfers)[0]


def reference(bytes_per_cycle, latency, transfers):
    """Exact processor sharing with Fractions, event by event: each transfer ends at the
    first whole cycle at or after its last byte."""
    rate = Fraction(bytes_per_cycle)
    arrivals = sorted((start + latency, i) for i, (start, _) in enumerate(transfers))
    left: dict[int, Fraction] = {}
    ends, t = {}, Fraction(0)
    while arrivals or left:
        next_arrival = arrivals[0][0] if arrivals else None
        if left:
            first = min(left.values())
            finish = t + first * len(left) / rate
            if next_arrival is None or finish <= next_arrival:
                for i in left:
                    left[i] -= first
                ends.update((i, ceil(finish)) for i, b in left.items() if b == 0)
                left = {i: b for i, b in left.items() if b}
                t = finish
                continue
            for i in left:
                left[i] -= (next_arrival - t) * rate / len(left)
        t = Fraction(next_arrival)
        _, i = arrivals.pop(0)
        left[i] = Fraction(transfers[i][1])
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


def test_fractional_bandwidth_rounds_up_once_at_the_last_byte():
    # 100 B at 12.8 B/cycle: 7.8125 cycles -> 8; two at once: 15.625 -> 16 (not 2 x 8).
    assert finish_times(Fraction("12.8"), 5, [(0, 100)]) == [13] == [transfer_cycles(100, 12.8, 5)]
    assert finish_times(Fraction("12.8"), 5, [(0, 100), (0, 100)]) == [21, 21]
    # 1 B among three ends at 3 / 12.8 of a cycle -> cycle 1; the other two then have
    # 99 B each at 6.4 B/cycle: 0.234375 + 15.46875 = 15.703125 -> 16.
    assert finish_times(Fraction("12.8"), 0, [(0, 1), (0, 100), (0, 100)]) == [1, 16, 16]


def test_random_transfers_match_the_exact_reference():
    rnd = random.Random(11)
    for _ in range(300):
        rate = rnd.choice([Fraction("12.8"), Fraction("4.3"), Fraction(16), Fraction(7, 3), Fraction(1, 3)])
        latency = rnd.choice([0, 3, 100])
        transfers = [(rnd.randint(0, 60), rnd.randint(1, 400)) for _ in range(rnd.randint(1, 6))]
        assert finish_times(rate, latency, transfers) == reference(rate, latency, transfers)


def test_activity_is_the_bandwidth_while_any_transfer_streams_and_integrates_to_the_bytes():
    # A streams 0..100 (1600 B at 16 B/cycle), B's 8 B from 200 end at 200.5: activity
    # shows the busy spans, their ends exact fractions.
    _, dram = run(16, 0, [(0, 1600), (200, 8)])
    assert dram.activity() == ((0, 16), (100, 0), (200, 16), (Fraction(401, 2), 0))
    rnd = random.Random(5)
    transfers = [(rnd.randint(0, 500), rnd.randint(1, 900)) for _ in range(40)]
    _, dram = run(Fraction("4.3"), 7, transfers)
    steps = dram.activity()
    moved = sum((t1 - t0) * r for (t0, r), (t1, _) in itertools.pairwise(steps))
    assert moved == sum(n for _, n in transfers) and steps[-1][1] == 0
