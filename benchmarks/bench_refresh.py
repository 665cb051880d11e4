"""`credit-control refresh` of a branch workbook of N ledger rows vs openpyxl's load + save.

Run by hand: python -m benchmarks.bench_refresh [N] [ROUNDS] [--live | --later]   (N 10000,
100000, 1000000 or 1048575, Excel's last row; default 100,000 and one round; --live: the
workbook `credit-control new` makes, whose computed cells are formulas, instead of the
builder's plain one; --later: the plain one refreshed once already, as a branch's
workbook stands on any later day, its computed cells holding values to replace).

Ours: the whole command in a fresh process (read, check, age, write the computed
columns and the Aging sheet through a temporary file with a backup), as of the
workbook's AsOfDate, on a fresh copy. The alternative: openpyxl loading and saving
the same file, the least any openpyxl-based tool pays. See benchmarks/commands.py
for how each child's CPU, wall time and peak RSS are taken.
"""

from __future__ import annotations

import sys

from benchmarks.commands import arguments, compare, later, live


def refreshed(output: dict) -> str:
    return f"{len(output['customers']):,} customers refreshed (no documents issued)"


if __name__ == "__main__":
    rows, rounds = arguments(sys.argv)
    compare("refresh", rows, [], refreshed, rounds, live=live(sys.argv), later=later(sys.argv))
