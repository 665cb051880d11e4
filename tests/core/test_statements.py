"""Statements of account: opening, the month's lines with running balance, closing, aging."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import customers_frame, ledger_frame
from tests.core.test_properties import build, document
from xl_addin.core.policy import DEFAULT_POLICY
from xl_addin.core.statements import Period, build_statements

# November 2026 for customer A, worked by hand:
#   opening (before 1 Nov): INV 1,000.00 - PAY 400.00 = 600.00
#   3 Nov  INV  I2   debit  250.00   balance  850.00
#   10 Nov CRN  C1   credit  50.00   balance  800.00
#   10 Nov PAY  P2   credit 600.00   balance  200.00
#   28 Nov ADJ  A1   credit  20.00   balance  180.00   (negative adjustment)
#   closing 600 + 250 - 670 = 180.00; the December invoice is not on it.
LEDGER = """
A INV I1 2026-09-15 2026-10-15 1000.00
A PAY P1 2026-10-20 -          400.00
A INV I2 2026-11-03 2026-12-03 250.00
A CRN C1 2026-11-10 -          50.00   I2
A PAY P2 2026-11-10 -          600.00
A ADJ A1 2026-11-28 -          -20.00
A INV I3 2026-12-02 2027-01-01 999.00
B INV J1 2026-06-01 2026-07-01 300.00
Z INV K1 2026-12-05 2027-01-05 10.00
"""


@pytest.fixture
def statements():
    customers = customers_frame({"customer_id": "A"}, {"customer_id": "B"}, {"customer_id": "Z"})
    return build_statements(ledger_frame(LEDGER), customers, Period(2026, 11), DEFAULT_POLICY)


def test_opening_lines_running_balance_and_closing(statements):
    a = statements.summary.set_index("customer_id").loc["A"]
    assert (a.opening_cents, a.debit_cents, a.credit_cents, a.closing_cents) == (
        60000, 25000, 67000, 18000,
    )  # fmt: skip
    lines = statements.lines_of("A")
    assert list(lines["doc_no"]) == ["I2", "C1", "P2", "A1"]
    assert list(lines["debit_cents"]) == [25000, 0, 0, 0]
    assert list(lines["credit_cents"]) == [0, 5000, 60000, 2000]
    assert list(lines["balance_cents"]) == [85000, 80000, 20000, 18000]


def test_closing_is_aged_at_the_period_end(statements):
    a = statements.summary.set_index("customer_id").loc["A"]
    buckets = sum(a[f"bucket:{label}"] for label in statements.labels)
    assert buckets + a.unapplied_cents == a.closing_cents
    # Unapplied cash 400 + 600 + 20 settles I1 (1,000.00) first, then 20.00 of I2, which
    # the credit note had brought to 200.00: 180.00 of I2 is open and not yet due.
    assert a["bucket:Current"] == 18000 and a.unapplied_cents == 0 and a.overdue_cents == 0
    b = statements.summary.set_index("customer_id").loc["B"]
    assert (b.opening_cents, b.closing_cents, b.documents) == (30000, 30000, 0)
    assert b["bucket:91-180"] == 30000 and b.overdue_cents == 30000


def test_who_gets_a_statement(statements):
    wanted = statements.summary["customer_id"][statements.wanted()]
    assert list(wanted) == ["A", "B"]  # Z has nothing before the end of November
    assert statements.wanted(include_zero=True).all()


@pytest.mark.parametrize("text", ["2026-13", "26-11", "2026/11", ""])
def test_a_bad_period_is_named(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        Period.parse(text)


def test_period_bounds():
    assert str(Period.parse("2024-2")) == "2024-02"
    assert Period(2024, 2).last_day.day == 29


@settings(max_examples=150, deadline=None)
@given(st.lists(document, min_size=1, max_size=40), st.integers(2024, 2027), st.integers(1, 12))
def test_every_statement_foots(docs, year, month):
    """opening + debits - credits = closing, each running balance foots, closing = aging."""
    ledger, customers = build(docs)
    result = build_statements(ledger, customers, Period(year, month), DEFAULT_POLICY)
    s = result.summary
    assert (s.opening_cents + s.debit_cents - s.credit_cents == s.closing_cents).all()
    for row in s.itertuples():
        lines = result.lines_of(row.customer_id)
        steps = np.cumsum(lines["debit_cents"] - lines["credit_cents"]) + row.opening_cents
        assert list(steps) == list(lines["balance_cents"])
        if len(lines):
            assert lines["balance_cents"].iat[-1] == row.closing_cents
    balance = result.aging.customers["balance_cents"].to_numpy()
    assert (s.closing_cents.to_numpy() == balance).all()
    # What a statement asks for is the undisputed overdue part, never more than is owed.
    assert (s.payable_overdue_cents + s.disputed_overdue_cents == s.overdue_cents).all()
    assert (s.payable_overdue_cents >= 0).all() and (s.disputed_overdue_cents >= 0).all()
    assert (s.payable_overdue_cents <= s.closing_cents.clip(lower=0)).all()
    items = result.open_items
    disputed = items[items["disputed"]].groupby("customer_id")["open_cents"].sum()
    assert (s.set_index("customer_id")["disputed_cents"].drop(disputed.index) == 0).all()
    assert (s.set_index("customer_id").loc[disputed.index, "disputed_cents"] == disputed).all()


# Customer D in November 2026, by hand: two invoices overdue at 30 Nov, one disputed, and a
# disputed invoice of the month not yet due. Cash never settles a disputed invoice, so:
#   D1 400.00 due 15 Oct (46 days overdue)          open 400.00
#   D2 300.00 due 1 Nov, disputed (29 days)         open 300.00   disputed
#   D3 120.00 due 20 Dec, disputed (not yet due)    open 120.00   disputed
#   closing 820.00; overdue 700.00, of which 300.00 disputed: 400.00 is asked for.
DISPUTED = """
D INV D1 2026-09-15 2026-10-15 400.00 - -
D INV D2 2026-10-02 2026-11-01 300.00 - D
D INV D3 2026-11-20 2026-12-20 120.00 - D
E INV E1 2026-09-01 2026-10-01 250.00 - D
"""


def test_disputed_items_are_flagged_and_left_out_of_what_is_asked_for():
    customers = customers_frame({"customer_id": "D"}, {"customer_id": "E"})
    result = build_statements(ledger_frame(DISPUTED), customers, Period(2026, 11), DEFAULT_POLICY)
    summary = result.summary.set_index("customer_id")
    d = summary.loc["D"]
    assert (d.closing_cents, d.overdue_cents, d.disputed_cents) == (82000, 70000, 42000)
    assert (d.disputed_overdue_cents, d.payable_overdue_cents) == (30000, 40000)
    e = summary.loc["E"]  # everything overdue is disputed: nothing to ask for
    assert (e.overdue_cents, e.disputed_overdue_cents, e.payable_overdue_cents) == (25000, 25000, 0)
    lines = result.lines_of("D")
    assert list(zip(lines["doc_no"], lines["disputed"], strict=True)) == [("D3", True)]
    items = result.open_items_of("D")
    assert list(items["doc_no"]) == ["D1", "D2", "D3"]  # oldest due date first
    assert list(items["disputed"]) == [False, True, True]
    assert list(items["days_overdue"]) == [46, 29, -20]
    assert list(items["open_cents"]) == [40000, 30000, 12000]
