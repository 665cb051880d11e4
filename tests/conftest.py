"""Shared helpers: small ledgers written inline as tables, in the engine's columns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

NAT = np.datetime64("NaT", "D")


def _date(text: str | None) -> np.datetime64:
    return NAT if not text else np.datetime64(text, "D")


def _cents(amount: str | None) -> float:
    return np.nan if amount in (None, "") else int(Decimal(amount) * 100)


def ledger_frame(text: str) -> pd.DataFrame:
    """Parse `customer type docno docdate duedate amount [appliesto] [disputed]` lines."""
    rows = []
    for line in text.strip().splitlines():
        parts = line.split()
        parts += ["-"] * (8 - len(parts))
        customer, kind, doc_no, doc_date, due, amount, applies, disputed = parts
        rows.append(
            {
                "customer_id": customer,
                "doc_type": kind,
                "doc_no": doc_no,
                "doc_date": _date(doc_date),
                "due_date": _date(None if due == "-" else due),
                "amount_cents": int(Decimal(amount) * 100),
                "applies_to": "" if applies == "-" else applies,
                "currency": "CNY",
                "disputed": disputed == "D",
            }
        )
    frame = pd.DataFrame(rows)
    frame["row"] = np.arange(2, len(frame) + 2)
    frame.attrs = {"sheet": "Ledger", "letters": {"customer_id": "A", "doc_no": "C"}}
    return frame


def customers_frame(*rows: dict) -> pd.DataFrame:
    """Build customers; each row gives customer_id and any field that differs from defaults."""
    defaults = {
        "segment": "Standard",
        "currency": "CNY",
        "credit_limit": "100000",
        "payment_terms_days": np.nan,
        "open_orders": "0",
        "promise_date": None,
        "promise_amount": None,
        "last_stage": "",
        "last_contact_date": None,
        "name": "",
    }
    records = []
    for row in rows:
        r = defaults | row
        records.append(
            {
                "customer_id": r["customer_id"],
                "name": r["name"],
                "segment": r["segment"],
                "currency": r["currency"],
                "credit_limit_cents": int(_cents(r["credit_limit"])),
                "payment_terms_days": r["payment_terms_days"],
                "open_orders_cents": int(_cents(r["open_orders"])),
                "promise_date": _date(r["promise_date"]),
                "promise_amount_cents": _cents(r["promise_amount"]),
                "last_stage": r["last_stage"],
                "last_contact_date": _date(r["last_contact_date"]),
            }
        )
    frame = pd.DataFrame(records)
    frame["row"] = np.arange(2, len(frame) + 2)
    frame.attrs = {"sheet": "Customers", "letters": {"customer_id": "A"}}
    return frame


@pytest.fixture
def as_of() -> dt.date:
    return dt.date(2026, 11, 30)
