"""Dates as they arrive from Excel, CSV files and people: serials, date cells, ISO and Chinese text.

Excel stores dates as serial numbers. In the 1900 system serial 1 is 1900-01-01
and serial 60 is 29 February 1900, a day that never existed (kept for Lotus
1-2-3 compatibility), so serials from 61 on are one day ahead of a plain count.
In the 1904 system (old Mac workbooks) serial 0 is 1904-01-01.

A date before 1 March 1900 (`FIRST_DATE`) is refused where dates are read: Excel cannot
hold one before 1900 (it writes a negative serial, which no program reads back as a
date), and the first two months of 1900 count a day apart in Excel and everywhere else
(the phantom 29 February), so only from 1 March do the serials mean one day to all.
No document of a ledger is that old: such a date is a mistyped year (0026, 1026).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

NAT = np.datetime64("NaT", "D")
_EPOCH_1900 = np.datetime64("1899-12-30", "D")  # serial 61 -> 1900-03-01
_EPOCH_1904 = np.datetime64("1904-01-01", "D")
_MAX_SERIAL = 2958465  # 9999-12-31
FIRST_DATE = dt.date(1900, 3, 1)  # serial 61: the first date every program reads alike
_DATE_TEXT = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?: [\d:.]+)?$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
# 30/11/2026, 11/30/2026, 30.11.2026, 30-11-2026: the order of day and month is the file's.
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?: [\d:.]+)?$")
DAY_FIRST, MONTH_FIRST = "day-first", "month-first"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def serials_to_dates(serials: np.ndarray, date1904: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Convert Excel serial numbers to datetime64[D]; return (dates, bad) where bad marks non-dates.

    A fraction of a day (a time) is dropped. Serial 60 of the 1900 system is bad:
    29 February 1900 does not exist.
    """
    serial = np.asarray(serials, dtype=np.float64)
    whole = np.floor(serial)
    low = 0 if date1904 else 1
    bad = ~np.isfinite(whole) | (whole < low) | (whole > _MAX_SERIAL)
    if not date1904:
        bad |= whole == 60
    days = np.where(bad, 0, whole).astype(np.int64)
    if date1904:
        dates = _EPOCH_1904 + days
    else:
        dates = np.where(days < 60, _EPOCH_1900 + days + 1, _EPOCH_1900 + days)
    return np.where(bad, NAT, dates).astype("datetime64[D]"), bad


def parse_date_text(text: str, order: str | None = None) -> dt.date | None:
    """Parse a date typed as text: ISO, 2026/11/30, 2026.11.30, 2026年11月30日 or 20261130;
    30/11/2026 or 11/30/2026 only when `order` (DAY_FIRST or MONTH_FIRST) says which."""
    parsed, _ = date_text(text, order)
    return parsed


def date_text(text: str, order: str | None = None) -> tuple[dt.date | None, str]:
    """Parse a date typed as text (see `parse_date_text`); return it, or None and why not."""
    cleaned = text.strip()
    for pattern in _DATE_TEXT:
        match = pattern.match(cleaned)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return _date_or_reason(year, month, day, cleaned)
    match = _DAY_MONTH_YEAR.match(cleaned)
    if match is None:
        return None, f'"{cleaned}" is not a date'
    first, second, year = int(match[1]), int(match[3]), int(match[4])
    if order == DAY_FIRST:
        return _date_or_reason(year, second, first, cleaned, " (day first)")
    if order == MONTH_FIRST:
        return _date_or_reason(year, first, second, cleaned, " (month first)")
    day_first = _valid(year, second, first)
    month_first = _valid(year, first, second)
    if day_first is None and month_first is None:
        return None, f'"{cleaned}" is not a date'
    # Refused even when only one reading is a date: a file writes all its dates one way,
    # and 30/11/2026 read alone says nothing of the 05/11/2026 on the next line.
    readings = " or ".join(
        f"{_spoken(day)} ({how})"
        for day, how in ((day_first, "day first"), (month_first, "month first"))
        if day is not None
    )
    return None, (f'"{cleaned}" could be {readings}: say which order the file uses with '
                  "--day-first or --month-first")


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _date_or_reason(year, month, day, text: str, how: str = "") -> tuple[dt.date | None, str]:
    found = _valid(year, month, day)
    return (found, "") if found else (None, f'"{text}" is not a date{how}')


def _spoken(day: dt.date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def parse_dates(
    values: Sequence[object], date1904: bool = False, order: str | None = None
) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Convert a column of cell values to datetime64[D].

    Blanks become NaT. Returns the dates and a list of (position, reason) for
    values that are not dates. `order` reads 30/11/2026-style text (see `date_text`).
    """
    column = np.asarray(values, dtype=object).reshape(-1)
    out = np.full(len(column), NAT, dtype="datetime64[D]")
    errors: list[tuple[int, str]] = []
    kinds = _kinds(column)
    for kind in ("date", "number", "text", "bad"):
        where = np.flatnonzero(kinds == kind)
        if not len(where):
            continue
        chunk = column[where]
        if kind == "date":  # a few hundred days repeat down a column: each converted once
            codes, distinct = pd.factorize(chunk)
            ordinals = np.array([_ordinal(v) for v in distinct], dtype=np.int64)
            out[where] = _ORDINAL_EPOCH + ordinals[codes]
        elif kind == "number":
            dates, bad = serials_to_dates(chunk.astype(np.float64), date1904)
            out[where] = dates
            errors.extend((int(i), _serial_reason(v)) for i, v in zip(where[bad], chunk[bad]))
        elif kind == "text":
            for i, value in zip(where, chunk):
                parsed, reason = date_text(value, order)
                if parsed is None:
                    errors.append((int(i), reason))
                else:
                    out[i] = np.datetime64(parsed, "D")
        else:
            errors.extend((int(i), f'"{v}" is not a date') for i, v in zip(where, chunk))
    for i in np.flatnonzero(out < np.datetime64(FIRST_DATE, "D")):
        errors.append((int(i), f"{_as_written(column[i])} is before {FIRST_DATE}, the first "
                               "date a workbook holds"))  # fmt: skip
        out[i] = NAT
    return out, sorted(errors)


def _as_written(value: object) -> str:
    """A date value as its cell or line shows it: text in quotes, a serial, a date cell."""
    if isinstance(value, str):
        return f'"{value.strip()}"'
    if isinstance(value, int | float | np.integer | np.floating):
        return _serial_text(value)
    return _as_date(value).isoformat()


_ORDINAL_EPOCH = np.datetime64("0001-01-01", "D") - 1  # date.toordinal() counts 0001-01-01 as 1
_type_of = np.frompyfunc(type, 1, 1)
_KIND_OF_TYPE = {
    type(None): "blank", bool: "bad", np.bool_: "bad",
    dt.date: "date", dt.datetime: "date", pd.Timestamp: "date", np.datetime64: "date",
    int: "number", float: "number", np.int64: "number", np.float64: "number",
    str: "text",
}  # fmt: skip


def _kinds(column: np.ndarray) -> np.ndarray:
    """Classify each value as blank, date, number, text or bad (by type: one C call per cell)."""
    types = _type_of(column) if len(column) else np.array([], dtype=object)
    kinds = np.full(len(column), "bad", dtype=object)
    for kind_type in set(types):
        kind = _KIND_OF_TYPE.get(kind_type) or _kind(column[np.argmax(types == kind_type)])
        kinds[types == kind_type] = kind
    numbers = np.flatnonzero(kinds == "number")
    if len(numbers):
        kinds[numbers[np.isnan(column[numbers].astype(np.float64))]] = "blank"
    texts = np.flatnonzero(kinds == "text")
    if len(texts):
        kinds[texts[[not v.strip() for v in column[texts]]]] = "blank"
    return kinds


def _kind(value: object) -> str:
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return "blank"
    if isinstance(value, bool | np.bool_):
        return "bad"
    if isinstance(value, dt.date | pd.Timestamp | np.datetime64):
        return "date"
    if isinstance(value, int | float | np.integer | np.floating):
        return "number"
    if isinstance(value, str):
        return "blank" if not value.strip() else "text"
    return "bad"


def _ordinal(value: object) -> int:
    if value.__class__ is dt.datetime or value.__class__ is dt.date:
        return value.toordinal()  # type: ignore[union-attr]
    return _as_date(value).toordinal()


def _as_date(value: object) -> dt.date:
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    return value  # type: ignore[return-value]


def _serial_reason(value: object) -> str:
    if float(value) == 60:
        return "serial 60 is 29 February 1900, a day that does not exist"
    return f"{_serial_text(value)} is not a date serial number"


def _serial_text(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else repr(number)


def to_date(value: np.datetime64) -> dt.date | None:
    """Return a datetime64 as a date, or None for NaT."""
    return None if np.isnat(value) else pd.Timestamp(value).date()
