"""Load a credit-control workbook into engine-ready frames, with every problem found.

The workbook is a saved file (a path: the commands, letters, statements) or a book open
in Excel or xlwings Lite (`workbook.open_book.OpenBook`: the Refresh and Validate
buttons, the Lite script); both are read into the same `CreditBook` and checked alike.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xl_addin.core.problems import Problem, Source
from xl_addin.core.statements import Period
from xl_addin.core.validate import check_customers, check_ledger
from xl_addin.errors import InputError
from xl_addin.workbook.frames import engine_customers, engine_ledger
from xl_addin.workbook.ledger_file import LedgerFile, read_ledger_file
from xl_addin.workbook.open_book import OpenBook, read_open_book
from xl_addin.workbook.reader import CreditBook, read_workbook
from xl_addin.workbook.schema import SETTINGS
from xl_addin.workbook.tables import Table
from xl_addin.workbook.updates import ColumnUpdate

Workbook = Path | OpenBook  # a saved file, or a book open in Excel or xlwings Lite
# Where the ledger comes from instead of the Ledger sheet: an ERP export (a path, or a
# LedgerFile saying its shape and date order), or a table already read (an import's).
LedgerSource = Path | LedgerFile | Table


@dataclass(frozen=True, slots=True)
class LoadedBook:
    """A workbook read and checked: the book, and frames in the engine's columns."""

    book: CreditBook
    customers: pd.DataFrame
    ledger: pd.DataFrame
    problems: tuple[Problem, ...]


def load_book(
    source: Workbook, ledger_csv: LedgerSource | None = None
) -> LoadedBook | tuple[Problem, ...]:
    """Read and check a workbook; return the loaded book, or the problems that stop the run.

    `ledger_csv` takes the ledger from an ERP export (or a table already read) instead of
    the Ledger sheet."""
    problems: list[Problem] = []
    if isinstance(ledger_csv, Table) or ledger_csv is None:
        ledger_table = ledger_csv
    else:
        ledger_table = read_ledger_file(ledger_csv, problems)
        if ledger_table is None:
            return tuple(problems)
    if isinstance(source, OpenBook):
        book, read_problems = read_open_book(source, ledger=ledger_table)
    else:
        book, read_problems = read_workbook(Path(source), ledger=ledger_table)
    return checked_book(book, [*problems, *read_problems])


def checked_book(
    book: CreditBook | None, problems: list[Problem]
) -> LoadedBook | tuple[Problem, ...]:
    """A book as read (with the problems reading found), checked and framed for the engine.

    The checks across rows run even when some cells did not read, on the cells that did:
    every problem is listed in one pass, not the rest only after the first are fixed."""
    if book is None or book.ledger is None:
        return tuple(problems)
    customers = engine_customers(book.customers.frame, book.settings.base_currency)
    ledger = engine_ledger(book.ledger.frame, customers, book.settings.base_currency)
    found = [*check_customers(customers, book.policy), *check_ledger(ledger, customers)]
    if problems or found:
        return tuple(dict.fromkeys([*problems, *found]))  # in order, each once
    return LoadedBook(book, customers, ledger, ())


def saved_path(source: Workbook) -> Path | None:
    """Where the workbook is saved: the file itself, or an open book's file (None in Lite)."""
    return source.path if isinstance(source, OpenBook) else Path(source)


def resolve_period(book: CreditBook, period: str | None) -> Period:
    """The statement month: the one asked for, else Settings.StatementPeriod, else AsOfDate's."""
    if period:
        return Period.parse(period)
    if book.settings.statement_period:
        return Period.parse(book.settings.statement_period)
    return Period.of(resolve_as_of(book, None))


def period_source(book: CreditBook, period: str | None) -> Source:
    """Where the statement month came from: the --period option, else its Settings cell."""
    return Source("--period") if period else book.settings.source("statement_period")


# The as-of dates a run accepts: reply-by dates, periods and interest run on from them, and
# the calendar ends at 9999-12-31.
AS_OF_RANGE = (dt.date(1900, 3, 1), dt.date(9000, 12, 31))


def resolve_as_of(book: CreditBook, as_of: dt.date | None) -> dt.date:
    """The as-of date: the one asked for, else Settings.AsOfDate, else today (InputError
    outside `AS_OF_RANGE`, naming the option or the cell)."""
    when = as_of or book.settings.as_of or dt.date.today()
    first, last = AS_OF_RANGE
    if not first <= when <= last:
        where = Source("--as-of") if as_of else book.settings.source("as_of")
        raise InputError([Problem(where, f"the as-of date {when} is outside {first} to {last}")])
    return when


def as_of_update(book: CreditBook, when: dt.date) -> list[ColumnUpdate]:
    """Settings.AsOfDate moved to `when` (none: it already says so, or it is blank, which
    means today, or the workbook was not read from its file), for a run that stores values
    computed as of `when`: the workbook's live formulas age from AsOfDate, and Excel would
    otherwise show them, and the Aging sheet's title, as of another day than the cells."""
    settings, table = book.settings, book.settings.table
    where = settings.cells.get("as_of")
    if settings.as_of in (None, when) or table is None or where is None or where.row is None:
        return []
    return [ColumnUpdate(
        sheet=table.raw.sheet, header_row=table.raw.header_row,
        first_column=table.raw.first_column, table=table.raw.table, rows=[where.row],
        values={"Value": [when]}, number_formats={"Value": "yyyy-mm-dd"},
        aliases={c.header: c.aliases for c in SETTINGS.columns},
    )]  # fmt: skip


def output_folder(workbook: Path, settings, out: Path | None, default: str) -> Path:
    """Where a run writes: `out` as given on the command line, else Settings.OutputFolder
    (or `default`) inside the workbook's folder. InputError for an OutputFolder leading
    outside that folder (`../..`, an absolute path elsewhere: a workbook travels, and what
    it says must not write where its reader did not choose), and for a place that is a
    file or a dangling link."""
    base = Path(workbook).parent
    if out is not None:
        folder, where = Path(out), Source("--out")
    else:
        folder, where = base / (settings.output_folder or default), settings.source(
            "output_folder"
        )
        inside = Path(os.path.realpath(base))
        if not Path(os.path.realpath(folder)).is_relative_to(inside):
            raise InputError([Problem(where, (
                f'OutputFolder "{settings.output_folder}" leads outside the workbook\'s folder '
                f"{base}; give --out on the command line to write there"
            ))])  # fmt: skip
    if folder.is_symlink() and not folder.exists():
        raise InputError([Problem(where, f"{folder} is a link to nothing")])
    if folder.exists() and not folder.is_dir():
        raise InputError([Problem(where, f"{folder} is a file, not a folder")])
    return folder
