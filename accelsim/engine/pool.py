"""A counted resource with a first-come-first-served wait queue, without SimPy events.

Used for units (capacity = engines, each op takes 1) and SRAM buffers
(capacity = bytes, each op takes its bytes). A request that fits and has no
one ahead of it is granted at once; otherwise it waits, and releases grant
waiters strictly in arrival order (head-of-line blocking, as SimPy's
Container does). A granted waiter's step runs later in the same cycle.
"""

from __future__ import annotations

from collections import deque

from accelsim.engine.steps import Step, Steps


class Pool:
    """`capacity` units of something; `peak` is the most ever taken at once. With `track`,
    `history` keeps (cycle, level) after every change (the last level of each cycle)."""

    def __init__(self, steps: Steps, name: str, capacity: int, track: bool = True):
        self.steps, self.name, self.capacity = steps, name, capacity
        self.level = 0
        self.peak = 0
        self.history: list[tuple[int, int]] = [(0, 0)]
        self._track = track
        self.waiting: deque[tuple[int, Step, int]] = deque()

    def acquire(self, amount: int, step: Step, arg: int) -> bool:
        """Take `amount` now (True), or queue and return False: once it is taken,
        `step(arg)` runs as a same-cycle step."""
        level = self.level + amount
        if level > self.capacity or self.waiting:
            self.waiting.append((amount, step, arg))
            return False
        self.level = level
        if level > self.peak:
            self.peak = level
        if self._track:                         # self._record(level), inline
            now, history = self.steps.now, self.history
            if history[-1][0] == now:
                history[-1] = (now, level)
            else:
                history.append((now, level))
        return True

    def release(self, amount: int) -> None:
        self.level -= amount
        waiting = self.waiting
        while waiting and self.level + waiting[0][0] <= self.capacity:
            amount, step, arg = waiting.popleft()
            self.level += amount
            if self.level > self.peak:
                self.peak = self.level
            self.steps.soon(step, arg)
        if self._track:
            self._record(self.level)

    def _record(self, level: int) -> None:
        now, history = self.steps.now, self.history
        if history[-1][0] == now:
            history[-1] = (now, level)
        else:
            history.append((now, level))
