"""Timing (回款时机): with ReminderLeadDays set, a friendly reminder waits for the customer's
payment run; a month of daily letters runs on a real workbook shows it goes out once, on
the right day, and says why it waited.

S settles monthly (月结): each month's invoices, whatever their day, together on the 25th
of the next month. R keeps no rhythm. Each owes one invoice due on 9 December, so both
are overdue from the 10th and at the friendly reminder until the 23rd (the phone call
from 15 days overdue). The Policy's Rules say ReminderLeadDays 5: S's reminder is held
until 20 December, five days before its run on the 25th; R's goes on the 10th.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from openpyxl.worksheet.table import Table

from tests.books import make_book, write_sheet
from xl_addin.services.letters import run_letters

CUSTOMERS = [("S", "华联超市", "Standard", "CNY", 500000, ""),
             ("R", "Random Trading", "Standard", "CNY", 500000, "")]  # fmt: skip


def _ledger() -> list[tuple]:
    rows = []
    months = ((7, 3, 17), (8, 5, 19), (9, 2, 20), (10, 6, 21))  # invoice month, two days
    for n, (month, first, second) in enumerate(months, start=1):
        for k, day in enumerate((first, second)):
            doc = dt.date(2026, month, day)
            rows.append(("S", "INV", f"S{n}{k}", doc, doc + dt.timedelta(days=30), 1000, "", ""))
        rows.append(("S", "PAY", f"SP{n}", dt.date(2026, month + 1, 25), None, 2000, "", ""))
    for n, (doc, paid) in enumerate(((dt.date(2026, 7, 8), dt.date(2026, 8, 14)),
                                     (dt.date(2026, 8, 12), dt.date(2026, 9, 30)),
                                     (dt.date(2026, 9, 1), dt.date(2026, 10, 9)),
                                     (dt.date(2026, 10, 2), dt.date(2026, 11, 19)))):  # fmt: skip
        rows.append(("R", "INV", f"R{n}", doc, doc + dt.timedelta(days=30), 1000, "", ""))
        rows.append(("R", "PAY", f"RP{n}", paid, None, 1000, "", ""))
    for customer in ("S", "R"):
        rows.append((customer, "INV", f"{customer}-OPEN", dt.date(2026, 11, 9),
                     dt.date(2026, 12, 9), 5000, "", ""))  # fmt: skip
    return rows


def workbook(path, lead: int | None):
    make_book(path, customers=CUSTOMERS, ledger=_ledger(), as_of=dt.date(2026, 12, 1))
    if lead is not None:
        book = openpyxl.load_workbook(path)
        write_sheet(book, "Policy", ("Key", "Value"), [("ReminderLeadDays", lead)],
                    as_table=False)  # fmt: skip
        book["Policy"].add_table(Table(displayName="Rules", ref="A1:B2"))
        book.save(path)
    return path


def plan_of(result, customer: str) -> dict:
    plan = result.plan.set_index("customer_id")
    return plan.loc[customer].to_dict()


@pytest.fixture(scope="module")
def december(tmp_path_factory):
    """Every day of December: the letters run, as a scheduled task would run it."""
    folder = tmp_path_factory.mktemp("timing")
    path = workbook(folder / "branch.xlsx", lead=5)
    days = {}
    for n in range(31):
        day = dt.date(2026, 12, 1) + dt.timedelta(days=n)
        result = run_letters(path, as_of=day, out=folder / "letters" / str(day))
        assert not isinstance(result, tuple), result
        days[day] = result
    return days


def friendly(days, customer: str) -> list[dt.date]:
    """The days the customer was sent a friendly reminder."""
    out = []
    for day, result in days.items():
        plan = plan_of(result, customer)
        if plan["action"] == "send" and plan["next_key"] == "friendly_reminder":
            assert result.issued.documents  # issued, not only planned
            out.append(day)
    return out


def test_the_reminder_waits_for_the_payment_run_and_goes_once(december):
    assert friendly(december, "S") == [dt.date(2026, 12, 20)]
    assert friendly(december, "R") == [dt.date(2026, 12, 10)]  # no rhythm: not held


def test_the_held_days_say_why(december):
    for day in (dt.date(2026, 12, 10), dt.date(2026, 12, 19)):
        plan = plan_of(december[day], "S")
        assert plan["action"] == "skip" and plan["next_key"] != "friendly_reminder"
        assert plan["reason"] == (
            "Friendly reminder held until 2026-12-20, 5 day(s) before its payment run on "
            "2026-12-25 (pays each month's invoices on the 25th of the next month)")
        assert plan["reason_zh"] == ("友好提醒暂缓至2026年12月20日，即付款日2026年12月25日前5天"
                                     "（月结30天：每月25日付款）")  # fmt: skip
    sent = plan_of(december[dt.date(2026, 12, 20)], "S")
    assert sent["action"] == "send" and sent["stage_key"] == "friendly_reminder"
    assert sent["reason"].endswith(
        "; timed for its payment run on 2026-12-25 (pays each month's invoices on the 25th "
        "of the next month)")
    assert "赶在付款日2026年12月25日前发出" in sent["reason_zh"]


def test_timing_shapes_next_action_never_stage(december):
    for day in (dt.date(2026, 12, 10), dt.date(2026, 12, 19)):
        assert plan_of(december[day], "S")["stage_key"] == "friendly_reminder"


def test_off_by_default_the_reminder_goes_the_first_day_overdue(tmp_path):
    path = workbook(tmp_path / "branch.xlsx", lead=None)
    result = run_letters(path, as_of=dt.date(2026, 12, 10), dry_run=True)
    assert plan_of(result, "S")["next_key"] == "friendly_reminder"
    assert plan_of(result, "S")["action"] == "send"
