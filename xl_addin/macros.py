"""The workbook's buttons. Each Sub of Buttons.bas runs one of these through xlwings' RunPython.

Thin, like the command line: save the book, run the same service as the
`credit-control` command on the saved file, write the results back into the
open book through `workbook.access`, and leave a one-line status on the Start
sheet; problems go to the Problems sheet. `book` is for tests and scripts:
from a button it is the calling workbook (`xw.Book.caller()`).
"""

from __future__ import annotations

from pathlib import Path

from xl_addin.errors import CreditControlError
from xl_addin.services import refresh as refresh_service
from xl_addin.services import validate as validate_service
from xl_addin.workbook.access import XlwingsWriter, set_status


def refresh(book=None) -> None:
    """Refresh button: the computed columns and the Aging sheet, as `credit-control refresh`."""
    book = _caller(book)
    writer = XlwingsWriter(book)
    try:
        result = refresh_service.refresh(_saved(book), writer=writer)
    except CreditControlError as error:
        set_status(book, f"Refresh failed: {error}")
        return
    if not isinstance(result, refresh_service.RefreshResult):
        writer([], [validate_service.problems_sheet(tuple(result))])
        set_status(book, f"Refresh stopped: {len(result)} problem(s), see the Problems sheet.")
        return
    customers = len(result.aging.customers)
    set_status(book, f"Refreshed as of {result.as_of:%Y-%m-%d}: {customers} customers.")


def validate(book=None) -> None:
    """Validate button: every problem into the Problems sheet, as `credit-control validate`."""
    book = _caller(book)
    try:
        result = validate_service.validate(_saved(book), writer=XlwingsWriter(book))
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
