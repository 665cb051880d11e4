"""Late-payment interest and fixed compensation, worked by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xl_addin.core.interest import fixed_compensation, late_interest, statutory_rate
from xl_addin.core.policy import DEFAULT_POLICY, Rules

NAT = np.datetime64("NaT", "D")
NAN = float("nan")


def dates(*texts: str | None) -> np.ndarray:
    return np.array([NAT if t is None else np.datetime64(t, "D") for t in texts])


@pytest.mark.parametrize(
    ("due", "rate"),
    [
        ("2025-03-31", "12.75"),  # overdue from 2025-04-01: H1 2025, 4.75 + 8
        ("2025-06-29", "12.75"),  # overdue from 2025-06-30: still H1
        ("2025-06-30", "12.25"),  # overdue from 2025-07-01: H2 2025, 4.25 + 8
        ("2024-12-30", "13.25"),  # overdue from 2024-12-31: H2 2024, 5.25 + 8
        ("2024-12-31", "12.75"),  # overdue from 2025-01-01: H1 2025
        ("2026-02-15", "11.75"),  # H1 2026, 3.75 + 8
        ("2031-01-01", "11.75"),  # after the table: its last row
        ("2020-05-01", "11.50"),  # before the table: its earliest row, 3.50 + 8
    ],
)
def test_statutory_rate_is_fixed_for_the_half_year_the_debt_became_overdue(due, rate):
    assert statutory_rate(dt.date.fromisoformat(due), DEFAULT_POLICY) == Decimal(rate)


def test_a_rate_change_inside_a_half_year_waits_for_the_next_one():
    policy = replace(
        DEFAULT_POLICY,
        reference_rates=(
            (dt.date(2025, 2, 6), Decimal("4.50")),  # out of order on purpose
            (dt.date(2025, 1, 1), Decimal("4.75")),
        ),
        rules=Rules(statutory_margin=Decimal("9")),
    )
    assert statutory_rate(dt.date(2025, 3, 31), policy) == Decimal("13.75")
    assert statutory_rate(dt.date(2025, 6, 30), policy) == Decimal("13.50")
    interest, _ = late_interest(
        np.array([1_000_000]), dates("2025-03-31"), np.datetime64("2025-05-30"), None, policy
    )
    assert interest.tolist() == [22603]  # 10,000 x 13.75% x 60 / 365 = 226.027


def test_a_policy_without_reference_rates_is_refused():
    with pytest.raises(ValueError, match="reference rates"):
        statutory_rate(dt.date(2025, 1, 1), replace(DEFAULT_POLICY, reference_rates=()))


# amount, due date, as of, annual rate % (NaN: statutory), interest, invalid
LEDGER = [
    ("10000.00", "2025-03-31", "2025-05-30", NAN, "209.59", False),  # 60 d x 12.75%: 209.589
    ("10000.00", "2025-03-31", "2025-05-30", 18.25, "300.00", False),  # 0.05% a day, contract
    ("5000.00", "2025-06-30", "2025-07-30", NAN, "50.34", False),  # 30 d x 12.25%: 50.342
    ("5000.00", "2025-06-29", "2025-07-29", NAN, "52.40", False),  # 30 d x 12.75%: 52.397
    ("25.00", "2025-01-01", "2025-01-02", 36.5, "0.03", False),  # 2.5 cents: half up
    ("15.00", "2025-01-01", "2025-01-02", 36.5, "0.02", False),  # 1.5 cents
    ("5.00", "2025-01-01", "2025-01-02", 36.5, "0.01", False),  # 0.5 cents
    ("4.99", "2025-01-01", "2025-01-02", 36.5, "0.00", False),  # 0.499 cents
    ("10000.00", "2025-03-31", "2025-03-31", NAN, "0.00", False),  # due today
    ("10000.00", "2025-04-30", "2025-03-31", NAN, "0.00", False),  # not yet due
    ("10000.00", "2025-03-31", "2025-05-30", 0.0, "0.00", False),  # contract says no interest
    ("-10000.00", "2025-03-31", "2025-05-30", NAN, "0.00", False),  # a credit note
    ("10000.00", None, "2025-05-30", NAN, "0.00", True),  # no due date
    ("10000.00", "2025-03-31", None, NAN, "0.00", True),  # no as-of date
    ("10000.00", "2025-03-31", "2025-05-30", -1.0, "0.00", True),  # negative rate
    ("10000.00", "2025-03-31", "2025-05-30", float("inf"), "0.00", True),
]


def test_late_interest_on_a_small_ledger():
    amounts, due, as_of, rates, expected, invalid = zip(*LEDGER)
    cents = np.array([int(Decimal(a) * 100) for a in amounts], dtype=np.int64)
    interest, bad = late_interest(
        cents, dates(*due), dates(*as_of), np.array(rates), DEFAULT_POLICY
    )
    assert interest.dtype == np.int64
    assert [str(Decimal(int(c)).scaleb(-2)) for c in interest] == list(expected)
    assert bad.tolist() == list(invalid)


def test_missing_amounts_are_invalid():
    for amounts in (np.array([NAN, 1e6]), np.array([None, 1_000_000], dtype=object)):
        interest, bad = late_interest(
            amounts,
            dates("2025-03-31", "2025-03-31"),
            np.datetime64("2025-05-30"),
            None,
            DEFAULT_POLICY,
        )
        assert interest.tolist() == [0, 20959]
        assert bad.tolist() == [True, False]


def test_one_as_of_date_for_every_row():
    interest, bad = late_interest(
        np.array([1_000_000, 1_000_000]),
        dates("2025-03-31", "2025-04-30"),
        np.datetime64("2025-05-30"),
        np.array([NAN, NAN]),
        DEFAULT_POLICY,
    )
    assert interest.tolist() == [20959, 10479]  # 60 and 30 days at 12.75%: 209.589, 104.794
    assert not bad.any()


def test_the_basis_is_a_policy_rule():
    policy = replace(DEFAULT_POLICY, rules=Rules(interest_basis_days=360))
    interest, _ = late_interest(
        np.array([1_000_000]), dates("2025-03-31"), np.datetime64("2025-05-30"), 12.0, policy
    )
    assert interest.tolist() == [20000]  # 10,000 x 12% x 60 / 360


def reference(cents: int, rate: Decimal, days: int, basis: int = 365) -> int:
    with localcontext() as context:
        context.prec = 60
        exact = Decimal(max(cents, 0)) * rate * max(days, 0) / (100 * basis)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_huge_amounts_and_odd_rates_stay_exact():
    cents = np.array([9_000_000_000_000_000, 123_456_789_012_345], dtype=np.int64)
    rate = 12.345678901
    interest, _ = late_interest(
        cents, dates("1990-01-01", "1990-01-01"), np.datetime64("2025-05-30"), rate, DEFAULT_POLICY
    )
    days = (np.datetime64("2025-05-30") - np.datetime64("1990-01-01")).astype(int)
    assert interest.tolist() == [reference(int(c), Decimal(repr(rate)), int(days)) for c in cents]


def test_many_rows_and_rates():
    rng = np.random.default_rng(7)
    n = 100_000
    cents = rng.integers(-1_000_000, 100_000_000, n)
    due = np.datetime64("2022-01-01") + rng.integers(0, 1500, n).astype("timedelta64[D]")
    rates = np.where(rng.random(n) < 0.5, NAN, rng.integers(0, 3000, n) / 100)
    as_of = np.datetime64("2026-06-30")
    interest, bad = late_interest(cents, due, as_of, rates, DEFAULT_POLICY)
    assert not bad.any()
    for i in rng.choice(n, 200, replace=False):
        day = due[i].item()
        rate = (
            statutory_rate(day, DEFAULT_POLICY)
            if np.isnan(rates[i])
            else Decimal(repr(float(rates[i])))
        )
        assert interest[i] == reference(int(cents[i]), rate, (as_of - due[i]).astype(int))


ROW = st.tuples(
    st.integers(-(10**12), 10**12),  # cents
    st.integers(0, 4000),  # due date, days after 2020-01-01
    st.one_of(st.just(NAN), st.decimals(0, 100, places=4).map(float)),
    st.integers(-100, 5000),  # days from due date to the first as-of
    st.integers(0, 5000),  # further days to the second as-of
)


@given(st.lists(ROW, min_size=1, max_size=20))
def test_interest_is_never_negative_and_grows_with_days(rows):
    cents, offsets, rates, first, more = (np.array(column) for column in zip(*rows))
    due = np.datetime64("2020-01-01") + offsets.astype("timedelta64[D]")
    earlier = due + first.astype("timedelta64[D]")
    later = earlier + more.astype("timedelta64[D]")
    before, bad = late_interest(cents, due, earlier, rates.astype(float), DEFAULT_POLICY)
    after, _ = late_interest(cents, due, later, rates.astype(float), DEFAULT_POLICY)
    assert not bad.any()
    assert (before >= 0).all()
    assert (after >= before).all()


@pytest.mark.parametrize(
    ("amount", "compensation"),
    [
        ("-5", "0"),
        ("0", "0"),
        ("0.01", "40"),
        ("999.99", "40"),
        ("1000", "70"),
        ("9999.99", "70"),
        ("10000", "100"),
        ("1000000000", "100"),
    ],
)
def test_fixed_compensation_tiers(amount, compensation):
    result = fixed_compensation(Decimal(amount), DEFAULT_POLICY)
    assert result == Decimal(compensation)
    assert result.as_tuple().exponent == -2


def test_no_compensation_below_the_first_tier():
    policy = replace(DEFAULT_POLICY, compensation=((Decimal("100"), Decimal("40")),))
    assert fixed_compensation(Decimal("99.99"), policy) == 0
    assert fixed_compensation(Decimal("100"), policy) == Decimal("40")
