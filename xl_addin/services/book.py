"""Load a credit-control workbook into engine-ready frames, with every problem found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xl_addin.core.problems import Problem
from xl_addin.core.validate import check_customers, check_ledger
from xl_addin.workbook.csv_ledger import read_csv_ledger
from xl_addin.workbook.reader import CreditBook, read_workbook


@dataclass(frozen=True, slots=True)
class LoadedBook:
    """A workbook read and checked: the book, and frames in the engine's columns."""

    book: CreditBook
    customers: pd.DataFrame
    ledger: pd.DataFrame
    problems: tuple[Problem, ...]


def load_book(path: Path, ledger_csv: Path | None = None) -> LoadedBook | tuple[Problem, ...]:
    """Read and check a workbook; return the loaded book, or the problems that stop the run."""
    problems: list[Problem] = []
    ledger_table = read_csv_ledger(ledger_csv, problems) if ledger_csv else None
    book, read_problems = read_workbook(path, ledger=ledger_table)
    problems += read_problems
    if book is None or book.ledger is None or problems:
        return tuple(problems)
    customers = _engine_customers(book)
    ledger = _engine_ledger(book, customers)
    problems += check_customers(customers, book.policy)
    problems += check_ledger(ledger, customers)
    if problems:
        return tuple(problems)
    return LoadedBook(book, customers, ledger, ())


def resolve_as_of(book: CreditBook, as_of: dt.date | None) -> dt.date:
    """The as-of date: the one asked for, else Settings.AsOfDate, else today."""
    return as_of or book.settings.as_of or dt.date.today()


def _engine_customers(book: CreditBook) -> pd.DataFrame:
    frame = book.customers.frame.copy()
    base = book.settings.base_currency
    frame["currency"] = [c.upper() if c else base for c in frame["currency"]]
    for field in ("credit_limit_cents", "open_orders_cents"):
        frame[field] = np.nan_to_num(frame[field].to_numpy(dtype=np.float64)).astype(np.int64)
    frame.attrs = dict(book.customers.frame.attrs)
    return frame


def _engine_ledger(book: CreditBook, customers: pd.DataFrame) -> pd.DataFrame:
    frame = book.ledger.frame.copy()
    currency_of = dict(zip(customers["customer_id"], customers["currency"], strict=True))
    frame["currency"] = [
        c.upper() if c else currency_of.get(cid, book.settings.base_currency)
        for c, cid in zip(frame["currency"], frame["customer_id"], strict=True)
    ]
    frame["amount_cents"] = np.nan_to_num(frame["amount_cents"].to_numpy(np.float64)).astype(
        np.int64
    )
    frame.attrs = dict(book.ledger.frame.attrs)
    return frame
