"""Reconciling replies end to end: their files (Chinese headers, GBK CSV), the report, the CLI."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import python_calamine as calamine
from typer.testing import CliRunner

from tests.books import make_book
from xl_addin.cli import app

runner = CliRunner()


def their_payables_workbook(path):
    """C001's own payables ledger: a title row, Chinese headers, debit/credit the other way."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "应付账款"
    sheet.append(["上海华信贸易有限公司 应付账款明细 2026年11月"])
    sheet.append(["单据号", "日期", "借方", "贷方", "摘要"])
    sheet.append(["INV-1", dt.date(2026, 9, 1), None, 12000.50, "采购发票"])
    sheet.append(["PAY-1", dt.date(2026, 10, 15), 2000, None, "付款"])
    sheet.append(["PAY-2", dt.date(2026, 11, 29), 3000, None, "付款(在途)"])
    sheet.append(["合计", None, 5000, 12000.50, None])
    book.save(path)
    return path


def test_reply_with_chinese_headers_explains_the_payment_in_transit(tmp_path):
    workbook = make_book(tmp_path / "branch.xlsx")
    reply = their_payables_workbook(tmp_path / "reply.xlsx")
    result = runner.invoke(
        app,
        ["reconcile", str(workbook), str(reply), "--customer", "C001", "--period", "2026-11",
         "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["our_balance"], data["their_balance"]) == ("10000.50", "7000.50")
    assert (data["difference"], data["explained"], data["unexplained"]) == (
        "3000.00", "3000.00", "0.00",
    )  # fmt: skip
    [difference] = data["differences"]
    assert difference["kind"] == "theirs_only" and difference["their_doc_no"] == "PAY-2"
    assert "in transit" in difference["explanation"]
    report = calamine.CalamineWorkbook.from_path(data["report"])
    assert report.sheet_names == ["Summary", "Differences"]
    rows = report.get_sheet_by_name("Differences").to_python()
    assert any("PAY-2" in row for row in rows)


def test_gbk_csv_reply_with_an_amount_mismatch_and_an_invoice_they_lack(tmp_path):
    workbook = make_book(tmp_path / "branch.xlsx")
    text = "单据号,日期,金额\nINV-2,2026-11-01,7500.00\n"
    reply = tmp_path / "reply.csv"
    reply.write_bytes(text.encode("gbk"))
    result = runner.invoke(
        app, ["reconcile", str(workbook), str(reply), "--customer", "C002", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    kinds = {d["kind"]: d for d in data["differences"]}
    assert kinds["amount"]["doc_no"] == "INV-2" and kinds["amount"]["effect"] == "500.00"
    assert kinds["ours_only"]["doc_no"] == "CRN-1" and kinds["ours_only"]["effect"] == "-500.00"
    assert data["unexplained"] == "0.00"


def test_a_confirmed_balance_only(tmp_path):
    workbook = make_book(tmp_path / "branch.xlsx")
    result = runner.invoke(app, ["reconcile", str(workbook), "9,500.50", "--customer", "C001"])
    assert result.exit_code == 0, result.output
    assert "Unexplained" in result.stdout and "500.00" in result.stdout


def test_bad_reply_cells_are_located_and_nothing_is_written(tmp_path):
    workbook = make_book(tmp_path / "branch.xlsx")
    reply = tmp_path / "reply.csv"
    reply.write_text("DocNo,Date,Amount\nINV-1,2026-13-01,12x\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = runner.invoke(app, ["reconcile", str(workbook), str(reply), "--customer", "C001"])
    assert result.exit_code == 1
    assert "reply.csv!B2" in result.output and "reply.csv!C2" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_unknown_customer(tmp_path):
    workbook = make_book(tmp_path / "branch.xlsx")
    result = runner.invoke(app, ["reconcile", str(workbook), "1", "--customer", "C404"])
    assert result.exit_code == 1 and "C404" in result.output


def test_a_bad_period_names_the_option(tmp_path):
    workbook = make_book(tmp_path / "branch.xlsx")
    result = runner.invoke(app, ["reconcile", str(workbook), "1", "--customer", "C001",
                                 "--period", "2026-13"])  # fmt: skip
    assert result.exit_code == 1 and '--period: period "2026-13"' in result.output
