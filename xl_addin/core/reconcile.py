"""Reconcile a customer's reply to a statement with our ledger, and explain the difference.

Our side is every document of the customer dated up to the statement date,
signed as it moves the balance (invoices +, payments and credit notes -). Their
side is what they sent back: their confirmed balance, or their own list of our
documents. Documents are matched

1. by document number (compared without case, spaces or punctuation), then
2. what is left, by amount and a date within `DATE_WINDOW_DAYS`,

and every unmatched or differing document becomes a `Difference` with the
usual explanation. Our balance - their balance = the sum of the differences +
the unexplained remainder, to the cent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

DATE_WINDOW_DAYS = 7

OURS_ONLY, THEIRS_ONLY, AMOUNT, BY_AMOUNT = "ours_only", "theirs_only", "amount", "by_amount"
EXPLANATIONS = {
    ("ours_only", "debit"): (
        "on our ledger, not on theirs: invoice not yet received or booked by the customer",
        "我方有、对方无：发票对方尚未收到或尚未入账",
    ),
    ("ours_only", "credit"): (
        "on our ledger, not on theirs: a payment or credit the customer has not booked",
        "我方有、对方无：对方尚未入账的收款或贷项",
    ),
    ("theirs_only", "credit"): (
        "on their ledger, not on ours: payment in transit (after our cut-off) or not received",
        "对方有、我方无：在途款项（我方截止日后到账）或尚未收到",
    ),
    ("theirs_only", "debit"): (
        "on their ledger, not on ours: a debit note or document of theirs we do not have",
        "对方有、我方无：对方的借项通知或我方没有的单据",
    ),
    ("amount", ""): ("the amounts differ", "金额不一致"),
    ("by_amount", ""): (
        "same amount and date under another number: matched, numbers differ",
        "金额、日期相同但单据号不同：已匹配",
    ),
}  # fmt: skip
_NOT_KEY = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Our balance against theirs, the documents that explain it, and what is left."""

    our_balance_cents: int
    their_balance_cents: int
    differences: pd.DataFrame  # kind, side, doc_no, their_doc_no, doc_date, ours_cents,
    #                            theirs_cents, effect_cents (on ours - theirs), explanation(_zh)
    matched: int
    flipped_signs: bool

    @property
    def difference_cents(self) -> int:
        return self.our_balance_cents - self.their_balance_cents

    @property
    def explained_cents(self) -> int:
        return int(self.differences["effect_cents"].sum()) if len(self.differences) else 0

    @property
    def unexplained_cents(self) -> int:
        return self.difference_cents - self.explained_cents


def document_key(doc_no: object) -> str:
    """Return a document number as compared: no case, spaces or punctuation."""
    return _NOT_KEY.sub("", str(doc_no)).casefold()


def reconcile_balance(our_balance_cents: int, their_balance_cents: int) -> Reconciliation:
    """A reply that only states a balance: the whole difference is unexplained."""
    return Reconciliation(our_balance_cents, their_balance_cents, _frame([]), 0, False)


def reconcile_documents(
    ours: pd.DataFrame, theirs: pd.DataFrame, their_balance_cents: int | None = None
) -> Reconciliation:
    """Match their list of our documents against ours and explain the difference.

    Both frames have doc_no, doc_date (datetime64[D]) and signed_cents (+ raises what
    the customer owes). If their signs are the other way round (a payables ledger:
    invoices negative), they are turned over first. Without `their_balance_cents`
    their balance is the sum of their documents.
    """
    theirs, flipped = _orient(ours, theirs)
    our_balance = int(ours["signed_cents"].sum())
    their_balance = (
        int(theirs["signed_cents"].sum()) if their_balance_cents is None else their_balance_cents
    )
    rows: list[dict] = []
    their_keys = {}
    for j, key in enumerate(theirs["doc_no"].map(document_key)):
        their_keys.setdefault(key, j)
    our_left, their_left, matched = [], set(range(len(theirs))), 0
    for i, key in enumerate(ours["doc_no"].map(document_key)):
        j = their_keys.get(key)
        if j is None or j not in their_left:
            our_left.append(i)
            continue
        their_left.discard(j)
        matched += 1
        mine, yours = int(ours["signed_cents"].iat[i]), int(theirs["signed_cents"].iat[j])
        if mine != yours:
            rows.append(_row(AMOUNT, "", ours, i, theirs, j, mine - yours))
    by_amount: dict[int, list[int]] = {}
    for j in sorted(their_left):
        by_amount.setdefault(int(theirs["signed_cents"].iat[j]), []).append(j)
    their_days = theirs["doc_date"].to_numpy(dtype="datetime64[D]")
    our_days = ours["doc_date"].to_numpy(dtype="datetime64[D]")
    for i in our_left:
        candidates = [
            j for j in by_amount.get(int(ours["signed_cents"].iat[i]), ()) if j in their_left
        ]
        j = _nearest(our_days[i], candidates, their_days)
        if j is None:
            mine = int(ours["signed_cents"].iat[i])
            rows.append(_row(OURS_ONLY, _side(mine), ours, i, None, None, mine))
        else:
            their_left.discard(j)
            matched += 1
            rows.append(_row(BY_AMOUNT, "", ours, i, theirs, j, 0))
    for j in sorted(their_left):
        yours = int(theirs["signed_cents"].iat[j])
        rows.append(_row(THEIRS_ONLY, _side(yours), None, None, theirs, j, -yours))
    return Reconciliation(our_balance, their_balance, _frame(rows), matched, flipped)


def _orient(ours: pd.DataFrame, theirs: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Turn their signs over when, on the documents both have, most are the negatives of ours."""
    ours_by_key = dict(zip(ours["doc_no"].map(document_key), ours["signed_cents"], strict=True))
    same = opposite = 0
    for key, cents in zip(theirs["doc_no"].map(document_key), theirs["signed_cents"], strict=True):
        mine = ours_by_key.get(key)
        if mine is None or mine == 0:
            continue
        same += int(cents == mine)
        opposite += int(cents == -mine)
    if opposite > same:
        turned = theirs.copy()
        turned["signed_cents"] = -turned["signed_cents"]
        return turned, True
    return theirs, False


def _nearest(day: np.datetime64, candidates: list[int], days: np.ndarray) -> int | None:
    """The candidate dated nearest to `day`, within DATE_WINDOW_DAYS (None if none)."""
    if np.isnat(day):
        return None
    best, best_gap = None, DATE_WINDOW_DAYS + 1
    for j in candidates:
        if np.isnat(days[j]):
            continue
        gap = abs(int((days[j] - day).astype(np.int64)))
        if gap < best_gap:
            best, best_gap = j, gap
    return best


def _side(cents: int) -> str:
    return "debit" if cents >= 0 else "credit"


def _row(kind, side, ours, i, theirs, j, effect) -> dict:
    english, chinese = EXPLANATIONS[(kind, side)]
    return {
        "kind": kind,
        "side": side,
        "doc_no": "" if ours is None else str(ours["doc_no"].iat[i]),
        "their_doc_no": "" if theirs is None else str(theirs["doc_no"].iat[j]),
        "doc_date": (ours if ours is not None else theirs)["doc_date"].iat[
            i if ours is not None else j
        ],
        "ours_cents": None if ours is None else int(ours["signed_cents"].iat[i]),
        "theirs_cents": None if theirs is None else int(theirs["signed_cents"].iat[j]),
        "effect_cents": effect,
        "explanation": english,
        "explanation_zh": chinese,
    }


def _frame(rows: list[dict]) -> pd.DataFrame:
    columns = [
        "kind", "side", "doc_no", "their_doc_no", "doc_date", "ours_cents", "theirs_cents",
        "effect_cents", "explanation", "explanation_zh",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
