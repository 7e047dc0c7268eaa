"""Same-cycle steps: the engine's zero-delay work, in SimPy's order, without a SimPy event each.

SimPy runs the events due at one cycle in the order they were scheduled, so
work that happens "now" because of an event (a unit granted, a transfer's end
noticed, a dependency met) runs after every event already due this cycle,
first come first served. `Steps` keeps exactly that order with a plain FIFO:
`soon` queues a step for this cycle, `at` schedules one SimPy timeout for a
later cycle (delays in cycles), and the queue runs once the last SimPy event
due now has run. The engine's SimPy queue thus holds only future events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import simpy
from simpy.events import Timeout

Step = Callable[[int], None]


class Steps:
    """The step queue of one simulation; every SimPy event of the engine goes through `at`."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self._queue: deque[tuple[Step, int]] = deque()

    def soon(self, step: Step, arg: int) -> None:
        """Run `step(arg)` this cycle, after the steps and events already due now."""
        self._queue.append((step, arg))

    def at(self, delay: int, step: Step, arg: int) -> None:
        """Run `step(arg)` `delay` cycles from now (0: `soon`)."""
        if delay:
            Timeout(self.env, delay, (step, arg)).callbacks.append(self._fire)   # type: ignore[union-attr]
        else:
            self._queue.append((step, arg))

    def _fire(self, event: simpy.Event) -> None:
        step, arg = event._value
        step(arg)
        if self._queue and self.env.peek() > self.env.now:
            self.run()

    def run(self) -> None:
        """Run the queued steps (and those they queue) in order, until none is left."""
        queue, popleft = self._queue, self._queue.popleft
        while queue:
            step, arg = popleft()
            step(arg)
