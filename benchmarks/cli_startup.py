"""CLI startup: wall time of importing accelsim and of one `accelsim run`, against the bare
imports every run needs.

    python benchmarks/cli_startup.py [--repeat 5] [--as-is]

Each command runs in a fresh interpreter (this one, from the repository root, so the
checkout's accelsim is imported), once per round, round after round; each figure is the
best of `--repeat` rounds. Ratios are to `import numpy, simpy, yaml`; pydantic's share is
what importing the names accelsim.schema uses adds to `import simpy, yaml`.

Bytecode is cached in a temporary directory (as an installed package's would be), even
under PYTHONDONTWRITEBYTECODE; `--as-is` keeps the environment as it is (with
PYTHONDONTWRITEBYTECODE=1, every accelsim module is compiled from source on every run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ["run", "hwconfigs/default.yaml", "traces/resnet50.yaml", "--schedule", "pipelined"]
BASELINE, NO_NUMPY, PYDANTIC = "import numpy, simpy, yaml", "import simpy, yaml", "... and pydantic"
CLI, RUN_NAME = "import accelsim.cli", "accelsim run (ResNet-50, pipelined)"
SCHEMA_NAMES = "from pydantic import ConfigDict, Field, TypeAdapter, ValidationError"
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    BASELINE: ["-c", BASELINE],
    NO_NUMPY: ["-c", NO_NUMPY],
    PYDANTIC: ["-c", f"{NO_NUMPY}; {SCHEMA_NAMES}"],
    "import accelsim": ["-c", "import accelsim"],
    CLI: ["-c", CLI],
    RUN_NAME: ["-m", "accelsim.cli", *RUN],
}


def wall(args: list[str], env: dict[str, str]) -> float:
    """Seconds one fresh interpreter takes to run `args` (output discarded)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="best of this many rounds (default 5)")
    parser.add_argument("--as-is", action="store_true", help="no bytecode cache of its own")
    args = parser.parse_args()
    best = dict.fromkeys(COMMANDS, float("inf"))
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ)
        if not args.as_is:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = cache
            for command in COMMANDS.values():          # fills the cache
                wall(command, env)
        for _ in range(args.repeat):
            for name, command in COMMANDS.items():
                best[name] = min(best[name], wall(command, env))
    width = max(map(len, COMMANDS))
    print(f"{'command':<{width}}  {'best s':>7}  {'x baseline':>10}")
    for name, seconds in best.items():
        print(f"{name:<{width}}  {seconds:>7.3f}  {seconds / best[BASELINE]:>9.2f}x")
    print(f"\naccelsim {' '.join(RUN)}: {best[RUN_NAME]:.3f} s = importing accelsim.cli "
          f"{best[CLI]:.3f} s (of which pydantic {best[PYDANTIC] - best[NO_NUMPY]:.3f} s) + the rest "
          f"(load, schedule, simulate, print) {best[RUN_NAME] - best[CLI]:.3f} s")


if __name__ == "__main__":
    main()
