"""Invariants on random ledgers: nothing is dropped, and the ladder never falls as days rise."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_addin.core.escalation import BLANK_CODE, stage_codes
from xl_addin.core.ledger import _find_documents, age_ledger
from xl_addin.core.policy import DEFAULT_POLICY

AS_OF = dt.date(2026, 11, 30)
START = np.datetime64("2024-01-01", "D")

document = st.tuples(
    st.integers(0, 3),  # customer
    st.sampled_from(["INV", "INV", "INV", "PAY", "PAY", "CRN", "ADJ"]),
    st.integers(0, 1200),  # doc date, days after START
    st.one_of(st.none(), st.integers(-10, 120)),  # terms in days (None: blank due date)
    st.integers(-500_000, 5_000_000),  # cents
    st.booleans(),  # applies to an earlier invoice
    st.booleans(),  # disputed
)


def build(docs):
    rows, invoices = [], {}
    for n, (customer, kind, day, terms, cents, apply, disputed) in enumerate(docs):
        cid = f"C{customer}"
        doc_date = START + day
        amount = cents if kind == "ADJ" else abs(cents)
        applies = ""
        if kind in ("PAY", "CRN") and apply and invoices.get(cid):
            applies = invoices[cid][n % len(invoices[cid])]
        rows.append(
            {
                "customer_id": cid, "doc_type": kind, "doc_no": f"D{n}", "doc_date": doc_date,
                "due_date": np.datetime64("NaT", "D") if terms is None else doc_date + terms,
                "amount_cents": amount, "applies_to": applies, "currency": "CNY",
                "disputed": disputed and kind == "INV",
            }
        )  # fmt: skip
        if kind == "INV":
            invoices.setdefault(cid, []).append(f"D{n}")
    ledger = pd.DataFrame(rows)
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(4)],
            "segment": ["Standard", "Strategic", "Watch", ""],
            "currency": "CNY",
            "credit_limit_cents": [0, 10**6, 10**8, 5 * 10**6],
            "payment_terms_days": [30.0, np.nan, 60.0, 0.0],
            "open_orders_cents": [0, 0, 5000, 0],
            "promise_date": np.array(["NaT", "2026-11-01", "NaT", "2026-12-01"], "datetime64[D]"),
            "promise_amount_cents": [np.nan, 1000.0, np.nan, np.nan],
            "last_stage": ["", "Phone call", "", "Final notice"],
            "last_contact_date": np.array(["NaT"] * 4, "datetime64[D]"),
        }
    )
    return ledger, customers


@settings(max_examples=150, deadline=None)
@given(st.lists(document, min_size=1, max_size=40))
def test_balance_is_buckets_plus_unapplied_and_equals_the_signed_documents(docs):
    ledger, customers = build(docs)
    result = age_ledger(ledger, customers, AS_OF, DEFAULT_POLICY)
    summary = result.customers.set_index("customer_id")
    buckets = summary[[f"bucket:{label}" for label in result.labels]].sum(axis=1)
    assert (summary["balance_cents"] == buckets + summary["unapplied_cents"]).all()
    assert (summary["unapplied_cents"] <= 0).all()

    in_scope = ledger["doc_date"].to_numpy() <= np.datetime64(AS_OF, "D")
    sign = np.where(ledger["doc_type"].isin(["INV", "ADJ"]), 1, -1)
    signed = pd.Series(np.where(in_scope, ledger["amount_cents"] * sign, 0))
    expected = signed.groupby(ledger["customer_id"]).sum()
    for customer, total in expected.items():
        assert summary.loc[customer, "balance_cents"] == total  # invoices - settlements
    open_by_customer = result.items["open_cents"].groupby(ledger["customer_id"]).sum()
    for customer, total in open_by_customer.items():
        assert summary.loc[customer, "balance_cents"] == total

    debit = result.items["is_debit"].to_numpy()
    open_cents = result.items["open_cents"].to_numpy()
    amount = np.abs(ledger["amount_cents"].to_numpy())
    assert ((open_cents[debit] >= 0) & (open_cents[debit] <= amount[debit])).all()
    assert (open_cents[~debit & in_scope] <= 0).all()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-400, 4000), min_size=2, max_size=30),
    st.integers(-20, 20),
    st.one_of(st.none(), st.integers(0, 10**8)),
)
def test_the_stage_never_falls_as_days_overdue_rise(days, offset, amount):
    days = np.sort(np.array(days, dtype=float))
    codes = stage_codes(
        days,
        DEFAULT_POLICY,
        days_offset=offset,
        amount_cents=None if amount is None else np.full(len(days), float(amount)),
    )
    codes = codes[codes != BLANK_CODE]
    assert (np.diff(codes) >= 0).all()


numbers = st.lists(st.sampled_from(["", "N1", "N2", "N10", "n1", "发票1", "N1 "]), max_size=12)


@given(numbers, numbers)
def test_documents_are_found_by_their_exact_number_first_occurrence_first(doc_no, wanted):
    doc_no, wanted = np.array(doc_no, dtype=object), np.array(wanted, dtype=object)
    first = {}
    for i, number in enumerate(doc_no):
        first.setdefault(number, i)
    expected = [first.get(w, -1) for w in wanted]
    assert list(_find_documents(doc_no, wanted)) == expected
