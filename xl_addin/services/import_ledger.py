"""The import use case: put the documents of an ERP export into the workbook's Ledger table.

The file is read in whichever shape it comes (workbook.ledger_file: our layout, an
open-items list, a debit/credit ledger). Documents are matched by DocNo: one already in
the Ledger is replaced in its own row when anything differs, a new one is added under
the table. The ledger as it would be after the import is checked and aged before
anything is written; a problem anywhere stops the import with nothing changed, and a
problem in an imported row names the file's row and column. Then the Ledger rows, the
computed columns and the Aging sheet are written in one safe save (a temporary file, an
atomic replace, the previous version kept as a backup): the workbook comes out refreshed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from xl_addin.core.dates import to_date
from xl_addin.core.money import to_decimal
from xl_addin.core.problems import Problem, Source
from xl_addin.services.book import as_of_update
from xl_addin.services.refresh import (
    MONEY_FORMAT,
    RefreshResult,
    aging_sheet,
    compute,
    customer_update,
    ledger_update,
)
from xl_addin.services.run_lock import workbook_lock
from xl_addin.workbook.ledger_file import LedgerFile, read_ledger_file
from xl_addin.workbook.reader import read_workbook
from xl_addin.workbook.safe_save import refuse_unwritable
from xl_addin.workbook.schema import LEDGER
from xl_addin.workbook.tables import LAST_ROW, Table
from xl_addin.workbook.updates import ColumnUpdate

INPUT_FIELDS = tuple(c.field for c in LEDGER.columns)
Step = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import found in the file and did (or, in a dry run, would do) to the Ledger."""

    file: Path
    shape: str  # ledger, open-items or debit-credit (workbook.ledger_file)
    rows: int  # documents read from the file
    added: tuple[str, ...]  # DocNo of each document added under the table
    replaced: tuple[str, ...]  # DocNo of each document whose row was rewritten
    unchanged: tuple[str, ...]  # DocNo of each document already there as it is in the file
    refreshed: RefreshResult
    dry_run: bool
    backup: Path | None = None


def import_ledger(
    workbook: Path,
    file: LedgerFile,
    *,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    step: Step = lambda _: None,
) -> ImportResult | tuple[Problem, ...]:
    """Import the documents of `file` into the workbook's Ledger; return what changed, or
    every problem found (and change nothing). The workbook is held for the run (as letters,
    statements and refresh hold it)."""
    if dry_run or not Path(workbook).is_file():
        return _import(workbook, file, as_of, dry_run, step)
    with workbook_lock(Path(workbook), "import"):
        refuse_unwritable(Path(workbook))  # before the run, not after it
        return _import(workbook, file, as_of, dry_run, step)


def _import(workbook, file, as_of, dry_run, step) -> ImportResult | tuple[Problem, ...]:
    step(f"Reading {file.path.name}")
    problems: list[Problem] = []
    imported = read_ledger_file(file, problems)
    if imported is not None:
        problems += _repeated_numbers(imported)
    book, read_problems = read_workbook(Path(workbook))
    problems += read_problems
    if imported is None or book is None or book.ledger is None or problems:
        return tuple(problems)
    existing = book.ledger
    beyond = _past_last_row(existing, imported)
    if beyond:
        return beyond
    merged, plan = _merge(existing, imported)
    step("Checking and ageing the ledger with the imported documents")
    result = compute(workbook, as_of, merged)
    if not isinstance(result, RefreshResult):
        return _relocated(result, existing, imported, plan.file_rows)
    added = tuple(merged.frame["doc_no"].iloc[plan.added])
    replaced = tuple(merged.frame["doc_no"].iloc[plan.replaced])
    shape = imported.frame.attrs.get("shape", file.shape)
    outcome = ImportResult(Path(file.path), shape, len(imported.frame), added, replaced,
                           plan.unchanged, result, dry_run)  # fmt: skip
    if dry_run:
        return outcome
    step("Writing the workbook")
    from xl_addin.workbook.writer import write_refresh

    written = plan.added + plan.replaced
    updates = [
        _rows_update(existing, merged.frame.iloc[sorted(written)]),
        customer_update(result.loaded, result.state),
        ledger_update(result.loaded, result.state),
        *as_of_update(result.loaded.book, result.state.aging.as_of),
    ]
    backup = write_refresh(Path(workbook), updates, [aging_sheet(result)])
    return replace(outcome, backup=backup)


@dataclass(frozen=True, slots=True)
class _Plan:
    added: list[int]  # positions in the merged frame
    replaced: list[int]
    unchanged: tuple[str, ...]
    file_rows: dict[int, int]  # worksheet row the document goes to -> its row in the file


def _merge(existing: Table, imported: Table) -> tuple[Table, _Plan]:
    """The Ledger as it would be: its rows, each imported document in its DocNo's row or
    in a new row under the table."""
    old = existing.frame
    new = imported.frame
    row_of = dict(zip(old["doc_no"], old["row"].astype(int), strict=True))
    position_of = {doc_no: i for i, doc_no in enumerate(old["doc_no"])}
    next_row = max([existing.raw.header_row, *row_of.values()]) + 1
    frame = old[["row", *INPUT_FIELDS]].copy()
    added: list[int] = []
    replaced: list[int] = []
    unchanged: list[str] = []
    file_rows: dict[int, int] = {}
    appended = []
    for i in range(len(new)):
        record = new.iloc[i]
        doc_no = record["doc_no"]
        if doc_no in position_of:
            at = position_of[doc_no]
            if _same(frame.iloc[at], record):
                unchanged.append(doc_no)
                continue
            for field in INPUT_FIELDS:
                frame.at[frame.index[at], field] = record[field]
            replaced.append(at)
            file_rows[row_of[doc_no]] = int(record["row"])
        else:
            appended.append({"row": next_row, **{f: record[f] for f in INPUT_FIELDS}})
            file_rows[next_row] = int(record["row"])
            next_row += 1
    if appended:
        start = len(frame)
        frame = pd.concat([frame, pd.DataFrame(appended)], ignore_index=True)
        added = list(range(start, len(frame)))
    frame = _typed(frame)
    frame.attrs = {"sheet": existing.raw.sheet, "letters": dict(existing.letters)}
    merged = Table(existing.raw, frame, dict(existing.letters))
    return merged, _Plan(added, replaced, tuple(unchanged), file_rows)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The merged frame in the reader's dtypes: dates as datetime64[D], cents as float."""
    out = frame.copy()
    for field in ("doc_date", "due_date"):
        out[field] = pd.to_datetime(out[field]).to_numpy(dtype="datetime64[D]")
    out["amount_cents"] = out["amount_cents"].astype(np.float64)
    out["disputed"] = out["disputed"].astype(bool)
    out["row"] = out["row"].astype(np.int64)
    for field in ("customer_id", "doc_type", "doc_no", "applies_to", "currency", "reference",
                  "notes"):  # fmt: skip
        out[field] = out[field].astype(object).where(out[field].notna(), "")
    return out


def _same(old: pd.Series, new: pd.Series) -> bool:
    for field in INPUT_FIELDS:
        a, b = old[field], new[field]
        if pd.isna(a) and pd.isna(b):
            continue
        if field in ("doc_date", "due_date"):
            if pd.isna(a) or pd.isna(b) or pd.Timestamp(a) != pd.Timestamp(b):
                return False
        elif a != b:
            return False
    return True


def _repeated_numbers(imported: Table) -> list[Problem]:
    """A DocNo twice in the file: which row would win is a guess; say where both are."""
    frame = imported.frame
    seen: dict[str, int] = {}
    problems = []
    for doc_no, row in zip(frame["doc_no"], frame["row"], strict=True):
        if not doc_no:
            continue
        if doc_no in seen:
            problems.append(Problem(imported.source(int(row), "doc_no"), f"document number "
                                    f"{doc_no} appears twice (first in row {seen[doc_no]})"))
        else:
            seen[doc_no] = int(row)
    return problems


def _past_last_row(existing: Table, imported: Table) -> tuple[Problem, ...]:
    """The Ledger grown past a worksheet's last row, which Excel cannot open: said of the
    file before anything is merged or written (the new documents are counted, not built)."""
    old = existing.frame
    added = int((~imported.frame["doc_no"].isin(old["doc_no"])).sum())
    last = max(existing.raw.header_row, int(old["row"].max()) if len(old) else 0) + added
    if last <= LAST_ROW:
        return ()
    message = (f"the Ledger would hold {len(old) + added:,} documents ({len(old):,} and "
               f"{added:,} added), down to row {last:,}: a worksheet ends at row "
               f"{LAST_ROW:,}, past which Excel cannot open the workbook; archive settled "
               "documents or import the file in parts")  # fmt: skip
    return (Problem(Source(imported.raw.sheet), message),)


def _relocated(problems, existing: Table, imported: Table, file_rows: dict[int, int]):
    """Problems in rows that come from the file, said of the file's row and column."""
    field_of = {letter: field for field, letter in existing.letters.items()}
    out = []
    for problem in problems:
        source = problem.source
        if source.sheet == existing.raw.sheet and source.row in file_rows:
            field = field_of.get(source.column)
            source = imported.source(file_rows[source.row], field)
        out.append(Problem(source, problem.message))
    return tuple(out)


def _rows_update(existing: Table, rows: pd.DataFrame) -> ColumnUpdate:
    """The input columns of the documents added or replaced, in the Ledger's own columns
    (a column the table lacks is added only when an imported document fills it)."""
    values: dict[str, list[object]] = {}
    for column in LEDGER.columns:
        cells = [_cell(column.field, v) for v in rows[column.field]]
        if column.field in existing.letters or any(c not in (None, "") for c in cells):
            values[column.header] = cells
    return ColumnUpdate(
        sheet=existing.raw.sheet,
        header_row=existing.raw.header_row,
        first_column=existing.raw.first_column,
        table=existing.raw.table,
        rows=[int(r) for r in rows["row"]],
        values=values,
        number_formats={"Amount": MONEY_FORMAT, "DocDate": "yyyy-mm-dd",
                        "DueDate": "yyyy-mm-dd"},
        aliases={c.header: c.aliases for c in LEDGER.columns},
    )


def _cell(field: str, value: object) -> object:
    if field in ("doc_date", "due_date"):
        return None if pd.isna(value) else to_date(np.datetime64(value, "D"))
    if field == "amount_cents":
        return None if pd.isna(value) else to_decimal(int(value))
    if field == "disputed":
        return "Y" if value else None
    return value or None

