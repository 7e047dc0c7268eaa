"""The Result of a simulation, and the one definition of each number it reports.

- total_cycles: from the start of stage 0 to the end of the last barrier.
- busy_cycles of a unit: cycles in which at least one of its ops is in progress
  (for the DMA unit: at least one transfer in flight, latency included).
- utilization of a unit: busy_cycles / total_cycles.
- array_utilization: MACs / (rows * cols * total_cycles), the fraction of the
  systolic array's peak MAC rate achieved over the whole run.
- dram read/write bytes: bytes moved by load / store ops.
- sram_peak_bytes: most bytes reserved in each SRAM buffer at any moment.
- sram_occupancy: per buffer, (cycle, bytes reserved) after every change (not in the JSON).
- dram_activity: (cycle, bytes per cycle DRAM streams from then on) after every change,
  exact fractions; its integral over the run is dram read + write bytes (not in the JSON).
- time_split: total cycles as compute + memory (stall) + barrier; see Result.time_split.
- energy_pj, energy_breakdown_pj (mac, sram, dram, add, static), per layer energy_pj: counted
  from the schedule's actions (accelsim/energy.py); None without the hardware's energy table.
- area_mm2: the machine's area (accelsim/area.py); None without its area table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from operator import attrgetter

from accelsim.area import area_mm2
from accelsim.energy import Energy, Prices, prices, run_energy
from accelsim.hw import Hardware
from accelsim.layout import ConcatLayout
from accelsim.schedule import Schedule
from accelsim.units import UNITS, moves_data


@dataclass(frozen=True, slots=True)
class OpRecord:
    """When one op ran: `[start, end)` in cycles."""

    id: str
    kind: str
    unit: str
    stage: int
    start: int
    end: int
    bytes: int = 0          # DRAM bytes a load or store moved
    macs: int = 0           # multiply-accumulates of a conv
    layer: str = ""         # the op's layer (Op.layer)
    tile: int | None = None  # its tile of that layer, 1-based (None: shared, e.g. weights)

    @property
    def cycles(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Stage:
    """One stage of a barrier-synced run: opens at `open`, its last op ends at `close`,
    the next stage may open at `close + barrier` (cycles)."""

    index: int
    open: int
    close: int
    barrier: int


@dataclass(frozen=True)
class UnitStats:
    busy_cycles: int
    utilization: float


@dataclass(frozen=True)
class LayerStats:
    """One layer's figures: its op kinds, `[start, end)` in cycles from its first op's start
    to its last op's end, busy cycles and utilization per unit over that span, DRAM bytes,
    MACs, its roofline bound in cycles (max(MACs / (PEs x MACs per PE per cycle in the run's
    datatype), DRAM bytes / bandwidth); `compute_bound` when the first is the larger) and where
    its stages' cycles go (`Result.time_split`; None when synced by data); its energy, pJ,
    per action and in total (None without an energy table)."""

    name: str
    kinds: tuple[str, ...]
    start: int
    end: int
    units: dict[str, UnitStats]
    dram_read_bytes: int
    dram_write_bytes: int
    macs: int
    bound_cycles: int
    time_split: dict[str, int] | None
    energy_breakdown_pj: dict[str, Fraction] | None = None
    compute_bound: bool = False
    performed_macs: int | None = None   # what the array performs of `macs` (None: all, nothing skipped)

    @property
    def array_macs(self) -> int:
        """The MACs the array performs: `macs` less what it skips (N:M weights, zero activations)."""
        return self.macs if self.performed_macs is None else self.performed_macs

    @property
    def cycles(self) -> int:
        return self.end - self.start

    @property
    def energy_pj(self) -> Fraction | None:
        """Its energy, pJ: the sum of its breakdown."""
        if self.energy_breakdown_pj is None:
            return None
        return sum(self.energy_breakdown_pj.values(), Fraction(0))

    @property
    def pj_per_mac(self) -> float | None:
        """Its energy per MAC, pJ (None without energy or MACs)."""
        energy = self.energy_pj
        return None if energy is None or not self.macs else float(energy / self.macs)

    @property
    def dram_bytes(self) -> int:
        return self.dram_read_bytes + self.dram_write_bytes

    def to_dict(self) -> dict:
        """The layer as `--json` prints it under `layers`."""
        return {"name": self.name, "kinds": list(self.kinds), "start": self.start, "end": self.end,
                "cycles": self.cycles,
                "units": {u: {"busy_cycles": s.busy_cycles, "utilization": s.utilization}
                          for u, s in self.units.items()},
                "dram_read_bytes": self.dram_read_bytes, "dram_write_bytes": self.dram_write_bytes,
                "macs": self.macs, "bound_cycles": self.bound_cycles, "compute_bound": self.compute_bound,
                "time_split": self.time_split,
                "energy_pj": _float(self.energy_pj), "energy_breakdown_pj": _floats(self.energy_breakdown_pj)}


@dataclass(frozen=True)
class Result:
    workload: str
    schedule: str
    splits: int | None
    total_cycles: int
    units: dict[str, UnitStats]
    ops: tuple[OpRecord, ...]
    dram_read_bytes: int
    dram_write_bytes: int
    sram_peak_bytes: dict[str, int]
    macs: int
    hw: Hardware
    sync: str = "barrier"
    sram_occupancy: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    dram_activity: tuple[tuple[Fraction, Fraction], ...] = ()
    tiles: int = 0          # tiles computed (Schedule.tiles)
    dtype: str = "int8"     # the run's datatype (Schedule.dtype)
    concats: tuple[ConcatLayout, ...] = ()      # per concat, which inputs it copies (Schedule.concats)
    schedule_run: Schedule | None = field(default=None, repr=False, compare=False)  # what ran (for energy)
    energy_prices: Prices | None = field(default=None, repr=False, compare=False)   # energy table entries

    @property
    def time_us(self) -> float:
        """Wall time on the chip, microseconds, at the configured clock."""
        return self.total_cycles / self.hw.clock_mhz

    @property
    def dram_bytes(self) -> int:
        """Bytes moved across DRAM, read and written."""
        return self.dram_read_bytes + self.dram_write_bytes

    @cached_property
    def _skipping(self) -> dict[str, int]:
        """Op id -> the MACs the array performs of its GEMM, for the ops whose array skips
        products (N:M weights, zero activations: `Op.array_macs`); every other op performs its
        `macs`."""
        if self.schedule_run is None:
            return {}
        return {op.id: op.array_macs for op in self.schedule_run.ops
                if op.gemm is not None and op.gemm.skip is not None}

    def _performed(self, records) -> int:
        skipping = self._skipping
        return sum(skipping.get(r.id, r.macs) for r in records)

    @property
    def performed_macs(self) -> int:
        """MACs the array performs: `macs` less the products it skips."""
        return self._performed(self.ops) if self._skipping else self.macs

    @property
    def array_utilization(self) -> float:
        """Performed MACs over the array's R x C PEs and the run's cycles."""
        sa = self.hw.systolic_array
        return self.performed_macs / (sa.rows * sa.cols * self.total_cycles) if self.total_cycles else 0.0

    @cached_property
    def energy(self) -> Energy | None:
        """The run's energy, counted from the schedule that ran when first asked for (one pass
        over its ops, 2 to 5 us an op, kept out of the engine's time; the table's entries were
        looked up, and a missing one refused, when the Result was built); None when the
        hardware has no energy table or the Result was built without its schedule."""
        if self.schedule_run is None or self.energy_prices is None:
            return None
        return run_energy(self.hw, self.schedule_run, self.ops, self.total_cycles, self.energy_prices)

    @property
    def energy_pj(self) -> Fraction | None:
        """The run's energy, pJ (None without an energy table)."""
        return None if self.energy is None else self.energy.total

    @property
    def energy_breakdown_pj(self) -> dict[str, Fraction] | None:
        """The run's energy per action (mac, sram, dram, add, static), pJ."""
        return None if self.energy is None else dict(self.energy.breakdown)

    @property
    def pj_per_mac(self) -> float | None:
        """Energy per MAC, pJ: the whole run's energy (memory and static too) / its MACs."""
        energy = self.energy_pj
        return None if energy is None or not self.macs else float(energy / self.macs)

    @property
    def area_mm2(self) -> Fraction | None:
        """The machine's area, mm^2 (None without an area table)."""
        return area_mm2(self.hw)

    @property
    def networked(self) -> bool:
        """Whether the run has more than one layer (then views group its ops by layer)."""
        first = self.ops[0].layer if self.ops else ""
        return any(r.layer != first for r in self.ops)

    def op(self, op_id: str) -> OpRecord:
        """The first record of op `op_id` (StopIteration when there is none)."""
        if op_id not in self._op_index:
            raise StopIteration
        return self.ops[self._op_index[op_id]]

    @cached_property
    def _op_index(self) -> dict[str, int]:
        index: dict[str, int] = {}
        for i, r in enumerate(self.ops):
            index.setdefault(r.id, i)
        return index

    def stages(self) -> list[Stage]:
        """The stages that ran (stages without ops take no time), in order; [] when synced by data."""
        return list(self._stages.values())

    @cached_property
    def _stages(self) -> dict[int, Stage]:
        """`stages()` by stage index, worked out once."""
        if self.sync != "barrier":
            return {}
        closes: dict[int, int] = {}
        for r in self.ops:
            closes[r.stage] = max(closes.get(r.stage, 0), r.end)
        out, t, b = {}, 0, self.hw.barrier_cycles
        for s in sorted(closes):
            out[s] = Stage(s, t, closes[s], b)
            t = closes[s] + b
        return out

    def time_split(self, records: list[OpRecord] | None = None) -> dict[str, int] | None:
        """Where the cycles of a barrier-synced run (or of some of its stages) go, summing
        to their total: per stage, `compute` is its longest compute op (up to the stage's
        length), `memory` the rest of the stage (waiting for transfers), `barrier` the
        barrier after it. None for a run synced by data dependencies."""
        if self.sync != "barrier":
            return None
        spans = self._stages
        longest: dict[int, int] = {}
        for r in self.ops if records is None else records:
            longest.setdefault(r.stage, 0)
            if not moves_data(r.unit):
                longest[r.stage] = max(longest[r.stage], r.cycles)
        split = {"compute": 0, "memory": 0, "barrier": 0}
        for stage, compute in longest.items():
            span = spans[stage].close - spans[stage].open
            split["compute"] += min(compute, span)
            split["memory"] += span - min(compute, span)
            split["barrier"] += self.hw.barrier_cycles
        return split

    def layers(self) -> list[LayerStats]:
        """Per layer (ops grouped by `OpRecord.layer`, in order of first start), its figures."""
        groups: dict[str, list[OpRecord]] = {}
        for r in sorted(self.ops, key=lambda r: (r.start, r.stage)):
            groups.setdefault(r.layer, []).append(r)
        layers = self.energy.layers if self.energy is not None else None
        return [self._layer_stats(name, recs, None if layers is None else dict(layers[name]))
                for name, recs in groups.items()]

    def overall(self) -> LayerStats:
        """The whole run's figures as one layer named after the workload (what the per-layer
        views show for a run of one layer)."""
        return self._layer_stats(self.workload, list(self.ops), self.energy_breakdown_pj)

    def _layer_stats(self, name: str, recs: list[OpRecord],
                     energy: dict[str, Fraction] | None = None) -> LayerStats:
        start, end = min(r.start for r in recs), max(r.end for r in recs)
        cycles = end - start
        read = sum(r.bytes for r in recs if r.kind == "load")
        write = sum(r.bytes for r in recs if r.kind == "store")
        macs = sum(r.macs for r in recs)
        performed = self._performed(recs) if self._skipping else macs
        hw, sa = self.hw, self.hw.systolic_array
        memory = 0 if hw.ideal_memory else -(-(read + write) // hw.dram.bytes_per_cycle)
        compute = -(-performed // (sa.rows * sa.cols * hw.precision(self.dtype).macs_per_pe))
        units = {}
        for unit in UNITS:
            busy = busy_cycles([(r.start, r.end) for r in recs if r.unit == unit])
            units[unit] = UnitStats(busy, busy / cycles if cycles else 0.0)
        return LayerStats(name, tuple(sorted({r.kind for r in recs})), start, end, units, read, write, macs,
                          max(compute, int(memory)), self.time_split(recs), energy, compute > memory,
                          performed if self._skipping else None)

    def to_dict(self) -> dict:
        """Plain data, the same as `accelsim run --json` prints."""
        return {
            "workload": self.workload,
            "schedule": self.schedule,
            "splits": self.splits,
            "dtype": self.dtype,
            "tiles": self.tiles,
            "total_cycles": self.total_cycles,
            "time_us": self.time_us,
            "units": {name: {"busy_cycles": u.busy_cycles, "utilization": u.utilization}
                      for name, u in self.units.items()},
            "dram": {"read_bytes": self.dram_read_bytes, "write_bytes": self.dram_write_bytes},
            "sram_peak_bytes": dict(self.sram_peak_bytes),
            "macs": self.macs,
            "performed_macs": self.performed_macs,
            "array_utilization": self.array_utilization,
            "sync": self.sync,
            "notes": list(self.notes),
            "time_split": self.time_split(),
            "energy_pj": _float(self.energy_pj),
            "energy_breakdown_pj": _floats(self.energy_breakdown_pj),
            "area_mm2": _float(self.area_mm2),
            "ops": [{"id": r.id, "kind": r.kind, "unit": r.unit, "stage": r.stage,
                     "start": r.start, "end": r.end} for r in self.ops],
            **({"layers": [layer.to_dict() for layer in self.layers()]} if self.networked else {}),
            **({"concats": [{"name": c.name, "layout": c.label, "placed": list(c.placed),
                             "copied": list(c.copied)} for c in self.concats]} if self.concats else {}),
            "hw": self.hw.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def _floats(values: dict[str, Fraction] | None) -> dict[str, float] | None:
    return None if values is None else {k: float(v) for k, v in values.items()}


def union(intervals) -> list[tuple[int, int]]:
    """The union of `[start, end)` intervals as disjoint, sorted intervals (empty ones dropped)."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def busy_cycles(intervals: list[tuple[int, int]]) -> int:
    """Length of the union of `[start, end)` intervals, in cycles (one sorted sweep)."""
    busy = lo = hi = 0
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if start <= hi:
            if end > hi:
                hi = end
        else:
            busy += hi - lo
            lo, hi = start, end
    return busy + hi - lo


def build_result(hw: Hardware, schedule: Schedule, total_cycles: int, records: tuple[OpRecord, ...],
                 dram_read: int, dram_write: int, sram_peak: dict[str, int],
                 unit_names: tuple[str, ...], sync: str = "barrier") -> Result:
    """The Result of a run whose ops ran as `records` say (busy cycles per unit from them)."""
    spans: dict[str, list[tuple[int, int]]] = {name: [] for name in unit_names}
    for unit, start, end in map(attrgetter("unit", "start", "end"), records):
        if unit in spans:
            spans[unit].append((start, end))
    units = {}
    for name in unit_names:
        busy = busy_cycles(spans[name])
        units[name] = UnitStats(busy, busy / total_cycles if total_cycles else 0.0)
    macs = sum(map(attrgetter("macs"), records))    # each op's GEMM MACs, 0 without one
    return Result(schedule.workload, schedule.name, schedule.splits, total_cycles, units, records,
                  dram_read, dram_write, sram_peak, macs, hw, sync, notes=schedule.notes,
                  tiles=schedule.tiles, dtype=schedule.dtype, concats=schedule.concats,
                  schedule_run=schedule, energy_prices=prices(hw, schedule))
