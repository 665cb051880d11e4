"""Aging + customer summary of N items: the vectorised engine vs a per-row Python loop.

Run by hand: python benchmarks/bench_aging.py [N]   (default 1,000,000).

The loop does the same work as the engine, row by row, the way a careful script
would: named payments and credit notes settle their invoice, unapplied cash
settles the oldest undisputed invoices, then days overdue, buckets, the stage
of each item (segment offset, disputes) and per customer the balance, buckets,
unapplied, overdue, oldest item, headroom, credit status and stage (broken
promises, the last stage used, the minimum amount). Both results are compared
for every customer before any time is printed. Peak memory is measured in a
separate engine run, because tracemalloc slows the code it watches.

The machine is shared and noisy, and noise only ever adds time: the two sides are
measured in interleaved rounds (three engine runs, then one loop) and each side's
best time is compared, as CPU time of this process (what other tenants' load
disturbs least; both sides run on one thread) and as wall time, with the engine's
median, the loop's slowest and each round's wall-time ratio.

Text columns are built as the workbook reader gives them (object dtype, a string
object of its own in every cell), so neither side gets strings that happen to be
shared between columns, as numpy's choice() and fancy indexing would make them.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import tracemalloc
from bisect import bisect_left, bisect_right
from collections import defaultdict

import numpy as np
import pandas as pd

from xl_addin.core.ledger import PROMISE_WINDOW_DAYS, age_ledger
from xl_addin.core.policy import DEFAULT_POLICY, Policy

AS_OF = dt.date(2026, 11, 30)
ON_HOLD, BELOW_MINIMUM = -1, -2


def make(n: int, customers: int = 20_000, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ledger of n documents: invoices, payments (half of them naming an invoice), credits."""
    rng = np.random.default_rng(seed)
    doc_date = np.datetime64("2024-01-01", "D") + rng.integers(0, 1080, n)
    kind = rng.choice(np.array(["INV"] * 6 + ["PAY"] * 3 + ["CRN"], dtype=object), n)
    customer = rng.integers(0, customers, n)
    doc_no = np.char.add("D", np.arange(n).astype(str)).astype(object)
    applies_to = np.full(n, "", dtype=object)
    invoices = np.flatnonzero(kind == "INV")
    naming = np.flatnonzero((kind != "INV") & (rng.random(n) < 0.5))
    target = rng.choice(invoices, len(naming))
    customer[naming] = customer[target]
    applies_to[naming] = doc_no[target]
    due = doc_date + rng.choice([0, 30, 60], n)
    due = np.where(rng.random(n) < 0.05, np.datetime64("NaT"), due)
    ledger = pd.DataFrame(
        {
            "customer_id": np.char.add("C", customer.astype(str)),
            "doc_type": kind,
            "doc_no": doc_no,
            "doc_date": doc_date,
            "due_date": due,
            "amount_cents": rng.integers(100, 5_000_000, n),
            "applies_to": applies_to,
            "currency": "CNY",
            "disputed": rng.random(n) < 0.02,
        }
    )
    for column in ("customer_id", "doc_type", "doc_no", "applies_to", "currency"):
        ledger[column] = as_read(ledger[column])
    promised = rng.random(customers) < 0.1
    nat = np.datetime64("NaT", "D")
    cust = pd.DataFrame(
        {
            "customer_id": np.char.add("C", np.arange(customers).astype(str)).astype(object),
            "segment": rng.choice(np.array(["Strategic", "Standard", "Watch", ""], dtype=object),
                                  customers),
            "currency": "CNY",
            "credit_limit_cents": rng.integers(0, 50, customers) * 10_000_000,
            "payment_terms_days": rng.choice([30.0, 60.0, np.nan], customers),
            "open_orders_cents": rng.integers(0, 5_000_000, customers),
            "promise_date": np.where(promised, np.datetime64("2026-11-01", "D")
                                     + rng.integers(0, 60, customers), nat),
            "promise_amount_cents": np.where(promised, rng.integers(0, 10**8, customers) * 1.0,
                                             np.nan),
            "last_stage": rng.choice(np.array(["", "", "friendly_reminder", "Phone call",
                                               "催款函"], dtype=object), customers),
            "last_contact_date": np.where(rng.random(customers) < 0.3,
                                          np.datetime64("2026-10-15", "D"), nat),
        }
    )  # fmt: skip
    return ledger, cust


def as_read(column: pd.Series) -> pd.Series:
    """Text as the workbook reader gives it: object dtype, a string object of its own per cell."""
    return pd.Series(np.asarray(column, dtype=str).astype(object), index=column.index, dtype=object)


def loop(ledger: pd.DataFrame, customers: pd.DataFrame, policy: Policy = DEFAULT_POLICY):
    """The engine's work, one row at a time; returns {customer: summary tuple}."""
    as_of = pd.Timestamp(AS_OF)
    rules = policy.rules
    starts = [s.from_days for s in policy.stages[1:]]
    top = len(policy.stages) - 1
    cust = {c.customer_id: c for c in customers.itertuples(index=False)}
    offset = {c: policy.segment_offset(row.segment) or 0 for c, row in cust.items()}

    debits, credits, paid = {}, [], defaultdict(int)
    for i, row in enumerate(ledger.itertuples(index=False)):
        if row.doc_date > as_of:
            continue
        c = cust[row.customer_id]
        if row.doc_type == "INV" or (row.doc_type == "ADJ" and row.amount_cents >= 0):
            due = row.due_date
            if pd.isna(due):
                terms = c.payment_terms_days
                terms = rules.default_payment_terms_days if np.isnan(terms) else int(terms)
                due = row.doc_date + pd.Timedelta(days=terms)
            debits[row.doc_no] = [row.customer_id, abs(row.amount_cents), due, row.doc_date,
                                  row.disputed, i]  # fmt: skip
        else:
            credits.append((row.doc_date, i, row))
        if row.doc_type == "PAY" and not pd.isna(c.promise_date):
            since = c.last_contact_date
            if pd.isna(since):
                since = c.promise_date - pd.Timedelta(days=PROMISE_WINDOW_DAYS)
            if row.doc_date > since:
                paid[row.customer_id] += row.amount_cents

    pool = defaultdict(int)
    for _, _, row in sorted(credits, key=lambda t: (t[0], t[1])):
        amount = abs(row.amount_cents)
        item = debits.get(row.applies_to) if row.applies_to else None
        if item is not None and item[0] == row.customer_id:
            used = min(item[1], amount)
            item[1] -= used
            amount -= used
        pool[row.customer_id] += amount

    by_customer = defaultdict(list)
    for item in sorted(debits.values(), key=lambda d: (d[2], d[3], d[5])):
        by_customer[item[0]].append(item)
    summary = {}
    for customer_id, c in cust.items():
        cash = pool[customer_id]
        buckets = [0] * (len(policy.bounds) + 1)
        overdue, max_days, stage_days, dunnable = 0, None, None, 0
        for item in by_customer.get(customer_id, ()):
            if not item[4]:
                used = min(cash, item[1])
                cash -= used
                item[1] -= used
            if item[1] <= 0:
                continue
            days = (as_of - item[2]).days
            buckets[bisect_left(policy.bounds, days)] += item[1]
            item_stage = bisect_right(starts, days + offset[customer_id])  # the item's own stage
            item.append(ON_HOLD if item[4] else item_stage)
            overdue += item[1] if days > 0 else 0
            max_days = days if max_days is None else max(max_days, days)
            if not item[4]:
                stage_days = days if stage_days is None else max(stage_days, days)
                dunnable += item[1]
        balance = sum(buckets) - cash
        stage = None
        if max_days is not None:
            only_disputed = stage_days is None
            days = max_days if only_disputed else stage_days
            stage = bisect_right(starts, days + offset[customer_id])
            broken = (
                not pd.isna(c.promise_date) and c.promise_date < as_of
                and paid[customer_id] < (1 if np.isnan(c.promise_amount_cents)
                                         else c.promise_amount_cents)
            )  # fmt: skip
            stage = min(stage + broken, top)
            last = policy.stage_index(c.last_stage)
            last = -1 if last is None else last
            cap = (
                last + rules.max_steps_per_run
                if last >= 1
                else policy.stage_index(rules.first_contact_max_stage)
            )
            stage = min(stage, cap)
            if only_disputed:
                stage = ON_HOLD
            elif dunnable <= 0:
                stage = 0
            elif dunnable < rules.minimum_amount * 100:
                stage = BELOW_MINIMUM
        exposure = balance + c.open_orders_cents
        hold = stage is not None and stage >= policy.stage_index(rules.hold_from_stage)
        if hold:
            status = "Hold"
        elif exposure > c.credit_limit_cents:
            status = "Over limit"
        elif c.credit_limit_cents > 0 and exposure >= c.credit_limit_cents * rules.near_limit_share:
            status = "Near limit"
        else:
            status = "OK"
        summary[customer_id] = (balance, tuple(buckets), -cash, overdue, max_days, stage, status)
    return summary


def engine_summary(result) -> dict:
    frame = result.customers
    buckets = frame[[f"bucket:{label}" for label in result.labels]].to_numpy()
    out = {}
    for i, row in enumerate(frame.itertuples(index=False)):
        days = None if np.isnan(row.max_days_overdue) else int(row.max_days_overdue)
        stage = None if row.stage_code == -9 else int(row.stage_code)
        out[row.customer_id] = (
            int(row.balance_cents), tuple(int(b) for b in buckets[i]), int(row.unapplied_cents),
            int(row.overdue_cents), days, stage, row.credit_status,
        )  # fmt: skip
    return out


def _timed(function, *args):
    """Run once; return (result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main(n: int, rounds: int = 2) -> None:
    ledger, customers = make(n)
    engine_wall, engine_cpu, loop_wall, loop_cpu = [], [], [], []
    for _ in range(rounds):  # interleaved, so that both sides see the machine in the same state
        for _ in range(3):
            result, wall, cpu = _timed(age_ledger, ledger, customers, AS_OF, DEFAULT_POLICY)
            engine_wall.append(wall)
            engine_cpu.append(cpu)
        reference, wall, cpu = _timed(loop, ledger, customers)
        loop_wall.append(wall)
        loop_cpu.append(cpu)
    mine = engine_summary(result)
    wrong = [c for c in reference if reference[c] != mine[c]]
    assert not wrong, f"{len(wrong)} customers differ, e.g. {wrong[0]}: {reference[wrong[0]]} " \
                      f"vs {mine[wrong[0]]}"  # fmt: skip
    tracemalloc.start()
    age_ledger(ledger, customers, AS_OF, DEFAULT_POLICY)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"aging {n:,} items, {len(customers):,} customers (results identical), best of "
        f"{len(engine_wall)} engine runs and {len(loop_wall)} loop runs:"
    )
    print(
        f"  CPU time:  engine {min(engine_cpu):.2f} s, python loop {min(loop_cpu):.2f} s, "
        f"ratio {min(loop_cpu) / min(engine_cpu):.0f}x"
    )
    per_round = ", ".join(f"{loop_wall[r] / min(engine_wall[3 * r:3 * r + 3]):.0f}x"
                          for r in range(rounds))  # fmt: skip
    print(
        f"  wall time: engine {min(engine_wall):.2f} s (median "
        f"{sorted(engine_wall)[len(engine_wall) // 2]:.2f} s), python loop "
        f"{min(loop_wall):.2f} s (slowest {max(loop_wall):.2f} s), ratio "
        f"{min(loop_wall) / min(engine_wall):.0f}x (each round: {per_round})"
    )
    print(f"  engine peak memory {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
