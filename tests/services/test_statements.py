"""Statements end to end: golden facts read back from the .docx in both languages, the journal."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from tests.books import make_book
from xl_addin.cli import app
from xl_addin.documents.fields import NON_BREAKING_HYPHEN, unbroken
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
    """The document's lines as a reader sees them: a reference's non-breaking hyphens
    (U+2011, which keep it on one line) read as hyphens."""
    document = docx.Document(path)
    lines = [p.text for p in document.paragraphs] + [
        " | ".join(c.text for c in row.cells) for t in document.tables for row in t.rows
    ]
    return [line.replace(NON_BREAKING_HYPHEN, "-") for line in lines]


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
    assert "期初余额（2026年10月31日） | " in zh and "1,000.00" in zh
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


def test_a_bad_period_is_a_located_problem(book, tmp_path):
    result = runner.invoke(app, ["statements", str(book), "--period", "2026-13"])
    assert result.exit_code == 1 and "YYYY-MM" in result.output
    assert '--period: period "2026-13"' in result.output  # the option, not the Settings sheet
    settings = [("StatementPeriod", "2026/11")]
    typed = make_book(tmp_path / "typed.xlsx", customers=CUSTOMERS, ledger=LEDGER,
                      customer_headers=HEADERS, settings=settings)  # fmt: skip
    result = runner.invoke(app, ["statements", str(typed), "--dry-run"])
    assert result.exit_code == 1 and "Settings!B" in result.output, result.output


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
    assert rows and {r[1] for r in rows} == {"Statement"}  # the kind named, not its key
    assert all(r[4] == "already issued for this period (use --force to reissue)" for r in rows)


# November 2026 again, issued on 8 December (Settings.AsOfDate), by hand:
#   C010 (en) INV 627.35 in October, paid 1,000.00 on 3 Nov: closing -372.65, we owe them.
#   C011 (zh) INV 1,000.00, paid 1,500.00: closing -500.00, we owe them.
#   C012 (en) INV-21 1,000.00 due 15 Oct, overdue; INV-22 480.00 due 1 Nov, disputed and
#             overdue; INV-23 75.50 of 9 Nov, disputed, not due: asks for 1,000.00 only.
#   C013 (zh) the same in CNY.
#   C014 (en), C015 (zh) INV 900.00 due 1 Oct, disputed: nothing asked for.
#   C016 (en), C017 (zh) INV 500.00 paid in full on 5 Nov: nil.
DISPUTE_HEADERS = ("CustomerID", "DocType", "DocNo", "DocDate", "DueDate", "Amount", "AppliesTo",
                   "Disputed", "Reference")  # fmt: skip
SIDES = [
    (f"C0{n}", name, "Standard", currency, 10000, "", lang)
    for n, name, currency, lang in [
        (10, "Bennett Foods Ltd", "GBP", "en"), (11, "上海华信贸易有限公司", "CNY", "zh"),
        (12, "Harbour & Sons Ltd", "GBP", "en"), (13, "武汉富源贸易有限公司", "CNY", "zh"),
        (14, "Quiet Dispute Ltd", "GBP", "en"), (15, "广州争议客户有限公司", "CNY", "zh"),
        (16, "Settled Ltd", "GBP", "en"), (17, "杭州结清有限公司", "CNY", "zh"),
    ]
]  # fmt: skip
d = dt.date
SIDES_LEDGER = [
    ("C010", "INV", "INV-10", d(2026, 10, 1), d(2026, 10, 31), 627.35, "", "N", ""),
    ("C010", "PAY", "PAY-10", d(2026, 11, 3), None, 1000, "", "N", ""),
    ("C011", "INV", "INV-11", d(2026, 10, 5), d(2026, 11, 4), 1000, "", "N", ""),
    ("C011", "PAY", "PAY-11", d(2026, 11, 12), None, 1500, "", "N", ""),
    *[(c, "INV", f"{c}-21", d(2026, 9, 15), d(2026, 10, 15), 1000, "", "N", "")
      for c in ("C012", "C013")],
    *[(c, "INV", f"{c}-22", d(2026, 10, 2), d(2026, 11, 1), 480, "", "Y", "")
      for c in ("C012", "C013")],
    *[(c, "INV", f"{c}-23", d(2026, 11, 9), d(2026, 12, 9), 75.5, "", "Y", "Price query")
      for c in ("C012", "C013")],
    *[(c, "INV", f"{c}-31", d(2026, 9, 1), d(2026, 10, 1), 900, "", "Y", "")
      for c in ("C014", "C015")],
    *[(c, kind, f"{c}-{kind}", day, due, 500, "", "N", "")
      for c in ("C016", "C017")
      for kind, day, due in (("INV", d(2026, 10, 1), d(2026, 10, 31)),
                             ("PAY", d(2026, 11, 5), None))],
]  # fmt: skip


@pytest.fixture
def sides(tmp_path):
    book = make_book(tmp_path / "sides.xlsx", customers=SIDES, ledger=SIDES_LEDGER,
                     customer_headers=HEADERS, ledger_headers=DISPUTE_HEADERS,
                     as_of=dt.date(2026, 12, 8))  # fmt: skip
    result = run_statements(book, period="2026-11", out=tmp_path / "out")
    return {doc.planned.customer_id: doc for doc in result.issued.documents}


def read(document) -> str:
    return "\n".join(text_of(document.file))


def test_a_credit_balance_is_what_we_owe_and_asks_for_nothing(sides):
    en = read(sides["C010"])
    assert "we owe you GBP 372.65, and no payment is due from you" in en
    words = "Three hundred and seventy-two pounds and sixty-five pence"
    assert f"Amount we owe you, in words: {words}" in en
    assert "Please pay" not in en and "Minus" not in en and "minus" not in en
    assert "Of which overdue" not in en
    assert "We confirm that the balance of GBP 372.65 owed to us by" in en
    assert "owed to Huaxin" not in en and "-372.65" in en  # the running balance keeps its sign
    zh = read(sides["C011"])
    assert "本公司应付贵司CNY 500.00，贵司无需付款" in zh
    assert "本公司应付金额（大写）：人民币伍佰元整" in zh and "负" not in zh
    assert "请将逾期款项" not in zh and "其中逾期" not in zh
    assert "应付本公司余额CNY 500.00，数额相符" in zh and "本公司欠" not in zh
    context = sides["C010"].planned.context
    assert context["in_credit"] and context["closing_abs"] == "372.65"
    assert str(context["closing_value"]) == "-372.65"


def test_a_nil_balance_says_so(sides):
    en = read(sides["C016"])
    assert "The balance of your account at 30 November 2026 is nil: no payment is due." in en
    assert "had a nil balance as at 30 November 2026" in en
    assert "Please pay" not in en and "in words" not in en and "owed to" not in en
    zh = read(sides["C017"])
    assert "截至2026年11月30日，贵司账户余额为零，无需付款。" in zh
    assert "往来余额为零，数额相符" in zh and "大写金额" not in zh and "请将逾期款项" not in zh


def test_a_disputed_item_is_marked_and_left_out_of_the_request(sides):
    en = read(sides["C012"])
    assert "9 November 2026 | Invoice | C012-23 | Price query Disputed | 75.50 |  | 1,555.50" in en
    assert "Please pay the overdue amount of GBP 1,000.00 to " in en
    assert "The items marked Disputed are under review and are not included in this amount." in en
    assert "Of which overdue: GBP 1,000.00, not counting disputed items" in en
    assert "Of which disputed, under review: GBP 555.50" in en
    assert "Items overdue or disputed at 30 November 2026" in en
    assert "C012-21 | 15 September 2026 | 15 October 2026 | 46 | 1,000.00 | Overdue" in en
    assert "C012-22 | 2 October 2026 | 1 November 2026 | 29 | 480.00 | Disputed" in en
    assert "C012-23 | 9 November 2026 | 9 December 2026 |  | 75.50 | Disputed" in en
    assert "We confirm that the balance of GBP 1,555.50 owed to" in en  # the balance keeps them
    zh = read(sides["C013"])
    assert "2026年11月9日 | 发票 | C013-23 | Price query 有争议 | 75.50 |  | 1,555.50" in zh
    assert "请将逾期款项CNY 1,000.00汇入：" in zh
    assert "标注“有争议”的款项正在核实，不在本次付款金额之内。" in zh
    assert "其中逾期：CNY 1,000.00（不含有争议款项）" in zh
    assert "其中有争议（核实中）：CNY 555.50" in zh
    assert "C013-22 | 2026年10月2日 | 2026年11月1日 | 29 | 480.00 | 有争议" in zh
    context = sides["C012"].planned.context
    totals = ("total_overdue_value", "total_disputed_value", "total_disputed_overdue_value")
    assert [str(context[total]) for total in totals] == ["1000.00", "555.50", "480.00"]
    assert [(i["doc_no"], i["disputed"]) for i in context["items"]] == [
        (unbroken("C012-21"), False), (unbroken("C012-22"), True), (unbroken("C012-23"), True),
    ]  # fmt: skip
    assert [line["disputed"] for line in context["lines"]] == [True]


def test_when_everything_overdue_is_disputed_no_payment_is_asked_for(sides):
    en = read(sides["C014"])
    assert ("No payment is requested with this statement: the overdue items, GBP 900.00, are "
            "disputed and under review.") in en  # fmt: skip
    assert "Please pay" not in en and "Of which overdue" not in en  # not "GBP 0.00"
    assert "Of which disputed, under review: GBP 900.00" in en
    assert "C014-31 | 1 September 2026 | 1 October 2026 | 60 | 900.00 | Disputed" in en
    zh = read(sides["C015"])
    assert "本对账单不要求付款：逾期款项CNY 900.00有争议，正在核实中" in zh
    assert "请将逾期款项" not in zh


def test_the_reply_by_date_counts_from_the_issue_date(sides, tmp_path):
    en = read(sides["C012"])  # issued 8 December (Settings.AsOfDate): reply by 18 December
    assert "Date: 8 December 2026" in en and "return the reply slip below by 18 December 2026" in en
    assert "Closing balance at 30 November 2026" in en and sides["C012"].reference.startswith(
        "LDN-STM-20261208-")  # fmt: skip
    zh = read(sides["C013"])
    assert "日期：2026年12月8日" in zh and "并于2026年12月18日前将下方回执签章寄回" in zh
    book = tmp_path / "sides.xlsx"
    later = run_statements(book, period="2026-11", as_of=dt.date(2026, 12, 15),
                           out=tmp_path / "later", force=True, only=("C012",))  # fmt: skip
    assert "return the reply slip below by 25 December 2026" in read(later.issued.documents[0])
    # A stale Settings.AsOfDate inside the month never dates a statement before the month
    # has closed.
    stale = make_book(tmp_path / "stale.xlsx", customers=SIDES, ledger=SIDES_LEDGER,
                      customer_headers=HEADERS, ledger_headers=DISPUTE_HEADERS,
                      as_of=dt.date(2026, 11, 15))  # fmt: skip
    early = run_statements(stale, period="2026-11", out=tmp_path / "early", only=("C012",))
    text = read(early.issued.documents[0])
    assert "Date: 30 November 2026" in text and "by 10 December 2026" in text
    # An as-of asked for inside the month is refused: the month's closing balance is not
    # known yet. Nothing is issued or written.
    before = stale.read_bytes()
    refused = run_statements(stale, period="2026-11", as_of=dt.date(2026, 11, 15),
                             out=tmp_path / "refused", force=True)  # fmt: skip
    assert isinstance(refused, tuple) and str(refused[0].source) == "--as-of"
    assert "the month 2026-11 has not ended by the as-of date 2026-11-15" in refused[0].message
    assert stale.read_bytes() == before and not (tmp_path / "refused").exists()


def test_without_a_period_the_last_month_ended_is_stated(sides, tmp_path):
    """No --period and no Settings.StatementPeriod: the last month ended by the as-of date
    (on 8 December, November), never the month still running."""
    book = tmp_path / "sides.xlsx"
    result = run_statements(book, as_of=dt.date(2026, 12, 8), out=tmp_path / "default",
                            dry_run=True)  # fmt: skip
    assert str(result.period) == "2026-11"
    on_the_day = run_statements(book, as_of=dt.date(2026, 11, 30), dry_run=True)
    assert str(on_the_day.period) == "2026-11"


def test_the_shipped_statement_templates_are_what_the_script_makes(tmp_path, monkeypatch):
    letters = Path(__file__).resolve().parents[2] / "letters"
    spec = importlib.util.spec_from_file_location(
        "make_statements", letters / "make_statement_templates.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "HERE", tmp_path)
    for lang in ("en", "zh"):
        made = script.make(lang).read_bytes()
        assert made == (letters / lang / "statement.docx").read_bytes(), lang


def test_a_month_that_has_not_ended_is_refused_without_as_of(book, tmp_path):
    """Settings.AsOfDate 30 November and no --as-of: a statement of a month that has ended
    by neither that day nor today would state, and be dated, in the future. Refused, naming
    where the month came from; nothing issued or written."""
    before = book.read_bytes()
    refused = run_statements(book, period="2099-01", out=tmp_path / "future")
    assert isinstance(refused, tuple) and str(refused[0].source) == "--period"
    assert refused[0].message.startswith("the month 2099-01 has not ended: the as-of date is "
                                         "2026-11-30 and today is ")  # fmt: skip
    assert refused[0].message.endswith("issued from its last day, 2099-01-31")
    assert book.read_bytes() == before and not (tmp_path / "future").exists()
    result = runner.invoke(app, ["statements", str(book), "--period", "2099-01"])
    assert result.exit_code == 1 and "--period: the month 2099-01 has not ended" in result.output
