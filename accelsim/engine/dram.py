"""DRAM shared by every transfer, as a fluid model: events only when the set of transfers changes.

Each transfer first waits the access latency (the engine's timeout; it uses no
bandwidth), then streams its bytes. The streaming transfers share the
aggregate bandwidth `p/q` bytes per cycle equally; when one starts or
finishes, the others' remaining bytes are advanced and the next finish is
rescheduled (a step at that cycle; the superseded one is cancelled). Time
stays in whole cycles:
a transfer completes at the first whole cycle at or after its last byte, so a
lone transfer takes exactly `latency + ceil(bytes / bandwidth)`, and two equal
transfers started together each take `latency + ceil(2 * bytes / bandwidth)`.

Arithmetic is exact and integer: remaining bytes are kept times `q * k`, so
the DRAM moves `p * k` of these units per cycle. A share of a part cycle
(after a finish between two whole cycles) is a whole number of units once
`k` is multiplied by the number of streams where needed; `k` returns to 1
whenever DRAM idles. Finish times between whole cycles are exact fractions
(integer numerator and denominator).
"""

from __future__ import annotations

import bisect
import collections
import heapq
import itertools
from fractions import Fraction
from math import gcd

from accelsim.engine.steps import Step, Steps

_NUMERATOR = Fraction._numerator.__set__           # type: ignore[attr-defined]
_DENOMINATOR = Fraction._denominator.__set__       # type: ignore[attr-defined]


class FluidDram:
    """Bandwidth `bytes_per_cycle` shared equally by the transfers streaming at any moment."""

    def __init__(self, steps: Steps, bytes_per_cycle: Fraction, latency_cycles: int):
        rate = Fraction(bytes_per_cycle)
        self.steps = steps
        self.bytes_per_cycle = rate
        self.latency_cycles = latency_cycles
        self._p, self._q = rate.numerator, rate.denominator
        self._k = 1                         # remaining bytes are kept in units of 1 / (q * k) bytes
        self._left: list[int] = []          # per streaming transfer: units left, in start order
        self._owners: list[tuple[Step, int]] = []       # and the step its end runs
        self._last_update = 0               # whole cycle the remaining bytes are counted at
        self._wake = 0                      # the cycle _on_timer is due at (0: none)
        self._version = 0
        self.history: list[tuple[int, int, bool]] = [(0, 1, False)]
        """(cycle numerator, cycle denominator, streaming from then on) after every change."""

    def activity(self) -> tuple[tuple[Fraction, Fraction], ...]:
        """`history` as (cycle, bytes per cycle streaming from then on), exact fractions."""
        history = self.history
        cycles = list(map(object.__new__, itertools.repeat(Fraction, len(history))))
        # `history` is in lowest terms: fill each Fraction's slots (as Fraction(n, d) would)
        # without normalizing them again, one C call per slot
        collections.deque(map(_NUMERATOR, cycles, [n for n, _, _ in history]), 0)
        collections.deque(map(_DENOMINATOR, cycles, [d for _, d, _ in history]), 0)
        rates = (Fraction(0), self.bytes_per_cycle)
        return tuple(zip(cycles, [rates[on] for _, _, on in history], strict=True))

    def _record(self, num: int, den: int, streaming: bool) -> None:
        if den != 1:
            g = gcd(num, den)
            num, den = num // g, den // g
        last = self.history[-1]
        if last[0] == num and last[1] == den:
            self.history[-1] = (num, den, streaming)
        elif last[2] != streaming:
            self.history.append((num, den, streaming))

    def stream(self, nbytes: int, step: Step, arg: int) -> None:
        """Stream `nbytes` (> 0) from now on; `step(arg)` runs as a same-cycle step of the
        cycle its last byte is in (the latency is the caller's)."""
        if self._left:
            self._advance()
        if not self._left:                      # idle until now
            now = self.steps.now
            self._last_update = now
            last = self.history[-1]
            if last[0] == now and last[1] == 1:
                self.history[-1] = (now, 1, True)
            else:
                self.history.append((now, 1, True))
        self._left.append(nbytes * self._q * self._k)
        self._owners.append((step, arg))
        self._reschedule()

    def _advance(self) -> None:
        """Bring every stream's remaining bytes to now, finishing those whose last byte has gone.

        Finishes between two events are found piecewise, so the others speed up at the exact
        (fractional) moment a stream ends; its completion is signalled now, the next whole cycle.
        """
        last, now, left = self._last_update, self.steps.now, self._left
        self._last_update = now
        per_cycle = self._p * self._k
        budget = (now - last) * per_cycle       # units DRAM can move until now
        if len(left) == 1:                      # the usual case: the loop below for one stream
            if left[0] > budget:
                left[0] -= budget
                return
            budget -= left[0]
            self.steps.soon(*self._owners[0])
            self._left, self._owners = [], []
            self._record(now * per_cycle - budget, per_cycle, False)
            self._k = 1
            return
        while min(left) * len(left) <= budget:
            first = min(left)
            budget -= first * len(left)
            left = [b - first for b in left]
            owners = self._owners
            for b, (step, arg) in zip(left, owners, strict=True):
                if not b:
                    self.steps.soon(step, arg)
            self._owners = [o for b, o in zip(left, owners, strict=True) if b]
            self._left = left = [b for b in left if b]
            if not left:                        # idle since the last byte, `budget` units ago
                self._record(now * per_cycle - budget, per_cycle, False)
                self._k = 1
                return
        if budget:
            n = len(left)
            scale = n // gcd(budget, n)
            if scale > 1:                       # a whole number of units per stream
                self._k *= scale
                budget *= scale
                left = [b * scale for b in left]
            share = budget // n
            self._left = [b - share for b in left]

    def _reschedule(self) -> None:
        """Wake at the first whole cycle at or after the next stream's last byte (instead of
        when it was due before the set of streams changed)."""
        if self._wake:
            self.steps.cancel(self._wake, self._on_timer, self._version)
            self._wake = 0
        self._version += 1
        if self._left:
            steps = self.steps             # steps.at(delay >= 1, ...), inline
            self._wake = wake = steps.now - (-min(self._left) * len(self._left) // (self._p * self._k))
            due = steps.due.get(wake)
            if due is None:
                steps.due[wake] = due = []
                heapq.heappush(steps.cycles, wake)
            due.append((self._on_timer, self._version))

    def _on_timer(self, version: int) -> None:
        if version == self._version:       # else it was cancelled while due this cycle
            self._wake = 0
            self._advance()
            self._reschedule()


class PriorityDram(FluidDram):
    """The same DRAM served by strict priority instead of equal shares: the streaming transfer
    of lowest `rank[arg]` takes the whole bandwidth (preempting any other) until its last byte
    has gone; the next one starts at that exact (fractional) moment.

    With a fixed ranking, each transfer's completion is monotone in the release times: if
    every transfer ranked at or ahead of `j` starts streaming no later than in another run,
    `j` completes no later than the first moment by which all of them had completed in that
    run, whatever that run's service order (docs/model.md, "Sync by data"). Units stay
    1 / q byte (`k` is always 1): one stream at a time takes whole units per cycle."""

    def __init__(self, steps: Steps, bytes_per_cycle: Fraction, latency_cycles: int, rank: list[int]):
        super().__init__(steps, bytes_per_cycle, latency_cycles)
        self._rank = rank
        self._ranks: list[int] = []         # per streaming transfer, in rank order

    def stream(self, nbytes: int, step: Step, arg: int) -> None:
        if self._left:
            self._advance()
        if not self._left:
            self._last_update = now = self.steps.now
            self._record(now, 1, True)
        rank = self._rank[arg]
        at = bisect.bisect(self._ranks, rank)
        self._ranks.insert(at, rank)
        self._left.insert(at, nbytes * self._q)
        self._owners.insert(at, (step, arg))
        self._reschedule()

    def _advance(self) -> None:
        """Serve the streams in rank order with every unit DRAM could move since the last
        update; those whose last byte has gone finish (signalled now)."""
        last, now, left = self._last_update, self.steps.now, self._left
        self._last_update = now
        budget = (now - last) * self._p
        done = 0
        while done < len(left) and left[done] <= budget:
            budget -= left[done]
            self.steps.soon(*self._owners[done])
            done += 1
        if done:
            del left[:done], self._owners[:done], self._ranks[:done]
        if left:
            left[0] -= budget
        else:                               # idle since the last byte, `budget` units ago
            self._record(now * self._p - budget, self._p, False)

    def _reschedule(self) -> None:
        if self._wake:
            self.steps.cancel(self._wake, self._on_timer, self._version)
            self._wake = 0
        self._version += 1
        if self._left:
            self._wake = self.steps.now - (-self._left[0] // self._p)
            self.steps.at(self._wake - self.steps.now, self._on_timer, self._version)
