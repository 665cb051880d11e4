"""Turn raw cell values into the engine's typed columns, collecting located problems.

Each column is converted as a whole: values are sorted by Python type once, then
numbers, dates and text are converted in bulk; a value that cannot be converted
becomes a `Problem` naming its sheet, row and column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from xl_addin.core.dates import parse_dates
from xl_addin.core.money import decimal_to_cents, floats_to_cents, parse_amount_text
from xl_addin.core.problems import Problem, Source
from xl_addin.workbook.schema import DOC_TYPE_ALIASES, NO, YES, Column, TableSpec, fold
from xl_addin.workbook.tables import RawTable, Table


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


def normalise(raw: RawTable, spec: TableSpec, date1904: bool, problems: list[Problem]) -> Table:
    """Return a `Table` with the spec's fields; problems for anything that does not convert."""
    positions = _match_headers(raw, spec, problems)
    kept = [i for i, r in enumerate(raw.rows) if any(not _is_blank(v) for v in r)]
    rows = [raw.rows[i] for i in kept]
    excel_rows = [raw.header_row + 1 + i for i in kept]
    data: dict[str, object] = {"row": np.asarray(excel_rows, dtype=np.int64)}
    letters: dict[str, str] = {}
    for column in spec.columns:
        position = positions.get(column.field)
        if position is None:
            values: list[object] = [""] * len(rows)
        else:
            letters[column.field] = raw.letter(position)
            values = [r[position] if position < len(r) else "" for r in rows]
            errors = _report_error_cells(raw, column, position, excel_rows, problems)
            for i in errors:
                values[i] = None  # reported once, as the error it is
        data[column.field] = _convert(
            column, values, excel_rows, raw.sheet, letters.get(column.field), date1904, problems
        )
    frame = pd.DataFrame(data)
    frame.attrs["sheet"] = raw.sheet
    frame.attrs["letters"] = letters
    return Table(raw, frame, letters)


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


def _convert(column, values, rows, sheet, letter, date1904, problems):
    def problem(i: int, message: str) -> None:
        problems.append(Problem(Source(sheet, rows[i], letter), message))

    blank = np.array([_is_blank(v) for v in values], dtype=bool)
    if column.required and letter is not None:
        for i in np.flatnonzero(blank & np.array([v is not None for v in values], dtype=bool)):
            problem(int(i), f"{column.header} is blank")
    kind = column.kind
    if kind == "raw":
        return np.asarray(values, dtype=object)
    if kind in ("text", "id"):
        return np.array([cell_text(v) for v in values], dtype=object)
    if kind == "date":
        dates, errors = parse_dates(values, date1904)
        for i, reason in errors:
            problem(i, f"{column.header} {reason}")
        return dates
    if kind == "money":
        return _money(column, values, blank, problem)
    if kind == "int":
        return _whole_numbers(column, values, blank, problem)
    if kind == "yn":
        out = np.zeros(len(values), dtype=bool)
        for i, value in enumerate(values):
            text = fold(cell_text(value))
            if text in YES:
                out[i] = True
            elif text not in NO:
                problem(i, f'{column.header} "{value}" must be Y or N')
        return out
    if kind == "doctype":
        out = np.empty(len(values), dtype=object)
        for i, value in enumerate(values):
            code = DOC_TYPE_ALIASES.get(fold(cell_text(value)).upper()) or DOC_TYPE_ALIASES.get(
                cell_text(value)
            )
            if code is None and not blank[i]:
                problem(i, f'{column.header} "{value}" must be INV, CRN, PAY or ADJ')
            out[i] = code or ""
        return out
    raise ValueError(f"unknown column kind {kind}")


def _money(column, values, blank, problem) -> np.ndarray:
    """Return int64 cents; blanks are NaN-free zeros unless the column is optional (then NaN)."""
    cents = np.zeros(len(values), dtype=np.float64)
    numeric = np.array(
        [isinstance(v, int | float) and not isinstance(v, bool) for v in values], dtype=bool
    )
    numbers = np.array([v for v, n in zip(values, numeric) if n], dtype=np.float64)
    finite = np.isfinite(numbers)
    converted = floats_to_cents(np.where(finite, numbers, 0.0))
    cents[numeric] = converted
    for i in np.flatnonzero(numeric)[~finite]:
        problem(int(i), f"{column.header} is not a finite number")
    for i in np.flatnonzero(~numeric & ~blank):
        value = values[i]
        amount = parse_amount_text(value) if isinstance(value, str) else None
        if amount is None:
            problem(int(i), f'{column.header} "{value}" is not a number')
        else:
            cents[i] = decimal_to_cents(amount)
    cents[blank] = np.nan
    return cents


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
        else:
            out[i] = number
    return out


def _is_blank(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and np.isnan(value))
    )


def to_money_column(frame: pd.DataFrame, field: str) -> np.ndarray:
    """Return a money field as int64 cents, blanks as 0."""
    return np.nan_to_num(frame[field].to_numpy(dtype=np.float64), nan=0.0).astype(np.int64)
