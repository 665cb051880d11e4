"""Aging + customer summary of N items: the vectorised engine vs two Python loops.

Run by hand: python -m benchmarks.bench_aging [N] [ROUNDS]   (default 1,000,000 and 2).

Both loops do the engine's work (core.ledger.age_ledger) row by row: named payments
and credit notes settle their invoice, unapplied cash settles the oldest undisputed
invoices, then days overdue, buckets, the stage of each item (segment offset,
disputes) and per customer the balance, buckets, unapplied, overdue, oldest item,
stage and credit status. The fastest loop is what a careful Python programmer would
write: every column turned into a list once (`.tolist()`, dates as day numbers),
then plain loops, lists and dicts; it also gives headroom, dunnable and disputed
amounts, the deciding row and oldest due date, and every row's open amount, days,
bucket and stage, all asserted equal to the engine's. The old loop walks the frame
with itertuples() on pandas scalars and Timestamps; its summary is asserted equal too.

The machine is shared and noisy, and noise only ever adds time: the sides are
measured in interleaved rounds (three engine runs, then each loop) and each side's
best time is compared, as CPU time of this process (time.process_time; all run on
one thread) and as wall time. Peak memory is the process's ru_maxrss (KiB on
Linux), read after the data is built, after a first engine run (before any loop)
and at the end.

Text columns are built as the workbook reader gives them (object dtype, a string
object of its own in every cell), so neither side gets strings that happen to be
shared between columns, as numpy's choice() and fancy indexing would make them.
"""

from __future__ import annotations

import datetime as dt
import resource
import statistics
import sys
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict

import numpy as np
import pandas as pd

from xl_addin.core.escalation import BLANK_CODE as BLANK
from xl_addin.core.escalation import ON_HOLD_CODE as ON_HOLD
from xl_addin.core.escalation import first_overdue_days
from xl_addin.core.ledger import age_ledger
from xl_addin.core.policy import DEFAULT_POLICY, Policy

AS_OF = dt.date(2026, 11, 30)
EPOCH = dt.date(1970, 1, 1)
NAT = np.iinfo(np.int64).min  # a blank date as int64 days


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


def _ladder(days: int, offset: int, first_overdue: int) -> int:
    """The days that place an item on the ladder (as core.escalation.ladder_days)."""
    return max(days + offset, first_overdue) if days >= 1 else days


def _credit_status(balance, limit, orders, hold, share) -> str:
    exposure = balance + orders
    if hold:
        return "Hold"
    if exposure > limit:
        return "Over limit"
    if limit > 0 and exposure * share[1] >= limit * share[0]:
        return "Near limit"
    return "OK"


def loop(ledger: pd.DataFrame, customers: pd.DataFrame, policy: Policy = DEFAULT_POLICY):
    """The engine's work, one pandas row at a time; returns {customer: summary tuple}.

    The tuple is the first seven fields of `engine_summary`'s.
    """
    as_of = pd.Timestamp(AS_OF)
    rules = policy.rules
    starts = [s.from_days for s in policy.stages[1:]]
    first_overdue = first_overdue_days(policy)
    hold_from = policy.stage_index(rules.hold_from_stage)
    share = rules.near_limit_share.as_integer_ratio()
    cust = {c.customer_id: c for c in customers.itertuples(index=False)}
    offset = {c: policy.segment_offset(row.segment) or 0 for c, row in cust.items()}

    debits, credits = {}, []
    for i, row in enumerate(ledger.itertuples(index=False)):
        if not row.doc_date <= as_of:
            continue
        c = cust[row.customer_id]
        if row.doc_type == "INV" or (row.doc_type == "ADJ" and row.amount_cents >= 0):
            due = row.due_date
            if pd.isna(due):
                terms = c.payment_terms_days
                terms = rules.default_payment_terms_days if np.isnan(terms) else int(terms)
                due = row.doc_date + pd.Timedelta(days=terms)
            if row.doc_no not in debits:  # the first of a number is the one credits name
                debits[row.doc_no] = [row.customer_id, abs(row.amount_cents), due, row.doc_date,
                                      row.disputed, i]  # fmt: skip
            else:
                debits[(row.doc_no, i)] = [row.customer_id, abs(row.amount_cents), due,
                                           row.doc_date, row.disputed, i]  # fmt: skip
        else:
            credits.append((row.doc_date, i, row))

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
        overdue, max_days, stage_days = 0, None, None
        for item in by_customer.get(customer_id, ()):
            if not item[4]:
                used = min(cash, item[1])
                cash -= used
                item[1] -= used
            if item[1] <= 0:
                continue
            days = (as_of - item[2]).days
            buckets[bisect_left(policy.bounds, days)] += item[1]
            overdue += item[1] if days > 0 else 0
            max_days = days if max_days is None else max(max_days, days)
            if not item[4]:
                stage_days = days if stage_days is None else max(stage_days, days)
        balance = sum(buckets) - cash
        if max_days is None:
            stage = BLANK
        elif stage_days is None:
            stage = ON_HOLD
        else:
            stage = bisect_right(starts, _ladder(stage_days, offset[customer_id], first_overdue))
        status = _credit_status(balance, c.credit_limit_cents, c.open_orders_cents,
                                stage >= hold_from, share)  # fmt: skip
        summary[customer_id] = (balance, tuple(buckets), -cash, overdue, max_days, stage, status)
    return summary


def fast_loop(ledger: pd.DataFrame, customers: pd.DataFrame, policy: Policy = DEFAULT_POLICY):
    """The engine's work in plain Python: each column once to a list, then loops and dicts.

    Returns ({customer: summary tuple as engine_summary's}, per-row items as engine_items').
    Dates become day numbers (days since 1970-01-01) column by column, as anyone would
    write it; no pandas object is touched per row.
    """
    rules = policy.rules
    bounds = list(policy.bounds)
    starts = [s.from_days for s in policy.stages[1:]]
    first_overdue = first_overdue_days(policy)
    hold_from = policy.stage_index(rules.hold_from_stage)
    share = rules.near_limit_share.as_integer_ratio()
    as_of = _day_number(AS_OF)

    ids = customers["customer_id"].tolist()
    position = {c: k for k, c in enumerate(ids)}
    default_terms = rules.default_payment_terms_days
    terms = [default_terms if t != t else int(t)
             for t in customers["payment_terms_days"].tolist()]  # fmt: skip
    offsets, offset = {}, []
    for segment in customers["segment"].tolist():
        if segment not in offsets:
            offsets[segment] = policy.segment_offset(segment) or 0
        offset.append(offsets[segment])

    cust = [position[c] for c in ledger["customer_id"].tolist()]
    kind = ledger["doc_type"].tolist()
    doc_no = ledger["doc_no"].tolist()
    amount = ledger["amount_cents"].tolist()
    applies_to = ledger["applies_to"].tolist()
    disputed = ledger["disputed"].tolist()
    doc_date = _day_numbers(ledger["doc_date"])
    due = _day_numbers(ledger["due_date"])
    n, n_cust = len(kind), len(ids)

    # 1. Debits and credits in scope; credits that name a debit of their customer settle it.
    is_debit = [False] * n
    open_amount = [0] * n  # what is left of each debit, and of each credit to apply
    first_debit = {}
    credits = []
    for i in range(n):
        day = doc_date[i]
        if day is None or day > as_of:
            continue
        a = amount[i]
        k = kind[i]
        if k == "INV" or (k == "ADJ" and a >= 0):
            is_debit[i] = True
            open_amount[i] = a if a >= 0 else -a
            if doc_no[i] not in first_debit:
                first_debit[doc_no[i]] = i
            if due[i] is None:
                due[i] = day + terms[cust[i]]
        else:
            open_amount[i] = a if a >= 0 else -a
            credits.append(i)
    named = []
    for i in credits:
        if applies_to[i]:
            target = first_debit.get(applies_to[i])
            if target is not None and cust[target] == cust[i]:
                named.append((target, doc_date[i], i))
    named.sort()
    for target, _, i in named:
        used = min(open_amount[target], open_amount[i])
        open_amount[target] -= used
        open_amount[i] -= used

    # 2. Unapplied credit settles open undisputed debits, oldest due date first.
    pool = [0] * n_cust
    credits_of = [[] for _ in range(n_cust)]
    for i in credits:
        if open_amount[i]:
            pool[cust[i]] += open_amount[i]
            credits_of[cust[i]].append((doc_date[i], i))
    settleable = [[] for _ in range(n_cust)]
    for i in range(n):
        if is_debit[i] and not disputed[i] and open_amount[i] > 0 and pool[cust[i]]:
            settleable[cust[i]].append((due[i], doc_date[i], i))
    consumed = [0] * n_cust
    for c in range(n_cust):
        cash = pool[c]
        if not cash:
            continue
        for _, _, i in sorted(settleable[c]):
            used = min(cash, open_amount[i])
            open_amount[i] -= used
            cash -= used
            if not cash:
                break
        consumed[c] = pool[c] - cash
        left = consumed[c]  # the oldest credits are the ones used up
        for _, i in sorted(credits_of[c]):
            taken = min(left, open_amount[i])
            open_amount[i] -= taken
            left -= taken
            if not left:
                break

    # 3. Days, buckets and stages of the open debits, summed per customer.
    width = len(bounds) + 1
    buckets = [[0] * width for _ in range(n_cust)]
    overdue, dunnable, disputed_overdue = [0] * n_cust, [0] * n_cust, [0] * n_cust
    max_days, stage_days = [None] * n_cust, [None] * n_cust
    deciding, oldest_due = [-1] * n_cust, [None] * n_cust
    open_cents = [0] * n
    item_days, item_bucket, item_stage = [None] * n, [-1] * n, [BLANK] * n
    for i in range(n):
        cents = open_amount[i]
        if not is_debit[i]:
            open_cents[i] = -cents
            continue
        open_cents[i] = cents
        if cents <= 0:
            continue
        c = cust[i]
        days = as_of - due[i]
        bucket = bisect_left(bounds, days)
        item_days[i], item_bucket[i] = days, bucket
        buckets[c][bucket] += cents
        if days > 0:
            overdue[c] += cents
        if max_days[c] is None or days > max_days[c]:
            max_days[c] = days
        if disputed[i]:
            item_stage[i] = ON_HOLD
            if days > 0:
                disputed_overdue[c] += cents
            continue
        item_stage[i] = bisect_right(starts, _ladder(days, offset[c], first_overdue))
        dunnable[c] += cents
        if stage_days[c] is None or days > stage_days[c]:  # the earlier row wins a tie
            stage_days[c], deciding[c] = days, i
        if oldest_due[c] is None or due[i] < oldest_due[c]:
            oldest_due[c] = due[i]

    limits = customers["credit_limit_cents"].tolist()
    orders = customers["open_orders_cents"].tolist()
    summary = {}
    for c, customer_id in enumerate(ids):
        balance = sum(buckets[c]) - pool[c] + consumed[c]
        if max_days[c] is None:
            stage = BLANK
        elif stage_days[c] is None:
            stage = ON_HOLD
        else:
            stage = bisect_right(starts, _ladder(stage_days[c], offset[c], first_overdue))
        status = _credit_status(balance, limits[c], orders[c], stage >= hold_from, share)
        summary[customer_id] = (
            balance, tuple(buckets[c]), consumed[c] - pool[c], overdue[c], max_days[c], stage,
            status, limits[c] - balance - orders[c], dunnable[c], disputed_overdue[c],
            deciding[c], oldest_due[c],
        )  # fmt: skip
    return summary, (open_cents, item_days, item_bucket, item_stage)


def _day_number(date: dt.date) -> int:
    return (date - EPOCH).days


def _day_numbers(column: pd.Series) -> list[int | None]:
    """Days since 1970-01-01 of each date in the column (None for a blank one)."""
    days = column.to_numpy(dtype="datetime64[D]").view(np.int64).tolist()
    return [None if d == NAT else d for d in days]


def _none_if_nan(values: list) -> list:
    return [None if v != v else int(v) for v in values]


def engine_summary(result) -> dict:
    """{customer: (balance, buckets, unapplied, overdue, max days, stage code, credit status,
    headroom, dunnable, disputed overdue, deciding row, oldest due day)} from the engine."""
    frame = result.customers
    buckets = frame[[f"bucket:{label}" for label in result.labels]].to_numpy().tolist()
    oldest = frame["oldest_due"].to_numpy(dtype="datetime64[D]").view(np.int64).tolist()
    columns = zip(
        frame["customer_id"].tolist(), frame["balance_cents"].tolist(), buckets,
        frame["unapplied_cents"].tolist(), frame["overdue_cents"].tolist(),
        _none_if_nan(frame["max_days_overdue"].tolist()), frame["stage_code"].tolist(),
        frame["credit_status"].tolist(), frame["headroom_cents"].tolist(),
        frame["dunnable_cents"].tolist(), frame["disputed_overdue_cents"].tolist(),
        frame["deciding_row"].tolist(), [None if d == NAT else d for d in oldest],
    )  # fmt: skip
    return {row[0]: (*row[1:2], tuple(row[2]), *row[3:]) for row in columns}


def engine_items(result) -> tuple[list, ...]:
    """Per ledger row: open cents, days overdue, bucket and stage code, from the engine."""
    items = result.items
    return (
        items["open_cents"].tolist(), _none_if_nan(items["days_overdue"].tolist()),
        items["bucket_index"].tolist(), items["stage_code"].tolist(),
    )  # fmt: skip


def _differences(expected: dict, found: dict, fields: int) -> str:
    """'' if every customer's first `fields` fields agree, else how many differ and one."""
    wrong = [c for c in expected if expected[c][:fields] != found[c][:fields]]
    if not wrong:
        return ""
    c = wrong[0]
    return f"{len(wrong)} customers differ, e.g. {c}: {found[c][:fields]} vs {expected[c][:fields]}"


def _timed(function, *args):
    """Run once; return (result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _peak_rss_mib() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(n: int, rounds: int = 2) -> None:
    ledger, customers = make(n)
    data_rss = _peak_rss_mib()
    result = age_ledger(ledger, customers, AS_OF, DEFAULT_POLICY)  # before any loop: its peak
    engine_rss = _peak_rss_mib()
    engine = engine_summary(result)
    fast, items = fast_loop(ledger, customers)
    wrong = _differences(engine, fast, len(next(iter(engine.values()))))
    assert not wrong, f"fast loop: {wrong}"
    expected_items = engine_items(result)
    for name, mine, theirs in zip(("open cents", "days", "bucket", "stage"), items,
                                  expected_items):  # fmt: skip
        bad = [i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b]
        assert not bad, f"fast loop: {name} differs in {len(bad)} rows, e.g. row {bad[0]}"

    times = {"engine": ([], []), "fast": ([], []), "old": ([], [])}
    for _ in range(rounds):  # interleaved, so that every side sees the machine in the same state
        for _ in range(3):
            result, *measured = _timed(age_ledger, ledger, customers, AS_OF, DEFAULT_POLICY)
            for kept, value in zip(times["engine"], measured):
                kept.append(value)
        for name, function in (("fast", fast_loop), ("old", loop)):
            answer, *measured = _timed(function, ledger, customers)
            for kept, value in zip(times[name], measured):
                kept.append(value)
            answer = answer[0] if name == "fast" else answer
            fields = len(next(iter(answer.values())))
            wrong = _differences(engine_summary(result), answer, fields)
            assert not wrong, f"{name} loop: {wrong}"
    all_rss = _peak_rss_mib()

    best = {name: (min(wall), min(cpu)) for name, (wall, cpu) in times.items()}
    engine_wall, engine_cpu = best["engine"]
    print(
        f"aging {n:,} items, {len(customers):,} customers; every customer's summary equal in "
        f"all three (the fast loop also every row's open amount, days, bucket and stage); "
        f"best of {len(times['engine'][0])} engine runs and {rounds} runs of each loop, "
        f"interleaved:"
    )
    print(f"  {'':38} {'CPU s':>8} {'wall s':>8} {'CPU ratio':>10} {'wall ratio':>11}")
    labels = {
        "engine": "engine (age_ledger)",
        "fast": "fastest plain-Python loop (lists)",
        "old": "per-row loop on pandas scalars",
    }
    for name, label in labels.items():
        wall, cpu = best[name]
        print(f"  {label:38} {cpu:8.2f} {wall:8.2f} {cpu / engine_cpu:9.1f}x "
              f"{wall / engine_wall:10.1f}x")  # fmt: skip
    print(
        f"  engine wall median {statistics.median(times['engine'][0]):.2f} s; each round, "
        "fast loop / old loop wall against that round's best engine: "
        + ", ".join(
            f"{f / min(times['engine'][0][3 * r : 3 * r + 3]):.0f}x/"
            f"{o / min(times['engine'][0][3 * r : 3 * r + 3]):.0f}x"
            for r, (f, o) in enumerate(zip(times["fast"][0], times["old"][0]))
        )
    )
    print(
        f"  peak RSS of this process: {data_rss:.0f} MiB with the data built, "
        f"{engine_rss:.0f} MiB after the first engine run, {all_rss:.0f} MiB after the loops"
    )
    fast_cpu, old_cpu = best["fast"][1], best["old"][1]
    print(
        f"SUMMARY {dt.date.today()} bench_aging N={n:,}: ours {engine_cpu:.2f} s CPU "
        f"({engine_wall:.2f} s wall); alternative fastest loop {fast_cpu:.2f} s CPU, "
        f"per-row pandas loop {old_cpu:.2f} s CPU; ratio {fast_cpu / engine_cpu:.1f}x "
        f"(vs fastest loop), {old_cpu / engine_cpu:.0f}x (vs pandas loop); "
        f"peak RSS {engine_rss:.0f} MiB"
    )  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000,
         int(sys.argv[2]) if len(sys.argv) > 2 else 2)  # fmt: skip
