"""Reading a branch workbook of N ledger rows: our reader vs pandas.read_excel with calamine.

Run by hand: python -m benchmarks.bench_reader [N]   (default 100,000).

The comparison: our reader (workbook.reader.read_workbook) against
`pandas.read_excel(path, sheet_name="Ledger", engine="calamine")`, the fastest way
pandas has to read the sheet (calamine is a Rust reader). Target: ours within 1.2x
of it. The sides do not do the same work, and the difference is in pandas' favour:
ours reads the whole workbook (Settings, Customers, Ledger, Policy), types dates and
amounts, and locates every bad cell; pandas reads the Ledger sheet only, untyped.
Also printed: load_book (the reader plus the ledger checks and the engine's frames,
what every command runs) and pandas with openpyxl (what older scripts use).

Each side is the best of three runs in this process (noise only adds time), CPU
(time.process_time) and wall; openpyxl, being slow, runs once. Peak RSS is this
process's ru_maxrss (KiB on Linux) after our reader's runs, before pandas reads.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time

import pandas as pd

from benchmarks.workbooks import branch_workbook
from xl_addin.services.book import LoadedBook, load_book
from xl_addin.workbook.reader import read_workbook


def _best(function, *args, runs: int = 3) -> tuple[float, float, object]:
    """Best wall and best CPU seconds of `runs` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function(*args)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def _ledger_sheet(path, engine: str) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name="Ledger", engine=engine)


def main(rows: int) -> None:
    path = branch_workbook(rows)
    ours_wall, ours_cpu, (book, problems) = _best(read_workbook, path)
    assert book is not None and not problems, problems[:3]
    ours_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loader_wall, loader_cpu, loaded = _best(load_book, path)
    assert isinstance(loaded, LoadedBook), loaded
    calamine_wall, calamine_cpu, frame = _best(_ledger_sheet, path, "calamine")
    assert len(frame) == len(book.ledger.frame)
    openpyxl_wall, openpyxl_cpu, frame = _best(_ledger_sheet, path, "openpyxl", runs=1)
    assert len(frame) == len(book.ledger.frame)

    print(
        f"reading {len(frame):,} ledger rows (+{len(book.customers.frame):,} customers) "
        f"from {path.name}, best of 3 (openpyxl: 1 run):"
    )
    print(
        f"  THE COMPARISON: ours / pandas+calamine = {ours_cpu / calamine_cpu:.2f}x CPU, "
        f"{ours_wall / calamine_wall:.2f}x wall (target: at most 1.2x)"
    )
    print(f"  {'':58} {'CPU s':>7} {'wall s':>7}")
    for label, cpu, wall in (
        ('pandas.read_excel(engine="calamine"), Ledger only, untyped', calamine_cpu,
         calamine_wall),
        ("our reader, whole workbook, typed and located", ours_cpu, ours_wall),
        ("load_book (our reader + checks + engine frames)", loader_cpu, loader_wall),
        ('pandas.read_excel(engine="openpyxl"), Ledger only', openpyxl_cpu, openpyxl_wall),
    ):  # fmt: skip
        print(f"  {label:58} {cpu:7.2f} {wall:7.2f}")
    print(
        f"  pandas+openpyxl / ours: {openpyxl_cpu / ours_cpu:.1f}x CPU; "
        f"peak RSS after our reader {ours_rss:.0f} MiB (this process)"
    )
    print(
        f"SUMMARY {dt.date.today()} bench_reader N={rows:,}: ours {ours_cpu:.2f} s CPU "
        f"({ours_wall:.2f} s wall); alternative pandas+calamine {calamine_cpu:.2f} s CPU "
        f"({calamine_wall:.2f} s wall); ratio ours/calamine {ours_cpu / calamine_cpu:.2f}x CPU "
        f"(target <= 1.2x); peak RSS {ours_rss:.0f} MiB"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
