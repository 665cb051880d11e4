"""Expected payment dates from each customer's own habit, worked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.conftest import customers_frame, ledger_frame
from xl_addin.core import forecast

AS_OF = dt.date(2026, 11, 30)
# A pays 10, 20 and 15 days late (median 15). B paid once, 45 days late. C never paid.
# A's fourth invoice (due 30 November) and C's are open; B's second is half paid.
LEDGER = """
A INV A1 2026-06-01 2026-06-30 1000.00
A PAY P1 2026-07-10 -          1000.00
A INV A2 2026-07-01 2026-07-31 1000.00
A PAY P2 2026-08-20 -          1000.00
A INV A3 2026-08-01 2026-08-31 1000.00
A PAY P3 2026-09-15 -          1000.00
A INV A4 2026-10-31 2026-11-30 800.00
B INV B1 2026-05-01 2026-05-31 500.00
B PAY Q1 2026-07-15 -          700.00
B INV B2 2026-06-01 2026-06-30 400.00
C INV C1 2026-10-01 2026-10-31 300.00
"""


@pytest.fixture(scope="module")
def learnt():
    ledger = ledger_frame(LEDGER)
    customers = customers_frame({"customer_id": "A"}, {"customer_id": "B"},
                                {"customer_id": "C"})  # fmt: skip
    invoices = forecast.paid_dates(ledger, AS_OF)
    return invoices.set_index(ledger["doc_no"].to_numpy()[invoices["row"]]), forecast.habits(
        invoices, customers, AS_OF)


def test_invoices_are_paid_first_in_first_out(learnt):
    invoices, _ = learnt
    paid = invoices["paid"].dt.date
    assert paid["A1"] == dt.date(2026, 7, 10) and paid["A3"] == dt.date(2026, 9, 15)
    assert paid["B1"] == dt.date(2026, 7, 15)  # 700.00 pays B1 (500.00) in full
    assert pd.isna(paid["B2"]) and pd.isna(paid["A4"]) and pd.isna(paid["C1"])  # B2 half paid


def test_a_habit_is_the_median_shrunk_toward_the_segment_when_little_is_known(learnt):
    _, habit = learnt
    # The branch (one segment) paid 10, 20, 15 and 45 days late: median 17.5.
    # A: own median 15 from 3 invoices, prior 3: (3 x 15 + 3 x 17.5) / 6 = 16.25.
    assert habit.days_late["A"] == pytest.approx(16.25)
    # B: one invoice 45 days late: (45 + 3 x 17.5) / 4 = 24.375. C: nothing: the segment's.
    assert habit.days_late["B"] == pytest.approx(24.375)
    assert habit.days_late["C"] == pytest.approx(17.5)


def test_expected_dates_and_the_weeks(learnt):
    _, habit = learnt
    items = pd.DataFrame({"customer_id": ["A", "C", "B"],
                          "due": np.array(["2026-11-30", "2026-10-31", "2026-06-30"],
                                          dtype="datetime64[D]")})  # fmt: skip
    expected = forecast.expected_dates(items, habit, AS_OF)
    # A: 30 November + 16 days; C: already later than its habit: the next day; B: more than
    # 90 days past its habit (due 30 June + 24): not expected within any forecast.
    assert list(expected.dt.date) == [dt.date(2026, 12, 16), dt.date(2026, 12, 1),
                                      AS_OF + dt.timedelta(days=forecast.FAR)]  # fmt: skip
    promised = forecast.expected_dates(items, habit, AS_OF, {"A": dt.date(2026, 12, 5)})
    assert promised.dt.date.iloc[0] == dt.date(2026, 12, 5)
    weeks = forecast.weekly(expected.to_numpy(), np.array([80000, 30000, 20000]), AS_OF)
    assert list(weeks["cents"][:3]) == [30000, 0, 80000] and weeks["cents"].iloc[-1] == 20000


def test_an_item_long_past_its_habit_is_not_expected_in_the_forecast(learnt):
    _, habit = learnt
    items = pd.DataFrame({"customer_id": ["A"],
                          "due": np.array(["2026-01-31"], dtype="datetime64[D]")})  # fmt: skip
    expected = forecast.expected_dates(items, habit, AS_OF)
    weeks = forecast.weekly(expected.to_numpy(), np.array([10000]), AS_OF)
    assert weeks["cents"].iloc[-1] == 10000 and weeks["cents"].iloc[:-1].sum() == 0


def test_a_customers_payment_rhythm_is_a_day_of_the_month_or_a_weekday():
    """A pays around the 25th; B pays on Fridays, on different days of the month; C keeps
    no rhythm; D paid twice only: not yet known."""
    rows = []
    for month, day in ((6, 24), (7, 25), (8, 27), (9, 25), (10, 23)):
        rows.append(f"A PAY PA{month} 2026-{month:02d}-{day:02d} - 10.00")
    for n, day in enumerate(("2026-07-03", "2026-07-31", "2026-08-21", "2026-09-11",
                             "2026-10-16")):  # fmt: skip
        rows.append(f"B PAY PB{n} {day} - 10.00")
    for n, day in enumerate(("2026-06-02", "2026-07-15", "2026-08-28", "2026-10-05")):
        rows.append(f"C PAY PC{n} {day} - 10.00")
    rows += ["D PAY PD1 2026-09-25 - 10.00", "D PAY PD2 2026-10-25 - 10.00"]
    ledger = ledger_frame("\n".join(rows))
    ids = pd.Series(["A", "B", "C", "D"])
    timing = forecast.payment_timing(ledger, ids, AS_OF)
    assert forecast.timing_text(timing, "en") == ["pays around the 25th", "pays on Fridays",
                                                  "", ""]  # fmt: skip
    assert forecast.timing_text(timing, "zh")[:2] == ["通常每月25日前后付款", "通常周五付款"]


# S settles monthly (月结60天): each month's invoices, whatever their day, together on the
# 25th two months later (24 October: a Saturday's run paid the day before). June's three
# invoices (1,000 + 2,000 + 3,000) are paid by one payment of 6,000 on 25 August, and so
# on. October's and November's invoices are open on 30 November.
# P pays each invoice on its due date; its invoices are all dated in the first days of
# the month, so every payment falls around the 1st: a day of the month, not a cycle.
CYCLE_LEDGER = """
S INV S01 2026-06-03 2026-07-03 1000.00
S INV S02 2026-06-12 2026-07-12 2000.00
S INV S03 2026-06-20 2026-07-20 3000.00
S PAY T06 2026-08-25 -          6000.00
S INV S04 2026-07-05 2026-08-04 1000.00
S INV S05 2026-07-15 2026-08-14 1000.00
S INV S06 2026-07-28 2026-08-27 1000.00
S PAY T07 2026-09-25 -          3000.00
S INV S07 2026-08-02 2026-09-01 500.00
S INV S08 2026-08-18 2026-09-17 500.00
S PAY T08 2026-10-24 -          1000.00
S INV S09 2026-09-10 2026-10-10 700.00
S INV S10 2026-09-22 2026-10-22 300.00
S PAY T09 2026-11-25 -          1000.00
S INV S11 2026-10-06 2026-11-05 400.00
S INV S12 2026-10-19 2026-11-18 600.00
S INV S13 2026-11-08 2026-12-08 900.00
P INV P01 2026-06-01 2026-07-01 100.00
P PAY Q01 2026-07-01 -          100.00
P INV P02 2026-07-02 2026-08-01 100.00
P PAY Q02 2026-08-01 -          100.00
P INV P03 2026-08-03 2026-09-02 100.00
P PAY Q03 2026-09-02 -          100.00
P INV P04 2026-09-01 2026-10-01 100.00
P PAY Q04 2026-10-01 -          100.00
"""


@pytest.fixture(scope="module")
def cycle_book():
    ledger = ledger_frame(CYCLE_LEDGER)
    customers = customers_frame({"customer_id": "S"}, {"customer_id": "P"})
    return ledger, customers


def test_a_customer_settling_a_months_invoices_together_is_a_cycle(cycle_book):
    ledger, customers = cycle_book
    invoices = forecast.paid_dates(ledger, AS_OF)
    cycle = forecast.settlement_cycles(invoices, customers["customer_id"], AS_OF)
    # S: lag 2 months for all ten paid invoices; their days 25 (x8) and 24 (x2): median 25.
    # P: lag 1, paid on the 1st-2nd, but its invoices' days spread over 3 days only.
    assert list(cycle.months) == [2, -1] and list(cycle.day) == [25, -1]
    timing = forecast.payment_timing(ledger, customers["customer_id"], AS_OF)
    assert forecast.timing_text(timing, "en") == [
        "pays each month's invoices on the 25th, 2 months later", "pays around the 1st"]
    assert forecast.timing_text(timing, "zh") == ["月结60天：每月25日付款", "通常每月1日前后付款"]


def test_invoices_paid_before_their_month_are_no_cycle_and_no_crash():
    """A prepayment pays invoices dated in later months (a negative lag): the vote counts them
    at lag 0, where no payment lies; it used to take the median of nothing and stop letters."""
    invoices = pd.DataFrame({
        "customer_id": ["X"] * 3,
        "doc": pd.to_datetime(["2026-08-15", "2026-09-15", "2026-10-15"]),
        "paid": pd.to_datetime(["2026-07-10"] * 3),
    })  # fmt: skip
    cycle = forecast.settlement_cycles(invoices, pd.Series(["X"]), AS_OF)
    assert list(cycle.months) == [-1] and list(cycle.day) == [-1]


def test_a_cycle_customers_open_invoices_are_expected_on_its_run(cycle_book):
    ledger, customers = cycle_book
    invoices = forecast.paid_dates(ledger, AS_OF)
    habit = forecast.habits(invoices, customers, AS_OF)
    still = invoices[np.isnat(invoices["paid"].to_numpy())]
    numbers = ledger["doc_no"].to_numpy()[still["row"].to_numpy()]
    expected = dict(zip(numbers, forecast.expected_dates(still, habit, AS_OF).dt.date,
                        strict=True))  # fmt: skip
    # October's invoices (due 5 and 18 November) on 25 December, November's on 25 January:
    # not the due date + S's lateness (about 45 days: 19 and 1 January).
    assert expected == {"S11": dt.date(2026, 12, 25), "S12": dt.date(2026, 12, 25),
                        "S13": dt.date(2027, 1, 25)}  # fmt: skip
    # October's run missed (still open on 28 December): the next run, 25 January.
    later = forecast.expected_dates(still, habit, dt.date(2026, 12, 28))
    assert list(later.dt.date) == [dt.date(2027, 1, 25)] * 3
    # A pending promise still wins.
    promised = forecast.expected_dates(still, habit, AS_OF, {"S": dt.date(2026, 12, 10)})
    assert set(promised.dt.date) == {dt.date(2026, 12, 10)}


def test_the_next_payment_run(cycle_book):
    ledger, customers = cycle_book
    timing = forecast.payment_timing(ledger, customers["customer_id"], AS_OF)
    assert list(pd.Series(forecast.next_runs(timing, AS_OF)).dt.date) == [
        dt.date(2026, 12, 25), dt.date(2026, 12, 1)]
    assert forecast.next_runs(timing, dt.date(2026, 12, 25))[0] == np.datetime64("2026-12-25")
    fridays = forecast.Timing(np.array([-1]), np.array([4]))
    assert forecast.next_runs(fridays, dt.date(2026, 11, 30))[0] == np.datetime64("2026-12-04")
    # The 31st in a shorter month: its last day.
    late = forecast.Timing(np.array([31]), np.array([-1]))
    assert forecast.next_runs(late, dt.date(2026, 11, 2))[0] == np.datetime64("2026-11-30")
