"""`credit-control statements` on a branch workbook of N ledger rows vs openpyxl's load + save.

Run by hand: python -m benchmarks.bench_statements [N] [ROUNDS]   (N 10000, 100000 or
1000000; default 100,000 and one round).

Ours: the whole command in a fresh process for the workbook's period
(Settings.StatementPeriod, 2026-11, issued as of its AsOfDate): read, check, build
and render each customer's statement to --out, record each in a fresh journal,
write History back to the workbook. The alternative: openpyxl loading and saving
the same file, the least any openpyxl-based tool pays. See benchmarks/commands.py
for how each child's CPU, wall time and peak RSS are taken. Rendering alone against
docxtpl is bench_statement_render.py.
"""

from __future__ import annotations

import sys

from benchmarks.commands import arguments, compare


def issued(output: dict) -> str:
    documents = output["documents"]
    return f"{len(documents):,} statements issued"


if __name__ == "__main__":
    rows, rounds = arguments(sys.argv)
    compare("statements", rows, [], issued, rounds)
