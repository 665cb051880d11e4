"""Month-end snapshots: each customer's open amount per aging bucket on a month's last day.

A snapshot is recorded in two ladders of buckets:

- `POLICY_LADDER`: the Policy's own buckets (Current, 1-30 ... >365, as on the Aging
  sheet), plus the customer's unapplied credit (`UNAPPLIED`), so that a customer's rows
  add up to its balance: what the Dashboard's aging trend shows;
- `MONTHS_LADDER`: the month-ends passed since the due date (Current: due after the
  month-end; "1 month": due in the month, on or before its last day, and not paid by it;
  "2 months": due in the month before ... "Over 12 months"), the one ladder in which
  everything in a bucket that is not paid is in the next bucket a month later, whatever
  the months' lengths: what the roll rates (core/roll_rates.py) are computed on. (Buckets
  of 30 days would not do: over a 31-day month an item due on the 31st goes from 0 days to
  31, from Current straight to 31-60.)

The Policy's ladder counts the days past the due date, as the Aging sheet does.

A third, `FIGURES`, keeps what the month-end's KPIs need beyond the aging (core/kpis.py):
each customer's overdue amount (`OVERDUE`) and its credit sales dated in the month
(`SALES`), so that the Dashboard gives a recorded month-end as it stood.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from xl_addin.core.ledger import AgingResult, DocTypes
from xl_addin.core.statements import Period

POLICY_LADDER = "policy"
MONTHS_LADDER = "months"
FIGURES = "figures"
UNAPPLIED = "Unapplied"
OVERDUE, SALES = "Overdue", "Sales"
MONTHS_OVERDUE = 12  # the last bucket: over this many months
MONTH_LABELS: tuple[str, ...] = ("Current", "1 month",
                                 *(f"{n} months" for n in range(2, MONTHS_OVERDUE + 1)),
                                 f"Over {MONTHS_OVERDUE} months")  # fmt: skip
LAST_BUCKET_DAYS = 365  # the days overdue the last bucket's loss rate is read at (about)
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


def months_overdue(due: np.ndarray, as_of: dt.date) -> np.ndarray:
    """Each due date's bucket in the month ladder at `as_of` (a month-end): 0 when due after
    it, else the month-ends passed since the due date's month, counting `as_of`'s own (a date
    in its month gives 1), at most MONTHS_OVERDUE + 1."""
    due = np.asarray(due, dtype="datetime64[D]")
    month_of = due.astype("datetime64[M]").astype(np.int64)
    now = np.datetime64(as_of, "M").astype(np.int64)
    months = np.minimum(now - month_of + 1, MONTHS_OVERDUE + 1)
    return np.where(due > np.datetime64(as_of, "D"), 0, months).astype(np.int64)


def month_label(label: str, lang: str) -> str:
    """A bucket of the month ladder in the language (逾期1个月 ...)."""
    if lang != "zh":
        return label
    if label == "Current":
        return "未到期"
    if label.startswith("Over "):
        return f"逾期{label.split()[1]}个月以上"
    return f"逾期{label.split()[0]}个月"


def snapshot_rows(aging: AgingResult, ledger: pd.DataFrame,
                  customers: pd.DataFrame) -> pd.DataFrame:  # fmt: skip
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
        month = months_overdue(items["due_date"].to_numpy(dtype="datetime64[D]")[rows],
                               aging.as_of)  # fmt: skip
        open_items = pd.DataFrame({
            "customer_id": ledger["customer_id"].to_numpy(dtype=object)[rows],
            "bucket": np.asarray(MONTH_LABELS, dtype=object)[month],
            "cents": items["open_cents"].to_numpy(dtype=np.int64)[rows],
        })  # fmt: skip
        summed = open_items.groupby(["customer_id", "bucket"], sort=False)["cents"].sum()
        frames.append(pd.DataFrame({
            "customer_id": summed.index.get_level_values(0).to_numpy(dtype=object),
            "ladder": MONTHS_LADDER,
            "bucket": summed.index.get_level_values(1).to_numpy(dtype=object),
            "cents": summed.to_numpy(dtype=np.int64),
        }))  # fmt: skip
    frames += _figures(aging, ids, ledger)
    out = pd.concat(frames, ignore_index=True)
    out = out[out["cents"] != 0].reset_index(drop=True)
    out["currency"] = out["customer_id"].map(currency_of).fillna("").to_numpy(dtype=object)
    out["cents"] = out["cents"].astype(np.int64)
    return out[list(SNAPSHOT_COLUMNS)]


def _rows(ids: np.ndarray, ladder: str, bucket: str, cents: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ids, "ladder": ladder, "bucket": bucket, "cents": cents})


def _figures(aging: AgingResult, ids: np.ndarray, ledger: pd.DataFrame) -> list[pd.DataFrame]:
    """The FIGURES ladder: each customer's overdue amount and its credit sales (invoices and
    debit adjustments) dated in the month of the aging's date, up to that date."""
    overdue = _rows(ids, FIGURES, OVERDUE, aging.customers["overdue_cents"].to_numpy(np.int64))
    amount = ledger["amount_cents"].to_numpy(dtype=np.int64)
    debit = DocTypes.of(ledger["doc_type"]).debits(amount)
    dates = ledger["doc_date"].to_numpy(dtype="datetime64[D]")
    end = np.datetime64(aging.as_of, "D")
    in_month = (dates <= end) & (dates >= np.datetime64(aging.as_of.replace(day=1), "D"))
    sold = pd.Series(np.where(debit & in_month, np.abs(amount), 0),
                     index=ledger["customer_id"].to_numpy(dtype=object)).groupby(level=0).sum()
    sales = sold.reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    return [overdue, _rows(ids, FIGURES, SALES, sales)]
