"""Month-end snapshots from `close` and `statements`, and the Provision sheet's roll-rate ECL
matrix beside the provision by age, read back from the file in both languages."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.books import make_book
from tests.services.test_statements import CUSTOMERS, HEADERS, LEDGER
from xl_addin.cli import app
from xl_addin.core import roll_rates
from xl_addin.journal.store import Journal, journal_url
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.statements import run_statements

runner = CliRunner()
AS_OF = dt.date(2026, 11, 30)


@pytest.fixture
def book(tmp_path):
    return make_book(tmp_path / "branch.xlsx", customers=CUSTOMERS, ledger=LEDGER,
                     customer_headers=HEADERS)  # fmt: skip


def recorded(path, branch="LDN"):
    with Journal.open(journal_url(path)) as journal:
        return (journal.recorded_month_ends(branch),
                sorted((r["period"], r["customer_id"], r["ladder"], r["bucket"], r["cents"])
                       for r in journal.month_end_rows(branch)))  # fmt: skip


# The book as of 30 November 2026 (tests/services/test_statements.py): C001 owes INV-1, due
# 15 October, 400.00 after PAY-1's 600.00 (46 days: 31-60; due in October: 2 months) and
# INV-2, due 3 December, 250.00 (Current); INV-3 is dated in December. C002 (GBP) owes INV-9,
# due 1 September, 800.00 (90 days: 61-90; due in September: 3 months).
NOVEMBER = [
    # What the KPIs need besides the aging: each customer's overdue and its month's sales.
    ("2026-11", "C001", "figures", "Overdue", 40000),
    ("2026-11", "C001", "figures", "Sales", 25000),
    ("2026-11", "C001", "months", "2 months", 40000),
    ("2026-11", "C001", "months", "Current", 25000),
    ("2026-11", "C001", "policy", "31-60", 40000),
    ("2026-11", "C001", "policy", "Current", 25000),
    ("2026-11", "C002", "figures", "Overdue", 80000),
    ("2026-11", "C002", "months", "3 months", 80000),
    ("2026-11", "C002", "policy", "61-90", 80000),
]


def test_close_records_the_last_month_ended_and_again_replaces_it(book):
    result = runner.invoke(app, ["close", str(book)])
    assert result.exit_code == 0, result.output
    assert "Month-end 2026-11 recorded" in result.output
    assert "Roll-rate matrix needs 12 month-ends; 1 recorded" in result.output
    assert recorded(book) == ({"2026-11": "close"}, NOVEMBER)
    again = runner.invoke(app, ["close", str(book), "--period", "2026-11"])
    assert again.exit_code == 0, again.output
    assert recorded(book) == ({"2026-11": "close"}, NOVEMBER)  # the same rows, not twice


def test_close_as_of_mid_month_records_the_month_before(book):
    result = runner.invoke(app, ["close", str(book), "--as-of", "2026-11-20", "--format",
                                 "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["period"] == "2026-10"
    periods, rows = recorded(book)
    # On 31 October: INV-1 1,000.00 is 16 days overdue (PAY-1 comes later), INV-9 60 days.
    assert periods == {"2026-10": "close"}
    assert ("2026-10", "C001", "policy", "1-30", 100000) in rows


@pytest.mark.parametrize(("period", "message"), [
    ("2026-13", 'period "2026-13" is not a month written YYYY-MM'),
    ("Nov 2026", "is not a month written YYYY-MM"),
    ("2026-12", "the month 2026-12 has not ended by the as-of date 2026-11-30"),
])  # fmt: skip
def test_a_bad_or_unfinished_period_is_refused_and_nothing_is_written(book, period, message):
    before = book.read_bytes()
    result = runner.invoke(app, ["close", str(book), "--period", period])
    assert result.exit_code == 1
    assert "--period" in result.output and message in " ".join(result.output.split())
    assert book.read_bytes() == before
    assert not journal_url(book).startswith("sqlite:///") or recorded(book) == ({}, [])


def test_backfill_reconstructs_the_missing_month_ends_and_keeps_those_recorded(book, tmp_path):
    run_statements(book, period="2026-09", out=tmp_path / "out")
    result = runner.invoke(app, ["close", str(book), "--backfill", "3", "--format", "json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    # August (the first document, INV-9, is dated 1 August) and October are reconstructed;
    # September was recorded by its statements at the time and is kept.
    assert answer["reconstructed"] == ["2026-08", "2026-10"]
    assert answer["month_ends"] == {"2026-08": "reconstructed", "2026-09": "statements",
                                    "2026-10": "reconstructed", "2026-11": "close"}


def test_statements_record_their_period_and_a_dry_run_records_nothing(book, tmp_path):
    run_statements(book, period="2026-11", out=tmp_path / "out", dry_run=True)
    assert recorded(book) == ({}, [])
    run_statements(book, period="2026-11", out=tmp_path / "out")
    assert recorded(book) == ({"2026-11": "statements"}, NOVEMBER)
    run_statements(book, period="2026-11", out=tmp_path / "out")  # nothing new to issue
    assert recorded(book) == ({"2026-11": "statements"}, NOVEMBER)


def provision_block(path):
    """The Provision sheet's rows, and the block under its table (from its first heading)."""
    sheet = openpyxl.load_workbook(path, data_only=True)["Provision"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] in ("两种方法对比",
                                                            "The two methods side by side"))
    return rows, rows[start:]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_provision_sheet_says_how_many_month_ends_the_matrix_still_needs(book, lang):
    book = make_book(book, customers=CUSTOMERS, ledger=LEDGER, customer_headers=HEADERS,
                     settings=[("Language", lang)])  # fmt: skip
    assert runner.invoke(app, ["close", str(book)]).exit_code == 0
    _, block = provision_block(book)
    text = [str(r[0]) for r in block if r and r[0] is not None]
    wanted = ("迁徙率矩阵需要12个月末快照，已记录1个" if lang == "zh" else
              "roll-rate matrix needs 12 month-ends; 1 recorded")  # fmt: skip
    assert any(t.startswith(wanted) for t in text)
    by_age = "账龄分析法 CNY" if lang == "zh" else "By age (Provision table) CNY"
    row = next(r for r in block if r[0] == by_age)
    assert (Decimal(str(row[3])), Decimal(str(row[4]))) == (Decimal("650.00"), Decimal("32.50"))


@pytest.fixture(params=["en", "zh"])
def year_closed(request, tmp_path):
    """A demo branch closed with a year of month-ends reconstructed from its ledger."""
    data = make_demo_data(AS_OF, 40)
    path = tmp_path / "branch.xlsx"
    new_workbook(path, language=request.param, branch="SH", as_of=AS_OF,
                 customers=data.customers, ledger=data.ledger,
                 settings={**data.settings, "Language": request.param})  # fmt: skip
    result = runner.invoke(app, ["close", str(path), "--backfill", "12"])
    assert result.exit_code == 0, result.output
    return path, request.param, result.output


def test_the_roll_rate_matrix_under_the_provision_by_age(year_closed):
    path, lang, output = year_closed
    assert "Expected credit loss by roll rates: CNY" in " ".join(output.split())
    rows, block = provision_block(path)
    with Journal.open(journal_url(path)) as journal:
        periods = journal.recorded_month_ends("SH")
    assert len(periods) == 13 and list(periods.values()).count("reconstructed") == 12
    total = "合计" if lang == "zh" else "Total"
    bucket = "逾期月数" if lang == "zh" else "Overdue"
    for currency in ("CNY", "GBP"):
        start = next(i for i, r in enumerate(block) if r[0] == f"{bucket} {currency}")
        header = block[start]
        assert header[1:5] == (["迁徙率", "损失率", "未结金额", "坏账准备"] if lang == "zh" else
                               ["Roll rate to next", "Loss rate", "Open amount", "Provision"])
        assert header[5] == "2025-12→2026-01" and header[15] == "2026-10→2026-11"
        matrix = block[start + 1:start + 15]
        assert matrix[-1][1] is None and matrix[-1][2] == pytest.approx(1 - 0.266)
        for i, r in enumerate(matrix[:-1]):
            # Each loss rate is the roll rate times the next bucket's loss rate, and each ECL
            # the open amount times the loss rate (to the cent).
            assert r[2] == pytest.approx(r[1] * matrix[i + 1][2], abs=2e-6)
        for r in matrix:
            assert float(r[4]) == pytest.approx(float(r[3]) * r[2], abs=0.01 + 1e-5 * r[3])
        totals = block[start + 15]
        assert totals[0] == f"{total} {currency}"
        assert Decimal(str(totals[4])) == sum(Decimal(str(r[4])) for r in matrix)
        # The same open amount as the provision by age, side by side with it.
        method = "迁徙率法（预期信用损失）" if lang == "zh" else "Roll rates (expected credit loss)"
        compared = next(r for r in block if r[0] == f"{method} {currency}")
        assert compared[3:5] == totals[3:5]
        by_age = next(r for r in rows if str(r[0]) == f"{total} {currency}")
        assert Decimal(str(compared[3])) == Decimal(str(by_age[rows[2].index(
            "未结金额" if lang == "zh" else "Open amount")]))


def test_the_dashboard_shows_the_recorded_aging_per_bucket(year_closed):
    path, lang, _ = year_closed
    sheet = openpyxl.load_workbook(path, data_only=True)["Dashboard"]
    rows = [list(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
    title = "已记录月末的账龄分布（账龄趋势）" if lang == "zh" else (
        "Aging per bucket at the recorded month-ends (the aging trend)")
    start = next(i for i, r in enumerate(rows) if r[0] == title)
    header, body = rows[0], {r[0]: r for r in rows[1:start] if r[0]}
    trend = [r for r in rows[start + 2:] if r[0]]
    assert len(rows[start + 1]) >= 9 and rows[start + 1][2] == ("未到期" if lang == "zh" else
                                                                "Current")  # fmt: skip
    assert len(trend) == len(body) == 12 * 3  # every month-end recorded, each currency
    current, overdue = (header.index("未到期" if lang == "zh" else "Not yet due"),
                        header.index("逾期金额" if lang == "zh" else "Overdue"))  # fmt: skip
    for row in trend:  # each recorded month-end's buckets add up to current + overdue
        total = sum(Decimal(str(v)) for v in row[2:9])
        kpis = body[row[0]]
        assert total == Decimal(str(kpis[current])) + Decimal(str(kpis[overdue])), row[0]


def test_the_matrix_window_counts_only_month_ends_recorded():
    assert roll_rates.matrix_window(["2026-11"]) [1] == 1
