"""The month-end KPIs on a ledger worked by hand (docs/kpis.md gives the definitions)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import customers_frame, ledger_frame
from xl_addin.core import kpis
from xl_addin.core.ledger import age_ledger
from xl_addin.core.policy import DEFAULT_POLICY
from xl_addin.core.snapshots import POLICY_LADDER, snapshot_rows

AS_OF = dt.date(2026, 11, 30)
# One customer. September: invoice 3,000.00 (due 10 October), paid in full on 20 October.
# October: invoice 2,000.00 (due 4 November), still open. November: invoice 1,000.00 (due
# 20 December). A second customer, in GBP, keeps the currencies apart.
LEDGER = """
A INV I1 2026-09-10 2026-10-10 3000.00
A PAY P1 2026-10-20 -          3000.00 I1
A INV I2 2026-10-05 2026-11-04 2000.00
A INV I3 2026-11-20 2026-12-20 1000.00
B INV G1 2026-11-02 2026-12-02 500.00
"""


@pytest.fixture(scope="module")
def months():
    ledger = ledger_frame(LEDGER)
    ledger.loc[ledger["customer_id"] == "B", "currency"] = "GBP"
    customers = customers_frame({"customer_id": "A"}, {"customer_id": "B", "currency": "GBP"})
    found = kpis.history(ledger, customers, AS_OF, DEFAULT_POLICY, months=3)
    return {(m.currency, m.end): m for m in found}


def test_dso_by_countback_best_possible_and_days_delinquent(months):
    november = months[("CNY", AS_OF)]
    # Receivables 3,000.00 = I2 2,000.00 (26 days overdue) + I3 1,000.00 (not due).
    assert (november.receivables, november.current, november.overdue) == (300000, 100000,
                                                                           200000)  # fmt: skip
    # Countback: November's 1,000.00 of sales covers 30 days and leaves 2,000.00; October's
    # 2,000.00 of sales covers exactly that: 31 days more. DSO 61.
    assert november.dso == pytest.approx(61.0)
    # Best possible: the 1,000.00 not yet due is November's sales: 30 days. ADD = 31.
    assert november.best_dso == pytest.approx(30.0) and november.add == pytest.approx(31.0)
    assert november.overdue_share == pytest.approx(2 / 3) and november.top10 == 1.0


def test_collection_effectiveness_month_by_month(months):
    # October: opened with 3,000.00 (I1, not due), sold 2,000.00, collected 3,000.00, closed
    # with 2,000.00 all current: (3000 + 2000 - 2000) / (3000 + 2000 - 2000) = 100%.
    assert months[("CNY", dt.date(2026, 10, 31))].cei == pytest.approx(100.0)
    # November: opened with 2,000.00, sold 1,000.00, collected nothing, closed with 3,000.00
    # of which 1,000.00 current: (2000 + 1000 - 3000) / (2000 + 1000 - 1000) = 0%.
    assert months[("CNY", AS_OF)].cei == pytest.approx(0.0)
    assert months[("CNY", dt.date(2026, 9, 30))].cei is None  # no opening balance known


def test_each_currency_on_its_own(months):
    gbp = months[("GBP", AS_OF)]
    assert (gbp.receivables, gbp.sales) == (50000, 50000)
    assert gbp.dso == pytest.approx(30.0)  # all of it sold this month: 30 days so far
    assert months[("GBP", dt.date(2026, 10, 31))].receivables == 0


def test_countback_runs_out_and_month_ends():
    assert kpis.countback(100, [(30, 10), (31, 10)]) is None  # more than the history holds
    assert kpis.countback(0, [(30, 10)]) == 0.0
    assert kpis.month_ends(dt.date(2026, 3, 15), 3) == [dt.date(2026, 1, 31),
                                                       dt.date(2026, 2, 28),
                                                       dt.date(2026, 3, 15)]  # fmt: skip


# Unapplied cash on the other side. X owes 1,000.00 overdue; Y paid 1,200.00 against a
# 600.00 invoice, so 600.00 of credit is unapplied; Z owes 500.00 not yet due.
CREDIT = """
X INV X1 2026-09-01 2026-10-01 1000.00
Y INV Y1 2026-10-01 2026-10-31 600.00
Y PAY Y2 2026-11-05 -          1200.00
Z INV Z1 2026-11-10 2026-12-10 500.00
"""


def test_overdue_and_top_ten_shares_are_of_what_is_owed_before_unapplied_credit():
    customers = customers_frame({"customer_id": "X"}, {"customer_id": "Y"},
                                {"customer_id": "Z"})  # fmt: skip
    (month,) = kpis.history(ledger_frame(CREDIT), customers, AS_OF, DEFAULT_POLICY, months=1)
    # Receivables 1,000 - 600 + 500 = 900.00; the open invoices 1,500.00, 600.00 unapplied.
    assert (month.receivables, month.open_invoices, month.unapplied) == (90000, 150000, -60000)
    # Overdue 1,000.00 of 1,500.00 open: 66.7% (netted, 1,000 / 900 would be 111%).
    assert month.overdue_share == pytest.approx(1000 / 1500)
    # Top ten: X and Z owe 1,500.00 between them, all that is owed (1,500 / 900 would be 167%).
    assert month.top10 == pytest.approx(1.0)


def test_a_recorded_month_end_is_given_as_recorded_the_others_from_the_ledger():
    ledger = ledger_frame(LEDGER)
    ledger = ledger[ledger["customer_id"] == "A"]
    customers = customers_frame({"customer_id": "A"})
    october = age_ledger(ledger, customers, dt.date(2026, 10, 31), DEFAULT_POLICY)
    rows = snapshot_rows(october, ledger, customers).assign(period="2026-10")
    recorded = kpis.recorded_months(*summed(rows), {"2026-10": "recorded"})
    # Since then the ledger was purged of the paid September invoice and its payment.
    purged = ledger[~ledger["doc_no"].isin(["I1", "P1"])]
    found = {m.end: m for m in kpis.history(purged, customers, AS_OF, DEFAULT_POLICY, 3,
                                            recorded)}  # fmt: skip
    october = found[dt.date(2026, 10, 31)]
    # As recorded: 2,000.00 owed (I2, not yet due), October's sales 2,000.00.
    assert (october.source, october.receivables, october.current, october.sales) == (
        "recorded", 200000, 200000, 200000)
    # September is not recorded: the purged ledger has nothing then (3,000.00 was owed).
    september = found[dt.date(2026, 9, 30)]
    assert (september.source, september.receivables) == ("ledger", 0)
    # November from the ledger, its CEI opening with October's recorded 2,000.00: 0%.
    assert found[AS_OF].source == "ledger" and found[AS_OF].cei == pytest.approx(0.0)
    assert found[AS_OF].dso == pytest.approx(61.0)


def summed(rows):
    """The snapshot rows summed as the journal sums them (month_end_totals, month_end_balances)."""
    keys = ["period", "currency", "ladder", "bucket"]
    totals = rows.groupby(keys, sort=True)["cents"].sum().reset_index()
    policy = rows[rows["ladder"] == POLICY_LADDER]
    balances = policy.groupby(["period", "currency", "customer_id"])["cents"].sum()
    by_month = {}
    for (period, currency, _), cents in balances.items():
        by_month.setdefault((period, currency), []).append(int(cents))
    return [(*row[:4], int(row[4])) for row in totals.itertuples(index=False)], by_month
