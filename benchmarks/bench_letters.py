"""`credit-control letters` on a branch workbook of N ledger rows vs openpyxl's load + save.

Run by hand: python -m benchmarks.bench_letters [N] [ROUNDS]   (N 10000, 100000 or
1000000; default 100,000 and one round).

Ours: the whole command in a fresh process, as of 2026-11-30 (the workbook's
AsOfDate): read, check, age, plan, render each letter and call sheet to --out,
record each in a fresh journal, write History back to the workbook. The
alternative: openpyxl loading and saving the same file, the least any
openpyxl-based tool pays. See benchmarks/commands.py for how each child's CPU,
wall time and peak RSS are taken.
"""

from __future__ import annotations

import sys
from collections import Counter

from benchmarks.commands import arguments, compare
from xl_addin.services.demo import DEFAULT_AS_OF


def issued(output: dict) -> str:
    documents = output["documents"]
    stages = Counter(d["StageKey"] for d in documents)
    by_stage = ", ".join(f"{key} {count:,}" for key, count in stages.most_common())
    return f"{len(documents):,} documents issued ({by_stage})"


if __name__ == "__main__":
    rows, rounds = arguments(sys.argv)
    compare("letters", rows, ["--as-of", DEFAULT_AS_OF.isoformat()], issued, rounds)
