"""Make docs/images/pareto_example.png: a small store of real runs and its Pareto front.

    python tools/pareto_example.py [--store pareto_example.db] [-o docs/images/pareto_example.png]

Runs resnet50_convadd on the shipped default machine (timed DRAM) over array shapes
(rows x cols), the three schedules and two datatypes with `simulate` (as `accelsim run`
does), commits each point to a sweep store (accelsim.sweep.store.Store) with its parameters,
then runs `accelsim pareto STORE --x total_cycles --y energy_pj --z area_mm2 -o PNG`.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accelsim import load_hw, load_workload, simulate  # noqa: E402
from accelsim.cli import main  # noqa: E402
from accelsim.errors import AccelsimError  # noqa: E402
from accelsim.options import RunOptions  # noqa: E402
from accelsim.shipped import resolve  # noqa: E402
from accelsim.sweep.metrics import result_metrics  # noqa: E402
from accelsim.sweep.store import Store, point_key  # noqa: E402

SHAPES = ((16, 16), (32, 32), (64, 64), (16, 64))
SCHEDULES = ("serial", "fused", "pipelined")
DTYPES = ("int8", "fp16")


def fill(store: Path) -> int:
    base = load_hw(resolve("default", "hw"))
    workload = load_workload(resolve("resnet50_convadd", "workload"))
    added = 0
    with Store(store) as db:
        for (rows, cols), schedule, dtype in itertools.product(SHAPES, SCHEDULES, DTYPES):
            hw = dataclasses.replace(base, systolic_array=dataclasses.replace(base.systolic_array,
                                                                              rows=rows, cols=cols))
            options = RunOptions(schedule=schedule, dtype=dtype)
            params = {"systolic_array.rows": rows, "systolic_array.cols": cols, "schedule": schedule,
                      "dtype": dtype}
            try:
                metrics, error = result_metrics(simulate(hw, workload, options=options)), None
            except AccelsimError as exc:
                metrics, error = None, str(exc)
            added += db.add(point_key(hw, workload, options), params, metrics, error=error)
    return added


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="keep the store here (default: a temporary one)")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "images" / "pareto_example.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "pareto_example.db"
        fill(store)
        return main(["pareto", str(store), "--x", "total_cycles", "--y", "energy_pj", "--z", "area_mm2",
                     "-o", str(args.output)])


if __name__ == "__main__":
    sys.exit(run())
