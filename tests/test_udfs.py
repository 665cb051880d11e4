"""The Excel functions as Excel calls them: one cell, or a column that spills."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_addin import udfs

AS_OF = dt.datetime(2026, 11, 30)


def test_single_cells_give_single_values():
    assert udfs.age_days(dt.datetime(2026, 10, 31), AS_OF) == 30
    assert udfs.age_days("2026-12-10", "2026-11-30") == -10
    assert udfs.age_days(46325.0, 46356.0) == 31  # Excel serials
    assert udfs.age_bucket(dt.datetime(2026, 9, 1), AS_OF) == "61-90"
    assert udfs.age_bucket("2026-11-01", AS_OF, "0,15,45") == "16-45"
    assert udfs.credit_headroom(10000, 8000.5, 500) == 1499.5
    assert udfs.credit_status(10000, 8500) == "Near limit"
    assert udfs.credit_status(10000, 100, 0, 120) == "Hold"
    assert udfs.escalation_stage(45) == "Demand letter"
    assert udfs.escalation_stage(45, 1000, "Strategic") == "Phone call"
    assert udfs.escalation_stage(45, 1000, "Standard", "Y") == "On hold"
    # Stage is where the debt stands: contact history (the last two arguments, kept for
    # older formulas) shapes NextAction, never Stage.
    assert udfs.escalation_stage(200, 1000, None, None, "Y", "Friendly reminder") == "Legal action"
    # The pre-due window is on the real due date; offsets move only the overdue steps.
    assert udfs.escalation_stage(-5, None, "Strategic") == "Pre-due reminder"
    assert udfs.escalation_stage(-5, None, "Watch") == "Pre-due reminder"
    assert udfs.escalation_stage(10, None, "Strategic") == "Friendly reminder"
    assert udfs.escalation_stage(5, None, "Watch") == "Phone call"
    assert udfs.escalation_stage(45, 0) == "Not due"  # nothing owed
    assert udfs.late_interest(10000, "2025-03-31", "2025-05-30") == 209.59
    assert udfs.expected_recovery(180) == 0.5
    assert udfs.amount_in_words(16409.02, "zh", "CNY") == "人民币壹万陆仟肆佰零玖元零贰分"


def test_blanks_and_bad_cells_never_raise():
    assert udfs.age_days(None, AS_OF) is None
    assert udfs.age_days("2026-02-30", AS_OF) == "#bad due date"
    assert udfs.credit_headroom("12,3x", 5) == "#bad limit"
    assert udfs.escalation_stage(10, None, "VIP") == "#unknown segment"
    assert udfs.amount_in_words(5, "fr") == "#lang must be en or zh"
    assert udfs.age_bucket("2026-01-01", AS_OF, "30,0") == "#bounds must rise"


def test_a_column_spills_a_column_of_the_same_length():
    due = [dt.datetime(2026, 11, 1), None, "bad", 46356.0]
    assert udfs.age_days(due, AS_OF) == [[29], [None], ["#bad due date"], [0]]
    assert udfs.age_days(due, [AS_OF, AS_OF]) == "#ranges differ in length"


days = st.one_of(st.none(), st.integers(-400, 4000))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(days, st.sampled_from(["Strategic", "Standard", "Watch", None]),
                          st.sampled_from(["Y", "N", None])), min_size=1, max_size=20))  # fmt: skip
def test_vector_and_scalar_calls_agree(rows):
    d = [r[0] for r in rows]
    seg = [r[1] for r in rows]
    disp = [r[2] for r in rows]
    column = udfs.escalation_stage(d, None, seg, disp)
    assert column == [[udfs.escalation_stage(a, None, b, c)] for a, b, c in rows]
    due = [None if x is None else 46356.0 - x for x in d]
    assert udfs.age_bucket(due, AS_OF) == [[udfs.age_bucket(x, AS_OF)] for x in due]


def test_late_interest_takes_rates_as_excel_stores_them():
    """A cell showing 8% holds 0.08: that is 8% a year, not 0.08%."""
    assert udfs.late_interest(10000, "2025-03-31", "2025-05-30", 0.08) == 131.51  # 131.507
    assert udfs.late_interest(10000, "2025-03-31", "2025-05-30", 0.0008) == 1.32  # 0.08%: 1.315
    assert udfs.late_interest(10000, "2025-03-31", "2025-05-30", 8) == "#rate: use 8% not 8"
    assert udfs.late_interest(10000, "2025-03-31", "2025-05-30", 12.5) == (
        "#rate: use 12.5% not 12.5"
    )
    rates = [[0.08], [8], [None]]
    assert udfs.late_interest(10000, "2025-03-31", "2025-05-30", rates) == [
        [131.51], ["#rate: use 8% not 8"], [209.59],
    ]  # fmt: skip


def test_late_interest_uses_each_half_years_reference_rate():
    # 1,000 for 100 days at 0.25% + 8% (H1 2022) and at 1.25% + 8% (H2 2022)
    assert udfs.late_interest(1000, "2022-02-01", "2022-05-12") == 22.60  # 22.603
    assert udfs.late_interest(1000, "2022-08-01", "2022-11-09") == 25.34  # 25.342


def test_late_interest_before_the_reference_table_says_so():
    due = ["2018-06-30", "2019-06-30"]
    assert udfs.late_interest(1000, due, "2019-12-31") == [
        ["#no reference rate before 2019-01-01"], [44.11],  # 184 days at 0.75% + 8%: 44.110
    ]  # fmt: skip
    assert udfs.late_interest(1000, "2018-06-30", "2018-07-30", 0.08) == 6.58  # a contract rate


STAGES = [["Key", "Name", "NameZh", "FromDays", "Action", "RepeatDays"],
          ["not_due", "Not due", "未到期", None, "none", None],
          ["friendly_reminder", "Friendly reminder", "友好提醒", 1, "letter", None],
          ["demand_letter", "Demand letter", "催款函", 10, "letter", None],
          ["credit_hold", "Credit hold", "停止供货", 40, "letter and hold", None]]  # fmt: skip
SEGMENTS = [["Segment", "SegmentZh", "DaysOffset"], ["Watch", "关注客户", 30]]


def test_the_functions_follow_the_policy_tables_they_are_given():
    """A branch that edits its Policy sees the cells follow when it passes the tables
    (Stages[#All], Segments[#All], Rules[#All], Recovery[#All]) as trailing arguments."""
    assert udfs.escalation_stage(20) == "Phone call"  # the default ladder
    assert udfs.escalation_stage(20, None, None, None, None, None, STAGES) == "Demand letter"
    assert udfs.escalation_stage(15, None, "Watch", None, None, None, STAGES,
                                 SEGMENTS) == "Credit hold"  # 15 + 30 days  # fmt: skip
    rules = [["Key", "Value"], ["HoldFromStage", "credit_hold"], ["NearLimitShare", 0.5]]
    assert udfs.credit_status(1000, 100, 0, 45) == "OK"
    assert udfs.credit_status(1000, 100, 0, 45, STAGES, rules) == "Hold"
    assert udfs.credit_status(1000, 600, 0, None, None, rules) == "Near limit"
    curve = [["Days", "Probability"], [0, 1.0], [90, 0.5], [180, 0.2]]
    assert udfs.expected_recovery(90, curve) == pytest.approx(0.5)  # the curve, not the default
    assert udfs.expected_recovery(135, curve) == pytest.approx(0.35)  # interpolated


def test_a_policy_table_that_does_not_read_says_why_in_the_cell():
    assert udfs.escalation_stage(20, None, None, None, None, None, [["Key"], ["x"]]) == (
        "#Stages: table Stages has no column Name")


def test_provision_by_age_from_the_document_date():
    """账龄分析法: the age counts from the document date; within a year 5%, 1-2 years 10% ..."""
    assert udfs.provision(1000, "2026-01-01", "2026-11-30") == 50.0
    assert udfs.provision(1000, "2025-01-01", "2026-11-30") == 100.0  # 698 days
    assert udfs.provision([[1000], [500]], [["2020-01-01"], ["2026-11-01"]], "2026-11-30") == [
        [1000.0], [25.0]]
    own = [["FromDays", "Rate"], [0, 0.01], [300, 0.2]]
    assert udfs.provision(1000, "2025-01-01", "2026-11-30", own) == 200.0
    assert udfs.provision("x", "2025-01-01", "2026-11-30") == "#bad amount"


# Two customers: A paid its three invoices 10 days late each; its fourth is open, due
# 30 November. B owes one invoice with a number for DocNo, and promised to pay on
# 12 December (its PromiseDate on the Customers table).
_PAY_LEDGER = [["CustomerID", "DocType", "DocNo", "DocDate", "DueDate", "Amount"],
               ["A", "INV", "A1", "2026-06-01", "2026-07-01", 100.0],
               ["A", "PAY", "P1", "2026-07-11", None, 100.0],
               ["A", "INV", "A2", "2026-07-01", "2026-08-01", 100.0],
               ["A", "PAY", "P2", "2026-08-11", None, 100.0],
               ["A", "INV", "A3", "2026-08-01", "2026-09-01", 100.0],
               ["A", "PAY", "P3", "2026-09-11", None, 100.0],
               ["A", "INV", "A4", "2026-10-31", "2026-11-30", 100.0],
               ["B", "INV", 1001.0, "2026-10-01", "2026-10-31", 500.0]]  # fmt: skip
_PAY_CUSTOMERS = [["CustomerID", "Name", "PromiseDate", "PromiseAmount"], ["A", "Acme", None, None],
                  ["B", "Beta", "2026-12-12", 500.0]]  # fmt: skip
_PAY_SETTINGS = [["Key", "Value"], ["AsOfDate", "2026-11-30"]]


def test_expected_pay_date_is_the_engines_for_each_invoice():
    tables = (_PAY_LEDGER, _PAY_CUSTOMERS, _PAY_SETTINGS)
    # A: 10 days late each time (the branch knows no one else): 30 November + 10.
    assert udfs.expected_pay_date("A4", *tables) == dt.date(2026, 12, 10)
    # A column spills; a paid invoice and a payment are blank, a number finds its DocNo.
    assert udfs.expected_pay_date([["A4"], ["A1"], ["P1"], [1001], [None], ["Z9"]], *tables) == [
        [dt.date(2026, 12, 10)], [None], [None], [dt.date(2026, 12, 12)], [None],
        ["#unknown document"]]  # fmt: skip
    # The same as the Ledger block's ExpectedPayDate (one engine).
    block = udfs.ledger_columns(*tables)
    assert [row[-1] for row in block] == [None] * 6 + [dt.date(2026, 12, 10),
                                                      dt.date(2026, 12, 12)]  # fmt: skip
    bad = [row[:] for row in _PAY_LEDGER]
    bad[1][5] = "12,3x"
    assert udfs.expected_pay_date("A4", bad, *tables[1:]).startswith("#Ledger!F2")


def test_expected_pay_date_spills_a_long_column_in_one_pass(monkeypatch):
    # Given Ledger[DocNo] it spills a date per row: the column is read once, not once per
    # cell (20,000 rows took 42 s when each cell flattened the whole column again).
    ledger = [_PAY_LEDGER[0], *(["A", "INV", f"X{i}", "2026-10-31", "2026-11-30", 100.0]
                                for i in range(2000))]  # fmt: skip
    tables = (ledger, _PAY_CUSTOMERS, _PAY_SETTINGS)
    doc_nos = [[row[2]] for row in ledger[1:]]
    flattened = []
    flatten = udfs._flatten
    monkeypatch.setattr(udfs, "_flatten", lambda a: flattened.append(1) or flatten(a))
    spilled = udfs.expected_pay_date(doc_nos, *tables)
    assert len(spilled) == 2000 and spilled[0] == spilled[-1] == [dt.date(2026, 12, 1)]
    assert len(flattened) <= 3
