"""Report workbooks print as a person expects: the header on each page, one page wide."""

import datetime as dt
from decimal import Decimal

from openpyxl import load_workbook

from xl_addin.workbook.report import ReportSheet, read_report, write_report

NARROW = ("Customer", "Amount", "Due")
WIDE = tuple(f"Column {n}" for n in range(1, 11))


def test_every_sheet_prints_one_page_wide_with_its_header_repeated(tmp_path):
    path = tmp_path / "report.xlsx"
    write_report(path, [
        ReportSheet("Narrow", NARROW, [("C001", Decimal("12.30"), dt.date(2026, 11, 30))],
                    ("Run of 30 November 2026",)),
        ReportSheet("Wide", WIDE, [tuple(range(10))]),
    ])
    book = load_workbook(path)
    narrow, wide = book["Narrow"], book["Wide"]
    assert narrow.print_title_rows == "$3:$3" and narrow.freeze_panes == "A4"
    assert wide.print_title_rows == "$1:$1" and wide.freeze_panes == "A2"
    for sheet in (narrow, wide):
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert narrow.page_setup.orientation == "portrait"
    assert wide.page_setup.orientation == "landscape"


def test_money_and_dates_have_their_formats_and_a_midnight_datetime_is_a_date(tmp_path):
    path = tmp_path / "report.xlsx"
    rows = [("C001", Decimal("1234.50"), dt.datetime(2026, 10, 27)),
            ("C002", Decimal("-5.00"), dt.date(2026, 11, 1))]
    write_report(path, [ReportSheet("Sheet", NARROW, rows)])
    sheet = load_workbook(path)["Sheet"]
    assert sheet["B2"].number_format.startswith("#,##0.00")
    assert [sheet[f"C{r}"].number_format for r in (2, 3)] == ["yyyy-mm-dd"] * 2
    assert read_report(path, {"Sheet": NARROW})["Sheet"][0][1] == Decimal("1234.50")
