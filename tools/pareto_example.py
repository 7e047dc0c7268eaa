"""Make docs/images/pareto_example.png: a sweep of real runs (docs/pareto_example.yaml) and its
Pareto front, as a user would make them:

    python tools/pareto_example.py [--store pareto_example.db] [-o docs/images/pareto_example.png]

runs `accelsim sweep docs/pareto_example.yaml -o STORE`, then
`accelsim pareto STORE --x total_cycles --y energy_pj --z area_mm2 -o PNG` (which prints the
table docs/pareto.md shows).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accelsim.cli import main  # noqa: E402


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="keep the store here (default: a temporary one)")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "images" / "pareto_example.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = str(args.store or Path(tmp) / "pareto_example.db")
        return (main(["sweep", str(ROOT / "docs" / "pareto_example.yaml"), "-o", store, "--no-progress"])
                or main(["pareto", store, "--x", "total_cycles", "--y", "energy_pj", "--z", "area_mm2",
                         "-o", str(args.output)]))


if __name__ == "__main__":
    sys.exit(run())
