"""The group view's arithmetic: what head office adds up equals what the branches hold."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_addin.core import group

LABELS = ("Current", "1-30", ">30")
RATES = group.Rates("CNY", {"GBP": Decimal("9.1234"), "USD": Decimal("7.1")}, {})

line = st.fixed_dictionaries({
    "branch": st.sampled_from(["SH", "LDN", "BJ"]),
    "customer_id": st.sampled_from(["C1", "c1", "C2", "C3 "]),
    "tax_id": st.sampled_from(["", "", "9131X", "9131 x"]),
    "name": st.text(max_size=5),
    "currency": st.sampled_from(["CNY", "GBP", "USD"]),
    **{label: st.integers(-10**9, 10**9) for label in LABELS},
    "unapplied": st.integers(-10**8, 0),
    "max_days_overdue": st.one_of(st.none(), st.integers(-30, 900)),
    "credit_status": st.sampled_from(["OK", "Hold"]),
    "stage": st.sampled_from(["Not due", "Demand letter", None]),
})  # fmt: skip


def frame(rows: list[dict]) -> pd.DataFrame:
    lines = pd.DataFrame(rows)
    lines["balance"] = lines[list(LABELS)].sum(axis=1) + lines["unapplied"]
    lines["overdue"] = lines["1-30"] + lines[">30"]
    lines["max_days_overdue"] = lines["max_days_overdue"].astype(float)
    return lines


@settings(max_examples=200, deadline=None)
@given(st.lists(line, min_size=1, max_size=40))
def test_group_totals_are_the_sum_of_the_branches_per_currency_and_in_base(rows):
    lines = frame(rows)
    by_branch = group.branch_totals(lines, LABELS)
    customers = group.group_customers(lines, LABELS)
    for currency in lines["currency"].unique():
        for name in (*LABELS, *group.AMOUNTS):
            held = int(lines.loc[lines["currency"] == currency, name].sum())
            assert int(by_branch.loc[by_branch["currency"] == currency, name].sum()) == held
            assert int(customers.loc[customers["currency"] == currency, name].sum()) == held
    # In base: each line converted once, so the group's base total is the sum of the
    # branches' base totals (conversion is per line, before adding).
    base = [RATES.to_base(c, cur) for c, cur in zip(lines["balance"], lines["currency"])]
    per_branch = pd.Series(base).groupby(lines["branch"]).sum()
    assert int(per_branch.sum()) == sum(base)
    # Every line is in exactly one group customer, with its branch and its balance.
    assert sum(len(b) for b in customers["branches"]) == len(lines)
    assert sum(sum(b) for b in customers["branch_balances"]) == int(lines["balance"].sum())


def test_a_customer_at_two_branches_appears_once_with_both_amounts():
    lines = frame([
        {"branch": "SH", "customer_id": "C0001", "tax_id": "91310000ABC", "name": "宁波富源",
         "currency": "CNY", "Current": 100_00, "1-30": 50_00, ">30": 0, "unapplied": 0,
         "max_days_overdue": 12, "credit_status": "OK", "stage": "Friendly reminder"},
        {"branch": "LDN", "customer_id": "L-77", "tax_id": "91310000abc ", "name": "Fuyuan",
         "currency": "CNY", "Current": 0, "1-30": 0, ">30": 300_00, "unapplied": -20_00,
         "max_days_overdue": 95, "credit_status": "Hold", "stage": "Credit hold"},
        {"branch": "LDN", "customer_id": "C0001", "tax_id": "", "name": "Other Ltd",
         "currency": "GBP", "Current": 10_00, "1-30": 0, ">30": 0, "unapplied": 0,
         "max_days_overdue": None, "credit_status": "OK", "stage": None},
    ])  # fmt: skip
    customers = group.group_customers(lines, LABELS).set_index("key")
    shared = customers.loc["tax:91310000ABC"]
    assert shared["branches"] == ["SH", "LDN"] and shared["branch_balances"] == [150_00, 280_00]
    assert shared["balance"] == 430_00 and shared["max_days_overdue"] == 95
    assert shared["customer_id"] == "C0001 / L-77"
    assert customers.loc["id:C0001"]["branches"] == ["LDN"]  # same id, no tax id: apart
    assert len(customers) == 2


def test_rates_convert_half_up_and_buckets_sort_by_age():
    assert RATES.to_base(1_00, "GBP") == 9_12  # 9.1234 -> 9.12
    assert RATES.to_base(-1_50, "USD") == -10_65
    assert RATES.to_base(5, "EUR") is None and RATES.missing(["EUR", "CNY", "GBP"]) == ["EUR"]
    assert group.bucket_order([">365", "1-30", "Current", "31-60", "1-20", ">30"]) == [
        "Current", "1-30", "1-20", ">30", "31-60", ">365"]
