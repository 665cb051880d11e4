"""Importing ERP exports as they come: each shape from a real-looking file in tests/data/erp
(GBK bytes, a UTF-8 BOM, an .xlsx with title lines), with the balances a refresh then shows."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.books import make_book
from xl_addin.cli import app

DATA = Path(__file__).resolve().parent.parent / "data" / "erp"
runner = CliRunner()


def balances(path: Path) -> dict[str, float]:
    """What a refresh of the saved workbook shows, read back from the file."""
    result = runner.invoke(app, ["refresh", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return {c["CustomerID"]: c["Balance"] for c in json.loads(result.stdout)["customers"]}


def rows_of(sheet) -> list[dict[str, object]]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, row)) for row in sheet.iter_rows(2, values_only=True)]


def imported(tmp_path: Path, name: str, *options: str, ledger=()) -> tuple[Path, dict]:
    book = make_book(tmp_path / "branch.xlsx", ledger=list(ledger))
    result = runner.invoke(app, ["import", str(book), str(DATA / name), *options,
                                 "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return book, json.loads(result.stdout)


def test_our_ledger_layout_in_utf8_with_bom(tmp_path):
    book, result = imported(tmp_path, "ledger-layout-utf8-bom.csv")
    assert result["shape"] == "ledger"
    assert result["added"] == ["INV-1001", "PAY-2001", "INV-1002", "CRN-3001"]
    assert balances(book) == {"C001": 10000.5, "C002": 7500.0}
    ledger = openpyxl.load_workbook(book)["Ledger"]
    # Grown down to the four documents, and right by the columns the file fills.
    assert ledger.tables["Ledger"].ref == "A1:P5"
    rows = rows_of(ledger)
    computed = ("DaysOverdue", "Bucket", "Stage", "ExpectedPayDate")
    assert {k: v for k, v in rows[1].items() if k not in computed} == {
        "CustomerID": "C001", "DocType": "PAY", "DocNo": "PAY-2001",
        "DocDate": dt.datetime(2026, 10, 15), "DueDate": None, "Amount": 2000,
        "AppliesTo": "INV-1001", "Disputed": None, "Currency": "CNY",
        "Reference": "bank 2026-10-15", "Notes": None, "OpenAmount": 0,
    }  # fmt: skip


def test_an_open_items_list_in_gbk_without_doc_type(tmp_path):
    raw = (DATA / "open-items-gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # real GBK bytes, as 金蝶 and 用友 write them
    book, result = imported(tmp_path, "open-items-gbk.csv")
    assert result["shape"] == "open-items"
    assert result["added"] == ["XS-0001", "XS-0002", "TH-0001", "XS-0003"]  # 合计 left out
    assert balances(book) == {"C001": 14300.5, "C002": 8000.0}
    credit = rows_of(openpyxl.load_workbook(book)["Ledger"])[2]
    assert (credit["DocType"], credit["DocNo"], credit["Amount"]) == ("CRN", "TH-0001", 1200)
    assert credit["Notes"] == "退货; credit note: amount -1,200.00 in open-items-gbk.csv"


def test_a_kingdee_debit_credit_ledger_in_gbk_with_its_balance_checked(tmp_path):
    book, result = imported(tmp_path, "debit-credit-kingdee-gbk.csv")
    assert result["shape"] == "debit-credit"
    assert result["added"] == ["OPENING-C001", "记-0012", "记-0045", "记-0061", "记-0050",
                               "记-0070"]  # fmt: skip
    # 期初 1,000 + 12,000.50 - 5,000 - 500 (红字); C002 ends 贷 1,000: a credit balance.
    assert balances(book) == {"C001": 7500.5, "C002": -1000.0}
    types = [r[1] for r in openpyxl.load_workbook(book)["Ledger"].iter_rows(2, 7, values_only=True)]
    assert types == ["ADJ", "INV", "PAY", "CRN", "INV", "PAY"]


def test_a_balance_that_does_not_follow_is_located_and_nothing_changes(tmp_path):
    text = (DATA / "debit-credit-kingdee-gbk.csv").read_bytes().decode("gbk")
    export = tmp_path / "明细账.csv"
    export.write_bytes(text.replace('借,"8,000.50"', '借,"8,500.50"').encode("gbk"))
    book = make_book(tmp_path / "branch.xlsx", ledger=[])
    before = book.read_bytes()
    result = runner.invoke(app, ["import", str(book), str(export)])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert ("明细账.csv!I6: balance 8,500.50 does not follow from the line before: 13,000.50 "
            "+ debit 0.00 - credit 5,000.00 = 8,000.50") in message
    assert book.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "branch.xlsx", "明细账.csv"]  # fmt: skip


def test_day_first_dates_in_an_xlsx_need_the_order(tmp_path):
    book = make_book(tmp_path / "branch.xlsx", ledger=[])
    export = DATA / "debit-credit-day-first.xlsx"
    result = runner.invoke(app, ["import", str(book), str(export)])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert ('[debit-credit-day-first.xlsx]Customer ledger!A4: DocDate "05/11/2026" could be '
            "5 November 2026 (day first) or 11 May 2026 (month first)") in message
    assert "DocDate is blank" not in message
    book, result = imported(tmp_path, "debit-credit-day-first.xlsx", "--day-first")
    assert result["added"] == ["INV-7001", "RCP-7002"]  # the Total line left out
    assert balances(book)["C002"] == 5000.0
    dates = [r[3] for r in openpyxl.load_workbook(book)["Ledger"].iter_rows(2, 3, values_only=True)]
    assert dates == [dt.datetime(2026, 11, 5), dt.datetime(2026, 11, 20)]


def test_a_second_import_replaces_what_changed_and_says_so(tmp_path):
    book, _ = imported(tmp_path, "ledger-layout-utf8-bom.csv")
    changed = tmp_path / "again.csv"
    text = (DATA / "ledger-layout-utf8-bom.csv").read_text("utf-8-sig")
    changed.write_text(text.replace("C002,INV,INV-1002,2026-11-01,2026-12-01,8000",
                                    "C002,INV,INV-1002,2026-11-01,2026-12-01,9000")
                       + "C002,INV,INV-1003,2026-11-20,2026-12-20,100,,CNY,,,\r\n",
                       "utf-8")  # fmt: skip
    dry = runner.invoke(app, ["import", str(book), str(changed), "--dry-run", "--format", "json"])
    assert dry.exit_code == 0 and json.loads(dry.stdout)["replaced"] == ["INV-1002"]
    assert balances(book) == {"C001": 10000.5, "C002": 7500.0}  # the dry run wrote nothing
    result = runner.invoke(app, ["import", str(book), str(changed)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert "5 document(s); 1 added, 1 replaced, 3 already there as they are" in said
    assert "Added: INV-1003" in said and "Replaced: INV-1002" in said
    assert balances(book) == {"C001": 10000.5, "C002": 8600.0}
    assert book.with_name("branch.bak.xlsx").exists()
    assert openpyxl.load_workbook(book)["Ledger"].tables["Ledger"].ref == "A1:P6"


def test_an_unknown_customer_is_located_in_the_file(tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes("客户编号,单据号,单据日期,金额\r\nC001,X-1,2026-11-01,5\r\n"
                       "C404,X-2,2026-11-02,7\r\nC001,X-1,2026-11-03,9\r\n".encode("gbk"))
    book = make_book(tmp_path / "branch.xlsx")
    before = book.read_bytes()
    result = runner.invoke(app, ["import", str(book), str(export), "--format", "json"])
    assert result.exit_code == 1
    problems = [(p["sheet"], p["row"], p["column"]) for p in json.loads(result.stdout)["problems"]]
    assert problems == [("export.csv", 4, "B")]  # the repeated number, found first
    export.write_bytes(export.read_bytes().replace(b"X-1,2026-11-03", b"X-3,2026-11-03"))
    result = runner.invoke(app, ["import", str(book), str(export), "--format", "json"])
    found = json.loads(result.stdout)["problems"]
    assert [(p["sheet"], p["row"], p["column"]) for p in found] == [("export.csv", 3, "A")]
    assert "customer C404 is not in Customers" in found[0]["message"]
    assert book.read_bytes() == before


def test_refresh_letters_and_statements_read_the_same_shapes(tmp_path):
    book = make_book(tmp_path / "branch.xlsx", ledger=None)
    for export, expected in (("open-items-gbk.csv", {"C001": 14300.5, "C002": 8000.0}),
                             ("debit-credit-kingdee-gbk.csv", {"C001": 7500.5,
                                                               "C002": -1000.0})):  # fmt: skip
        result = runner.invoke(app, ["refresh", str(book), "--ledger", str(DATA / export),
                                     "--format", "json"])  # fmt: skip
        assert result.exit_code == 0, result.output
        found = {c["CustomerID"]: c["Balance"] for c in json.loads(result.stdout)["customers"]}
        assert found == expected
    xlsx = str(DATA / "debit-credit-day-first.xlsx")
    for command in ("letters", "statements"):
        result = runner.invoke(app, [command, str(book), "--ledger", xlsx, "--day-first",
                                     "--dry-run", "--format", "json"])  # fmt: skip
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["refresh", str(book), "--ledger", xlsx])
    assert result.exit_code == 1 and "--day-first or --month-first" in result.stderr


def test_the_import_leaves_the_rest_of_the_workbook_alone(tmp_path):
    book = make_book(tmp_path / "branch.xlsx", ledger=[])
    shutil.copy(book, tmp_path / "before.xlsx")
    runner.invoke(app, ["import", str(book), str(DATA / "open-items-gbk.csv")])
    before = openpyxl.load_workbook(tmp_path / "before.xlsx")
    after = openpyxl.load_workbook(book)
    for name in ("Settings", "Customers"):
        assert [[c.value for c in r] for r in before[name].iter_rows(max_col=6)] == [
            [c.value for c in r] for r in after[name].iter_rows(max_col=6)]  # fmt: skip


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_worksheet_ends_at_row_1048576():
    from xl_addin.workbook.tables import LAST_ROW

    assert LAST_ROW == 2**20 == 1_048_576  # Excel's last row (XFD1048576)


def test_an_import_past_the_last_row_is_refused_before_anything_is_written(tmp_path,
                                                                           monkeypatch):
    from xl_addin.services import import_ledger

    book = make_book(tmp_path / "branch.xlsx")  # four documents: rows 2 to 5
    export = tmp_path / "export.csv"
    export.write_text("客户编号,单据号,单据日期,金额\r\nC001,INV-1,2026-09-01,12000.50\r\n"
                      "C001,X-1,2026-11-01,5\r\nC001,X-2,2026-11-02,7\r\n"
                      "C002,X-3,2026-11-03,9\r\n", "utf-8")  # INV-1 is there already
    before = files_in(tmp_path)
    monkeypatch.setattr(import_ledger, "LAST_ROW", 7)  # three added would end at row 8
    result = runner.invoke(app, ["import", str(book), str(export)])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert ("export.csv: the Ledger would hold 7 documents (4 and 3 added), down to row 8: a "
            "worksheet ends at row 7, past which Excel cannot open the workbook") in message
    assert files_in(tmp_path) == before
    monkeypatch.setattr(import_ledger, "LAST_ROW", 8)  # just fits
    result = runner.invoke(app, ["import", str(book), str(export)])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(book)["Ledger"].tables["Ledger"].ref.endswith("8")


def test_a_year_mistyped_before_1900_is_refused_as_the_file_writes_it(tmp_path):
    book = make_book(tmp_path / "branch.xlsx")
    export = tmp_path / "export.csv"
    export.write_bytes("客户编号,单据号,单据日期,到期日,金额\r\n"
                       "C001,X-1,0026-09-01,2026-10-01,5\r\n".encode("gbk"))
    before = files_in(tmp_path)
    result = runner.invoke(app, ["import", str(book), str(export)])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert ('export.csv!C2: DocDate "0026-09-01" is before 1900-03-01, the first date a '
            "workbook holds") in message
    assert files_in(tmp_path) == before


def test_text_longer_than_a_cell_holds_is_refused(tmp_path):
    book = make_book(tmp_path / "branch.xlsx")
    export = tmp_path / "export.csv"
    export.write_text("客户编号,单据号,单据日期,金额,备注\r\nC001,X-1,2026-11-01,5,"
                      f"{'x' * 32_767}\r\nC001,X-2,2026-11-02,7,{'y' * 40_000}\r\n", "utf-8")
    before = files_in(tmp_path)
    result = runner.invoke(app, ["import", str(book), str(export), "--format", "json"])
    assert result.exit_code == 1
    assert [str(p["message"]) for p in json.loads(result.stdout)["problems"]] == [
        "Notes is 40,000 characters long: a cell holds at most 32,767"]
    assert [(p["sheet"], p["row"], p["column"]) for p in json.loads(result.stdout)["problems"]
            ] == [("export.csv", 3, "E")]  # fmt: skip
    assert files_in(tmp_path) == before


def test_a_line_with_more_fields_than_the_header_is_located(tmp_path):
    book = make_book(tmp_path / "branch.xlsx")
    export = tmp_path / "export.csv"
    export.write_text("客户编号,单据号,单据日期,金额,备注\r\nC001,X-1,2026-11-01,5,,\r\n"
                      "C001,X-2,2026-11-02,1,200.00,late\r\n", "utf-8")  # 1,200.00 unquoted
    before = files_in(tmp_path)
    result = runner.invoke(app, ["import", str(book), str(export)])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert ("export.csv!F3: 6 fields where the header names 5: a comma in a field not in "
            "quotes?") in message
    assert "export.csv!F2" not in message  # a trailing empty field is no value
    assert files_in(tmp_path) == before


def test_a_date_a_century_ahead_is_a_mistyped_year_not_a_debt_to_age(tmp_path):
    book = make_book(tmp_path / "branch.xlsx")  # as of 2026-11-30
    export = tmp_path / "export.csv"
    export.write_text("客户编号,单据号,单据日期,到期日,金额\r\n"
                      "C001,X-1,2026-09-01,2126-10-01,5\r\n"
                      "C001,X-2,2026-09-01,2076-11-29,5\r\n", "utf-8")  # the last day taken
    before = files_in(tmp_path)
    result = runner.invoke(app, ["import", str(book), str(export), "--format", "json"])
    assert result.exit_code == 1
    assert [(p["sheet"], p["row"], p["column"], p["message"])
            for p in json.loads(result.stdout)["problems"]] == [
        ("export.csv", 2, "D", "DueDate 2126-10-01 is more than 50 years after the as-of "
                               "date 2026-11-30: a mistyped year?")]  # fmt: skip
    assert files_in(tmp_path) == before
    # One already in a workbook is found by any run that ages the ledger.
    far = ("C002", "INV", "INV-9", dt.date(2026, 11, 2), dt.date(3026, 12, 1), 5, "", "")
    book = make_book(tmp_path / "far.xlsx", ledger=[("C001", "INV", "INV-1", dt.date(2026, 9, 1),
                                                      dt.date(2026, 10, 1), 5, "", ""), far])
    result = runner.invoke(app, ["refresh", str(book)])
    assert result.exit_code == 1
    assert "Ledger!E3: DueDate 3026-12-01 is more than 50 years after" in " ".join(
        result.stderr.split())
