"""Late-payment interest and fixed compensation, worked by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xl_addin.core.interest import (
    ContractRate,
    first_reference_date,
    fixed_compensation,
    late_interest,
    no_reference_rate,
    parse_contract_rate,
    statutory_rate,
)
from xl_addin.core.policy import DEFAULT_POLICY, CompensationTier, Rules

NAT = np.datetime64("NaT", "D")
NAN = float("nan")


def dates(*texts: str | None) -> np.ndarray:
    return np.array([NAT if t is None else np.datetime64(t, "D") for t in texts])


@pytest.mark.parametrize(
    ("due", "rate"),
    [
        ("2025-03-31", "0.1275"),  # overdue from 2025-04-01: H1 2025, 4.75% + 8%
        ("2025-06-29", "0.1275"),  # overdue from 2025-06-30: still H1
        ("2025-06-30", "0.1225"),  # overdue from 2025-07-01: H2 2025, 4.25% + 8%
        ("2024-12-30", "0.1325"),  # overdue from 2024-12-31: H2 2024, 5.25% + 8%
        ("2024-12-31", "0.1275"),  # overdue from 2025-01-01: H1 2025
        ("2026-02-15", "0.1175"),  # H1 2026, 3.75% + 8%
        ("2026-08-15", "0.1175"),  # H2 2026: Bank Rate held at 3.75% on 30 June 2026
        ("2031-01-01", "0.1175"),  # after the table: its last row
        ("2020-05-01", "0.0875"),  # H1 2020, 0.75% + 8%
        ("2020-06-30", "0.0810"),  # overdue from 2020-07-01: H2 2020, 0.10% + 8%
        ("2021-12-31", "0.0825"),  # H1 2022, 0.25% + 8%
        ("2022-06-30", "0.0925"),  # H2 2022, 1.25% + 8%
        ("2018-12-31", "0.0875"),  # overdue from 2019-01-01: the table's first row
    ],
)
def test_statutory_rate_is_fixed_for_the_half_year_the_debt_became_overdue(due, rate):
    assert statutory_rate(dt.date.fromisoformat(due), DEFAULT_POLICY) == Decimal(rate)


def test_a_rate_change_inside_a_half_year_waits_for_the_next_one():
    policy = replace(
        DEFAULT_POLICY,
        reference_rates=(
            (dt.date(2025, 2, 6), Decimal("0.0450")),  # out of order on purpose
            (dt.date(2025, 1, 1), Decimal("0.0475")),
        ),
        rules=Rules(statutory_margin=Decimal("0.09")),
    )
    assert statutory_rate(dt.date(2025, 3, 31), policy) == Decimal("0.1375")
    assert statutory_rate(dt.date(2025, 6, 30), policy) == Decimal("0.1350")
    interest, _ = late_interest(
        np.array([1_000_000]), dates("2025-03-31"), np.datetime64("2025-05-30"), None, policy
    )
    assert interest.tolist() == [22603]  # 10,000 x 13.75% x 60 / 365 = 226.027


def test_a_policy_without_reference_rates_is_refused():
    with pytest.raises(ValueError, match="reference rates"):
        statutory_rate(dt.date(2025, 1, 1), replace(DEFAULT_POLICY, reference_rates=()))


# amount, due date, as of, annual rate, a fraction (NaN: statutory), interest, invalid
LEDGER = [
    ("10000.00", "2025-03-31", "2025-05-30", NAN, "209.59", False),  # 60 d x 12.75%: 209.589
    ("10000.00", "2025-03-31", "2025-05-30", 0.1825, "300.00", False),  # 0.05% a day, contract
    ("5000.00", "2025-06-30", "2025-07-30", NAN, "50.34", False),  # 30 d x 12.25%: 50.342
    ("5000.00", "2025-06-29", "2025-07-29", NAN, "52.40", False),  # 30 d x 12.75%: 52.397
    ("25.00", "2025-01-01", "2025-01-02", 0.365, "0.03", False),  # 2.5 cents: half up
    ("15.00", "2025-01-01", "2025-01-02", 0.365, "0.02", False),  # 1.5 cents
    ("5.00", "2025-01-01", "2025-01-02", 0.365, "0.01", False),  # 0.5 cents
    ("4.99", "2025-01-01", "2025-01-02", 0.365, "0.00", False),  # 0.499 cents
    ("10000.00", "2025-03-31", "2025-03-31", NAN, "0.00", False),  # due today
    ("10000.00", "2025-04-30", "2025-03-31", NAN, "0.00", False),  # not yet due
    ("10000.00", "2025-03-31", "2025-05-30", 0.0, "0.00", False),  # contract says no interest
    ("-10000.00", "2025-03-31", "2025-05-30", NAN, "0.00", False),  # a credit note
    ("10000.00", None, "2025-05-30", NAN, "0.00", True),  # no due date
    ("10000.00", "2025-03-31", None, NAN, "0.00", True),  # no as-of date
    ("10000.00", "2025-03-31", "2025-05-30", -0.01, "0.00", True),  # negative rate
    ("10000.00", "2025-03-31", "2025-05-30", float("inf"), "0.00", True),
    ("10000.00", "2025-03-31", "2025-05-30", 8.0, "0.00", True),  # 800%: a percent, not a fraction
    ("10000.00", "2018-12-30", "2019-01-30", NAN, "0.00", True),  # H2 2018: no reference rate
    ("10000.00", "2018-12-30", "2019-01-30", 0.08, "67.95", False),  # a contract rate needs none
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
        np.array([1_000_000]), dates("2025-03-31"), np.datetime64("2025-05-30"), 0.12, policy
    )
    assert interest.tolist() == [20000]  # 10,000 x 12% x 60 / 360


def reference(cents: int, rate: Decimal, days: int, basis: int = 365) -> int:
    with localcontext() as context:
        context.prec = 60
        exact = Decimal(max(cents, 0)) * rate * max(days, 0) / basis
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_huge_amounts_and_odd_rates_stay_exact():
    cents = np.array([9_000_000_000_000_000, 123_456_789_012_345], dtype=np.int64)
    rate = 0.12345678901
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
    rates = np.where(rng.random(n) < 0.5, NAN, rng.integers(0, 3000, n) / 10_000)
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
    st.one_of(st.just(NAN), st.decimals(0, 1, places=6).map(float)),
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
    result = fixed_compensation(Decimal(amount), "GBP", DEFAULT_POLICY)
    assert result == Decimal(compensation)
    assert result.as_tuple().exponent == -2


def test_no_compensation_below_the_first_tier():
    tier = CompensationTier("GBP", Decimal("100"), Decimal("40"))
    policy = replace(DEFAULT_POLICY, compensation=(tier,))
    assert fixed_compensation(Decimal("99.99"), "GBP", policy) == 0
    assert fixed_compensation(Decimal("100"), "gbp", policy) == Decimal("40")


@pytest.mark.parametrize("amount", ["0.01", "999.99", "1000", "9999.99", "10000", "1000000"])
def test_a_euro_debt_gets_the_directives_flat_40_never_the_uk_tiers(amount):
    """Directive 2011/7/EU art. 6: a fixed EUR 40 per invoice, whatever its size."""
    assert fixed_compensation(Decimal(amount), "EUR", DEFAULT_POLICY) == Decimal("40.00")


@pytest.mark.parametrize("currency", ["USD", "CNY", "HKD", ""])
def test_other_currencies_get_no_statutory_compensation(currency):
    for amount in ("500", "5000", "50000"):
        assert fixed_compensation(Decimal(amount), currency, DEFAULT_POLICY) == 0


# --- the gov.uk worked example, half-years, the table's start -----------------------------


def test_the_gov_uk_worked_example():
    """GOV.UK, "Late commercial payments: charging interest and debt recovery" (charging
    interest on a commercial debt), https://www.gov.uk/late-commercial-payments-interest-debt-recovery/charging-interest-commercial-debt:

    a business owed £1,000 with a Bank of England base rate of 0.5%: the annual statutory
    interest is £85 (1,000 x 0.085), the daily interest 23p (85 / 365 = 0.23), and after
    50 days "this would be £11.50 (50 x 0.23 = 11.50)".

    The Act's interest is simple and daily, amount x rate x days / 365, and this engine
    rounds once at the end: 1,000 x 0.085 x 50 / 365 = 11.6438 gives £11.64. GOV.UK's
    £11.50 multiplies the daily 23p after rounding it; both figures are checked below.
    """
    policy = replace(DEFAULT_POLICY, reference_rates=((dt.date(2018, 1, 1), Decimal("0.005")),))
    due = dates("2018-01-31")
    assert statutory_rate(dt.date(2018, 1, 31), policy) == Decimal("0.085")  # 0.5% + 8%

    def owed(as_of: str) -> Decimal:
        cents, bad = late_interest(np.array([100_000]), due, np.datetime64(as_of), None, policy)
        assert not bad.any()
        return Decimal(int(cents[0])).scaleb(-2)

    assert owed("2019-01-31") == Decimal("85.00")  # a year of 365 days: £85
    daily = owed("2018-02-01")
    assert daily == Decimal("0.23")  # 85 / 365 = 0.2329: 23p a day
    assert 50 * daily == Decimal("11.50")  # GOV.UK's figure: 50 x 0.23
    assert owed("2018-03-22") == Decimal("11.64")  # 50 days, rounded once: 11.6438


def test_a_2022_debt_gets_its_own_half_years_rate():
    """Bank Rate 0.25% on 31 December 2021 (H1 2022) and 1.25% on 30 June 2022 (H2 2022)."""
    assert statutory_rate(dt.date(2022, 3, 15), DEFAULT_POLICY) == Decimal("0.0825")
    assert statutory_rate(dt.date(2022, 9, 15), DEFAULT_POLICY) == Decimal("0.0925")
    interest, bad = late_interest(
        np.array([1_000_000, 1_000_000]),
        dates("2022-03-15", "2022-09-15"),
        np.datetime64("2022-12-31"),  # 291 and 107 days
        None,
        DEFAULT_POLICY,
    )
    assert not bad.any()
    # 10,000 x 8.25% x 291 / 365 = 657.7397; 10,000 x 9.25% x 107 / 365 = 271.1644
    assert interest.tolist() == [65774, 27116]


def test_a_debt_overdue_before_the_reference_table_has_no_rate():
    assert first_reference_date(DEFAULT_POLICY) == dt.date(2019, 1, 1)
    assert statutory_rate(dt.date(2018, 6, 30), DEFAULT_POLICY) is None
    assert statutory_rate(dt.date(2018, 12, 30), DEFAULT_POLICY) is None  # overdue 2018-12-31
    due = dates("2018-06-30", "2018-12-31", None)
    rates = np.array([NAN, NAN, NAN])
    assert no_reference_rate(due, rates, DEFAULT_POLICY).tolist() == [True, False, False]
    assert no_reference_rate(due, np.array([0.08, NAN, NAN]), DEFAULT_POLICY).tolist() == [
        False, False, False,
    ]  # fmt: skip
    interest, bad = late_interest(
        np.array([100_000] * 3), due, np.datetime64("2019-06-30"), rates, DEFAULT_POLICY
    )
    assert bad.tolist() == [True, False, True]
    assert interest[0] == 0  # never a silent rate from some other half-year


# --- contract rates ------------------------------------------------------------------------


def test_a_contract_rate_replaces_the_statutory_one():
    interest, _ = late_interest(
        np.array([1_000_000, 1_000_000]),
        dates("2025-03-31", "2025-03-31"),
        np.datetime64("2025-05-30"),
        np.array([0.05, NAN]),
        DEFAULT_POLICY,
    )
    assert interest.tolist() == [8219, 20959]  # 10,000 x 5% x 60 / 365 = 82.19; statutory 12.75%


def test_a_daily_rate_runs_by_the_day():
    """每日万分之五 on ¥100,000 for 30 days: 100,000 x 0.0005 x 30 = ¥1,500.00."""
    rate, problem = parse_contract_rate("每日万分之五")
    assert (rate, problem) == (ContractRate(Decimal("0.0005"), per_day=True), "")
    interest, bad = late_interest(
        np.array([10_000_000]),
        dates("2026-10-31"),
        np.datetime64("2026-11-30"),
        np.array([float(rate.rate)]),
        DEFAULT_POLICY,
        per_day=np.array([rate.per_day]),
    )
    assert interest.tolist() == [150_000] and not bad.any()
    # The day count basis does not touch a daily rate; a yearly rate of 18.25% is the same.
    at_360 = replace(DEFAULT_POLICY, rules=Rules(interest_basis_days=360))
    daily, _ = late_interest(np.array([10_000_000]), dates("2026-10-31"),
                             np.datetime64("2026-11-30"), 0.0005, at_360, per_day=True)  # fmt: skip
    yearly, _ = late_interest(np.array([10_000_000]), dates("2026-10-31"),
                              np.datetime64("2026-11-30"), 0.1825, DEFAULT_POLICY)  # fmt: skip
    assert daily.tolist() == yearly.tolist() == [150_000]


@pytest.mark.parametrize(
    ("value", "per", "rate", "per_day"),
    [
        (0.08, None, "0.08", False),  # a cell formatted 8%
        ("8%", "", "0.08", False),
        ("8%", "年", "0.08", False),
        (0.0005, "day", "0.0005", True),
        (0.0005, "日", "0.0005", True),
        ("0.05%/day", None, "0.0005", True),
        ("0.05% per day", "Day", "0.0005", True),
        ("日万分之五", None, "0.0005", True),
        ("每日万分之五", "日", "0.0005", True),
        ("万分之五", "日", "0.0005", True),
        ("日千分之一", None, "0.001", True),
        ("年利率6%", None, "0.06", False),
        ("日利率0.05%", None, "0.0005", True),
        ("万分之十五", "day", "0.0015", True),
    ],
)
def test_contract_rates_as_written(value, per, rate, per_day):
    assert parse_contract_rate(value, per) == (ContractRate(Decimal(rate), per_day), "")


@pytest.mark.parametrize(
    ("value", "per", "problem"),
    [
        (8, None, "ContractRate 8 is not a fraction: write 8%"),
        ("8", None, "ContractRate 8 is not a fraction: write 8%"),
        (-0.01, None, 'ContractRate "-0.01" is negative'),
        ("eight", None, 'ContractRate "eight" is not a rate (write 8%, 0.05%/day or 日万分之五)'),
        (0.08, "week", 'ContractRatePer "week" must be year or day (年 or 日)'),
        ("0.05%/day", "year",
         'ContractRate "0.05%/day" is a rate a day, but ContractRatePer says year'),
        ("万分之五", None,
         'ContractRate "万分之五" names no period: write 日万分之五 or 年万分之五'),
    ],
)  # fmt: skip
def test_a_bad_contract_rate_says_what_is_wrong(value, per, problem):
    assert parse_contract_rate(value, per) == (None, problem)


def test_a_blank_contract_rate_is_none():
    for blank in (None, "", "  ", NAN):
        assert parse_contract_rate(blank, None) == (None, "")
