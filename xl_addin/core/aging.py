"""Days overdue and age buckets, whole columns at a time."""

from __future__ import annotations

import numpy as np

from xl_addin.core.policy import DEFAULT_BOUNDS, bucket_labels


def days_overdue(due_dates: np.ndarray, as_of: np.datetime64 | np.ndarray) -> np.ndarray:
    """Return days past due as float64 (negative: days until due; NaN for a missing date)."""
    due = np.asarray(due_dates, dtype="datetime64[D]")
    until = np.broadcast_to(np.asarray(as_of, dtype="datetime64[D]"), due.shape)
    days = (until - due).astype(np.float64)
    days[np.isnat(due) | np.isnat(until)] = np.nan
    return days


def bucket_index(days: np.ndarray, bounds: tuple[int, ...] = DEFAULT_BOUNDS) -> np.ndarray:
    """Return each row's bucket position (0 = first bucket); -1 where days is NaN.

    A bound is the last day of its bucket: with bounds (0, 30) day 0 is Current,
    days 1-30 the second bucket, 31 and more the last.
    """
    values = np.asarray(days, dtype=np.float64)
    index = np.searchsorted(np.asarray(bounds, dtype=np.float64), values, side="left")
    return np.where(np.isnan(values), -1, index).astype(np.int64)


def age_bucket(days: np.ndarray, bounds: tuple[int, ...] = DEFAULT_BOUNDS) -> np.ndarray:
    """Return each row's bucket label (None where days is NaN)."""
    labels = np.array([*bucket_labels(bounds), None], dtype=object)
    return labels[bucket_index(days, bounds)]  # -1 picks the trailing None
