"""A refresh of a branch workbook as `new` builds it (VBA project, buttons, xlwings Lite
part) changes only our parts: every other part comes back byte for byte, and what we
wrote reads back the same in openpyxl, calamine and LibreOffice."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import python_calamine as calamine
from lxml import etree

from tests.books import make_book
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.refresh import RefreshResult, refresh
from xl_addin.workbook.package import Package, parse, q

AS_OF = dt.date(2026, 11, 30)
REPOSITORY = Path(__file__).resolve().parents[2]


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> tuple[Path, dict[str, bytes], RefreshResult]:
    folder = tmp_path_factory.mktemp("roundtrip")
    data = make_demo_data(AS_OF, 30)
    path = folder / "branch.xlsm"
    new_workbook(path, language="en", branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings={**data.settings, "Language": "en"})  # fmt: skip
    before = parts_of(path)
    result = refresh(path)
    assert isinstance(result, RefreshResult), result
    return path, before, result


def without_print_titles(workbook_xml: bytes) -> bytes:
    """The workbook part, canonical, without its print titles and (then empty) defined names."""
    root = parse(workbook_xml)
    for name in list(root.iter(q("definedName"))):
        if name.get("name") == "_xlnm.Print_Titles":
            name.getparent().remove(name)
    for names in list(root.iter(q("definedNames"))):
        if len(names) == 0:
            root.remove(names)
    return etree.tostring(root, method="c14n")


def libreoffice_resave(path: Path, folder: Path) -> None:
    """Open a workbook in headless LibreOffice and save it as .xlsx into folder/lo."""
    done = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{folder}/profile",
         "--convert-to", "xlsx", "--outdir", str(folder / "lo"), str(path)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def our_parts(path: Path) -> set[str]:
    """The parts a refresh may write: the sheets of Customers, Ledger and Aging, the
    Aging sheet's table, drawing and chart, the styles and the content types."""
    with Package(path) as package:
        sheets = {s.name: s.part for s in package.sheets()}
        ours = {sheets["Customers"], sheets["Ledger"], sheets["Aging"], "xl/styles.xml",
                "[Content_Types].xml", "xl/worksheets/_rels/"
                + sheets["Aging"].rsplit("/", 1)[1] + ".rels"}  # fmt: skip
        for rel in package.relationships(sheets["Aging"]):
            ours.add(rel.target)
            ours |= {r.target for r in package.relationships(rel.target)}
            ours.add(rel.target.replace("/drawings/", "/drawings/_rels/") + ".rels")
        for sheet, part, _ in package.tables():
            if sheet.name in ("Customers", "Ledger"):
                ours.add(part)
    return ours


def test_every_part_not_ours_comes_back_byte_for_byte(refreshed):
    path, before, _ = refreshed
    after = parts_of(path)
    ours = our_parts(path)
    kept = {name for name in before if name not in ours and name != "xl/workbook.xml"}
    assert {"xl/vbaProject.bin", "xl/webextensions/webextension1.xml"} <= kept
    assert any(name.startswith("xl/ctrlProps/") or name.endswith(".vml") for name in kept)
    for name in kept:
        assert after.get(name) == before[name], name
    assert without_print_titles(after["xl/workbook.xml"]) == without_print_titles(
        before["xl/workbook.xml"])  # the workbook part gains the Aging sheet's print titles
    with Package(path) as package:
        titles = [n.text for n in package.xml("xl/workbook.xml").iter(q("definedName"))
                  if n.get("name") == "_xlnm.Print_Titles"]  # fmt: skip
    assert "'Aging'!$3:$3" in titles
    assert set(before) - set(after) <= ours  # nothing of the user's went missing


def test_our_values_read_back_alike_in_openpyxl_and_calamine(refreshed):
    path, _, result = refreshed
    summary = result.aging.customers.set_index("customer_id")
    book = openpyxl.load_workbook(path, keep_vba=True, data_only=True)  # stored results
    customers = book["Customers"]
    header = [c.value for c in customers[1]]
    read = calamine.CalamineWorkbook.from_path(str(path), load_tables=True)
    table = read.get_table_by_name("Customers").to_python()
    assert [str(h) for h in read.get_table_by_name("Customers").columns] == header
    ids = header.index("CustomerID")
    for row, values in zip(customers.iter_rows(min_row=2, values_only=True), table, strict=True):
        customer = summary.loc[row[ids]]
        for column, cents in (("Balance", "balance_cents"), ("Overdue", "overdue_cents")):
            expected = Decimal(int(customer[cents])) / 100
            assert Decimal(str(row[header.index(column)])) == expected
            assert Decimal(str(values[header.index(column)])) == expected
        for column in ("Stage", "NextAction", "NextActionReason", "CreditStatus"):
            # calamine reads a blank cell as "", openpyxl as None
            assert (row[header.index(column)] or "") == values[header.index(column)], column
        assert (row[header.index("Stage")] or None) == (
            customer["stage"] if isinstance(customer["stage"], str) else None
        )
    aging = book["Aging"]
    assert aging["A1"].value.startswith("Aged receivables") and aging._charts


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_what_we_wrote(refreshed, tmp_path):
    path, _, _ = refreshed
    copy = tmp_path / "copy.xlsm"
    shutil.copy(path, copy)
    libreoffice_resave(copy, tmp_path)
    saved = openpyxl.load_workbook(tmp_path / "lo" / "copy.xlsx")
    ours = openpyxl.load_workbook(path)
    for sheet in ("Customers", "Ledger", "Aging"):
        mine = [[c for c in row] for row in ours[sheet].iter_rows(values_only=True)]
        theirs = [[c for c in row] for row in saved[sheet].iter_rows(values_only=True)]
        # LibreOffice reads every value we wrote (it keeps formulas; compare their results)
        assert len(theirs) >= len([r for r in mine if any(v is not None for v in r)]), sheet
    saved_customers = openpyxl.load_workbook(tmp_path / "lo" / "copy.xlsx", data_only=True)
    header = [c.value for c in saved_customers["Customers"][1]]
    assert "NextAction" in header and "NextActionReason" in header


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_users_workbook_with_chart_picture_and_shape_opens_in_libreoffice(tmp_path):
    """The user's own sheet with a chart, a picture and a text box beside the chart, an
    extra column, data validation and conditional formats: all still there after a write,
    and LibreOffice opens the result."""
    from tests.workbook.test_writer import (
        add_logo_and_text_box,
        aging,
        customers_update,
        ledger_update,
        user_book,
    )
    from xl_addin.workbook.writer import write_refresh

    path = user_book(tmp_path / "branch.xlsx")
    add_logo_and_text_box(path, "Notes")
    write_refresh(path, [customers_update(), ledger_update()], [aging()])
    book = openpyxl.load_workbook(path)
    customers = book["Customers"]
    assert [c.value for c in customers[1]][:4] == ["CustomerID", "Name", "CreditLimit",
                                                   "Limit in k"]  # fmt: skip
    assert str(customers.data_validations.dataValidation[0].sqref) == "C2:C4"
    assert [str(f.sqref) for f in customers.conditional_formatting] == ["C2:C4"]
    notes = book["Notes"]
    assert len(notes._charts) == 1 and len(notes._images) == 1
    libreoffice_resave(path, tmp_path)
    saved = openpyxl.load_workbook(tmp_path / "lo" / "branch.xlsx", data_only=True)
    balance = [c.value for c in saved["Customers"]["E"]]
    assert balance[:3] == ["Balance", 10000.5, -250]
    assert saved["Aging"]["B4"].value == "上海华信贸易有限公司"


def test_a_refresh_writes_the_same_bytes_whatever_the_hash_seed(tmp_path):
    """Two processes with different string hashes write the same workbook byte for byte:
    the parts a refresh adds (the Aging sheet's drawing and their relationships) go into
    the package in one order, so a branch's backups and copies compare equal."""
    source = tmp_path / "plain.xlsx"
    make_book(source)
    written = []
    for seed in ("1", "2", "3"):
        copy = tmp_path / f"seed{seed}" / "branch.xlsx"
        copy.parent.mkdir()
        shutil.copy(source, copy)
        done = subprocess.run(
            [sys.executable, "-m", "xl_addin.cli", "refresh", str(copy)],
            capture_output=True, text=True, timeout=240,
            env={**os.environ, "PYTHONHASHSEED": seed}, cwd=REPOSITORY,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        written.append(copy.read_bytes())
    with zipfile.ZipFile(tmp_path / "seed1" / "branch.xlsx") as archive:
        added = set(archive.namelist()) - set(parts_of(source))
    assert len(added) >= 2, added  # else the order could not differ
    assert written[0] == written[1] == written[2]
