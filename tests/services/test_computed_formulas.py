"""The computed columns of a workbook `credit-control new` made stay formulas in every row:
in the rows an import adds and in cells a user pasted as values, each cell gets the table's
calculated formula back with the engine's value as its stored result, as the other rows
hold them (so Excel recalculates every row, and a reader without Excel sees our values)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine as calamine
from lxml import etree
from typer.testing import CliRunner

from xl_addin.cli import app
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook

AS_OF = dt.date(2026, 11, 30)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
LEDGER_COMPUTED = ("OpenAmount", "DaysOverdue", "Bucket", "Stage", "ExpectedPayDate")
CUSTOMER_COMPUTED = ("Balance", "Overdue", "MaxDaysOverdue", "Headroom", "CreditStatus",
                     "Stage", "NextAction")  # fmt: skip
# What a document that is not an open item (a payment, a settled invoice) shows: the JSON
# lists open items only.
SETTLED = {"OpenAmount": 0, "DaysOverdue": None, "Bucket": None, "Stage": None,
           "ExpectedPayDate": None}  # fmt: skip
runner = CliRunner()


@pytest.fixture
def branch(tmp_path) -> tuple[Path, dict[str, str]]:
    """A workbook `new` made with the demo's ledger, refreshed once; and each customer's
    currency."""
    data = make_demo_data(AS_OF, customers=6)
    path = tmp_path / "branch.xlsx"
    new_workbook(path, language="en", branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings={**data.settings, "Language": "en"})  # fmt: skip
    assert runner.invoke(app, ["refresh", str(path)]).exit_code == 0
    currencies = dict(zip(data.customers["CustomerID"], data.customers["Currency"], strict=True))
    return path, currencies


def sheet_part(archive: zipfile.ZipFile, sheet: str) -> str:
    workbook = etree.fromstring(archive.read("xl/workbook.xml"))
    rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    rid = next(s.get(f"{{{REL}}}id") for s in workbook.iter(f"{{{MAIN}}}sheet")
               if s.get("name") == sheet)  # fmt: skip
    target = next(r.get("Target") for r in rels if r.get("Id") == rid)
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def sheet_rows(path: Path, sheet: str) -> dict[int, dict[str, etree._Element]]:
    """The sheet's cells as written: row -> header -> <c> element (header row 1)."""
    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read(sheet_part(archive, sheet)))
    rows = {int(r.get("r")): {c.get("r").rstrip("0123456789"): c for c in r}
            for r in root.iter(f"{{{MAIN}}}row")}  # fmt: skip
    header = {letter: "".join(c.itertext()) for letter, c in rows.pop(1).items()}
    return {n: {header[letter]: c for letter, c in cells.items() if letter in header}
            for n, cells in rows.items()}  # fmt: skip


def formula(cell: etree._Element | None) -> str | None:
    return None if cell is None else cell.findtext(f"{{{MAIN}}}f")


def calculated(path: Path, sheet: str) -> dict[str, str]:
    """The table's calculated column formulas, header -> formula."""
    table = openpyxl.load_workbook(path)[sheet].tables[sheet]
    return {c.name: c.calculatedColumnFormula.attr_text for c in table.tableColumns
            if c.calculatedColumnFormula is not None}  # fmt: skip


def ledger_rows_by_doc_no(path: Path) -> dict[str, int]:
    rows = sheet_rows(path, "Ledger")
    return {"".join(cells["DocNo"].itertext()): n for n, cells in rows.items()}


def engine_items(output: str) -> dict[str, dict]:
    return {item["DocNo"]: item for item in json.loads(output)["items"]}


def assert_the_values_read_back(path: Path, rows: dict[str, int], items: dict[str, dict]):
    """openpyxl and calamine read the engine's values as the cells' stored results."""
    book = openpyxl.load_workbook(path, data_only=True)["Ledger"]
    header = [c.value for c in book[1]]
    grid = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Ledger").to_python()
    for doc_no, row in rows.items():
        item = items.get(doc_no, SETTLED)
        values = {h: book.cell(row, header.index(h) + 1).value for h in LEDGER_COMPUTED}
        read = {h: grid[row - 1][header.index(h)] for h in LEDGER_COMPUTED}
        for h in ("OpenAmount", "DaysOverdue", "Bucket", "Stage"):
            expected = item[h]
            assert (values[h] if values[h] != "" else None) == expected, (doc_no, h)
            assert (read[h] if read[h] != "" else None) == expected, (doc_no, h)
        pay_date = values["ExpectedPayDate"]
        assert (pay_date.date().isoformat() if pay_date else None) == item["ExpectedPayDate"]


def assert_formulas_in_every_row(path: Path, sheet: str, computed, rows=None) -> None:
    """Every data row's computed cells carry the table's calculated formula."""
    formulas = calculated(path, sheet)
    assert set(computed) <= set(formulas)
    found = sheet_rows(path, sheet)
    for number in rows if rows is not None else found:
        for header in computed:
            assert formula(found[number].get(header)) == formulas[header], (number, header)


def test_rows_an_import_adds_get_the_tables_formulas_with_the_engines_values(branch, tmp_path):
    path, currency = branch
    before = sheet_rows(path, "Ledger")
    csv = tmp_path / "erp.csv"
    csv.write_text(
        "CustomerID,DocType,DocNo,DocDate,DueDate,Amount,AppliesTo,Currency,Reference\n"
        f"C0001,INV,INV-9001,2026-09-01,2026-10-01,\"1,200.50\",,{currency['C0001']},PO 1\n"
        f"C0002,INV,INV-9002,2026-11-01,2026-12-01,800,,{currency['C0002']},\n"
        f"C0001,PAY,PAY-9001,2026-11-20,,200.50,INV-9001,{currency['C0001']},bank\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", str(path), str(csv), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == ["INV-9001", "INV-9002", "PAY-9001"]
    rows = {d: n for d, n in ledger_rows_by_doc_no(path).items() if d.endswith("-9001")
            or d.endswith("-9002")}  # fmt: skip
    assert sorted(rows.values()) == [max(before) + 1, max(before) + 2, max(before) + 3]

    cells = sheet_rows(path, "Ledger")
    formulas = calculated(path, "Ledger")
    for row in rows.values():
        for header in LEDGER_COMPUTED:
            cell = cells[row][header]
            # the same <f> as the rows the workbook was made with, and a stored result
            assert formula(cell) == formula(cells[2][header]) == formulas[header]
            assert cell.find(f"{{{MAIN}}}v") is not None, (row, header)
        inputs = [h for h in cells[row] if h not in LEDGER_COMPUTED]
        assert {"CustomerID", "DocNo", "Amount"} <= set(inputs)
        assert all(formula(cells[row][h]) is None for h in inputs)
    imported = engine_items(result.stdout)
    assert imported["INV-9001"]["DaysOverdue"] == 60
    assert_the_values_read_back(path, rows, imported)

    refreshed = runner.invoke(app, ["refresh", str(path), "--format", "json"])
    assert refreshed.exit_code == 0, refreshed.output
    assert_formulas_in_every_row(path, "Ledger", LEDGER_COMPUTED)
    assert_the_values_read_back(path, rows, engine_items(refreshed.stdout))
    cells = sheet_rows(path, "Ledger")
    assert all(formula(cells[row][h]) is None for row in rows.values()
               for h in cells[row] if h not in LEDGER_COMPUTED)  # fmt: skip

    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed")
    done = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "xlsx", "--outdir", str(tmp_path / "lo"), str(path)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    saved = openpyxl.load_workbook(tmp_path / "lo" / path.name)["Ledger"]
    header = [c.value for c in saved[1]]
    for row in rows.values():  # LibreOffice read the rows and kept their formulas
        assert saved.cell(row, header.index("DocNo") + 1).value in rows
        bucket = saved.cell(row, header.index("Bucket") + 1).value
        assert str(bucket).startswith("=INDEX(LedgerColumns"), bucket


def paste_as_values(path: Path, pasted: dict[str, dict[int, tuple[str, ...]]]) -> None:
    """Replace the given cells (sheet -> row -> headers) by their stored results, as
    Excel's Paste Values does: numbers as values, text as shared strings."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    assert "xl/sharedStrings.xml" not in parts  # the template writes inline strings
    strings = etree.Element(f"{{{MAIN}}}sst", nsmap={None: MAIN})
    for sheet, cells in pasted.items():
        rows = sheet_rows(path, sheet)
        with zipfile.ZipFile(path) as archive:
            part = sheet_part(archive, sheet)
        root = etree.fromstring(parts[part])
        wanted = {rows[n][h].get("r") for n, headers in cells.items() for h in headers}
        for cell in root.iter(f"{{{MAIN}}}c"):
            if cell.get("r") in wanted:
                _paste_value(cell, strings)
        parts[part] = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                     standalone=True)  # fmt: skip
    strings.set("count", str(len(strings)))
    strings.set("uniqueCount", str(len(strings)))
    parts["xl/sharedStrings.xml"] = etree.tostring(strings, xml_declaration=True,
                                                   encoding="UTF-8", standalone=True)
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kind}"/>'
                     f"</Types>".encode())  # fmt: skip
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", f'<Relationship Id="rIdStrings" Type="{REL}/sharedStrings" '
                             f'Target="sharedStrings.xml"/></Relationships>'.encode())  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def clear_cells(path: Path, sheet: str, rows: tuple[int, ...], headers: tuple[str, ...]):
    """Take the cells out of the rows, as Excel drops a cleared cell with no format."""
    found = sheet_rows(path, sheet)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
        part = sheet_part(archive, sheet)
    root = etree.fromstring(parts[part])
    wanted = {found[n][h].get("r") for n in rows for h in headers}
    for cell in list(root.iter(f"{{{MAIN}}}c")):
        if cell.get("r") in wanted:
            cell.getparent().remove(cell)
    parts[part] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def _paste_value(cell: etree._Element, strings: etree._Element) -> None:
    assert formula(cell) is not None, cell.get("r")
    value = cell.findtext(f"{{{MAIN}}}v") or ""
    for child in list(cell):
        cell.remove(child)
    if cell.get("t") == "str":
        if value:
            item = etree.SubElement(strings, f"{{{MAIN}}}si")
            etree.SubElement(item, f"{{{MAIN}}}t").text = value
            cell.set("t", "s")
            etree.SubElement(cell, f"{{{MAIN}}}v").text = str(len(strings) - 1)
        else:
            del cell.attrib["t"]
    else:
        etree.SubElement(cell, f"{{{MAIN}}}v").text = value


def test_computed_cells_pasted_as_values_or_cleared_get_their_formulas_back_on_refresh(branch):
    path, _ = branch
    doc_nos = {n: d for d, n in ledger_rows_by_doc_no(path).items()}
    cells = sheet_rows(path, "Ledger")
    open_rows = [n for n, c in cells.items() if c["Bucket"].findtext(f"{{{MAIN}}}v")]
    settled = next(n for n in cells if n not in open_rows)
    # whole rows (the common case: a user copies rows and pastes them as values), and
    # single cells among formulas
    first, second, third, fourth, cleared = open_rows[:5]
    paste_as_values(path, {
        "Ledger": {first: LEDGER_COMPUTED, second: LEDGER_COMPUTED, settled: LEDGER_COMPUTED,
                   third: ("Bucket",), fourth: ("Stage", "ExpectedPayDate")},
        "Customers": {2: CUSTOMER_COMPUTED, 4: ("Stage",)},
    })  # fmt: skip
    clear_cells(path, "Ledger", (cleared,), LEDGER_COMPUTED)
    pasted = sheet_rows(path, "Ledger")
    assert not set(LEDGER_COMPUTED) & set(pasted[cleared])
    assert formula(pasted[first]["Bucket"]) is None and pasted[first]["Bucket"].get("t") == "s"
    assert formula(pasted[third]["Bucket"]) is None
    assert formula(pasted[third]["Stage"]) is not None

    result = runner.invoke(app, ["refresh", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert_formulas_in_every_row(path, "Ledger", LEDGER_COMPUTED)
    assert_formulas_in_every_row(path, "Customers", CUSTOMER_COMPUTED)
    rows = {doc_nos[n]: n for n in (first, second, settled, third, fourth, cleared)}
    assert_the_values_read_back(path, rows, engine_items(result.stdout))
    customers = {c["CustomerID"]: c for c in json.loads(result.stdout)["customers"]}
    sheet = openpyxl.load_workbook(path, data_only=True)["Customers"]
    header = [c.value for c in sheet[1]]
    for row in (2, 4):
        engine = customers[sheet.cell(row, 1).value]
        for name in ("Balance", "Overdue", "CreditStatus", "Stage"):
            value = sheet.cell(row, header.index(name) + 1).value
            assert (value if value != "" else None) == engine[name], (row, name)
