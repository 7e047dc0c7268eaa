"""The pinned whole-run figures: which runs `tests/data/golden_totals.csv` holds, and how
each row is measured. `tools/golden_totals.py` writes the file; `tests/test_golden_totals.py`
compares every run with it."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from accelsim import AccelsimError, Hardware, hw_from_dict, load_workload, simulate
from tests.helpers import ROOT, changed, hw_data

GOLDEN = ROOT / "tests" / "data" / "golden_totals.csv"
TRACES = ("resnet50_convadd", "resnet50", "resnet18", "mobilenetv2")
SCHEDULES = ("serial", "fused", "pipelined")
SYNCS = ("barrier", "deps")
COLUMNS = ("hw", "workload", "schedule", "sync", "total_cycles", "dram_read_bytes", "dram_write_bytes",
           "conv_busy_cycles", "add_busy_cycles", "dma_busy_cycles", "ops", "error")

# name -> (shipped config, dotted changes): the shipped machines and a few variants of default
MACHINES: dict[str, tuple[str, dict]] = {
    "default": ("default", {}),
    "ideal_memory": ("ideal_memory", {}),
    "ws8x8": ("default", {"systolic_array__rows": 8, "systolic_array__cols": 8,
                          "systolic_array__dataflow": "ws"}),
    "is128x128": ("default", {"systolic_array__rows": 128, "systolic_array__cols": 128,
                              "systolic_array__dataflow": "is"}),
    "dram4": ("default", {"dram__channels": 1, "dram__channel_bytes_per_cycle": 4}),
}


def machine(name: str) -> Hardware:
    base, changes = MACHINES[name]
    return hw_from_dict(changed(hw_data(ROOT / "hwconfigs" / f"{base}.yaml"), name=name, **changes))


def cases() -> Iterator[tuple[str, str, str, str]]:
    for hw_name in MACHINES:
        for trace in TRACES:
            for schedule in SCHEDULES:
                for sync in SYNCS:
                    yield hw_name, trace, schedule, sync


def measure(hw_name: str, trace: str, schedule: str, sync: str) -> dict[str, str]:
    """One row: the run's figures with the CLI's defaults, or the error that stopped it."""
    row = {"hw": hw_name, "workload": trace, "schedule": schedule, "sync": sync}
    try:
        r = simulate(machine(hw_name), load_workload(ROOT / "traces" / f"{trace}.yaml"), schedule, sync=sync)
    except AccelsimError as exc:
        return {**row, **dict.fromkeys(COLUMNS[4:-1], ""), "error": type(exc).__name__}
    return {**row, "total_cycles": str(r.total_cycles), "dram_read_bytes": str(r.dram_read_bytes),
            "dram_write_bytes": str(r.dram_write_bytes),
            **{f"{u}_busy_cycles": str(r.units[u].busy_cycles) for u in ("conv", "add", "dma")},
            "ops": str(len(r.ops)), "error": ""}


HEADER = ("# accelsim pinned totals: every shipped trace x schedule x sync on the machines of "
          "tests/golden.py (CLI defaults otherwise).\n"
          "# Written by `python tools/golden_totals.py`. Change only in a commit of its own that says "
          "which figures moved, by how much, and why.\n")


def read_golden(path: Path = GOLDEN) -> dict[tuple[str, str, str, str], dict[str, str]]:
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return {(r["hw"], r["workload"], r["schedule"], r["sync"]): r for r in csv.DictReader(lines)}


def write_golden(rows: list[dict[str, str]], path: Path = GOLDEN) -> None:
    with path.open("w", newline="") as f:
        f.write(HEADER)
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
