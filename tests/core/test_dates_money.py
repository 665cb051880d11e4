"""Excel serial dates (1900 and 1904 systems), date text, and amounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from xl_addin.core.dates import parse_date_text, parse_dates, serials_to_dates
from xl_addin.core.money import floats_to_cents, parse_amount_text, quantize, to_decimal


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, "1900-01-01"),
        (59, "1900-02-28"),
        (61, "1900-03-01"),  # 60 is the fictitious 29 February 1900
        (46000, "2025-12-09"),
        (46356.75, "2026-11-30"),  # a time of day is dropped
        (2958465, "9999-12-31"),
    ],
)
def test_1900_serials(serial, expected):
    dates, bad = serials_to_dates(np.array([serial], dtype=float))
    assert not bad[0] and str(dates[0]) == expected


def test_1904_serials_start_on_1_january_1904():
    dates, bad = serials_to_dates(np.array([0.0, 1462.0, 44894.0]), date1904=True)
    assert [str(d) for d in dates] == ["1904-01-01", "1908-01-02", "2026-11-30"]
    assert not bad.any()


@pytest.mark.parametrize("serial", [60, 0, -1, 2958466, float("nan")])
def test_serials_that_are_no_date(serial):
    _, bad = serials_to_dates(np.array([serial], dtype=float))
    assert bad[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30", dt.date(2026, 11, 30)),
        ("2026-11-30T00:00:00", dt.date(2026, 11, 30)),
        ("2026/1/5", dt.date(2026, 1, 5)),
        ("2026年11月30日", dt.date(2026, 11, 30)),
        ("20261130", dt.date(2026, 11, 30)),
        ("2026-02-30", None),  # impossible
        ("30/11/2026", None),  # day-first text is ambiguous: refused
        ("soon", None),
    ],
)
def test_date_text(text, expected):
    assert parse_date_text(text) == expected


def test_parse_dates_mixes_cells_serials_text_and_blanks():
    values = [dt.date(2026, 1, 5), dt.datetime(2026, 1, 6, 13, 0), 46000, "2026-01-07", "", None]
    dates, errors = parse_dates(values)
    assert [str(d) for d in dates] == [
        "2026-01-05", "2026-01-06", "2025-12-09", "2026-01-07", "NaT", "NaT",
    ]  # fmt: skip
    assert errors == []


def test_parse_dates_reports_each_bad_value_by_position():
    _, errors = parse_dates(["2026-02-30", 60, True, "x"])
    assert [i for i, _ in errors] == [0, 1, 2, 3]
    assert "29 February 1900" in errors[1][1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.50", "1234.50"),
        ("1234.5", "1234.5"),
        ("-12", "-12"),
        ("(1,000.00)", "-1000.00"),
        ("¥3,000", "3000"),
        ("12,3x", None),
        ("12,34", None),  # a thousands separator must be followed by three digits
        ("1.234,50", None),
        ("", None),
    ],
)
def test_amount_text(text, expected):
    assert parse_amount_text(text) == (None if expected is None else Decimal(expected))


def test_float_amounts_round_half_away_from_zero_as_displayed():
    cents = floats_to_cents(np.array([1234.56, 1.005, -1.005, 0.1 + 0.2, 2.675, 1e10]))
    assert list(cents) == [123456, 101, -101, 30, 268, 1_000_000_000_000]


def test_decimal_helpers():
    assert to_decimal(123456) == Decimal("1234.56")
    assert str(to_decimal(-5)) == "-0.05"
    assert quantize(Decimal("2.345")) == Decimal("2.35")


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("30/11/2026", "day-first", dt.date(2026, 11, 30)),
        ("05/11/2026", "day-first", dt.date(2026, 11, 5)),
        ("05.11.2026", "day-first", dt.date(2026, 11, 5)),
        ("11/30/2026", "month-first", dt.date(2026, 11, 30)),
        ("05/11/2026", "month-first", dt.date(2026, 5, 11)),
        ("11/30/2026", "day-first", None),  # no 11th day of month 30
        ("2026-11-30", "day-first", dt.date(2026, 11, 30)),  # ISO whatever the order
    ],
)
def test_day_and_month_in_the_order_the_file_uses(text, order, expected):
    assert parse_date_text(text, order) == expected


def test_without_the_order_day_month_text_is_refused_with_both_readings():
    from xl_addin.core.dates import date_text

    assert date_text("05/11/2026") == (None, '"05/11/2026" could be 5 November 2026 (day first) '
                                       "or 11 May 2026 (month first): say which order the file "
                                       "uses with --day-first or --month-first")  # fmt: skip
    assert date_text("31/02/2026") == (None, '"31/02/2026" is not a date')
