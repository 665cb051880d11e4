"""Writing computed columns and the Aging sheet into a user's workbook without harming it."""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import re
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import python_calamine as calamine
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableColumn, TableFormula, TableStyleInfo

from tests.books import make_book
from xl_addin.errors import WorkbookError
from xl_addin.workbook.package import Package
from xl_addin.workbook.reader import read_workbook
from xl_addin.workbook.writer import ColumnUpdate, SheetTable, write_refresh

MONEY = "#,##0.00;[Red]-#,##0.00"
RED = "FFFF0000"


def user_book(path: Path) -> Path:
    """A branch workbook as a user keeps it: their own column, formats, rules and notes."""
    book = openpyxl.Workbook()
    customers = book.active
    customers.title = "Customers"
    customers.append(["CustomerID", "Name", "CreditLimit", "Limit in k"])
    for i, (cid, name, limit) in enumerate(
        [("C001", "上海华信贸易有限公司", 50000), ("C002", "Harbour & Sons", 10000),
         ("C003", "Watch Co", 2000)], start=2,
    ):  # fmt: skip
        customers.append([cid, name, limit, f"=C{i}/1000"])
    customers.add_table(
        Table(
            displayName="Customers",
            ref="A1:D4",
            tableStyleInfo=TableStyleInfo(name="TableStyleMedium9", showRowStripes=True),
        )
    )
    customers["B2"].font = Font(bold=True, color=RED)
    customers["B2"].fill = PatternFill("solid", fgColor="FFFFFF00")
    rule = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
    rule.add("C2:C4")
    customers.add_data_validation(rule)
    customers.conditional_formatting.add(
        "C2:C4", CellIsRule(operator="greaterThan", formula=["20000"], font=Font(color=RED))
    )
    customers.column_dimensions["B"].width = 30
    book.defined_names["Limits"] = DefinedName("Limits", attr_text="Customers!$C$2:$C$4")

    ledger = book.create_sheet("Ledger")
    ledger.append(["CustomerID", "DocNo", "Amount", "账龄"])
    ledger.append(["C001", "INV-1", 12000.5, "old"])
    ledger.append(["C002", "PAY-1", 2000, "kept as it was"])
    ledger.append(["C002", "INV-2", 8000, "old"])
    ledger.add_table(Table(displayName="Ledger", ref="A1:D4"))

    notes = book.create_sheet("Notes")
    notes["A1"] = "=1+2"
    notes["A1"].data_type = "s"  # text that looks like a formula
    notes["A2"] = "=SUM(Customers!C2:C4)"
    notes["A3"] = CellRichText(["plain ", TextBlock(InlineFont(b=True), "bold")])
    notes["B1"].comment = Comment("ask Li about this", "Wang")
    notes.merge_cells("C1:D2")
    notes["C1"] = "merged"
    book.save(path)
    return path


def customers_update(**changes) -> ColumnUpdate:
    fields = dict(
        sheet="Customers",
        header_row=1,
        first_column=1,
        table="Customers",
        rows=[2, 3, 4],
        values={
            "Balance": [Decimal("10000.50"), Decimal("-250.00"), None],
            "Stage": ["Demand letter", "Not due", '=HYPERLINK("http://x")'],
        },
        number_formats={"Balance": MONEY},
        aliases={"Balance": ["余额"], "Stage": ["催收阶段"]},
    )
    return ColumnUpdate(**(fields | changes))


def ledger_update(rows=(2, 4), buckets=("31-60", "Current")) -> ColumnUpdate:
    return ColumnUpdate(
        sheet="Ledger",
        header_row=1,
        first_column=1,
        table="Ledger",
        rows=list(rows),
        values={"Bucket": list(buckets), "DaysOverdue": [45, -3][: len(rows)]},
        number_formats={"DaysOverdue": "0"},
        aliases={"Bucket": ["账龄"]},
    )


def aging(rows=None, **changes) -> SheetTable:
    fields = dict(
        sheet="Aging",
        title="Aged receivables as of 30 November 2026",
        header=["Customer", "Name", "Current", "1-30", "Balance"],
        rows=rows
        if rows is not None
        else [
            [
                "C001",
                "上海华信贸易有限公司",
                Decimal("0"),
                Decimal("10000.50"),
                Decimal("10000.50"),
            ],
            ["C002", "=cmd|' /C calc'!A0", Decimal("7500"), Decimal("0"), Decimal("7500")],
        ],
        totals=[["Total CNY", "", Decimal("7500"), Decimal("10000.50"), Decimal("17500.50")]],
        number_formats={"Current": MONEY, "1-30": MONEY, "Balance": MONEY},
        chart=True,
        chart_columns=["Current", "1-30"],
    )
    return SheetTable(**(fields | changes))


def column(ws, header_row: int, header: str) -> int:
    headers = [c.value for c in ws[header_row]]
    assert headers.count(header) == 1, headers
    return headers.index(header) + 1


def cell_xml(path: Path, part: str, reference: str) -> str:
    with zipfile.ZipFile(path) as archive:
        xml = archive.read(part).decode("utf-8")
    found = re.search(rf'<c r="{reference}"[^>]*>.*?</c>', xml)
    assert found, f"no cell {reference} in {part}"
    return found.group(0)


@pytest.fixture
def book_path(tmp_path) -> Path:
    return user_book(tmp_path / "branch.xlsx")


def test_computed_values_land_in_their_rows_and_nowhere_else(book_path):
    write_refresh(book_path, [customers_update(), ledger_update()], [])
    book = openpyxl.load_workbook(book_path)
    customers = book["Customers"]
    balance = column(customers, 1, "Balance")
    assert [customers.cell(r, balance).value for r in (2, 3, 4)] == [10000.5, -250, None]
    assert all(customers.cell(r, balance).number_format == MONEY for r in (2, 3, 4))
    ledger = book["Ledger"]
    assert [c.value for c in ledger["D"]] == ["账龄", "31-60", "kept as it was", "Current"]
    days = column(ledger, 1, "DaysOverdue")
    assert [ledger.cell(r, days).value for r in (2, 3, 4)] == [45, None, -3]


def test_a_missing_column_is_added_after_the_table_and_the_table_grows(book_path):
    write_refresh(book_path, [customers_update()], [])
    customers = openpyxl.load_workbook(book_path)["Customers"]
    table = customers.tables["Customers"]
    assert table.ref == "A1:F4"
    assert [c.name for c in table.tableColumns] == [
        "CustomerID", "Name", "CreditLimit", "Limit in k", "Balance", "Stage",
    ]  # fmt: skip
    assert len({c.id for c in table.tableColumns}) == 6
    assert table.autoFilter.ref == "A1:F4"
    assert [c.value for c in customers[1]] == [
        "CustomerID", "Name", "CreditLimit", "Limit in k", "Balance", "Stage",
    ]  # fmt: skip
    # calamine, the product's reader, sees the grown table too
    read = calamine.CalamineWorkbook.from_path(str(book_path), load_tables=True)
    assert read.get_table_by_name("Customers").columns[-2:] == ["Balance", "Stage"]


def test_an_alias_header_is_written_in_place(book_path):
    write_refresh(book_path, [ledger_update()], [])
    ledger = openpyxl.load_workbook(book_path)["Ledger"]
    assert ledger.tables["Ledger"].ref == "A1:E4"  # only DaysOverdue was added
    assert ledger["D1"].value == "账龄" and ledger["D2"].value == "31-60"


def test_a_second_refresh_finds_the_columns_it_added(book_path):
    write_refresh(book_path, [customers_update(), ledger_update()], [aging()])
    write_refresh(
        book_path,
        [customers_update(values={"Balance": [1, 2, 3], "Stage": ["a", "b", "c"]})],
        [aging()],
    )
    book = openpyxl.load_workbook(book_path)
    customers = book["Customers"]
    assert customers.tables["Customers"].ref == "A1:F4"
    assert [c.value for c in customers["E"]] == ["Balance", 1, 2, 3]
    assert book.sheetnames == ["Customers", "Ledger", "Notes", "Aging"]


def test_everything_else_in_the_workbook_is_kept(book_path):
    write_refresh(book_path, [customers_update(), ledger_update()], [aging()])
    book = openpyxl.load_workbook(book_path, rich_text=True)
    assert book.sheetnames == ["Customers", "Ledger", "Notes", "Aging"]
    customers = book["Customers"]
    assert [c.value for c in customers["D"]][1:] == ["=C2/1000", "=C3/1000", "=C4/1000"]
    assert customers["B2"].font.b and customers["B2"].font.color.rgb == RED
    assert customers["B2"].fill.fgColor.rgb == "FFFFFF00"
    assert customers.tables["Customers"].tableStyleInfo.name == "TableStyleMedium9"
    assert customers.column_dimensions["B"].width == 30
    (rule,) = customers.data_validations.dataValidation
    assert str(rule.sqref) == "C2:C4" and rule.type == "whole" and rule.formula1 == "0"
    formats = list(customers.conditional_formatting)
    assert [str(f.sqref) for f in formats] == ["C2:C4"]
    assert formats[0].rules[0].formula == ["20000"]
    assert book.defined_names["Limits"].attr_text == "Customers!$C$2:$C$4"
    notes = book["Notes"]
    assert notes["A1"].value == "=1+2" and notes["A1"].data_type == "s"
    assert notes["A2"].value == "=SUM(Customers!C2:C4)" and notes["A2"].data_type == "f"
    assert isinstance(notes["A3"].value, CellRichText) and str(notes["A3"].value) == "plain bold"
    assert notes["B1"].comment.text == "ask Li about this"
    assert [str(r) for r in notes.merged_cells.ranges] == ["C1:D2"]
    assert notes["C1"].value == "merged"


def store_results(path: Path, part: str, results: dict[str, object]) -> None:
    """Give formula cells a stored result, as Excel does when it saves (openpyxl does not)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    for reference, result in results.items():
        kind = ' t="str"' if isinstance(result, str) else ""
        parts[part], count = re.subn(
            rf'<c r="{reference}"([^>]*)>(<f>.*?</f>)(?:<v ?/>|<v></v>)',
            rf'<c r="{reference}"\1{kind}>\2<v>{result}</v>',
            parts[part],
        )
        assert count == 1, reference
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)


def calamine_column(path: Path, sheet: str, index: int) -> list[object]:
    rows = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return [row[index] for row in rows]


def test_formulas_keep_the_results_excel_stored(book_path):
    book = openpyxl.load_workbook(book_path)
    book["Ledger"]["B3"] = '=IF(C3>0,"PAY-"&ROW(),"")'  # this cell's result is text
    book["Ledger"]["D4"] = "=A4"  # a formula where a computed column will write
    book.save(book_path)
    store_results(book_path, "xl/worksheets/sheet1.xml", {"D2": 50, "D3": 10, "D4": 2})
    store_results(book_path, "xl/worksheets/sheet2.xml", {"B3": "PAY-3", "D4": "C002"})
    assert calamine_column(book_path, "Customers", 3) == ["Limit in k", 50, 10, 2]

    write_refresh(book_path, [customers_update(), ledger_update()], [aging()])
    assert calamine_column(book_path, "Customers", 3) == ["Limit in k", 50, 10, 2]
    assert calamine_column(book_path, "Ledger", 1)[2] == "PAY-3"
    # A formula in a computed column (as the template has) is kept; our value is its result.
    assert calamine_column(book_path, "Ledger", 3)[3] == "Current"
    book = openpyxl.load_workbook(book_path)
    assert book["Customers"]["D2"].value == "=C2/1000"
    assert book["Ledger"]["B3"].value == '=IF(C3>0,"PAY-"&ROW(),"")'
    assert book["Ledger"]["D4"].value == "=A4"


CALCULATED = {  # a table's calculated columns, and whether a row's cell may be given one
    "Net": ("Ledger[[#This Row],[Amount]]/1.2", True),  # structured: the same in every row
    "Label": ('IF(Ledger[[#This Row],[Amount]]>0,"A1 & <B2>","")', True),  # text is no cell
    "Scaled": ("Ledger[[#This Row],[Amount]]*Settings!$B$2", True),  # absolute: every row
    "Next": ("C2+1", False),  # relative: Excel writes C3+1 in row 3, C4+1 in row 4
    "Span": ("SUM(Ledger!$C$2:C2)", False),  # half relative
    "Whole": ("COUNTA(C:C)", False),  # whole columns, relative too
}


def calculated_book(path: Path) -> Path:
    """A ledger table whose calculated columns were pasted over as values in its rows."""
    book = openpyxl.Workbook()
    ledger = book.active
    ledger.title = "Ledger"
    headers = ["CustomerID", "DocNo", "Amount", *CALCULATED]
    ledger.append(headers)
    ledger.append(["C001", "INV-1", 120, 1, "x", 3, 4, 5, 6])
    ledger.append(["C002", "INV-2", 240, 1, "x", 3, 4, 5, 6])
    # Amount, an input column, has one too: a user's table may
    formulas = {"Amount": "Ledger[[#This Row],[Net]]*1.2"} | {
        header: formula for header, (formula, _) in CALCULATED.items()}  # fmt: skip
    table = Table(displayName="Ledger", ref="A1:I3", tableColumns=[
        TableColumn(id=i, name=header, calculatedColumnFormula=TableFormula(
            attr_text=formulas[header]) if header in formulas else None)
        for i, header in enumerate(headers, start=1)])  # fmt: skip
    ledger.add_table(table)
    book.save(path)
    return path


def test_computed_cells_get_the_tables_calculated_formula_where_it_reads_alike_in_every_row(
    tmp_path,
):
    """A cell of a computed column holding no formula gets its table's calculated formula,
    our value its stored result (as Excel fills a new row), where the formula's text is the
    same in every row; a formula with a relative A1 reference is left to Excel."""
    path = calculated_book(tmp_path / "branch.xlsx")
    values = {"Net": [Decimal("100.00"), Decimal("200.00"), Decimal("10.00")],
              "Label": ["A1 & <B2>", "A1 & <B2>", "A1 & <B2>"], "Scaled": [1, 2, 3],
              "Next": [121, 241, 1], "Span": [120, 360, 360], "Whole": [3, 3, 4]}  # fmt: skip
    write_refresh(path, [ColumnUpdate("Ledger", 1, 1, "Ledger", [2, 3, 4], values,
                                      computed=True)], [])  # fmt: skip
    book = openpyxl.load_workbook(path)["Ledger"]
    stored = openpyxl.load_workbook(path, data_only=True)["Ledger"]
    grid = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Ledger").to_python()
    for index, (header, (formula, given)) in enumerate(CALCULATED.items(), start=4):
        for row, value in zip((2, 3, 4), values[header], strict=True):
            expected = "=" + formula if given else value
            assert book.cell(row, index).value == expected, (header, row)
            assert stored.cell(row, index).value == value, (header, row)
            assert grid[row - 1][index - 1] == value, (header, row)
    assert book.tables["Ledger"].ref == "A1:I4"  # the new row 4 joined the table


def test_input_columns_never_get_the_tables_calculated_formula(tmp_path):
    """Only an update of computed columns gives formulas: the input columns an import
    writes stay values, even under a calculated formula of the user's."""
    path = calculated_book(tmp_path / "branch.xlsx")
    inputs = ColumnUpdate("Ledger", 1, 1, "Ledger", [2, 4],
                          {"Amount": [Decimal("150.00"), Decimal("60.00")], "Net": [125, 50]})
    computed = ColumnUpdate("Ledger", 1, 1, "Ledger", [4], {"Net": [50], "Scaled": [7]},
                            computed=True)  # fmt: skip
    write_refresh(path, [inputs, computed], [])
    book = openpyxl.load_workbook(path)["Ledger"]
    assert [book.cell(r, 3).value for r in (2, 3, 4)] == [150, 240, 60]
    assert [book.cell(r, 4).value for r in (2, 3, 4)] == [125, 1, 50]  # an input here too
    assert [book.cell(r, 6).value for r in (2, 3, 4)] == [3, 3, "=" + CALCULATED["Scaled"][0]]


def test_text_that_looks_like_a_formula_stays_text_in_the_file(book_path):
    write_refresh(book_path, [customers_update()], [aging()])
    book = openpyxl.load_workbook(book_path)
    stage = book["Customers"]["F4"]
    assert stage.value == '=HYPERLINK("http://x")' and stage.data_type == "s"
    assert book["Aging"]["B5"].data_type == "s"
    assert book["Notes"]["A1"].data_type == "s"
    assert "<f>" not in cell_xml(book_path, "xl/worksheets/sheet1.xml", "F4")
    assert "<f>" not in cell_xml(book_path, "xl/worksheets/sheet3.xml", "A1")
    assert "<f>" in cell_xml(book_path, "xl/worksheets/sheet3.xml", "A2")
    values = calamine.CalamineWorkbook.from_path(str(book_path)).get_sheet_by_name("Notes")
    assert values.to_python()[0][0] == "=1+2"


def test_values_of_every_kind_are_stored_as_excel_values(book_path):
    values = {
        "Balance": [np.float64("nan"), np.int64(7), Decimal("NaN")],
        "Stage": ["tab\x0bhere", "", dt.date(2026, 11, 30)],
    }
    write_refresh(book_path, [customers_update(values=values, number_formats={})], [])
    customers = openpyxl.load_workbook(book_path)["Customers"]
    assert [customers.cell(r, 5).value for r in (2, 3, 4)] == [None, 7, None]
    assert customers["F2"].value == "tabhere"  # control characters cannot be stored
    assert customers["F3"].value is None
    assert customers["F4"].value == dt.datetime(2026, 11, 30)
    assert customers["F4"].is_date


def test_a_plain_sheet_without_a_table_gets_its_column(tmp_path):
    path = make_book(tmp_path / "plain.xlsx", as_table=False)
    update = ColumnUpdate(
        sheet="Customers",
        header_row=1,
        first_column=1,
        table=None,
        rows=[2, 3],
        values={"Stage": ["Demand letter", "Not due"], "LastStage": ["x", "y"]},
    )
    write_refresh(path, [update], [])
    customers = openpyxl.load_workbook(path)["Customers"]
    assert [c.value for c in customers[1]][-2:] == ["LastStage", "Stage"]
    assert [c.value for c in customers["G"]] == ["Stage", "Demand letter", "Not due"]
    assert [c.value for c in customers["F"]] == ["LastStage", "x", "y"]


def test_columns_found_by_the_reader_are_written_back(tmp_path):
    path = make_book(tmp_path / "b.xlsx", ledger_top_left=(4, 3))
    book, problems = read_workbook(path)
    assert problems == []
    raw = book.ledger.raw
    rows = [int(r) for r in book.ledger.frame["row"]]
    update = ColumnUpdate(
        raw.sheet, raw.header_row, raw.first_column, raw.table, rows,
        {"Bucket": ["31-60", None, "Current", None]},
    )  # fmt: skip
    write_refresh(path, [update], [])
    ledger = openpyxl.load_workbook(path)["Ledger"]
    assert ledger.tables["Ledger"].ref == "C4:K8"
    assert [ledger.cell(r, 11).value for r in range(4, 9)] == [
        "Bucket", "31-60", None, "Current", None,
    ]  # fmt: skip
    again, problems = read_workbook(path)
    assert problems == [] and len(again.ledger.frame) == 4


def test_a_column_right_of_the_table_that_is_in_use_is_not_overwritten(book_path):
    book = openpyxl.load_workbook(book_path)
    book["Customers"]["E3"] = "my own note"
    book.save(book_path)
    before = book_path.read_bytes()
    with pytest.raises(WorkbookError, match=r"Customers!E3: column E right of the table"):
        write_refresh(book_path, [customers_update()], [])
    assert book_path.read_bytes() == before


def test_the_aging_sheet_is_rebuilt_where_it_was(book_path):
    book = openpyxl.load_workbook(book_path)
    old = book.create_sheet("Aging", 1)
    old["A1"], old["Z99"] = "stale title", "stale cell"
    old.sheet_properties.tabColor = "FF00B050"
    book.save(book_path)

    write_refresh(book_path, [], [aging()])
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["Customers", "Aging", "Ledger", "Notes"]
    ws = book["Aging"]
    assert ws["A1"].value == "Aged receivables as of 30 November 2026" and ws["A1"].font.b
    assert (ws.max_row, ws.max_column) == (7, 5)  # nothing of the old sheet is left
    assert ws.sheet_properties.tabColor.rgb == "FF00B050"
    table = ws.tables["Aging"]
    assert table.ref == "A3:E5"
    assert [c.name for c in table.tableColumns] == ["Customer", "Name", "Current", "1-30",
                                                     "Balance"]  # fmt: skip
    assert [c.value for c in ws[4]] == ["C001", "上海华信贸易有限公司", 0, 10000.5, 10000.5]
    assert ws["B5"].value == "=cmd|' /C calc'!A0" and ws["B5"].data_type == "s"
    assert [c.value for c in ws[7]] == ["Total CNY", None, 7500, 10000.5, 17500.5]
    assert ws["A7"].font.b and ws["E7"].number_format == MONEY
    assert ws["D4"].number_format == MONEY
    assert ws.freeze_panes == "A4"
    assert ws.column_dimensions["B"].width >= 20  # wide Chinese names
    (chart,) = ws._charts
    assert chart.grouping == "stacked" and chart.type == "bar"
    assert [s.tx.strRef.f for s in chart.series] == ["'Aging'!C3", "'Aging'!D3"]
    assert [s.val.numRef.f for s in chart.series] == ["'Aging'!$C$4:$C$5", "'Aging'!$D$4:$D$5"]
    assert chart.series[1].cat.strRef.f == "'Aging'!$A$4:$A$5"


def test_what_the_user_set_on_an_owned_sheet_survives_its_rebuild(book_path):
    """Tab colour, zoom, grid lines, margins, paper, header and footer stay; the printer
    settings part goes with the old sheet (its r:id with it); the old rows go."""
    book = openpyxl.load_workbook(book_path)
    old = book.create_sheet("Aging", 1)
    for number in range(1, 3001):  # an old Aging of a big ledger: read row by row
        old.append([f"C{number:04d}", "stale", number])
    old.sheet_properties.tabColor = "FF00B050"
    old.sheet_view.zoomScale = 85
    old.sheet_view.showGridLines = False
    old.page_margins.left = 0.25
    old.page_setup.paperSize = old.PAPERSIZE_A4
    old.oddHeader.center.text = "Confidential"
    book.save(book_path)
    with zipfile.ZipFile(book_path) as package:
        part = next(n for n in package.namelist() if n.startswith("xl/worksheets/sheet")
                    and "stale" in package.read(n).decode())  # fmt: skip
        original = package.read(part).decode()
    printer = original.replace("<pageSetup ", '<pageSetup r:id="rId9" ', 1)
    if "xmlns:r=" not in printer:
        relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        printer = printer.replace("<worksheet ", f'<worksheet xmlns:r="{relationships}" ', 1)
    assert 'r:id="rId9"' in printer
    rewrite_part(book_path, part, printer.encode())

    write_refresh(book_path, [], [aging()])
    ws = openpyxl.load_workbook(book_path)["Aging"]
    assert ws.sheet_properties.tabColor.rgb == "FF00B050"
    assert ws.sheet_view.zoomScale == 85 and ws.sheet_view.showGridLines is False
    assert ws.page_margins.left == 0.25 and int(ws.page_setup.paperSize) == 9
    assert ws.oddHeader.center.text == "Confidential"
    assert (ws.max_row, ws.max_column) == (7, 5)
    with zipfile.ZipFile(book_path) as package:
        assert "rId9" not in package.read(part).decode()


def rewrite_part(path: Path, part: str, data: bytes) -> None:
    """Replace one part of the package, the others copied as they are."""
    copy = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info, data if info.filename == part else source.read(info))
    copy.replace(path)


def test_the_aging_sheet_is_added_at_the_end_and_may_be_empty(book_path):
    write_refresh(book_path, [], [aging(rows=[], totals=[])])
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames[-1] == "Aging"
    ws = book["Aging"]
    assert ws.tables["Aging"].ref == "A3:E4"  # a table needs one (blank) data row
    assert ws._charts == []


def test_the_table_name_does_not_clash_with_a_user_table(book_path):
    book = openpyxl.load_workbook(book_path)
    book["Notes"].add_table(Table(displayName="Aging", ref="F1:F2"))
    book["Notes"]["F1"], book["Notes"]["F2"] = "Mine", 1
    book.save(book_path)
    write_refresh(book_path, [], [aging()])
    book = openpyxl.load_workbook(book_path)
    assert list(book["Notes"].tables) == ["Aging"]
    assert list(book["Aging"].tables) == ["Aging_2"]


def test_the_old_workbook_is_kept_as_a_backup(book_path):
    before = book_path.read_bytes()
    backup = write_refresh(book_path, [customers_update()], [aging()])
    assert backup == book_path.with_name("branch.bak.xlsx")
    assert backup.read_bytes() == before
    assert book_path.read_bytes() != before


def test_an_error_while_writing_leaves_the_file_untouched(book_path):
    before = book_path.read_bytes()
    bad = customers_update(values={"Balance": [1, object(), 3]})
    with pytest.raises(ValueError):
        write_refresh(book_path, [bad], [])
    assert book_path.read_bytes() == before
    assert sorted(p.name for p in book_path.parent.iterdir()) == ["branch.xlsx"]


def test_an_error_while_saving_leaves_the_file_untouched(book_path, monkeypatch):
    before = book_path.read_bytes()

    def save_half(self, target):
        if isinstance(target, Path | str):
            Path(target).write_bytes(before[: len(before) // 2])
        else:
            target.write(before[: len(before) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Package, "save", save_half)
    with pytest.raises(OSError, match="disk full"):
        write_refresh(book_path, [customers_update()], [aging()])
    assert book_path.read_bytes() == before
    assert sorted(p.name for p in book_path.parent.iterdir()) == ["branch.xlsx"]


def test_values_and_rows_must_line_up(book_path):
    with pytest.raises(ValueError, match="2 values for Balance, 3 rows"):
        write_refresh(book_path, [customers_update(values={"Balance": [1, 2]})], [])


def test_a_missing_sheet_or_table_is_a_workbook_error(book_path):
    with pytest.raises(WorkbookError, match="no Ledger2 sheet"):
        write_refresh(book_path, [customers_update(sheet="Ledger2")], [])
    with pytest.raises(WorkbookError, match="no table named Clients"):
        write_refresh(book_path, [customers_update(table="Clients")], [])


def test_not_a_workbook_is_a_workbook_error(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_text("not a zip")
    with pytest.raises(WorkbookError, match="cannot be opened"):
        write_refresh(path, [], [])
    with pytest.raises(WorkbookError, match="no such file"):
        write_refresh(tmp_path / "missing.xlsx", [], [])


def test_a_macro_workbook_keeps_its_vba_project(tmp_path):
    xlwings = importlib.util.find_spec("xlwings")  # its sample macro workbook, not the package
    source = Path(xlwings.origin).parent / "quickstart_standalone.xlsm"
    path = tmp_path / "branch.xlsm"
    shutil.copy(source, path)
    with zipfile.ZipFile(source) as archive:
        vba = archive.read("xl/vbaProject.bin")
    update = ColumnUpdate("Sheet1", 1, 1, None, [2, 3], {"Stage": ["Not due", "Phone call"]})

    write_refresh(path, [update], [aging()])
    with zipfile.ZipFile(path) as archive:
        assert archive.read("xl/vbaProject.bin") == vba
        assert "macroEnabled" in archive.read("[Content_Types].xml").decode()
    book = openpyxl.load_workbook(path, keep_vba=True)
    assert book.sheetnames == ["Sheet1", "_xlwings.conf", "Aging"]
    assert [c.value for c in book["Sheet1"]["A"]] == ["Stage", "Not due", "Phone call"]
    assert book["_xlwings.conf"]["A1"].value is not None


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
_A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_ANCHOR = "<oneCellAnchor><from><col>5</col><colOff>0</colOff><row>{row}</row><rowOff>0</rowOff>"
_ANCHOR += '</from><ext cx="952500" cy="952500"/>{shape}<clientData/></oneCellAnchor>'
_PICTURE = (
    '<pic><nvPicPr><cNvPr id="5" name="Logo"/><cNvPicPr/></nvPicPr><blipFill>'
    f'<a:blip {_A} {_R} r:embed="rIdLogo"/></blipFill><spPr/></pic>'
)
_TEXT_BOX = (
    '<sp macro="" textlink=""><nvSpPr><cNvPr id="6" name="TextBox 1"/><cNvSpPr txBox="1"/>'
    f"</nvSpPr><spPr/><txBody><a:bodyPr {_A}/><a:p {_A}><a:r><a:t>Hi</a:t></a:r></a:p>"
    "</txBody></sp>"
)


def add_logo_and_text_box(path: Path, sheet: str, text_box: bool = True) -> None:
    """Put a picture (and a text box) on a sheet, as Excel stores them (openpyxl cannot)."""
    book = openpyxl.load_workbook(path)
    book[sheet].add_chart(openpyxl.chart.BarChart(), "H2")  # gives the sheet a drawing part
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    (drawing,) = [n for n in parts if n.startswith("xl/drawings/drawing")]
    extra = _ANCHOR.format(row=1, shape=_PICTURE)
    extra += _ANCHOR.format(row=8, shape=_TEXT_BOX) if text_box else ""
    parts[drawing] = parts[drawing].replace(b"</wsDr>", extra.encode() + b"</wsDr>")
    rels = drawing.replace("drawings/", "drawings/_rels/") + ".rels"
    logo = (
        '<Relationship Id="rIdLogo" Target="/xl/media/logo.png" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/image"/></Relationships>'
    )
    parts[rels] = parts[rels].replace(b"</Relationships>", logo.encode())
    parts["xl/media/logo.png"] = PNG
    types = parts["[Content_Types].xml"]
    parts["[Content_Types].xml"] = types.replace(
        b"<Default ", b'<Default Extension="png" ContentType="image/png"/><Default ', 1
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_shapes_text_boxes_and_pictures_survive_byte_for_byte(book_path):
    """Every part that is not ours comes back as it was: the user's sheets and drawings."""
    add_logo_and_text_box(book_path, "Notes")
    before = parts_of(book_path)
    write_refresh(book_path, [customers_update(), ledger_update()], [aging()])
    after = parts_of(book_path)
    ours = {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/styles.xml",
            "xl/tables/table1.xml", "xl/tables/table2.xml", "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "[Content_Types].xml"}  # fmt: skip
    for name, data in before.items():
        if name not in ours:
            assert after[name] == data, name
    assert any(b"TextBox 1" in after[n] for n in after if n.startswith("xl/drawings/"))
    notes = openpyxl.load_workbook(book_path)["Notes"]
    assert len(notes._images) == 1 and notes._images[0].anchor._from.row == 1
    assert len(notes._charts) == 1


def test_an_owned_sheet_prints_one_page_wide_with_its_header_on_every_page(book_path):
    write_refresh(book_path, [], [aging()])
    write_refresh(book_path, [], [aging()])  # written again: one print title, not two
    book = openpyxl.load_workbook(book_path)
    ws = book["Aging"]
    assert ws.print_title_rows == "$3:$3"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.page_setup.orientation == "portrait"  # five columns
    with zipfile.ZipFile(book_path) as package:
        workbook = package.read("xl/workbook.xml").decode()
    assert workbook.count("_xlnm.Print_Titles") == 1


def test_a_wide_owned_sheet_prints_landscape(book_path):
    header = [f"Column {n}" for n in range(1, 11)]
    wide = SheetTable("History", "History", header, [list(range(10))])
    write_refresh(book_path, [], [wide])
    ws = openpyxl.load_workbook(book_path)["History"]
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$3:$3"


def test_a_block_under_the_table_prints_with_it_and_the_charts_start_a_page(book_path):
    """Provision's roll-rate matrix, the Dashboard's aging trend: plain cells under the table
    and its totals after a blank row, with their own number formats; the charts under them
    on a printed page of their own, one per currency; long headers wrap."""
    below = [["Roll rates CNY: a note longer than any column of the table"],
             ["Bucket", "Roll rate", "ECL"],
             *([f"B{n}", 0.5, Decimal("12.30")] for n in range(8))]  # fmt: skip
    rows = [["C001", "A", Decimal("1"), Decimal("2"), Decimal("3")],
            ["C002", "B", Decimal("1"), Decimal("2"), Decimal("3")]]
    write_refresh(book_path, [], [aging(rows=rows, below=below, chart_by="Name",
                                        below_formats={1: "0.0%", 2: MONEY})])  # fmt: skip
    ws = openpyxl.load_workbook(book_path)["Aging"]
    assert [c.value for c in ws[3]][:5] == ["Customer", "Name", "Current", "1-30", "Balance"]
    assert ws["A7"].value == "Total CNY" and ws["A8"].value is None
    assert ws["A9"].value.startswith("Roll rates CNY") and ws["B10"].value == "Roll rate"
    assert ws["B11"].value == 0.5 and ws["B11"].number_format == "0.0%"
    assert ws["C18"].value == 12.3 and ws["C18"].number_format == MONEY
    assert ws.tables["Aging"].ref == "A3:E5" and ws.max_row == 18
    assert ws.column_dimensions["A"].width < 20  # the note runs on into the empty cells
    assert ws["A3"].alignment.wrap_text  # a long header wraps rather than widening the page
    assert [b.id for b in ws.row_breaks.brk] == [19]
    charts = ws._charts  # one per Name: the rows of each
    assert [c.anchor._from.row for c in charts] == [19, 19]
    assert [c.series[0].val.numRef.f for c in charts] == ["'Aging'!$C$4", "'Aging'!$C$5"]
