"""Late-payment charges: simple interest at a statutory or contract rate, and fixed compensation.

Rates are fractions, as Excel stores percentages (8% is 0.08). UK Late Payment of Commercial
Debts (Interest) Act 1998: interest = amount x rate x days / basis (365), from the day after
the due date, at the reference rate fixed for that half-year plus the statutory margin
(0.08). A half-year before the reference table's first row has no rate: such rows are
invalid (no interest) and `no_reference_rate` finds them, so that the caller can say so.
A contract rate (违约金) replaces the statutory one row by row, a yearly or a daily rate
(每日万分之五 is 0.0005 a day: amount x rate x days). Fixed compensation follows the
currency's law (policy.compensation). Interest is worked exactly in integers and rounded to
the cent half away from zero.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from operator import itemgetter

import numpy as np
import pandas as pd

from xl_addin.core.money import quantize, scale_half_up
from xl_addin.core.policy import Policy

_first = itemgetter(0)


def statutory_rate(due_date: dt.date, policy: Policy) -> Decimal | None:
    """Return the statutory annual rate (a fraction) for a debt due on `due_date`.

    The reference rate is the one fixed for the half-year (from 1 January or 1 July) in
    which the debt became overdue, the day after the due date. None: the half-year is
    before the policy's first reference rate.
    """
    overdue_from = due_date + dt.timedelta(days=1)
    half_year = dt.date(overdue_from.year, 1 if overdue_from.month < 7 else 7, 1)
    reference = _reference_rate(half_year, policy)
    return None if reference is None else reference + policy.rules.statutory_margin


def first_reference_date(policy: Policy) -> dt.date:
    """Return the start of the earliest half-year the policy has a reference rate for."""
    if not policy.reference_rates:
        raise ValueError("the policy has no reference rates (Interest table)")
    return min(policy.reference_rates, key=_first)[0]


def _reference_rate(half_year: dt.date, policy: Policy) -> Decimal | None:
    """Return the rate of the latest row in force at `half_year` (None: before every row)."""
    first_reference_date(policy)  # refuses a policy without rates
    in_force = [row for row in policy.reference_rates if row[0] <= half_year]
    return max(in_force, key=_first)[1] if in_force else None


def late_interest(
    amount_cents: np.ndarray,
    due_dates: np.ndarray,
    as_of: np.datetime64 | np.ndarray,
    annual_rates: np.ndarray | None,
    policy: Policy,
    *,
    per_day: np.ndarray | bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Return each row's simple late interest in int64 cents, and a mask of invalid rows.

    Interest runs from the day after the due date to `as_of` inclusive (as_of - due days)
    on positive amounts only, at the row's rate (a fraction: a year's, or a day's where
    `per_day`) or, where that is NaN (or `annual_rates` is None), the statutory rate for
    its due date. Invalid rows (no due date, no amount, no as-of date, a rate negative,
    infinite or above 1, a statutory rate before the reference table) get 0 interest.
    """
    cents, missing = _whole_cents(amount_cents)
    due = np.asarray(due_dates, dtype="datetime64[D]")
    until = np.broadcast_to(np.asarray(as_of, dtype="datetime64[D]"), due.shape)
    rates = _rates(annual_rates, due.shape)
    daily = np.broadcast_to(np.asarray(per_day, dtype=bool), due.shape)
    bad_rate = (rates < 0) | (rates > 1) | np.isinf(rates)
    invalid = missing | np.isnat(due) | np.isnat(until) | bad_rate
    invalid |= _before_reference_rates(due, rates, policy)
    days = np.where(invalid, 0, (until - due).astype(np.int64))
    charged = ~invalid & (cents > 0) & (days > 0)

    interest = np.zeros(due.shape, dtype=np.int64)
    basis = policy.rules.interest_basis_days
    contract = charged & ~np.isnan(rates)
    for per, day_basis in ((~daily, basis), (daily, 1)):
        for rate, rows in _groups(rates, contract & per):
            exact = Decimal(repr(float(rate)))  # the rate as typed, not its binary float
            interest[rows] = _simple_interest(cents[rows], days[rows], exact, day_basis)
    statutory = charged & np.isnan(rates)
    for half_year, rows in _groups(_half_year_starts(due), statutory):
        rate = _reference_rate(half_year.item(), policy) + policy.rules.statutory_margin
        interest[rows] = _simple_interest(cents[rows], days[rows], rate, basis)
    return interest, invalid


def no_reference_rate(
    due_dates: np.ndarray, annual_rates: np.ndarray | None, policy: Policy
) -> np.ndarray:
    """Return the rows charged at the statutory rate whose half-year the policy has no rate for."""
    due = np.asarray(due_dates, dtype="datetime64[D]")
    return _before_reference_rates(due, _rates(annual_rates, due.shape), policy)


def _rates(annual_rates: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    if annual_rates is None:
        return np.full(shape, np.nan)
    return np.broadcast_to(np.asarray(annual_rates, dtype=np.float64), shape)


def _before_reference_rates(due: np.ndarray, rates: np.ndarray, policy: Policy) -> np.ndarray:
    statutory = np.isnan(rates) & ~np.isnat(due)
    if not statutory.any():
        return statutory
    first = np.datetime64(first_reference_date(policy), "D")
    return statutory & (_half_year_starts(due) < first)


def fixed_compensation(amount: Decimal, currency: str, policy: Policy) -> Decimal:
    """Return the fixed compensation for one overdue debt of `amount` in `currency` (0: none).

    The tiers are the currency's (policy.compensation): GBP the UK Act's 40 / 70 / 100 by
    the size of the debt, EUR the directive's flat 40, any other currency none by default.
    """
    code = currency.strip().upper()
    tiers = [t for t in policy.compensation if t.currency == code and t.from_amount <= amount]
    if amount <= 0 or not tiers:
        return quantize(Decimal(0))
    return quantize(max(tiers, key=lambda tier: tier.from_amount).amount)


# --- contract rates: the Customers table's ContractRate and ContractRatePer -----------------

_YEAR_WORDS = frozenset(
    {"year", "years", "yearly", "annual", "annually", "peryear", "ayear", "pa", "p.a.", "y",
     "年", "每年", "按年", "年利率", "年息", "年化"}
)  # fmt: skip
_DAY_WORDS = frozenset(
    {"day", "days", "daily", "perday", "aday", "d", "日", "每日", "按日", "日利率", "日息", "天",
     "每天", "按天"}
)  # fmt: skip
_CHINESE_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                   "七": 7, "八": 8, "九": 9}  # fmt: skip
_CHINESE_SHARES = (("万分之", Decimal("0.0001")), ("千分之", Decimal("0.001")),
                   ("百分之", Decimal("0.01")))  # fmt: skip
_PERIOD_MARKS = re.compile(
    r"(?:/|per|a|每|按)?\s*(day|daily|year|yearly|annual|p\.?a\.?|日|天|年)\s*$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class ContractRate:
    """A customer's agreed late-payment rate: a fraction a year, or a day (`per_day`)."""

    rate: Decimal
    per_day: bool = False


def parse_contract_rate(value: object, per: object = None) -> tuple[ContractRate | None, str]:
    """Return the contract rate a cell holds (None: blank) and what is wrong with it ("": fine).

    `value` is a fraction (0.08, or a cell formatted 8%), or text: "8%", "0.05%/day",
    "万分之五", "日万分之五", "每日万分之五". `per` (the ContractRatePer cell) says year or day
    (年 / 日); blank is a year, or what the text itself says.
    """
    period, problem = _period(per)
    if problem:
        return None, problem
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, ""
    if isinstance(value, bool):
        return None, f'ContractRate "{value}" is not a rate'
    if isinstance(value, int | float | Decimal | np.number):
        return _checked(Decimal(repr(float(value))), period == "day", str(value))
    text = str(value).strip()
    if not text:
        return None, ""
    said, body = _said_period(text)
    if said and period and said != period:
        return None, f'ContractRate "{text}" is a rate a {said}, but ContractRatePer says {period}'
    rate = _rate_text(body)
    if rate is None:
        return None, f'ContractRate "{text}" is not a rate (write 8%, 0.05%/day or 日万分之五)'
    if not (said or period) and body.startswith(("万分之", "千分之")):
        # Contracts state these per day; a year's 万分之五 would be a slip worth asking about.
        return None, f'ContractRate "{text}" names no period: write 日{text} or 年{text}'
    return _checked(rate, (said or period) == "day", text)


def _period(per: object) -> tuple[str | None, str]:
    if per is None or (isinstance(per, float) and np.isnan(per)):
        return None, ""
    word = "".join(str(per).split()).casefold()
    if not word:
        return None, ""
    if word in _YEAR_WORDS:
        return "year", ""
    if word in _DAY_WORDS:
        return "day", ""
    return None, f'ContractRatePer "{per}" must be year or day (年 or 日)'


def _said_period(text: str) -> tuple[str | None, str]:
    """Split "日万分之五" / "0.05%/day" into the period it names and the rate."""
    compact = "".join(text.split())
    for prefix in ("每日", "按日", "日利率", "日息", "日", "每天", "按天"):
        if compact.startswith(prefix):
            return "day", compact[len(prefix) :]
    for prefix in ("每年", "按年", "年利率", "年息", "年化", "年"):
        if compact.startswith(prefix):
            return "year", compact[len(prefix) :]
    found = _PERIOD_MARKS.search(compact)
    if found and found.start() > 0:
        word = found.group(1).casefold().replace(".", "")
        return ("day" if word in ("day", "daily", "日", "天") else "year"), compact[: found.start()]
    return None, compact


def _rate_text(body: str) -> Decimal | None:
    """Return the rate in text: "8%", "5‰", "0.0005", "万分之五" (None: not a rate)."""
    for prefix, unit in _CHINESE_SHARES:
        if body.startswith(prefix):
            count = _chinese_number(body[len(prefix) :])
            return None if count is None else count * unit
    scale, number = Decimal(1), body
    if body.endswith(("%", "％")):
        scale, number = Decimal("0.01"), body[:-1]
    elif body.endswith("‰"):
        scale, number = Decimal("0.001"), body[:-1]
    try:
        rate = Decimal(number.replace(",", ""))
    except InvalidOperation:
        return None
    return rate * scale if rate.is_finite() else None


def _chinese_number(text: str) -> Decimal | None:
    """Return 五 / 十五 / 二十 / 2.5 as a number (None if it is none of these)."""
    try:
        return Decimal(text)
    except InvalidOperation:
        pass
    if not text or any(c not in _CHINESE_DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        return Decimal(_CHINESE_DIGITS[text]) if len(text) == 1 else None
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1:
        return None
    return Decimal((_CHINESE_DIGITS[tens] if tens else 1) * 10
                   + (_CHINESE_DIGITS[units] if units else 0))  # fmt: skip


def _checked(rate: Decimal, per_day: bool, shown: str) -> tuple[ContractRate | None, str]:
    if rate < 0:
        return None, f'ContractRate "{shown}" is negative'
    if rate > 1:
        number = f"{rate.normalize():f}"
        return None, f"ContractRate {number} is not a fraction: write {number}%"
    return ContractRate(rate, per_day), ""


def _whole_cents(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return amounts as int64 cents (0 where missing) and the mask of missing amounts."""
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return values.astype(np.int64), np.zeros(values.shape, dtype=bool)
    if values.dtype.kind == "f":
        missing = ~np.isfinite(values)
        return np.rint(np.where(missing, 0.0, values)).astype(np.int64), missing
    missing = np.asarray(pd.isna(values), dtype=bool)
    cents = [0 if gone else int(value) for value, gone in zip(values.ravel(), missing.ravel())]
    return np.array(cents, dtype=np.int64).reshape(values.shape), missing


def _half_year_starts(due: np.ndarray) -> np.ndarray:
    """Return 1 January or 1 July of the half-year each debt became overdue in."""
    overdue_from = (due + np.timedelta64(1, "D")).astype("datetime64[M]")
    january = overdue_from.astype("datetime64[Y]").astype("datetime64[M]")
    months = np.where(overdue_from - january >= np.timedelta64(6, "M"), 6, 0)
    return (january + months.astype("timedelta64[M]")).astype("datetime64[D]")


def _groups(keys: np.ndarray, mask: np.ndarray) -> Iterator[tuple[np.generic, np.ndarray]]:
    """Yield each distinct key among the masked rows with the positions of its rows."""
    rows = np.flatnonzero(mask)
    if not rows.size:
        return
    values, inverse = np.unique(keys[rows], return_inverse=True)
    ordered = rows[np.argsort(inverse, kind="stable")]
    yield from zip(values, np.split(ordered, np.cumsum(np.bincount(inverse))[:-1]))


def _simple_interest(cents: np.ndarray, days: np.ndarray, rate: Decimal, basis: int) -> np.ndarray:
    """Return round(cents x rate x days / basis) half away from zero (basis 1: a daily rate)."""
    numerator, denominator = rate.as_integer_ratio()
    return scale_half_up((cents, days, numerator), denominator * basis)
