"""DRAM shared by every transfer, as a fluid model: events only when the set of transfers changes.

Each transfer first waits the access latency (which uses no bandwidth), then
streams its bytes. The streaming transfers share the aggregate bandwidth
equally; when one starts or finishes, the others' remaining bytes are
advanced and the next finish is rescheduled. Bytes are tracked exactly
(fractions) while SimPy time stays in whole cycles: a transfer completes at
the first whole cycle at or after its last byte. A lone transfer therefore takes exactly
`latency + ceil(bytes / bandwidth)`, and two equal transfers started
together each take `latency + ceil(2 * bytes / bandwidth)`.
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil

import simpy


class _Stream:
    __slots__ = ("done", "remaining")

    def __init__(self, nbytes: int, done: simpy.Event):
        self.remaining = Fraction(nbytes)
        self.done = done


class FluidDram:
    """Bandwidth `bytes_per_cycle` shared equally by the transfers streaming at any moment."""

    def __init__(self, env: simpy.Environment, bytes_per_cycle: Fraction, latency_cycles: int):
        self.env = env
        self.bytes_per_cycle = Fraction(bytes_per_cycle)
        self.latency_cycles = latency_cycles
        self._streams: list[_Stream] = []
        self._last_update = 0
        self._version = 0
        self.history: list[tuple[Fraction, Fraction]] = [(Fraction(0), Fraction(0))]
        """(cycle, bytes per cycle streaming from then on) after every change; exact fractions."""

    def _record(self, at: Fraction, rate: Fraction) -> None:
        if self.history[-1][0] == at:
            self.history[-1] = (at, rate)
        elif self.history[-1][1] != rate:
            self.history.append((at, rate))

    def transfer(self, nbytes: int):
        """SimPy process body: wait the latency, then stream `nbytes` at the shared rate."""
        if self.latency_cycles:
            yield self.env.timeout(self.latency_cycles)
        if nbytes <= 0:
            return
        done = self.env.event()
        self._advance()
        if not self._streams:
            self._record(Fraction(self.env.now), self.bytes_per_cycle)
        self._streams.append(_Stream(nbytes, done))
        self._reschedule()
        yield done

    def _advance(self) -> None:
        """Bring every stream's remaining bytes to now, finishing those whose last byte has gone.

        Finishes between two events are found piecewise, so the others speed up at the exact
        (fractional) moment a stream ends; its completion is signalled now, the next whole cycle.
        """
        now = self.env.now
        while self._streams:
            first = min(s.remaining for s in self._streams)
            at = self._last_update + first * len(self._streams) / self.bytes_per_cycle
            if at > now:
                break
            for stream in self._streams:
                stream.remaining -= first
            self._last_update = at
            for stream in self._streams:
                if stream.remaining == 0:
                    stream.done.succeed()
            self._streams = [s for s in self._streams if s.remaining]
            if not self._streams:
                self._record(at, Fraction(0))
        if self._streams:
            moved = (now - self._last_update) * self.bytes_per_cycle / len(self._streams)
            for stream in self._streams:
                stream.remaining -= moved
        self._last_update = now

    def _reschedule(self) -> None:
        """Wake at the first whole cycle at or after the next stream's last byte."""
        self._version += 1
        if not self._streams:
            return
        first = min(s.remaining for s in self._streams)
        at = self._last_update + first * len(self._streams) / self.bytes_per_cycle
        version = self._version
        timer = self.env.timeout(ceil(at) - self.env.now)
        timer.callbacks.append(lambda _event: self._on_timer(version))

    def _on_timer(self, version: int) -> None:
        if version == self._version:       # else the set of streams changed since it was set
            self._advance()
            self._reschedule()
