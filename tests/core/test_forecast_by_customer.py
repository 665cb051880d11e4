"""The forecast's whole-ledger arithmetic agrees with the same rules applied one customer
at a time, as they are stated in core/forecast.py.

paid_dates, habits and settlement_cycles work on every customer at once (a refresh of a
million rows has 60,000 customers; a loop over them cost 2-3 minutes). The references
below are the plain per-customer reading of the rules, kept only as the oracle.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.bench_forecast import history
from xl_addin.core import forecast

DAY = np.timedelta64(1, "D")


def reference_paid(ledger: pd.DataFrame, as_of: dt.date) -> dict[int, np.datetime64]:
    """Ledger row -> the date the customer's credits, first in first out, complete it."""
    out = {}
    as_of64 = np.datetime64(as_of, "D")
    doc = ledger["doc_date"].to_numpy(dtype="datetime64[D]")
    due = ledger["due_date"].to_numpy(dtype="datetime64[D]")
    due = np.where(np.isnat(due), doc + 30 * DAY, due)
    amount = ledger["amount_cents"].to_numpy(dtype=np.int64)
    kind = ledger["doc_type"].to_numpy(dtype=object)
    debit = (kind == "INV") | ((kind == "ADJ") & (amount >= 0))
    for customer in pd.unique(ledger["customer_id"]):
        mine = (ledger["customer_id"] == customer).to_numpy() & (doc <= as_of64)
        invoices = sorted(np.flatnonzero(mine & debit), key=lambda r: (due[r], r))
        credits = sorted(np.flatnonzero(mine & ~debit), key=lambda r: (doc[r], r))
        reach, paid = 0, []
        for r in credits:
            reach += abs(int(amount[r]))
            paid.append((reach, doc[r]))
        owed = 0
        for r in invoices:
            owed += abs(int(amount[r]))
            out[r] = next((d for total, d in paid if total >= owed), np.datetime64("NaT"))
    return out


def reference_cycle(invoices: pd.DataFrame, customer: str, as_of: dt.date):
    """(months, day) of one customer's settlement cycle, or (-1, -1)."""
    paid = invoices["paid"].to_numpy(dtype="datetime64[D]")
    since = np.datetime64(as_of, "D") - 365 * DAY
    mine = (invoices["customer_id"] == customer).to_numpy() & ~np.isnat(paid) & (paid >= since)
    paid, doc = paid[mine], invoices["doc"].to_numpy(dtype="datetime64[D]")[mine]
    if len(np.unique(doc.astype("datetime64[M]"))) < forecast.MIN_CYCLE_MONTHS:
        return -1, -1
    lags = (paid.astype("datetime64[M]") - doc.astype("datetime64[M]")).astype(int)
    usual = int(np.bincount(np.maximum(lags, 0)).argmax())
    if not (lags == usual).any():
        return -1, -1
    day = round(float(np.median([p.astype(object).day for p in paid[lags == usual]])))
    runs = [forecast._day_of(np.array([p.astype("datetime64[M]")]), np.array([day]))[0]
            for p in paid]  # fmt: skip
    on = (lags == usual) & (np.abs((paid - np.array(runs)).astype(int)) <= 2)
    days = [d.astype(object).day for d in doc[on]]
    spread = max(days) - min(days) if days else 0
    return (usual, day) if on.mean() >= forecast.SHARE and spread >= forecast.MIN_SPREAD else (
        -1, -1)  # fmt: skip


def reference_late(invoices: pd.DataFrame, customers: pd.DataFrame, as_of: dt.date,
                   prior: float = 3.0) -> dict[str, float]:  # fmt: skip
    """Customer -> median days late, shrunk toward its segment's (else the branch's)."""
    paid = invoices["paid"].to_numpy(dtype="datetime64[D]")
    done = ~np.isnat(paid) & (paid >= np.datetime64(as_of, "D") - 365 * DAY)
    late = ((paid - invoices["due"].to_numpy(dtype="datetime64[D]")) / DAY)[done]
    who = invoices["customer_id"].to_numpy(dtype=object)[done]
    segment = dict(zip(customers["customer_id"], customers["segment"], strict=True))
    branch = float(np.median(late)) if len(late) else np.nan
    out = {}
    for customer in customers["customer_id"]:
        peers = late[[segment[w] == segment[customer] for w in who]]
        base = float(np.median(peers)) if len(peers) else branch
        own = late[who == customer]
        n = len(own)
        out[customer] = base if not n else float(np.median(own)) if np.isnan(base) else (
            (n * float(np.median(own)) + prior * base) / (n + prior))  # fmt: skip
    return out


def agree(ledger: pd.DataFrame, customers: pd.DataFrame, as_of: dt.date) -> None:
    invoices = forecast.paid_dates(ledger, as_of)
    expected = reference_paid(ledger, as_of)
    assert sorted(invoices["row"]) == sorted(expected)
    for row, paid in zip(invoices["row"], invoices["paid"].to_numpy("datetime64[D]"),
                         strict=True):  # fmt: skip
        assert (np.isnat(paid) and np.isnat(expected[row])) or paid == expected[row], row
    habit = forecast.habits(invoices, customers, as_of)
    late = reference_late(invoices, customers, as_of)
    for customer, days in habit.days_late.items():
        assert (np.isnan(days) and np.isnan(late[customer])) or days == pytest.approx(
            late[customer], abs=1e-9), customer  # fmt: skip
    for k, customer in enumerate(customers["customer_id"]):
        found = (int(habit.cycle.months[k]), int(habit.cycle.day[k]))
        assert found == reference_cycle(invoices, customer, as_of), customer


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("as_of", [dt.date(2026, 11, 30), dt.date(2026, 6, 30)])
def test_cycles_habits_and_paid_dates_agree_with_one_customer_at_a_time(seed, as_of):
    ledger, customers, _ = history(60, seed)  # a fifth of them settle in cycles
    agree(ledger, customers, as_of)


DAYS = st.integers(0, 400)


@st.composite
def ledgers(draw):
    """Small ledgers of invoices, payments, credit notes and adjustments of either sign,
    with blank due dates, zero amounts and same-day documents."""
    rows = []
    for n in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["INV", "INV", "PAY", "CRN", "ADJ"]))
        doc = dt.date(2026, 1, 1) + dt.timedelta(days=draw(DAYS))
        due = draw(st.none() | st.just(doc + dt.timedelta(days=draw(st.integers(0, 60)))))
        cents = draw(st.integers(-50_000, 200_000) if kind == "ADJ" else st.integers(0, 200_000))
        rows.append((draw(st.sampled_from("ABC")), kind, f"D{n}", doc, due, cents))
    ledger = pd.DataFrame(rows, columns=["customer_id", "doc_type", "doc_no", "doc_date",
                                         "due_date", "amount_cents"])  # fmt: skip
    for column in ("doc_date", "due_date"):
        ledger[column] = pd.to_datetime(ledger[column])
    return ledger


@settings(max_examples=150, deadline=None)
@given(ledger=ledgers(), as_of_day=DAYS)
def test_any_small_ledger_agrees_with_one_customer_at_a_time(ledger, as_of_day):
    customers = pd.DataFrame({"customer_id": ["A", "B", "C", "D"],
                              "segment": ["Standard", "Watch", "Standard", "Watch"]})
    agree(ledger, customers, dt.date(2026, 1, 1) + dt.timedelta(days=as_of_day))
