"""`credit-control close`: the Provision and Dashboard sheets, read back from the file."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from xl_addin.cli import app
from xl_addin.core import kpis
from xl_addin.core.policy import DEFAULT_PROVISION
from xl_addin.core.risk import REASON_NAMES
from xl_addin.services.book import load_book
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.refresh import compute

AS_OF = dt.date(2026, 11, 30)
runner = CliRunner()


@pytest.fixture(params=["en", "zh"])
def closed(request, tmp_path):
    data = make_demo_data(AS_OF, 25)
    path = tmp_path / "branch.xlsx"
    new_workbook(path, language=request.param, branch="SH", as_of=AS_OF,
                 customers=data.customers, ledger=data.ledger,
                 settings={**data.settings, "Language": request.param})  # fmt: skip
    result = runner.invoke(app, ["close", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return path, request.param, json.loads(result.stdout)


def expected_provision(path) -> dict[str, Decimal]:
    """Every open item's amount x the rate of its age band (from the document date), worked
    here with Decimal, per currency."""
    result = compute(path)
    items, ledger = result.aging.items, result.loaded.ledger
    currency = dict(zip(result.loaded.customers["customer_id"],
                        result.loaded.customers["currency"], strict=True))  # fmt: skip
    totals: dict[str, Decimal] = {}
    for open_cents, in_scope, customer, doc_date in zip(
            items["open_cents"], items["in_scope"], ledger["customer_id"], ledger["doc_date"],
            strict=True):  # fmt: skip
        if not in_scope or open_cents <= 0:
            continue
        age = (AS_OF - doc_date.date()).days
        rate = [r for start, r in DEFAULT_PROVISION if start <= age][-1] if age >= 0 else (
            DEFAULT_PROVISION[0][1])  # fmt: skip
        amount = (Decimal(int(open_cents)) * rate).quantize(Decimal(1), ROUND_HALF_UP)
        totals[currency[customer]] = totals.get(currency[customer], Decimal(0)) + amount / 100
    return totals


def test_the_provision_sheet_totals_are_the_items_by_age(closed):
    path, lang, _ = closed
    sheet = openpyxl.load_workbook(path, data_only=True)["Provision"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    total = "合计" if lang == "zh" else "Total"
    header = rows[2]
    last = max(i for i, h in enumerate(header) if h is not None)  # the table's last column
    found = {r[2]: Decimal(str(r[last])) for r in rows if str(r[0]).startswith(total)}
    expected = expected_provision(path)
    assert found == {c: v for c, v in expected.items() if v}
    assert ("1年以内 坏账准备 5%" if lang == "zh" else "0-365 days Provision 5%") in header


def test_the_dashboard_shows_the_kpis_of_twelve_month_ends(closed):
    path, lang, answer = closed
    loaded = load_book(path)
    months = kpis.history(loaded.ledger, loaded.customers, AS_OF, loaded.book.policy)
    assert len(answer["months"]) == len(months) and len({m["end"] for m in answer["months"]}) == 12
    sheet = openpyxl.load_workbook(path, data_only=True)["Dashboard"]
    rows = [list(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
    header, body = rows[0], rows[1:rows.index([None] * len(rows[0]))]  # the table: to a blank
    dso = header.index("应收账款周转天数（DSO）" if lang == "zh" else "DSO (days)")
    by_label = {r[0]: r for r in body}
    for month in months:
        row = by_label[f"{month.end:%Y-%m-%d} {month.currency}"]
        assert Decimal(str(row[header.index("应收余额" if lang == "zh" else "Receivables")])) == (
            Decimal(month.receivables) / 100)
        assert row[dso] == (None if month.dso is None else round(month.dso, 1))
    # A native chart of the current and overdue receivables per month-end.
    with zipfile.ZipFile(path) as archive:
        charts = [archive.read(n) for n in archive.namelist() if n.startswith("xl/charts/chart")]
    assert any(b"'Dashboard'!" in chart and b"<barChart>" in chart for chart in charts)


def test_the_forecast_places_every_open_amount_in_a_week_or_later(closed):
    """Thirteen weeks of expected collections per currency, and 'later': together they are
    every open item's open amount."""
    path, lang, _ = closed
    result = compute(path)
    items, ledger = result.aging.items, result.loaded.ledger
    currency = dict(zip(result.loaded.customers["customer_id"],
                        result.loaded.customers["currency"], strict=True))  # fmt: skip
    expected: dict[str, Decimal] = {}
    for cents, in_scope, customer in zip(items["open_cents"], items["in_scope"],
                                         ledger["customer_id"], strict=True):  # fmt: skip
        if in_scope and cents > 0:
            expected[currency[customer]] = expected.get(currency[customer], 0) + Decimal(
                int(cents)) / 100
    sheet = openpyxl.load_workbook(path, data_only=True)["Forecast"]
    rows = [list(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
    header, body = rows[0], [r for r in rows[1:] if r[0] is not None]
    weeks = [r for r in body if isinstance(r[0], int)]
    assert [r[0] for r in weeks] == list(range(1, 14))
    total = next(r for r in body if r[0] == ("合计" if lang == "zh" else "Total"))
    for code, amount in expected.items():
        column = header.index(code)
        assert Decimal(str(total[column])) == amount
        listed = sum(Decimal(str(r[column])) for r in body if r is not total)
        assert listed == amount


def test_the_broken_promise_rate_of_a_month(tmp_path):
    """Two customers promised to pay in November: one paid, one did not: 50% broken."""
    import pandas as pd

    from xl_addin.services.cockpit import broken_promise_rates

    data = make_demo_data(AS_OF, 25)
    customers = data.customers.copy()
    customers["PromiseDate"], customers["PromiseAmount"] = None, None
    customers["LastStage"], customers["LastContactDate"] = "", None
    cny = customers.index[customers["Currency"] == "CNY"][:2]
    kept, broken = customers.loc[cny, "CustomerID"]
    customers.loc[cny, "PromiseDate"] = dt.date(2026, 11, 20)
    customers.loc[cny, "PromiseAmount"] = Decimal("100.00")
    payment = {"CustomerID": kept, "DocType": "PAY", "DocNo": "PAY-KEPT",
               "DocDate": dt.date(2026, 11, 18), "Amount": Decimal("150.00"), "Currency": "CNY"}
    ledger = data.ledger[~((data.ledger["DocType"] == "PAY")
                           & data.ledger["CustomerID"].isin([kept, broken])
                           & (data.ledger["DocDate"] >= dt.date(2026, 10, 1)))]  # fmt: skip
    ledger = pd.concat([ledger, pd.DataFrame([payment])], ignore_index=True)
    path = tmp_path / "branch.xlsx"
    new_workbook(path, language="en", branch="SH", as_of=AS_OF, customers=customers,
                 ledger=ledger, settings={**data.settings, "Language": "en"})  # fmt: skip
    rates = broken_promise_rates(compute(path), [dt.date(2026, 10, 31), AS_OF])
    assert rates == {(AS_OF, "CNY"): 0.5}


def test_promises_read_from_the_promisers_payments_stand_as_from_the_whole_ledger(tmp_path):
    """broken_promise_rates asks about twelve month-ends: it gives promise_states only the
    payments of the customers who promised, which must change nothing."""
    import numpy as np

    from xl_addin.core.contacts import promise_payments, promise_states

    data = make_demo_data(AS_OF, 120)
    path = tmp_path / "branch.xlsx"
    new_workbook(path, language="en", branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings={**data.settings, "Language": "en"})  # fmt: skip
    state = compute(path).state
    payments = promise_payments(state.contacts, state.ledger)
    assert 0 < len(payments) < len(state.ledger)
    promised = 0
    for end in [*kpis.month_ends(AS_OF, 12), dt.date(2026, 11, 15)]:
        day = np.datetime64(end, "D")
        expected = promise_states(state.contacts, state.ledger, day)
        pd.testing.assert_frame_equal(promise_states(state.contacts, payments, day), expected)
        promised += len(expected)
    assert promised


def test_close_json_gives_both_provisions_the_worklist_and_where_each_month_comes_from(tmp_path):
    data = make_demo_data(AS_OF, 25)
    path = tmp_path / "branch.xlsx"
    new_workbook(path, language="zh", branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings={**data.settings, "Language": "zh"})  # fmt: skip
    result = runner.invoke(app, ["close", str(path), "--backfill", "12", "--format", "json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    provision = answer["provision"]
    assert provision["roll_rates_ready"] and len(provision["window"]) == 12
    by_age = expected_provision(path)
    for entry in provision["currencies"]:
        assert Decimal(str(entry["by_age"]["provision"])) == by_age.get(entry["currency"], 0)
        ecl = entry["roll_rates"]
        buckets = ecl["buckets"]
        assert buckets[0]["bucket"] == "Current" and buckets[-1]["roll_rate"] is None
        assert sum(Decimal(str(b["ecl"])) for b in buckets) == Decimal(str(ecl["ecl"]))
        assert ecl["open"] == entry["by_age"]["open"]  # the same open amount, two methods
        for b in buckets:  # each bucket's ECL is its open amount times its loss rate
            assert b["ecl"] == pytest.approx(b["open"] * b["loss_rate"], abs=0.01)
    # The worklist: reasons by key and as the Risk sheet words them (the workbook's language).
    assert answer["risk"], "the demo has customers whose paying gets worse"
    first = answer["risk"][0]
    assert first["score"] >= 2 and first["suggested_review"] and first["review"]
    assert all(r["key"] in REASON_NAMES["zh"] and r["text"] for r in first["reasons"])
    sheet = openpyxl.load_workbook(path, data_only=True)["Risk"]
    texts = {r[9] for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert {r["text"] for a in answer["risk"] for r in a["reasons"]} <= texts
    # Eleven month-ends reconstructed by the backfill, November recorded by this close; the
    # Dashboard says which, and its overdue share stays within 100%.
    sources = [m["source"] for m in answer["months"] if m["currency"] == "CNY"]
    assert sources == ["reconstructed"] * 11 + ["recorded"]
    assert all(0 <= m["overdue_share"] <= 1 for m in answer["months"] if m["overdue_share"])
    assert all(0 <= m["top10_share"] <= 1 for m in answer["months"] if m["top10_share"])
    dashboard = openpyxl.load_workbook(path, data_only=True)["Dashboard"]
    rows = [list(r) for r in dashboard.iter_rows(min_row=3, values_only=True)]
    column = rows[0].index("来源")
    table = rows[1:rows.index([None] * len(rows[0]))]  # the block under it after a blank row
    assert {r[column] for r in table} == {"按台账补建", "月末记录"} and len(table) == 36


@pytest.mark.parametrize("lang, day", [("zh", "2026年9月5日"), ("en", "5 September 2026")])
def test_sheet_titles_date_as_the_documents_do(lang, day):
    """2026年9月5日 and 5 September 2026, as letters and statements write them: not the
    zero-padded 2026年09月05日, nor a month name from the machine's locale."""
    from xl_addin.services import cockpit
    from xl_addin.services.report import date_text  # the meeting pack's dates

    as_of = dt.date(2026, 9, 5)
    empty = pd.DataFrame(columns=["week", "from", "currency", "cents"])
    assert f" {day}" in cockpit.dashboard_sheet([], as_of, lang).title
    assert f" {day}" in cockpit.forecast_sheet(empty, as_of, lang).title
    assert date_text(as_of, lang) == day
