"""Perfetto and VCD traces: they load, stay inside the run, and add up to the Result."""

import io
import itertools
import json
from fractions import Fraction

import pytest
from vcd.reader import TokenKind, tokenize

from accelsim import load_hw, load_workload, simulate
from accelsim.export import perfetto_text, vcd_text
from tests.helpers import BLOCK, DEFAULT_HW, ROOT


@pytest.fixture(scope="module", params=["block", "resnet18", "deps", "winograd"])
def run(request):
    hw = load_hw(DEFAULT_HW)
    if request.param == "block":
        return simulate(hw, load_workload(BLOCK), "pipelined", 4)
    if request.param == "winograd":               # its transforms on the add unit's track
        from accelsim.options import RunOptions
        return simulate(hw, load_workload(BLOCK), options=RunOptions(winograd=True))
    sync = "deps" if request.param == "deps" else "barrier"
    return simulate(hw, load_workload(ROOT / "traces" / "resnet18.yaml"), sync=sync)


def test_perfetto_json_slices_lie_in_the_run_and_never_overlap_on_a_track(run):
    doc = json.loads(perfetto_text(run))
    assert "cycles" in doc["otherData"]["time_unit"]
    slices = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    ops = [e for e in slices if e["cat"] not in ("stage", "barrier")]
    assert len(ops) == len(run.ops)
    assert {e["args"]["op"] for e in ops} == {r.id for r in run.ops}
    for e in slices:
        assert e["ts"] >= 0 and e["ts"] + e["dur"] <= run.total_cycles
    tracks = {}
    for e in sorted(slices, key=lambda e: (e["tid"], e["ts"])):
        assert tracks.get(e["tid"], 0) <= e["ts"], e
        tracks[e["tid"]] = e["ts"] + e["dur"]
    names = {e["tid"]: e["args"]["name"] for e in doc["traceEvents"] if e.get("name") == "thread_name"}
    assert {"conv", "add", "dma0"} <= set(names.values())
    busy = {}
    for e in ops:
        busy.setdefault(e["args"]["unit"], []).append((e["ts"], e["ts"] + e["dur"]))
    for unit in ("conv", "add"):
        assert sum(b - a for a, b in busy.get(unit, [])) == run.units[unit].busy_cycles


def test_perfetto_counters_match_the_results_totals(run):
    doc = json.loads(perfetto_text(run))
    dram = [(Fraction(e["ts"]), Fraction(e["args"]["used"])) for e in doc["traceEvents"]
            if e["ph"] == "C" and e["name"].startswith("DRAM")]
    dram.append((Fraction(run.total_cycles), Fraction(0)))
    moved = sum((t1 - t0) * rate for (t0, rate), (t1, _) in itertools.pairwise(dram))
    assert moved == pytest.approx(run.dram_read_bytes + run.dram_write_bytes, rel=1e-12)
    assert max(rate for _, rate in dram) == run.hw.dram.bytes_per_cycle
    for buffer, peak in run.sram_peak_bytes.items():
        levels = [e["args"][buffer] for e in doc["traceEvents"]
                  if e["ph"] == "C" and e["name"] == f"SRAM {buffer} (bytes)"]
        assert max(levels) == peak and levels[-1] == 0          # every byte released by the end


def vcd_busy(text):
    """Cycles each `<unit>.busy` wire is 1, summed from the VCD's changes, and the op strings."""
    ids, level, since, busy, strings, t = {}, {}, {}, {}, [], 0
    scope = []
    for tok in tokenize(io.BytesIO(text.encode())):
        if tok.kind is TokenKind.SCOPE:
            scope.append(tok.data.ident)
        elif tok.kind is TokenKind.UPSCOPE:
            scope.pop()
        elif tok.kind is TokenKind.VAR:
            ids[tok.data.id_code] = (".".join(scope), tok.data.reference)
        elif tok.kind is TokenKind.CHANGE_TIME:
            t = tok.data
        elif tok.kind is TokenKind.CHANGE_SCALAR:
            scope_name, _ref = ids[tok.data.id_code]
            value = tok.data.value == "1"
            if level.get(scope_name) and not value:
                busy[scope_name] = busy.get(scope_name, 0) + t - since[scope_name]
            if value and not level.get(scope_name):
                since[scope_name] = t
            level[scope_name] = value
        elif tok.kind is TokenKind.CHANGE_STRING:
            strings.append((t, ids[tok.data.id_code][0], tok.data.value))
    return busy, strings, t


def test_vcd_parses_back_and_each_units_busy_time_is_the_results(run):
    text = vcd_text(run)
    assert "one time unit = one clock cycle" in text.splitlines()[0]
    busy, strings, end = vcd_busy(text)
    assert end == run.total_cycles
    for unit in ("conv", "add", "dma"):
        assert busy.get(unit, 0) == run.units[unit].busy_cycles
    started = {(t, value) for t, _, value in strings if value != "-"}
    assert started == {(r.start, r.id) for r in run.ops if r.end > r.start}


def test_traces_are_byte_identical_run_to_run():
    hw = load_hw(DEFAULT_HW)
    a = simulate(hw, load_workload(BLOCK), "pipelined", 4)
    b = simulate(hw, load_workload(BLOCK), "pipelined", 4)
    assert perfetto_text(a) == perfetto_text(b) and vcd_text(a) == vcd_text(b)


def test_perfetto_energy_counter_climbs_to_the_results_energy(run):
    doc = json.loads(perfetto_text(run))
    points = [(e["ts"], e["args"]["energy"]) for e in doc["traceEvents"]
              if e["ph"] == "C" and e["name"] == "energy (pJ, cumulative)"]
    assert points[0] == (0, 0.0) and points[-1][0] == run.total_cycles
    assert all(t0 < t1 and e0 <= e1 for (t0, e0), (t1, e1) in itertools.pairwise(points))
    # float sums of per-op energies against the exact total: equal to summation rounding
    assert points[-1][1] == pytest.approx(float(run.energy_pj), rel=1e-12)
    ends = {r.end for r in run.ops} | {0, run.total_cycles}
    assert [t for t, _ in points] == sorted(ends)
    assert doc["otherData"]["energy_pj"] == float(run.energy_pj)
    slices = [e for e in doc["traceEvents"] if e["ph"] == "X" and e["cat"] not in ("stage", "barrier")]
    dynamic = sum(float(v) for k, v in run.energy.breakdown.items() if k != "static")
    assert sum(e["args"]["energy_pj"] for e in slices) == pytest.approx(dynamic, rel=1e-12)
