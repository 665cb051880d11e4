"""Aging + customer summary of N items: the vectorised engine vs a plain per-row Python loop.

Run by hand: python benchmarks/bench_aging.py [N]   (default 1,000,000). Prints times,
the ratio and the engine's peak memory (tracemalloc).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

from xl_addin.core.ledger import age_ledger
from xl_addin.core.policy import DEFAULT_POLICY

AS_OF = dt.date(2026, 11, 30)


def make(n: int, customers: int = 20_000, seed: int = 1):
    rng = np.random.default_rng(seed)
    doc_date = np.datetime64("2024-01-01", "D") + rng.integers(0, 1060, n)
    kind = rng.choice(np.array(["INV", "INV", "INV", "PAY"], dtype=object), n)
    ledger = pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, n).astype(str).astype(object),
            "doc_type": kind,
            "doc_no": np.arange(n).astype(str).astype(object),
            "doc_date": doc_date,
            "due_date": doc_date + 30,
            "amount_cents": rng.integers(100, 10_000_000, n),
            "applies_to": np.full(n, "", dtype=object),
            "currency": "CNY",
            "disputed": rng.random(n) < 0.02,
        }
    )
    ids = np.arange(customers).astype(str).astype(object)
    nat = np.full(customers, np.datetime64("NaT", "D"))
    cust = pd.DataFrame(
        {
            "customer_id": ids, "segment": "Standard", "currency": "CNY",
            "credit_limit_cents": 10**9, "payment_terms_days": 30.0, "open_orders_cents": 0,
            "promise_date": nat, "promise_amount_cents": np.nan, "last_stage": "",
            "last_contact_date": nat,
        }
    )  # fmt: skip
    return ledger, cust


def loop(ledger: pd.DataFrame, bounds=DEFAULT_POLICY.bounds):
    """The same work row by row: settle unapplied cash oldest first, age, bucket, sum."""
    as_of = pd.Timestamp(AS_OF)
    by_customer: dict[str, list] = {}
    for row in ledger.itertuples(index=False):
        if row.doc_date > as_of:
            continue
        by_customer.setdefault(row.customer_id, []).append(row)
    summary = {}
    for customer, rows in by_customer.items():
        cash = sum(r.amount_cents for r in rows if r.doc_type == "PAY")
        buckets = [0] * (len(bounds) + 1)
        for r in sorted((r for r in rows if r.doc_type == "INV"), key=lambda r: r.due_date):
            open_amount = r.amount_cents
            if not r.disputed:
                used = min(cash, open_amount)
                cash -= used
                open_amount -= used
            if open_amount:
                days = (as_of - r.due_date).days
                b = next((i for i, bound in enumerate(bounds) if days <= bound), len(bounds))
                buckets[b] += open_amount
        summary[customer] = (sum(buckets) - cash, buckets)
    return summary


def main(n: int) -> None:
    ledger, customers = make(n)
    start = time.perf_counter()
    tracemalloc.start()
    result = age_ledger(ledger, customers, AS_OF, DEFAULT_POLICY)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine = time.perf_counter() - start
    start = time.perf_counter()
    reference = loop(ledger)
    python = time.perf_counter() - start
    sample = result.customers.set_index("customer_id")["balance_cents"]
    assert all(sample[c] == reference[c][0] for c in list(reference)[:1000])
    print(f"items {n:,}: engine {engine:.2f} s, python loop {python:.2f} s, "
          f"ratio {python / engine:.0f}x, engine peak memory {peak / 2**20:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
