"""Reading a branch workbook of N ledger rows: our reader vs pandas.read_excel(openpyxl).

Run by hand: python benchmarks/bench_reader.py [N]   (default 100,000).

Our reader (workbook.reader.read_workbook) reads the whole workbook: Settings,
Customers, Ledger and Policy, error cells, dates and amounts typed, every bad
cell located. pandas reads only the Ledger sheet, untyped, with openpyxl: what
a user's script would do. Also printed: load_book, the reader plus the ledger
checks and the engine's frames, which is what every command runs. Each of ours
is the median of three runs.
"""

from __future__ import annotations

import statistics
import sys
import time

import pandas as pd

from benchmarks.workbooks import branch_workbook
from xl_addin.services.book import LoadedBook, load_book
from xl_addin.workbook.reader import read_workbook


def _median_time(function, *args) -> tuple[float, object]:
    times, result = [], None
    for _ in range(3):
        start = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(rows: int) -> None:
    path = branch_workbook(rows)
    reader, (book, problems) = _median_time(read_workbook, path)
    assert book is not None and not problems, problems[:3]
    loader, loaded = _median_time(load_book, path)
    assert isinstance(loaded, LoadedBook), loaded[:3]
    start = time.perf_counter()
    frame = pd.read_excel(path, sheet_name="Ledger", engine="openpyxl")
    theirs = time.perf_counter() - start
    assert len(frame) == len(book.ledger.frame)
    print(f"reading {len(frame):,} ledger rows (+{len(book.customers.frame):,} customers):")
    print(f"  pandas.read_excel(openpyxl), Ledger only, untyped: {theirs:.2f} s")
    print(
        f"  our reader, whole workbook, typed and located:     {reader:.2f} s, "
        f"ratio {theirs / reader:.1f}x"
    )
    print(f"  load_book (reader + checks + engine frames):       {loader:.2f} s, "
          f"ratio {theirs / loader:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
