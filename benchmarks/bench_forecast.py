"""Backtest of the payment-date forecast (core/forecast.py) against two naive rules, on a
generated history whose customers have known habits.

Run by hand: python -m benchmarks.bench_forecast [CUSTOMERS] [SEED]   (default 300, 1).

The history: two years of monthly invoices (30-day terms) for each customer, each paid in
one payment on its due date + the customer's own lateness + noise. The customers' mean
lateness depends on their segment (Strategic about 5 days, Standard 20, Watch 45, with a
spread inside each) and a tenth of them are new (their first invoice six months before
the cut-off). A sixth of them settle in cycles instead (月结: supermarkets, projects): two
or three invoices a month on any day, all of a month's paid together on one day (10th to
28th) one or two months later, now and then a day or two off it. At each of three
month-end cut-offs the forecast learns from what was paid
by then and predicts the payment date of every invoice still open, which is compared with
the day it was really paid (and, to show what the cycles add, so is ours without them).
The naive rules: the due date; the due date + the branch's
average lateness. Both are held to the same floor as ours (not before the day after the
cut-off). Printed: mean absolute error in days for each, per cut-off and overall, and
for the settlement-cycle customers' invoices on their own.
"""

from __future__ import annotations

import datetime as dt
import sys

import numpy as np
import pandas as pd

from xl_addin.core import forecast

SEGMENTS = {"Strategic": (5, 4), "Standard": (20, 8), "Watch": (45, 15)}  # mean, spread
CUTOFFS = (dt.date(2026, 6, 30), dt.date(2026, 8, 31), dt.date(2026, 10, 31))
START = dt.date(2024, 11, 1)
CYCLE_SHARE = 1 / 6


def history(customers: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """The ledger (invoices and payments), the customers, and each invoice's paid date."""
    rng = np.random.default_rng(seed)
    segments = rng.choice(list(SEGMENTS), size=customers, p=[0.2, 0.6, 0.2])
    means = np.array([rng.normal(*SEGMENTS[s]) for s in segments])
    cycles = rng.random(customers) < CYCLE_SHARE
    rows, paid = [], {}
    for c in range(customers):
        cid = f"C{c:04d}"
        first = START if rng.random() > 0.1 else dt.date(2026, 1, 1)
        if cycles[c]:
            _cycle_customer(rng, cid, first, rows, paid)
            continue
        month = pd.Timestamp(first)
        while month.date() <= dt.date(2026, 11, 30):
            doc = (month + pd.Timedelta(days=int(rng.integers(0, 25)))).date()
            due = doc + dt.timedelta(days=30)
            late = max(-5, round(float(means[c] + rng.normal(0, 5))))
            pay = due + dt.timedelta(days=late)
            no = f"{cid}-{doc:%Y%m}"
            amount = int(rng.integers(100, 5000)) * 100
            rows.append((cid, "INV", no, doc, due, amount))
            rows.append((cid, "PAY", "P" + no, pay, None, amount))
            paid[no] = pay
            month = month + pd.offsets.MonthBegin(1)
    ledger = pd.DataFrame(rows, columns=["customer_id", "doc_type", "doc_no", "doc_date",
                                         "due_date", "amount_cents"])  # fmt: skip
    ledger["doc_date"] = pd.to_datetime(ledger["doc_date"])
    ledger["due_date"] = pd.to_datetime(ledger["due_date"])
    frame = pd.DataFrame({"customer_id": [f"C{c:04d}" for c in range(customers)],
                          "segment": segments, "cycle": cycles})  # fmt: skip
    return ledger, frame, pd.Series(paid)


def _cycle_customer(rng, cid: str, first: dt.date, rows: list, paid: dict) -> None:
    """Two or three invoices a month; each month's paid together on `day`, `lag` months on."""
    day, lag = int(rng.integers(10, 29)), int(rng.integers(1, 3))
    month = pd.Timestamp(first)
    while month.date() <= dt.date(2026, 11, 30):
        days = sorted(int(d) for d in rng.choice(28, size=int(rng.integers(2, 4)),
                                                 replace=False))  # fmt: skip
        run = (month + pd.DateOffset(months=lag)).date().replace(day=day)
        if rng.random() < 0.15:  # the run slips a day or two now and then
            run += dt.timedelta(days=int(rng.choice([-2, -1, 1, 2])))
        total = 0
        for k, d in enumerate(days):
            doc = (month + pd.Timedelta(days=d)).date()
            no = f"{cid}-{doc:%Y%m}-{k}"
            amount = int(rng.integers(100, 5000)) * 100
            rows.append((cid, "INV", no, doc, doc + dt.timedelta(days=30), amount))
            paid[no] = run
            total += amount
        rows.append((cid, "PAY", f"P{cid}-{month:%Y%m}", run, None, total))
        month = month + pd.offsets.MonthBegin(1)


def backtest(ledger, customers, truth, cutoff: dt.date,
             only: np.ndarray | None = None) -> dict[str, float]:  # fmt: skip
    """Mean absolute error in days of each rule over the invoices open at `cutoff` (`only`:
    the customers to count)."""
    invoices = forecast.paid_dates(ledger, cutoff)
    habit = forecast.habits(invoices, customers, cutoff)
    numbers = ledger["doc_no"].to_numpy()[invoices["row"].to_numpy()]
    still = invoices[np.isnat(invoices["paid"].to_numpy())].copy()
    still_numbers = numbers[np.isnat(invoices["paid"].to_numpy())]
    actual = pd.to_datetime(pd.Series(truth[still_numbers].to_numpy())).to_numpy(
        dtype="datetime64[D]")  # fmt: skip
    ours = forecast.expected_dates(still, habit, cutoff).to_numpy(dtype="datetime64[D]")
    floor = np.datetime64(cutoff, "D") + np.timedelta64(1, "D")
    due = still["due"].to_numpy(dtype="datetime64[D]")
    done = invoices[~np.isnat(invoices["paid"].to_numpy())]
    average = float((done["paid"] - done["due"]).dt.days.mean())
    # The same without the settlement cycles (lateness only): what the cycles add.
    no_cycles = forecast.expected_dates(still.drop(columns="doc"), habit, cutoff).to_numpy(
        dtype="datetime64[D]")  # fmt: skip
    rules = {"ours": ours, "ours without cycles": no_cycles, "due date": np.maximum(due, floor),
             "due date + branch average": np.maximum(
                 due + np.timedelta64(round(average), "D"), floor)}  # fmt: skip
    counted = np.ones(len(still), dtype=bool) if only is None else (
        still["customer_id"].isin(only).to_numpy())  # fmt: skip
    return {name: float(np.abs((guess - actual).astype(int))[counted].mean())
            for name, guess in rules.items()}  # fmt: skip


def main(customers: int, seed: int) -> None:
    ledger, frame, truth = history(customers, seed)
    print(f"forecast backtest: {customers} customers, {len(truth):,} invoices, seed {seed}")
    cycle_ids = frame.loc[frame["cycle"], "customer_id"].to_numpy()
    print(f"  of which {len(cycle_ids)} customers settle in cycles (月结)")
    totals: dict[str, list[float]] = {}
    cycle_totals: dict[str, list[float]] = {}
    for cutoff in CUTOFFS:
        errors = backtest(ledger, frame, truth, cutoff)
        for name, value in errors.items():
            totals.setdefault(name, []).append(value)
        shown = ", ".join(f"{name} {value:.1f}" for name, value in errors.items())
        print(f"  cut-off {cutoff}: mean absolute error in days: {shown}")
        errors = backtest(ledger, frame, truth, cutoff, only=cycle_ids)
        for name, value in errors.items():
            cycle_totals.setdefault(name, []).append(value)
        shown = ", ".join(f"{name} {value:.1f}" for name, value in errors.items())
        print(f"    settlement-cycle customers only: {shown}")
    mean = {name: sum(v) / len(v) for name, v in totals.items()}
    cycle_mean = {name: sum(v) / len(v) for name, v in cycle_totals.items()}
    print(f"SUMMARY {dt.date.today()} bench_forecast: mean absolute error over "
          f"{len(CUTOFFS)} cut-offs: ours {mean['ours']:.1f} days, due date "
          f"{mean['due date']:.1f}, due date + branch average "
          f"{mean['due date + branch average']:.1f}; settlement-cycle customers: ours "
          f"{cycle_mean['ours']:.1f}, due date {cycle_mean['due date']:.1f}, due date + "
          f"branch average {cycle_mean['due date + branch average']:.1f}")
    assert mean["ours"] < min(mean["due date"], mean["due date + branch average"]), mean
    assert cycle_mean["ours"] < min(cycle_mean["due date"],
                                    cycle_mean["due date + branch average"]), cycle_mean


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:]]
    main(*(arguments + [300, 1][len(arguments):]))
