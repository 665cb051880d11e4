"""Golden ledgers worked by hand: settlement, aging, credit and stage per customer."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import customers_frame, ledger_frame
from xl_addin.core.ledger import age_ledger
from xl_addin.core.policy import DEFAULT_POLICY


def run(ledger_text, *customers, as_of):
    ledger = ledger_frame(ledger_text)
    result = age_ledger(ledger, customers_frame(*customers), as_of, DEFAULT_POLICY)
    items = result.items.assign(doc_no=ledger["doc_no"]).set_index("doc_no")
    return items, result.customers.set_index("customer_id")


def test_named_payment_excess_and_unapplied_credits_settle_oldest_due_first(as_of):
    # I1 is paid 1,200.00 against 1,000.00: the 200.00 excess joins the unapplied credit
    # (200.00 + C1 300.25 + A1 50.00 = 550.25), which settles I2 (due first) down to 1,950.25.
    items, customers = run(
        """
        X INV I1 2026-05-01 2026-05-31 1000.00
        X INV I2 2026-09-10 2026-10-10 2500.50
        X INV I3 2026-11-20 2026-12-20 800.00
        X PAY P1 2026-06-15 -          1200.00 I1
        X CRN C1 2026-10-01 -          300.25
        X ADJ A1 2026-10-15 -          -50.00
        X ADJ A2 2026-11-01 2026-11-01 75.00
        X INV I4 2026-12-05 2027-01-04 999.00
        """,
        {"customer_id": "X", "credit_limit": "3000"},
        as_of=as_of,
    )
    assert items.loc["I1", "open_cents"] == 0
    assert items.loc["I2", "open_cents"] == 195025
    assert items.loc["I3", "open_cents"] == 80000
    assert items.loc["A2", "open_cents"] == 7500
    assert list(items.loc[["P1", "C1", "A1"], "open_cents"]) == [0, 0, 0]
    assert not items.loc["I4", "in_scope"]  # dated after the as-of date: ignored
    assert items.loc["I2", "days_overdue"] == 51
    assert items.loc["I2", "bucket"] == "31-60"
    assert items.loc["A2", "bucket"] == "1-30"
    assert items.loc["I3", "bucket"] == "Current"
    assert items.loc["I3", "days_overdue"] == -20
    x = customers.loc["X"]
    assert x["balance_cents"] == 282525  # 1000 + 2500.50 + 800 + 75 - 1200 - 300.25 - 50
    assert x["bucket:Current"] + x["bucket:1-30"] + x["bucket:31-60"] == 282525
    assert x["unapplied_cents"] == 0
    assert x["overdue_cents"] == 202525
    assert x["max_days_overdue"] == 51
    assert x["headroom_cents"] == 300000 - 282525
    assert x["credit_status"] == "Near limit"  # 2,825.25 is 94% of 3,000
    assert x["stage"] == "Demand letter"


def test_cash_left_over_is_unapplied_and_stays_on_the_newest_payment(as_of):
    items, customers = run(
        """
        Y INV J1 2026-10-01 2026-10-31 500.00
        Y PAY Q0 2026-10-05 -          100.00
        Y PAY Q1 2026-11-10 -          700.00
        """,
        {"customer_id": "Y", "credit_limit": "1000"},
        as_of=as_of,
    )
    y = customers.loc["Y"]
    assert y["unapplied_cents"] == -30000
    assert y["balance_cents"] == -30000
    assert items.loc["J1", "open_cents"] == 0
    assert items.loc["Q0", "open_cents"] == 0  # the oldest cash is used first
    assert items.loc["Q1", "open_cents"] == -30000
    assert pd.isna(y["stage"]) and y["credit_status"] == "OK"


def test_unapplied_cash_is_not_put_against_a_disputed_invoice(as_of):
    items, customers = run(
        """
        Z INV K1 2026-06-01 2026-07-01 1000.00 - D
        Z INV K2 2026-10-16 2026-11-15 400.00
        Z PAY R1 2026-11-20 -          400.00
        """,
        {"customer_id": "Z"},
        as_of=as_of,
    )
    assert items.loc["K1", "open_cents"] == 100000
    assert items.loc["K2", "open_cents"] == 0
    assert items.loc["K1", "stage"] == "On hold"
    z = customers.loc["Z"]
    assert z["balance_cents"] == 100000 and z["bucket:91-180"] == 100000
    assert z["stage"] == "On hold"  # every open item is disputed


def test_missing_due_date_is_document_date_plus_the_customers_terms(as_of):
    items, _ = run(
        """
        T INV M1 2026-09-01 - 100.00
        U INV M2 2026-09-01 - 100.00
        """,
        {"customer_id": "T", "payment_terms_days": 60},
        {"customer_id": "U"},  # blank terms: the policy default, 30 days
        as_of=as_of,
    )
    assert items.loc["M1", "days_overdue"] == 30  # due 2026-10-31
    assert items.loc["M2", "days_overdue"] == 60  # due 2026-10-01


def test_buckets_can_count_from_the_document_date(as_of):
    """--age-from document moves the buckets only: days overdue, Stage and credit status
    always count from the due date."""
    ledger = ledger_frame("T INV M1 2026-09-01 2026-10-31 100.00")
    customers = customers_frame({"customer_id": "T"})
    by_document = age_ledger(ledger, customers, as_of, DEFAULT_POLICY, "document")
    by_due = age_ledger(ledger, customers, as_of, DEFAULT_POLICY, "due")
    assert by_document.items["bucket"].iat[0] == "61-90"  # 90 days since the document
    assert by_due.items["bucket"].iat[0] == "1-30"
    for result in (by_document, by_due):
        assert result.items["days_overdue"].iat[0] == 30
        assert result.items["stage"].iat[0] == "Phone call"
        assert result.customers["stage"].iat[0] == "Phone call"
        assert result.customers["max_days_overdue"].iat[0] == 30


@pytest.mark.parametrize(
    ("customer", "due", "expected_stage"),
    [
        ({"segment": "Strategic"}, "2026-10-21", "Phone call"),  # 40 days, 15 later: 25
        ({"segment": "Watch"}, "2026-11-05", "Demand letter"),  # 25 days, 10 earlier: 35
        # Stage is where the debt stands: contact history shapes NextAction, never Stage.
        ({"last_stage": "Friendly reminder"}, "2026-08-22", "Credit hold"),  # 100 days
        ({}, "2026-03-01", "Legal action"),  # 274 days, never contacted
        ({"last_stage": "Final notice"}, "2026-08-22", "Credit hold"),
        ({"last_stage": "Credit hold"}, "2026-03-01", "Legal action"),
        ({}, "2026-12-05", "Pre-due reminder"),  # due in 5 days
        ({}, "2026-12-08", "Not due"),
        (
            {
                "promise_date": "2026-11-20",
                "promise_amount": "500",
                "last_contact_date": "2026-11-10",
            },
            "2026-11-10",
            "Phone call",  # 20 days; a broken promise moves NextAction, not Stage
        ),
    ],
)
def test_customer_stage_follows_the_ladder_and_its_modifiers(customer, due, expected_stage, as_of):
    _, customers = run(
        f"C INV N1 2026-01-01 {due} 5000.00",
        {"customer_id": "C"} | customer,
        as_of=as_of,
    )
    assert customers.loc["C", "stage"] == expected_stage


def test_credit_hold_stage_puts_the_customer_on_hold(as_of):
    _, customers = run(
        "H INV N1 2026-01-01 2026-08-22 5000.00",
        {"customer_id": "H", "last_stage": "Final notice", "credit_limit": "1000000"},
        as_of=as_of,
    )
    assert customers.loc["H", "credit_status"] == "Hold"


def test_a_small_balance_stands_where_its_days_put_it(as_of):
    """The minimum amount decides whether a letter goes (NextAction), not the Stage."""
    _, customers = run("S INV N1 2026-01-01 2026-10-01 99.99", {"customer_id": "S"}, as_of=as_of)
    assert customers.loc["S", "stage"] == "Demand letter"


def test_payment_kept_when_promise_was_kept(as_of):
    _, customers = run(
        """
        P INV N1 2026-10-01 2026-11-10 1000.00
        P INV N2 2026-10-01 2026-11-10 1000.00
        P PAY Q1 2026-11-15 -          500.00 N1
        """,
        {"customer_id": "P", "promise_date": "2026-11-20", "promise_amount": "500",
         "last_contact_date": "2026-11-10"},
        as_of=as_of,
    )  # fmt: skip
    assert customers.loc["P", "stage"] == "Phone call"  # 20 days, promise kept: no step up


def test_a_customer_without_documents_has_a_zero_balance(as_of):
    _, customers = run(
        "A INV N1 2026-11-01 2026-12-01 10.00", {"customer_id": "A"}, {"customer_id": "B"},
        as_of=as_of,
    )  # fmt: skip
    b = customers.loc["B"]
    assert b["balance_cents"] == 0 and pd.isna(b["stage"]) and b["credit_status"] == "OK"


def test_an_earlier_as_of_date_reruns_last_month(as_of):
    text = """
        R INV N1 2026-09-01 2026-10-01 100.00
        R PAY Q1 2026-11-15 -          100.00 N1
    """
    _, now = run(text, {"customer_id": "R"}, as_of=as_of)
    _, october = run(text, {"customer_id": "R"}, as_of=as_of.replace(month=10, day=31))
    assert now.loc["R", "balance_cents"] == 0
    assert october.loc["R", "balance_cents"] == 10000
    assert october.loc["R", "bucket:1-30"] == 10000


def test_a_payment_settles_the_invoice_it_names_not_a_lookalike(as_of):
    # AppliesTo is matched on the exact number: "N10" is not "N1", "n1" or "N1 ".
    items, customers = run(
        """
        S INV N1  2026-10-01 2026-10-31 100.00
        S INV N10 2026-10-02 2026-11-01 200.00
        S INV n1  2026-10-03 2026-11-02 300.00
        S PAY Q1  2026-11-20 -          200.00 N10
        S PAY Q2  2026-11-21 -          40.00  N2
        """,
        {"customer_id": "S"},
        as_of=as_of,
    )
    assert items.loc["N10", "open_cents"] == 0
    # Q2 names no document: its 40.00 is unapplied and settles the oldest due first (N1).
    assert items.loc["N1", "open_cents"] == 6000
    assert items.loc["n1", "open_cents"] == 30000
    assert customers.loc["S", "balance_cents"] == 36000


def test_a_number_used_twice_settles_its_first_invoice(as_of):
    # The validator reports the duplicate; the engine still gives a definite answer.
    ledger = ledger_frame(
        """
        D INV N1 2026-10-01 2026-10-31 100.00
        D INV N1 2026-10-05 2026-11-04 250.00
        D PAY Q1 2026-11-20 -          100.00 N1
        """
    )
    result = age_ledger(ledger, customers_frame({"customer_id": "D"}), as_of, DEFAULT_POLICY)
    assert list(result.items["open_cents"]) == [0, 25000, 0]
    assert result.customers.loc[0, "balance_cents"] == 25000
