"""Traces of a Result for other tools: Chrome trace-event JSON (Perfetto, chrome://tracing)
and VCD (GTKWave, Surfer). Time is in clock cycles in both, and each file says so."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from vcd import VCDWriter

from accelsim import atomic
from accelsim.energy import static_pj
from accelsim.errors import ConfigError
from accelsim.options import TRACE_FORMATS as FORMATS
from accelsim.result import Result, union
from accelsim.timeline import label, lanes, stages
from accelsim.units import UNITS, moves_data

UNIT_ORDER = UNITS
PID = 1


def _tracks(result: Result) -> list[tuple[str, str, list]]:
    """(unit, track name, its records), one track per unit lane: slices on a track never overlap."""
    out = []
    for unit in UNIT_ORDER:
        records = [r for r in result.ops if r.unit == unit]
        lane = lanes(records)
        count = 1 + max(lane.values(), default=0)
        for k in range(count):
            name = unit if count == 1 and not moves_data(unit) else f"{unit}{k}"
            out.append((unit, name, [r for r in records if lane[r.id] == k]))
    return out


def _num(x) -> int | float:
    """A whole number as int, else float (JSON has no fractions)."""
    return int(x) if x == int(x) else float(x)


def _sort_index(tid: int) -> dict:
    return {"ph": "M", "pid": PID, "tid": tid, "name": "thread_sort_index", "args": {"sort_index": tid}}


def perfetto(result: Result) -> dict:
    """The run as a Chrome trace-event document: one thread per unit lane with an `X` slice
    per op (args: layer, tile, stage, kind, bytes, macs, and its dynamic energy `energy_pj`
    with an energy table), a `stages` thread with each
    stage and barrier, and counters for DRAM bandwidth (bytes/cycle), each SRAM
    buffer's occupancy (bytes) and, with an energy table, the energy spent so far (pJ,
    `energy_counter`). `ts` and `dur` are cycles."""
    events: list[dict] = [
        {"ph": "M", "pid": PID, "name": "process_name",
         "args": {"name": f"accelsim {result.workload} ({result.schedule}), time in cycles"}}]
    energy = result.energy
    op_pj = {} if energy is None else dict(zip([r.id for r in result.ops], energy.op_pj, strict=True))
    tid = 0
    for unit, name, records in _tracks(result):
        tid += 1
        events.append({"ph": "M", "pid": PID, "tid": tid, "name": "thread_name", "args": {"name": name}})
        events.append(_sort_index(tid))
        for r in sorted(records, key=lambda r: r.start):
            events.append({"ph": "X", "pid": PID, "tid": tid, "name": label(r), "cat": r.kind,
                           "ts": r.start, "dur": r.cycles,
                           "args": {"op": r.id, "layer": r.layer, "tile": label(r), "stage": r.stage,
                                    "kind": r.kind, "unit": unit, "bytes": r.bytes, "macs": r.macs,
                                    **({"energy_pj": op_pj[r.id]} if op_pj else {})}})
    st = stages(result)
    if st:
        tid += 1
        events.append({"ph": "M", "pid": PID, "tid": tid, "name": "thread_name", "args": {"name": "stages"}})
        events.append(_sort_index(tid))
        for s in st:
            events.append({"ph": "X", "pid": PID, "tid": tid, "name": f"stage {s.index}", "cat": "stage",
                           "ts": s.open, "dur": s.close - s.open, "args": {"stage": s.index}})
            if s.barrier:
                events.append({"ph": "X", "pid": PID, "tid": tid, "name": "barrier", "cat": "barrier",
                               "ts": s.close, "dur": s.barrier, "args": {"after stage": s.index}})
    for t, rate in result.dram_activity:
        events.append({"ph": "C", "pid": PID, "name": "DRAM bandwidth (bytes/cycle)", "ts": _num(t),
                       "args": {"used": _num(rate)}})
    for buffer, history in sorted(result.sram_occupancy.items()):
        for at, nbytes in history:
            events.append({"ph": "C", "pid": PID, "name": f"SRAM {buffer} (bytes)", "ts": at,
                           "args": {buffer: nbytes}})
    for at, pj in energy_counter(result):
        events.append({"ph": "C", "pid": PID, "name": "energy (pJ, cumulative)", "ts": at,
                       "args": {"energy": pj}})
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"time_unit": "cycles: every ts and dur is a clock cycle (viewers label them us)",
                          "clock_mhz": result.hw.clock_mhz, "workload": result.workload,
                          "schedule": result.schedule, "total_cycles": result.total_cycles,
                          "dram_read_bytes": result.dram_read_bytes,
                          "dram_write_bytes": result.dram_write_bytes,
                          "dram_bytes_per_cycle": _num(result.hw.dram.bytes_per_cycle),
                          "sram_peak_bytes": dict(result.sram_peak_bytes),
                          "energy_pj": None if energy is None else float(energy.total),
                          "area_mm2": None if result.area_mm2 is None else float(result.area_mm2)}}


def energy_counter(result: Result) -> list[tuple[int, float]]:
    """(cycle, pJ spent up to it) at cycle 0 and at every cycle an op ends: the dynamic energy
    of the ops ended by then (each counted whole at its end) plus static power up to then. The
    last point, at the run's end, is its total (to float rounding). [] without an energy table."""
    energy, table = result.energy, result.hw.energy
    if energy is None or table is None:
        return []
    ends: dict[int, float] = {}
    for r, pj in zip(result.ops, energy.op_pj, strict=True):
        ends[r.end] = ends.get(r.end, 0.0) + pj
    per_cycle = float(static_pj(result.hw, table, 1))
    points: list[tuple[int, float]] = []
    spent = 0.0
    for at in sorted({0, *ends, result.total_cycles}):
        spent += ends.get(at, 0.0)
        points.append((at, spent + per_cycle * at))
    return points


def perfetto_text(result: Result) -> str:
    return json.dumps(perfetto(result), separators=(",", ":")) + "\n"


def vcd_text(result: Result) -> str:
    """The run as VCD: per unit a `busy` wire (1 while any of its ops runs) and, per unit
    lane, an `op` string (the running op's id, `-` when idle); a `stage` integer. One
    time unit is one clock cycle."""
    out = io.StringIO()
    mhz = result.hw.clock_mhz
    ns = 1000 / mhz
    timescale = f"{int(ns)} ns" if ns == int(ns) and int(ns) in (1, 10, 100) else "1 ns"
    comment = (f"accelsim {result.workload} ({result.schedule}): one time unit = one clock cycle "
               f"({mhz:g} MHz" + ("" if timescale != "1 ns" or ns == 1 else ", timescale nominal") + ")")
    changes: list[tuple[int, int, Any, Any]] = []       # (time, order, var, value)
    with VCDWriter(out, timescale=timescale, date="-", comment=comment, version="accelsim") as w:
        seq = 0
        for unit in UNIT_ORDER:
            records = [r for r in result.ops if r.unit == unit]
            busy = w.register_var(unit, "busy", "wire", size=1, init=0)
            for a, b in union((r.start, r.end) for r in records):
                changes += [(a, seq, busy, 1), (b, seq, busy, 0)]
                seq += 1
            tracks = [t for t in _tracks(result) if t[0] == unit]
            for _, name, lane_records in tracks:
                scope = unit if len(tracks) == 1 else f"{unit}.{name}"
                var = w.register_var(scope, "op", "string", init="-")
                for r in sorted(lane_records, key=lambda r: r.start):
                    if r.end > r.start:
                        changes += [(r.start, seq + 1, var, r.id), (r.end, seq, var, "-")]
                        seq += 2
        st = stages(result)
        if st:
            stage_var = w.register_var("schedule", "stage", "integer", size=32, init=0)
            for s in st:
                changes.append((s.open, seq, stage_var, s.index))
                seq += 1
        final: dict[tuple[int, int], tuple[Any, Any]] = {}    # one change per var per time: the last
        for t, _, var, value in sorted(changes, key=lambda c: (c[0], c[1])):
            final.pop((t, id(var)), None)
            final[(t, id(var))] = (var, value)
        for (t, _), (var, value) in sorted(final.items(), key=lambda kv: kv[0][0]):
            w.change(var, t, value)
        w.close(result.total_cycles)
    return out.getvalue()


def write(result: Result, fmt: str, path: str | Path) -> None:
    """Write the trace of `fmt` (perfetto or vcd) to `path`."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown trace format {fmt!r}: expected one of {', '.join(FORMATS)}")
    text = perfetto_text(result) if fmt == "perfetto" else vcd_text(result)
    atomic.write_text(path, text)
