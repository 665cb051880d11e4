"""Small report workbooks (reconciliation, run summaries): sheets of rows, written safely."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from xl_addin.workbook.cells import excel_text
from xl_addin.workbook.safe_save import save_atomically
from xl_addin.workbook.updates import LANDSCAPE_FROM

MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# A Chinese report's date cells read 2026年11月30日, as its text does (still dates to Excel).
DATE_FORMATS = {"en": (DATE_FORMAT, DATETIME_FORMAT),
                "zh": ('yyyy"年"m"月"d"日"', 'yyyy"年"m"月"d"日" hh:mm')}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReportSheet:
    """One sheet: optional title lines, a header row and data rows (Decimal money, dates)."""

    name: str
    headers: tuple[str, ...]
    rows: Sequence[Sequence[object]]
    title: tuple[str, ...] = ()
    widths: dict[int, float] = field(default_factory=dict)
    chart_columns: tuple[int, ...] = ()  # a stacked bar chart of these columns per row


def write_report(
    path: Path, sheets: Sequence[ReportSheet], language: str = "en"
) -> Path | None:
    """Write the report through a temporary file; return the backup of a previous one.
    Date cells are formatted in `language` (en: 2026-11-30, zh: 2026年11月30日)."""
    formats = DATE_FORMATS["zh" if language == "zh" else "en"]

    def write(target: Path) -> None:
        book = Workbook(write_only=True)
        for spec in sheets:
            _write_sheet(book, spec, formats)
        book.save(target)

    return save_atomically(path, write)


def read_report(
    path: Path, wanted: dict[str, tuple[str, ...]]
) -> dict[str, list[tuple[object, ...]]]:
    """The data rows of a report written by write_report: sheet -> rows under its header.

    Money comes back as Decimal (the cells write_report gave the money format), blanks as
    "". A missing file, or one that cannot be read, gives {} (write_report keeps a backup
    of whatever it replaces).
    """
    if not path.exists():
        return {}
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # any unreadable file: start afresh (write_report keeps a backup)
        return {}
    found: dict[str, list[tuple[object, ...]]] = {}
    try:
        for name, headers in wanted.items():
            if name not in book.sheetnames:
                continue
            rows, header_seen = [], False
            for row in book[name].iter_rows():
                values = tuple(_value(cell) for cell in row[: len(headers)])
                if header_seen and any(v != "" for v in values):
                    rows.append(values + ("",) * (len(headers) - len(values)))
                header_seen = header_seen or values == tuple(headers)
            found[name] = rows
    finally:
        book.close()
    return found


def _value(cell) -> object:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, int | float) and cell.number_format == MONEY_FORMAT:
        return Decimal(repr(float(value))).quantize(Decimal("0.01"))
    return value


def _write_sheet(book: Workbook, spec: ReportSheet, formats: tuple[str, str]) -> None:
    ws = book.create_sheet(spec.name[:31])
    for position, header in enumerate(spec.headers):
        longest = max([_display_width(header),
                       *(_display_width(r[position], formats) for r in spec.rows)])
        ws.column_dimensions[_letter(position)].width = spec.widths.get(
            position, min(max(longest + 2, 8), 60)
        )
    header_row = len(spec.title) + (2 if spec.title else 1)
    # a write-only sheet writes its views and page setup with the first row: set them first
    ws.freeze_panes = f"A{header_row + 1}"
    _print_setup(ws, header_row, len(spec.headers))
    for line in spec.title:
        ws.append([_cell(ws, line, bold=True)])
    if spec.title:
        ws.append([])
    ws.append([_cell(ws, h, bold=True) for h in spec.headers])
    for row in spec.rows:
        ws.append([_cell(ws, value, formats=formats) for value in row])
    if spec.chart_columns and spec.rows:
        _add_chart(ws, spec, header_row)


def _print_setup(ws, header_row: int, width: int) -> None:
    """Print the sheet one page wide, the header row on every page, landscape when wide."""
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.page_setup.orientation = "landscape" if width > LANDSCAPE_FROM else "portrait"


def _add_chart(ws, spec: ReportSheet, header_row: int) -> None:
    """A stacked bar chart of the chart columns, one bar per data row (the first column's
    text), placed right of the table."""
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "bar", "stacked", 100
    chart.title = spec.title[0] if spec.title else spec.name
    chart.height, chart.width = 7 + 0.5 * len(spec.rows), 18
    last = header_row + len(spec.rows)
    for column in spec.chart_columns:
        data = Reference(ws, min_col=column + 1, min_row=header_row, max_row=last)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=header_row + 1, max_row=last))
    ws.add_chart(chart, f"{_letter(len(spec.headers) + 1)}{header_row}")


def _cell(ws, value: object, bold: bool = False,
          formats: tuple[str, str] = DATE_FORMATS["en"]) -> WriteOnlyCell:  # fmt: skip
    if isinstance(value, str):
        value = excel_text(value)
    elif isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        value = value.date()  # a date read as a datetime: never "2026-10-27 00:00:00"
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula (=HYPERLINK(...)) or an error (#N/A)
    elif isinstance(value, Decimal):
        cell.number_format = MONEY_FORMAT
    elif isinstance(value, dt.datetime):
        cell.number_format = formats[1]
    elif isinstance(value, dt.date):
        cell.number_format = formats[0]
    if bold:
        cell.font = Font(bold=True)
    return cell


def _display_width(value: object, formats: tuple[str, str] = DATE_FORMATS["en"]) -> int:
    if isinstance(value, dt.date):  # as the format shows it: 2026年11月30日 is 16 wide
        shown = value.strftime("%Y年%m月%d日" if "年" in formats[0] else "%Y-%m-%d")
        text = shown + (" 00:00" if isinstance(value, dt.datetime) else "")
    else:
        text = "" if value is None else (f"{value:,}" if isinstance(value, Decimal)
                                         else str(value))  # fmt: skip
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)  # CJK characters are two wide


def _letter(position: int) -> str:
    return get_column_letter(position + 1)
