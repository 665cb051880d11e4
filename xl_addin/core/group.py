"""The group view: branch agings added up per branch, per customer across branches, and in
the group's base currency.

Input is one frame of customer lines, one row per customer per branch, amounts in cents
(int64) with a column per bucket label. A customer at several branches is one customer
of the group when its TaxID matches, else its CustomerID (case and spaces ignored);
amounts are added per currency, never across currencies except through `Rates`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

AMOUNTS = ("unapplied", "balance", "overdue")


@dataclass(frozen=True, slots=True)
class Rates:
    """What one unit of each currency is worth in the base currency, and as of when."""

    base: str
    rates: Mapping[str, Decimal]
    dates: Mapping[str, dt.date | None]

    def missing(self, currencies: Sequence[str]) -> list[str]:
        return sorted({c for c in currencies if c != self.base and c not in self.rates})

    def to_base(self, cents: int, currency: str) -> int | None:
        """`cents` of `currency` in base-currency cents (half up); None without a rate."""
        if currency == self.base:
            return int(cents)
        rate = self.rates.get(currency)
        if rate is None:
            return None
        return int((Decimal(int(cents)) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def bucket_order(labels: Sequence[str]) -> list[str]:
    """Bucket labels of several branches (their Policies may differ) in age order:
    Current / <=N first, then N-M by N, then >N."""

    def start(label: str) -> float:
        if label == "Current" or label.startswith("<="):
            return -np.inf
        found = re.match(r">?(\d+)", label)
        return float(found.group(1)) + (0.5 if label.startswith(">") else 0) if found else np.inf

    return sorted(dict.fromkeys(labels), key=start)


def group_key(customer_id: object, tax_id: object) -> str:
    """The group's key for a customer: its tax id when it has one, else its id."""
    tax = "".join(str(tax_id or "").split()).upper()
    if tax:
        return f"tax:{tax}"
    return "id:" + "".join(str(customer_id or "").split()).upper()


def branch_totals(lines: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Per branch and currency: customers with anything open, each bucket, unapplied,
    balance, overdue (cents)."""
    sums = lines.groupby(["branch", "currency"], sort=True)[[*labels, *AMOUNTS]].sum()
    counts = lines.groupby(["branch", "currency"], sort=True)["customer_id"].count()
    return sums.assign(customers=counts).reset_index()


def group_customers(lines: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """One row per customer of the group and currency: amounts added over its branches,
    the branches it is at (with each one's balance), the oldest item's days overdue."""
    pairs = zip(lines["customer_id"], lines["tax_id"], strict=True)
    keyed = lines.assign(key=[group_key(c, t) for c, t in pairs])
    rows = []
    for (key, currency), part in keyed.groupby(["key", "currency"], sort=False):
        amounts = {name: int(part[name].sum()) for name in (*labels, *AMOUNTS)}
        days = part["max_days_overdue"].to_numpy(dtype=np.float64)
        rows.append({
            "key": key, "currency": currency,
            "customer_id": " / ".join(dict.fromkeys(part["customer_id"])),
            "name": next((n for n in part["name"] if n), ""),
            "tax_id": next((t for t in part["tax_id"] if t), ""),
            "branches": list(part["branch"]),
            "branch_balances": [int(b) for b in part["balance"]],
            "max_days_overdue": None if np.isnan(days).all() else int(np.nanmax(days)),
            **amounts,
        })  # fmt: skip
    return pd.DataFrame(rows)


def status_counts(lines: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per branch, how many customers are at each value of `column` (stage, credit status)."""
    counted = lines[lines[column].map(lambda v: isinstance(v, str) and v != "")]
    table = pd.crosstab(counted["branch"], counted[column])
    return table.reindex(sorted(lines["branch"].unique()), fill_value=0)
