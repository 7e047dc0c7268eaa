"""Energy of a run, counted from the actions its schedule performs, priced by the hardware's
`energy` table (pJ; docs/energy.md derives the shipped 45 nm table).

Per op, by what it does (never estimated from time):
- mac: the MACs the array performs of its GEMM (`Op.array_macs`: less than the GEMM's under
  N:M weight sparsity or zero-skipping, which the Result's `macs` still count) x `mac_pj` of
  the run's datatype (`Schedule.dtype`); a Winograd GEMM's x `mac_pj` of the datatype its
  operands are held in (`WinogradLayout.mac_dtype`: int16 in an int8 run);
- sram: every byte of each SRAM region it reads x `sram_read_pj_per_byte` of that buffer,
  every byte it writes x `sram_write_pj_per_byte` (a load writes SRAM, a store reads it, a
  conv or add reads its inputs and writes its outputs; bytes by `Schedule.widths`). Each
  byte of a region is counted once per op: operand reuse inside the array is free;
- dram: the bytes a load or store moves (its OpRecord's, the same count as the Result's DRAM
  bytes) x `dram_pj_per_byte`;
- add: its add-unit lane operations (`timing.lane_operations`, what its cycles count) x
  `add_pj` of the run's datatype.
Static energy is the sum of `static_mw` over the run's time (cycles / clock). A layer's static
energy covers the cycles from its first op's start to the next layer's first start (the first
layer from cycle 0, the last to the run's end), so the layers' energies sum to the run's.
Sums are exact: integer counts times the table's decimals as written (Fractions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

from accelsim.cost import exact
from accelsim.dtypes import DTYPES
from accelsim.errors import ConfigError
from accelsim.hw import SRAM_BUFFERS, EnergyTable, Hardware, PerDtype
from accelsim.schedule import DRAM, Schedule
from accelsim.timing import VECTOR_KINDS, lane_operations
from accelsim.winograd import mac_dtype_of, other_mac_dtypes

ACTIONS = ("mac", "sram", "dram", "add", "static")
"""The actions energy is split by, in `energy_breakdown_pj`'s order."""
PJ_PER_MW_US = 1000
"""1 mW for 1 us is 1 nJ: 1,000 pJ."""


@dataclass(frozen=True)
class Energy:
    """A run's energy, pJ, exact: `breakdown` per action (ACTIONS), `layers` per layer name
    the same split, and `op_pj` per op (issue order) its dynamic energy (all but static;
    float, for traces)."""

    breakdown: MappingProxyType[str, Fraction]
    layers: MappingProxyType[str, MappingProxyType[str, Fraction]]
    op_pj: tuple[float, ...]

    @property
    def total(self) -> Fraction:
        return sum(self.breakdown.values(), Fraction(0))

    def layer_total(self, layer: str) -> Fraction:
        return sum(self.layers[layer].values(), Fraction(0))


def per_dtype(table: PerDtype, key: str, dtype: str, hw: Hardware, user: str = "this run uses") -> Fraction:
    """`table`'s entry for `dtype`, exact; ConfigError naming `key.<dtype>` (and who needs it,
    `user`) when it has none."""
    value = getattr(table, dtype, None)
    if value is None:
        have = [d for d in DTYPES if getattr(table, d) is not None]
        raise ConfigError(f"{hw.name}: {key}.{dtype}: no entry for datatype {dtype!r}, which {user}; "
                          f"the table has {', '.join(have) or 'none'}")
    return exact(value)


def static_power_mw(table: EnergyTable) -> Fraction:
    """The machine's static power, mW: the sum over its parts."""
    s = table.static_mw
    return exact(s.conv) + exact(s.add) + exact(s.dma) + exact(s.sram)


def static_pj(hw: Hardware, table: EnergyTable, cycles: int) -> Fraction:
    """Static energy over `cycles`: mW x cycles / clock (MHz, so us) x 1,000 pJ per mW us."""
    return static_power_mw(table) * cycles * PJ_PER_MW_US / exact(hw.clock_mhz)


@dataclass(frozen=True)
class Prices:
    """The table's entries a run uses, exact: pJ per MAC and per lane operation of its
    datatype, per SRAM byte read and written by buffer, per DRAM byte."""

    mac: Fraction
    lane: Fraction
    read: MappingProxyType[str, Fraction]
    write: MappingProxyType[str, Fraction]
    dram: Fraction
    # pJ per MAC of the datatypes a Winograd GEMM multiplies in other than the run's
    other_mac: MappingProxyType[str, Fraction] = field(default_factory=lambda: MappingProxyType({}))


def prices(hw: Hardware, schedule: Schedule) -> Prices | None:
    """What `schedule`'s actions cost on `hw` (None without an energy table); ConfigError
    naming `energy.mac_pj.<dtype>` (or `energy.add_pj.<dtype>`, when the schedule has
    add-unit ops) when the table has no entry for the run's datatype."""
    table = hw.energy
    if table is None:
        return None
    lanes = any(op.kind in VECTOR_KINDS for op in schedule.ops)
    read, write = table.sram_read_pj_per_byte, table.sram_write_pj_per_byte
    other = {d: per_dtype(table.mac_pj, "energy.mac_pj", d, hw, "a Winograd layer multiplies in")
             for d in sorted(set(other_mac_dtypes(schedule.winograd, schedule.dtype).values()))}
    return Prices(per_dtype(table.mac_pj, "energy.mac_pj", schedule.dtype, hw),
                  per_dtype(table.add_pj, "energy.add_pj", schedule.dtype, hw) if lanes else Fraction(0),
                  MappingProxyType({b: exact(getattr(read, b)) for b in SRAM_BUFFERS}),
                  MappingProxyType({b: exact(getattr(write, b)) for b in SRAM_BUFFERS}),
                  exact(table.dram_pj_per_byte), MappingProxyType(other))


def run_energy(hw: Hardware, schedule: Schedule, records: Sequence, total_cycles: int,
               priced: Prices | None = None) -> Energy | None:
    """The energy of `schedule` run on `hw` as `records` (its OpRecords, in issue order) say,
    at `priced` (default: `prices(hw, schedule)`); None when `hw` has no energy table. One
    pass over the ops counting integers per layer, then one product per layer and action."""
    table = hw.energy
    priced = priced or prices(hw, schedule)
    if table is None or priced is None:
        return None
    mac, lane, read, write, dram = priced.mac, priced.lane, priced.read, priced.write, priced.dram
    mac_f, lane_f, dram_f = float(mac), float(lane), float(dram)
    read_f = {b: float(v) for b, v in read.items()}
    write_f = {b: float(v) for b, v in write.items()}
    other = other_mac_dtypes(schedule.winograd, schedule.dtype)
    other_f = {d: float(v) for d, v in priced.other_mac.items()}
    count = schedule.widths.count

    # per layer: [macs, dram bytes, lane ops, {buffer: bytes read}, {buffer: bytes written},
    # {datatype: MACs in another datatype than the run's}]
    counts: dict[str, list] = {}
    op_pj: list[float] = []
    first: dict[str, int] = {}
    for op, rec in zip(schedule.ops, records, strict=True):
        c = counts.get(op.layer)
        if c is None:
            c = counts[op.layer] = [0, 0, 0, dict.fromkeys(SRAM_BUFFERS, 0), dict.fromkeys(SRAM_BUFFERS, 0),
                                    {}]
        if op.layer not in first or rec.start < first[op.layer]:
            first[op.layer] = rec.start
        e = 0.0
        reads, writes = c[3], c[4]
        for r in op.reads:
            if r.space != DRAM:
                n = count(r.tensor, r.elements)
                reads[r.space] += n
                e += n * read_f[r.space]
        for r in op.writes:
            if r.space != DRAM:
                n = count(r.tensor, r.elements)
                writes[r.space] += n
                e += n * write_f[r.space]
        if rec.macs:
            performed = op.array_macs
            d = mac_dtype_of(op, other)
            if d is None:
                c[0] += performed
                e += performed * mac_f
            else:
                c[5][d] = c[5].get(d, 0) + performed
                e += performed * other_f[d]
        if rec.bytes:
            c[1] += rec.bytes
            e += rec.bytes * dram_f
        if op.kind in VECTOR_KINDS:
            n = lane_operations(op, hw, schedule.widths)
            c[2] += n
            e += n * lane_f
        op_pj.append(e)

    order = sorted(first, key=first.__getitem__)        # stable: ties keep issue order
    spans = {name: (first[nxt] if k + 1 < len(order) else total_cycles) - (0 if k == 0 else first[name])
             for k, (name, nxt) in enumerate(zip(order, [*order[1:], ""], strict=True))}
    layers = {}
    for name, (macs, moved, lanes, reads, writes, others) in counts.items():
        layers[name] = MappingProxyType({
            "mac": macs * mac + sum((n * priced.other_mac[d] for d, n in others.items()), Fraction(0)),
            "sram": sum((reads[b] * read[b] + writes[b] * write[b] for b in SRAM_BUFFERS), Fraction(0)),
            "dram": moved * dram,
            "add": lanes * lane,
            "static": static_pj(hw, table, spans[name])})
    breakdown = {a: sum((v[a] for v in layers.values()), Fraction(0)) for a in ACTIONS}
    breakdown["static"] = static_pj(hw, table, total_cycles)
    return Energy(MappingProxyType(breakdown), MappingProxyType(layers), tuple(op_pj))
