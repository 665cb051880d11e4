"""`credit-control letters` through its runner: usage errors, bad input, PDF and e-mail drafts."""

from __future__ import annotations

import datetime as dt
import shutil
from email import message_from_bytes, policy

import pytest
from typer.testing import CliRunner

from tests.books import make_book
from xl_addin.cli import app

runner = CliRunner()
HEADERS = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage", "Email",
           "Language")  # fmt: skip
CUSTOMERS = [
    ("C001", "上海华信贸易有限公司", "Standard", "CNY", 50000, "", "ap@huaxin.example", "zh")
]
LEDGER = [("C001", "INV", "INV-1", dt.date(2026, 9, 1), dt.date(2026, 10, 1), 12000.5, "", "N")]


@pytest.fixture
def book(tmp_path):
    return make_book(tmp_path / "branch.xlsx", customers=CUSTOMERS, ledger=LEDGER,
                     customer_headers=HEADERS)  # fmt: skip


def test_usage_errors_exit_2(book):
    assert runner.invoke(app, ["letters"]).exit_code == 2
    assert runner.invoke(app, ["letters", str(book), "--as-of", "not a date"]).exit_code == 2
    assert runner.invoke(app, ["letters", str(book), "--format", "xml"]).exit_code == 2


def test_not_a_workbook_exits_1_and_writes_nothing(tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(b"not a workbook")
    result = runner.invoke(app, ["letters", str(path)])
    assert result.exit_code == 1 and "not an Excel workbook" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.xlsx"]


def test_email_drafts_in_the_customers_language(book, tmp_path):
    result = runner.invoke(app, ["letters", str(book), "--out", str(tmp_path / "out"), "--email"])
    assert result.exit_code == 0, result.output
    [draft] = list((tmp_path / "out").glob("*.eml"))
    message = message_from_bytes(draft.read_bytes(), policy=policy.default)
    assert message["To"] == "ap@huaxin.example" and message["Subject"].startswith("催款函：")
    assert message["X-Unsent"] == "1"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename().endswith(".docx")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_pdf_beside_the_docx(book, tmp_path):
    result = runner.invoke(app, ["letters", str(book), "--out", str(tmp_path / "out"), "--pdf"])
    assert result.exit_code == 0, result.output
    [pdf] = list((tmp_path / "out").glob("*.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF")
