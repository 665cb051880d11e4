"""The Policy sheet's interest tables read back: fractions, reference rates, compensation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from xl_addin.core.interest import fixed_compensation
from xl_addin.core.policy import DEFAULT_POLICY, CompensationTier, policy_from_tables


def table(columns: dict[str, str], rows: list[tuple], first_row: int) -> pd.DataFrame:
    """A policy table as the reader gives it: a row column and the cells' column letters."""
    frame = pd.DataFrame(rows, columns=list(columns), dtype=object)
    frame["row"] = range(first_row, first_row + len(rows))
    frame.attrs = {"sheet": "Policy", "letters": columns}
    return frame


def test_reference_rates_are_fractions():
    interest = table(
        {"EffectiveFrom": "B", "ReferenceRate": "C"},
        [(dt.datetime(2026, 7, 1), 0.04), (dt.datetime(2026, 1, 1), 0.0375)],
        11,
    )
    policy, problems = policy_from_tables({"Interest": interest})
    assert problems == []
    assert policy.reference_rates == (
        (dt.date(2026, 1, 1), Decimal("0.0375")),
        (dt.date(2026, 7, 1), Decimal("0.04")),
    )


def test_a_reference_rate_in_percent_is_a_located_problem_not_a_rate():
    interest = table(
        {"EffectiveFrom": "B", "ReferenceRate": "C"},
        [(dt.datetime(2023, 1, 1), 3.5), (dt.datetime(2023, 7, 1), 0.05)],
        12,
    )
    policy, problems = policy_from_tables({"Interest": interest})
    assert [str(p) for p in problems] == [
        "Policy!C12: ReferenceRate 3.5 is not a fraction: write 3.5%"
    ]
    assert policy.reference_rates == ((dt.date(2023, 7, 1), Decimal("0.05")),)


def test_the_statutory_margin_is_a_fraction():
    rules = table({"Key": "A", "Value": "B"}, [("StatutoryMargin", 0.09)], 32)
    policy, problems = policy_from_tables({"Rules": rules})
    assert problems == [] and policy.rules.statutory_margin == Decimal("0.09")
    rules = table({"Key": "A", "Value": "B"}, [("StatutoryMargin", 8)], 32)
    policy, problems = policy_from_tables({"Rules": rules})
    assert [str(p) for p in problems] == [
        "Policy!B32: StatutoryMargin 8 is not a fraction: write 8%"
    ]
    assert policy.rules.statutory_margin == DEFAULT_POLICY.rules.statutory_margin


def test_the_default_reference_table_covers_the_claim_window():
    """Six years back from 2026 (the Limitation Act's window) and the running half-year."""
    starts = [when for when, _ in DEFAULT_POLICY.reference_rates]
    assert starts[0] == dt.date(2019, 1, 1) and starts[-1] >= dt.date(2026, 7, 1)
    assert all(s.day == 1 and s.month in (1, 7) for s in starts)
    half_years = (starts[-1].year - 2019) * 2 + starts[-1].month // 7 + 1
    assert len(starts) == len(set(starts)) == half_years
    assert all(0 <= rate < 1 for _, rate in DEFAULT_POLICY.reference_rates)


def test_an_old_compensation_table_without_currency_is_gbp_and_keeps_the_euro_rule():
    old = table(
        {"FromAmount": "A", "Compensation": "B"},
        [(0, 40), (1000, 70), (10000, 150)],
        80,
    )
    policy, problems = policy_from_tables({"Compensation": old})
    assert problems == []
    assert fixed_compensation(Decimal("20000"), "GBP", policy) == Decimal("150.00")
    assert fixed_compensation(Decimal("20000"), "EUR", policy) == Decimal("40.00")
    assert fixed_compensation(Decimal("20000"), "USD", policy) == 0


def test_compensation_rows_per_currency_replace_that_currencys_rule():
    rows = [
        ("", 0, 45),  # blank currency: GBP
        ("GBP", 1000, 70), ("GBP", 10000, 100),
        ("EUR", 0, 0),  # this branch does not claim the EU sum
        ("usd", 0, 50),
    ]  # fmt: skip
    compensation = table({"Currency": "A", "FromAmount": "B", "Compensation": "C"}, rows, 80)
    policy, problems = policy_from_tables({"Compensation": compensation})
    assert problems == []
    assert fixed_compensation(Decimal("500"), "EUR", policy) == 0
    assert fixed_compensation(Decimal("500"), "USD", policy) == Decimal("50.00")
    assert fixed_compensation(Decimal("500"), "GBP", policy) == Decimal("45.00")
    assert fixed_compensation(Decimal("5000"), "GBP", policy) == Decimal("70.00")
    assert CompensationTier("GBP", Decimal("0"), Decimal("45")) in policy.compensation


def test_reminder_lead_days_is_off_unless_set():
    assert DEFAULT_POLICY.rules.reminder_lead_days is None
    rules = table({"Key": "A", "Value": "B"}, [("ReminderLeadDays", 5)], 32)
    policy, problems = policy_from_tables({"Rules": rules})
    assert problems == [] and policy.rules.reminder_lead_days == 5
    rules = table({"Key": "A", "Value": "B"}, [("ReminderLeadDays", None)], 32)
    policy, problems = policy_from_tables({"Rules": rules})
    assert problems == [] and policy.rules.reminder_lead_days is None  # blank: off
    rules = table({"Key": "A", "Value": "B"}, [("ReminderLeadDays", -2)], 32)
    policy, problems = policy_from_tables({"Rules": rules})
    assert [str(p) for p in problems] == ["Policy!B32: ReminderLeadDays must be 0 or more"]
    assert policy.rules.reminder_lead_days is None



def test_a_letters_pay_by_date_holds_from_the_demand_letter_unless_the_rule_says_otherwise():
    assert DEFAULT_POLICY.rules.deadline_from_stage == "demand_letter"
    rules = table({"Key": "A", "Value": "B"}, [("DeadlineFromStage", "最后通知")], 33)
    policy, problems = policy_from_tables({"Rules": rules})
    assert problems == [] and policy.stage_index(policy.rules.deadline_from_stage) == 5
    for blank in (None, float("nan"), " "):  # blank: no letter holds the ladder
        rules = table({"Key": "A", "Value": "B"}, [("DeadlineFromStage", blank)], 33)
        policy, problems = policy_from_tables({"Rules": rules})
        assert problems == [] and policy.rules.deadline_from_stage == ""
    rules = table({"Key": "A", "Value": "B"}, [("DeadlineFromStage", "final notise")], 33)
    policy, problems = policy_from_tables({"Rules": rules})
    assert [str(p) for p in problems] == ['Policy: rule names unknown stage "final notise"']
