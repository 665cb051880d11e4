"""Late-payment charges: simple interest at a statutory or contract rate, and fixed compensation.

UK Late Payment of Commercial Debts (Interest) Act 1998: interest = amount x rate x days /
basis (365), from the day after the due date, at the reference rate fixed for that
half-year plus the statutory margin (8). A contract rate (违约金) replaces it row by row.
Interest is worked exactly in integers and rounded to the cent half away from zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from operator import itemgetter

import numpy as np
import pandas as pd

from xl_addin.core.money import quantize, scale_half_up
from xl_addin.core.policy import Policy

_first = itemgetter(0)


def statutory_rate(due_date: dt.date, policy: Policy) -> Decimal:
    """Return the statutory annual rate in percent for a debt due on `due_date`.

    The reference rate is the one fixed for the half-year (from 1 January or 1 July) in
    which the debt became overdue, the day after the due date.
    """
    overdue_from = due_date + dt.timedelta(days=1)
    half_year = dt.date(overdue_from.year, 1 if overdue_from.month < 7 else 7, 1)
    return _reference_rate(half_year, policy) + policy.rules.statutory_margin


def _reference_rate(half_year: dt.date, policy: Policy) -> Decimal:
    """Return the rate of the latest row in force at `half_year`, else the earliest row."""
    rows = policy.reference_rates
    if not rows:
        raise ValueError("the policy has no reference rates (Interest table)")
    in_force = [row for row in rows if row[0] <= half_year]
    _, rate = max(in_force, key=_first) if in_force else min(rows, key=_first)
    return rate


def late_interest(
    amount_cents: np.ndarray,
    due_dates: np.ndarray,
    as_of: np.datetime64 | np.ndarray,
    annual_rates: np.ndarray | None,
    policy: Policy,
) -> tuple[np.ndarray, np.ndarray]:
    """Return each row's simple late interest in int64 cents, and a mask of invalid rows.

    Interest runs from the day after the due date to `as_of` inclusive (as_of - due days)
    on positive amounts only, at the row's annual rate in percent or, where that is NaN
    (or `annual_rates` is None), the statutory rate for its due date. Invalid rows (no due
    date, no amount, no as-of date, a negative or infinite rate) get 0 interest.
    """
    cents, missing = _whole_cents(amount_cents)
    due = np.asarray(due_dates, dtype="datetime64[D]")
    until = np.broadcast_to(np.asarray(as_of, dtype="datetime64[D]"), due.shape)
    if annual_rates is None:
        rates = np.full(due.shape, np.nan)
    else:
        rates = np.broadcast_to(np.asarray(annual_rates, dtype=np.float64), due.shape)
    bad_rate = (rates < 0) | np.isinf(rates)
    invalid = missing | np.isnat(due) | np.isnat(until) | bad_rate
    days = np.where(invalid, 0, (until - due).astype(np.int64))
    charged = ~invalid & (cents > 0) & (days > 0)

    interest = np.zeros(due.shape, dtype=np.int64)
    basis = 100 * policy.rules.interest_basis_days  # rates are in percent
    contract = charged & ~np.isnan(rates)
    for rate, rows in _groups(rates, contract):
        exact = Decimal(repr(float(rate)))  # the rate as the user typed it, not its binary float
        interest[rows] = _simple_interest(cents[rows], days[rows], exact, basis)
    statutory = charged & np.isnan(rates)
    for half_year, rows in _groups(_half_year_starts(due), statutory):
        rate = _reference_rate(half_year.item(), policy) + policy.rules.statutory_margin
        interest[rows] = _simple_interest(cents[rows], days[rows], rate, basis)
    return interest, invalid


def fixed_compensation(amount: Decimal, policy: Policy) -> Decimal:
    """Return the fixed compensation for one overdue debt of `amount` (0 for none)."""
    tiers = [tier for tier in policy.compensation if tier[0] <= amount]
    if amount <= 0 or not tiers:
        return quantize(Decimal(0))
    return quantize(Decimal(max(tiers, key=_first)[1]))


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
    """Return round(cents x rate x days / basis) half away from zero."""
    numerator, denominator = rate.as_integer_ratio()
    return scale_half_up((cents, days, numerator), denominator * basis)
