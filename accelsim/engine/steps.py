"""When the engine's work runs: a FIFO of same-cycle steps, and a calendar of later cycles.

SimPy runs the events due at one cycle in the order they were scheduled, so
work that happens "now" because of an event (a unit granted, a transfer's end
noticed, a dependency met) runs after every event already due this cycle,
first come first served. `Steps` keeps exactly that order without a SimPy
event per step: `soon` queues a step for this cycle; `at` queues one for a
later cycle (delays in cycles) in that cycle's list. When a cycle's work is
done, one SimPy timeout is set for the next cycle at which work is due; it
runs that cycle's list in order, then the same-cycle queue until it is
empty. So SimPy holds one event at a time, and each cycle with work costs
one: a step cancelled before its cycle (`cancel`) costs none.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable

import simpy
from simpy.events import Timeout

Step = Callable[[int], None]


class Steps:
    """The steps of one simulation; `now` is the current cycle."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.now = 0
        self._queue: deque[tuple[Step, int]] = deque()
        self.due: dict[int, list[tuple[Step, int]]] = {}      # cycle -> steps, in order
        self.cycles: list[int] = []         # heap of the cycles in `due` (and some cancelled)

    def soon(self, step: Step, arg: int) -> None:
        """Run `step(arg)` this cycle, after the steps already due now."""
        self._queue.append((step, arg))

    def at(self, delay: int, step: Step, arg: int) -> None:
        """Run `step(arg)` `delay` cycles from now (0: `soon`)."""
        if not delay:
            self._queue.append((step, arg))
            return
        cycle = self.now + delay
        due = self.due.get(cycle)
        if due is None:
            self.due[cycle] = due = []
            heapq.heappush(self.cycles, cycle)
        due.append((step, arg))

    def cancel(self, cycle: int, step: Step, arg: int) -> None:
        """Forget `step(arg)`, queued by `at` for `cycle`, if that cycle is still to come
        (a step due this cycle still runs: it must see that it was cancelled)."""
        due = self.due.get(cycle)
        if due is not None:
            due.remove((step, arg))
            if not due:
                del self.due[cycle]

    def run(self) -> None:
        """Run the queued steps (and those they queue) in order until none is left, then
        set the SimPy timeout for the next cycle at which work is due."""
        queue, popleft = self._queue, self._queue.popleft
        while queue:
            step, arg = popleft()
            step(arg)
        cycles, due = self.cycles, self.due
        while cycles:
            if cycles[0] in due:
                Timeout(self.env, cycles[0] - self.now).callbacks.append(self._fire)  # type: ignore[union-attr]
                return
            heapq.heappop(cycles)           # all its steps were cancelled

    def _fire(self, _event: simpy.Event) -> None:
        """The next cycle with work: its steps in order, then the same-cycle queue (`run`)."""
        self.now = cycle = heapq.heappop(self.cycles)
        for step, arg in self.due.pop(cycle):
            step(arg)
        self.run()
