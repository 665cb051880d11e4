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
- **Settlement cycles (月结).** A customer that pays all of a month's invoices together on
  one day of a later month (supermarkets, project customers: "月结60天, pays on the 25th")
  is recognised from its paid invoices (`settlement_cycles`): its open invoice of month M
  is expected on that day of month M + lag, or, when that run has passed, on its next run.
- **Payment runs.** `payment_timing` gives the day of the month (or weekday, or cycle) a
  customer's payments arrive on, `next_runs` the next such day: the Customers'
  PaymentHabit, and the day a timed reminder is held for (core/next_action.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_addin.core.ledger import DocTypes, group_cumsum

DAY = np.timedelta64(1, "D")
STALE_DAYS = 90  # past the habit by more than this: not expected within the forecast
FAR = 3650  # days: where a stale item's expected date is put (beyond every window)


@dataclass(frozen=True, slots=True)
class Habit:
    """Each customer's expected days late (NaN: the ledger teaches nothing at all)."""

    days_late: pd.Series  # customer_id -> days (float)
    paid: pd.Series  # customer_id -> invoices paid in the window
    cycle: Cycle | None = None  # per customer, in the order of `days_late`


def paid_dates(ledger: pd.DataFrame, as_of: dt.date, due: pd.Series | None = None) -> pd.DataFrame:
    """Each invoice (dated by `as_of`) with its due and document dates, amount (`cents`),
    ledger position (`row`) and the date it was paid
    in full by the customer's credits up to `as_of` (NaT: still open). `due`: every row's
    due date as the engine fills it (a blank is the document date + the customer's terms,
    `age_ledger`'s items); without it a blank due date is the document date + 30 days.
    Invoices come sorted by customer, due date and ledger position."""
    as_of64 = np.datetime64(as_of, "D")
    doc_date = ledger["doc_date"].to_numpy(dtype="datetime64[D]")
    known = doc_date <= as_of64
    kinds = DocTypes.of(ledger["doc_type"])
    amount = ledger["amount_cents"].to_numpy(dtype=np.int64)
    is_debit = kinds.debits(amount)
    if due is None:
        due = ledger["due_date"].to_numpy(dtype="datetime64[D]")
        due = np.where(np.isnat(due), doc_date + np.timedelta64(30, "D"), due)
    else:
        due = np.asarray(due, dtype="datetime64[D]")
    customer = ledger["customer_id"].to_numpy(dtype=object)
    code = pd.factorize(customer, sort=True)[0]  # sorted: invoices come in customer order
    n_cust = int(code.max()) + 1 if len(code) else 0
    # Every customer's invoices (due date order) and credits (date order) as running
    # totals; an invoice is paid by the first credit whose running total reaches its own.
    # One search for all customers: each customer's totals are moved past the previous
    # customers' (by `offset`), so that the totals rise across the whole ledger.
    invoice = np.flatnonzero(is_debit & known)
    invoice = invoice[_sorted_by(code[invoice], _never_nat(due[invoice]), invoice)]
    credit = np.flatnonzero(~is_debit & known)
    credit = credit[_sorted_by(code[credit], doc_date[credit].view(np.int64), credit)]
    cents, credit_cents = np.abs(amount[invoice]), np.abs(amount[credit])
    reach = group_cumsum(cents, code[invoice])
    credit_reach = group_cumsum(credit_cents, code[credit])
    invoiced, credited = np.zeros(n_cust, dtype=np.int64), np.zeros(n_cust, dtype=np.int64)
    np.add.at(invoiced, code[invoice], cents)
    np.add.at(credited, code[credit], credit_cents)
    span = np.maximum(invoiced, credited) + 1
    offset = np.cumsum(span) - span
    at = np.searchsorted(credit_reach + offset[code[credit]], reach + offset[code[invoice]])
    ends = np.searchsorted(code[credit], code[invoice], side="right")
    paid = np.full(len(invoice), np.datetime64("NaT"), dtype="datetime64[D]")
    inside = at < ends  # else the customer's credits never reach it: still open
    paid[inside] = doc_date[credit[at[inside]]]
    return pd.DataFrame({"customer_id": customer[invoice], "due": due[invoice],
                         "doc": doc_date[invoice], "cents": cents, "row": invoice,
                         "reach": reach, "paid": paid})  # fmt: skip


def _sorted_by(*keys: np.ndarray) -> np.ndarray:
    """The order sorting by the keys, first key first (np.lexsort takes them last first)."""
    return np.lexsort(keys[::-1])


def _never_nat(dates: np.ndarray) -> np.ndarray:
    """Dates as int64 for sorting, a blank (NaT) after every date, as pandas sorts it."""
    days = dates.view(np.int64)
    return np.where(np.isnat(dates), np.iinfo(np.int64).max, days)


def habits(invoices: pd.DataFrame, customers: pd.DataFrame, as_of: dt.date,
           history_days: int = 365, prior: float = 3.0) -> Habit:  # fmt: skip
    """Each customer's expected days late from its invoices paid in the window."""
    since = np.datetime64(as_of, "D") - history_days * DAY
    paid = invoices["paid"].to_numpy(dtype="datetime64[D]")
    done = ~np.isnat(paid) & (paid >= since)
    late = pd.Series((paid[done] - invoices["due"].to_numpy(dtype="datetime64[D]")[done])
                     / DAY)  # fmt: skip
    ids = customers["customer_id"].to_numpy(dtype=object)
    segment = (customers["segment"].to_numpy(dtype=object) if "segment" in customers
               else np.full(len(ids), "Standard", dtype=object))  # fmt: skip
    payer = invoices["customer_id"].to_numpy(dtype=object)[done]
    at = pd.Index(ids, dtype=object).get_indexer(payer)
    payer_segment = np.where(at >= 0, segment[np.maximum(at, 0)], "Standard")
    branch = float(np.median(late)) if len(late) else np.nan
    segment_late = late.groupby(payer_segment).median()  # a blank (NaN) segment: none
    own = late.groupby(payer).median().reindex(ids).to_numpy(dtype=float)
    n = late.groupby(payer).size().reindex(ids).fillna(0).to_numpy(dtype=np.int64)
    base = segment_late.reindex(segment).to_numpy(dtype=float)
    base = np.where(np.isnan(base), branch, base)
    shrunk = np.where(np.isnan(base), own, (n * own + prior * base) / (n + prior))
    days_late = np.where(n > 0, shrunk, base)
    cycle = settlement_cycles(invoices, customers["customer_id"], as_of, history_days)
    return Habit(pd.Series(days_late, index=ids, dtype=float),
                 pd.Series(n, index=ids, dtype=int), cycle)  # fmt: skip


def expected_dates(items: pd.DataFrame, habit: Habit, as_of: dt.date,
                   promises: dict[str, dt.date] | None = None) -> pd.Series:  # fmt: skip
    """The expected payment date of each open item (`items`: customer_id, due, and `doc`,
    the document date, for the settlement cycles): its due date plus its customer's
    lateness, or for a customer settling in cycles the cycle's day for the item's month
    (its next run when that has passed); not before the day after `as_of`; a customer's
    pending promise puts its items on the promised date."""
    as_of64 = np.datetime64(as_of, "D")
    late = items["customer_id"].map(habit.days_late).fillna(0.0).to_numpy(dtype=float)
    expected = items["due"].to_numpy(dtype="datetime64[D]") + np.round(late).astype(int) * DAY
    floor = np.full(len(items), as_of64 + DAY)  # nothing still open is expected before it
    if habit.cycle is not None and "doc" in items:
        at = pd.Index(habit.days_late.index, dtype=object).get_indexer(
            items["customer_id"].to_numpy(dtype=object))  # fmt: skip
        lag = np.where(at >= 0, habit.cycle.months[np.maximum(at, 0)], -1)
        day = np.where(at >= 0, habit.cycle.day[np.maximum(at, 0)], -1)
        cycled = lag >= 0
        if cycled.any():
            doc = items["doc"].to_numpy(dtype="datetime64[D]")[cycled]
            month = doc.astype("datetime64[M]") + lag[cycled].astype(int)
            expected[cycled] = _day_of(month, day[cycled])
            # A run already past (the item missed it): the customer's next run after as_of.
            floor[cycled] = _next_day_of_month(as_of64 + DAY, day[cycled])
    # An item more than STALE_DAYS past its customer's habit is not expected soon: it goes
    # beyond any forecast window (its collection is the ladder's work, or the lawyers').
    stale = expected < as_of64 - STALE_DAYS * DAY
    expected = np.maximum(expected, floor)
    expected[stale] = as_of64 + FAR * DAY
    if promises:
        promised = pd.Series({c: max(np.datetime64(d, "D"), as_of64 + DAY)
                              for c, d in promises.items()}, dtype="datetime64[s]")  # fmt: skip
        at = promised.index.get_indexer(items["customer_id"].to_numpy(dtype=object))
        on = at >= 0
        expected[on] = promised.to_numpy(dtype="datetime64[D]")[at[on]]
    return pd.Series(expected, index=items.index, name="expected")


def learn(ledger: pd.DataFrame, customers: pd.DataFrame, as_of: dt.date,
          due: np.ndarray | None = None) -> Habit:
    """Every customer's habit and settlement cycle from its paid invoices (`due` as for
    `paid_dates`): what open_item_dates and payment_timing both need, learnt once."""
    return habits(paid_dates(ledger, as_of, due=due), customers, as_of)


def open_item_dates(ledger: pd.DataFrame, customers: pd.DataFrame, due: np.ndarray,
                    open_rows: np.ndarray, as_of: dt.date,
                    promises: dict[str, dt.date] | None = None,
                    habit: Habit | None = None) -> np.ndarray:  # fmt: skip
    """Every ledger row's expected payment date: NaT for a row that is not an open item
    (`open_rows`: their positions) or one not expected within any forecast (STALE_DAYS
    past its customer's habit). `due`: every row's due date as the engine fills it;
    `habit`: `learn`'s, when already learnt. The one computation behind the Ledger's
    ExpectedPayDate, EXPECTED_PAY_DATE and Forecast."""
    if habit is None:
        habit = learn(ledger, customers, as_of, due)
    items = pd.DataFrame({
        "customer_id": ledger["customer_id"].to_numpy(dtype=object)[open_rows],
        "due": np.asarray(due, dtype="datetime64[D]")[open_rows],
        "doc": ledger["doc_date"].to_numpy(dtype="datetime64[D]")[open_rows],
    })  # fmt: skip
    expected = expected_dates(items, habit, as_of, promises).to_numpy(dtype="datetime64[D]")
    expected[expected >= np.datetime64(as_of, "D") + FAR * DAY] = np.datetime64("NaT")
    out = np.full(len(ledger), np.datetime64("NaT"), dtype="datetime64[D]")
    out[open_rows] = expected
    return out


def _day_of(month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """That day of each month (datetime64[M]), the month's last day where it has fewer."""
    month = np.asarray(month, dtype="datetime64[M]")
    last = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(int)
    return month.astype("datetime64[D]") + (np.minimum(day, last) - 1) * DAY


def _next_day_of_month(start: np.datetime64, day: np.ndarray) -> np.ndarray:
    """The first date on or after `start` that is `day` of its month (or the month's last
    day, in a month with fewer days)."""
    month = np.full(len(day), np.datetime64(start, "M"))
    this = _day_of(month, day)
    return np.where(this >= start, this, _day_of(month + 1, day))


@dataclass(frozen=True, slots=True)
class Cycle:
    """Customers that settle in cycles (月结): all of a month's invoices paid together on
    one day of a later month."""

    months: np.ndarray  # per customer: months from the invoices' month to the run, -1: none
    day: np.ndarray  # per customer: the run's day of the month (1-31), -1: none


MIN_CYCLE_MONTHS = 3  # invoice months paid before a cycle is believed
MIN_SPREAD = 7  # days between the earliest and latest invoice day of the month it pays


def settlement_cycles(invoices: pd.DataFrame, customer_ids: pd.Series, as_of: dt.date,
                      history_days: int = 365) -> Cycle:  # fmt: skip
    """Each customer's settlement cycle from its invoices (`paid_dates`) paid in the last
    `history_days`: a lag in months and a day such that at least SHARE of them were paid
    that many months after their invoice's month within two days of that day, over at
    least MIN_CYCLE_MONTHS invoice months, and their invoices' own days spread over at
    least MIN_SPREAD days (else the due date explains the day as well: no cycle)."""
    n = len(customer_ids)
    months, days = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    paid = invoices["paid"].to_numpy(dtype="datetime64[D]")
    since = np.datetime64(as_of, "D") - history_days * DAY
    done = ~np.isnat(paid) & (paid >= since)
    if "doc" not in invoices or not done.any():
        return Cycle(months, days)
    position = pd.Index(customer_ids.to_numpy(dtype=object)).get_indexer(
        invoices["customer_id"].to_numpy(dtype=object)[done])  # fmt: skip
    known = position >= 0
    position = position[known]
    paid = paid[done][known]
    doc = invoices["doc"].to_numpy(dtype="datetime64[D]")[done][known]
    doc_month = doc.astype("datetime64[M]")
    paid_month = paid.astype("datetime64[M]")
    lag = (paid_month - doc_month).astype(np.int64)
    paid_day = (paid - paid_month.astype("datetime64[D]")).astype(np.int64) + 1
    doc_day = (doc - doc_month.astype("datetime64[D]")).astype(np.int64) + 1
    # Per customer, all at once: its invoice months, its usual lag (the commonest, the
    # shortest of equals; a prepaid invoice counts as lag 0), the median day it pays
    # those on, and which of its invoices were paid on that run.
    # bincount takes platform integers: int64 will not cast to Pyodide's 32-bit intp.
    customers_of_months = _distinct_pairs(position, doc_month.astype(np.int64))[0]
    invoice_months = np.bincount(customers_of_months.astype(np.intp), minlength=n)
    who, lags, count = _distinct_pairs(position, np.maximum(lag, 0), counts=True)
    first = _first_of_each(who, -count, lags)
    usual = np.full(n, -1, dtype=np.int64)
    usual[who[first]] = lags[first]
    on_usual = lag == usual[position]
    day = (pd.Series(paid_day[on_usual]).groupby(position[on_usual]).median().round()
           .reindex(range(n)).to_numpy(dtype=float))  # fmt: skip
    has_day = ~np.isnan(day)  # else every invoice was prepaid: lag 0 won the vote, none had it
    run_day = np.where(has_day, day, 1).astype(np.int64)[position]
    run = _day_of(paid_month, run_day)
    on = on_usual & (np.abs((paid - run).astype(np.int64)) <= 2)
    latest = np.full(n, np.iinfo(np.int64).min)
    earliest = np.full(n, np.iinfo(np.int64).max)
    np.maximum.at(latest, position[on], doc_day[on])
    np.minimum.at(earliest, position[on], doc_day[on])
    spread = np.where(latest >= earliest, latest - earliest, 0)
    total = np.bincount(position, minlength=n)
    share = np.bincount(position[on], minlength=n) / np.maximum(total, 1)
    cycled = (total > 0) & (invoice_months >= MIN_CYCLE_MONTHS) & has_day & (
        share >= SHARE) & (spread >= MIN_SPREAD)  # fmt: skip
    months[cycled], days[cycled] = usual[cycled], day[cycled].astype(np.int64)
    return Cycle(months, days)


def _distinct_pairs(first: np.ndarray, second: np.ndarray, counts: bool = False):
    """The distinct (first, second) pairs of two int64 columns, sorted; with `counts`, how
    often each occurs."""
    pairs = pd.DataFrame({"a": first, "b": second}).value_counts(sort=False).sort_index()
    found = pairs.index.to_frame(index=False)
    out = (found["a"].to_numpy(dtype=np.int64), found["b"].to_numpy(dtype=np.int64))
    return (*out, pairs.to_numpy(dtype=np.int64)) if counts else out


def _first_of_each(groups: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """The position of each group's first row when sorted by `keys` (first key first)."""
    order = np.lexsort((*keys[::-1], groups))
    head = np.r_[True, groups[order][1:] != groups[order][:-1]]
    return order[head]


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
    cycle_months: np.ndarray | None = None  # per customer: a settlement cycle's lag, -1: none


MIN_PAYMENTS = 3
SHARE = 0.6  # of a customer's payments on the habit (within two days of a day of the month)
WEEKDAYS = {"en": ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
                   "Sundays"),
            "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日")}  # fmt: skip


def payment_timing(ledger: pd.DataFrame, customer_ids: pd.Series, as_of: dt.date,
                   history_days: int = 365, due: np.ndarray | None = None,
                   cycle: Cycle | None = None) -> Timing:  # fmt: skip
    """Each customer's payment rhythm over its payments of the last `history_days`: its
    settlement cycle (`settlement_cycles`; `due` as for `paid_dates`), else the day of the
    month that at least SHARE of them fall within two days of, else the weekday at least
    SHARE of them fall on (supermarkets and projects pay in runs)."""
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
    if cycle is None:  # else learnt already (`learn`: the same invoices, the same window)
        cycle = settlement_cycles(paid_dates(ledger, as_of, due), customer_ids, as_of,
                                  history_days)  # fmt: skip
    cycled = cycle.months >= 0
    return Timing(np.where(cycled, cycle.day, np.where(on_day, best_day, -1)),
                  np.where(on_weekday & ~cycled, best_weekday, -1), cycle.months)  # fmt: skip


def next_runs(timing: Timing, as_of: dt.date) -> np.ndarray:
    """Each customer's next payment run on or after `as_of` (NaT: it keeps no rhythm)."""
    start = np.datetime64(as_of, "D")
    out = np.full(len(timing.day), np.datetime64("NaT"), dtype="datetime64[D]")
    on_day = timing.day > 0
    out[on_day] = _next_day_of_month(start, timing.day[on_day])
    on_weekday = timing.weekday >= 0
    today = (start.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
    out[on_weekday] = start + ((timing.weekday[on_weekday] - today) % 7) * DAY
    return out


def timing_text(timing: Timing, lang: str) -> list[str]:
    """'pays around the 25th' / 'pays on Fridays' (通常每月25日前后付款 / 通常周五付款), a
    settlement cycle ('pays each month's invoices on the 25th, 2 months later' / 月结60天：
    每月25日付款), or ''."""
    out = []
    cycles = timing.cycle_months if timing.cycle_months is not None else np.full(
        len(timing.day), -1)  # fmt: skip
    for day, weekday, lag in zip(timing.day, timing.weekday, cycles, strict=True):
        if lag >= 0:
            out.append(_cycle_text(int(day), int(lag), lang))
        elif day > 0:
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


def _cycle_text(day: int, lag: int, lang: str) -> str:
    if lang == "zh":
        return (f"月结：当月账款于每月{day}日付款" if lag == 0 else
                f"月结{30 * lag}天：每月{day}日付款")  # fmt: skip
    when = {0: "", 1: " of the next month"}.get(lag, f", {lag} months later")
    return f"pays each month's invoices on the {day}{_suffix(day)}{when}"
