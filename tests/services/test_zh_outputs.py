"""Every workbook we write for a person, from a Chinese workbook: Chinese sheet names and
headings, stages and kinds named, never keyed, dates as 2026年11月30日.

The letters and statements run summaries, the hand-over workbook of the legal step and
the reconciliation report, each read back with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.books import make_book, write_sheet
from xl_addin.core.policy import DEFAULT_POLICY
from xl_addin.journal.store import DocumentRecord, Journal, journal_url, now
from xl_addin.services.letters import run_letters
from xl_addin.services.reconcile import reconcile
from xl_addin.services.statements import run_statements
from xl_addin.workbook.schema import CONTACTS

HEADERS = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage", "Language",
           "ContractRate", "ContractRatePer")  # fmt: skip
CUSTOMERS = [
    ("C001", "上海华信贸易有限公司", "Standard", "CNY", 50000, "", "zh", None, None),
    # The contract's penalty rate (违约金), per day: interest, and no statutory compensation.
    ("C009", "杭州长欠实业有限公司", "Standard", "CNY", 1000, "Credit hold", "zh",
     "万分之五", "日"),
    # A euro debt: the Directive's interest and its EUR 40 per invoice.
    ("C010", "莱茵贸易（上海）有限公司", "Standard", "EUR", 1000, "Credit hold", "zh", None, None),
]
LEDGER = [
    ("C001", "INV", "INV-1", dt.date(2026, 9, 1), dt.date(2026, 10, 1), 12000.5, "", "N"),
    ("C001", "PAY", "PAY-1", dt.date(2026, 10, 15), None, 2000, "INV-1", "N"),
    ("C001", "INV", "INV-3", dt.date(2026, 11, 3), dt.date(2026, 12, 3), 450, "", "N"),
    ("C009", "INV", "INV-7", dt.date(2025, 1, 1), dt.date(2025, 2, 1), 900, "", ""),
    ("C009", "INV", "INV-8", dt.date(2025, 3, 1), dt.date(2025, 4, 1), 1200.5, "", ""),
    ("C009", "PAY", "PAY-3", dt.date(2025, 5, 1), None, 200, "INV-8", ""),
    ("C010", "INV", "EU-1", dt.date(2026, 1, 5), dt.date(2026, 2, 4), 5000, "", ""),
    ("C010", "INV", "EU-2", dt.date(2026, 2, 5), dt.date(2026, 3, 7), 3000, "", ""),
]
# What a person must never read in a Chinese workbook: the policy's stage keys, the
# document kinds, the reconciliation's difference kinds and the contact kinds as keyed.
KEYS = {stage.key for stage in DEFAULT_POLICY.stages} | {
    "letter", "call_sheet", "legal_pack", "statement", "ours_only", "theirs_only", "amount",
    "by_amount", "call", "visit", "e-mail", "On hold", "Current",
}  # fmt: skip
ASCII_HEADINGS = {"PDF", "CNY", ""}  # a file type and a currency code are read as they are
FILE_COLUMNS = {"文件", "PDF", "电子邮件"}  # file names, read as the folder shows them
CJK = re.compile(r"[\u4e00-\u9fff]")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("zh")
    path = make_book(folder / "branch.xlsx", customers=CUSTOMERS, ledger=LEDGER,
                     customer_headers=HEADERS,
                     settings=[("Branch", "SH"), ("Language", "zh")])  # fmt: skip
    book = openpyxl.load_workbook(path)
    write_sheet(book, "Contacts", [c.header for c in CONTACTS.columns],
                [(dt.datetime(2026, 10, 27), "C009", "call", "final_notice", "", "无人接听",
                  None, None, "", "两次未接")])  # fmt: skip
    book.save(path)
    with Journal.open(journal_url(path)) as journal:
        run = journal.start_run("letters", dt.date(2026, 9, 1), None, "u", "SH", "v")
        journal.record_batch(run, [DocumentRecord(  # the workbook's branch's earlier letter
            "letter", "C009", "final_notice", "2026-09-01", "SH-LTR-20260901-0001", 0, "f.docx",
            "0" * 64, Decimal("1900.50"), "CNY", now(), "u", "SH", "v")])  # fmt: skip
    letters = run_letters(path, out=folder / "letters")
    statements = run_statements(path, period="2026-11", out=folder / "statements")
    reconciled = reconcile(path, "7,000.50", "C001", "2026-11", out=folder / "reconcile")
    legal = {d.planned.customer_id: d for d in letters.issued.documents
             if d.planned.kind == "legal_pack"}  # fmt: skip
    return {"letters summary": letters.issued.summary, "hand-over": legal["C009"].extra_file,
            "statements summary": statements.issued.summary, "reconciliation": reconciled.report,
            "letter": legal["C009"], "euro letter": legal["C010"]}  # fmt: skip


def sheets(path: Path):
    """(sheet, title lines, header row, data rows) of each sheet write_report wrote."""
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows())
        blank = next(i for i, row in enumerate(rows) if all(c.value is None for c in row))
        yield sheet, rows[:blank], rows[blank + 1], rows[blank + 2:]


@pytest.mark.parametrize(
    "name", ["letters summary", "statements summary", "hand-over", "reconciliation"]
)
def test_a_chinese_workbooks_outputs_read_in_chinese(outputs, name):
    for sheet, title, header, rows in sheets(outputs[name]):
        assert CJK.search(sheet.title), (name, sheet.title)
        for line in title:
            text = str(line[0].value)
            assert CJK.search(text) and not ISO_DATE.search(text), (name, text)
        headings = [cell.value or "" for cell in header]
        english = [h for h in headings if not CJK.search(h) and h not in ASCII_HEADINGS]
        assert not english, (name, sheet.title, english)
        files = {i for i, h in enumerate(headings) if h in FILE_COLUMNS}
        for row in rows:
            for i, cell in enumerate(row):
                if i in files:
                    continue
                assert cell.value not in KEYS, (name, sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, dt.datetime | dt.date):
                    assert "年" in cell.number_format, (name, cell.coordinate, cell.number_format)
                if isinstance(cell.value, str):
                    assert not ISO_DATE.fullmatch(cell.value), (name, cell.coordinate)


def test_the_run_summaries_name_the_stages_and_the_reasons(outputs):
    summary = openpyxl.load_workbook(outputs["letters summary"])
    assert summary.sheetnames == ["汇总", "文件", "未发送"]
    assert summary["汇总"]["A1"].value == "催款函件（截至2026年11月30日）"
    stages = {row[0].value for row in summary["汇总"].iter_rows(min_row=4)}
    assert stages == {"催款函", "法律程序"}
    statements = openpyxl.load_workbook(outputs["statements summary"])
    assert statements["汇总"]["A1"].value == "2026年11月对账单"
    assert [c.value for c in statements["文件"][3]] == [
        "编号", "客户编号", "阶段", "金额", "币种", "文件", "PDF", "电子邮件"]
    assert {row[2].value for row in statements["文件"].iter_rows(min_row=4)} == {"对账单"}


def test_a_chinese_hand_over_claims_what_the_letter_claims(outputs):
    letter = outputs["letter"].planned.context
    pack = openpyxl.load_workbook(outputs["hand-over"])
    assert pack.sheetnames == ["客户", "索赔金额", "欠款明细", "单据", "联系记录"]
    title = pack["索赔金额"]["A1"].value
    assert title.startswith("移交材料 SH-LEGAL-") and title.endswith("截至2026年11月30日")
    claim = {row[0].value: row[1].value for row in pack["索赔金额"].iter_rows(min_row=4)}
    assert Decimal(str(claim["逾期欠款"])) == letter["total_overdue_value"] == Decimal("1900.50")
    # The contract's daily rate: interest on each invoice, no statutory compensation.
    assert Decimal(str(claim["函件所主张的逾期利息"])) == letter["interest_value"] > 0
    assert claim["函件所主张的固定补偿"] == 0 == letter["compensation_value"]
    assert claim["索赔合计"] == pytest.approx(
        claim["逾期欠款"] + claim["函件所主张的逾期利息"] + claim["函件所主张的固定补偿"])
    debt = [[c.value for c in row] for row in pack["欠款明细"].iter_rows(min_row=4)]
    assert [row[0] for row in debt] == ["INV-7", "INV-8", "合计"]
    assert debt[-1][3] == pytest.approx(900 + 1000.5)
    assert pack["欠款明细"]["B4"].number_format == 'yyyy"年"m"月"d"日"'
    facts = {row[0].value: row[1].value for row in pack["客户"].iter_rows(min_row=4)}
    assert facts["最近阶段"] == "停止供货" and facts["客户名称"] == "杭州长欠实业有限公司"
    documents = [[c.value for c in row] for row in pack["单据"].iter_rows(min_row=4)]
    assert [row[0] for row in documents] == ["发票", "发票", "收款"]
    history = [[c.value for c in row] for row in pack["联系记录"].iter_rows(min_row=4)]
    assert [(r[0].date(), r[1], r[2], r[5]) for r in history] == [
        (dt.date(2026, 9, 1), "催款函件", "最后通知", None),
        (dt.date(2026, 10, 27), "电话", "最后通知", "无人接听")]
    assert pack["联系记录"]["A4"].number_format == 'yyyy"年"m"月"d"日"'


def test_a_chinese_hand_over_of_a_euro_debt_claims_the_directives_compensation(outputs):
    letter = outputs["euro letter"].planned.context
    pack = openpyxl.load_workbook(outputs["euro letter"].extra_file)
    claim = {row[0].value: (row[1].value, row[2].value)
             for row in pack["索赔金额"].iter_rows(min_row=4)}  # fmt: skip
    assert claim["逾期欠款"] == (8000, "EUR")
    assert Decimal(str(claim["函件所主张的逾期利息"][0])) == letter["interest_value"] > 0
    assert claim["函件所主张的固定补偿"] == (80, "EUR")  # EUR 40 for each of two invoices
    assert claim["索赔合计"][0] == pytest.approx(8080 + float(letter["interest_value"]))


def test_a_chinese_reconciliation_report(outputs):
    report = openpyxl.load_workbook(outputs["reconciliation"])
    assert report.sheetnames == ["汇总", "差异明细"]
    assert report["汇总"]["A1"].value == (
        "上海华信贸易有限公司（C001）对账差异表，截至2026年11月30日，币种 CNY")
    summary = {row[0].value: row[1].value for row in report["汇总"].iter_rows(min_row=4)}
    assert summary["我方余额"] == pytest.approx(10450.50) and summary["对方余额"] == 7000.50


def test_a_summary_keeps_its_documents_when_the_workbook_changes_language(tmp_path):
    path = make_book(tmp_path / "branch.xlsx", customers=CUSTOMERS[:1], ledger=LEDGER[:3],
                     customer_headers=HEADERS,
                     settings=[("Branch", "SH"), ("Language", "zh")])  # fmt: skip
    first = run_letters(path, out=tmp_path / "out")
    [document] = first.issued.documents
    book = openpyxl.load_workbook(path)
    settings = book["Settings"]
    for row in settings.iter_rows(min_row=2):
        if row[0].value == "Language":
            row[1].value = "en"
    book.save(path)
    again = run_letters(path, out=tmp_path / "out")  # the same day: nothing new to issue
    assert not again.issued.documents
    # Named in English now, with the Chinese summary's documents; that one kept as a backup.
    assert first.issued.summary.name == "汇总 催款函件 2026-11-30.xlsx"
    assert again.issued.summary.name == "summary letters 2026-11-30.xlsx"
    assert not first.issued.summary.exists()
    assert (tmp_path / "out" / "汇总 催款函件 2026-11-30.bak.xlsx").exists()
    summary = openpyxl.load_workbook(again.issued.summary)
    assert summary.sheetnames == ["Summary", "Documents", "Skipped"]
    rows = [[c.value for c in row] for row in summary["Documents"].iter_rows(min_row=4)]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (document.reference, "C001", "Demand letter")]  # named afresh in English
