"""Who gets what today: the dunning decision, per customer, with the reason.

The customer's stage comes from the engine (core.ledger): the ladder from its
oldest undisputed open item, the segment offset, a broken promise one step up,
the first contact at most the policy's first-contact stage, at most one step up
from the last stage used, the minimum amount, disputes on hold. The caller
passes customers whose LastStage and LastContactDate already include the
journal's record of what was sent. This module adds what only a run knows:

- a customer with a dunning block, or whose open items are all disputed, or
  whose balance is under the minimum, gets nothing;
- the first step of the ladder ("not due") is not a contact: nothing is sent;
- at least the policy's interval between two contacts;
- a customer already served for this key (the as-of date) gets nothing new,
  unless `force` (then a new revision);
- one document per customer, listing all its items the stage is about.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from xl_addin.core.escalation import BELOW_MINIMUM_CODE, BLANK_CODE, ON_HOLD_CODE, stage_keys
from xl_addin.core.ledger import AgingResult, customer_codes, segment_offsets
from xl_addin.core.policy import Policy

KIND_BY_ACTION = {"call sheet": "call_sheet", "hand-over pack": "legal_pack"}
SEND, SKIP = "send", "skip"


def plan_dunning(
    aging: AgingResult,
    ledger: pd.DataFrame,
    customers: pd.DataFrame,
    policy: Policy,
    served: Mapping[str, int] | None = None,
    force: bool = False,
) -> pd.DataFrame:
    """Return one row per customer: customer_id, stage_code, stage, kind, action, reason, amounts.

    `served`: customer -> highest revision already issued for this run's key.
    `amount_cents` is what the document is about: the overdue total, or for a
    pre-due reminder the amount coming due; `revision` is the revision to issue.
    """
    as_of = np.datetime64(aging.as_of, "D")
    summary = aging.customers
    codes = summary["stage_code"].to_numpy(dtype=np.int64)
    ids = summary["customer_id"].to_numpy(dtype=object)
    keys = stage_keys(codes, policy)
    actions = np.array([_action(c, policy) for c in codes], dtype=object)
    blocked = customers["dunning_block"].to_numpy(dtype=bool) if "dunning_block" in customers \
        else np.zeros(len(ids), dtype=bool)  # fmt: skip
    last = customers["last_contact_date"].to_numpy(dtype="datetime64[D]")
    interval = policy.rules.min_contact_interval_days
    since = (as_of - last).astype("timedelta64[D]").astype(np.float64)
    since[np.isnat(last)] = np.inf
    served = served or {}
    revision = np.array([served.get(c, -1) + 1 for c in ids], dtype=np.int64)

    reasons = np.full(len(ids), "", dtype=object)
    send = np.ones(len(ids), dtype=bool)

    def skip(mask: np.ndarray, reason) -> None:
        nonlocal send
        mask = mask & send
        reasons[mask] = [reason(i) if callable(reason) else reason for i in np.flatnonzero(mask)]
        send &= ~mask

    skip(codes == BLANK_CODE, "nothing open")
    skip(blocked, "dunning block on the customer")
    skip(codes == ON_HOLD_CODE, "every open item is disputed")
    skip(codes == BELOW_MINIMUM_CODE, f"balance under the minimum of {policy.rules.minimum_amount}")
    skip(codes == 0, "nothing overdue or coming due")
    skip(since < interval, lambda i: f"contacted {int(since[i])} day(s) ago; the interval is "
         f"{interval} days")  # fmt: skip
    skip((revision > 0) & (not force), "already served for this date (use --force to reissue)")
    for i in np.flatnonzero(send):
        reasons[i] = _why(summary.iloc[i], customers.iloc[i], as_of)

    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "stage_code": codes,
            "stage_key": keys,
            "stage": summary["stage"].to_numpy(dtype=object),
            "kind": [KIND_BY_ACTION.get(a, "letter") for a in actions],
            "action": np.where(send, SEND, SKIP),
            "reason": reasons,
            "overdue_cents": summary["overdue_cents"].to_numpy(),
            "balance_cents": summary["balance_cents"].to_numpy(),
            "max_days_overdue": summary["max_days_overdue"].to_numpy(),
            "revision": revision,
        }
    ).assign(amount_cents=lambda f: _document_amounts(f, ledger, customers, aging, policy))
    empty = (frame["action"] == SEND) & (frame["amount_cents"] <= 0)
    frame.loc[empty, "action"] = SKIP
    frame.loc[empty, "reason"] = "nothing to ask for"
    return frame


def listed_rows(
    aging: AgingResult, ledger: pd.DataFrame, customers: pd.DataFrame, policy: Policy
) -> np.ndarray:
    """Which ledger rows the customers' documents list, each at its customer's stage."""
    code = _customer_code(aging, ledger)
    offsets = segment_offsets(customers, policy)
    pre_due = aging.customers["stage_code"].to_numpy() == _pre_due(policy)
    return _wanted(aging, ledger, pre_due[code], offsets[code], policy)


def dunning_items(aging: AgingResult, ledger: pd.DataFrame, customer_id: str, stage_code: int,
                  policy: Policy, days_offset: int = 0) -> pd.DataFrame:  # fmt: skip
    """The items one customer's document lists (see _wanted)."""
    mine = ledger["customer_id"].to_numpy(dtype=object) == customer_id
    wanted = mine & _wanted(aging, ledger, stage_code == _pre_due(policy), days_offset, policy)
    return items_by_customer(aging, ledger, wanted).get(customer_id, EMPTY_ITEMS)


def _wanted(aging, ledger, pre_due, offset, policy: Policy) -> np.ndarray:
    """Open undisputed items overdue; for a pre-due reminder, those coming due within the
    window, which the segment offset widens (a Watch customer hears earlier)."""
    items = aging.items
    days = items["days_overdue"].to_numpy()
    open_cents = items["open_cents"].to_numpy()
    is_open = items["is_debit"].to_numpy() & (open_cents > 0) & ~ledger["disputed"].to_numpy(bool)
    start = float(policy.stages[_pre_due(policy)].from_days or 0) if _pre_due(policy) >= 0 else 0
    coming = (days <= 0) & (days + offset >= start)
    return is_open & np.where(pre_due, coming, days > 0)


def items_by_customer(
    aging: AgingResult, ledger: pd.DataFrame, listed: np.ndarray
) -> dict[str, pd.DataFrame]:
    """The listed items of every customer, oldest due date first (one pass for the run)."""
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
    return {c: f.drop(columns="customer_id") for c, f in frame.groupby("customer_id", sort=False)}


EMPTY_ITEMS = pd.DataFrame(
    columns=["doc_no", "doc_date", "due_date", "amount_cents", "open_cents", "days_overdue",
             "reference"]
)  # fmt: skip


def _customer_code(aging: AgingResult, ledger: pd.DataFrame) -> np.ndarray:
    return customer_codes(ledger["customer_id"], aging.customers["customer_id"])


def _document_amounts(frame, ledger, customers, aging, policy) -> np.ndarray:
    """What each document asks for: the items it lists, summed per customer."""
    listed = listed_rows(aging, ledger, customers, policy)
    code = _customer_code(aging, ledger)
    totals = np.zeros(len(aging.customers), dtype=np.int64)
    np.add.at(totals, code[listed], aging.items["open_cents"].to_numpy()[listed])
    return totals


def _pre_due(policy: Policy) -> int:
    return next((i for i, s in enumerate(policy.stages) if s.key == "pre_due_reminder"), -99)


def _action(code: int, policy: Policy) -> str:
    return policy.stages[code].action if 0 <= code < len(policy.stages) else "none"


def _why(summary_row, customer_row, as_of: np.datetime64) -> str:
    days = summary_row["max_days_overdue"]
    stage = summary_row["stage"]
    parts = [f"{stage}: oldest open item {int(days)} day(s) past due" if days > 0
             else f"{stage}: items fall due within {-int(days)} day(s)"]  # fmt: skip
    last = customer_row.get("last_stage") or ""
    if last:
        parts.append(f"last step {last}")
    promise = customer_row.get("promise_date")
    if promise is not None and not pd.isna(promise) and np.datetime64(promise, "D") < as_of:
        parts.append(f"payment promised for {np.datetime64(promise, 'D')} not kept")
    return "; ".join(parts)
