"""`credit-control report`: the meeting pack through the CLI to a real PDF (LibreOffice), read
back with pdftotext; the Risk sheet `close` writes; bad input writes nothing."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess

import openpyxl
import pytest
from typer.testing import CliRunner

from xl_addin.cli import app
from xl_addin.core import kpis
from xl_addin.core.money import to_decimal
from xl_addin.core.risk import REVIEWS, reason_text, worklist
from xl_addin.documents.pdf import soffice
from xl_addin.services import cockpit
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.refresh import compute
from xl_addin.services.risk import HEADERS, assessments

AS_OF = dt.date(2026, 11, 30)
runner = CliRunner()
needs_office = pytest.mark.skipif(
    soffice() is None or shutil.which("pdftotext") is None,
    reason="needs LibreOffice and poppler-utils (pdftotext)",
)


def make(folder, lang: str):
    data = make_demo_data(AS_OF, 25)
    path = folder / f"branch-{lang}.xlsx"
    new_workbook(path, language=lang, branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings={**data.settings, "Language": lang})  # fmt: skip
    return path


def pdf_text(pdf) -> str:
    found = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    return found


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def money(cents: int) -> str:
    return f"{to_decimal(int(cents)):,}"


@pytest.fixture(scope="module", params=["en", "zh"])
def pack(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"report-{request.param}")
    path = make(folder, request.param)
    result = runner.invoke(app, ["report", str(path), "--out", str(folder / "out"),
                                 "--format", "json"])  # fmt: skip
    return path, request.param, result


@needs_office
def test_the_pack_is_one_pdf_with_the_months_figures(pack):
    path, lang, result = pack
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    pdf = path.parent / "out" / ("SH 信用管理月度会议 2026-11.pdf" if lang == "zh" else
                                 "SH credit meeting 2026-11.pdf")  # fmt: skip
    assert answer["file"] == str(pdf) and answer["as_of"] == "2026-11-30" and pdf.exists()
    text = pdf_text(pdf)
    flat = squeezed(text)
    computed = compute(path)
    months = kpis.history(computed.loaded.ledger, computed.loaded.customers, AS_OF,
                          computed.loaded.book.policy)  # fmt: skip
    latest = [m for m in months if m.end == AS_OF]
    for m in latest:  # the summary and the KPI table give this month's receivables and DSO
        assert money(m.receivables) in text and money(m.overdue) in text
        assert f"{m.dso:,.1f}" in text
    provision = cockpit.provision_frame(computed)
    for currency, part in provision.groupby("currency"):
        total = int(part.filter(like="provision:").to_numpy().sum())
        assert money(total) in text, currency
    found = assessments(computed)
    assert answer["at_risk"] == len(found) > 0
    loaded, state = computed.loaded, computed.state  # the refresh's aging, or aged afresh
    assert found == worklist(state.ledger, loaded.customers, state.contacts, AS_OF,
                             loaded.book.policy, due=computed.aging.items["due_date"])
    worst = found[0]
    assert worst.customer_id in text
    assert squeezed(REVIEWS[lang][worst.review]) in flat
    assert squeezed(reason_text(worst.reasons[0], lang, worst.currency)) in flat
    titles = (("信用管理月度会议资料", "账龄分析", "坏账准备", "近12个月末关键指标", "应收余额趋势",
               "未来13周预计回款", "风险客户清单") if lang == "zh" else
              ("Monthly credit meeting", "Aged receivables by currency", "Bad-debt provision",
               "Key figures of the last twelve month-ends", "Trend of receivables",
               "Expected collections, next 13 weeks", "Risk worklist"))  # fmt: skip
    assert all(squeezed(title) in flat for title in titles)
    assert "█" in text  # the trend chart's bars
    assert ("第1页，共" if lang == "zh" else "page1of") in flat


@needs_office
def test_a_second_pack_of_the_month_keeps_the_first(pack):
    path, _, first = pack
    assert first.exit_code == 0, first.output
    folder = path.parent / "out"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    again = runner.invoke(app, ["report", str(path), "--out", str(folder)])
    assert again.exit_code == 0, again.output
    added = sorted({p.name for p in folder.iterdir()} - set(before))
    assert len(added) == 1 and added[0].endswith(" (2).pdf"), added
    assert all((folder / name).read_bytes() == data for name, data in before.items())
    assert "already exists and is kept" in again.stdout


@needs_office
def test_period_reports_as_of_that_month_end(tmp_path):
    path = make(tmp_path, "en")
    result = runner.invoke(app, ["report", str(path), "--period", "2026-10", "--out",
                                 str(tmp_path / "out"), "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["as_of"] == "2026-10-31" and answer["file"].endswith("SH credit meeting "
                                                                       "2026-10.pdf")
    text = pdf_text(answer["file"])
    assert "as of 31 October 2026" in text and "30 November" not in text
    october = compute(path, dt.date(2026, 10, 31))
    summary = october.aging.customers
    assert money(int(summary["balance_cents"][october.loaded.customers["currency"] == "GBP"]
                     .sum())) in text  # fmt: skip


def test_as_of_reports_as_of_that_day_as_close_takes_it(tmp_path):
    """`report --as-of`, as `close --as-of`: the pack is as of that day, not the workbook's
    Settings.AsOfDate."""
    path = make(tmp_path, "en")
    result = runner.invoke(app, ["report", str(path), "--as-of", "2026-11-15", "--out",
                                 str(tmp_path / "out"), "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["as_of"] == "2026-11-15" and answer["file"].endswith("2026-11-15.pdf")
    assert "as of 15 November 2026" in pdf_text(answer["file"])


@pytest.mark.parametrize("arguments, message", [
    (["--period", "2026-13"], '--period: period "2026-13" is not a month written YYYY-MM'),
    (["--period", "2099-01"], "--period: 2099-01 has not ended"),
])  # fmt: skip
def test_bad_period_exits_1_and_writes_nothing(tmp_path, arguments, message):
    path = make(tmp_path, "en")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = runner.invoke(app, ["report", str(path), *arguments])
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_missing_or_invalid_workbook_exits_1_and_writes_nothing(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path / "nowhere.xlsx")])
    assert result.exit_code == 1 and "nowhere.xlsx" in result.stderr
    path = make(tmp_path, "en")
    book = openpyxl.load_workbook(path)
    sheet = book["Ledger"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in range(1, 6) if sheet.cell(r, 1).value == "CustomerID") if (
        "CustomerID" not in header) else 1  # fmt: skip
    header = [c.value for c in sheet[row]]
    column = header.index("Amount") + 1
    sheet.cell(row + 1, column).value = "12,3x"
    book.save(path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 1, result.output
    assert re.search(r"Ledger!\w+\d+: ", result.stderr), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_close_writes_the_risk_sheet_worst_first(tmp_path, lang):
    path = make(tmp_path, lang)
    result = runner.invoke(app, ["close", str(path)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(path, data_only=True)["Risk"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0].startswith("风险客户清单" if lang == "zh" else "Risk worklist")
    assert tuple(rows[2]) == HEADERS[lang]
    found = assessments(compute(path))
    body = rows[3:]
    assert [r[1] for r in body if r[3] is not None] == [a.customer_id for a in found]
    scores = [r[7] for r in body if r[7] is not None]
    assert scores == sorted(scores, reverse=True)
    worst = found[0]
    assert [r[9] for r in body if r[0] == 1] == [reason_text(x, lang, worst.currency)
                                                 for x in worst.reasons]  # fmt: skip
    assert body[0][8] == REVIEWS[lang][worst.review]
    keys = set(REVIEWS[lang]) | {"hold_orders", "over_limit", "lateness"}
    assert not any(str(v) in keys for r in body for v in r)  # no raw keys where people read
