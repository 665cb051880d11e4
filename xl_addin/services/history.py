"""The history use case: what the journal says was issued, and what the collectors logged."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xl_addin.core.money import to_decimal
from xl_addin.errors import InputError
from xl_addin.journal.store import DocumentRecord, Journal, journal_url
from xl_addin.services.issuing import check_history_first
from xl_addin.workbook.reader import read_workbook


def history(
    path: Path, customer: str | None = None, kind: str | None = None,
    all_branches: bool = False,
) -> list[DocumentRecord]:
    """Every document recorded for the workbook's branch, oldest first (none if there is
    no journal yet): in a journal branches share, another branch's customer of the same
    CustomerID is another customer. `all_branches`: every branch's, for head office.

    InputError when History lists documents the journal does not know (it is missing, or
    another one), as letters refuses them: "0 documents" would be no answer."""
    first = check_history_first(Path(path))
    if first is not None and first.problems:
        raise InputError(first.problems)
    book, _ = read_workbook(path)
    setting = book.settings.journal if book is not None else ""
    branch = book.settings.branch if book is not None and not all_branches else None
    with Journal.open(journal_url(path, setting, dry_run=True)) as journal:  # never creates one
        return journal.documents(customer, kind, branch=branch)


def logged_contacts(path: Path, customer: str | None = None) -> list[dict[str, object]]:
    """The contacts the collectors logged in the workbook's Contacts sheet (calls, visits,
    promises, disputes), oldest first; a row that only echoes an issued document is left out."""
    book, _ = read_workbook(path)
    if book is None or book.contacts is None:
        return []
    rows = []
    for r in book.contacts.frame.itertuples(index=False):
        news = bool(r.outcome) or bool(r.dispute) or not pd.isna(r.promise_date)
        if not news and r.reference:
            continue
        if customer is not None and r.customer_id != customer:
            continue
        rows.append({
            "Date": _day(r.date), "CustomerID": r.customer_id, "Kind": r.kind or "",
            "Reference": r.reference or "", "Outcome": r.outcome or "",
            "PromiseDate": _day(r.promise_date),
            "PromiseAmount": None if pd.isna(r.promise_amount_cents)
            else float(to_decimal(int(r.promise_amount_cents))),
            "Dispute": r.dispute or "", "Notes": r.notes or "",
        })  # fmt: skip
    return sorted(rows, key=lambda row: row["Date"] or "")


def _day(value: object) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()
