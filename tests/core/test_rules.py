"""Buckets, credit status and the escalation ladder, case by case."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from xl_addin.core.aging import age_bucket, bucket_index
from xl_addin.core.credit import credit_headroom, credit_status
from xl_addin.core.escalation import stage_codes, stage_names
from xl_addin.core.policy import DEFAULT_POLICY, bucket_labels


@pytest.mark.parametrize(
    ("days", "label"),
    [(-5, "Current"), (0, "Current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"),
     (61, "61-90"), (90, "61-90"), (91, "91-180"), (180, "91-180"), (181, "181-365"),
     (365, "181-365"), (366, ">365"), (4000, ">365")],
)  # fmt: skip
def test_default_buckets(days, label):
    assert age_bucket(np.array([days], dtype=float))[0] == label


def test_custom_bounds_give_labels_of_the_same_form():
    assert bucket_labels((0, 15, 45)) == ("Current", "1-15", "16-45", ">45")
    assert list(age_bucket(np.array([0, 15, 16, 46, np.nan]), (0, 15, 45))) == [
        "Current", "1-15", "16-45", ">45", None,
    ]  # fmt: skip
    assert bucket_index(np.array([np.nan]))[0] == -1


@pytest.mark.parametrize(
    ("limit", "balance", "orders", "hold", "status"),
    [
        (1000, 0, 0, False, "OK"),
        (1000, 799, 0, False, "OK"),
        (1000, 700, 100, False, "Near limit"),  # exactly 80% with orders
        (1000, 1000, 0, False, "Near limit"),  # at the limit is not over it
        (1000, 900, 101, False, "Over limit"),
        (1000, 0, 0, True, "Hold"),  # hold wins
        (0, 0, 0, False, "OK"),  # no limit, nothing owed
        (0, 1, 0, False, "Over limit"),
    ],
)
def test_credit_status(limit, balance, orders, hold, status):
    result = credit_status(
        np.array([limit * 100]), np.array([balance * 100]), np.array([orders * 100]),
        np.array([hold]), Decimal("0.8"),
    )  # fmt: skip
    assert result[0] == status


def test_headroom_is_limit_less_balance_less_orders():
    assert credit_headroom(np.array([100000]), np.array([80000]), np.array([30000]))[0] == -10000


def _stage(days, **modifiers):
    codes = stage_codes(np.array([days], dtype=float), DEFAULT_POLICY, **modifiers)
    return stage_names(codes, DEFAULT_POLICY)[0]


@pytest.mark.parametrize(
    ("days", "stage"),
    [(-30, "Not due"), (-8, "Not due"), (-7, "Pre-due reminder"), (0, "Pre-due reminder"),
     (1, "Friendly reminder"), (14, "Friendly reminder"), (15, "Phone call"), (30, "Phone call"),
     (31, "Demand letter"), (60, "Demand letter"), (61, "Final notice"), (90, "Final notice"),
     (91, "Credit hold"), (180, "Credit hold"), (181, "Legal action"), (5000, "Legal action")],
)  # fmt: skip
def test_the_default_ladder(days, stage):
    assert _stage(days) == stage


def test_modifiers():
    assert _stage(40, days_offset=-15) == "Phone call"  # Strategic: 15 days later
    assert _stage(25, days_offset=10) == "Demand letter"  # Watch: 10 days earlier
    assert _stage(200, disputed=True) == "On hold"
    # Stage is pure: a small balance stands where its days put it (the minimum amount
    # shapes NextAction); nothing owed is the first step.
    assert _stage(40, amount_cents=np.array([5000.0])) == "Demand letter"
    assert _stage(40, amount_cents=np.array([0.0])) == "Not due"
    assert _stage(np.nan) is None


@pytest.mark.parametrize(
    ("days", "offset", "stage"),
    [(-7, -15, "Pre-due reminder"), (0, -15, "Pre-due reminder"), (-7, 10, "Pre-due reminder"),
     (-8, 10, "Not due"), (1, -15, "Friendly reminder"), (10, -15, "Friendly reminder"),
     (29, -15, "Friendly reminder"), (30, -15, "Phone call"), (1, 10, "Friendly reminder"),
     (4, 10, "Friendly reminder"), (5, 10, "Phone call")],
)  # fmt: skip
def test_offsets_move_only_the_overdue_steps(days, offset, stage):
    """The pre-due window is on the real due date; an overdue item is at least at the first
    overdue step, whatever the segment (a Strategic customer's friendly reminder is not
    pushed back into the pre-due window)."""
    assert _stage(days, days_offset=offset) == stage


def test_stage_names_in_chinese():
    codes = stage_codes(np.array([45.0, 100.0]), DEFAULT_POLICY)
    assert list(stage_names(codes, DEFAULT_POLICY, "zh")) == ["催款函", "停止供货"]
