"""Schedule search (`--search`): per layer or depth-first group, the tiling (and fusion depth)
with the least simulated cycles, energy or a weighted mix of both, instead of the greedy
fewest-tiles-that-fit choice.

With barrier sync, layers take disjoint stages and every stage waits for the one before, so a
run's cycles and energy are the sums of its layers' (`run_schedule` of each layer's ops
alone: the engine, exact). The search therefore picks each layer's candidate on its own, and
along a chain of convs (depth first) the partition into groups whose sum is least (dynamic
programming over where groups end). A candidate whose closed-form lower bound
(`cycles_bound`) is no less than the best cycles simulated so far is not simulated (cycles
objective only: energy has no such bound here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import ceil

from accelsim.dtypes import Widths
from accelsim.engine.machine import run_schedule
from accelsim.hw import Hardware
from accelsim.schedule import Op, Schedule
from accelsim.scheduler.depthfirst import Group
from accelsim.timing import compute_op_cycles, transfer_bytes
from accelsim.units import moves_data

OBJECTIVES = ("cycles", "energy", "mix")

Built = tuple[list[Op], int, list]      # (ops, stages, plans) of one layer or group


@dataclass(frozen=True)
class Candidate:
    """One way to schedule a layer or group: `label` says how; `make(first)` builds its ops
    (and plans) from stage `first`; `greedy` marks the choice made without search."""

    label: str
    make: Callable[[int], Built]
    greedy: bool = False
    group: Group | None = None        # the depth-first group it builds, if it builds one


@dataclass(frozen=True)
class Tried:
    """A candidate the search looked at: its closed-form lower bound (cycles), and its
    simulated cycles and energy (pJ), None when the bound pruned it."""

    item: str
    label: str
    bound: int
    cycles: int | None
    energy_pj: float | None
    greedy: bool


def cycles_bound(ops: Sequence[Op], hw: Hardware, widths: Widths, macs_per_pe: int,
                 known: dict | None = None) -> int:
    """A lower bound on the cycles of `ops` run with barriers: per stage, its barrier plus the
    most of (each compute unit's op cycles back to back; the DRAM bytes at the full bandwidth;
    the longest transfer alone, latency included). Zero-cost transfers on ideal memory.
    `known`: compute op cycles by `Op.facts.cycles_key`, kept across calls."""
    known = {} if known is None else known
    per_stage: dict[int, dict[str, int]] = {}      # stage -> unit's cycles, DRAM bytes, largest transfer
    for op in ops:
        busy = per_stage.setdefault(op.stage, {})
        if moves_data(op.unit):
            moved = transfer_bytes(op, widths)
            busy["bytes"] = busy.get("bytes", 0) + moved
            busy["largest"] = max(busy.get("largest", 0), moved)
        else:
            key = op.facts.cycles_key
            cycles = known.get(key)
            if cycles is None:
                cycles = known[key] = compute_op_cycles(op, hw, widths, macs_per_pe)
            busy[op.unit] = busy.get(op.unit, 0) + cycles
    rate = hw.dram.bytes_per_cycle
    total = 0
    for busy in per_stage.values():
        moved, largest = busy.pop("bytes", 0), busy.pop("largest", 0)
        if not hw.ideal_memory and moved:
            busy["dram"] = max(ceil(moved / rate), hw.dram.latency_cycles + ceil(largest / rate))
        total += max(busy.values(), default=0) + hw.barrier_cycles
    return total


class Search:
    """Evaluates candidates (each alone, with barriers) and keeps what it tried."""

    def __init__(self, hw: Hardware, workload: str, dtype: str, widths: Widths, macs_per_pe: int,
                 objective: str = "cycles"):
        self.hw, self.workload, self.dtype, self.widths = hw, workload, dtype, widths
        self.macs_per_pe, self.objective = macs_per_pe, objective
        self.tried: list[Tried] = []
        self._cycles: dict = {}                 # compute op cycles by facts (`cycles_bound`)

    def run(self, ops: list[Op]) -> tuple[int, float]:
        """(cycles, energy in pJ) of `ops` alone, with barriers."""
        schedule = Schedule("search", self.workload, None, tuple(sorted(ops, key=lambda op: op.stage)),
                            dtype=self.dtype, widths=self.widths)
        result = run_schedule(self.hw, schedule)
        return result.total_cycles, float(result.energy_pj or 0.0)

    def measure(self, item: str, candidates: Sequence[Candidate]) -> list[tuple[Candidate, int, float]]:
        """(candidate, cycles, energy) of each candidate not pruned, the greedy one first;
        for the cycles objective, those whose bound is no less than the best so far are pruned."""
        out: list[tuple[Candidate, int, float]] = []
        best: int | None = None
        built = [(cand, ops := cand.make(0)[0], cycles_bound(ops, self.hw, self.widths, self.macs_per_pe,
                                                             self._cycles)) for cand in candidates]
        for cand, ops, bound in sorted(built, key=lambda c: (not c[0].greedy, c[2])):   # least bound first
            if self.objective == "cycles" and best is not None and bound >= best:
                self.tried.append(Tried(item, cand.label, bound, None, None, cand.greedy))
                continue
            cycles, energy = self.run(ops)
            self.tried.append(Tried(item, cand.label, bound, cycles, energy, cand.greedy))
            out.append((cand, cycles, energy))
            best = cycles if best is None else min(best, cycles)
        return out


def score(objective: str, cycles: int, energy: float, scale: tuple[int, float], weight: float = 0.5) -> float:
    """What the search minimises: cycles, energy (pJ), or `weight` x cycles / scale[0] +
    (1 - weight) x energy / scale[1] (`scale`: the greedy run's totals, so both count alike)."""
    if objective == "cycles":
        return cycles
    if objective == "energy":
        return energy
    return weight * cycles / max(scale[0], 1) + (1 - weight) * energy / max(scale[1], 1.0)
