"""Turn raw cell values into the engine's typed columns, collecting located problems.

Each column is converted as a whole: values are sorted by Python type once, then
numbers, dates and text are converted in bulk; a value that cannot be converted
becomes a `Problem` naming its sheet, row and column.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from operator import itemgetter

import numpy as np
import pandas as pd

from xl_addin.core.dates import parse_dates
from xl_addin.core.money import AMOUNT_LIMIT, decimal_to_cents, floats_to_cents, parse_amount_text
from xl_addin.core.problems import Problem, Source
from xl_addin.workbook.schema import DOC_TYPE_ALIASES, NO, YES, Column, TableSpec, fold
from xl_addin.workbook.tables import RawTable, Table

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WHOLE_NUMBER_LIMIT = 100_000  # days of payment terms and the like: 270 years
CELL_TEXT_LIMIT = 32_767  # characters in one cell: Excel keeps no more


def cell_text(value: object) -> str:
    """Return a cell as text: numbers typed into text columns lose a trailing .0."""
    if value is None:
        return ""
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_date_column(values: Sequence[object], date1904: bool) -> tuple[np.ndarray, list[str]]:
    dates, errors = parse_dates(values, date1904)
    return dates, [reason for _, reason in errors]


def normalise(
    raw: RawTable, spec: TableSpec, date1904: bool, problems: list[Problem],
    date_order: str | None = None,
    *, amount_limit: Decimal = AMOUNT_LIMIT,
) -> Table:  # fmt: skip
    """Return a `Table` with the spec's fields; problems for anything that does not convert.

    `date_order` reads dates typed as 30/11/2026 or 11/30/2026 (core.dates.DAY_FIRST or
    MONTH_FIRST); without it only a date that reads one way is taken. Money beyond
    `amount_limit` (either sign) is a problem, never a rounded or wrapped number; control
    characters (Excel's _x0001_ escapes) are taken out of text."""
    positions = _match_headers(raw, spec, problems)
    # Only the contract's input columns count: a row holding nothing but computed values
    # (OpenAmount ... left by a refresh) or the user's own extra columns is no document.
    grid = _Grid(raw.rows, sorted(positions.values()), _sixties_in(raw))
    kept = np.flatnonzero(~grid.blank.all(axis=1))
    excel_rows = [raw.header_row + 1 + int(i) for i in kept]
    data: dict[str, object] = {"row": np.asarray(excel_rows, dtype=np.int64)}
    letters: dict[str, str] = {}
    for column in spec.columns:
        position = positions.get(column.field)
        if position is None or position >= grid.width:
            cells = _Cells.empty(len(kept))
        else:
            cells = grid.column(position, kept)
            if column.kind == "date":
                _restore_written(raw, grid.times_in(position, kept), cells, excel_rows, position)
            errors = _report_error_cells(raw, column, position, excel_rows, problems)
            cells.clear(errors)  # reported once, as the error it is
        if position is not None:
            letters[column.field] = raw.letter(position)
        data[column.field] = _convert(
            column, cells, excel_rows, raw.sheet, letters.get(column.field), date1904, problems,
            amount_limit,
            date_order,
        )  # fmt: skip
    # Object columns stay object: pandas would otherwise copy every text column into
    # its string dtype, which costs more than reading them.
    frame = pd.DataFrame({k: _keep_object(v) for k, v in data.items()}, copy=False)
    frame.attrs["sheet"] = raw.sheet
    frame.attrs["letters"] = letters
    # The cells are converted: the raw rows (a Python object per cell) go, which on a
    # million-row ledger is most of the memory a run needs.
    return Table(replace(raw, rows=[]), frame, letters)


_type_of = np.frompyfunc(type, 1, 1)
_FEB_28, _FEB_28_DAY = dt.datetime(1900, 2, 28), dt.date(1900, 2, 28)  # calamine's serial 60
_DATE_TYPES = (dt.date, dt.datetime)


def _sixties_in(raw: RawTable) -> Callable[[], set[tuple[int, int]]] | None:
    """Where the table's cells of serial 60 are, as (row in the table, column position)."""
    if raw.sixties is None:
        return None
    return lambda: {(row - raw.header_row - 1, column - raw.first_column)
                    for row, column in raw.sixties()}  # fmt: skip


class _Grid:
    """The cells of a table as one object array, with what is text and what is blank.

    Whole-array operations (one C call per cell) instead of a Python call per cell:
    a 100,000-row ledger has one and a half million cells.
    """

    def __init__(self, rows: Sequence[Sequence[object]], columns: Sequence[int],
                 sixties: Callable[[], Iterable[tuple[int, int]]] | None = None):  # fmt: skip
        self.width = max(map(len, rows), default=0)
        columns = [c for c in columns if c < self.width]
        self.index = {c: i for i, c in enumerate(columns)}
        rectangular = all(len(r) == self.width for r in rows)
        if rectangular and len(columns) > 1:
            # Only the wanted columns become the array (a later day's Ledger has five
            # computed columns a row that would be copied for nothing).
            self.cells = np.empty((len(rows), len(columns)), dtype=object)
            self.cells[:] = list(map(itemgetter(*columns), rows))
        else:
            cells = np.full((len(rows), self.width), "", dtype=object)
            if rows and rectangular:
                cells[:] = rows
            else:
                for i, r in enumerate(rows):
                    cells[i, : len(r)] = r
            self.cells = cells[:, columns]
        types = _type_of(self.cells) if self.cells.size else np.empty(self.cells.shape, object)
        if sixties is not None and self.cells.size:
            self._restore_sixties(types, sixties)
        self.strings = np.equal(types, str)  # comparing types: no call into the cells' __eq__
        self.times = np.equal(types, dt.time)
        empty = np.equal(self.cells, "")
        self.stripped = np.full(self.cells.shape, None, dtype=object)
        self.stripped[empty] = ""
        written = self.strings & ~empty  # only these need stripping: most blank cells are ""
        self.stripped[written] = [v.strip() for v in self.cells[written]]
        floats = np.equal(types, float)
        self.blank = empty | np.equal(types, type(None))
        self.blank[written] = self.stripped[written] == ""
        self.blank[floats] = np.isnan(self.cells[floats].astype(np.float64))

    def _restore_sixties(self, types: np.ndarray, sixties) -> None:
        """Give each date cell of serial 60 back as the number 60, which the date
        conversion refuses: calamine reads serial 60 (29 February 1900, a day that does not
        exist) as 1900-02-28. Where a date cell reads that day, `sixties()` says which
        (table row, position) cells hold 60; only the date cells are compared."""
        dated = np.flatnonzero(np.equal(types, dt.datetime) | np.equal(types, dt.date))
        values = self.cells.ravel()[dated]
        if not (np.equal(values, _FEB_28) | np.equal(values, _FEB_28_DAY)).any():
            return  # the usual case: the sheet is not asked
        for i, position in sixties():
            k = self.index.get(position)
            if k is not None and 0 <= i < len(self.cells) and types[i, k] in _DATE_TYPES:
                self.cells[i, k], types[i, k] = 60.0, float

    def times_in(self, position: int, rows: np.ndarray) -> np.ndarray:
        """Which cells of a column are times of day."""
        return self.times[rows, self.index[position]]

    def column(self, position: int, rows: np.ndarray) -> _Cells:
        i = self.index[position]
        return _Cells(
            self.cells[rows, i], self.strings[rows, i], self.stripped[rows, i], self.blank[rows, i]
        )


def _restore_written(raw: RawTable, times: np.ndarray, cells: _Cells, rows, position) -> None:
    """Give each date cell read as a time of day back as the number it holds, which the
    date conversion refuses by its value: calamine reads a serial below 1 (a negative one
    is a date before 1900) as a time, 00:00:00 for any whole number."""
    at = np.flatnonzero(times)
    if not len(at) or raw.written is None:
        return
    column = raw.first_column + position
    held = raw.written({(rows[i], column) for i in at})
    for i in at:
        try:
            cells.values[i] = float(held[(rows[i], column)])
        except (KeyError, ValueError):
            continue


class _Cells:
    """One column of kept rows: values, which are text, their stripped text, which are blank."""

    def __init__(self, values, strings, stripped, blank):
        self.values, self.strings, self.stripped, self.blank = values, strings, stripped, blank

    @classmethod
    def empty(cls, n: int) -> _Cells:
        values = np.full(n, "", dtype=object)
        return cls(values, np.ones(n, dtype=bool), values.copy(), np.ones(n, dtype=bool))

    def clear(self, positions: Sequence[int]) -> None:
        for i in positions:
            self.values[i], self.strings[i], self.blank[i] = None, False, True

    def texts(self) -> np.ndarray:
        """Return cell_text of every cell, control characters taken out; text cells are
        already stripped."""
        texts = self.stripped.copy()
        others = np.flatnonzero(~self.strings)
        texts[others] = [cell_text(v) for v in self.values[others]]
        written = [t for t in texts if t]
        if written and _CONTROL.search("".join(written)):  # one look at the whole column
            texts[:] = [without_controls(t) if t else t for t in texts]
        return texts


def _match_headers(raw, spec: TableSpec, problems: list[Problem]) -> dict[str, int]:
    wanted = {}
    for column in (*spec.columns, *spec.computed):
        for text in (column.header, *column.aliases):
            wanted.setdefault(fold(text), column)
    positions: dict[str, int] = {}
    for position, header in enumerate(raw.headers):
        column = wanted.get(fold(header))
        if column is None or column in spec.computed:
            continue
        if column.field in positions:
            problems.append(
                Problem(
                    Source(raw.sheet, raw.header_row, raw.letter(position)),
                    f'column {column.header} appears twice ("{header}")',
                )
            )
            continue
        positions[column.field] = position
    for column in spec.columns:
        if column.required and column.field not in positions:
            problems.append(
                Problem(
                    Source(raw.sheet, raw.header_row),
                    f"no {column.header} column (accepted headers: "
                    f"{', '.join((column.header, *column.aliases))})",
                )
            )
    return positions


def _report_error_cells(raw, column: Column, position: int, rows: list[int], problems) -> list[int]:
    """Report error cells (#N/A ...) of a column; return their positions in `rows`."""
    if not raw.errors:
        return []
    col = raw.first_column + position
    found = []
    for i, row in enumerate(rows):
        error = raw.errors.get((row, col))
        if error is not None:
            found.append(i)
            problems.append(
                Problem(
                    Source(raw.sheet, row, raw.letter(position)),
                    f"{column.header} is the error {error}; put a value in the cell",
                )
            )
    return found


def _convert(column, cells: _Cells, rows, sheet, letter, date1904, problems, amount_limit,
             date_order=None):  # fmt: skip
    def problem(i: int, message: str) -> None:
        problems.append(Problem(Source(sheet, rows[i], letter), message))

    values, blank, kind = cells.values, cells.blank, column.kind
    texts = cells.texts() if kind not in ("date", "money", "raw") else None
    if column.required and letter is not None:
        for i in np.flatnonzero(blank & np.not_equal(values, None)):
            problem(int(i), f"{column.header} is blank")
    if kind == "raw":
        return values
    if kind in ("text", "id"):
        if max(map(len, texts), default=0) > CELL_TEXT_LIMIT:  # one C pass: the usual answer
            for i in np.flatnonzero([len(t) > CELL_TEXT_LIMIT for t in texts]):
                problem(int(i), f"{column.header} is {len(texts[i]):,} characters long: a "
                                f"cell holds at most {CELL_TEXT_LIMIT:,}")  # fmt: skip
        return texts
    if kind == "date":
        dates, errors = parse_dates(values, date1904, date_order)
        for i, reason in errors:
            problem(i, f"{column.header} {reason}")
        return dates
    if kind == "money":
        return _money(column, values, blank, problem, amount_limit)
    if kind == "int":
        return _whole_numbers(column, values, blank, problem)
    if kind == "yn":
        codes, distinct = pd.factorize(texts)
        answers = np.array([_yes_no(fold(t)) for t in distinct] + [False], dtype=object)[codes]
        for i in np.flatnonzero(np.equal(answers, None)):
            problem(int(i), f'{column.header} "{values[i]}" must be Y or N')
        return answers.astype(bool)
    if kind == "doctype":
        codes, distinct = pd.factorize(texts)
        found = [DOC_TYPE_ALIASES.get(fold(t).upper()) or DOC_TYPE_ALIASES.get(t) for t in distinct]
        out = np.array([*found, None], dtype=object)[codes]
        for i in np.flatnonzero(np.equal(out, None) & ~blank):
            problem(int(i), f'{column.header} "{values[i]}" must be INV, CRN, PAY or ADJ')
        out[np.equal(out, None)] = ""
        return out
    raise ValueError(f"unknown column kind {kind}")


def _money(column, values, blank, problem, limit: Decimal) -> np.ndarray:
    """Return int64 cents; blanks are NaN-free zeros unless the column is optional (then NaN)."""
    cents = np.zeros(len(values), dtype=np.float64)
    numeric = np.array(
        [isinstance(v, int | float) and not isinstance(v, bool) for v in values], dtype=bool
    )
    numbers = np.array([v for v, n in zip(values, numeric) if n], dtype=np.float64)
    finite = np.isfinite(numbers)
    within = finite & (np.abs(np.where(finite, numbers, 0.0)) <= float(limit))
    converted = floats_to_cents(np.where(within, numbers, 0.0))
    cents[numeric] = converted
    positions = np.flatnonzero(numeric)
    for i in positions[~finite]:
        problem(int(i), f"{column.header} is not a finite number")
    for i in positions[finite & ~within]:
        problem(int(i), _beyond(column, values[i], limit))
    for i in np.flatnonzero(~numeric & ~blank):
        value = values[i]
        amount = parse_amount_text(value) if isinstance(value, str) else None
        if amount is None:
            problem(int(i), f'{column.header} "{value}" is not a number')
        elif abs(amount) > limit:
            problem(int(i), _beyond(column, value, limit))
        else:
            cents[i] = decimal_to_cents(amount)
    cents[blank] = np.nan
    return cents


def _beyond(column, value: object, limit: Decimal) -> str:
    return (f'{column.header} "{value}" is beyond the largest amount accepted, '
            f"±{limit:,} (Settings AmountLimit)")  # fmt: skip


def positive_amount(value: object) -> Decimal | None:
    """A positive amount from a cell (a number or text such as 1,000,000), else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount = Decimal(repr(float(value))) if math.isfinite(value) else None
    else:
        amount = parse_amount_text(value) if isinstance(value, str) else None
    return amount if amount is not None and amount > 0 else None


def without_controls(text: str) -> str:
    """Text without control characters (tab and line breaks stay): Excel writes them as
    _x0001_ escapes, XML 1.0 cannot hold them and Word refuses a document that does."""
    return _CONTROL.sub("", text)


def _whole_numbers(column, values, blank, problem) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, value in enumerate(values):
        if blank[i]:
            continue
        text = cell_text(value).replace(",", "")
        try:
            number = float(text)
        except ValueError:
            number = np.nan
        if not np.isfinite(number) or not number.is_integer():
            problem(i, f'{column.header} "{value}" is not a whole number')
        elif abs(number) > WHOLE_NUMBER_LIMIT:
            problem(i, f'{column.header} "{value}" is beyond ±{WHOLE_NUMBER_LIMIT:,}')
        else:
            out[i] = number
    return out


def _keep_object(values: np.ndarray) -> object:
    return pd.Series(values, dtype=object, copy=False) if values.dtype == object else values


def _yes_no(folded: str) -> bool | None:
    if folded in YES:
        return True
    return False if folded in NO else None


def to_money_column(frame: pd.DataFrame, field: str) -> np.ndarray:
    """Return a money field as int64 cents, blanks as 0."""
    return np.nan_to_num(frame[field].to_numpy(dtype=np.float64), nan=0.0).astype(np.int64)


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while cells become objects (or objects cells).

    A 100,000-row ledger is a million and a half new objects, none in a reference
    cycle; the collector would walk all of them again and again (a third of the time
    when reading; when writing a million-row ledger, most of it).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
