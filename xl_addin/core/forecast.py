"""When the cash will come: each open invoice's expected payment date, from how late its
customer has paid before, and the collections expected week by week.

- **Paid dates.** Every customer's credits (payments, credit notes, negative adjustments)
  are set against its invoices in due-date order (first in, first out): an invoice is
  paid on the date of the credit that completes it. The engine settles named payments
  against their invoice first; for a customer's *habit* the order barely matters and
  FIFO needs no names, so old exports without AppliesTo teach as much.
- **Habit.** A customer's lateness is the median of (paid date - due date) over its
  invoices paid in the last `history_days`, shrunk toward its segment's median when it
  has few (`prior` invoices' worth of weight), and toward the branch's when the segment
  has none: a customer with two payments is not yet known.
- **Expected date.** due date + lateness; never before the day after `as_of` for what is
  still open (an invoice already later than the habit is expected soon, not in the past),
  except that one more than STALE_DAYS past its habit is not expected within any forecast
  (it is the ladder's work); a pending promise moves the customer's items to the
  promised date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_addin.core.ledger import DocTypes

DAY = np.timedelta64(1, "D")
STALE_DAYS = 90  # past the habit by more than this: not expected within the forecast
FAR = 3650  # days: where a stale item's expected date is put (beyond every window)


@dataclass(frozen=True, slots=True)
class Habit:
    """Each customer's expected days late (NaN: the ledger teaches nothing at all)."""

    days_late: pd.Series  # customer_id -> days (float)
    paid: pd.Series  # customer_id -> invoices paid in the window


def paid_dates(ledger: pd.DataFrame, as_of: dt.date, due: pd.Series | None = None) -> pd.DataFrame:
    """Each invoice (dated by `as_of`) with its due date, amount and the date it was paid
    in full by the customer's credits up to `as_of` (NaT: still open). `due`: every row's
    due date as the engine fills it (a blank is the document date + the customer's terms,
    `age_ledger`'s items); without it a blank due date is the document date + 30 days."""
    as_of64 = np.datetime64(as_of, "D")
    doc_date = ledger["doc_date"].to_numpy(dtype="datetime64[D]")
    known = doc_date <= as_of64
    kinds = DocTypes.of(ledger["doc_type"])
    amount = ledger["amount_cents"].to_numpy(dtype=np.int64)
    debit = kinds.debits(amount) & known
    credit = ~kinds.debits(amount) & known
    if due is None:
        due = ledger["due_date"].to_numpy(dtype="datetime64[D]")
        due = np.where(np.isnat(due), doc_date + np.timedelta64(30, "D"), due)
    else:
        due = np.asarray(due, dtype="datetime64[D]")
    customer = ledger["customer_id"].to_numpy(dtype=object)

    invoices = pd.DataFrame({"customer_id": customer[debit], "due": due[debit],
                             "cents": np.abs(amount[debit]),
                             "row": np.flatnonzero(debit)})  # fmt: skip
    invoices = invoices.sort_values(["customer_id", "due", "row"], kind="stable")
    credits = pd.DataFrame({"customer_id": customer[credit], "date": doc_date[credit],
                            "cents": np.abs(amount[credit])})  # fmt: skip
    credits = credits.sort_values(["customer_id", "date"], kind="stable")
    invoices["reach"] = invoices.groupby("customer_id")["cents"].cumsum()
    credits["reach"] = credits.groupby("customer_id")["cents"].cumsum()
    paid = np.full(len(invoices), np.datetime64("NaT"), dtype="datetime64[D]")
    by_customer = {c: (g["reach"].to_numpy(), g["date"].to_numpy(dtype="datetime64[D]"))
                   for c, g in credits.groupby("customer_id", sort=False)}  # fmt: skip
    start = 0
    for customer_id, group in invoices.groupby("customer_id", sort=False):
        n = len(group)
        found = by_customer.get(customer_id)
        if found is not None:
            reach, dates = found
            at = np.searchsorted(reach, group["reach"].to_numpy(), side="left")
            inside = at < len(reach)
            paid[start:start + n][inside] = dates[at[inside]]
        start += n
    invoices["paid"] = paid
    return invoices.reset_index(drop=True)


def habits(invoices: pd.DataFrame, customers: pd.DataFrame, as_of: dt.date,
           history_days: int = 365, prior: float = 3.0) -> Habit:  # fmt: skip
    """Each customer's expected days late from its invoices paid in the window."""
    since = np.datetime64(as_of, "D") - history_days * DAY
    done = invoices[~np.isnat(invoices["paid"].to_numpy()) & (invoices["paid"] >= since)]
    late = (done["paid"] - done["due"]).dt.days.astype(float)
    late.index = done["customer_id"].to_numpy()
    segment_of = dict(zip(customers["customer_id"], customers.get(
        "segment", pd.Series(["Standard"] * len(customers))), strict=False))  # fmt: skip
    branch = float(np.median(late)) if len(late) else np.nan
    segment_late = late.groupby(late.index.map(lambda c: segment_of.get(c, "Standard"))).median()
    own = late.groupby(level=0).median()
    counts = late.groupby(level=0).size()
    out, n_out = {}, {}
    for customer_id in customers["customer_id"]:
        base = segment_late.get(segment_of.get(customer_id, "Standard"), branch)
        base = branch if pd.isna(base) else base
        n = int(counts.get(customer_id, 0))
        if n:
            out[customer_id] = (n * own[customer_id] + prior * base) / (n + prior) if not (
                pd.isna(base)) else own[customer_id]  # fmt: skip
        else:
            out[customer_id] = base
        n_out[customer_id] = n
    return Habit(pd.Series(out, dtype=float), pd.Series(n_out, dtype=int))


def expected_dates(items: pd.DataFrame, habit: Habit, as_of: dt.date,
                   promises: dict[str, dt.date] | None = None) -> pd.Series:  # fmt: skip
    """The expected payment date of each open item (`items`: customer_id, due): its due
    date plus its customer's lateness, not before the day after `as_of`; a customer's
    pending promise puts its items on the promised date."""
    as_of64 = np.datetime64(as_of, "D")
    late = items["customer_id"].map(habit.days_late).fillna(0.0).to_numpy(dtype=float)
    expected = items["due"].to_numpy(dtype="datetime64[D]") + np.round(late).astype(int) * DAY
    # An item more than STALE_DAYS past its customer's habit is not expected soon: it goes
    # beyond any forecast window (its collection is the ladder's work, or the lawyers').
    stale = expected < as_of64 - STALE_DAYS * DAY
    expected = np.maximum(expected, as_of64 + DAY)
    expected[stale] = as_of64 + FAR * DAY
    for customer_id, promised in (promises or {}).items():
        mine = (items["customer_id"] == customer_id).to_numpy()
        expected[mine] = max(np.datetime64(promised, "D"), as_of64 + DAY)
    return pd.Series(expected, index=items.index, name="expected")


def weekly(expected: np.ndarray, cents: np.ndarray, as_of: dt.date,
           weeks: int = 13) -> pd.DataFrame:  # fmt: skip
    """The expected collections per week from `as_of` (week 1: the next seven days); what
    is expected later than `weeks` weeks is the last row (week None)."""
    start = np.datetime64(as_of, "D") + DAY
    days = (np.asarray(expected, dtype="datetime64[D]") - start).astype(int)
    week = np.clip(days // 7, 0, weeks)
    sums = np.bincount(week, weights=np.asarray(cents, dtype=np.float64),
                       minlength=weeks + 1).round().astype(np.int64)  # fmt: skip
    starts = [start + 7 * i * DAY for i in range(weeks + 1)]
    return pd.DataFrame({"week": [*range(1, weeks + 1), None],
                         "from": [pd.Timestamp(s).date() for s in starts],
                         "cents": sums})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Timing:
    """When each customer's payments usually arrive: a day of the month (1-31) or a weekday
    (0 Monday .. 6 Sunday), or neither (-1) when they keep no rhythm."""

    day: np.ndarray  # per customer, -1: none
    weekday: np.ndarray  # per customer, -1: none


MIN_PAYMENTS = 3
SHARE = 0.6  # of a customer's payments on the habit (within two days of a day of the month)
WEEKDAYS = {"en": ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
                   "Sundays"),
            "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日")}  # fmt: skip


def payment_timing(ledger: pd.DataFrame, customer_ids: pd.Series, as_of: dt.date,
                   history_days: int = 365) -> Timing:  # fmt: skip
    """Each customer's payment rhythm over its payments of the last `history_days`: the day
    of the month that at least SHARE of them fall within two days of, else the weekday at
    least SHARE of them fall on (supermarkets and projects pay in runs)."""
    n = len(customer_ids)
    when = ledger["doc_date"].to_numpy(dtype="datetime64[D]")
    as_of64 = np.datetime64(as_of, "D")
    paid = ((ledger["doc_type"].to_numpy(dtype=object) == "PAY") & (when <= as_of64)
            & (when > as_of64 - history_days * DAY))  # fmt: skip
    position = pd.Index(customer_ids.to_numpy(dtype=object)).get_indexer(
        ledger["customer_id"].to_numpy(dtype=object)[paid])  # fmt: skip
    dates = pd.DatetimeIndex(when[paid])
    known = position >= 0
    position, day, weekday = position[known], dates.day.to_numpy()[known], (
        dates.day_of_week.to_numpy()[known])  # fmt: skip
    by_day = np.zeros((n, 32), dtype=np.int64)
    np.add.at(by_day, (position, day), 1)
    by_weekday = np.zeros((n, 7), dtype=np.int64)
    np.add.at(by_weekday, (position, weekday), 1)
    total = by_day.sum(axis=1)
    # Payments within two days of each day of the month (a window sum over the days).
    window = sum(np.roll(by_day[:, 1:], shift, axis=1) for shift in (-2, -1, 0, 1, 2))
    best_day = window.argmax(axis=1) + 1
    day_share = np.where(total > 0, window.max(axis=1) / np.maximum(total, 1), 0)
    best_weekday = by_weekday.argmax(axis=1)
    weekday_share = np.where(total > 0, by_weekday.max(axis=1) / np.maximum(total, 1), 0)
    enough = total >= MIN_PAYMENTS
    on_day = enough & (day_share >= SHARE)
    on_weekday = enough & ~on_day & (weekday_share >= SHARE)
    return Timing(np.where(on_day, best_day, -1), np.where(on_weekday, best_weekday, -1))


def timing_text(timing: Timing, lang: str) -> list[str]:
    """'pays around the 25th' / 'pays on Fridays' (通常每月25日前后付款 / 通常周五付款), or ''."""
    out = []
    for day, weekday in zip(timing.day, timing.weekday, strict=True):
        if day > 0:
            out.append(f"通常每月{day}日前后付款" if lang == "zh" else
                       f"pays around the {day}{_suffix(day)}")  # fmt: skip
        elif weekday >= 0:
            name = WEEKDAYS["zh" if lang == "zh" else "en"][weekday]
            out.append(f"通常{name}付款" if lang == "zh" else f"pays on {name}")
        else:
            out.append("")
    return out


def _suffix(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
