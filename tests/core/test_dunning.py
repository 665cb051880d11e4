"""Who gets what today: one case per rule of the ladder, as a table."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import customers_frame, ledger_frame
from xl_addin.core.dunning import SEND, SKIP, dunning_items, plan_dunning
from xl_addin.core.ledger import age_ledger
from xl_addin.core.policy import DEFAULT_POLICY

AS_OF = dt.date(2026, 11, 30)


def decide(ledger: str, served=None, force=False, **customer):
    customers = customers_frame({"customer_id": "A", **customer})
    customers["dunning_block"] = customer.get("block", False)
    frame = ledger_frame(ledger)
    aging = age_ledger(frame, customers, AS_OF, DEFAULT_POLICY)
    plan = plan_dunning(aging, frame, customers, DEFAULT_POLICY, served, force)
    return plan.iloc[0], aging, frame


# days overdue on 30 Nov: due 2026-11-25 -> 5, 2026-11-05 -> 25, 2026-10-20 -> 41 ...
CASES = [
    # (case, ledger, customer fields, action, stage key, reason contains)
    ("coming due in 5 days", "A INV I1 2026-11-01 2026-12-05 500", {}, SEND,
     "pre_due_reminder", "fall due"),
    ("not due for a while", "A INV I1 2026-11-01 2026-12-30 500", {}, SKIP, "not_due",
     "nothing overdue"),
    ("5 days late", "A INV I1 2026-10-25 2026-11-25 500", {}, SEND, "friendly_reminder", ""),
    ("25 days late", "A INV I1 2026-10-05 2026-11-05 500", {}, SEND, "phone_call", ""),
    ("41 days late", "A INV I1 2026-09-20 2026-10-20 500", {}, SEND, "demand_letter", ""),
    ("first contact is at most a demand letter", "A INV I1 2025-09-01 2025-10-01 500", {},
     SEND, "demand_letter", ""),
    ("one step up from the last stage", "A INV I1 2025-09-01 2025-10-01 500",
     {"last_stage": "Demand letter", "last_contact_date": "2026-11-01"}, SEND, "final_notice", ""),
    ("strategic customers 15 days later", "A INV I1 2026-10-05 2026-11-05 500",
     {"segment": "Strategic"}, SEND, "friendly_reminder", ""),
    ("watch customers 10 days earlier", "A INV I1 2026-10-15 2026-11-15 500",
     {"segment": "Watch"}, SEND, "phone_call", ""),
    ("a broken promise moves one step up", "A INV I1 2026-10-25 2026-11-25 500",
     {"promise_date": "2026-11-20", "promise_amount": "500"}, SEND, "phone_call", "promise"),
    ("disputed items are not dunned", "A INV I1 2026-09-20 2026-10-20 500 - D", {}, SKIP,
     "on_hold", "disputed"),
    ("under the minimum amount", "A INV I1 2026-09-20 2026-10-20 50", {}, SKIP,
     "below_minimum", "minimum"),
    ("dunning block", "A INV I1 2026-09-20 2026-10-20 500", {"block": True}, SKIP,
     "demand_letter", "dunning block"),
    ("at least 7 days between contacts", "A INV I1 2026-09-20 2026-10-20 500",
     {"last_stage": "Phone call", "last_contact_date": "2026-11-27"}, SKIP, "demand_letter",
     "interval"),
    ("nothing open", "A INV I1 2026-09-20 2026-10-20 500\nA PAY P1 2026-10-01 - 500 I1", {},
     SKIP, None, "nothing open"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "ledger", "customer", "action", "key", "reason"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_decision(case, ledger, customer, action, key, reason):
    row, _, _ = decide(ledger, **customer)
    assert (row.action, row.stage_key) == (action, key), row.reason
    assert reason in row.reason


def test_a_customer_served_today_gets_nothing_new_unless_forced():
    ledger = "A INV I1 2026-09-20 2026-10-20 500"
    row, _, _ = decide(ledger, served={"A": 0})
    assert row.action == SKIP and "already served" in row.reason
    row, _, _ = decide(ledger, served={"A": 0}, force=True)
    assert row.action == SEND and row.revision == 1


def test_one_document_lists_every_overdue_undisputed_item_oldest_first():
    ledger = """
A INV I1 2026-09-20 2026-10-20 500
A INV I2 2026-08-20 2026-09-19 300
A INV I3 2026-10-25 2026-11-25 200 - D
A INV I4 2026-11-20 2026-12-20 100
"""
    row, aging, frame = decide(ledger)
    items = dunning_items(aging, frame, "A", row.stage_code, DEFAULT_POLICY)
    assert list(items["doc_no"]) == ["I2", "I1"]
    assert row.amount_cents == 80_000  # what the letter lists: not the disputed 200.00
