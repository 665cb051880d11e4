"""The controller's month-end figures, per currency: receivables, DSO by the countback
method, best possible DSO, average days delinquent, the collection effectiveness index,
overdue share and the top-ten concentration. Definitions and sources: docs/kpis.md.

Every figure comes from the ledger itself: the receivables at a past month-end are the
ledger aged as of that day (documents dated later left out), so twelve months of trend
need no stored snapshots. Credit sales are the invoices (and positive adjustments) dated
in the month.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_addin.core.ledger import DocTypes, age_ledger
from xl_addin.core.policy import Policy

COUNTBACK_MONTHS = 36  # beyond three years of sales, DSO is given as more than that


@dataclass(frozen=True, slots=True)
class Month:
    """One month-end (or the as-of day for the month in progress) in one currency."""

    end: dt.date
    currency: str
    receivables: int  # cents: the customers' balances added up
    current: int  # not yet due
    overdue: int
    sales: int  # credit sales dated in the month (up to `end`)
    dso: float | None
    best_dso: float | None
    cei: float | None  # None for the first month (no opening receivables)
    top10: float | None  # share of receivables owed by the ten largest balances

    @property
    def add(self) -> float | None:
        """Average days delinquent: DSO - best possible DSO."""
        return None if self.dso is None or self.best_dso is None else self.dso - self.best_dso

    @property
    def overdue_share(self) -> float | None:
        return None if self.receivables <= 0 else self.overdue / self.receivables


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


def history(ledger: pd.DataFrame, customers: pd.DataFrame, as_of: dt.date, policy: Policy,
            months: int = 12) -> list[Month]:  # fmt: skip
    """Every currency's figures at each of the last `months` month-ends, oldest first."""
    out: list[Month] = []
    currency_of = dict(zip(customers["customer_id"], customers["currency"], strict=True))
    ledger_currency = ledger["customer_id"].map(currency_of).to_numpy(dtype=object)
    for currency in sorted(set(currency_of.values())):
        mine = customers[customers["currency"].to_numpy(dtype=object) == currency]
        items = ledger[ledger_currency == currency]
        if items.empty:
            continue
        dated = items["doc_date"].to_numpy(dtype="datetime64[D]") <= np.datetime64(as_of, "D")
        sales = monthly_sales(items[dated])
        previous: tuple[int, int] | None = None  # (receivables, ) at the month before
        for end in month_ends(as_of, months):
            month = _month(items, mine, end, currency, policy, sales, previous)
            out.append(month)
            previous = (month.receivables,)
    return out


def _month(items, customers, end, currency, policy, sales, previous) -> Month:
    aging = age_ledger(items, customers, end, policy)
    summary, rows = aging.customers, aging.items
    balances = summary["balance_cents"].to_numpy(dtype=np.int64)
    receivables = int(balances.sum())
    overdue = int(summary["overdue_cents"].to_numpy(dtype=np.int64).sum())
    days = rows["days_overdue"].to_numpy(dtype=np.float64)
    open_cents = rows["open_cents"].to_numpy(dtype=np.int64)
    current = int(open_cents[np.nan_to_num(days, nan=1) <= 0].sum())
    history_back = _sales_back(sales, end)
    month_sales = history_back[0][1] if history_back else 0
    positive = np.sort(balances[balances > 0])[::-1]
    top10 = None if receivables <= 0 else float(positive[:10].sum()) / receivables
    cei = None if previous is None else collection_effectiveness(
        previous[0], month_sales, receivables, current)  # fmt: skip
    return Month(end, currency, receivables, current, overdue, month_sales,
                 countback(receivables, history_back), countback(current, history_back),
                 cei, top10)  # fmt: skip


def _sales_back(sales: pd.Series, end: dt.date) -> list[tuple[int, int]]:
    """(days, sales) of the month of `end` (its days so far) and the months before, latest
    first, as far back as COUNTBACK_MONTHS."""
    out = []
    year, month = end.year, end.month
    for n in range(COUNTBACK_MONTHS):
        days = end.day if n == 0 else calendar.monthrange(year, month)[1]
        out.append((days, int(sales.get((year, month), 0))))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out
