"""Load a credit-control workbook into engine-ready frames, with every problem found.

The workbook is a saved file (a path: the commands, letters, statements) or a book open
in Excel or xlwings Lite (`workbook.open_book.OpenBook`: the Refresh and Validate
buttons, the Lite script); both are read into the same `CreditBook` and checked alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xl_addin.core.problems import Problem
from xl_addin.core.statements import Period
from xl_addin.core.validate import check_customers, check_ledger
from xl_addin.workbook.csv_ledger import read_csv_ledger
from xl_addin.workbook.frames import engine_customers, engine_ledger
from xl_addin.workbook.open_book import OpenBook, read_open_book
from xl_addin.workbook.reader import CreditBook, read_workbook

Workbook = Path | OpenBook  # a saved file, or a book open in Excel or xlwings Lite


@dataclass(frozen=True, slots=True)
class LoadedBook:
    """A workbook read and checked: the book, and frames in the engine's columns."""

    book: CreditBook
    customers: pd.DataFrame
    ledger: pd.DataFrame
    problems: tuple[Problem, ...]


def load_book(
    source: Workbook, ledger_csv: Path | None = None
) -> LoadedBook | tuple[Problem, ...]:
    """Read and check a workbook; return the loaded book, or the problems that stop the run."""
    problems: list[Problem] = []
    ledger_table = read_csv_ledger(ledger_csv, problems) if ledger_csv else None
    if isinstance(source, OpenBook):
        book, read_problems = read_open_book(source, ledger=ledger_table)
    else:
        book, read_problems = read_workbook(Path(source), ledger=ledger_table)
    return checked_book(book, [*problems, *read_problems])


def checked_book(
    book: CreditBook | None, problems: list[Problem]
) -> LoadedBook | tuple[Problem, ...]:
    """A book as read (with the problems reading found), checked and framed for the engine."""
    if book is None or book.ledger is None or problems:
        return tuple(problems)
    customers = engine_customers(book.customers.frame, book.settings.base_currency)
    ledger = engine_ledger(book.ledger.frame, customers, book.settings.base_currency)
    problems += check_customers(customers, book.policy)
    problems += check_ledger(ledger, customers)
    if problems:
        return tuple(problems)
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


def resolve_as_of(book: CreditBook, as_of: dt.date | None) -> dt.date:
    """The as-of date: the one asked for, else Settings.AsOfDate, else today."""
    return as_of or book.settings.as_of or dt.date.today()
