"""The Risk worklist on ledgers worked by hand (the rules: core/risk.py, docs/kpis.md).

As of 30 November 2026 "the last 3 months" are payments after 31 August 2026, "the 9 months
before" those from 1 December 2025 to 31 August 2026, and "three months ago" is 31 August.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pandas as pd
import pytest

from tests.conftest import customers_frame, ledger_frame
from xl_addin.core.contacts import contact_frame
from xl_addin.core.policy import DEFAULT_POLICY, policy_from_tables
from xl_addin.core.risk import reason_text, worklist

AS_OF = dt.date(2026, 11, 30)
LEDGER = """
A INV A1 2026-01-11 2026-02-10 1000.00
A PAY P1 2026-02-15 -          1000.00
A INV A2 2026-02-08 2026-03-10 1000.00
A PAY P2 2026-03-15 -          1000.00
A INV A3 2026-03-11 2026-04-10 1000.00
A PAY P3 2026-04-15 -          1000.00
A INV A4 2026-08-11 2026-09-10 1000.00
A PAY P4 2026-10-05 -          1000.00
A INV A5 2026-09-10 2026-10-10 1000.00
A PAY P5 2026-10-31 -          1000.00
A INV A6 2026-11-15 2026-12-15 1000.00
B INV B0 2026-04-01 2026-05-01 2000.00
B PAY Q0 2026-05-20 -          2000.00
B INV B1 2026-06-01 2026-07-01 5000.00
B INV B2 2026-08-01 2026-08-31 3000.00
C INV C0 2026-08-01 2026-08-31 500.00
C PAY R0 2026-09-18 -          500.00  C0
C INV C1 2026-10-01 2026-10-31 9000.00
C INV C2 2026-11-10 2026-12-10 2000.00
D INV D1 2026-11-20 2026-12-20 9500.00
E INV E1 2026-11-01 2026-12-01 500.00
F INV F1 2026-10-01 2026-10-31 500.00
"""
# A paid 5 days late three times before September, then 25 and 21 days late: median 23
# against 5, worse by 18 days. B has paid nothing since May while B1 is 152 days overdue;
# its overdue share went from 5,000 / 8,000 on 31 August to 8,000 / 8,000. C owes 11,000.00
# with 2,000.00 of open orders against a limit of 10,000.00 (owed 500.00 in August) and
# broke one of its two promises due since September. D uses 9,500.00 of 10,000.00, nothing
# three months ago. E is fine. F's one invoice fell overdue: its overdue share rose from
# nothing to all, a weak signal (1 point) on its own.
CUSTOMERS = customers_frame(
    {"customer_id": "A"}, {"customer_id": "B", "segment": "Watch"},
    {"customer_id": "C", "credit_limit": "10000", "open_orders": "2000"},
    {"customer_id": "D", "credit_limit": "10000"}, {"customer_id": "E"},
    {"customer_id": "F"},
)  # fmt: skip
CONTACTS = contact_frame([
    {"customer_id": "C", "date": "2026-09-01", "kind": "call", "outcome": "will pay",
     "promise_date": "2026-09-20", "promise_cents": 50000},
    {"customer_id": "C", "date": "2026-11-01", "kind": "call", "outcome": "will pay",
     "promise_date": "2026-11-15", "promise_cents": 900000},
])  # fmt: skip


def run(policy=DEFAULT_POLICY):
    return {a.customer_id: a for a in worklist(ledger_frame(LEDGER), CUSTOMERS, CONTACTS, AS_OF,
                                                   policy)}  # fmt: skip


def reasons(assessment) -> dict[str, tuple]:
    return {r.key: tuple(round(x, 4) for x in r.figures) for r in assessment.reasons}


def test_the_worst_first_and_the_healthy_left_out():
    found = worklist(ledger_frame(LEDGER), CUSTOMERS, CONTACTS, AS_OF, DEFAULT_POLICY)
    # C 3 + 1 + 1 + 2 = 7, B 2 + 1 = 3; A and D score 2 each, D owes more.
    assert [(a.customer_id, a.score) for a in found] == [("C", 7), ("B", 3), ("D", 2), ("A", 2)]


def test_lateness_worse_by_the_policy_days():
    a = run()["A"]
    assert reasons(a) == {"lateness": (23.0, 5.0)} and a.review == "watch"
    stricter = replace(DEFAULT_POLICY, rules=replace(DEFAULT_POLICY.rules, risk_lateness_days=20))
    assert "A" not in run(stricter)


def test_stopped_paying_and_a_growing_overdue_share():
    b = run()["B"]
    assert reasons(b) == {"no_payment": (800000,), "overdue_share": (0.625, 1.0)}
    assert b.review == "review_terms"  # already on the Watch segment


@pytest.mark.parametrize("segment", ["关注客户", "watch", " Watch "])
def test_the_watch_segment_named_as_the_policy_accepts_it(segment):
    # A Chinese workbook's Segment column says 关注客户: B is already on Watch all the same,
    # so its review is the payment terms, never "move to the Watch segment".
    customers = CUSTOMERS.copy()
    customers.loc[customers["customer_id"] == "B", "segment"] = segment
    found = worklist(ledger_frame(LEDGER), customers, CONTACTS, AS_OF, DEFAULT_POLICY)
    assert {a.customer_id: a.review for a in found}["B"] == "review_terms"


def test_over_limit_with_a_broken_promise_holds_new_orders():
    c = run()["C"]
    assert reasons(c) == {"over_limit": (1300000, 1000000, 1.3), "limit_rise": (0.05, 1.1),
                          "broken_promises": (1, 0.5), "overdue_share": (0.0, 0.8182)}
    assert c.review == "hold_orders" and (c.balance, c.overdue, c.limit) == (1100000, 900000,
                                                                             1000000)  # fmt: skip


def test_high_limit_use_asks_for_a_limit_review():
    d = run()["D"]
    assert reasons(d) == {"limit_use": (0.95,), "limit_rise": (0.0, 0.95)}
    assert d.review == "review_limit"


def test_the_thresholds_are_policy_rules_rows():
    rules = pd.DataFrame({"Key": ["RiskLimitUse", "RiskLatenessDays", "RiskLimitRise"],
                          "Value": [0.96, 30, 1], "row": [5, 6, 7]})  # fmt: skip
    policy, problems = policy_from_tables({"Rules": rules})
    assert problems == [] and policy.rules.risk_limit_use == Decimal("0.96")
    found = run(policy)
    assert "D" not in found and "A" not in found
    rules = pd.DataFrame({"Key": ["RiskLimitUse"], "Value": [90], "row": [5]})
    _, problems = policy_from_tables({"Rules": rules})
    assert [str(p) for p in problems] == ["Policy!5: RiskLimitUse 90 is not a fraction: "
                                          "write 90%"]  # fmt: skip


@pytest.mark.parametrize("lang, expected", [
    ("en", ["Over its credit limit: CNY 13,000.00 used of CNY 10,000.00 (130%)",
            "1 payment promise(s) broken in the last 90 days (50% of the promises due)",
            "Limit use up from 5% to 110% in 3 months",
            "Overdue share up from 0% to 82% in 3 months"]),
    ("zh", ["超出信用额度：占用CNY 13,000.00，额度CNY 10,000.00（130%）",
            "近90天有1次付款承诺未兑现（占到期承诺的50%）", "额度使用率3个月内由5%升至110%",
            "逾期占比3个月内由0%升至82%"]),
])  # fmt: skip
def test_reasons_read_in_the_workbook_language(lang, expected):
    found = run()
    assert [reason_text(r, lang, "CNY") for r in found["C"].reasons] == expected
    late = reason_text(found["A"].reasons[0], lang)
    assert late == ("付款变慢：近3个月付款通常逾期23天（中位数），此前9个月为逾期5天"
                    if lang == "zh" else "Paying later: typically 23 days late in the last 3 "
                    "months (median), against 5 days late in the 9 months before")  # fmt: skip


def test_no_contacts_and_no_limit():
    empty = contact_frame([])
    customers = customers_frame({"customer_id": "D", "credit_limit": "0"})
    ledger = ledger_frame("D INV D1 2026-11-20 2026-12-20 9500.00")
    assert worklist(ledger, customers, empty, AS_OF, DEFAULT_POLICY) == []
