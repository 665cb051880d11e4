"""The pipeline from a ledger to open items and a customer summary: settle, age, credit, escalate.

Input frames use the normalised columns below (readers produce them); money is
int64 cents. Settlement, for documents dated on or before the as-of date:

1. a payment, credit note or negative adjustment that names an invoice
   (AppliesTo) settles it, earliest document first; what exceeds the invoice
   joins the customer's unapplied credit;
2. unapplied credit settles the customer's open undisputed debits, oldest due
   date first (cash without remittance advice is not put against an invoice the
   customer disputes);
3. what is left is Unapplied (zero or negative). For every customer
   Balance = sum of the open amounts = sum of the buckets + Unapplied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_addin.core.aging import bucket_index, days_overdue
from xl_addin.core.credit import credit_headroom, credit_status
from xl_addin.core.escalation import BLANK_CODE, ON_HOLD_CODE, stage_codes, stage_names
from xl_addin.core.policy import Policy, bucket_labels

LEDGER_COLUMNS = (
    "customer_id", "doc_type", "doc_no", "doc_date", "due_date",
    "amount_cents", "applies_to", "currency", "disputed",
)  # fmt: skip
CUSTOMER_COLUMNS = (
    "customer_id", "segment", "currency", "credit_limit_cents", "payment_terms_days",
    "open_orders_cents", "promise_date", "promise_amount_cents", "last_stage",
    "last_contact_date",
)  # fmt: skip
DEBIT_TYPES = ("INV", "ADJ")
DOC_TYPES = ("INV", "CRN", "PAY", "ADJ")


@dataclass(frozen=True, slots=True)
class AgingResult:
    """Open items (aligned with the ledger rows) and one summary row per customer."""

    as_of: dt.date
    labels: tuple[str, ...]
    items: pd.DataFrame
    customers: pd.DataFrame


def age_ledger(
    ledger: pd.DataFrame,
    customers: pd.DataFrame,
    as_of: dt.date,
    policy: Policy,
    age_from: str = "due",
) -> AgingResult:
    """Return open amounts, days overdue, buckets and stages per item and per customer.

    Days overdue, Stage and credit status always count from the due date;
    `age_from` chooses what the buckets count from: "due" (days past the due
    date) or "document" (days since the document date). Every ledger customer
    must be in `customers`.
    """
    as_of64 = np.datetime64(as_of, "D")
    code = customer_codes(ledger["customer_id"], customers["customer_id"])
    n_cust = len(customers)

    kinds = DocTypes.of(ledger["doc_type"])
    amount = ledger["amount_cents"].to_numpy(dtype=np.int64)
    doc_date = ledger["doc_date"].to_numpy(dtype="datetime64[D]")
    disputed = ledger["disputed"].to_numpy(dtype=bool)
    in_scope = doc_date <= as_of64
    is_debit = in_scope & kinds.debits(amount)
    is_credit = in_scope & ~is_debit
    magnitude = np.abs(amount)
    debit = np.where(is_debit, magnitude, 0)
    credit = np.where(is_credit, magnitude, 0)

    open_debit, residual = _apply_named_credits(
        ledger, is_debit, is_credit, code, debit, credit, doc_date
    )
    due = ledger["due_date"].to_numpy(dtype="datetime64[D]", copy=True)
    blank = np.flatnonzero(np.isnat(due))
    due[blank] = doc_date[blank] + _terms_days(customers, policy)[code[blank]].astype("m8[D]")
    open_debit, credit_open, unapplied = _settle_unapplied(
        code, n_cust, open_debit, residual, is_debit & ~disputed, due, doc_date
    )

    open_cents = open_debit - credit_open  # a row is a debit or a credit: the other is zero
    # Days, buckets and stages only for the open debits (a fraction of a real ledger).
    is_open_debit = is_debit & (open_debit > 0)
    rows = np.flatnonzero(is_open_debit)
    open_days = days_overdue(due[rows], as_of64)
    bucket_days = open_days if age_from == "due" else days_overdue(doc_date[rows], as_of64)
    labels = bucket_labels(policy.bounds)
    segment_offset = segment_offsets(customers, policy)
    open_codes = stage_codes(
        open_days, policy, days_offset=segment_offset[code[rows]], disputed=disputed[rows]
    )
    open_bucket = bucket_index(bucket_days, policy.bounds)
    days = _scatter(rows, open_days, len(code), np.nan)
    bidx = _scatter(rows, open_bucket, len(code), -1)
    item_codes = _scatter(rows, open_codes, len(code), BLANK_CODE)
    items = pd.DataFrame(
        {
            "customer_code": code,  # the row's customer: its position in `customers`
            "in_scope": in_scope,
            "is_debit": is_debit,
            "open_cents": open_cents,
            "due_date": due,
            "days_overdue": days,
            "bucket_index": bidx,
            "bucket": _labelled(bidx, labels),
            "stage_code": item_codes,
            "stage": _stage_labels(open_codes, policy, rows, len(code)),
        },
        index=ledger.index,
        copy=False,
    )
    open_debits = _OpenDebits(rows, code[rows], open_debit[rows], open_days, open_bucket,
                              disputed[rows], due[rows])  # fmt: skip
    summary = _summarise(customers, policy, n_cust, open_debits, unapplied, labels,
                         segment_offset)  # fmt: skip
    return AgingResult(as_of, labels, items, summary)


@dataclass(frozen=True, slots=True)
class DocTypes:
    """The DocType column hashed once; which rows are of a type is then integer work."""

    codes: np.ndarray
    names: tuple[str, ...]

    @classmethod
    def of(cls, doc_type: pd.Series | np.ndarray) -> DocTypes:
        codes, names = pd.factorize(np.asarray(doc_type, dtype=object))
        return cls(codes, tuple(names))

    def mask(self, *types: str) -> np.ndarray:
        """Rows whose DocType is one of `types`."""
        table = np.array([name in types for name in self.names] + [False])  # -1: blank
        return table[self.codes]

    def debits(self, amount_cents: np.ndarray) -> np.ndarray:
        """Rows that add to what the customer owes: invoices and positive adjustments."""
        return self.mask("INV") | (self.mask("ADJ") & (amount_cents >= 0))


def _scatter(rows: np.ndarray, values: np.ndarray, n: int, fill) -> np.ndarray:
    """Return an n-row column holding `values` at `rows` and `fill` elsewhere."""
    out = np.full(n, fill, dtype=np.result_type(values, np.min_scalar_type(fill)))
    out[rows] = values
    return out


def customer_codes(ledger_ids: pd.Series, customer_ids: pd.Series) -> np.ndarray:
    """Return each ledger row's position in the customer list."""
    # Hashing a million strings once (factorize) and then only the distinct ones
    # against the customer list is several times faster than a full lookup.
    distinct_codes, distinct = pd.factorize(ledger_ids.to_numpy(dtype=object))
    positions = _lookup(customer_ids.to_numpy(dtype=object), np.asarray(distinct, dtype=object))
    if (positions < 0).any():
        raise ValueError("ledger names customers that are not in the customer list")
    return positions[distinct_codes]


def _lookup(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Return the position of each wanted value among the (unique) keys, -1 if absent."""
    # Both sides as object Indexes: pandas would otherwise infer a string dtype
    # for the wanted values first, which costs more than the lookup itself.
    return pd.Index(keys, dtype=object).get_indexer(pd.Index(wanted, dtype=object))


def _find_documents(doc_no: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Return the position of each wanted document number in `doc_no` (-1: absent).

    The join runs on Python's own string hashes (computed once per string and
    kept inside it) through an integer index, and each match is confirmed by
    comparing the strings: on a million-row ledger this is nearly twice as fast
    as a pandas index over the strings themselves, which compares every probe
    with the string it finds. Should two document numbers share a hash (the
    same number twice, or a collision), the string index decides, first
    occurrence first.
    """
    key_hash = pd.Index(np.fromiter(map(hash, doc_no), dtype=np.int64, count=len(doc_no)))
    if not key_hash.is_unique:
        first = np.flatnonzero(~pd.Series(doc_no, dtype=object).duplicated().to_numpy())
        found = _lookup(doc_no[first], wanted)
        return np.where(found >= 0, first[np.maximum(found, 0)], -1)
    found = key_hash.get_indexer(np.fromiter(map(hash, wanted), dtype=np.int64, count=len(wanted)))
    hits = np.flatnonzero(found >= 0)
    found[hits[doc_no[found[hits]] != wanted[hits]]] = -1
    return found


def _stable_order(*keys: np.ndarray) -> np.ndarray:
    """Return the row order sorted by the keys (first key first), ties in row order.

    When the keys' ranges and the row number fit in 63 bits they are packed into
    one int64 and sorted as values: several times faster than np.lexsort.
    """
    rows = np.arange(len(keys[0]), dtype=np.int64)
    if not len(rows):
        return rows
    packed, bits = np.zeros(len(rows), dtype=np.int64), 0
    for key in (*keys, rows):
        key = key.astype(np.int64, copy=False)
        low = int(key.min())
        width = (int(key.max()) - low).bit_length()
        bits += width
        if bits > 63:
            return np.lexsort((rows, *reversed(keys)))
        packed = (packed << width) | (key - low)
    return np.sort(packed) & ((1 << (len(rows) - 1).bit_length()) - 1)


def per_distinct(values: np.ndarray, function, dtype=object) -> np.ndarray:
    """Apply a Python function once per distinct value (segments, labels, currencies):
    a column of a ledger holds a handful of values in 100,000 cells."""
    codes, distinct = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    out = np.empty(len(distinct), dtype=dtype)  # (np.array of tuples would make a 2-d array)
    out[:] = [function(v) for v in distinct]
    return out[codes]


def group_cumsum(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group (rows sorted by group)."""
    total = np.cumsum(values)
    if not len(values):
        return total
    starts = np.r_[True, groups[1:] != groups[:-1]]
    before = (total - values)[starts]
    return total - np.repeat(before, np.diff(np.r_[np.flatnonzero(starts), len(values)]))


def _fill(amounts: np.ndarray, capacity: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Take up to each group's capacity from the amounts in order (rows sorted by group)."""
    cumulative = group_cumsum(amounts, groups)
    return np.minimum(cumulative, capacity) - np.minimum(cumulative - amounts, capacity)


def _apply_named_credits(ledger, is_debit, is_credit, code, debit, credit, doc_date):
    """Settle invoices named in AppliesTo; return open debits and the credit left unapplied."""
    applies_to = ledger["applies_to"].to_numpy(dtype=object)
    credits = np.flatnonzero(is_credit)
    naming = credits[applies_to[credits] != ""]
    debits = np.flatnonzero(is_debit)
    target = np.full(len(naming), -1, dtype=np.int64)
    if len(naming) and len(debits):
        found = _find_documents(ledger["doc_no"].to_numpy(dtype=object)[debits], applies_to[naming])
        target = np.where(found >= 0, debits[np.maximum(found, 0)], -1)
    named = (target >= 0) & (code[naming] == code[np.maximum(target, 0)])
    rows, target = naming[named], target[named]
    by = _stable_order(target, doc_date.view(np.int64)[rows])
    order, target = rows[by], target[by]
    used = _fill(credit[order], debit[target], target)
    open_debit = debit.copy()
    np.subtract.at(open_debit, target, used)
    residual = credit.copy()
    residual[order] -= used
    return open_debit, residual


def _settle_unapplied(code, n_cust, open_debit, residual, settleable, due, doc_date):
    """Let each customer's unapplied credit settle its open debits, oldest due date first."""
    pool = np.zeros(n_cust, dtype=np.int64)
    np.add.at(pool, code, residual)
    rows = np.flatnonzero(settleable & (open_debit > 0))
    order = rows[_stable_order(code[rows], due.view(np.int64)[rows], doc_date.view(np.int64)[rows])]
    used = _fill(open_debit[order], pool[code[order]], code[order])
    open_debit = open_debit.copy()
    open_debit[order] -= used
    consumed = np.zeros(n_cust, dtype=np.int64)
    np.add.at(consumed, code[order], used)
    # The oldest credits are the ones used up; what stays open is the newest cash. Where a
    # customer's cash was all used, every credit is; only the others need ordering.
    credit_open = np.where((consumed < pool)[code], residual, 0)
    rows = np.flatnonzero(credit_open > 0)
    order = rows[_stable_order(code[rows], doc_date.view(np.int64)[rows])]
    taken = _fill(residual[order], consumed[code[order]], code[order])
    credit_open[order] -= taken
    return open_debit, credit_open, -(pool - consumed)


def _terms_days(customers: pd.DataFrame, policy: Policy) -> np.ndarray:
    terms = customers["payment_terms_days"].to_numpy(dtype=np.float64)
    return np.where(np.isnan(terms), policy.rules.default_payment_terms_days, terms).astype(
        np.int64
    )


def segment_offsets(customers: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Return each customer's segment offset in days (blank or unknown segment: 0)."""
    segments = customers["segment"].to_numpy(dtype=object)
    return per_distinct(segments, lambda s: policy.segment_offset(s) or 0, np.float64)


@dataclass(frozen=True, slots=True)
class _OpenDebits:
    """The open debits, one entry per row: ledger row, customer, open cents, days, bucket,
    disputed, due date."""

    row: np.ndarray
    code: np.ndarray
    cents: np.ndarray
    days: np.ndarray
    bucket: np.ndarray
    disputed: np.ndarray
    due: np.ndarray


def _sum_by(code: np.ndarray, cents: np.ndarray, where: np.ndarray | None, n: int) -> np.ndarray:
    """Sum cents per customer code (rows where `where` is False count nothing)."""
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, code, cents if where is None else np.where(where, cents, 0))
    return out


def _summarise(customers, policy, n_cust, items: _OpenDebits, unapplied, labels, segment_offset):
    """One row per customer: balance, buckets, credit, and the Stage with the item deciding it.

    The Stage comes from the oldest open item that is not disputed (`deciding_row`, the
    ledger row; -1 for none); a customer whose open items are all disputed is On hold.
    """
    buckets = np.zeros(n_cust * len(labels), dtype=np.int64)
    np.add.at(buckets, items.code * len(labels) + items.bucket, items.cents)
    buckets = buckets.reshape(n_cust, len(labels))
    balance = buckets.sum(axis=1) + unapplied
    overdue = _sum_by(items.code, items.cents, items.days > 0, n_cust)
    max_days = _group_max(items.days, items.code, None, n_cust)
    undisputed = ~items.disputed
    stage_days = _group_max(items.days, items.code, undisputed, n_cust)
    dunnable = _sum_by(items.code, items.cents, undisputed, n_cust)
    disputed_overdue = _sum_by(items.code, items.cents, items.disputed & (items.days > 0), n_cust)
    only_disputed = np.isnan(stage_days) & ~np.isnan(max_days)
    deciding = _deciding_rows(items, undisputed, stage_days, n_cust)
    codes = stage_codes(
        np.where(only_disputed, max_days, stage_days), policy,
        days_offset=segment_offset, disputed=only_disputed,
    )  # fmt: skip
    hold = codes >= policy.stage_index(policy.rules.hold_from_stage)
    limit = customers["credit_limit_cents"].to_numpy(dtype=np.int64)
    orders = customers["open_orders_cents"].to_numpy(dtype=np.int64)
    summary = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "balance_cents": balance,
            "unapplied_cents": unapplied,
            "overdue_cents": overdue,
            "max_days_overdue": max_days,
            "headroom_cents": credit_headroom(limit, balance, orders),
            "credit_status": credit_status(
                limit, balance, orders, hold, policy.rules.near_limit_share
            ),
            "stage_code": codes,
            "stage": stage_names(codes, policy),
            "stage_days": stage_days,
            "dunnable_cents": dunnable,
            "disputed_overdue_cents": disputed_overdue,
            "deciding_row": deciding,
            "oldest_due": _oldest_due(items, undisputed, n_cust),
            **{f"bucket:{label}": buckets[:, i] for i, label in enumerate(labels)},
        },
        index=customers.index,
        copy=False,
    )
    return summary


def _labelled(codes: np.ndarray, labels: Sequence[str]) -> pd.Categorical | np.ndarray:
    """Return labels by position (-1: missing) as a categorical column.

    A million-row column of repeated strings costs a tenth of a second to build
    as text and nothing as a categorical; missing values are NaN either way.
    """
    if len(set(labels)) < len(labels):
        return np.array([*labels, None], dtype=object)[codes]
    return pd.Categorical.from_codes(codes, categories=list(labels))


def _stage_labels(
    codes: np.ndarray, policy: Policy, rows: np.ndarray, n: int
) -> pd.Categorical | np.ndarray:
    """Return the stage names of `codes` at `rows` of an n-row column (missing elsewhere)."""
    names = stage_names(np.array([*range(len(policy.stages)), ON_HOLD_CODE]), policy)
    positions = np.where(codes >= 0, codes, np.where(codes == ON_HOLD_CODE, len(policy.stages), -1))
    return _labelled(_scatter(rows, positions, n, -1), list(names))


def _deciding_rows(
    items: _OpenDebits, undisputed: np.ndarray, stage_days: np.ndarray, n: int
) -> np.ndarray:
    """The ledger row of each customer's oldest open undisputed item (-1: none).

    Oldest means most days overdue (`stage_days`, each customer's most among its undisputed
    items); ties go to the earlier ledger row. No sort: the rows that reach their
    customer's most, then the first of them per customer.
    """
    oldest = undisputed & (items.days == stage_days[items.code])
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, items.code[oldest], items.row[oldest])
    return np.where(out == np.iinfo(np.int64).max, -1, out)


def _oldest_due(items: _OpenDebits, undisputed: np.ndarray, n: int) -> np.ndarray:
    """The earliest due date of each customer's open undisputed items (NaT: none)."""
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, items.code[undisputed], items.due[undisputed].view(np.int64))
    return np.where(out == np.iinfo(np.int64).max, np.datetime64("NaT", "D").view(np.int64),
                    out).view("datetime64[D]")  # fmt: skip


def _group_max(values: np.ndarray, code: np.ndarray, where: np.ndarray | None, n: int):
    """Largest value per customer code (NaN where no row counts)."""
    out = np.full(n, -np.inf)
    np.maximum.at(out, code, values if where is None else np.where(where, values, -np.inf))
    return np.where(np.isneginf(out), np.nan, out)
