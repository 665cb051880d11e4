"""Roll rates between aging buckets and the expected-credit-loss matrix (迁徙率法).

The simplified approach of IFRS 9 / CAS 22 for receivables: a provision matrix built from
the branch's own history. From month-end snapshots in buckets one month wide
(core/snapshots.py, `MONTHS_LADDER`):

- the roll rate of bucket i from month m to m+1 is what is in bucket i+1 at m+1 over what
  was in bucket i at m (what was neither paid nor settled, and so aged a month);
- each bucket's rate over the window is amount-weighted: the sum over the months of what
  rolled, over the sum of what could roll (so a month with a large balance counts more than
  a month with a small one); it is at most 100% (more can arrive in a bucket than left the
  one before it, e.g. a document entered late), and a bucket that was always empty is taken
  to roll in full (the prudent guess: nothing says it is collected);
- the loss rate of the last bucket is given (the caller takes it from the Policy's Recovery
  curve), and each bucket's loss rate is its roll rate times the next bucket's loss rate,
  so the loss rate of bucket i is the product of the roll rates from i down to the last;
- the expected credit loss of a bucket is its open amount times its loss rate, rounded half
  up to the cent.

The worked example is in docs/kpis.md and tests/core/test_roll_rates.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MATRIX_MONTHS = 12  # month-ends a matrix needs: eleven months of rolls


@dataclass(frozen=True, slots=True)
class RollRateMatrix:
    """One currency's roll rates, loss rates and expected credit loss per bucket."""

    currency: str
    labels: tuple[str, ...]  # the buckets, first (Current) to last
    periods: tuple[str, ...]  # the month-ends used (YYYY-MM), oldest first
    monthly: np.ndarray  # (months - 1, buckets - 1): each month's roll rates; NaN: empty
    rolls: np.ndarray  # (buckets - 1): the amount-weighted roll rates; NaN: always empty
    loss: np.ndarray  # (buckets): loss rates
    open: np.ndarray  # (buckets): open amounts now, cents
    ecl: np.ndarray  # (buckets): expected credit loss, cents


def matrix_window(recorded: Sequence[str], months: int = MATRIX_MONTHS) -> tuple[list[str], int]:
    """The `months` consecutive month-ends (YYYY-MM) ending at the latest recorded one, and
    how many of them are recorded (a matrix needs them all)."""
    if not recorded:
        return [], 0
    latest = max(recorded)
    year, month = int(latest[:4]), int(latest[5:7])
    window = []
    for _ in range(months):
        window.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    window.reverse()
    present = set(recorded)
    return window, sum(p in present for p in window)


def bucket_amounts(snapshots: pd.DataFrame, periods: Sequence[str],
                   labels: Sequence[str]) -> np.ndarray:  # fmt: skip
    """The snapshots' cents per period (rows, in `periods` order) and bucket (columns, in
    `labels` order); `snapshots` has period, bucket and cents columns."""
    table = snapshots.pivot_table(index="period", columns="bucket", values="cents",
                                  aggfunc="sum", fill_value=0)  # fmt: skip
    table = table.reindex(index=list(periods), columns=list(labels), fill_value=0)
    return table.fillna(0).to_numpy(dtype=np.int64)


def monthly_roll_rates(amounts: np.ndarray) -> np.ndarray:
    """Each month's roll rates: amounts[m + 1, i + 1] / amounts[m, i] (NaN where bucket i
    was empty at m)."""
    rolled = amounts[1:, 1:].astype(np.float64)
    could = amounts[:-1, :-1].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(could > 0, rolled / np.where(could > 0, could, 1), np.nan)


def average_roll_rates(amounts: np.ndarray) -> np.ndarray:
    """The amount-weighted roll rate of each bucket but the last over all the months: sum of
    what rolled / sum of what could roll, at most 1 (NaN for a bucket always empty)."""
    rolled = amounts[1:, 1:].sum(axis=0).astype(np.float64)
    could = amounts[:-1, :-1].sum(axis=0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(could > 0, rolled / np.where(could > 0, could, 1), np.nan)
    return np.minimum(rate, 1.0)


def loss_rates(rolls: np.ndarray, last_loss: float) -> np.ndarray:
    """Each bucket's loss rate: the product of the roll rates from it down to the last
    bucket, times the last bucket's loss rate (an unknown roll rate counts as 1)."""
    rolls = np.where(np.isnan(rolls), 1.0, rolls)
    loss = np.empty(len(rolls) + 1, dtype=np.float64)
    loss[-1] = last_loss
    for i in range(len(rolls) - 1, -1, -1):
        loss[i] = rolls[i] * loss[i + 1]
    return loss


def expected_credit_loss(open_cents: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Open amount x loss rate per bucket, in cents, rounded half away from zero."""
    product = np.asarray(open_cents, dtype=np.float64) * loss
    return (np.sign(product) * np.floor(np.abs(product) + 0.5)).astype(np.int64)


def roll_rate_matrix(currency: str, snapshots: pd.DataFrame, periods: Sequence[str],
                     labels: Sequence[str], open_cents: np.ndarray,
                     last_loss: float) -> RollRateMatrix:  # fmt: skip
    """One currency's matrix from its snapshots over `periods` (consecutive month-ends,
    oldest first) and its open amounts now per bucket (`open_cents`, in `labels` order)."""
    amounts = bucket_amounts(snapshots, periods, labels)
    rolls = average_roll_rates(amounts)
    loss = loss_rates(rolls, last_loss)
    open_now = np.asarray(open_cents, dtype=np.int64)
    return RollRateMatrix(currency, tuple(labels), tuple(periods), monthly_roll_rates(amounts),
                          rolls, loss, open_now, expected_credit_loss(open_now, loss))
