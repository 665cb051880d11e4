"""Month-end snapshots, roll rates and the expected-credit-loss matrix, worked by hand
(docs/kpis.md gives the definitions)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.conftest import customers_frame, ledger_frame
from xl_addin.core import roll_rates
from xl_addin.core.ledger import age_ledger
from xl_addin.core.policy import DEFAULT_POLICY
from xl_addin.core.snapshots import (
    FIGURES,
    MONTHS_LADDER,
    OVERDUE,
    POLICY_LADDER,
    SALES,
    UNAPPLIED,
    last_month_end,
    month_label,
    months_before,
    months_overdue,
    snapshot_rows,
)
from xl_addin.core.statements import Period

LABELS = ("Current", "1-30", "31-60", ">60")
# Three month-ends of one currency, in whole units (x 100 for cents):
#            Current  1-30  31-60  >60
#   2026-01    1000    400    100   50
#   2026-02    1200    500    200   80
#   2026-03    1000    600    250  130
SNAPSHOTS = {
    "2026-01": (1000, 400, 100, 50),
    "2026-02": (1200, 500, 200, 80),
    "2026-03": (1000, 600, 250, 130),
}


def snapshot_frame(table: dict[str, tuple[int, ...]]) -> pd.DataFrame:
    rows = [{"period": period, "bucket": label, "cents": units * 100}
            for period, amounts in table.items()
            for label, units in zip(LABELS, amounts, strict=True)]  # fmt: skip
    return pd.DataFrame(rows)


def test_each_months_roll_rates():
    amounts = roll_rates.bucket_amounts(snapshot_frame(SNAPSHOTS), list(SNAPSHOTS), LABELS)
    monthly = roll_rates.monthly_roll_rates(amounts)
    # January -> February: 500/1000, 200/400, 80/100. February -> March: 600/1200, 250/500,
    # 130/200.
    assert monthly == pytest.approx(np.array([[0.5, 0.5, 0.8], [0.5, 0.5, 0.65]]))


def test_amount_weighted_roll_rates_loss_rates_and_ecl():
    matrix = roll_rates.roll_rate_matrix(
        "CNY", snapshot_frame(SNAPSHOTS), list(SNAPSHOTS), LABELS,
        np.array([200000, 100000, 30000, 10000]), last_loss=1.0,
    )  # fmt: skip
    # Weighted by amount: Current (500 + 600) / (1000 + 1200) = 0.5; 1-30 (200 + 250) /
    # (400 + 500) = 0.5; 31-60 (80 + 130) / (100 + 200) = 0.7 (the plain mean of 0.8 and
    # 0.65 would be 0.725: the larger February counts more).
    assert matrix.rolls == pytest.approx([0.5, 0.5, 0.7])
    # Loss rates, from the last bucket up: >60 1.0 (given); 31-60 0.7 x 1.0 = 0.7; 1-30
    # 0.5 x 0.7 = 0.35; Current 0.5 x 0.35 = 0.175.
    assert matrix.loss == pytest.approx([0.175, 0.35, 0.7, 1.0])
    # ECL on the open amounts now (2,000.00, 1,000.00, 300.00, 100.00): 350.00, 350.00,
    # 210.00, 100.00 = 1,010.00.
    assert matrix.ecl.tolist() == [35000, 35000, 21000, 10000]
    assert int(matrix.ecl.sum()) == 101000


def test_the_last_buckets_loss_rate_scales_every_bucket():
    matrix = roll_rates.roll_rate_matrix("CNY", snapshot_frame(SNAPSHOTS), list(SNAPSHOTS),
                                         LABELS, np.array([200000, 0, 0, 10000]), 0.8)
    # 0.175 x 0.8 = 0.14 on 2,000.00 = 280.00; 0.8 on 100.00 = 80.00.
    assert matrix.ecl.tolist() == [28000, 0, 0, 8000]


def test_a_roll_rate_is_at_most_100_percent_and_an_empty_bucket_rolls_in_full():
    # 31-60 grows from 100 to 300 (a document entered late): 300/100 is capped at 1. Nothing
    # was ever in 1-30: its roll rate is unknown (NaN) and counts as 1 in the loss rates.
    table = {"2026-01": (1000, 0, 100, 0), "2026-02": (1000, 0, 300, 100)}
    amounts = roll_rates.bucket_amounts(snapshot_frame(table), list(table), LABELS)
    rolls = roll_rates.average_roll_rates(amounts)
    assert rolls[0] == 0.0 and np.isnan(rolls[1]) and rolls[2] == 1.0
    assert roll_rates.loss_rates(rolls, 0.5).tolist() == [0.0, 0.5, 0.5, 0.5]


def test_a_month_without_snapshot_rows_counts_as_empty():
    frame = snapshot_frame({"2026-01": (1000, 400, 0, 0)})
    amounts = roll_rates.bucket_amounts(frame, ["2026-01", "2026-02"], LABELS)
    assert amounts.tolist() == [[100000, 40000, 0, 0], [0, 0, 0, 0]]


def test_the_window_is_twelve_month_ends_ending_at_the_latest():
    window, recorded = roll_rates.matrix_window(["2026-01", "2026-03", "2026-05", "2025-01"])
    assert window[0] == "2025-06" and window[-1] == "2026-05" and len(window) == 12
    assert recorded == 3  # 2025-01 is outside the window
    assert roll_rates.matrix_window([]) == ([], 0)


def test_the_last_month_end_by_an_as_of_date():
    assert last_month_end(dt.date(2026, 11, 30)) == Period(2026, 11)
    assert last_month_end(dt.date(2026, 12, 3)) == Period(2026, 11)
    assert last_month_end(dt.date(2026, 1, 15)) == Period(2025, 12)
    assert months_before(Period(2026, 2), 3) == [Period(2025, 11), Period(2025, 12),
                                                 Period(2026, 1)]  # fmt: skip


# As of 31 October 2026. A: I1 due 31 August, 61 days overdue; I2 due today, current; I3 due
# 9 February, 264 days overdue. B (GBP): a payment of 50.00 with nothing to settle.
LEDGER = """
A INV I1 2026-08-01 2026-08-31 1000.00
A INV I2 2026-10-01 2026-10-31 500.00
A INV I3 2026-01-10 2026-02-09 300.00
B PAY P2 2026-10-20 -          50.00
A INV I4 2026-11-02 2026-12-02 999.00
"""


def test_a_snapshot_in_the_policys_buckets_and_in_month_wide_buckets():
    ledger = ledger_frame(LEDGER)
    customers = customers_frame({"customer_id": "A"}, {"customer_id": "B", "currency": "GBP"})
    aging = age_ledger(ledger, customers, dt.date(2026, 10, 31), DEFAULT_POLICY)
    rows = snapshot_rows(aging, ledger, customers)
    found = {(r.customer_id, r.currency, r.ladder, r.bucket): r.cents
             for r in rows.itertuples()}  # fmt: skip
    # I4 is dated after the month-end: not in it. B's unapplied credit is in the Policy's
    # ladder, so that each customer's rows add up to its balance.
    assert found == {
        ("A", "CNY", POLICY_LADDER, "Current"): 50000,
        ("A", "CNY", POLICY_LADDER, "61-90"): 100000,
        ("A", "CNY", POLICY_LADDER, "181-365"): 30000,
        # By month-ends passed since the due date's month: I2, due on the month-end itself,
        # is in "1 month" (Current is due after it); I1 (August) 3; I3 (February) 9.
        ("A", "CNY", MONTHS_LADDER, "1 month"): 50000,
        ("A", "CNY", MONTHS_LADDER, "3 months"): 100000,
        ("A", "CNY", MONTHS_LADDER, "9 months"): 30000,
        ("B", "GBP", POLICY_LADDER, UNAPPLIED): -5000,
        # For the KPIs: A's overdue (I1 and I3) and its October sales (I2).
        ("A", "CNY", FIGURES, OVERDUE): 130000,
        ("A", "CNY", FIGURES, SALES): 50000,
    }
    assert rows["cents"].dtype == np.int64


def test_the_month_ladder_moves_one_bucket_a_month_whatever_the_months_length():
    due = np.array(["2026-12-31", "2026-12-15", "2027-01-01", "2026-01-31", "2025-11-30"],
                   dtype="datetime64[D]")
    # At 31 December: due that day or earlier in December -> 1; due after it -> Current;
    # January 2026 -> 12; November 2025 -> 14, capped at 13 (Over 12 months).
    assert months_overdue(due, dt.date(2026, 12, 31)).tolist() == [1, 1, 0, 12, 13]
    # A month on (31 days), each unpaid item is exactly one bucket further (30-day buckets
    # would take the item due on the 31st from Current to 31-60).
    assert months_overdue(due, dt.date(2027, 1, 31)).tolist() == [2, 2, 1, 13, 13]
    assert month_label("3 months", "zh") == "逾期3个月"
    assert month_label("Over 12 months", "zh") == "逾期12个月以上"
    assert month_label("Current", "zh") == "未到期"
