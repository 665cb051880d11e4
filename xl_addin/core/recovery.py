"""Expected recovery and bad-debt provision (账龄分析法) by days overdue, whole columns at once."""

from __future__ import annotations

import numpy as np

from xl_addin.core.money import scale_half_up
from xl_addin.core.policy import Policy


def expected_recovery(days_overdue: np.ndarray, policy: Policy) -> np.ndarray:
    """Return each row's chance of collecting, interpolated linearly on the recovery curve.

    Flat before the first and after the last point; NaN days give NaN.
    """
    points = sorted(policy.recovery)
    if not points:
        raise ValueError("the policy has no recovery points (Recovery table)")
    days = np.asarray(days_overdue, dtype=np.float64)
    at = np.array([point_days for point_days, _ in points], dtype=np.float64)
    chance = np.array([float(probability) for _, probability in points])
    return np.where(np.isnan(days), np.nan, np.interp(days, at, chance))


def provision_rate(days: np.ndarray, policy: Policy) -> np.ndarray:
    """Return each row's provision rate: the last band starting at or before its days.

    Days below the first band take the first band's rate; NaN days give NaN.
    """
    days = np.asarray(days, dtype=np.float64)
    bands = _bands(policy)
    rates = np.array([float(rate) for _, rate in bands])
    return np.where(np.isnan(days), np.nan, rates[_band_index(days, bands)])


def provision_cents(open_cents: np.ndarray, days: np.ndarray, policy: Policy) -> np.ndarray:
    """Return open amount x provision rate in int64 cents, exact, half away from zero.

    The sign follows the open amount (a credit gives a negative provision); NaN days give 0.
    """
    cents = np.asarray(open_cents, dtype=np.int64)
    days = np.asarray(days, dtype=np.float64)
    bands = _bands(policy)
    index = np.where(np.isnan(days), -1, _band_index(days, bands))
    provision = np.zeros(cents.shape, dtype=np.int64)
    for i, (_, rate) in enumerate(bands):
        rows = index == i
        if rows.any():
            provision[rows] = _scale(cents[rows], rate)
    return provision


def _bands(policy: Policy) -> list:
    bands = sorted(policy.provision)
    if not bands:
        raise ValueError("the policy has no provision bands (Provision table)")
    return bands


def provision_band(days: np.ndarray, policy: Policy) -> np.ndarray:
    """Each row's Provision band: the position of the last band starting at or before its
    days (the first band below it)."""
    return _band_index(np.asarray(days, dtype=np.float64), _bands(policy))


def _band_index(days: np.ndarray, bands: list) -> np.ndarray:
    starts = np.array([from_days for from_days, _ in bands], dtype=np.float64)
    return np.clip(np.searchsorted(starts, days, side="right") - 1, 0, None)


def _scale(cents: np.ndarray, rate) -> np.ndarray:
    numerator, denominator = rate.as_integer_ratio()
    return scale_half_up((cents, numerator), denominator)
