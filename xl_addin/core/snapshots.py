"""Month-end snapshots: each customer's open amount per aging bucket on a month's last day.

A snapshot is recorded in two ladders of buckets:

- `POLICY_LADDER`: the Policy's own buckets (Current, 1-30 ... >365, as on the Aging
  sheet), plus the customer's unapplied credit (`UNAPPLIED`), so that a customer's rows
  add up to its balance: what the Dashboard's aging trend shows;
- `MONTHS_LADDER`: buckets one month wide (Current, 1-30, 31-60 ... 331-360, >360), the
  only ladder in which all of a bucket's amount moves to the next bucket a month later
  if it is not paid: what the roll rates (core/roll_rates.py) are computed on.

Both count the days past the due date, as the Aging sheet does.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from xl_addin.core.aging import bucket_index
from xl_addin.core.ledger import AgingResult
from xl_addin.core.policy import bucket_labels
from xl_addin.core.statements import Period

POLICY_LADDER = "policy"
MONTHS_LADDER = "months"
UNAPPLIED = "Unapplied"
MONTH_BOUNDS: tuple[int, ...] = tuple(range(0, 361, 30))  # Current, 1-30 ... 331-360, >360
MONTH_LABELS: tuple[str, ...] = bucket_labels(MONTH_BOUNDS)
SNAPSHOT_COLUMNS = ("customer_id", "currency", "ladder", "bucket", "cents")


def last_month_end(as_of: dt.date) -> Period:
    """The last month that has ended by `as_of`: its own month when `as_of` is the last day,
    else the month before."""
    month = Period.of(as_of)
    if as_of == month.last_day:
        return month
    previous = month.first_day - dt.timedelta(days=1)
    return Period.of(previous)


def months_before(period: Period, count: int) -> list[Period]:
    """The `count` months before `period`, oldest first."""
    out = []
    day = period.first_day
    for _ in range(count):
        day = day.replace(day=1) - dt.timedelta(days=1)
        out.append(Period.of(day))
    return out[::-1]


def snapshot_rows(aging: AgingResult, ledger: pd.DataFrame, customers: pd.DataFrame,
                  month_bounds: tuple[int, ...] = MONTH_BOUNDS) -> pd.DataFrame:  # fmt: skip
    """The snapshot of an aging (the ledger aged as of a month's last day): one row per
    customer, ladder and bucket with a non-zero amount (SNAPSHOT_COLUMNS, cents int64)."""
    currency_of = pd.Series(customers["currency"].to_numpy(dtype=object),
                            index=customers["customer_id"].to_numpy(dtype=object))  # fmt: skip
    ids = aging.customers["customer_id"].to_numpy(dtype=object)
    frames = []
    for label in aging.labels:
        frames.append(_rows(ids, POLICY_LADDER, label,
                            aging.customers[f"bucket:{label}"].to_numpy(dtype=np.int64)))
    frames.append(_rows(ids, POLICY_LADDER, UNAPPLIED,
                        aging.customers["unapplied_cents"].to_numpy(dtype=np.int64)))
    items = aging.items
    rows = np.flatnonzero(items["bucket_index"].to_numpy() >= 0)
    if len(rows):
        month = bucket_index(items["days_overdue"].to_numpy(dtype=np.float64)[rows],
                             month_bounds)  # fmt: skip
        open_items = pd.DataFrame({
            "customer_id": ledger["customer_id"].to_numpy(dtype=object)[rows],
            "bucket": np.asarray(bucket_labels(month_bounds), dtype=object)[month],
            "cents": items["open_cents"].to_numpy(dtype=np.int64)[rows],
        })  # fmt: skip
        summed = open_items.groupby(["customer_id", "bucket"], sort=False)["cents"].sum()
        frames.append(pd.DataFrame({
            "customer_id": summed.index.get_level_values(0).to_numpy(dtype=object),
            "ladder": MONTHS_LADDER,
            "bucket": summed.index.get_level_values(1).to_numpy(dtype=object),
            "cents": summed.to_numpy(dtype=np.int64),
        }))  # fmt: skip
    out = pd.concat(frames, ignore_index=True)
    out = out[out["cents"] != 0].reset_index(drop=True)
    out["currency"] = out["customer_id"].map(currency_of).fillna("").to_numpy(dtype=object)
    out["cents"] = out["cents"].astype(np.int64)
    return out[list(SNAPSHOT_COLUMNS)]


def _rows(ids: np.ndarray, ladder: str, bucket: str, cents: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ids, "ladder": ladder, "bucket": bucket, "cents": cents})
