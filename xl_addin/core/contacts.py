"""The contact log: every document issued and every contact a collector logged.

One frame, one row per contact, in these columns (readers and the journal build it):

- `customer_id`, `date` (datetime64[D]);
- `kind`: a document we issued (`letter`, `call_sheet`, `legal_pack`), or a contact
  logged by hand (`call`, `visit`, `email`, `letter`), or `cleared` (the customer is
  back from the collectors);
- `step`: the ladder step the contact stands for (-1: none);
- `reference`, `outcome`, `dispute` (text, "" when blank);
- `promise_date` (NaT: no promise), `promise_cents` (NaN: no amount given);
- `document`: True for a document from the journal.

What counts as a contact (for the interval and the ladder): a letter or hand-over
pack we issued, a letter or e-mail logged by hand, and a call or visit with its
outcome logged. A call sheet is a task: it counts only once its call is logged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

CONTACT_COLUMNS = (
    "customer_id", "date", "kind", "step", "reference", "outcome", "promise_date",
    "promise_cents", "dispute", "document",
)  # fmt: skip
DOCUMENT_KINDS = ("letter", "call_sheet", "legal_pack")
CALL_KINDS = ("call", "visit")
CLEARED = "cleared"
PROMISE_WINDOW_DAYS = 30  # a promise with no date taken counts payments from 30 days before
_NO_DISPUTE = frozenset({"n", "no", "none", "resolved", "否", "无", "已解决"})
_YES = frozenset({"y", "yes", "all", "是", "全部"})
_SEPARATORS = re.compile(r"[,;，；、\s]+")


def contact_frame(records: list[dict[str, object]]) -> pd.DataFrame:
    """Build a contact log from records (missing fields blank), in CONTACT_COLUMNS."""
    frame = pd.DataFrame.from_records(records, columns=list(CONTACT_COLUMNS))
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(dtype=object),
            "date": pd.to_datetime(frame["date"]).to_numpy(dtype="datetime64[D]"),
            "kind": _texts(frame["kind"]),
            "step": np.array([-1 if _blank(v) else int(v) for v in frame["step"]], dtype=np.int64),
            "reference": _texts(frame["reference"]),
            "outcome": _texts(frame["outcome"]),
            "promise_date": pd.to_datetime(frame["promise_date"]).to_numpy(dtype="datetime64[D]"),
            "promise_cents": np.array([np.nan if _blank(v) else float(v)
                                       for v in frame["promise_cents"]], dtype=np.float64),
            "dispute": _texts(frame["dispute"]),
            "document": np.array([bool(v) and not _blank(v) for v in frame["document"]],
                                 dtype=bool),
        }
    )  # fmt: skip


def document_contacts(customer_ids: Sequence[str], days: Sequence[str], kinds: Sequence[str],
                      steps: np.ndarray, references: Sequence[str]) -> pd.DataFrame:
    """The contact log's rows of documents issued (as `contact_frame` makes them from
    records with document=True), built column by column: a journal holds every document
    ever issued, hundreds of thousands after a year at a big branch. `days` are ISO dates."""
    n = len(customer_ids)
    return pd.DataFrame(
        {
            "customer_id": np.array(customer_ids, dtype=object),
            "date": np.array(days, dtype="datetime64[D]"),
            "kind": np.array([k.strip() for k in kinds], dtype=object),
            "step": np.asarray(steps, dtype=np.int64),
            "reference": np.array([r.strip() for r in references], dtype=object),
            "outcome": np.full(n, "", dtype=object),
            "promise_date": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
            "promise_cents": np.full(n, np.nan),
            "dispute": np.full(n, "", dtype=object),
            "document": np.ones(n, dtype=bool),
        }
    )


def _blank(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _texts(column: pd.Series) -> np.ndarray:
    return np.array(["" if _blank(v) else str(v).strip() for v in column], dtype=object)


def legacy_contacts(customers: pd.DataFrame, stage_index) -> pd.DataFrame:
    """The Customers sheet's LastStage/LastContactDate and PromiseDate/PromiseAmount as
    contact rows (workbooks kept before the contact log, or fed by another system). A
    LastStage with no date counts for the current episode's ladder, not the interval.

    `stage_index` maps a stage name or key to its ladder step (None: unknown).
    """
    records = []
    ids = customers["customer_id"].to_numpy(dtype=object)
    last_date = customers["last_contact_date"].to_numpy(dtype="datetime64[D]")
    last_stage = customers["last_stage"].to_numpy(dtype=object)
    promise = customers["promise_date"].to_numpy(dtype="datetime64[D]")
    promised = customers["promise_amount_cents"].to_numpy(dtype=np.float64)
    # A LastStage without a date still says how far the ladder went (this episode).
    known = ~np.isnat(last_date) | np.array([isinstance(s, str) and s.strip() != ""
                                             for s in last_stage], dtype=bool)  # fmt: skip
    for i in np.flatnonzero(known):
        step = stage_index(last_stage[i])
        records.append({"customer_id": ids[i], "date": last_date[i], "kind": "letter",
                        "step": -1 if step is None else step})  # fmt: skip
    for i in np.flatnonzero(~np.isnat(promise)):
        taken = last_date[i] if not np.isnat(last_date[i]) and last_date[i] <= promise[i] else None
        records.append({"customer_id": ids[i], "date": taken, "kind": "note",
                        "promise_date": promise[i], "promise_cents": promised[i]})  # fmt: skip
    return contact_frame(records)


def counted(contacts: pd.DataFrame) -> np.ndarray:
    """Which rows count as a contact (see the module docstring)."""
    kind = contacts["kind"].to_numpy(dtype=object)
    logged = contacts["outcome"].to_numpy(dtype=object) != ""
    document = contacts["document"].to_numpy(dtype=bool)
    issued = document & np.isin(kind, ("letter", "legal_pack"))
    by_hand = ~document & (
        np.isin(kind, ("letter", "email")) | (np.isin(kind, CALL_KINDS) & logged)
    )
    return issued | by_hand


def open_call_tasks(contacts: pd.DataFrame) -> pd.DataFrame:
    """Call sheets whose call has not been logged: customer_id, date, reference.

    A call sheet is done once a call or visit with an outcome is logged on or after
    the day it was issued, or a row naming its reference has an outcome.
    """
    kind = contacts["kind"].to_numpy(dtype=object)
    tasks = contacts[contacts["document"].to_numpy(bool) & (kind == "call_sheet")]
    if tasks.empty:
        return tasks[["customer_id", "date", "reference"]]
    outcome = contacts["outcome"].to_numpy(dtype=object) != ""
    logged = contacts[outcome & ~contacts["document"].to_numpy(bool)]
    calls = logged[np.isin(logged["kind"].to_numpy(dtype=object), CALL_KINDS)]
    last_call = calls.groupby("customer_id")["date"].max().to_dict()
    answered = tasks["reference"].isin(set(logged["reference"]) - {""}).to_numpy()
    called = np.array(
        [c in last_call and last_call[c] >= d for c, d in zip(tasks["customer_id"], tasks["date"])],
        dtype=bool,
    )
    return tasks.loc[~(answered | called), ["customer_id", "date", "reference"]]


def disputed_by_contacts(ledger: pd.DataFrame, contacts: pd.DataFrame) -> np.ndarray:
    """Ledger rows a customer disputed in a logged contact.

    Each customer's latest contact with something in Dispute decides: Y disputes
    every item, N (or "resolved") none, anything else names the document numbers.
    """
    marked = contacts[contacts["dispute"].to_numpy(dtype=object) != ""]
    out = np.zeros(len(ledger), dtype=bool)
    if marked.empty:
        return out
    latest = marked.sort_values("date", kind="stable").groupby("customer_id").tail(1)
    everything: set[str] = set()
    named: set[tuple[str, object]] = set()  # (customer, document number)
    for customer_id, dispute in zip(latest["customer_id"], latest["dispute"], strict=True):
        word = dispute.strip().casefold()
        if word in _NO_DISPUTE:
            continue
        if word in _YES:
            everything.add(customer_id)
        else:
            named.update((customer_id, d) for d in _SEPARATORS.split(dispute.strip()) if d)
    # One pass over the ledger for all of them (a pass per disputing customer made a
    # ledger of a million rows cost seconds for every hundred such customers).
    customer = pd.Index(ledger["customer_id"].to_numpy(dtype=object), dtype=object)
    out |= customer.isin(list(everything))
    rows = np.flatnonzero(customer.isin(list({c for c, _ in named})))
    doc_no = ledger["doc_no"].to_numpy(dtype=object)
    out[rows] |= np.array([(customer[r], doc_no[r]) in named for r in rows], dtype=bool)
    return out


def promise_states(
    contacts: pd.DataFrame, ledger: pd.DataFrame, as_of: np.datetime64
) -> pd.DataFrame:
    """Every promise and where it stands on `as_of`: pending, kept or broken.

    Returns customer_id, taken (when the promise was made), promise_date,
    promise_cents (NaN: any payment), paid_cents (payments since it was taken) and
    state. A promise is kept once payments since it was taken reach the amount
    (any payment when no amount was given), pending until its date has passed,
    broken after.
    """
    promises = contacts[~np.isnat(contacts["promise_date"].to_numpy(dtype="datetime64[D]"))]
    taken = promises["date"].to_numpy(dtype="datetime64[D]").copy()
    promise_date = promises["promise_date"].to_numpy(dtype="datetime64[D]")
    unknown = np.isnat(taken)
    taken[unknown] = promise_date[unknown] - np.timedelta64(PROMISE_WINDOW_DAYS, "D")
    paid = _paid_between(ledger, promises["customer_id"].to_numpy(dtype=object), taken, as_of)
    amount = promises["promise_cents"].to_numpy(dtype=np.float64)
    kept = np.where(np.isnan(amount), paid > 0, paid >= np.nan_to_num(amount))
    state = np.where(kept, "kept", np.where(promise_date >= as_of, "pending", "broken"))
    return pd.DataFrame(
        {
            "customer_id": promises["customer_id"].to_numpy(dtype=object),
            "taken": taken,
            "promise_date": promise_date,
            "promise_cents": amount,
            "paid_cents": paid,
            "state": state.astype(object),
        }
    )


def promise_payments(contacts: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger's rows `promise_states` reads: the payments of the customers who promised.
    Asking about many dates (a year of month-ends), give it these rather than the ledger:
    picking them out of a million rows is most of its work."""
    promised = contacts["customer_id"][
        ~np.isnat(contacts["promise_date"].to_numpy(dtype="datetime64[D]"))]
    wanted = pd.Index(pd.unique(promised.to_numpy(dtype=object)), dtype=object)
    customer = pd.Index(ledger["customer_id"].to_numpy(dtype=object), dtype=object)
    rows = (ledger["doc_type"].to_numpy(dtype=object) == "PAY") & (
        wanted.get_indexer(customer) >= 0)
    return ledger[rows]


def _paid_between(ledger: pd.DataFrame, customer_ids: np.ndarray, since: np.ndarray,
                  as_of: np.datetime64) -> np.ndarray:  # fmt: skip
    """Payments of each customer dated from `since` to `as_of` inclusive, in cents."""
    if not len(customer_ids):
        return np.zeros(0, dtype=np.int64)
    wanted = pd.Index(pd.unique(customer_ids), dtype=object)
    customer = ledger["customer_id"].to_numpy(dtype=object)
    promised = wanted.get_indexer(pd.Index(customer, dtype=object)) >= 0
    rows = np.flatnonzero((ledger["doc_type"].to_numpy(dtype=object) == "PAY") & promised)
    when = ledger["doc_date"].to_numpy(dtype="datetime64[D]")[rows]
    cents = ledger["amount_cents"].to_numpy(dtype=np.int64)[rows]
    by_customer = pd.Series(np.arange(len(rows))).groupby(customer[rows]).indices
    out = np.zeros(len(customer_ids), dtype=np.int64)
    # Few customers promise: their own payments are looked at, per promise.
    for i, (customer_id, start) in enumerate(zip(customer_ids, since, strict=True)):
        mine = by_customer.get(customer_id)
        if mine is not None:
            paid = (when[mine] >= start) & (when[mine] <= as_of)
            out[i] = cents[mine][paid].sum()
    return out
