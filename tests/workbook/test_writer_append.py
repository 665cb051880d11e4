"""Rows appended to an owned sheet's table (a year of History): the file comes out as
writing the sheet whole would write it, and anything the append cannot vouch for is
refused or left to a whole write."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import python_calamine as calamine

from tests.workbook.test_package_roundtrip import libreoffice_resave
from tests.workbook.test_writer import rewrite_part, user_book
from xl_addin.errors import WorkbookError
from xl_addin.workbook.package import Package
from xl_addin.workbook.writer import (
    WIDTH_SAMPLE_ROWS,
    SheetTable,
    appendable_rows,
    write_refresh,
)

HEADER = ["IssuedAt", "Kind", "CustomerID", "Reference", "Amount"]
FORMATS = {"Amount": "#,##0.00", "IssuedAt": "yyyy-mm-dd hh:mm"}
START = dt.datetime(2026, 1, 5, 9, 30)


def documents(first: int, count: int) -> list[list[object]]:
    """Rows of growing width: a whole write would size its columns from all of them."""
    return [[START + dt.timedelta(hours=n), "催款函件" if n % 3 else "Letter", f"C{n:05d}",
             f"SH-LTR-{n:07d}" + "x" * (n // 200), Decimal(n) / 7 + Decimal("0.01")]
            for n in range(first, first + count)]  # fmt: skip


def history(rows, kept: int = 0) -> SheetTable:
    return SheetTable("History", "Documents issued", HEADER, rows, number_formats=FORMATS,
                      kept_rows=kept)  # fmt: skip


def sheet_part(path: Path, sheet: str = "History") -> tuple[bytes, str]:
    """The sheet's part and its table's range."""
    with Package(path) as package:
        part = package.sheet(sheet).part
        refs = [xml.get("ref") for s, _, xml in package.tables() if s.part == part]
        return package.read(part), refs[0]


@pytest.fixture
def written(tmp_path) -> Path:
    """A user's workbook with a History of 600 documents, written whole."""
    path = user_book(tmp_path / "branch.xlsx")
    write_refresh(path, [], [history(documents(0, 600))])
    return path


def test_rows_appended_leave_the_sheet_as_a_whole_write_would(written, tmp_path):
    whole = tmp_path / "whole.xlsx"
    shutil.copy(written, whole)
    assert appendable_rows(written, "History", HEADER) == 600
    write_refresh(written, [], [history(documents(600, 7), kept=600)])
    write_refresh(whole, [], [history(documents(0, 607))])
    assert sheet_part(written) == sheet_part(whole)
    assert sheet_part(written)[1] == "A3:E610"
    ws = openpyxl.load_workbook(written)["History"]
    assert ws.max_row == 610 and ws.tables["History"].ref == "A3:E610"
    last = [START + dt.timedelta(hours=606), "Letter", "C00606", "SH-LTR-0000606xxx",
            pytest.approx(606 / 7 + 0.01)]  # fmt: skip
    assert [c.value for c in ws[610]] == last
    assert ws["E610"].number_format == "#,##0.00"
    assert ws.column_dimensions["A"].width >= 17  # a time of day shows (not ####)
    assert ws["A609"].number_format == FORMATS["IssuedAt"]
    values = calamine.CalamineWorkbook.from_path(str(written)).get_sheet_by_name("History")
    assert values.to_python()[-1][3] == "SH-LTR-0000606xxx"
    assert appendable_rows(written, "History", HEADER) == 607  # and again the next day


def test_every_other_part_is_copied_as_it_was(written):
    with zipfile.ZipFile(written) as archive:
        before = {i.filename: archive.read(i) for i in archive.infolist()}
    write_refresh(written, [], [history(documents(600, 3), kept=600)])
    with Package(written) as package:
        changed = {package.sheet("History").part,
                   next(p for s, p, _ in package.tables() if s.name == "History")}  # fmt: skip
    with zipfile.ZipFile(written) as archive:
        after = {i.filename: archive.read(i) for i in archive.infolist()}
    assert after.keys() == before.keys()
    assert {name for name in after if after[name] != before[name]} == changed


def test_a_short_table_is_written_whole_its_columns_sized_again(tmp_path):
    path = user_book(tmp_path / "branch.xlsx")
    write_refresh(path, [], [history(documents(0, WIDTH_SAMPLE_ROWS - 1))])
    assert appendable_rows(path, "History", HEADER) is None
    write_refresh(path, [], [history(documents(0, WIDTH_SAMPLE_ROWS))])
    assert appendable_rows(path, "History", HEADER) == WIDTH_SAMPLE_ROWS


def test_a_sheet_not_as_written_is_not_appended_to(written, tmp_path):
    assert appendable_rows(written, "History", [*HEADER[:-1], "Total"]) is None
    assert appendable_rows(written, "Aging", HEADER) is None  # no such sheet
    part, _ = sheet_part(written)
    with Package(written) as package:
        name = package.sheet("History").part
    # a formatted row under the table (as Excel keeps one the user coloured)
    under = part.replace(b"</sheetData>", b'<row r="700"><c r="A700" s="1"/></row></sheetData>')
    rewrite_part(written, name, under)
    assert appendable_rows(written, "History", HEADER) is None
    # rows without numbers: the last row cannot be told
    rewrite_part(written, name, part.replace(b'<row r="603">', b"<row>"))
    assert appendable_rows(written, "History", HEADER) is None
    rewrite_part(written, name, part)
    assert appendable_rows(written, "History", HEADER) == 600


def test_appending_to_a_sheet_that_changed_writes_nothing(written):
    before, files = written.read_bytes(), sorted(written.parent.iterdir())
    with pytest.raises(WorkbookError, match="History sheet is not as it was read"):
        write_refresh(written, [], [history(documents(600, 2), kept=599)])
    part, _ = sheet_part(written)
    with Package(written) as package:
        name = package.sheet("History").part
    rewrite_part(written, name, part.replace(b"</sheetData>",
                                             b'<row r="700"><c r="A700" s="1"/></row></sheetData>'))
    changed = written.read_bytes()
    with pytest.raises(WorkbookError, match="History sheet is not as it was read"):
        write_refresh(written, [], [history(documents(600, 2), kept=600)])
    assert written.read_bytes() == changed != before
    assert sorted(written.parent.iterdir()) == files  # no temporary file left


def test_only_a_plain_table_is_appended_to():
    with pytest.raises(ValueError, match="only a plain table"):
        SheetTable("History", "t", HEADER, [], totals=[["Total"]], kept_rows=3)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_reads_every_row_appended(written, tmp_path):
    write_refresh(written, [], [history(documents(600, 5), kept=600)])
    libreoffice_resave(written, tmp_path)
    ws = openpyxl.load_workbook(tmp_path / "lo" / "branch.xlsx")["History"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 605
    assert rows[-1][2:4] == ("C00604", "SH-LTR-0000604xxx")
