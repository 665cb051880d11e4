"""Expected recovery on the DOMAIN.md curve, and bad-debt provision by age band."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xl_addin.core.policy import DEFAULT_POLICY
from xl_addin.core.recovery import expected_recovery, provision_cents, provision_rate

NAN = float("nan")

# days overdue, chance of collecting
RECOVERY = [
    (-10, 1.0),  # not yet due: flat before the first point
    (0, 1.0),
    (30, 1.0),
    (60, 1.0),  # within 2 months: about 100%
    (80, 0.9),  # halfway from 60 to 100
    (100, 0.8),  # within 100 days: about 80%
    (140, 0.65),
    (180, 0.5),  # within 180 days: about 50%
    (272.5, 0.383),
    (365, 0.266),  # over 12 months
    (730, 0.136),  # over 2 years
    (5000, 0.136),  # flat after the last point
]


def test_expected_recovery_interpolates_the_curve():
    days, expected = zip(*RECOVERY)
    chance = expected_recovery(np.array(days, dtype=float), DEFAULT_POLICY)
    np.testing.assert_allclose(chance, expected, rtol=0, atol=1e-12)


def test_expected_recovery_of_an_unknown_age_is_unknown():
    chance = expected_recovery(np.array([NAN, 100.0]), DEFAULT_POLICY)
    assert np.isnan(chance[0]) and chance[1] == pytest.approx(0.8)


@given(st.lists(st.floats(-1000, 10_000), min_size=2, max_size=30))
def test_recovery_never_rises_with_age(days):
    days = np.sort(np.array(days))
    chance = expected_recovery(days, DEFAULT_POLICY)
    assert (np.diff(chance) <= 1e-15).all()
    assert ((chance >= 0.136) & (chance <= 1.0)).all()


# days overdue, provision rate (under 1 year 5%, 1-2 years 10%, ... over 5 years 100%)
PROVISION = [
    (-5, 0.05),
    (0, 0.05),
    (365, 0.05),
    (366, 0.10),
    (730, 0.10),
    (731, 0.30),
    (1095, 0.30),
    (1096, 0.50),
    (1460, 0.50),
    (1461, 0.80),
    (1825, 0.80),
    (1826, 1.00),
    (9000, 1.00),
]


def test_provision_rate_by_band():
    days, expected = zip(*PROVISION)
    assert provision_rate(np.array(days, dtype=float), DEFAULT_POLICY).tolist() == list(expected)
    assert np.isnan(provision_rate(np.array([NAN]), DEFAULT_POLICY)[0])


def test_days_below_the_first_band_take_its_rate():
    policy = replace(
        DEFAULT_POLICY, provision=((90, Decimal("0.02")), (30, Decimal("0.01")))
    )  # out of order on purpose
    rates = provision_rate(np.array([0.0, 29, 30, 89, 90, 400]), policy)
    assert rates.tolist() == [0.01, 0.01, 0.01, 0.01, 0.02, 0.02]


# open amount, days overdue, provision
PROVISION_CENTS = [
    ("1000.05", 10, "50.00"),  # 5% of 1,000.05 = 50.0025
    ("0.10", 10, "0.01"),  # 0.5 cents: half up
    ("0.30", 10, "0.02"),  # 1.5 cents
    ("0.29", 10, "0.01"),  # 1.45 cents
    ("-0.30", 10, "-0.02"),  # a credit: half away from zero
    ("1000.05", 800, "300.02"),  # 30% = 300.015
    ("1000.05", 2000, "1000.05"),  # 100%
    ("1000.05", NAN, "0.00"),  # no age: no provision
]


def test_provision_cents_exact_half_up():
    amounts, days, expected = zip(*PROVISION_CENTS)
    cents = np.array([int(Decimal(a) * 100) for a in amounts], dtype=np.int64)
    provision = provision_cents(cents, np.array(days, dtype=float), DEFAULT_POLICY)
    assert provision.dtype == np.int64
    assert [str(Decimal(int(c)).scaleb(-2)) for c in provision] == list(expected)


def exact_provision(cents: int, rate: Decimal) -> int:
    magnitude = (abs(cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(magnitude) if cents >= 0 else -int(magnitude)


def test_huge_amounts_and_odd_rates_stay_exact():
    rate = Decimal("0.123456789")
    policy = replace(DEFAULT_POLICY, provision=((0, rate),))
    cents = np.array([9_000_000_000_000_000, -123_456_789_012_345], dtype=np.int64)
    provision = provision_cents(cents, np.array([1.0, 1.0]), policy)
    assert provision.tolist() == [exact_provision(int(c), rate) for c in cents]


@given(st.lists(st.tuples(st.integers(-(10**15), 10**15), st.integers(-30, 3000)), min_size=1))
def test_provision_matches_decimal_and_never_exceeds_the_open_amount(rows):
    cents, days = (np.array(column) for column in zip(*rows))
    provision = provision_cents(cents, days.astype(float), DEFAULT_POLICY)
    rates = provision_rate(days.astype(float), DEFAULT_POLICY)
    expected = [exact_provision(int(c), Decimal(repr(float(r)))) for c, r in zip(cents, rates)]
    assert provision.tolist() == expected
    assert (np.abs(provision) <= np.abs(cents)).all()
