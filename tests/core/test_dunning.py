"""Stage, CreditStatus and NextAction, one case per rule: days overdue x segment x contact
history x disputes x promises x minimum. As of 30 November 2026."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import customers_frame, ledger_frame
from xl_addin.core.contacts import contact_frame, disputed_by_contacts, legacy_contacts
from xl_addin.core.dunning import SEND, SKIP, items_by_customer, listed_rows, plan_dunning
from xl_addin.core.escalation import stage_names
from xl_addin.core.ledger import age_ledger
from xl_addin.core.policy import DEFAULT_POLICY

AS_OF = dt.date(2026, 11, 30)
NAMES = {  # written out, not read from the policy: the names are part of the contract
    "not_due": ("Not due", "未到期"), "pre_due_reminder": ("Pre-due reminder", "到期提醒"),
    "friendly_reminder": ("Friendly reminder", "友好提醒"),
    "phone_call": ("Phone call", "电话催收"),
    "demand_letter": ("Demand letter", "催款函"), "final_notice": ("Final notice", "最后通知"),
    "credit_hold": ("Credit hold", "停止供货"), "legal_action": ("Legal action", "法律程序"),
    "on_hold": ("On hold", "暂缓催收"), None: (None, None),
}  # fmt: skip
STEP = {key: i for i, key in enumerate(s.key for s in DEFAULT_POLICY.stages)}


def day(days_ago: int) -> str:
    return str(AS_OF - dt.timedelta(days=days_ago))


def inv(days: int, amount: str = "500", no: str = "I1", disputed: bool = False) -> str:
    """An invoice `days` overdue (negative: due in that many days), issued 30 days earlier."""
    due = AS_OF - dt.timedelta(days=days)
    return f"A INV {no} {due - dt.timedelta(days=30)} {due} {amount} -{' D' if disputed else ''}"


def doc(days_ago: int, key: str, kind: str = "letter", ref: str = "") -> dict:
    """A document the journal recorded."""
    return {"customer_id": "A", "date": day(days_ago), "kind": kind, "step": STEP[key],
            "reference": ref or f"R-{key}-{days_ago}", "document": True}  # fmt: skip


def call(days_ago: int, outcome: str = "spoke to AP", **fields) -> dict:
    """A call the collector logged in Contacts."""
    return {"customer_id": "A", "date": day(days_ago), "kind": "call", "step": STEP["phone_call"],
            "outcome": outcome, "document": False, **fields}  # fmt: skip


def cleared(days_ago: int) -> dict:
    return {"customer_id": "A", "date": day(days_ago), "kind": "cleared", "document": False}


def decide(ledger: str, contacts=(), served=None, force=False, policy=DEFAULT_POLICY,
           **customer):  # fmt: skip
    customers = customers_frame({"customer_id": "A", **customer})
    customers["dunning_block"] = customer.get("block", False)
    frame = ledger_frame(ledger)
    log = contact_frame(list(contacts))
    legacy = legacy_contacts(customers, policy.stage_index)
    if len(legacy):
        log = contact_frame([*contacts, *legacy.to_dict("records")])
    frame["disputed"] |= disputed_by_contacts(frame, log)  # as services.contacts does
    aging = age_ledger(frame, customers, AS_OF, policy)
    plan = plan_dunning(aging, frame, customers, log, policy, served, force)
    return plan.iloc[0], aging, frame


# (case, ledger, customer fields, contacts, Stage, CreditStatus, NextAction, reason contains)
CASES = [
    # never contacted, Standard
    ("not due for a while", inv(-20), {}, [], "not_due", "OK", None, "nothing overdue"),
    ("due in 5 days", inv(-5), {}, [], "pre_due_reminder", "OK", "pre_due_reminder", "falls due"),
    ("due today", inv(0), {}, [], "pre_due_reminder", "OK", "pre_due_reminder", "falls due"),
    ("5 days late", inv(5), {}, [], "friendly_reminder", "OK", "friendly_reminder", "I1 is 5 day"),
    ("20 days late", inv(20), {}, [], "phone_call", "OK", "phone_call", "20 day"),
    ("45 days late", inv(45), {}, [], "demand_letter", "OK", "demand_letter", "45 day"),
    ("75 days, first contact at most a demand letter", inv(75), {}, [], "final_notice", "OK",
     "demand_letter", "first contact"),
    ("120 days: Hold before any letter", inv(120), {}, [], "credit_hold", "Hold",
     "demand_letter", "first contact"),
    ("200 days", inv(200), {}, [], "legal_action", "Hold", "demand_letter", "first contact"),
    ("800 days", inv(800), {}, [], "legal_action", "Hold", "demand_letter", "800 day"),
    # segments: the offset moves only the overdue steps
    ("Strategic 10 days late", inv(10), {"segment": "Strategic"}, [], "friendly_reminder", "OK",
     "friendly_reminder", ""),
    ("Strategic 40 days late", inv(40), {"segment": "Strategic"}, [], "phone_call", "OK",
     "phone_call", ""),
    ("Strategic gets its pre-due reminder", inv(-5), {"segment": "Strategic"}, [],
     "pre_due_reminder", "OK", "pre_due_reminder", ""),
    ("Strategic 100 days: final notice, not yet hold", inv(100), {"segment": "Strategic"}, [],
     "final_notice", "OK", "demand_letter", "first contact"),
    ("Watch 5 days late", inv(5), {"segment": "Watch"}, [], "phone_call", "OK", "phone_call", ""),
    ("Watch pre-due on the real due date", inv(-5), {"segment": "Watch"}, [],
     "pre_due_reminder", "OK", "pre_due_reminder", ""),
    ("Watch 85 days: hold", inv(85), {"segment": "Watch"}, [], "credit_hold", "Hold",
     "demand_letter", ""),
    # contact history: one step at a time, the interval, once per episode, a letter's
    # pay-by date (issued + ReplyDays 10) first
    ("one step after the demand letter", inv(75), {}, [doc(11, "demand_letter")],
     "final_notice", "OK", "final_notice", "after Demand letter of 2026-11-19"),
    ("one step at a time", inv(100), {}, [doc(11, "demand_letter")],
     "credit_hold", "Hold", "final_notice", "one step after Demand letter of 2026-11-19"),
    ("demand letter 3 days ago: its pay-by date", inv(75), {}, [doc(3, "demand_letter")],
     "final_notice", "OK", None, "asked for payment by 2026-12-07: nothing more before 2026-12-08"),
    ("the demand letter's pay-by date is today", inv(75), {}, [doc(10, "demand_letter")],
     "final_notice", "OK", None,
     "Demand letter R-demand_letter-10 of 2026-11-20 asked for payment by 2026-11-30"),
    ("final notice, then credit hold", inv(200), {}, [doc(11, "final_notice")], "legal_action",
     "Hold", "credit_hold", "one step after"),
    ("not before the final notice's pay-by date", inv(200), {}, [doc(8, "final_notice")],
     "legal_action", "Hold", None, "nothing more before 2026-12-03"),
    ("credit hold, then legal", inv(200), {}, [doc(11, "credit_hold")], "legal_action", "Hold",
     "legal_action", ""),
    ("not before the credit hold letter's pay-by date", inv(200), {}, [doc(7, "credit_hold")],
     "legal_action", "Hold", None, "asked for payment by 2026-12-03"),
    ("a call logged since does not move the pay-by date", inv(75), {},
     [doc(9, "demand_letter"), call(2)], "final_notice", "OK", None, "payment by 2026-12-01"),
    ("a friendly reminder names no pay-by date: the interval alone", inv(20), {},
     [doc(7, "friendly_reminder")], "phone_call", "OK", "phone_call", ""),
    ("a pay-by date of an earlier episode holds nothing", inv(10), {},
     [doc(100, "demand_letter"), doc(40, "final_notice")], "friendly_reminder", "OK",
     "friendly_reminder", ""),
    ("legal step issued once: with collectors", inv(200), {},
     [doc(40, "credit_hold"), doc(30, "legal_action", "legal_pack")], "legal_action", "Hold", None,
     "with collectors"),
    ("cleared from collectors: a new episode", inv(200), {},
     [doc(30, "legal_action", "legal_pack"), cleared(5)], "legal_action", "Hold",
     "demand_letter", "first contact"),
    ("demand letter sent: not again this episode", inv(45), {}, [doc(12, "demand_letter")],
     "demand_letter", "OK", None, "already sent"),
    ("credit hold letter not repeated", inv(120), {}, [doc(20, "credit_hold")], "credit_hold",
     "Hold", None, "already sent"),
    ("a friendly reminder repeats after 14 days", inv(25), {"segment": "Strategic"},
     [doc(14, "friendly_reminder")], "friendly_reminder", "OK", "friendly_reminder", ""),
    ("not before 14 days", inv(20), {"segment": "Strategic"}, [doc(8, "friendly_reminder")],
     "friendly_reminder", "OK", None, "already sent"),
    ("earlier episode: first contact again", inv(10), {}, [doc(100, "demand_letter")],
     "friendly_reminder", "OK", "friendly_reminder", ""),
    ("earlier episode, 200 days late", inv(200), {}, [doc(300, "final_notice")], "legal_action",
     "Hold", "demand_letter", "first contact"),
    # calls: a call sheet is a task until its call is logged
    ("call sheet awaiting its outcome", inv(25), {},
     [doc(5, "phone_call", "call_sheet", "R-CALL")], "phone_call", "OK", None,
     "awaits its outcome"),
    ("call logged 3 days ago: the interval", inv(25), {},
     [doc(5, "phone_call", "call_sheet", "R-CALL"), call(3, reference="R-CALL")], "phone_call",
     "OK", None, "interval"),
    ("a call repeats after 7 days", inv(25), {},
     [doc(10, "phone_call", "call_sheet", "R-CALL"), call(8, reference="R-CALL")], "phone_call",
     "OK", "phone_call", ""),
    ("after the call, the demand letter", inv(40), {},
     [doc(10, "phone_call", "call_sheet", "R-CALL"), call(8)], "demand_letter", "OK",
     "demand_letter", ""),
    ("no demand letter before the call is logged", inv(40), {},
     [doc(10, "phone_call", "call_sheet", "R-CALL")], "demand_letter", "OK", None, "awaits"),
    ("the ladder does not go back down after a call", inv(9), {},
     [doc(12, "phone_call", "call_sheet", "R-CALL"), call(10, reference="R-CALL")],
     "friendly_reminder", "OK", "phone_call", "after Phone call"),
    # disputes
    ("every open item disputed", inv(45, disputed=True), {}, [], "on_hold", "OK", None,
     "all open items disputed"),
    ("all overdue items disputed", inv(45, disputed=True) + "\n" + inv(-10, no="I2"), {}, [],
     "not_due", "OK", None, "all overdue items disputed (I1)"),
    ("Stage from the oldest undisputed item", inv(100, disputed=True) + "\n" + inv(20, no="I2"),
     {}, [], "phone_call", "OK", "phone_call", "I2 is 20 day"),
    ("a dispute raised in a call holds the account", inv(45), {}, [call(10, dispute="Y")],
     "on_hold", "OK", None, "all open items disputed"),
    ("a dispute of one invoice", inv(100) + "\n" + inv(20, no="I2"), {}, [call(10, dispute="I1")],
     "phone_call", "OK", "phone_call", "I2 is 20 day"),
    ("a dispute resolved", inv(45), {}, [call(20, dispute="Y"), call(10, dispute="N")],
     "demand_letter", "OK", "demand_letter", ""),
    # promises
    ("a broken promise moves one step up", inv(5), {"promise_date": day(3), "promise_amount":
     "500"}, [], "friendly_reminder", "OK", "phone_call", "not kept"),
    ("a pending promise waits", inv(45), {}, [call(10, promise_date=day(-5), promise_cents=50000)],
     "demand_letter", "OK", None, "promised for 2026-12-05"),
    ("a kept promise", inv(45) + "\n" + inv(45, "300", "I2") + f"\nA PAY P1 {day(5)} - 300 I2", {},
     [call(10, promise_date=day(2), promise_cents=30000)], "demand_letter", "OK",
     "demand_letter", ""),
    ("a broken promise escalates once", inv(12), {"promise_date": day(9), "promise_amount": "500"},
     [doc(8, "friendly_reminder")], "friendly_reminder", "OK", None, "already sent"),
    ("a broken promise from the log, still one step at a time", inv(40), {},
     [call(12, promise_date=day(4), promise_cents=50000)], "demand_letter", "OK", "demand_letter",
     "not kept"),
    ("a broken promise after a demand letter", inv(40), {},
     [doc(20, "demand_letter"), call(12, promise_date=day(4), promise_cents=50000)],
     "demand_letter", "OK", "final_notice", "not kept"),
    ("a broken promise waits for the letter's pay-by date", inv(40), {},
     [doc(8, "demand_letter"), call(12, promise_date=day(10), promise_cents=50000)],
     "demand_letter", "OK", None, "asked for payment by 2026-12-02"),
    # minimum, block, today
    ("under the minimum amount", inv(45, "50"), {}, [], "demand_letter", "OK", None,
     "under the minimum"),
    ("dunning block", inv(45), {"block": True}, [], "demand_letter", "OK", None, "dunning block"),
    ("nothing open", inv(45) + f"\nA PAY P1 {day(40)} - 500 I1", {}, [], None, "OK", None,
     "nothing open"),
    ("over the limit", inv(5), {"credit_limit": "400"}, [], "friendly_reminder", "Over limit",
     "friendly_reminder", ""),
    ("near the limit and on hold", inv(150, "900"), {"credit_limit": "1000"},
     [doc(20, "credit_hold")], "credit_hold", "Hold", None, "already sent"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "ledger", "customer", "contacts", "stage", "status", "next_key", "reason"),
    CASES, ids=[c[0] for c in CASES],
)  # fmt: skip
def test_decision(case, ledger, customer, contacts, stage, status, next_key, reason):
    row, aging, _ = decide(ledger, contacts, **customer)
    summary = aging.customers.iloc[0]
    assert (row.stage_key, summary["credit_status"], row.next_key) == (stage, status, next_key), (
        row.reason
    )
    code = np.array([row.stage_code, row.next_code])
    assert tuple(stage_names(code, DEFAULT_POLICY)) == (NAMES[stage][0], NAMES[next_key][0])
    assert tuple(stage_names(code, DEFAULT_POLICY, "zh")) == (NAMES[stage][1], NAMES[next_key][1])
    assert row.action == (SEND if next_key else SKIP)
    assert reason in row.reason
    assert row.reason_zh and row.reason_zh != row.reason


def test_the_table_covers_the_rules():
    assert len(CASES) >= 40


def test_reasons_in_chinese_name_the_item_and_the_date():
    row, _, _ = decide(inv(75), [doc(11, "demand_letter")])
    assert row.reason_zh == "最后通知：I1已逾期75天；上次为2026年11月19日的催款函"
    row, _, _ = decide(inv(100), [doc(11, "demand_letter")])
    assert row.reason_zh == "停止供货：I1已逾期100天；上次为2026年11月19日的催款函，每次只升一级"
    row, _, _ = decide(inv(100), [doc(4, "final_notice", ref="SH-LTR-20261126-0003")])
    assert row.reason_zh == ("2026年11月26日的最后通知（SH-LTR-20261126-0003）要求于2026年12月6日"
                             "前付款：2026年12月7日前不再发出")  # fmt: skip


def test_the_pay_by_date_holds_from_the_rules_step_and_not_at_all_when_blank():
    """Rules DeadlineFromStage: from which step a letter's pay-by date holds the ladder."""
    contacts = [doc(8, "demand_letter")]
    row, _, _ = decide(inv(75), contacts)
    assert row.next_key is None and "asked for payment by 2026-12-02" in row.reason
    later = replace(DEFAULT_POLICY, rules=replace(DEFAULT_POLICY.rules,
                                                   deadline_from_stage="final_notice"))  # fmt: skip
    off = replace(DEFAULT_POLICY, rules=replace(DEFAULT_POLICY.rules, deadline_from_stage=""))
    for policy in (later, off):
        row, _, _ = decide(inv(75), contacts, policy=policy)
        assert row.next_key == "final_notice", row.reason  # the interval (7 days) alone
    row, _, _ = decide(inv(120), [doc(8, "final_notice")], policy=later)
    assert row.next_key is None and "nothing more before 2026-12-03" in row.reason


def test_a_customer_served_today_gets_nothing_new_unless_forced():
    contacts = [doc(30, "demand_letter"), doc(0, "final_notice", ref="R-TODAY")]
    row, _, _ = decide(inv(75), contacts, served={"A": 0})
    assert row.action == SKIP and "already issued today (R-TODAY)" in row.reason
    # --force: today's document again, as a new revision: not one step further
    row, _, _ = decide(inv(75), contacts, served={"A": 0}, force=True)
    assert (row.action, row.next_key, row.revision) == (SEND, "final_notice", 1)
    assert "reissued" in row.reason


def test_first_contact_is_known_for_the_wording():
    assert decide(inv(45))[0].first_contact
    assert not decide(inv(75), [doc(10, "demand_letter")])[0].first_contact


def test_one_document_lists_every_overdue_undisputed_item_oldest_first():
    ledger = "\n".join([inv(41), inv(72, "300", "I2"), inv(5, "200", "I3", True), inv(-20, "100",
                                                                                     "I4")])
    row, aging, frame = decide(ledger)
    listed = listed_rows(aging, frame, np.array([row.next_code]), DEFAULT_POLICY)
    items = items_by_customer(aging, frame, listed)["A"]
    assert list(items["doc_no"]) == ["I2", "I1"]
    assert row.amount_cents == 80_000  # what the letter lists: not the disputed 200.00


def test_a_pre_due_reminder_lists_what_falls_due_in_the_window_on_the_real_date():
    ledger = "\n".join([inv(-3), inv(-6, "300", "I2"), inv(-12, "200", "I3")])
    row, _, _ = decide(ledger, segment="Watch")
    assert row.next_key == "pre_due_reminder"
    assert row.amount_cents == 80_000  # I1 and I2; I3 falls due after the window


# --- invariants -------------------------------------------------------------------------

KEYS = [s.key for s in DEFAULT_POLICY.stages]
histories = st.lists(
    st.tuples(st.integers(0, 400), st.sampled_from(KEYS[1:]), st.booleans()), max_size=6
)


@settings(max_examples=150, deadline=None)
@given(st.integers(-30, 900), st.sampled_from(["Strategic", "Standard", "Watch"]), histories,
       st.booleans(), st.one_of(st.none(), st.integers(-20, 60)))  # fmt: skip
def test_next_action_invariants(days, segment, history, disputed, promise_in):
    contacts = [doc(ago, key, "call_sheet" if key == "phone_call" else "letter", f"R{i}")
                for i, (ago, key, _) in enumerate(history)]  # fmt: skip
    contacts += [call(ago) for ago, key, logged in history if key == "phone_call" and logged]
    customer = {"segment": segment}
    if promise_in is not None:
        customer |= {"promise_date": day(-promise_in), "promise_amount": "500"}
    row, aging, _ = decide(inv(days) + "\n" + inv(days + 5, no="I2", disputed=disputed),
                           contacts, **customer)  # fmt: skip
    summary = aging.customers.iloc[0]
    hold_from = DEFAULT_POLICY.stage_index("credit_hold")
    # CreditStatus is Hold exactly when Stage is at or past the hold step, whatever was sent.
    assert (summary["credit_status"] == "Hold") == (row.stage_code >= hold_from)
    if row.action == SKIP:
        return
    # NextAction is never more than one step above the highest step of this episode, and a
    # customer never contacted this episode hears at most a demand letter first.
    start = np.datetime64(summary["oldest_due"]) - np.timedelta64(7, "D")
    steps = [STEP[k] for ago, k, logged in history
             if np.datetime64(day(ago)) >= start and (k != "phone_call" or logged)]  # fmt: skip
    ceiling = max(steps) + 1 if steps else STEP["demand_letter"]
    assert row.next_code <= ceiling
    assert row.next_code <= min(row.stage_code + 1, len(KEYS) - 1)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-30, 900), min_size=2, max_size=20), st.integers(-20, 20))
def test_a_never_contacted_customer_hears_at_most_a_demand_letter(days, offset):
    for d in sorted(days):
        row, _, _ = decide(inv(d))
        assert row.next_code <= STEP["demand_letter"] or row.action == SKIP
