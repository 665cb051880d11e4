"""The controller's month-end figures, per currency: receivables, DSO by the countback
method, best possible DSO, average days delinquent, the collection effectiveness index,
overdue share and the top-ten concentration. Definitions and sources: docs/kpis.md.

A month-end recorded in the journal (core/snapshots.py) is given as recorded: what the
ledger said then. Any other is computed from the ledger as it stands: the ledger aged as of
that day (documents dated later left out). Credit sales are the invoices (and positive
adjustments) dated in the month. Overdue share and top-ten concentration are shares of
what is owed before unapplied credit, so they stay within 100%.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_addin.core.ledger import DocTypes, age_ledger
from xl_addin.core.policy import Policy
from xl_addin.core.snapshots import FIGURES, OVERDUE, POLICY_LADDER, SALES, UNAPPLIED

COUNTBACK_MONTHS = 36  # beyond three years of sales, DSO is given as more than that


@dataclass(frozen=True, slots=True)
class Month:
    """One month-end (or the as-of day for the month in progress) in one currency."""

    end: dt.date
    currency: str
    receivables: int  # cents: the customers' balances added up (unapplied credit netted)
    current: int  # open invoices not yet due
    overdue: int  # open invoices past their due date
    sales: int  # credit sales dated in the month (up to `end`)
    dso: float | None
    best_dso: float | None
    cei: float | None  # None for the first month (no opening receivables)
    top10: float | None  # the ten largest balances' share of all the balances owed
    unapplied: int = 0  # cents, zero or negative: credit not yet matched to an invoice
    source: str = "ledger"  # ledger, recorded or reconstructed (the month-end's record)

    @property
    def open_invoices(self) -> int:
        """The open debit items (invoices, debit adjustments), before unapplied credit."""
        return self.current + self.overdue

    @property
    def add(self) -> float | None:
        """Average days delinquent: DSO - best possible DSO."""
        return None if self.dso is None or self.best_dso is None else self.dso - self.best_dso

    @property
    def overdue_share(self) -> float | None:
        """Overdue / open invoices: unapplied cash is not netted, so it stays within 100%."""
        return None if self.open_invoices <= 0 else self.overdue / self.open_invoices


def month_ends(as_of: dt.date, months: int = 12) -> list[dt.date]:
    """The last `months` points, oldest first: past month-ends, then `as_of` itself."""
    ends = [as_of]
    day = as_of.replace(day=1) - dt.timedelta(days=1)
    while len(ends) < months:
        ends.append(day)
        day = day.replace(day=1) - dt.timedelta(days=1)
    return ends[::-1]


def countback(balance: int, sales: Sequence[tuple[int, int]]) -> float | None:
    """Days of sales the balance represents, counted back month by month.

    `sales` is (days in the month, credit sales in cents), the latest month first (the
    month in progress with its days so far). Whole months are taken while the balance
    exceeds their sales; the month that exhausts it gives its fraction of days. None
    when there is nothing to count (no balance) or the history runs out first.
    """
    if balance <= 0:
        return 0.0 if balance == 0 else None
    days, left = 0.0, balance
    for month_days, month_sales in sales:
        if month_sales >= left:
            return days + month_days * left / month_sales
        days += month_days
        left -= max(month_sales, 0)
    return None


def collection_effectiveness(opening: int, sales: int, closing: int,
                             closing_current: int) -> float | None:  # fmt: skip
    """CEI, in percent: (opening + sales - closing) / (opening + sales - closing current)."""
    collectible = opening + sales - closing_current
    if collectible <= 0:
        return None
    return 100.0 * (opening + sales - closing) / collectible


def monthly_sales(ledger: pd.DataFrame) -> pd.Series:
    """Credit sales per (year, month) in cents: invoices and positive adjustments."""
    kinds = DocTypes.of(ledger["doc_type"])
    amount = ledger["amount_cents"].to_numpy(dtype=np.int64)
    debit = kinds.debits(amount)
    dates = pd.DatetimeIndex(ledger["doc_date"].to_numpy(dtype="datetime64[D]"))
    frame = pd.DataFrame({"year": dates.year, "month": dates.month,
                          "cents": np.where(debit, np.abs(amount), 0)})  # fmt: skip
    return frame.groupby(["year", "month"])["cents"].sum()


@dataclass(frozen=True, slots=True)
class RecordedMonth:
    """A month-end's figures in one currency as the journal recorded them (cents)."""

    receivables: int
    unapplied: int
    overdue: int
    sales: int
    balances: tuple[int, ...]  # the customers' balances, largest first
    source: str  # recorded (at the time) or reconstructed (later, from the ledger)


def recorded_months(totals: Iterable[tuple[str, str, str, str, int]],
                    balances: Mapping[tuple[str, str], Sequence[int]],
                    sources: Mapping[str, str]) -> dict:  # fmt: skip
    """(month-end, currency) -> RecordedMonth from the journal's month-end snapshots, summed:
    `totals` is (period, currency, ladder, bucket, cents) summed over the customers and
    `balances` is (period, currency) -> each customer's cents summed over POLICY_LADDER (the
    journal's month_end_totals and month_end_balances). Only the month-ends whose record
    holds the KPIs' figures (core/snapshots.py FIGURES) are given; `sources` is period ->
    recorded or reconstructed."""
    receivables, unapplied, overdue, sales = ({} for _ in range(4))
    groups, with_figures = set(), set()
    for period, currency, ladder, bucket, cents in totals:
        key = (str(period), str(currency))
        groups.add(key)
        if ladder == POLICY_LADDER:
            receivables[key] = receivables.get(key, 0) + cents
            if bucket == UNAPPLIED:
                unapplied[key] = unapplied.get(key, 0) + cents
        elif ladder == FIGURES:
            with_figures.add(key[0])
            if bucket in (OVERDUE, SALES):
                kept = overdue if bucket == OVERDUE else sales
                kept[key] = kept.get(key, 0) + cents
    out: dict[tuple[dt.date, str], RecordedMonth] = {}
    for key in sorted(groups):
        period, currency = key
        if period not in with_figures:
            continue
        owed = np.sort(np.asarray(balances.get(key, ()), dtype=np.int64))[::-1]
        year, month = map(int, period.split("-"))
        end = dt.date(year, month, calendar.monthrange(year, month)[1])
        out[(end, currency)] = RecordedMonth(
            receivables=receivables.get(key, 0), unapplied=unapplied.get(key, 0),
            overdue=overdue.get(key, 0), sales=sales.get(key, 0),
            balances=tuple(owed.tolist()), source=sources.get(period, "recorded"))  # fmt: skip
    return out


def history(ledger: pd.DataFrame, customers: pd.DataFrame, as_of: dt.date, policy: Policy,
            months: int = 12, recorded: Mapping | None = None) -> list[Month]:  # fmt: skip
    """Every currency's figures at each of the last `months` month-ends, oldest first.

    `recorded` ((month-end, currency) -> RecordedMonth, see `recorded_months`) gives the
    month-ends recorded in the journal: those are taken as recorded, the others computed
    from the ledger as it stands. A month's sales are the recorded ones where recorded."""
    recorded = recorded or {}
    out: list[Month] = []
    currency_of = dict(zip(customers["customer_id"], customers["currency"], strict=True))
    ledger_currency = ledger["customer_id"].map(currency_of).to_numpy(dtype=object)
    for currency in sorted(set(currency_of.values())):
        mine = customers[customers["currency"].to_numpy(dtype=object) == currency]
        items = ledger[ledger_currency == currency]
        if items.empty:
            continue
        dated = items["doc_date"].to_numpy(dtype="datetime64[D]") <= np.datetime64(as_of, "D")
        sales = monthly_sales(items[dated]).to_dict()
        sales |= {(end.year, end.month): r.sales for (end, code), r in recorded.items()
                  if code == currency and end <= as_of}  # fmt: skip
        previous: int | None = None  # the receivables at the month-end before
        for end in month_ends(as_of, months):
            record = recorded.get((end, currency))
            month = (_recorded_month(record, end, currency, sales, previous) if record else
                     _month(items, mine, end, currency, policy, sales, previous))  # fmt: skip
            out.append(month)
            previous = month.receivables
    return out


def _month(items, customers, end, currency, policy, sales, previous) -> Month:
    aging = age_ledger(items, customers, end, policy)
    summary, rows = aging.customers, aging.items
    balances = summary["balance_cents"].to_numpy(dtype=np.int64)
    overdue = int(summary["overdue_cents"].to_numpy(dtype=np.int64).sum())
    unapplied = int(summary["unapplied_cents"].to_numpy(dtype=np.int64).sum())
    days = rows["days_overdue"].to_numpy(dtype=np.float64)
    open_cents = rows["open_cents"].to_numpy(dtype=np.int64)
    current = int(open_cents[np.nan_to_num(days, nan=1) <= 0].sum())
    return _figures(end, currency, int(balances.sum()), current, overdue, unapplied, balances,
                    sales, previous, "ledger")  # fmt: skip


def _recorded_month(record: RecordedMonth, end, currency, sales, previous) -> Month:
    current = record.receivables - record.unapplied - record.overdue
    return _figures(end, currency, record.receivables, current, record.overdue,
                    record.unapplied, np.array(record.balances, dtype=np.int64), sales,
                    previous, record.source)  # fmt: skip


def _figures(end, currency, receivables, current, overdue, unapplied, balances, sales,
             previous, source) -> Month:  # fmt: skip
    history_back = _sales_back(sales, end)
    month_sales = history_back[0][1] if history_back else 0
    return Month(end, currency, receivables, current, overdue, month_sales,
                 countback(receivables, history_back), countback(current, history_back),
                 None if previous is None else collection_effectiveness(
                     previous, month_sales, receivables, current),
                 top_ten_share(balances), unapplied, source)  # fmt: skip


def top_ten_share(balances: np.ndarray) -> float | None:
    """The ten largest balances / the balances of every customer who owes (credit balances
    left out, as a balance sheet shows them apart): at most 100%."""
    owed = np.sort(balances[balances > 0])[::-1]
    return None if not len(owed) else float(owed[:10].sum()) / float(owed.sum())


def _sales_back(sales: Mapping[tuple[int, int], int], end: dt.date) -> list[tuple[int, int]]:
    """(days, sales) of the month of `end` (its days so far) and the months before, latest
    first, as far back as COUNTBACK_MONTHS."""
    out = []
    year, month = end.year, end.month
    for n in range(COUNTBACK_MONTHS):
        days = end.day if n == 0 else calendar.monthrange(year, month)[1]
        out.append((days, int(sales.get((year, month), 0))))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out
