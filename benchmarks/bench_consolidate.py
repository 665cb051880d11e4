"""`credit-control consolidate` of B branch workbooks of N ledger rows each: wall time and
CPU, one process per core vs one branch after another.

Run by hand: python -m benchmarks.bench_consolidate [BRANCHES] [N]   (default 50 and 20,000;
the target is under a minute for 50 branches of 20,000 rows).

The branches are copies of the cached demo workbook of N rows (benchmarks.workbooks), each
under its own file name; the rates file gives GBP, USD and EUR in CNY. Both sides run the
same service in this process (the parallel side's workers are child processes: their CPU
is the children's rusage); peak RSS is this process's and its largest child's.
"""

from __future__ import annotations

import datetime as dt
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.workbooks import branch_workbook
from xl_addin.services.consolidate import ConsolidateResult, consolidate

RATES = "Currency,Rate,Date\nGBP,9.1234,2026-11-28\nUSD,7.1,2026-11-28\nEUR,7.7,2026-11-28\n"


def run(paths: list[Path], out: Path, rates: Path, workers: int) -> tuple[float, float]:
    """Wall and CPU seconds (this process and its children) of one consolidation."""
    before = [resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                  resource.RUSAGE_CHILDREN)]  # fmt: skip
    start = time.perf_counter()
    result = consolidate(paths, out, rates, workers=workers)
    wall = time.perf_counter() - start
    after = [resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                 resource.RUSAGE_CHILDREN)]  # fmt: skip
    assert isinstance(result, ConsolidateResult) and not result.failed, result
    cpu = sum((a.ru_utime + a.ru_stime) - (b.ru_utime + b.ru_stime)
              for a, b in zip(after, before, strict=True))  # fmt: skip
    return wall, cpu


def main(branches: int, rows: int) -> None:
    source = branch_workbook(rows)
    with tempfile.TemporaryDirectory(prefix="xl-addin-group-") as folder:
        paths = []
        for n in range(1, branches + 1):
            path = Path(folder) / f"B{n:02d}.xlsx"
            shutil.copy(source, path)
            paths.append(path)
        rates = Path(folder) / "rates.csv"
        rates.write_text(RATES, encoding="utf-8")
        parallel = run(paths, Path(folder) / "group.xlsx", rates, workers=0)
        serial = run(paths, Path(folder) / "group-serial.xlsx", rates, workers=1)
    who = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    peak = max(resource.getrusage(w).ru_maxrss for w in who) / 1024
    print(f"consolidate {branches} branches of {rows:,} ledger rows:")
    print(f"  one process per core: {parallel[0]:.1f} s wall, {parallel[1]:.1f} s CPU")
    print(f"  one branch after another: {serial[0]:.1f} s wall, {serial[1]:.1f} s CPU")
    print(f"SUMMARY {dt.date.today()} bench_consolidate B={branches} N={rows:,}: "
          f"{parallel[0]:.1f} s wall ({parallel[1]:.1f} s CPU) in parallel, "
          f"{serial[0]:.1f} s wall one after another ({serial[0] / parallel[0]:.2f}x); "
          f"peak RSS {peak:.0f} MiB; target 60 s wall")


if __name__ == "__main__":
    arguments = [int(a.replace(",", "").replace("_", "")) for a in sys.argv[1:]]
    main(*(arguments + [50, 20_000][len(arguments):]))
