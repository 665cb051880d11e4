"""NextAction: what the next run would issue for each customer, and why.

Stage (core.escalation) says where the debt stands. NextAction applies the
contact rules to it, first match wins:

1. nothing open, a dunning block, with the collectors (a hand-over pack issued
   this episode and not cleared), every open item disputed, nothing overdue or
   coming due: nothing;
2. already issued today: nothing, or with `force` the same step again as a new
   revision;
3. under the minimum amount, a call sheet waiting for its outcome, a payment
   promise still pending, a letter's pay-by date not yet passed (the latest letter this
   episode from the Rules' DeadlineFromStage on: "please pay by 10 December" is issued
   date + ReplyDays, and nothing more goes before 11 December), a contact less than the
   interval ago: nothing;
4. otherwise the Stage, one step up for a broken promise, capped: the first
   contact of an episode is at most the policy's first-contact step, later ones
   at most `max_steps_per_run` above the highest step used this episode, and
   never below it (the ladder does not go back down within an episode);
5. a step already issued this episode is not issued again unless its Policy row
   repeats it (RepeatDays) and that many days have passed;
6. timing (回款时机, only when the Policy's Rules set ReminderLeadDays): a friendly
   reminder for a customer whose payments keep a rhythm (a day of the month, a weekday,
   a settlement cycle: core.forecast) is held until that many days before its next
   payment run, so that it lands while the run is being prepared; never past the last
   day the debt stays at the friendly step (then it goes at once, as without timing).

An episode is the time a customer has something overdue: it starts when the
oldest open undisputed item enters the pre-due window (or falls due, where the
ladder has no pre-due step) and ends when nothing is open; a Contacts row of
kind Cleared (back from the collectors) starts a new one the next day.
Contacts before it belong to an earlier episode: they count for the interval,
not for the ladder.

Reasons are given in English and Chinese, naming the item that decided.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from xl_addin.core import forecast
from xl_addin.core.contacts import CLEARED, counted, open_call_tasks, promise_states
from xl_addin.core.escalation import (
    BLANK_CODE,
    ON_HOLD_CODE,
    first_overdue_days,
    stage_keys,
    stage_names,
)
from xl_addin.core.ledger import AgingResult, segment_offsets
from xl_addin.core.policy import Policy

NONE = BLANK_CODE
_NAT = np.datetime64("NaT", "D")
_NEVER = np.iinfo(np.int64).min

REASONS = {
    "nothing_open": ("nothing open", "无未结款项"),
    "block": ("dunning block on the customer", "客户已暂停催收"),
    "collectors": (
        "with collectors since {date} ({reference}); log a Contacts row of kind Cleared to resume",
        "自{date}起已移交催收（{reference}）；如需恢复，请在联系记录中添加类型为“解除”的记录",
    ),
    "all_disputed": ("all open items disputed", "全部未结款项有争议"),
    "overdue_disputed": ("all overdue items disputed ({items})", "全部逾期款项有争议（{items}）"),
    "nothing_due": ("nothing overdue or coming due", "无逾期或即将到期款项"),
    "served_today": (
        "already issued today ({reference}); use --force to reissue",
        "今日已发出（{reference}）；如需重发，请使用 --force",
    ),
    "reissue": (
        "{step} reissued on request (revision {revision})",
        "应要求重发{step}（第{revision}版）",
    ),
    "below_minimum": (
        "balance {amount} under the minimum of {minimum}",
        "余额{amount}低于起催金额{minimum}",
    ),
    "open_task": (
        "call sheet {reference} of {date} awaits its outcome: log the call in Contacts",
        "{date}的电话催收单{reference}尚未记录结果：请在联系记录中登记",
    ),
    "promise_pending": ("payment of {amount} promised for {date}", "客户承诺于{date}付款{amount}"),
    "deadline": (
        "{step} {reference} of {date} asked for payment by {until}: nothing more before {after}",
        "{date}的{step}（{reference}）要求于{until}前付款：{after}前不再发出",
    ),
    "interval": (
        "contacted {days} day(s) ago; the interval is {interval} days",
        "{days}天前已联系；两次联系至少间隔{interval}天",
    ),
    "already_sent": ("{step} already sent on {date}{then}", "{step}已于{date}发出{then}"),
    "due": ("{stage}: {item} falls due on {date}", "{stage}：{item}将于{date}到期"),
    "overdue": ("{stage}: {item} is {days} day(s) overdue", "{stage}：{item}已逾期{days}天"),
    "first_cap": ("first contact this episode, so at most {step}", "本轮首次联系，至多发{step}"),
    "step_cap": ("one step after {step} of {date}", "上次为{date}的{step}，每次只升一级"),
    "after": ("after {step} of {date}", "上次为{date}的{step}"),
    "broken": ("payment promised for {date} not kept", "{date}的付款承诺未兑现"),
    "next_step": ("; next: {step} from {days} day(s) overdue", "；下一步：逾期{days}天起{step}"),
    "held": (
        "{step} held until {date}, {lead} day(s) before its payment run on {run} ({habit})",
        "{step}暂缓至{date}，即付款日{run}前{lead}天（{habit}）",
    ),
    "timed": ("timed for its payment run on {run} ({habit})", "赶在付款日{run}前发出（{habit}）"),
}
TIMED_STEPS = ("friendly_reminder",)  # the steps ReminderLeadDays times


def next_actions(
    aging: AgingResult,
    ledger: pd.DataFrame,
    customers: pd.DataFrame,
    contacts: pd.DataFrame,
    policy: Policy,
    served: Mapping[str, int] | None = None,
    force: bool = False,
) -> pd.DataFrame:
    """Return one row per customer (aligned with `aging.customers`).

    Columns: customer_id, next_code (NONE: nothing), next_key, first_contact,
    promise_broken, the latest promise (promise_state: kept, broken, pending or "";
    promise_date; promise_amount, text), revision (of the document to issue), reason and
    reason_zh.
    `served`: customer -> highest revision already issued today.
    """
    summary = aging.customers
    as_of = np.datetime64(aging.as_of, "D")
    n = len(summary)
    stage = summary["stage_code"].to_numpy(dtype=np.int64)
    history = _History.of(contacts, ledger, summary, policy, as_of)
    steps = len(policy.stages)
    top = steps - 1

    decided = np.zeros(n, dtype=bool)
    next_code = np.full(n, NONE, dtype=np.int64)
    reason: list[tuple[str, dict[str, object]] | None] = [None] * n

    def rule(mask: np.ndarray, code: str, **params) -> None:
        nonlocal decided
        for i in np.flatnonzero(mask & ~decided):
            reason[i] = (code, {k: (v[i] if isinstance(v, np.ndarray) else v)
                                for k, v in params.items()})  # fmt: skip
        decided |= mask

    blocked = _flag(customers, "dunning_block", n)
    rule(stage == BLANK_CODE, "nothing_open")
    rule(blocked, "block")
    rule(history.collectors_since != _NEVER, "collectors",
         date=history.collectors_date, reference=history.collectors_reference)  # fmt: skip
    rule(stage == ON_HOLD_CODE, "all_disputed")
    disputed_overdue = summary["disputed_overdue_cents"].to_numpy() > 0
    disputed_items = _disputed_overdue_items(aging, ledger, n)
    rule((stage == 0) & disputed_overdue, "overdue_disputed", items=disputed_items)
    rule(stage == 0, "nothing_due")

    served = served or {}
    ids = summary["customer_id"].to_numpy(dtype=object)
    served_rev = np.array([served.get(c, -1) for c in ids], dtype=np.int64)
    revision = served_rev + 1
    today = served_rev >= 0
    if force:
        again = today & ~decided & (history.today_step >= 0)
        next_code[again] = history.today_step[again]
        rule(again, "reissue", step=_names(history.today_step, policy), revision=revision)
    rule(today, "served_today", reference=history.today_reference)

    dunnable = summary["dunnable_cents"].to_numpy(dtype=np.int64)
    minimum = int(policy.rules.minimum_amount * 100)
    rule(dunnable < minimum, "below_minimum", amount=_money(dunnable),
         minimum=_money(np.full(n, minimum)))  # fmt: skip
    rule(history.task_date != _NEVER, "open_task", reference=history.task_reference,
         date=history.task_date_text)  # fmt: skip
    rule(history.promise_state == "pending", "promise_pending", date=history.promise_date_text,
         amount=history.promise_amount_text)  # fmt: skip
    pay_by = history.deadline_letter + policy.rules.reply_days
    waiting = (history.deadline_letter != _NEVER) & (as_of.astype(np.int64) <= pay_by)
    rule(waiting, "deadline", step=_names(np.maximum(history.deadline_step, 0), policy),
         reference=history.deadline_reference, date=_date_texts(history.deadline_letter),
         until=_date_texts(np.where(waiting, pay_by, _NEVER)),
         after=_date_texts(np.where(waiting, pay_by + 1, _NEVER)))  # fmt: skip
    since = (as_of.astype(np.int64) - history.last_contact).astype(np.float64)
    since[history.last_contact == _NEVER] = np.inf
    interval = policy.rules.min_contact_interval_days
    rule(since < interval, "interval", days=np.where(np.isfinite(since), since, 0).astype(np.int64),
         interval=interval)  # fmt: skip

    broken = (history.promise_state == "broken") & ~history.promise_acted
    target = np.minimum(stage + broken, top)
    first_cap = policy.stage_index(policy.rules.first_contact_max_stage)
    first_cap = top if first_cap is None else first_cap
    contacted = history.top_step >= 1
    cap = np.where(contacted, history.top_step + policy.rules.max_steps_per_run, first_cap)
    # Within an episode the ladder never goes back down: at least the highest step used.
    floor = np.where(contacted, history.top_step, 0)
    candidate = np.clip(np.maximum(np.minimum(target, cap), floor), 0, top)
    last_sent = history.last_issue[np.arange(n), candidate] if n else np.zeros(0, np.int64)
    repeat = np.array([np.nan if s.repeat_days is None else s.repeat_days
                       for s in policy.stages], dtype=np.float64)[candidate]  # fmt: skip
    waited = as_of.astype(np.int64) - last_sent
    repeat_due = ~np.isnan(repeat) & (waited >= np.nan_to_num(repeat, nan=np.inf))
    sent_before = (last_sent != _NEVER) & ~repeat_due
    offsets = segment_offsets(customers, policy)
    then = _then(stage, offsets, policy)
    rule(sent_before, "already_sent", step=_names(candidate, policy),
         date=_date_texts(last_sent), then=then)  # fmt: skip
    timing = _Timing.of(aging, ledger, policy, stage, candidate, offsets, decided)
    rule(timing.held, "held", step=_names(candidate, policy), date=_date_texts(timing.send_on),
         lead=policy.rules.reminder_lead_days or 0, run=_date_texts(timing.run),
         habit=timing.habit)  # fmt: skip

    send = ~decided
    next_code[send] = candidate[send]
    for i in np.flatnonzero(send):
        reason[i] = ("send", {})
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "next_code": next_code,
            "next_key": stage_keys(next_code, policy),
            "first_contact": ~contacted,
            "promise_broken": broken,
            # the latest promise (Contacts, else Customers.PromiseDate): kept, broken, pending
            "promise_state": history.promise_state,
            "promise_date": np.where(history.promise_date == _NEVER, _NAT.view(np.int64),
                                     history.promise_date).view("datetime64[D]"),
            "promise_amount": history.promise_amount_text,
            "revision": np.where(today, revision, 0),
        }
    )
    facts = _SendFacts.of(summary, ledger, policy, history, candidate)
    texts = [_send_reasons(i, facts, history, candidate, target, broken, contacted, timing)
             if r == ("send", {}) else r for i, r in enumerate(reason)]  # fmt: skip
    frame["reason"] = [_text(r, 0) for r in texts]
    frame["reason_zh"] = [_text(r, 1) for r in texts]
    return frame


class _Columns:
    """Named arrays aligned with the customer summary, one attribute each."""

    def __init__(self, **arrays):
        for name, value in arrays.items():
            setattr(self, name, value)


class _History(_Columns):
    """What the contact log says of each customer."""

    @classmethod
    def of(cls, contacts: pd.DataFrame, ledger: pd.DataFrame, summary: pd.DataFrame,
           policy: Policy, as_of: np.datetime64) -> _History:  # fmt: skip
        n, steps = len(summary), len(policy.stages)
        position = pd.Index(summary["customer_id"].to_numpy(dtype=object), dtype=object)
        contacts = contacts[~(contacts["date"].to_numpy(dtype="datetime64[D]") > as_of)]
        code = position.get_indexer(pd.Index(contacts["customer_id"].to_numpy(dtype=object),
                                             dtype=object))  # fmt: skip
        contacts = contacts[code >= 0]
        code = code[code >= 0]
        date = contacts["date"].to_numpy(dtype="datetime64[D]").view(np.int64)
        step = contacts["step"].to_numpy(dtype=np.int64)
        kind = contacts["kind"].to_numpy(dtype=object)
        document = contacts["document"].to_numpy(dtype=bool)
        reference = contacts["reference"].to_numpy(dtype=object)
        is_contact = counted(contacts)

        start = _episode_start(summary, policy).view(np.int64)
        has_episode = start != _NAT.view(np.int64)
        # Back from the collectors: the episode starts again the day after.
        cleared = _max_by(code, date, kind == CLEARED, n)
        start = np.where(has_episode & (cleared != _NEVER), np.maximum(start, cleared + 1), start)
        undated = date == _NEVER  # NaT: a LastStage with no date, taken as this episode's
        in_episode = has_episode[code] & ((date >= start[code]) | undated)

        last_contact = _max_by(code, date, is_contact, n)
        ladder = is_contact & in_episode & (step >= 1) & (step < steps)
        top_step = np.full(n, -1, dtype=np.int64)
        np.maximum.at(top_step, code[ladder], step[ladder])
        last_issue = np.full(n * steps, _NEVER, dtype=np.int64)
        np.maximum.at(last_issue, code[ladder] * steps + step[ladder], date[ladder])

        # The latest document this episode that gave the customer a date to pay by.
        deadline_from = policy.stage_index(policy.rules.deadline_from_stage)
        gives_date = ladder & document & (step >= (steps if deadline_from is None
                                                   else deadline_from))  # fmt: skip
        deadline_letter = _max_by(code, date, gives_date, n)

        legal = document & (kind == "legal_pack") & in_episode
        legal_date = _max_by(code, date, legal, n)
        with_collectors = legal_date != _NEVER
        collectors_reference = _latest_text(code, date, reference, legal, n)

        tasks = open_call_tasks(contacts)
        task_code = position.get_indexer(pd.Index(tasks["customer_id"].to_numpy(dtype=object),
                                                  dtype=object))  # fmt: skip
        task_date = tasks["date"].to_numpy(dtype="datetime64[D]").view(np.int64)
        current = task_date >= start[task_code]
        task = _max_by(task_code[current], task_date[current], None, n)
        task_reference = _latest_text(
            task_code[current],
            task_date[current],
            tasks["reference"].to_numpy(dtype=object)[current],
            None,
            n,
        )

        today = document & (date == as_of.astype(np.int64)) & np.isin(
            kind, ("letter", "call_sheet", "legal_pack"))  # fmt: skip
        today_step = np.full(n, -1, dtype=np.int64)
        np.maximum.at(today_step, code[today], step[today])
        today_reference = _latest_text(code, date, reference, today, n)

        promise = _latest_promise(contacts, ledger, summary, position, as_of)
        return cls(
            last_contact=last_contact, top_step=top_step,
            last_issue=last_issue.reshape(n, steps),
            collectors_since=np.where(with_collectors, legal_date, _NEVER),
            collectors_date=_date_texts(legal_date), collectors_reference=collectors_reference,
            task_date=task, task_date_text=_date_texts(task), task_reference=task_reference,
            today_step=today_step, today_reference=today_reference,
            deadline_letter=deadline_letter,
            deadline_step=_latest(code, date, step, gives_date, n, -1),
            deadline_reference=_latest_text(code, date, reference, gives_date, n),
            promise_state=promise["state"], promise_date_text=promise["date_text"],
            promise_amount_text=promise["amount_text"],
            # A broken promise escalates once: not when a contact came after its date.
            promise_acted=last_contact > promise["date"],
            promise_date=promise["date"],
        )  # fmt: skip


def _episode_start(summary: pd.DataFrame, policy: Policy) -> np.ndarray:
    """The day each customer's episode began (NaT: nothing open and undisputed)."""
    window = min(0, policy.stages[1].from_days) if len(policy.stages) > 1 else 0
    return summary["oldest_due"].to_numpy(dtype="datetime64[D]") + np.timedelta64(window, "D")


def _latest_promise(contacts, ledger, summary, position: pd.Index, as_of):
    """Each customer's latest promise: state, date (int days; _NEVER: none) and texts."""
    n = len(summary)
    out = {"state": np.full(n, "", dtype=object), "date": np.full(n, _NEVER, dtype=np.int64),
           "date_text": np.full(n, "", dtype=object),
           "amount_text": np.full(n, "", dtype=object)}  # fmt: skip
    promises = promise_states(contacts, ledger, as_of)
    if promises.empty:
        return out
    latest = promises.sort_values(["taken", "promise_date"], kind="stable")
    latest = latest.groupby("customer_id", sort=False).tail(1)
    where = position.get_indexer(pd.Index(latest["customer_id"].to_numpy(dtype=object),
                                          dtype=object))  # fmt: skip
    keep = where >= 0
    where, latest = where[keep], latest[keep]
    out["state"][where] = latest["state"].to_numpy(dtype=object)
    dates = latest["promise_date"].to_numpy(dtype="datetime64[D]")
    out["date"][where] = dates.view(np.int64)
    out["date_text"][where] = [str(d) for d in dates]
    cents = latest["promise_cents"].to_numpy(dtype=np.float64)
    out["amount_text"][where] = ["" if np.isnan(c) else _money_text(int(c)) for c in cents]
    return out


def _flag(customers: pd.DataFrame, column: str, n: int) -> np.ndarray:
    if column not in customers:
        return np.zeros(n, dtype=bool)
    return customers[column].fillna(False).to_numpy(dtype=bool)


def _max_by(code: np.ndarray, values: np.ndarray, where: np.ndarray | None, n: int) -> np.ndarray:
    """Largest value per customer (_NEVER where no row counts)."""
    out = np.full(n, _NEVER, dtype=np.int64)
    rows = slice(None) if where is None else where
    np.maximum.at(out, code[rows], values[rows])
    return out


def _latest_text(code, date, text, where, n: int) -> np.ndarray:
    """The text of each customer's latest counted row ("" where none)."""
    return _latest(code, date, text, where, n, "")


def _latest(code, date, values, where, n: int, fill) -> np.ndarray:
    """The value of each customer's latest counted row (`fill` where none)."""
    out = np.full(n, fill, dtype=np.asarray(values).dtype)
    rows = np.arange(len(code)) if where is None else np.flatnonzero(where)
    order = rows[np.lexsort((rows, date[rows]))]  # later rows win
    out[code[order]] = values[order]
    return out


def _date_texts(days: np.ndarray) -> np.ndarray:
    values = np.asarray(days, dtype=np.int64)
    return np.array(["" if d == _NEVER else str(np.datetime64(int(d), "D")) for d in values],
                    dtype=object)  # fmt: skip


def _money_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def _money(cents: np.ndarray) -> np.ndarray:
    return np.array([_money_text(int(c)) for c in cents], dtype=object)


def _names(codes: np.ndarray, policy: Policy) -> np.ndarray:
    """Step names in both languages, as (en, zh) pairs."""
    en, zh = stage_names(codes, policy), stage_names(codes, policy, "zh")
    out = np.empty(len(en), dtype=object)
    for k, pair in enumerate(zip(en, zh, strict=True)):
        out[k] = pair
    return out


def _disputed_overdue_items(aging: AgingResult, ledger: pd.DataFrame, n: int) -> np.ndarray:
    """The document numbers of each customer's overdue disputed items, joined."""
    items = aging.items
    rows = np.flatnonzero(
        (items["open_cents"].to_numpy() > 0) & (items["days_overdue"].to_numpy() > 0)
        & ledger["disputed"].to_numpy(dtype=bool)
    )  # fmt: skip
    out = np.full(n, "", dtype=object)
    if not len(rows):
        return out
    position = pd.Index(aging.customers["customer_id"].to_numpy(dtype=object), dtype=object)
    code = position.get_indexer(pd.Index(ledger["customer_id"].to_numpy(dtype=object)[rows],
                                         dtype=object))  # fmt: skip
    doc_no = ledger["doc_no"].to_numpy(dtype=object)[rows]
    for c, group in pd.Series(doc_no).groupby(code):
        out[c] = ", ".join(group.astype(str))
    return out


def _then(stage: np.ndarray, offsets: np.ndarray, policy: Policy) -> np.ndarray:
    """Per customer, the next step on the ladder and the real days overdue it starts at
    (a segment's offset moves the overdue steps: a Strategic customer's come later)."""
    out = np.empty(len(stage), dtype=object)
    first = first_overdue_days(policy)
    for i, code in enumerate(stage):
        following = policy.stages[code + 1] if 0 <= code < len(policy.stages) - 1 else None
        if following is None:
            out[i] = ("", "")
            continue
        days = following.from_days
        if days >= 1:
            days = max(int(days - offsets[i]), first)
        out[i] = tuple(
            REASONS["next_step"][lang].format(step=name, days=days)
            for lang, name in ((0, following.name), (1, following.name_zh or following.name))
        )
    return out


class _SendFacts(_Columns):
    """What the reasons of the customers sent something name, worked out for all at once."""

    @classmethod
    def of(cls, summary, ledger, policy: Policy, history: _History, candidate) -> _SendFacts:
        rows = summary["deciding_row"].to_numpy(dtype=np.int64)
        doc_no = ledger["doc_no"].to_numpy(dtype=object)
        n = len(rows)
        top = np.maximum(history.top_step, 0)
        last = history.last_issue[np.arange(n), top] if n else np.zeros(0, dtype=np.int64)
        return cls(
            item=np.where(rows >= 0, doc_no[np.maximum(rows, 0)] if len(doc_no) else "", ""),
            days=summary["stage_days"].to_numpy(dtype=np.float64),
            due=summary["oldest_due"].to_numpy(dtype="datetime64[D]").astype(str),
            stage=_names(summary["stage_code"].to_numpy(dtype=np.int64), policy),
            candidate=_names(candidate, policy),
            top=_names(top, policy),
            top_date=_date_texts(last),
        )


def _send_reasons(i, facts: _SendFacts, history, candidate, target, broken, contacted,
                  timing: _Timing):  # fmt: skip
    """Why customer i gets its step: the deciding item, then any cap, broken promise or
    payment run it was timed for."""
    item, days, names = str(facts.item[i]), facts.days[i], facts.stage[i]
    parts: list[tuple[str, dict[str, object]]] = []
    if days > 0:
        parts.append(("overdue", {"stage": names, "item": item, "days": int(days)}))
    else:
        parts.append(("due", {"stage": names, "item": item, "date": facts.due[i]}))
    if broken[i]:
        parts.append(("broken", {"date": history.promise_date_text[i]}))
    if candidate[i] < target[i] and not contacted[i]:
        parts.append(("first_cap", {"step": facts.candidate[i]}))
    elif contacted[i]:
        last = {"step": facts.top[i], "date": facts.top_date[i]}
        parts.append(("step_cap" if candidate[i] < target[i] else "after", last))
    if timing.timed[i]:
        parts.append(("timed", {"run": str(timing.run_day[i]), "habit": timing.habit[i]}))
    return ("many", {"parts": parts})


class _Timing(_Columns):
    """Each customer's next payment run and whether its friendly reminder waits for it
    (`held`, until `send_on`) or goes today timed for it (`timed`); nothing without
    ReminderLeadDays."""

    @classmethod
    def of(cls, aging: AgingResult, ledger, policy: Policy, stage, candidate, offsets,
           decided) -> _Timing:  # fmt: skip
        n = len(stage)
        lead = policy.rules.reminder_lead_days
        none = np.zeros(n, dtype=bool)
        never = np.full(n, _NEVER, dtype=np.int64)
        timed_steps = [policy.stage_index(k) for k in TIMED_STEPS]
        timed_steps = [k for k in timed_steps if k is not None]
        if lead is None or not n or not timed_steps:
            return cls(held=none, timed=none, send_on=never, run=never,
                       run_day=np.full(n, "", dtype=object), habit=np.full(n, "", dtype=object))
        summary = aging.customers
        as_of = np.datetime64(aging.as_of, "D")
        rhythm = forecast.payment_timing(ledger, summary["customer_id"], aging.as_of,
                                         due=aging.items["due_date"])  # fmt: skip
        run = forecast.next_runs(rhythm, aging.as_of)
        send_on = run - np.timedelta64(lead, "D")
        # The last day the debt stays at this step: the next step's first day (real days
        # overdue, after the segment's offset) less one.
        days = summary["stage_days"].to_numpy(dtype=np.float64)
        following = np.array([policy.stages[c + 1].from_days if 0 <= c < len(policy.stages) - 1
                              and policy.stages[c + 1].from_days is not None else np.inf
                              for c in candidate], dtype=np.float64)  # fmt: skip
        next_start = np.maximum(following - offsets, first_overdue_days(policy))
        step_days_left = np.nan_to_num(next_start - days - 1, nan=0.0, posinf=36500.0)
        last_day = as_of + step_days_left.astype(np.int64) * np.timedelta64(1, "D")
        timed_step = np.isin(candidate, timed_steps) & (candidate == stage) & ~decided
        rhythmic = timed_step & ~np.isnat(run)
        held = rhythmic & (send_on > as_of) & (send_on <= last_day)
        timed = rhythmic & ~held & (send_on <= as_of)
        habit = np.empty(n, dtype=object)
        for k, pair in enumerate(zip(forecast.timing_text(rhythm, "en"),
                                     forecast.timing_text(rhythm, "zh"), strict=True)):  # fmt: skip
            habit[k] = pair
        return cls(held=held, timed=timed, send_on=_day_numbers(send_on), run=_day_numbers(run),
                   run_day=np.where(np.isnat(run), "", run.astype(str)), habit=habit)


def _day_numbers(dates: np.ndarray) -> np.ndarray:
    """Dates as int days (_NEVER for NaT), as the contact history keeps them."""
    return np.where(np.isnat(dates), _NEVER, dates.astype("datetime64[D]").view(np.int64))


def _text(reason: tuple[str, dict[str, object]], lang: int) -> str:
    """Format a reason in English (0) or Chinese (1); (en, zh) pairs pick their language."""
    code, params = reason
    if code == "many":
        texts = [_text(part, lang) for part in params["parts"]]
        return ("; " if lang == 0 else "；").join(texts)
    values = {k: (v[lang] if isinstance(v, tuple) else v) for k, v in params.items()}
    if lang == 1:
        values = {k: _ISO_DATE.sub(_zh_date, v) if isinstance(v, str) else v
                  for k, v in values.items()}  # fmt: skip
    return REASONS[code][lang].format(**values)


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _zh_date(match: re.Match) -> str:
    year, month, day = match.groups()
    return f"{year}年{int(month)}月{int(day)}日"
