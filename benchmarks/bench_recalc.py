"""What a full recalculation of a branch workbook costs in Excel: calls into Python, and
the Python time behind them.

Run by hand: python -m benchmarks.bench_recalc [ROWS ...]   (default 1000 10000 100000).

For each size, on the workbook `credit-control new` makes (benchmarks.workbooks.
live_workbook: the demo's data):

- Python calls: every formula cell that calls one of our functions (xl_addin.udfs)
  counts once: Excel makes one COM round trip per such cell in a full recalculation.
  Ours: the two block functions of the Live sheet. The alternative it replaced (the
  template up to commit 42b4ce0) called AGE_DAYS, AGE_BUCKET and ESCALATION_STAGE in
  every Ledger row and CREDIT_HEADROOM, CREDIT_STATUS and ESCALATION_STAGE in every
  Customers row: 3 calls per row of each, counted here from the same workbook's rows.
- Excel's overhead: calls x 4-13 ms, the per-call cost xlwings' own tracker measured
  through COM (xlwings issue 1976). It is an estimate: Excel cannot run here.
- Python work: the two block functions called in this process with the tables'
  values as xlwings hands them (numbers floats, dates datetimes, blanks None), CPU
  seconds each (the second finds the first's result) and the peak RSS of the process.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time

import python_calamine

from benchmarks.workbooks import live_workbook
from xl_addin import udfs
from xl_addin.workbook.schema import CUSTOMERS, LEDGER
from xl_addin.workbook.template import POLICY_ARGUMENTS

PER_CALL_MS = (4, 13)


def python_calls(path) -> tuple[int, int, int]:
    """(our calls, Ledger rows, Customers rows), read from the workbook's sheets."""
    from openpyxl import load_workbook
    from openpyxl.formula.tokenizer import Token, Tokenizer

    ours = {n.upper() for n in ("ledger_columns", "customer_columns", "age_days", "age_bucket",
                                "escalation_stage", "credit_headroom", "credit_status")}
    book = load_workbook(path, read_only=True)
    calls, rows, seen = 0, {}, {}
    for sheet in book.worksheets:
        count = 0
        for row in sheet.iter_rows():
            count += 1
            for cell in row:
                text = getattr(cell.value, "text", cell.value)
                if not (isinstance(text, str) and text.startswith("=")):
                    continue
                if text not in seen:
                    seen[text] = sum(t.type == Token.FUNC and t.value.rstrip("(").upper() in ours
                                     for t in Tokenizer(text).items)  # fmt: skip
                calls += seen[text]
        rows[sheet.title] = count - 1  # the header row
    return calls, rows["Ledger"], rows["Customers"]


def arguments(path) -> dict[str, list[list[object]]]:
    """Each table's values (header first) as xlwings gives a range to a function."""
    book = python_calamine.CalamineWorkbook.from_path(str(path), load_tables=True)
    out = {}
    for name in ("Ledger", "Customers", "Settings", "Contacts", *POLICY_ARGUMENTS):
        table = book.get_table_by_name(name)
        header = [str(c) for c in table.columns]
        rows = [header, *table.to_python()]
        if name in ("Ledger", "Customers"):  # the input columns: [CustomerID]:[...]
            spec = LEDGER if name == "Ledger" else CUSTOMERS
            rows = [r[: len(spec.columns)] for r in rows]
        out[name] = [[_as_xlwings(v) for v in r] for r in rows]
    return out


def _as_xlwings(value):
    if value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def measure(rows: int) -> str:
    path = live_workbook(rows)
    calls, ledger_rows, customer_rows = python_calls(path)
    before = 3 * ledger_rows + 3 * customer_rows
    a = arguments(path)
    policy = [a[t] for t in POLICY_ARGUMENTS]
    start = time.process_time()
    ledger = udfs.ledger_columns(a["Ledger"], a["Customers"], a["Settings"], a["Contacts"],
                                 *policy)  # fmt: skip
    first = time.process_time() - start
    start = time.process_time()
    customers = udfs.customer_columns(a["Customers"], a["Ledger"], a["Settings"], a["Contacts"],
                                      *policy)  # fmt: skip
    second = time.process_time() - start
    assert len(ledger) == ledger_rows and len(customers) == customer_rows, "blocks misaligned"
    assert not str(ledger[0][0]).startswith("#"), ledger[0][0]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    low, high = (calls * ms / 1000 for ms in PER_CALL_MS)
    low_before, high_before = (before * ms / 1000 for ms in PER_CALL_MS)
    return (f"SUMMARY {dt.date.today()} bench_recalc N={ledger_rows:,} ({customer_rows:,} "
            f"customers): Python calls per full recalculation ours {calls} "
            f"(Excel overhead {low:.2f}-{high:.2f} s), per-row template {before:,} "
            f"({low_before:,.0f}-{high_before:,.0f} s); Python CPU LEDGER_COLUMNS {first:.2f} s, "
            f"CUSTOMER_COLUMNS {second:.2f} s; peak RSS {rss:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000, 100000]
    for size in sizes:
        print(measure(size), flush=True)
