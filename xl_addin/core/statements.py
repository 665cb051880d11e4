"""Statements of account: opening balance, the period's documents, running balance, closing.

A statement covers one calendar month. The opening balance is every document
dated before the first day; the lines are the documents dated within the month
in date order (ties in ledger order), invoices and positive adjustments as
debits, payments, credit notes and negative adjustments as credits; the closing
balance is opening + debits - credits, which is also the aging balance at the
last day of the month (the aging of the closing balance comes from the same
engine, so the two can be shown side by side and always agree).

Disputed documents stay on the statement (they are part of the balance) and are
flagged, on the lines and among the open items; the overdue amount a statement
asks for leaves them out (DOMAIN.md: a disputed item is not dunned), so the
summary keeps the overdue total of the aging beside its disputed and undisputed
parts.

Money is int64 cents here; documents turn it into Decimal for people.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_addin.core.ledger import AgingResult, DocTypes, age_ledger, group_cumsum
from xl_addin.core.policy import Policy

_PERIOD = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar month, written YYYY-MM."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse "2026-11"; ValueError names what is wrong."""
        match = _PERIOD.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f'period "{text}" is not a month written YYYY-MM (e.g. 2026-11)')
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Period:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Statements:
    """Every customer's statement for one period.

    `summary`: one row per customer (in the customer list's order) with
    opening_cents, debit_cents, credit_cents, closing_cents, overdue_cents (every
    overdue open item, disputed or not), disputed_cents (open disputed items,
    due or not), disputed_overdue_cents, payable_overdue_cents (overdue and not
    disputed: what a statement asks for), documents (lines in the period) and the
    aging of the closing balance (`bucket:<label>` columns, `unapplied_cents`).
    `lines`: the period's documents, grouped by customer in the same order, with
    debit_cents, credit_cents, balance_cents (the running balance after the
    line) and disputed. `open_items`: the debits still open at the period end,
    grouped the same way, oldest due date first, with amount_cents, open_cents,
    days_overdue and disputed.
    """

    period: Period
    labels: tuple[str, ...]
    summary: pd.DataFrame
    lines: pd.DataFrame
    aging: AgingResult
    open_items: pd.DataFrame

    def lines_of(self, customer_id: str) -> pd.DataFrame:
        return self.lines[self.lines["customer_id"] == customer_id]

    def open_items_of(self, customer_id: str) -> pd.DataFrame:
        return self.open_items[self.open_items["customer_id"] == customer_id]

    def wanted(self, include_zero: bool = False) -> np.ndarray:
        """Rows of `summary` that get a statement: a balance or activity, or all."""
        if include_zero:
            return np.ones(len(self.summary), dtype=bool)
        summary = self.summary
        return (
            (summary["opening_cents"] != 0)
            | (summary["closing_cents"] != 0)
            | (summary["documents"] > 0)
        ).to_numpy()


def signed_cents(ledger: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return (debit, credit) cents per document: what it adds to and takes from the balance."""
    amount = ledger["amount_cents"].to_numpy(dtype=np.int64)
    is_debit = DocTypes.of(ledger["doc_type"]).debits(amount)
    magnitude = np.abs(amount)
    return np.where(is_debit, magnitude, 0), np.where(is_debit, 0, magnitude)


def build_statements(
    ledger: pd.DataFrame, customers: pd.DataFrame, period: Period, policy: Policy
) -> Statements:
    """Return opening, lines with running balances, closing and aging for every customer."""
    first = np.datetime64(period.first_day, "D")
    last = np.datetime64(period.last_day, "D")
    ids = customers["customer_id"].to_numpy(dtype=object)
    code = pd.Index(ids, dtype=object).get_indexer(
        pd.Index(ledger["customer_id"].to_numpy(dtype=object), dtype=object)
    )
    if (code < 0).any():
        raise ValueError("ledger names customers that are not in the customer list")
    n = len(ids)
    doc_date = ledger["doc_date"].to_numpy(dtype="datetime64[D]")
    debit, credit = signed_cents(ledger)
    signed = debit - credit
    disputed = ledger["disputed"].to_numpy(dtype=bool)

    before = doc_date < first
    opening = np.zeros(n, dtype=np.int64)
    np.add.at(opening, code[before], signed[before])
    within = (doc_date >= first) & (doc_date <= last)
    rows = np.flatnonzero(within)
    rows = rows[np.lexsort((rows, doc_date[rows].astype(np.int64), code[rows]))]
    debits = np.zeros(n, dtype=np.int64)
    credits = np.zeros(n, dtype=np.int64)
    np.add.at(debits, code[rows], debit[rows])
    np.add.at(credits, code[rows], credit[rows])
    closing = opening + debits - credits

    running = opening[code[rows]] + group_cumsum(signed[rows], code[rows])
    lines = pd.DataFrame(
        {
            "customer_id": ids[code[rows]],
            "ledger_row": rows,
            "doc_date": doc_date[rows],
            "doc_type": ledger["doc_type"].to_numpy(dtype=object)[rows],
            "doc_no": ledger["doc_no"].to_numpy(dtype=object)[rows],
            "due_date": ledger["due_date"].to_numpy(dtype="datetime64[D]")[rows],
            "reference": _column(ledger, "reference")[rows],
            "applies_to": _column(ledger, "applies_to")[rows],
            "debit_cents": debit[rows],
            "credit_cents": credit[rows],
            "balance_cents": running,
            "disputed": disputed[rows],
        }
    )
    aging = age_ledger(ledger, customers, period.last_day, policy)
    open_items = _open_items(ledger, aging, code, ids, disputed)
    open_cents = open_items["open_cents"].to_numpy(dtype=np.int64)
    item_code = code[open_items["ledger_row"].to_numpy(dtype=np.int64)]
    item_disputed = open_items["disputed"].to_numpy(dtype=bool)
    item_overdue = open_items["days_overdue"].to_numpy(dtype=np.int64) > 0
    disputed_cents = np.zeros(n, dtype=np.int64)
    np.add.at(disputed_cents, item_code[item_disputed], open_cents[item_disputed])
    disputed_overdue = np.zeros(n, dtype=np.int64)
    both = item_disputed & item_overdue
    np.add.at(disputed_overdue, item_code[both], open_cents[both])
    overdue = aging.customers["overdue_cents"].to_numpy()
    documents = np.bincount(code[rows], minlength=n)
    summary = pd.DataFrame(
        {
            "customer_id": ids,
            "opening_cents": opening,
            "debit_cents": debits,
            "credit_cents": credits,
            "closing_cents": closing,
            "documents": documents,
            "overdue_cents": overdue,
            "disputed_cents": disputed_cents,
            "disputed_overdue_cents": disputed_overdue,
            "payable_overdue_cents": overdue - disputed_overdue,
            "unapplied_cents": aging.customers["unapplied_cents"].to_numpy(),
        }
    )
    for label in aging.labels:
        summary[f"bucket:{label}"] = aging.customers[f"bucket:{label}"].to_numpy()
    mismatch = closing != aging.customers["balance_cents"].to_numpy()
    if mismatch.any():  # the engine's own identity: a failure here is a bug, not bad input
        raise AssertionError(f"statement closing differs from aging for {ids[mismatch][:5]}")
    return Statements(period, aging.labels, summary, lines, aging, open_items)


def _open_items(ledger, aging: AgingResult, code, ids, disputed) -> pd.DataFrame:
    """The debits open at the period end, by customer (list order), oldest due date first."""
    items = aging.items
    open_cents = items["open_cents"].to_numpy(dtype=np.int64)
    rows = np.flatnonzero(items["is_debit"].to_numpy(dtype=bool) & (open_cents > 0))
    due = items["due_date"].to_numpy(dtype="datetime64[D]")
    rows = rows[np.lexsort((rows, due[rows].astype(np.int64), code[rows]))]
    return pd.DataFrame(
        {
            "customer_id": ids[code[rows]],
            "ledger_row": rows,
            "doc_no": ledger["doc_no"].to_numpy(dtype=object)[rows],
            "doc_date": ledger["doc_date"].to_numpy(dtype="datetime64[D]")[rows],
            "due_date": due[rows],
            "amount_cents": np.abs(ledger["amount_cents"].to_numpy(dtype=np.int64)[rows]),
            "open_cents": open_cents[rows],
            "days_overdue": items["days_overdue"].to_numpy()[rows].astype(np.int64),
            "disputed": disputed[rows],
        }
    )


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name in frame:
        return frame[name].fillna("").to_numpy(dtype=object)
    return np.full(len(frame), "", dtype=object)
