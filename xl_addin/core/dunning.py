"""Who gets what today: the dunning plan, per customer, with the reason.

Stage comes from the engine (core.ledger), NextAction from the contact rules
(core.next_action). This module turns NextAction into the run's plan: whether
to send, the kind of document (a letter, a call sheet for the phone-call step,
a letter and hand-over pack for the legal step), and the items and amount the
document is about: the open undisputed overdue items, or for a pre-due
reminder the items falling due within the pre-due window (on the real due date).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from xl_addin.core.escalation import BLANK_CODE, stage_keys, stage_names
from xl_addin.core.ledger import AgingResult
from xl_addin.core.next_action import next_actions
from xl_addin.core.policy import Policy

KIND_BY_ACTION = {"call sheet": "call_sheet", "hand-over pack": "legal_pack"}
SEND, SKIP = "send", "skip"


def plan_dunning(
    aging: AgingResult,
    ledger: pd.DataFrame,
    customers: pd.DataFrame,
    contacts: pd.DataFrame,
    policy: Policy,
    served: Mapping[str, int] | None = None,
    force: bool = False,
) -> pd.DataFrame:
    """Return one row per customer: Stage and NextAction, what to send, why, and amounts.

    Columns: customer_id; stage_code, stage_key, stage (where the debt stands);
    next_code, next_key, next_action (the document to issue; blank: none), kind,
    action (send/skip), reason, reason_zh, first_contact, promise_broken, the latest
    promise (promise_state, promise_date, promise_amount: core.next_action),
    overdue_cents, balance_cents, max_days_overdue, revision, and amount_cents: what the
    document asks for (the items it lists).
    """
    summary = aging.customers
    actions = next_actions(aging, ledger, customers, contacts, policy, served, force)
    codes = actions["next_code"].to_numpy(dtype=np.int64)
    send = codes != BLANK_CODE
    frame = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(dtype=object),
            "stage_code": summary["stage_code"].to_numpy(dtype=np.int64),
            "stage_key": stage_keys(summary["stage_code"].to_numpy(dtype=np.int64), policy),
            "stage": summary["stage"].to_numpy(dtype=object),
            "next_code": codes,
            "next_key": actions["next_key"].to_numpy(dtype=object),
            "next_action": stage_names(codes, policy),
            "kind": [_kind(c, policy) for c in codes],
            "action": np.where(send, SEND, SKIP),
            "reason": actions["reason"].to_numpy(dtype=object),
            "reason_zh": actions["reason_zh"].to_numpy(dtype=object),
            "first_contact": actions["first_contact"].to_numpy(dtype=bool),
            "promise_broken": actions["promise_broken"].to_numpy(dtype=bool),
            "promise_state": actions["promise_state"].to_numpy(dtype=object),
            "promise_date": actions["promise_date"].to_numpy(),
            "promise_amount": actions["promise_amount"].to_numpy(dtype=object),
            "overdue_cents": summary["overdue_cents"].to_numpy(),
            "balance_cents": summary["balance_cents"].to_numpy(),
            "max_days_overdue": summary["max_days_overdue"].to_numpy(),
            "revision": actions["revision"].to_numpy(dtype=np.int64),
        }
    )
    frame["amount_cents"] = _document_amounts(frame, ledger, aging, policy)
    empty = (frame["action"] == SEND) & (frame["amount_cents"] <= 0)
    frame.loc[empty, "action"] = SKIP
    frame.loc[empty, ["reason", "reason_zh"]] = ("nothing to ask for", "无应付款项")
    return frame


def listed_rows(
    aging: AgingResult, ledger: pd.DataFrame, next_codes: np.ndarray, policy: Policy
) -> np.ndarray:
    """Which ledger rows the customers' documents list, given each customer's NextAction
    (`ledger`: the ledger `aging` aged, row for row)."""
    code = aging.items["customer_code"].to_numpy()
    pre_due = np.asarray(next_codes) == _pre_due(policy)
    return _wanted(aging, ledger, pre_due[code], policy)


def _wanted(aging: AgingResult, ledger: pd.DataFrame, pre_due: np.ndarray, policy: Policy):
    """Open undisputed items overdue; for a pre-due reminder, those falling due within the
    pre-due window (counted on the real due date, whatever the segment)."""
    items = aging.items
    days = items["days_overdue"].to_numpy()
    open_cents = items["open_cents"].to_numpy()
    is_open = items["is_debit"].to_numpy() & (open_cents > 0) & ~ledger["disputed"].to_numpy(bool)
    index = _pre_due(policy)
    start = float(policy.stages[index].from_days or 0) if index >= 0 else 0
    coming = (days <= 0) & (days >= start)
    return is_open & np.where(pre_due, coming, days > 0)


def items_by_customer(
    aging: AgingResult, ledger: pd.DataFrame, listed: np.ndarray
) -> dict[str, pd.DataFrame]:
    """The listed items of every customer, oldest due date first (one pass for the run)."""
    frame = listed_items(aging, ledger, listed)
    return {c: f.drop(columns="customer_id") for c, f in frame.groupby("customer_id", sort=False)}


def listed_items(aging: AgingResult, ledger: pd.DataFrame, listed: np.ndarray) -> pd.DataFrame:
    """The listed items in one table, by customer and, within one, oldest due date first."""
    items = aging.items
    rows = np.flatnonzero(listed)
    customer = ledger["customer_id"].to_numpy(dtype=object)[rows]
    rows = rows[np.lexsort((items["due_date"].to_numpy()[rows], customer))]
    frame = pd.DataFrame(
        {
            "customer_id": ledger["customer_id"].to_numpy(dtype=object)[rows],
            "doc_no": ledger["doc_no"].to_numpy(dtype=object)[rows],
            "doc_date": ledger["doc_date"].to_numpy(dtype="datetime64[D]")[rows],
            "due_date": items["due_date"].to_numpy()[rows],
            "amount_cents": np.abs(ledger["amount_cents"].to_numpy(dtype=np.int64)[rows]),
            "open_cents": items["open_cents"].to_numpy()[rows],
            "days_overdue": items["days_overdue"].to_numpy()[rows].astype(np.int64),
            "reference": (ledger["reference"].to_numpy(dtype=object)[rows]
                          if "reference" in ledger else np.full(len(rows), "", dtype=object)),
        }
    )  # fmt: skip
    return frame


EMPTY_ITEMS = pd.DataFrame(
    columns=["doc_no", "doc_date", "due_date", "amount_cents", "open_cents", "days_overdue",
             "reference"]
)  # fmt: skip


def _document_amounts(frame, ledger, aging: AgingResult, policy: Policy) -> np.ndarray:
    """What each document asks for: the items it lists, summed per customer."""
    listed = listed_rows(aging, ledger, frame["next_code"].to_numpy(), policy)
    code = aging.items["customer_code"].to_numpy()
    totals = np.zeros(len(aging.customers), dtype=np.int64)
    np.add.at(totals, code[listed], aging.items["open_cents"].to_numpy()[listed])
    return totals


def _pre_due(policy: Policy) -> int:
    return next((i for i, s in enumerate(policy.stages) if s.key == "pre_due_reminder"), -99)


def _kind(code: int, policy: Policy) -> str:
    action = policy.stages[code].action if 0 <= code < len(policy.stages) else "none"
    return KIND_BY_ACTION.get(action, "letter")
