"""The workbook's buttons. Each Sub of Buttons.bas runs one of these through xlwings' RunPython.

Thin, like the command line, and on the same services:

- Refresh and Validate read the book the user has open (workbook.open_book: one read
  per table, no save, no reading the file back) and write the results into it
  (workbook.access: one write per computed column, formulas left to Excel), as the
  xlwings Lite script does. NextAction still counts what the journal beside the saved
  workbook records as issued.
- Generate letters and Statements save the book first and run on the saved file: they
  need its path for the journal, the template pack and the output folder, and record
  what they issued against that file.

Each leaves a one-line status on the Start sheet; problems go to the Problems sheet.
`book` is for tests and scripts: from a button it is the calling workbook
(`xw.Book.caller()`).
"""

from __future__ import annotations

from pathlib import Path

from xl_addin.errors import CreditControlError
from xl_addin.services import refresh as refresh_service
from xl_addin.services import validate as validate_service
from xl_addin.workbook.access import XlwingsWriter, set_status
from xl_addin.workbook.open_book import OpenBook


def refresh(book=None) -> None:
    """Refresh button: the computed columns and the Aging sheet, as `credit-control refresh`."""
    book = _caller(book)
    set_status(book, refresh_service.button_run(OpenBook.desktop(book), XlwingsWriter(book)))


def validate(book=None) -> None:
    """Validate button: every problem into the Problems sheet, as `credit-control validate`."""
    book = _caller(book)
    try:
        result = validate_service.validate(OpenBook.desktop(book), writer=XlwingsWriter(book))
    except CreditControlError as error:
        set_status(book, f"Validate failed: {error}")
        return
    found = len(result.problems)
    set_status(book, f"{found} problem(s), see the Problems sheet." if found else "No problems.")


def generate_letters(book=None) -> None:
    """Generate letters button: the day's letters and call sheets, as `credit-control letters`."""
    from xl_addin.services import letters as letters_service

    book = _caller(book)
    _run_documents(book, letters_service.button_run, "letters")


def statements(book=None) -> None:
    """Statements button: the month's statements, as `credit-control statements`."""
    from xl_addin.services import statements as statements_service

    book = _caller(book)
    _run_documents(book, statements_service.button_run, "statements")


def _run_documents(book, run, what: str) -> None:
    try:
        message = run(_saved(book), XlwingsWriter(book))
    except CreditControlError as error:
        message = f"{what.capitalize()} failed: {error}"
    set_status(book, message)


def _caller(book):
    if book is not None:
        return book
    import xlwings as xw  # only where Excel runs

    return xw.Book.caller()


def _saved(book) -> Path:
    """Save the open book so the services read what the user sees; return its path."""
    book.save()
    return Path(book.fullname)
