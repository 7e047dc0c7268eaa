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
    def __init__(self, steps: Steps, name: str, capacity: int):
        self.steps, self.name, self.capacity = steps, name, capacity
        self.level = 0
        self.peak = 0
        self.history: list[tuple[int, int]] = [(0, 0)]     # (cycle, level) after every change
        self._waiting: deque[tuple[int, Step, int]] = deque()

    def acquire(self, amount: int, step: Step, arg: int) -> bool:
        """Take `amount` now (True), or queue and return False: once it is taken,
        `step(arg)` runs as a same-cycle step."""
        if not self._waiting and self.level + amount <= self.capacity:
            self._take(amount)
            return True
        self._waiting.append((amount, step, arg))
        return False

    def release(self, amount: int) -> None:
        self.level -= amount
        self._record()
        waiting = self._waiting
        while waiting and self.level + waiting[0][0] <= self.capacity:
            amount, step, arg = waiting.popleft()
            self._take(amount)
            self.steps.soon(step, arg)

    def _take(self, amount: int) -> None:
        self.level += amount
        if self.level > self.peak:
            self.peak = self.level
        self._record()

    def _record(self) -> None:
        now = self.steps.env.now
        if self.history[-1][0] == now:
            self.history[-1] = (now, self.level)
        else:
            self.history.append((now, self.level))
