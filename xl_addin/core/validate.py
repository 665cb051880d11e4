"""Checks across rows and tables that a single cell cannot show, as located problems.

Frames are the normalised tables: a `row` column with the worksheet row, and
`attrs["sheet"]` and `attrs["letters"]` (field -> column letter) for locations.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from xl_addin.core.interest import parse_contract_rate
from xl_addin.core.ledger import per_distinct
from xl_addin.core.money import to_decimal
from xl_addin.core.policy import Policy
from xl_addin.core.problems import Problem, Source

POSITIVE_TYPES = ("INV", "CRN", "PAY")
# No receivable runs half a century (the longest instalment and lease terms run some 30
# years): a DocDate or DueDate further ahead is a mistyped year (2126 or 3026 for 2026),
# which would age as not yet due, silently, for ever. Fifty years, not a hundred: 2126-10-01
# is less than a century after an as-of date of 2026-11-30.
HORIZON_YEARS = 50
HORIZON_DAYS = 18_262  # 50 years of 365.25 days


def _where(frame: pd.DataFrame, position: int, field: str | None = None) -> Source:
    letters = frame.attrs.get("letters", {})
    return Source(
        frame.attrs.get("sheet", "?"),
        int(frame["row"].iat[position]),
        letters.get(field) if field else None,
    )


def _duplicates(
    frame: pd.DataFrame, field: str, what: str, ignore_case: bool = False
) -> list[Problem]:
    """Problems for repeated values; `ignore_case`: C001 and c001 are the same (Excel's
    lookups and comparisons ignore case, so the workbook's own formulas take them as one)."""
    values = frame[field]
    keys = values.astype(object).str.casefold() if ignore_case and len(values) else values
    repeated = keys.duplicated(keep="first") & (values != "")
    if not repeated.any():
        return []
    first = ~keys.duplicated(keep="first")
    first_at = dict(zip(keys[first], zip(values[first], frame["row"][first])))
    problems = []
    for i in np.flatnonzero(repeated.to_numpy()):
        value, (first_value, row) = values.iat[i], first_at[keys.iat[i]]
        same = "" if first_value == value else f" as {first_value}, which differs only in case"
        problems.append(Problem(
            _where(frame, i, field), f"{what} {value} appears twice (first in row {row}{same})"
        ))  # fmt: skip
    return problems


def _any_of(values: np.ndarray, choices: tuple[str, ...]) -> np.ndarray:
    """values in choices, for text: np.isin sorts object arrays, a few comparisons do not."""
    found = np.zeros(len(values), dtype=bool)
    for choice in choices:
        found |= values == choice
    return found


def _positions(keys: pd.Series, wanted: np.ndarray) -> np.ndarray:
    """Position of each wanted value's first occurrence in keys (-1: absent); keys may repeat."""
    if not len(keys):  # no customers yet: nothing is found
        return np.full(len(wanted), -1, dtype=np.int64)
    unique_at = np.flatnonzero(~keys.duplicated(keep="first").to_numpy())
    found = pd.Index(keys.iloc[unique_at], dtype=object).get_indexer(
        pd.Index(np.asarray(wanted, dtype=object), dtype=object)
    )
    return np.where(found >= 0, unique_at[np.maximum(found, 0)], -1)


def check_customers(customers: pd.DataFrame, policy: Policy) -> list[Problem]:
    """Return problems in the customer list: duplicates, negative limits, unknown names."""
    problems = _duplicates(customers, "customer_id", "customer", ignore_case=True)
    for field, label in (
        ("credit_limit_cents", "credit limit"),
        ("open_orders_cents", "open orders"),
    ):
        values = customers[field].to_numpy(dtype=np.float64)
        for i in np.flatnonzero(values < 0):
            amount = to_decimal(int(values[i]))
            problems.append(Problem(_where(customers, i, field), f"{label} {amount:,} is negative"))
    for i, segment in enumerate(customers["segment"]):
        if policy.segment_offset(segment) is None:
            names = ", ".join(s.name for s in policy.segments)
            problems.append(
                Problem(
                    _where(customers, i, "segment"), f'segment "{segment}" is not one of {names}'
                )
            )
    problems += _check_contract_rates(customers)
    for i, stage in enumerate(customers["last_stage"]):
        if stage and policy.stage_index(stage) is None:
            problems.append(
                Problem(
                    _where(customers, i, "last_stage"), f'"{stage}" is not a stage of the ladder'
                )
            )
    return problems


def _check_contract_rates(customers: pd.DataFrame) -> list[Problem]:
    """A contract rate that is no rate, or a percent typed as a number (8 for 8%)."""
    if "contract_rate" not in customers:
        return []
    problems = []
    pers = customers.get("contract_rate_per", pd.Series([None] * len(customers)))
    for i, (value, per) in enumerate(zip(customers["contract_rate"], pers, strict=True)):
        _, per_problem = parse_contract_rate(None, per)
        if per_problem:
            problems.append(Problem(_where(customers, i, "contract_rate_per"), per_problem))
            continue
        _, problem = parse_contract_rate(value, per)
        if problem:
            problems.append(Problem(_where(customers, i, "contract_rate"), problem))
    return problems


def check_ledger(ledger: pd.DataFrame, customers: pd.DataFrame) -> list[Problem]:
    """Return problems in the ledger: duplicates, unknown customers, bad AppliesTo, signs.

    An empty ledger (a workbook fresh from `new`) has none: it ages to nothing."""
    if not len(ledger):
        return []
    problems = _duplicates(ledger, "doc_no", "document number")
    customer_ids = ledger["customer_id"].to_numpy(dtype=object)
    known = _positions(customers["customer_id"], customer_ids) >= 0
    for i in np.flatnonzero(~known & (customer_ids != "")):
        problems.append(
            Problem(
                _where(ledger, i, "customer_id"),
                f"customer {customer_ids[i]} is not in {customers.attrs.get('sheet', 'Customers')}",
            )
        )
    doc_type = ledger["doc_type"].to_numpy(dtype=object)
    amount = ledger["amount_cents"].to_numpy(dtype=np.float64)
    for i in np.flatnonzero(_any_of(doc_type, POSITIVE_TYPES) & (amount < 0)):
        problems.append(
            Problem(
                _where(ledger, i, "amount_cents"),
                f"amount {to_decimal(int(amount[i])):,} of a {doc_type[i]} must be positive "
                "(the document type gives the sign)",
            )
        )
    problems += _check_applies_to(ledger, doc_type, amount)
    problems += _check_currency(ledger, customers)
    return problems


def check_horizon(ledger: pd.DataFrame, as_of: dt.date) -> list[Problem]:
    """Return a problem for each DocDate or DueDate beyond `HORIZON_DAYS` after `as_of`."""
    last = np.datetime64(as_of, "D") + HORIZON_DAYS
    problems = []
    for field, label in (("doc_date", "DocDate"), ("due_date", "DueDate")):
        dates = ledger[field].to_numpy(dtype="datetime64[D]")
        for i in np.flatnonzero(dates > last):
            message = (f"{label} {dates[i]} is more than {HORIZON_YEARS} years after the "
                       f"as-of date {as_of}: a mistyped year?")
            problems.append(Problem(_where(ledger, int(i), field), message))
    return sorted(problems, key=lambda p: (p.source.row or 0, p.source.column or ""))


def _check_applies_to(ledger: pd.DataFrame, doc_type: np.ndarray, amount) -> list[Problem]:
    applies_to = ledger["applies_to"].to_numpy(dtype=object)
    is_credit = _any_of(doc_type, ("CRN", "PAY")) | ((doc_type == "ADJ") & (amount < 0))
    naming = np.flatnonzero(is_credit & (applies_to != ""))
    target = _positions(ledger["doc_no"], applies_to[naming])
    customer = ledger["customer_id"].to_numpy(dtype=object)
    safe = np.maximum(target, 0)
    missing = target < 0
    other = ~missing & (customer[safe] != customer[naming])
    is_debit = (doc_type[safe] == "INV") | ((doc_type[safe] == "ADJ") & (amount[safe] >= 0))
    not_invoice = ~missing & ~other & ~is_debit
    problems = []
    for k in np.flatnonzero(missing | other | not_invoice):
        i, t = naming[k], target[k]
        if missing[k]:
            message = f"applies to {applies_to[i]}, which is not in the ledger"
        elif other[k]:
            message = f"applies to {applies_to[i]} of customer {customer[t]}, not {customer[i]}"
        else:
            message = f"applies to {applies_to[i]}, a {doc_type[t]}, not an invoice"
        problems.append(Problem(_where(ledger, i, "applies_to"), message))
    return problems


def _check_currency(ledger: pd.DataFrame, customers: pd.DataFrame) -> list[Problem]:
    expected_by_customer = dict(
        zip(customers["customer_id"], (str(c).upper() for c in customers["currency"]),
            strict=False)
    )
    # Once per distinct currency and customer, not per row (a ledger has a handful).
    currency = per_distinct(ledger["currency"].fillna(""),
                            lambda c: c.upper() if isinstance(c, str) else c)
    customer = ledger["customer_id"].to_numpy(dtype=object)
    expected = per_distinct(customer, lambda c: expected_by_customer.get(c, ""))
    problems = []
    for i in np.flatnonzero((currency != "") & (expected != "") & (currency != expected)):
        problems.append(
            Problem(
                _where(ledger, i, "currency"),
                f"currency {ledger['currency'].iat[i]} differs from customer {customer[i]}'s "
                f"currency {expected[i]}",
            )
        )
    return problems
