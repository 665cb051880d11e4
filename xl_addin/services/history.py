"""The history use case: what the journal says was issued for a workbook."""

from __future__ import annotations

from pathlib import Path

from xl_addin.journal.store import DocumentRecord, Journal, journal_url
from xl_addin.workbook.reader import read_workbook


def history(
    path: Path, customer: str | None = None, kind: str | None = None
) -> list[DocumentRecord]:
    """Every document recorded for the workbook, oldest first (none if there is no journal yet)."""
    book, _ = read_workbook(path)
    setting = book.settings.journal if book is not None else ""
    with Journal.open(journal_url(path, setting, dry_run=True)) as journal:  # never creates one
        return journal.documents(customer, kind)
