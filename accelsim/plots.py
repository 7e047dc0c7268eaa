"""Pictures of a Result (matplotlib): pipeline diagram, utilization timelines, per-layer
time split, roofline, per-layer energy. Each function returns a Figure made without pyplot (no window, no
global state; a notebook shows it like any figure); `save` writes PNG or SVG by the
file's suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from accelsim import atomic
from accelsim.energy import ACTIONS
from accelsim.errors import ConfigError
from accelsim.options import PLOT_KINDS as KINDS
from accelsim.result import Result
from accelsim.timeline import (
    ROWS,
    busy_fraction,
    dram_bytes,
    label,
    lanes,
    layer_spans,
    part,
    row_of,
    sram_peaks,
    stages,
    windows,
)
from accelsim.units import TABLE, UNITS

UNIT_COLOURS = {u.name: u.colour for u in TABLE}
SPLIT_COLOURS = {"compute": "tab:blue", "memory": "tab:red", "barrier": "tab:gray"}
ENERGY_COLOURS = {"mac": "tab:blue", "sram": "tab:orange", "dram": "tab:red", "add": "tab:green",
                  "static": "tab:gray"}
SHARED = "#b0b0b0"
DPI = 150                   # pixels per inch of a saved PNG
CHAR_PX = 6.0               # width of one label character at the diagram's font size, pixels


def _title(result: Result, serial_cycles: int | None) -> str:
    networked = result.networked
    head = (f"{result.workload}: {result.schedule}"
            + (f", N={result.tiles}" if result.tiles > 1 and not networked else "")
            + f", {result.total_cycles:,} cycles ({result.time_us:,.1f} µs)")
    if serial_cycles:
        head += f", {serial_cycles / result.total_cycles:.2f}x over serial ({serial_cycles:,})"
    return head


THOUSANDS = FuncFormatter(lambda v, _pos: f"{v:,.0f}")


def _add_us_axis(ax, result: Result) -> None:
    """Cycles below with thousands separators, microseconds at the clock on top."""
    ax.xaxis.set_major_formatter(THOUSANDS)
    mhz = result.hw.clock_mhz
    top = ax.secondary_xaxis("top", functions=(lambda c: c / mhz, lambda us: us * mhz))
    top.set_xlabel(f"time (µs at {mhz:g} MHz)")


def _zoom_range(result: Result, zoom: tuple[int, int] | None, layer: str | None) -> tuple[int, int]:
    if layer is not None:
        spans = {name: (a, b) for name, a, b in layer_spans(result)}
        if layer not in spans:
            known = ", ".join(list(spans)[:8]) + (" ..." if len(spans) > 8 else "")
            raise ConfigError(f"no layer {layer!r} in this run; layers: {known}")
        a, b = spans[layer]
        pad = max(1, (b - a) // 50)
        return max(0, a - pad), min(result.total_cycles, b + pad)
    if zoom is not None:
        a, b = zoom
        if not 0 <= a < b:
            raise ConfigError(f"zoom range {a}:{b} must be START:END cycles with 0 <= START < END")
        if a >= result.total_cycles:
            raise ConfigError(f"zoom range {a:,}:{b:,} starts after the run ends (at cycle "
                              f"{result.total_cycles:,})")
        return a, min(b, max(result.total_cycles, a + 1))
    return 0, max(result.total_cycles, 1)


def pipeline(result: Result, serial_cycles: int | None = None, zoom: tuple[int, int] | None = None,
             layer: str | None = None, width: float = 13.0) -> Figure:
    """One row per unit (DMA in, conv, add, DMA out; lanes when a unit runs ops at once),
    one bar per op, coloured by tile (grey: shared, like weights) and labelled when it is
    wide enough; stages shaded alternately, barriers as vertical lines. A network (ops
    named LAYER/op) gets one band per layer. `zoom` (cycles) or `layer` narrows the axis."""
    x0, x1 = _zoom_range(result, zoom, layer)
    shown = [r for r in result.ops if r.end > x0 and r.start < x1]
    rows = [row for row in ROWS if any(row_of(r) == row for r in result.ops)]
    lane_of, nlanes = {}, {}
    for row in rows:
        lane_of.update(lanes([r for r in result.ops if row_of(r) == row]))
        nlanes[row] = 1 + max((lane_of[r.id] for r in result.ops if row_of(r) == row), default=0)
    fig = Figure(figsize=(width, 1.2 + 0.75 * len(rows)), layout="constrained")
    ax = fig.subplots()
    networked = result.networked
    ax.set_xlim(x0, x1)
    ax.set_ylim(len(rows) - 0.5, -0.85 if networked else -0.5)     # networks: a strip for layer names
    # the add unit's row is named by the kinds that ran on it (add, pool, lrn, softmax, ...)
    add_kinds = list(dict.fromkeys(r.kind for r in result.ops if r.unit == "add"))
    add_label = " / ".join(add_kinds) if 0 < len(add_kinds) <= 3 else "add unit"
    ax.set_yticks(range(len(rows)), [add_label if row == "add" else row for row in rows])
    ax.set_xlabel("time (cycles)")
    _add_us_axis(ax, result)
    axes_px = width * fig.dpi * 0.86
    px_per_cycle = axes_px / (x1 - x0)
    parts = sorted({p for r in result.ops if (p := part(r)) is not None})
    cmap = matplotlib.colormaps["tab10" if len(parts) <= 10 else "tab20"]
    layer_index = {name: k for k, (name, _, _) in enumerate(layer_spans(result))} if networked else {}

    def colour(r):
        if networked:
            return cmap(layer_index.get(r.layer, 0) % cmap.N)
        p = part(r)
        return SHARED if p is None else cmap((p - 1) % cmap.N)
    handles = []
    st = [s for s in stages(result) if s.close + s.barrier > x0 and s.open < x1]
    if st and len(st) <= 200:
        for s in st:
            if s.index % 2:
                ax.axvspan(s.open, s.close + s.barrier, color="0.93", zorder=0, lw=0)
            ax.axvline(s.close + s.barrier, color="0.35", lw=0.8, ls="--", zorder=1)
        handles += [Patch(facecolor="0.93", edgecolor="0.7", label="odd stages (shaded)"),
                    Line2D([], [], color="0.35", lw=0.8, ls="--", label="barrier")]
    if networked:
        spans = [(n, a, b) for n, a, b in layer_spans(result) if b > x0 and a < x1]
        for name, a, b in spans:
            ax.fill_between([a, b], -0.85, -0.72, color=cmap(layer_index[name] % cmap.N), lw=0, zorder=3)
            if (min(b, x1) - max(a, x0)) * px_per_cycle > CHAR_PX * len(name) + 6:
                ax.text((max(a, x0) + min(b, x1)) / 2, -0.6, name, ha="center", va="center", fontsize=7,
                        clip_on=True, zorder=4, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    for r in shown:
        row_at = rows.index(row_of(r))
        n = nlanes[row_of(r)]
        h = 0.8 / n
        y = row_at - 0.4 + h * lane_of[r.id] + h / 2
        w = max(r.end - r.start, 0)
        thin = w * px_per_cycle < 4                      # an outline would hide a thin bar's colour
        ax.barh(y, w, left=r.start, height=h * 0.92, color=colour(r), edgecolor="black",
                linewidth=0 if thin else 0.3, zorder=2)
        text = label(r)
        if w * px_per_cycle > CHAR_PX * len(text) + 4 and h * 0.75 * fig.dpi >= 9:
            ax.text(r.start + w / 2, y, text, ha="center", va="center", fontsize=7, zorder=4, clip_on=True)
    if not networked and any(part(r) is None for r in result.ops):
        handles.append(Patch(facecolor=SHARED, edgecolor="black", lw=0.3, label="shared (weights)"))
    if not networked and parts:
        handles.append(Patch(facecolor=cmap(0), edgecolor="black", lw=0.3,
                             label=f"tiles 1..{max(parts)} (one colour each)"))
    if networked:
        first = next((r.layer for r in shown if r.layer), "")
        handles.append(Patch(facecolor=cmap(layer_index.get(first, 0) % cmap.N), edgecolor="black", lw=0.3,
                             label="layers (one colour each, band on top)"))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False)
    title = _title(result, serial_cycles)
    if layer is not None or zoom is not None:
        title += f"\nshowing {layer + ', ' if layer else ''}cycles {x0:,} to {x1:,}"
    ax.set_title(title, fontsize=10)
    return fig


def utilization(result: Result, count: int = 200, width: float = 12.0) -> Figure:
    """Over `count` time windows (at most one per cycle, and at most one per pixel column the
    picture has at 150 dpi): each unit's busy fraction, DRAM bandwidth used against what the
    channels give, and each SRAM buffer's occupancy against its size."""
    total = max(result.total_cycles, 1)
    spans = windows(total, min(count, int(width * DPI)))
    edges = [a for a, _ in spans] + [spans[-1][1]]
    fig = Figure(figsize=(width, 8), layout="constrained")
    ax_u, ax_d, ax_s = fig.subplots(3, 1, sharex=True)
    for unit in UNITS:
        frac = busy_fraction(result, unit, spans)
        overall = result.units[unit].utilization
        ax_u.stairs([100 * f for f in frac], edges, color=UNIT_COLOURS[unit],
                    label=f"{unit} ({overall:.1%} overall)")
    ax_u.set_ylabel("unit busy (%)")
    ax_u.set_ylim(0, 105)
    ax_u.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax_u.set_title(_title(result, None) + f"; windows of {spans[0][1] - spans[0][0]:,} cycles", fontsize=10)
    if result.hw.ideal_memory:
        ax_d.text(0.5, 0.5, "ideal memory: transfers take no time", transform=ax_d.transAxes, ha="center")
    else:
        moved = dram_bytes(result, spans)
        rate = [float(m) / (b - a) for m, (a, b) in zip(moved, spans, strict=True)]
        peak = float(result.hw.dram.bytes_per_cycle)
        ax_d.stairs(rate, edges, color="tab:green", label="used")
        ax_d.axhline(peak, color="black", ls="--", lw=1, label=f"available ({peak:g} B/cycle)")
        ax_d.set_ylim(0, peak * 1.1)
        ax_d.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax_d.set_ylabel("DRAM (bytes/cycle)")
    scale = 1024
    for k, (buffer, history) in enumerate(sorted(result.sram_occupancy.items())):
        colour = matplotlib.colormaps["tab10"](k + 3)
        peaks = sram_peaks(history, spans)
        ax_s.stairs([b / scale for b in peaks], edges, color=colour, label=f"{buffer}: most occupied")
        ax_s.axhline(result.hw.buffer(buffer).size_bytes / scale, color=colour, ls=(k * 2, (4, 4)), lw=1.2,
                     label=f"{buffer} size ({result.hw.buffer(buffer).size_bytes / scale:g} KiB)")
    ax_s.set_ylabel("SRAM per window (KiB)")
    ax_s.set_xlabel("time (cycles)")
    ax_s.set_xlim(0, total)
    ax_s.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    _add_us_axis(ax_u, result)
    ax_s.xaxis.set_major_formatter(THOUSANDS)
    return fig


def layers(result: Result, width: float = 11.0) -> Figure:
    """Per layer, its cycles split into compute / memory stall / barrier wait (barrier-synced
    runs), as stacked horizontal bars, first layer on top."""
    data = result.layers() if result.networked else [result.overall()]
    names = [d.name for d in data]
    fig = Figure(figsize=(width, 1.5 + 0.2 * len(data)), layout="constrained")
    ax = fig.subplots()
    y = list(range(len(data)))
    splits = [d.time_split for d in data]
    if all(s is not None for s in splits):
        left = [0] * len(data)
        for part_name in ("compute", "memory", "barrier"):
            vals = [s[part_name] for s in splits if s is not None]
            total = sum(vals)
            name = {"compute": "compute", "memory": "memory stall", "barrier": "barrier wait"}[part_name]
            ax.barh(y, vals, left=left, color=SPLIT_COLOURS[part_name], height=0.8,
                    label=f"{name} ({total:,} cycles)")
            left = [a + b for a, b in zip(left, vals, strict=True)]
    else:
        ax.barh(y, [d.cycles for d in data], color="tab:blue", height=0.8, label="cycles (synced by data: "
                "no stage split)")
    ax.set_yticks(y, names, fontsize=7 if len(data) > 30 else 9)
    ax.set_ylim(len(data) - 0.5, -0.5)
    ax.set_xlabel("cycles")
    ax.xaxis.set_major_formatter(THOUSANDS)
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)   # clear of the bars
    ax.set_title(f"{result.workload}: {result.schedule}, cycles per layer ({result.total_cycles:,} in all)",
                 fontsize=10)
    return fig


def energy(result: Result, width: float = 11.0) -> Figure:
    """Per layer, its energy (uJ) split by action (mac, sram, dram, add, static) as stacked
    horizontal bars, first layer on top; ConfigError when the hardware has no energy table."""
    if result.energy is None:
        raise ConfigError(f"{result.hw.name}: no energy table (hardware key `energy`): nothing to plot; "
                          "see docs/energy.md")
    data = result.layers() if result.networked else [result.overall()]
    fig = Figure(figsize=(width, 1.5 + 0.2 * len(data)), layout="constrained")
    ax = fig.subplots()
    y = list(range(len(data)))
    left = [0.0] * len(data)
    for action in ACTIONS:
        vals = [float(d.energy_breakdown_pj[action]) / 1e6 if d.energy_breakdown_pj else 0.0 for d in data]
        total = float(result.energy.breakdown[action]) / 1e6
        ax.barh(y, vals, left=left, color=ENERGY_COLOURS[action], height=0.8,
                label=f"{action} ({total:,.1f} µJ)" if total >= 1 else f"{action} ({total:.2g} µJ)")
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_yticks(y, [d.name for d in data], fontsize=7 if len(data) > 30 else 9)
    ax.set_ylim(len(data) - 0.5, -0.5)
    ax.set_xlabel("energy (µJ)")
    ax.set_ylabel("layer")
    fig.legend(loc="outside lower center", ncols=len(ACTIONS), fontsize=8, frameon=False)
    pj_mac = result.pj_per_mac
    ax.set_title(f"{result.workload}: {result.schedule} on {result.hw.name}, energy per layer "
                 f"({float(result.energy.total) / 1e6:,.1f} µJ in all"
                 + (f", {pj_mac:.2f} pJ/MAC" if pj_mac is not None else "") + ")", fontsize=10)
    return fig


def roofline(result: Result, width: float = 8.0) -> Figure:
    """Each layer with MACs at (MACs per DRAM byte, MACs per cycle) under the array's peak
    and the DRAM bandwidth roof: the MACs the array performs (`LayerStats.array_macs`, less
    what it skips of N:M weights and zero activations)."""
    hw, sa = result.hw, result.hw.systolic_array
    peak = sa.rows * sa.cols
    data = result.layers() if result.networked else [result.overall()]
    points = [d for d in data if d.array_macs and d.cycles]
    fig = Figure(figsize=(width, 5.5), layout="constrained")
    ax = fig.subplots()
    intensity = [d.array_macs / max(d.dram_bytes, 1) for d in points]
    perf = [d.array_macs / d.cycles for d in points]
    lo = min([*intensity, 0.5]) / 2
    hi = max([*intensity, 2.0 * peak / float(hw.dram.bytes_per_cycle) if not hw.ideal_memory else 2.0]) * 2
    xs = [lo * (hi / lo) ** (k / 200) for k in range(201)]
    if hw.ideal_memory:
        ax.plot(xs, [peak] * len(xs), color="black", lw=1.5, label=f"array peak ({peak:,} MACs/cycle)")
    else:
        bw = float(hw.dram.bytes_per_cycle)
        ax.plot(xs, [min(peak, bw * x) for x in xs], color="black", lw=1.5,
                label=f"roof: min({peak:,} MACs/cycle, {bw:g} B/cycle x intensity)")
        ax.axvline(peak / bw, color="0.6", ls=":", lw=1, label=f"ridge at {peak / bw:g} MACs/byte")
    kinds: dict[str, tuple[list[float], list[float]]] = {}
    for d, x, yv in zip(points, intensity, perf, strict=True):
        kind = "winograd" if "wgin" in d.kinds else "convadd" if "add" in d.kinds and "conv" in d.kinds else \
            ("pool" if "pool" in d.kinds else "conv / gemm")
        kinds.setdefault(kind, ([], []))
        kinds[kind][0].append(x)
        kinds[kind][1].append(yv)
    for k, (kind, (xs_kind, ys_kind)) in enumerate(sorted(kinds.items())):
        ax.scatter(xs_kind, ys_kind, s=22, color=matplotlib.colormaps["tab10"](k), edgecolor="black", lw=0.4,
                   zorder=3, label=f"{kind} layers ({len(xs_kind)})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(max(min([*perf, peak]) / 3, 1e-3), peak * 2)
    ax.set_xlabel("operational intensity (MACs per DRAM byte)")
    ax.set_ylabel("performance (MACs per cycle)")
    ax.grid(True, which="major", color="0.9")
    ax.legend(loc="lower right", fontsize=8)
    skipped = len(data) - len(points)
    ax.set_title(f"{result.workload}: {result.schedule}, roofline of {len(points)} layers"
                 + (f" ({skipped} without MACs not shown)" if skipped else ""), fontsize=10)
    return fig


def figure(result: Result, kind: str, **options) -> Figure:
    """The figure of `kind` (one of KINDS)."""
    if kind not in KINDS:
        raise ConfigError(f"unknown plot kind {kind!r}: expected one of {', '.join(KINDS)}")
    draw: dict[str, Callable[..., Figure]] = {"pipeline": pipeline, "utilization": utilization,
                                              "roofline": roofline, "layers": layers, "energy": energy}
    return draw[kind](result, **options)


def save(fig: Figure, path: str | Path) -> None:
    """Write PNG (DPI dots per inch) or SVG, by suffix (any case), with no timestamps (same run,
    same bytes), whole or not at all."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ConfigError(f"{path}: write a .png or .svg picture")
    meta = {"Software": "accelsim"} if suffix == ".png" else {"Date": None, "Creator": "accelsim"}
    try:
        # a fixed SVG hash salt: the same ids, so the same bytes, each run
        with matplotlib.rc_context({"svg.hashsalt": "accelsim"}), atomic.replacing(path) as temp:
            fig.savefig(temp, format=suffix[1:], dpi=DPI, metadata=meta)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
