"""A counted resource with a first-come-first-served wait queue.

Used for units (capacity = engines, each op takes 1) and SRAM buffers
(capacity = bytes, each op takes its bytes). A request that fits and has no
one ahead of it is granted without a SimPy event; otherwise it waits, and
releases wake waiters strictly in arrival order (head-of-line blocking, as
SimPy's Container does).
"""

from __future__ import annotations

from collections import deque

import simpy


class Pool:
    def __init__(self, env: simpy.Environment, name: str, capacity: int):
        self.env, self.name, self.capacity = env, name, capacity
        self.level = 0
        self.peak = 0
        self.history: list[tuple[int, int]] = [(0, 0)]     # (cycle, level) after every change
        self._waiting: deque[tuple[int, simpy.Event]] = deque()

    def acquire(self, amount: int) -> simpy.Event | None:
        """Take `amount` now (returns None) or return an event that fires once it is taken."""
        if not self._waiting and self.level + amount <= self.capacity:
            self._take(amount)
            return None
        event = self.env.event()
        self._waiting.append((amount, event))
        return event

    def release(self, amount: int) -> None:
        self.level -= amount
        self._record()
        while self._waiting and self.level + self._waiting[0][0] <= self.capacity:
            amount, event = self._waiting.popleft()
            self._take(amount)
            event.succeed()

    def _take(self, amount: int) -> None:
        self.level += amount
        self.peak = max(self.peak, self.level)
        self._record()

    def _record(self) -> None:
        now = self.env.now
        if self.history[-1][0] == now:
            self.history[-1] = (now, self.level)
        else:
            self.history.append((now, self.level))
