"""Text reports of Results: the schedule comparison table, the per-layer table, the text pipeline."""

from __future__ import annotations

from accelsim.hw import Hardware
from accelsim.result import Result
from accelsim.timeline import label, row_of, stages
from accelsim.units import COMPUTE_UNITS, DIAGRAM_ROWS, UNITS


def speedups(results: list[Result]) -> list[float | None]:
    """Each result's speedup over the serial one (serial cycles / its cycles); None without serial."""
    base = next((r.total_cycles for r in results if r.schedule == "serial"), None)
    return [base / r.total_cycles if base else None for r in results]


def describe_hw(hw: Hardware) -> str:
    """One line: the machine's name, array, add unit, memory, DMA, barrier and clock."""
    sa, dram = hw.systolic_array, hw.dram
    memory = "ideal memory" if hw.ideal_memory else (
        f"DRAM {float(dram.bytes_per_cycle):g} B/cycle, {dram.latency_cycles}-cycle latency")
    return (f"{hw.name}: {sa.rows}x{sa.cols} {sa.dataflow.upper()} array, {hw.add_unit.lanes}-lane add, "
            f"{memory}, {hw.dma.engines} DMA engines, barrier {hw.barrier_cycles} cycles, "
            f"{hw.clock_mhz:g} MHz")


def results_table(results: list[Result], with_speedup: bool = True) -> str:
    """Total cycles, per-unit busy cycles and utilization, DRAM bytes and (optionally)
    the speedup of each result over serial."""
    units = list(results[0].units)
    head = ["schedule", "splits", "tiles", "total cycles", "time (us)"]
    for u in units:
        head += [f"{u} busy", f"{u} util"]
    head += ["DRAM read B", "DRAM write B"]
    energy = any(r.energy is not None for r in results)
    if energy:
        head += ["energy (uJ)", "pJ/MAC"]
    head += ["speedup"] if with_speedup else []
    rows = []
    for r, speedup in zip(results, speedups(results), strict=True):
        row = [r.schedule, "auto" if r.splits is None else str(r.splits), str(r.tiles), f"{r.total_cycles:,}",
               f"{r.time_us:,.1f}"]
        for u in units:
            row += [f"{r.units[u].busy_cycles:,}", f"{r.units[u].utilization:.1%}"]
        row += [f"{r.dram_read_bytes:,}", f"{r.dram_write_bytes:,}"]
        if energy:
            row += energy_cells(r.energy_pj, r.pj_per_mac)
        if with_speedup:
            row.append(f"{speedup:.2f}x" if speedup else "-")
        rows.append(row)
    return format_table(head, rows)


def energy_cells(energy_pj, pj_per_mac: float | None) -> list[str]:
    """Energy in uJ and pJ per MAC as table cells ("-" where there is none)."""
    return [f"{float(energy_pj) / 1e6:,.2f}" if energy_pj is not None else "-",
            f"{pj_per_mac:.2f}" if pj_per_mac is not None else "-"]


def format_table(head: list[str], rows: list[list[str]], total: list[str] | None = None) -> str:
    """A text table: first column left-aligned, the rest right-aligned, a rule under the
    header (and above `total`, when given)."""
    every = [head, *rows, *([total] if total else [])]
    widths = [max(len(x) for x in col) for col in zip(*every, strict=True)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(line, widths, strict=True)))
             for line in every]
    rule = "  ".join("-" * w for w in widths)
    lines.insert(1, rule)
    if total:
        lines.insert(len(lines) - 1, rule)
    return "\n".join(lines)


def layers_table(result: Result) -> str:
    """Per layer of `result`: cycles, unit utilization, DRAM bytes, how close to its
    roofline bound (max of MACs / PEs and DRAM bytes / bandwidth) it runs, and (with an energy
    table) its energy in uJ and pJ per MAC."""
    energy = result.energy is not None
    head = ["layer", "kinds", "cycles", "memory stall", *(f"{u} util" for u in UNITS), "DRAM B",
            "bound", "bound/cycles", *(["energy (uJ)", "pJ/MAC"] if energy else [])]
    rows = []
    concats = {c.name: c for c in result.concats}
    after: dict[str, list[str]] = {}        # layer -> the concats without ops whose rows follow it
    for c in result.concats:
        if not c.copied:
            after.setdefault(c.after, []).append(c.name)
    for layer in result.layers():
        stall = layer.time_split["memory"] if layer.time_split else None
        kinds = "+".join(layer.kinds)
        if layer.name in concats:
            kinds = f"concat, {concats[layer.name].label}: {kinds}"
        rows.append([layer.name or result.workload, kinds, f"{layer.cycles:,}",
                     f"{stall:,}" if stall is not None else "-",
                     *(f"{layer.units[u].utilization:.0%}" for u in UNITS),
                     f"{layer.dram_bytes:,}", f"{layer.bound_cycles:,}",
                     f"{layer.bound_cycles / layer.cycles:.0%}" if layer.cycles else "-",
                     *(energy_cells(layer.energy_pj, layer.pj_per_mac) if energy else [])])
        rows += [[name, "concat, no copy", "0", "-", *("-" for _ in UNITS), "0", "0", "-",
                  *(["0.00", "-"] if energy else [])]
                 for name in after.pop(layer.name, [])]
    return format_table(head, rows)


def pipeline_text(result: Result, max_width: int = 36) -> str:
    """The schedule as the design note draws it: one line per stage with its ops side by side
    (conv | add | DMA in | DMA out) and its cycles, a rule for each barrier; a network gets a
    heading where the layer changes."""
    st = stages(result)
    if not st:
        return "synced by data dependencies: no stages or barriers to draw"
    by_stage: dict[int, list] = {}
    for r in sorted(result.ops, key=lambda r: (r.start, r.id)):
        by_stage.setdefault(r.stage, []).append(r)
    columns = (*COMPUTE_UNITS, DIAGRAM_ROWS[0], DIAGRAM_ROWS[-1])

    def cell(records, column):
        text = ", ".join(label(r) for r in records if row_of(r) == column) or "-"
        return text if len(text) <= max_width else text[:max_width - 1] + "…"
    cells = {s.index: [cell(by_stage[s.index], c) for c in columns] for s in st}
    widths = [max(len(c), *(len(row[k]) for row in cells.values())) for k, c in enumerate(columns)]
    tag = len(f"stage {st[-1].index}")
    titles = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    head = " " * tag + " | " + titles + " | cycles"
    lines = [head, "=" * len(head)]
    layer = None
    for s in st:
        layers = {r.layer for r in by_stage[s.index]}
        here = ", ".join(sorted(layers))
        if result.networked and here != layer:
            lines.append(f"[{here}]")
            layer = here
        row = " | ".join(c.ljust(w) for c, w in zip(cells[s.index], widths, strict=True))
        lines.append(f"{f'stage {s.index}':<{tag}} | {row} | {s.close - s.open:>9,}")
        mark = f" barrier ({s.barrier} cycles) "
        lines.append("-" * 16 + mark + "-" * max(0, len(head) - 16 - len(mark)))
    lines.append(f"total {result.total_cycles:,} cycles")
    return "\n".join(lines)
