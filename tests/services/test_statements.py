"""Statements end to end: golden facts read back from the .docx in both languages, the journal."""

from __future__ import annotations

import datetime as dt
import json

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from tests.books import make_book
from xl_addin.cli import app
from xl_addin.journal.store import Journal, journal_url
from xl_addin.services.statements import StatementsResult, run_statements

runner = CliRunner()
HEADERS = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage", "Language")
CUSTOMERS = [
    ("C001", "上海华信贸易有限公司", "Standard", "CNY", 50000, "", "zh"),
    ("C002", "Harbour & Sons Ltd", "Standard", "GBP", 10000, "", "en"),
    ("C003", "Quiet Customer Ltd", "Standard", "GBP", 10000, "", "en"),
]
# C001 in November 2026, by hand: opening 1,000.00 (INV-1); 3 Nov INV-2 +250.00 = 1,250.00;
# 10 Nov PAY-1 -600.00 = 650.00; closing 650.00. C002: opening 800.00, nothing in November.
LEDGER = [
    ("C001", "INV", "INV-1", dt.date(2026, 9, 15), dt.date(2026, 10, 15), 1000, "", "N"),
    ("C001", "INV", "INV-2", dt.date(2026, 11, 3), dt.date(2026, 12, 3), 250, "", "N"),
    ("C001", "PAY", "PAY-1", dt.date(2026, 11, 10), None, 600, "", "N"),
    ("C001", "INV", "INV-3", dt.date(2026, 12, 2), dt.date(2027, 1, 1), 999, "", "N"),
    ("C002", "INV", "INV-9", dt.date(2026, 8, 1), dt.date(2026, 9, 1), 800, "", ""),
]


def text_of(path) -> list[str]:
    document = docx.Document(path)
    return [p.text for p in document.paragraphs] + [
        " | ".join(c.text for c in row.cells) for t in document.tables for row in t.rows
    ]


@pytest.fixture
def book(tmp_path):
    return make_book(tmp_path / "branch.xlsx", customers=CUSTOMERS, ledger=LEDGER,
                     customer_headers=HEADERS)  # fmt: skip


def test_golden_statements_in_both_languages(book, tmp_path):
    result = run_statements(book, period="2026-11", out=tmp_path / "out")
    assert isinstance(result, StatementsResult)
    by_customer = {d.planned.customer_id: d for d in result.issued.documents}
    assert set(by_customer) == {"C001", "C002"}  # C003: no balance, no activity
    zh = "\n".join(text_of(by_customer["C001"].file))
    assert "对 账 单" in zh and "2026年11月" in zh
    assert "期初余额(2026年10月31日) | " in zh and "1,000.00" in zh
    assert "2026年11月3日 | 发票 | INV-2 |  | 250.00 |  | 1,250.00" in zh
    assert "2026年11月10日 | 收款 | PAY-1 |  |  | 600.00 | 650.00" in zh
    assert "250.00 | 600.00 | 650.00" in zh  # closing row: debits, credits, closing
    assert "人民币陆佰伍拾元整" in zh and "INV-3" not in zh
    assert "31-60天 | 400.00" in zh  # 1,000.00 due 15 Oct, 400.00 left after the payment
    assert "未到期 | 250.00" in zh and "365天以上 | 0.00" in zh
    assert "回  执" in zh and by_customer["C001"].reference in zh
    en = "\n".join(text_of(by_customer["C002"].file))
    assert "Statement of account" in en and "November 2026" in en
    assert "Opening balance at 31 October 2026" in en and "800.00" in en
    assert "Eight hundred pounds" in en or "eight hundred pounds" in en.lower()
    assert "We confirm that the balance of GBP 800.00" in en


def test_recorded_per_period_and_reissued_only_with_force(book, tmp_path):
    first = run_statements(book, period="2026-11", out=tmp_path / "out")
    with Journal.open(journal_url(book)) as journal:
        recorded = journal.documents(kind="statement")
    assert len(recorded) == 2 and {r.key for r in recorded} == {"2026-11"}
    assert {str(r.closing) for r in recorded} == {"650.00", "800.00"}
    again = run_statements(book, period="2026-11", out=tmp_path / "out")
    assert again.issued.documents == [] and len(first.issued.documents) == 2
    forced = run_statements(book, period="2026-11", out=tmp_path / "out", force=True,
                            only=("C002",))  # fmt: skip
    assert [d.planned.revision for d in forced.issued.documents] == [1]


def test_json_adds_opening_and_closing(book, tmp_path):
    result = runner.invoke(app, ["statements", str(book), "--period", "2026-11", "--out",
                                 str(tmp_path / "o"), "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    documents = json.loads(result.stdout)["documents"]
    c1 = next(d for d in documents if d["CustomerID"] == "C001")
    assert (c1["Opening"], c1["Closing"], c1["Amount"]) == (1000.0, 650.0, 650.0)


def test_a_bad_period_is_a_located_problem(book):
    result = runner.invoke(app, ["statements", str(book), "--period", "2026-13"])
    assert result.exit_code == 1 and "YYYY-MM" in result.output


def test_every_step_of_a_run_is_shown_until_the_workbook_is_written(book, tmp_path):
    steps = []
    run_statements(book, period="2026-11", out=tmp_path / "out",
                   progress=lambda *step: steps.append(step))  # fmt: skip
    seen = list(dict.fromkeys(what for what, _, _ in steps))
    assert seen == ["Reading the workbook", "Writing documents", "Updating the workbook"]
    assert steps[-1] == ("Updating the workbook", 1, 1)  # the last thing done: the workbook


def test_the_run_summary_lists_who_was_passed_over_and_why(book, tmp_path):
    run_statements(book, period="2026-11", out=tmp_path / "out")
    again = run_statements(book, period="2026-11", out=tmp_path / "again")
    sheet = openpyxl.load_workbook(again.issued.summary)["Skipped"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert rows and {r[1] for r in rows} == {"statement"}
    assert all(r[4] == "already issued for this period (use --force to reissue)" for r in rows)
