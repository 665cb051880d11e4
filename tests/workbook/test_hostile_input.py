"""Hostile and damaged input: refused with a located message (sheet, row, column; exit 1)
and every file left as it was, or processed correctly. Each case is a real workbook
edited as a user, a script or an attacker would, run through the command."""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import os
import zipfile

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from tests.books import CUSTOMERS, LEDGER, make_book
from xl_addin.cli import app

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result


def said(result) -> str:
    return " ".join(result.output.split())


def fingerprint(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}  # fmt: skip


def refused(folder, *args, message: str):
    """Run a command; it must exit 1 with `message`, writing and changing nothing."""
    before = fingerprint(folder)
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert message in said(result), said(result)
    assert fingerprint(folder) == before
    return result


def rezip(source, target, edit):
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info, edit(info.filename, old.read(info)))
    source.unlink()
    return target


def with_row(row):
    return [*LEDGER, row]


@pytest.mark.parametrize(("amount", "message"), [
    (1e300, 'Ledger!F6: Amount "1e+300" is beyond the largest amount accepted'),
    (-2e12, 'Ledger!F6: Amount "-2000000000000.0" is beyond'),
    ("123456789012345678901234567890", "Ledger!F6: Amount \"1234567890123456789"),
])  # fmt: skip
def test_amounts_beyond_the_limit_are_refused(tmp_path, amount, message):
    row = ("C001", "ADJ", "ADJ-1", dt.date(2026, 9, 1), None, amount, "", "N")
    book = make_book(tmp_path / "b.xlsx", ledger=with_row(row))
    refused(tmp_path, "refresh", book, message=message)


def test_the_amount_limit_is_a_setting(tmp_path):
    row = ("C001", "ADJ", "ADJ-1", dt.date(2026, 9, 1), None, 2000, "", "N")
    book = make_book(tmp_path / "b.xlsx", ledger=with_row(row), settings=[("AmountLimit", 1000)])
    refused(tmp_path, "refresh", book, message="Ledger!F6")
    book = make_book(tmp_path / "c.xlsx", ledger=with_row(row), settings=[("AmountLimit", 1e13)])
    assert run("refresh", book).exit_code == 0


def test_nan_and_infinity_in_the_xml_are_located(tmp_path):
    book = make_book(tmp_path / "b.xlsx")
    edited = rezip(book, tmp_path / "nan.xlsx", lambda name, data: data.replace(
        b"<v>12000.5</v>", b"<v>INF</v>").replace(b"<v>2000</v>", b"<v>NaN</v>"))  # fmt: skip
    result = refused(tmp_path, "refresh", edited, message="Ledger!F2: Amount is not a finite")
    assert "Ledger!F3" in said(result)


def test_a_table_shorter_than_its_data_drops_no_row_silently(tmp_path):
    book = make_book(tmp_path / "b.xlsx")
    wb = openpyxl.load_workbook(book)
    wb["Ledger"].tables["Ledger"].ref = "A1:H3"  # rows 4 and 5 left below the table
    wb.save(book)
    refused(tmp_path, "refresh", book,
            message="Ledger!A4: the table Ledger ends at row 3 but rows 4-5 below it hold data")
    refused(tmp_path, "letters", book, message="Ledger!A4")


@pytest.mark.parametrize("part", ["xl/worksheets/sheet3.xml", "xl/styles.xml",
                                  "xl/_rels/workbook.xml.rels", "[Content_Types].xml"])
def test_a_doctype_in_any_part_is_refused(tmp_path, part):
    book = make_book(tmp_path / "b.xlsx")

    def edit(name, data):
        if name != part:
            return data
        head, _, rest = data.partition(b"?>") if data.startswith(b"<?xml") else (b"", b"", data)
        return head + _ + b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + rest

    edited = rezip(book, tmp_path / "dt.xlsx", edit)
    refused(tmp_path, "refresh", edited, message=f"the part {part} declares a DOCTYPE")


def test_control_characters_never_reach_a_letter(tmp_path):
    # Excel writes a control character as _x0001_; calamine and Excel read it back as \x01
    customers = [("C001", "Hua_x0001_xin_x0002_ Trading", "Standard", "CNY", 50000, ""),
                 *CUSTOMERS[1:]]  # fmt: skip
    book = make_book(tmp_path / "b.xlsx", customers=customers)
    result = run("letters", book, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    letters = sorted((tmp_path / "out").glob("*C001*.docx"))
    text = "\n".join(p.text for p in docx.Document(letters[0]).paragraphs)
    assert "Huaxin Trading" in text


def test_serial_60_in_a_date_cell_is_the_day_that_does_not_exist(tmp_path):
    row = ("C001", "INV", "INV-9", dt.date(2026, 9, 1), dt.date(2026, 10, 1), 100, "", "N")
    book = make_book(tmp_path / "b.xlsx", ledger=with_row(row))
    wb = openpyxl.load_workbook(book)
    wb["Ledger"]["D6"].value = 60  # the date format stays: Excel shows 1900-02-29
    wb.save(book)
    refused(tmp_path, "refresh", book,
            message="Ledger!D6: DocDate serial 60 is 29 February 1900, a day that does not exist")


def test_customer_ids_differing_only_in_case_are_one_customer_twice(tmp_path):
    book = make_book(tmp_path / "b.xlsx", customers=[*CUSTOMERS, ("c001", "x", "Standard",
                                                                  "CNY", 1, "")])  # fmt: skip
    refused(tmp_path, "refresh", book, message="Customers!A4: customer c001 appears twice "
            "(first in row 2 as C001, which differs only in case)")


def test_output_folder_outside_the_workbooks_folder_needs_the_command_line(tmp_path):
    branch = tmp_path / "branch"
    branch.mkdir()
    book = make_book(branch / "b.xlsx", settings=[("OutputFolder", "../..")])
    refused(tmp_path, "letters", book, message='Settings!B5: OutputFolder "../.." leads outside')
    refused(tmp_path, "statements", book, "--period", "2026-11", message="leads outside")
    assert run("letters", book, "--out", tmp_path / "elsewhere").exit_code == 0
    assert list((tmp_path / "elsewhere").glob("*.docx"))


def test_no_right_to_left_override_in_a_file_name(tmp_path):
    customers = [("C001", "Evil\u202efdp.exe", "Standard", "CNY", 50000, ""), *CUSTOMERS[1:]]
    book = make_book(tmp_path / "b.xlsx", customers=customers)
    assert run("letters", book, "--out", tmp_path / "out").exit_code == 0
    names = [p.name for p in (tmp_path / "out").iterdir()]
    assert names and not any("\u202e" in n for n in names)


def test_out_and_backup_paths_that_are_not_folders_or_files(tmp_path):
    book = make_book(tmp_path / "b.xlsx")
    (tmp_path / "a file").write_text("x")
    refused(tmp_path, "letters", book, "--out", tmp_path / "a file", message="is a file")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    refused(tmp_path, "letters", book, "--out", tmp_path / "dangling",
            message="is a link to nothing")  # fmt: skip
    (tmp_path / "b.bak.xlsx").mkdir()
    refused(tmp_path, "refresh", book, message="b.bak.xlsx is a folder")


def test_as_of_at_the_end_of_the_calendar(tmp_path):
    book = make_book(tmp_path / "b.xlsx")
    for command in ("refresh", "letters"):
        refused(tmp_path, command, book, "--as-of", "9999-12-31",
                message="--as-of: the as-of date 9999-12-31 is outside")  # fmt: skip
    late = make_book(tmp_path / "late.xlsx", as_of=dt.date(9999, 12, 31))
    refused(tmp_path, "letters", late, message="Settings!B2: the as-of date 9999-12-31")


def test_a_thirty_digit_balance_in_reconcile(tmp_path):
    book = make_book(tmp_path / "b.xlsx")
    refused(tmp_path, "reconcile", book, "123456789012345678901234567890", "--customer",
            "C001", "--period", "2026-11", message="is beyond the largest amount accepted")


def test_line_breaks_in_names_and_addresses_do_not_stop_the_drafts(tmp_path):
    headers = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage", "Email")
    customers = [("C001", "Line\nBreak Ltd", "Standard", "CNY", 50000, "",
                  "ap@b.example\r\nBcc: all@evil.example"),
                 ("C002", "Harbour", "Standard", "CNY", 1, "", "h@b.example")]  # fmt: skip
    book = make_book(tmp_path / "b.xlsx", customers=customers, customer_headers=headers)
    result = run("letters", book, "--email", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    drafts = sorted((tmp_path / "out").glob("*.eml"))
    assert len(drafts) == 2
    message = email.message_from_bytes(drafts[0].read_bytes())
    assert message["Bcc"] is None and "\n" not in message["To"]
    assert "summary" in " ".join(p.name for p in (tmp_path / "out").iterdir())


def test_only_the_cells_holding_serial_60_become_60():
    """calamine reads a date cell of serial 60 as 1900-02-28. Where a date reads that day,
    the cells the sheet says hold 60 are given back as 60: a real 1900-02-28 (serial 59)
    stays a date, a number 60 stays a number, and a sheet with no such date is not asked."""
    from xl_addin.workbook.convert import _Grid

    feb_28, noon = dt.date(1900, 2, 28), dt.datetime(1900, 2, 28, 12)
    rows = [["A", feb_28, 60.0, "x"], ["B", noon, 5.0, "y"], ["C", feb_28, 7.0, "z"]]
    asked = []

    def sixties():  # (row in the table, column position): row 0 holds serial 60, row 2 is 59
        asked.append(True)
        return {(0, 1), (1, 1), (0, 2)}

    grid = _Grid([list(r) for r in rows], [0, 1, 2], sixties)
    assert grid.cells.tolist() == [["A", 60.0, 60.0], ["B", 60.0, 5.0], ["C", feb_28, 7.0]]
    assert grid.strings.tolist() == [[True, False, False]] * 3
    plain = [["A", dt.date(2026, 1, 1), 60.0], ["B", dt.date(2026, 1, 2), 5.0]]
    asked.clear()
    assert _Grid(plain, [0, 1, 2], sixties).cells.tolist() == plain
    assert not asked
