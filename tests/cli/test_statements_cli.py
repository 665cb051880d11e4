"""`credit-control statements` through its runner: dry run, selection, History, .eml, PDF, exits."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from email import message_from_bytes, policy

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.books import make_book
from xl_addin.cli import app

runner = CliRunner()
HEADERS = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage", "Email",
           "Language")  # fmt: skip
CUSTOMERS = [
    ("C001", "上海华信贸易有限公司", "Standard", "CNY", 50000, "", "ar@huaxin.example", "zh"),
    ("C002", "Harbour & Sons Ltd", "Standard", "GBP", 10000, "", "ap@harbour.example", "en"),
    ("C003", "Quiet Customer Ltd", "Standard", "GBP", 10000, "", "", "en"),
]
LEDGER = [
    ("C001", "INV", "INV-1", dt.date(2026, 9, 15), dt.date(2026, 10, 15), 1000, "", "N"),
    ("C001", "PAY", "PAY-1", dt.date(2026, 11, 10), None, 600, "", "N"),
    ("C002", "INV", "INV-9", dt.date(2026, 11, 1), dt.date(2026, 12, 1), 800, "", ""),
]


@pytest.fixture
def book(tmp_path):
    return make_book(tmp_path / "branch.xlsx", customers=CUSTOMERS, ledger=LEDGER,
                     customer_headers=HEADERS)  # fmt: skip


def run(*args):
    return runner.invoke(app, ["statements", *map(str, args)])


def test_dry_run_plans_without_writing_anything(book, tmp_path):
    before = book.read_bytes()
    result = run(book, "--period", "2026-11", "--out", tmp_path / "out", "--dry-run",
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    plan = {d["CustomerID"]: d for d in json.loads(result.stdout)["documents"]}
    assert plan["C001"]["Action"] == "send" and plan["C003"]["Action"] == "skip"
    assert (plan["C001"]["Opening"], plan["C001"]["Closing"]) == (1000.0, 400.0)
    assert (plan["C002"]["Opening"], plan["C002"]["Closing"]) == (0.0, 800.0)
    assert book.read_bytes() == before and not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["branch.xlsx"]  # no journal either


def test_include_zero_and_customer_selection(book, tmp_path):
    result = run(book, "--period", "2026-11", "--out", tmp_path / "out", "--include-zero",
                 "--customer", "C003", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    documents = json.loads(result.stdout)["documents"]
    assert [(d["CustomerID"], d["Closing"]) for d in documents] == [("C003", 0.0)]
    assert len(list((tmp_path / "out").glob("*.docx"))) == 1


def test_table_summary_history_and_email_drafts(book, tmp_path):
    result = run(book, "--period", "2026-11", "--out", tmp_path / "out", "--email")
    assert result.exit_code == 0, result.output
    assert "Statements 2026-11: 2 customer(s) to send, 1 skipped" in result.stdout
    assert "2 statement(s) issued" in result.stdout
    assert (tmp_path / "out" / "summary statements 2026-11.xlsx").exists()
    drafts = {}
    for path in (tmp_path / "out").glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        drafts[message["To"]] = message
    assert set(drafts) == {"ar@huaxin.example", "ap@harbour.example"}
    assert "2026年11月对账单" in drafts["ar@huaxin.example"]["Subject"]
    body = drafts["ap@harbour.example"].get_body(("plain",)).get_content()
    assert "\n\nPlease find attached your statement of account for November 2026." in body
    attached = [p.get_filename() for p in drafts["ap@harbour.example"].iter_attachments()]
    assert len(attached) == 1 and attached[0].endswith(".docx")
    history = openpyxl.load_workbook(book)["History"]
    rows = [r for r in history.iter_rows(values_only=True) if "Statement" in r]
    assert not any("statement" in r for r in history.iter_rows(values_only=True))  # no key
    assert sorted((r[2], r[7], r[8]) for r in rows) == [("C001", 400, "CNY"), ("C002", 800, "GBP")]
    again = run(book, "--period", "2026-11", "--out", tmp_path / "out")
    assert again.exit_code == 0 and "0 customer(s) to send, 3 skipped" in again.stdout


def test_unknown_customer_or_period_exits_1_and_leaves_the_workbook(book, tmp_path):
    before = book.read_bytes()
    unknown = run(book, "--customer", "C404", "--out", tmp_path / "out")
    assert unknown.exit_code == 1 and "C404" in unknown.output
    bad = run(book, "--period", "November", "--out", tmp_path / "out")
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output
    assert book.read_bytes() == before and not (tmp_path / "out").exists()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_pdf_beside_the_docx(book, tmp_path):
    result = run(book, "--period", "2026-11", "--out", tmp_path / "out", "--customer", "C002",
                 "--pdf")  # fmt: skip
    assert result.exit_code == 0, result.output
    pdfs = list((tmp_path / "out").glob("*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes().startswith(b"%PDF")


def test_as_of_is_the_issue_date_the_reply_by_date_counts_from(book, tmp_path):
    import docx

    result = run(book, "--period", "2026-11", "--as-of", "2026-12-04", "--out", tmp_path / "out",
                 "--customer", "C002")  # fmt: skip
    assert result.exit_code == 0, result.output
    [path] = (tmp_path / "out").glob("*.docx")
    document = docx.Document(path)  # the date sits in the heading's table, beside the addressee
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    text = "\n".join([p.text for p in document.paragraphs] + cells)
    assert "Date: 4 December 2026" in text and "reply slip below by 14 December 2026" in text
    assert run(book, "--as-of", "next week").exit_code == 2
