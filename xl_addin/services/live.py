"""The computed columns of a workbook from its tables' values: what the cells show.

The workbook's computed columns (Ledger: OpenAmount ... Stage; Customers: Balance ...
NextActionReason) are two blocks, each one call of an Excel function fed the tables'
input columns and the Policy tables (`udfs.ledger_columns`, `udfs.customer_columns`).
Both come from here, and here runs what `refresh` runs: the same reader conversion
(`workbook.reader.read_tables`), the same checks, the same aging and collection state,
and the same column values (`services.refresh.customer_update` / `ledger_update`).

One difference, by design: a function in a cell cannot reach the journal, so the
contact log is the workbook's Contacts table (every run writes a row per document
there) and the Customers' LastStage/LastContactDate columns. See docs/excel.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from xl_addin.core.problems import Problem
from xl_addin.services.book import LoadedBook, checked_book, resolve_as_of
from xl_addin.services.contacts import collection_state
from xl_addin.services.refresh import customer_update, ledger_update
from xl_addin.workbook.access import plain
from xl_addin.workbook.reader import read_tables
from xl_addin.workbook.schema import CONTACTS, CUSTOMERS, LEDGER, SETTINGS
from xl_addin.workbook.tables import RawTable

LEDGER_BLOCK = tuple(c.header for c in LEDGER.computed)
CUSTOMER_BLOCK = tuple(c.header for c in CUSTOMERS.computed)


@dataclass(frozen=True, slots=True)
class Blocks:
    """The computed columns of every data row of Ledger and Customers, in table order
    (a blank row of the table has a blank row here), or the problems that stop them."""

    ledger: list[list[object]]
    customers: list[list[object]]
    problems: tuple[Problem, ...] = ()


def computed_blocks(
    tables: Mapping[str, Sequence[Sequence[object]]],
    policy: Mapping[str, Sequence[Sequence[object]]],
    as_of: dt.date | None = None,
) -> Blocks:
    """The computed blocks from tables given as cell values, header row first.

    `tables` maps Settings, Customers, Ledger and Contacts to their values (Settings and
    Contacts may be left out); `policy` maps Policy table names (Buckets, Stages, ...) to
    theirs. Dates may be dates, Excel serial numbers or ISO text, as in the workbook.
    """
    raw = {name: raw_table(name, values) for name, values in tables.items() if values}
    raw_policy = {name: raw_table(name, values) for name, values in policy.items() if values}
    book, problems = read_tables(raw, raw_policy)
    loaded = checked_book(book, problems)
    ledger_rows = len(raw.get(LEDGER.name, RawTable("", None, 1, 1, (), [])).rows)
    customer_rows = len(raw.get(CUSTOMERS.name, RawTable("", None, 1, 1, (), [])).rows)
    if not isinstance(loaded, LoadedBook):
        return Blocks(_blank(ledger_rows, LEDGER_BLOCK), _blank(customer_rows, CUSTOMER_BLOCK),
                      tuple(loaded))  # fmt: skip
    when = resolve_as_of(loaded.book, as_of)
    state = collection_state(loaded, None, when)
    return Blocks(
        _block(ledger_update(loaded, state), ledger_rows, LEDGER_BLOCK),
        _block(customer_update(loaded, state), customer_rows, CUSTOMER_BLOCK),
    )


def raw_table(name: str, values: Sequence[Sequence[object]]) -> RawTable:
    """A table's values (header row first, as a function's range gives them) as the reader
    finds a table: row 1 the header, blanks as calamine gives them."""
    headers = tuple("" if h is None else str(h).strip() for h in values[0])
    rows = [["" if v is None else v for v in row] for row in values[1:]]
    return RawTable(name, name, 1, 1, headers, rows)


def _block(update, rows: int, headers: Sequence[str]) -> list[list[object]]:
    """The update's values placed at their rows (worksheet row r is data row r - 2)."""
    out = _blank(rows, headers)
    columns = [update.values[h] for h in headers]
    for k, row in enumerate(update.rows):
        out[int(row) - 2] = [_cell(column[k]) for column in columns]
    return out


def _cell(value: object) -> object:
    """A value as xlwings hands it to Excel: blanks None, amounts floats."""
    value = plain(value)
    return None if value == "" else value


def _blank(rows: int, headers: Sequence[str]) -> list[list[object]]:
    return [[None] * len(headers) for _ in range(rows)]


TABLES = (SETTINGS.name, CUSTOMERS.name, LEDGER.name, CONTACTS.name)
