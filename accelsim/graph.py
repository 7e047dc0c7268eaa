"""The one topological sort: workload ops by their tensors, fused layers by their inputs,
schedule-file ops by their dependencies."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence


def topological_order(preds: Sequence[Iterable[int]],
                      priority: Callable[[int], object] = lambda i: i) -> tuple[list[int], list[int]]:
    """Indices `0 .. len(preds)-1` ordered so each comes after every index in `preds[i]`;
    of those ready, the least `(priority(i), i)` first. Returns the order and the indices
    left over, which wait on a cycle (in index order). O((nodes + edges) log nodes)."""
    waiting = [len(set(p)) for p in preds]
    users: list[list[int]] = [[] for _ in preds]
    for i, p in enumerate(preds):
        for j in set(p):
            users[j].append(i)
    ready = [(priority(i), i) for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, (priority(u), u))
    return order, [i for i, n in enumerate(waiting) if n > 0]
