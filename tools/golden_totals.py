"""Write tests/data/golden_totals.csv: total cycles, DRAM bytes and busy cycles per unit of
every run `tests/golden.py` lists. Run from the repository root:

    python tools/golden_totals.py            # rewrite the file
    python tools/golden_totals.py --check    # print the rows that differ, exit 1 if any
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.golden import COLUMNS, cases, measure, read_golden, write_golden


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the file instead of writing it")
    args = parser.parse_args()
    rows = [measure(*case) for case in cases()]
    if not args.check:
        write_golden(rows)
        print(f"wrote {len(rows)} rows")
        return 0
    golden = read_golden()
    moved = 0
    for row in rows:
        key = tuple(row[c] for c in COLUMNS[:4])
        old = golden.get(key)
        diff = {c: (old.get(c) if old else None, row[c]) for c in COLUMNS[4:] if not old or old[c] != row[c]}
        if diff:
            moved += 1
            print(", ".join(key), diff)
    print(f"{moved} of {len(rows)} rows differ")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
