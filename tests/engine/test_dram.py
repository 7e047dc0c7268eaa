"""The fluid DRAM model against hand-computed finish times and an exact reference."""

import itertools
import random
from fractions import Fraction
from math import ceil

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.cost import transfer_cycles
from accelsim.engine.dram import FluidDram, PriorityDram
from accelsim.engine.steps import Steps


def run(bytes_per_cycle, latency, transfers, rank=None):
    """Run (start_cycle, nbytes) transfers; return each one's finish cycle and the DRAM
    (served by strict priority, lowest `rank[i]` first, when `rank` is given). The DRAM's
    `order` lists the transfers in the order they finished."""
    env = simpy.Environment()
    steps = Steps(env)
    rate = Fraction(bytes_per_cycle)
    dram = FluidDram(steps, rate, latency) if rank is None else PriorityDram(steps, rate, latency, rank)
    dram.order = []
    ends = {}

    def done(i):
        ends[i] = env.now
        dram.order.append(i)

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


def priority_reference(bytes_per_cycle, latency, transfers, rank):
    """Exact strict priority with Fractions: the streaming transfer of lowest rank takes the
    whole bandwidth; each ends at the first whole cycle at or after its last byte."""
    rate = Fraction(bytes_per_cycle)
    arrivals = sorted((start + latency, i) for i, (start, _) in enumerate(transfers))
    left: dict[int, Fraction] = {}
    ends, t = {}, Fraction(0)
    while arrivals or left:
        if left:
            head = min(left, key=rank.__getitem__)
            finish = t + left[head] / rate
            if not arrivals or finish <= arrivals[0][0]:
                ends[head] = ceil(finish)
                del left[head]
                t = finish
                continue
            left[head] -= (arrivals[0][0] - t) * rate
        start, i = arrivals.pop(0)
        t = Fraction(start)
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


def test_priority_gives_the_whole_bandwidth_to_the_first_ranked_transfer():
    # A (rank 1): 1600 B from 0; B (rank 0): 320 B from 50. A alone 0-50 moves 800 B; B
    # preempts it and takes 320 / 16 = 20 cycles: 70; A's 800 B left take 50: 120.
    # (Shared equally, B would end at 50 + 320 / 8 = 90 and A at 120 too.)
    assert finish_times(16, 0, [(0, 1600), (50, 320)]) == [120, 90]
    assert run(16, 0, [(0, 1600), (50, 320)], rank=[1, 0])[0] == [120, 70]
    # the same ranked the other way round: B waits for A (100), then streams 20 cycles
    assert run(16, 0, [(0, 1600), (50, 320)], rank=[0, 1])[0] == [100, 120]


def test_priority_hands_over_at_the_exact_moment_and_rounds_once():
    # 12.8 B/cycle, two 100 B transfers from 0: the first's last byte at 7.8125 (-> 8), the
    # second's at 15.625 (-> 16, not 8 + 8); DRAM streams from 0 to exactly 15.625
    ends, dram = run(Fraction("12.8"), 0, [(0, 100), (0, 100)], rank=[0, 1])
    assert ends == [8, 16]
    assert dram.activity() == ((0, Fraction("12.8")), (Fraction(125, 8), 0))


def test_random_priority_transfers_match_the_exact_reference():
    rnd = random.Random(12)
    for _ in range(300):
        rate = rnd.choice([Fraction("12.8"), Fraction("4.3"), Fraction(16), Fraction(7, 3), Fraction(1, 3)])
        latency = rnd.choice([0, 3, 100])
        transfers = [(rnd.randint(0, 60), rnd.randint(1, 400)) for _ in range(rnd.randint(1, 6))]
        rank = rnd.sample(range(len(transfers)), len(transfers))
        assert run(rate, latency, transfers, rank)[0] == priority_reference(rate, latency, transfers, rank)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 80), st.integers(1, 500), st.integers(0, 80)),   # start, B, sooner
                min_size=1, max_size=7),
       st.sampled_from([Fraction("12.8"), Fraction(16), Fraction(7, 3)]), st.sampled_from([0, 5]))
def test_priority_by_a_runs_finish_order_never_finishes_a_transfer_later(drawn, rate, latency):
    # The lemma of docs/model.md ("Sync by data"): ranked in the order they finished when
    # shared equally, and each released no later, every transfer finishes no later.
    shared = [(start, nbytes) for start, nbytes, _ in drawn]
    ends, dram = run(rate, latency, shared)
    rank = [0] * len(shared)
    for r, i in enumerate(dram.order):
        rank[i] = r
    earlier = [(max(0, start - sooner), nbytes) for start, nbytes, sooner in drawn]
    assert all(map(int.__le__, run(rate, latency, earlier, rank)[0], ends))
