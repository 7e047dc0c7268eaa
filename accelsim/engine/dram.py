"""DRAM shared by every transfer, as a fluid model: events only when the set of transfers changes.

Each transfer first waits the access latency (the engine's timeout; it uses no
bandwidth), then streams its bytes. The streaming transfers share the
aggregate bandwidth `p/q` bytes per cycle equally; when one starts or
finishes, the others' remaining bytes are advanced and the next finish is
rescheduled (one SimPy timeout per change). SimPy time stays in whole cycles:
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

from fractions import Fraction
from math import gcd

from accelsim.engine.steps import Step, Steps


class _Stream:
    __slots__ = ("arg", "remaining", "step")

    def __init__(self, remaining: int, step: Step, arg: int):
        self.remaining, self.step, self.arg = remaining, step, arg


class FluidDram:
    """Bandwidth `bytes_per_cycle` shared equally by the transfers streaming at any moment."""

    def __init__(self, steps: Steps, bytes_per_cycle: Fraction, latency_cycles: int):
        rate = Fraction(bytes_per_cycle)
        self.steps = steps
        self.bytes_per_cycle = rate
        self.latency_cycles = latency_cycles
        self._p, self._q = rate.numerator, rate.denominator
        self._k = 1                         # remaining bytes are kept in units of 1 / (q * k) bytes
        self._streams: list[_Stream] = []
        self._last_update = 0               # whole cycle the remaining bytes are counted at
        self._version = 0
        self.history: list[tuple[int, int, bool]] = [(0, 1, False)]
        """(cycle numerator, cycle denominator, streaming from then on) after every change."""

    def activity(self) -> tuple[tuple[Fraction, Fraction], ...]:
        """`history` as (cycle, bytes per cycle streaming from then on), exact fractions."""
        zero = Fraction(0)
        return tuple((Fraction(n, d), self.bytes_per_cycle if on else zero) for n, d, on in self.history)

    def _record(self, num: int, den: int, streaming: bool) -> None:
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
        self._advance()
        if not self._streams:
            self._record(self.steps.env.now, 1, True)
        self._streams.append(_Stream(nbytes * self._q * self._k, step, arg))
        self._reschedule()

    def _advance(self) -> None:
        """Bring every stream's remaining bytes to now, finishing those whose last byte has gone.

        Finishes between two events are found piecewise, so the others speed up at the exact
        (fractional) moment a stream ends; its completion is signalled now, the next whole cycle.
        """
        now = self.steps.env.now
        streams = self._streams
        if streams:
            per_cycle = self._p * self._k
            budget = (now - self._last_update) * per_cycle     # units DRAM can move until now
            spent = 0
            while streams:
                first = min(s.remaining for s in streams)
                need = first * len(streams)
                if need > budget:
                    break
                budget -= need
                spent += need
                for s in streams:
                    s.remaining -= first
                    if not s.remaining:
                        self.steps.soon(s.step, s.arg)
                streams = [s for s in streams if s.remaining]
                if not streams:
                    self._record(self._last_update * per_cycle + spent, per_cycle, False)
                    self._k = 1
            if streams and budget:
                n = len(streams)
                scale = n // gcd(budget, n)
                if scale > 1:                   # a whole number of units per stream
                    self._k *= scale
                    budget *= scale
                    for s in streams:
                        s.remaining *= scale
                share = budget // n
                for s in streams:
                    s.remaining -= share
            self._streams = streams
        self._last_update = now

    def _reschedule(self) -> None:
        """Wake at the first whole cycle at or after the next stream's last byte."""
        self._version += 1
        if self._streams:
            first = min(s.remaining for s in self._streams)
            delay = -(-first * len(self._streams) // (self._p * self._k))
            self.steps.at(delay, self._on_timer, self._version)

    def _on_timer(self, version: int) -> None:
        if version == self._version:       # else the set of streams changed since it was set
            self._advance()
            self._reschedule()
