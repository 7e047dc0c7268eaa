"""Every op's (start, end) on real schedules, pinned from the process-per-op engine.

`tests/data/engine_timelines.json` was written by the SimPy engine that ran one
generator process per op with a `Fraction` DRAM model (commit c88abb5), by running
this module there: `python -m tests.engine.test_engine_timelines --write`. The
callback engine must reproduce it exactly: per run, the total cycles, every op's
start and end (cycles), and digests of the DRAM activity and SRAM occupancy histories.
The sync-by-deps runs were rewritten by the engine of issue 12, when sync by deps began to
keep a reference run's issue order (docs/model.md, "Sync by data"), and the mobilenetv2
entries when OS folds became limited by the output drain (`accelsim.cost.systolic_cycles`,
issue 12); the others are c88abb5's.
"""

from __future__ import annotations

import hashlib
import json
import sys

import pytest

from accelsim import load_workload
from accelsim.engine.machine import run_schedule
from accelsim.result import Result
from accelsim.simulation import make_schedule
from tests.helpers import IDEAL_HW, ROOT, hw

TIMELINES = ROOT / "tests" / "data" / "engine_timelines.json"
# 12.8 B/cycle (64/5) and 3 DMA engines: exact shares of a non-integer bandwidth among up to 3
MACHINES = {"dram12.8": {"dram__channels": 1, "dram__channel_bytes_per_cycle": 12.8, "dma__engines": 3},
            "ideal": {}}
# splits "auto": chosen per layer, as the engine of c88abb5 ran serial, fused and networks
RUNS = [("resnet50_convadd", "pipelined", "1"), ("resnet50_convadd", "pipelined", "4"),
        ("resnet50_convadd", "pipelined", "7"), ("resnet50_convadd", "serial", "auto"),
        ("resnet50_convadd", "fused", "auto"), ("mobilenetv2", "pipelined", "auto")]


def cases():
    for machine in MACHINES:
        for trace, schedule, splits in RUNS:
            for sync in ("barrier", "deps"):
                yield f"{machine}/{trace}/{schedule}/{splits}/{sync}"


def simulate(case: str) -> Result:
    machine, trace, schedule, splits, sync = case.split("/")
    h = hw(IDEAL_HW) if machine == "ideal" else hw(**MACHINES[machine])
    return run_schedule(h, make_schedule(h, load_workload(ROOT / "traces" / f"{trace}.yaml"), schedule,
                                         None if splits == "auto" else int(splits)), sync)


def digest(history) -> str:
    return hashlib.sha256(repr([tuple(str(x) for x in step) for step in history]).encode()).hexdigest()[:16]


def timeline(result: Result) -> dict:
    return {"total_cycles": result.total_cycles,
            "starts": [r.start for r in result.ops], "ends": [r.end for r in result.ops],
            "dram_activity": digest(result.dram_activity),
            "sram_occupancy": digest(step for b in sorted(result.sram_occupancy)
                                     for step in result.sram_occupancy[b])}


@pytest.fixture(scope="module")
def pinned() -> dict:
    return json.loads(TIMELINES.read_text())


@pytest.mark.parametrize("case", list(cases()))
def test_every_op_starts_and_ends_as_pinned(case, pinned):
    want, got = pinned[case], timeline(simulate(case))
    assert got["total_cycles"] == want["total_cycles"]
    if "/serial/" in case:
        # the one scheduler lists a serial block's ops as two layers (conv: input, then weights; add),
        # where c88abb5's chain scheduler listed weights first: the same ops at the same times
        pairs = sorted(zip(got["starts"], got["ends"], strict=True))
        assert pairs == sorted(zip(want["starts"], want["ends"], strict=True))
        return
    for i, (start, end) in enumerate(zip(got["starts"], got["ends"], strict=True)):
        assert (start, end) == (want["starts"][i], want["ends"][i]), f"op {i}"
    assert got == want


def write() -> None:
    lines = [f"{json.dumps(case)}: {json.dumps(timeline(simulate(case)), separators=(',', ':'))}"
             for case in cases()]
    TIMELINES.write_text("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    write()
