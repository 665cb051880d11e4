"""Excel custom functions (xlwings UDFs): convert the cells, call the vectorised core, format.

Every function takes a single cell or a whole column and returns one value or a
column of the same length (which spills in Excel 365). Scalar arguments are
repeated down the column. A blank gives a blank; a value that cannot be used
gives a short error text in its own cell, never an exception dialog.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from functools import wraps

import numpy as np
import xlwings as xw

from xl_addin.core import aging, credit, escalation, interest, recovery, words
from xl_addin.core.dates import parse_dates
from xl_addin.core.money import decimal_to_cents, parse_amount_text, to_decimal
from xl_addin.core.policy import DEFAULT_POLICY, Policy, bucket_labels

POLICY = DEFAULT_POLICY


class _Bad:
    """An error text for one cell."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


class _Column:
    """Arguments brought to one length: scalars repeat, ranges must agree."""

    def __init__(self, *arguments: object):
        lengths = {len(a) for a in map(_flatten, arguments) if a is not None}
        self.scalar = not lengths
        lengths.discard(1)
        if len(lengths) > 1:
            raise _ShapeError
        self.n = lengths.pop() if lengths else 1

    def values(self, argument: object) -> list[object]:
        flat = _flatten(argument)
        if flat is None:
            return [argument] * self.n
        return flat * self.n if len(flat) == 1 else flat

    def result(self, values: Sequence[object]) -> object:
        cells = [v.text if isinstance(v, _Bad) else v for v in values]
        return cells[0] if self.scalar else [[v] for v in cells]


class _ShapeError(Exception):
    pass


def _flatten(argument: object) -> list[object] | None:
    """A range arrives as a list (a column) or a list of lists; a cell as a scalar."""
    if isinstance(argument, list | tuple):
        return [v for row in argument for v in (row if isinstance(row, list | tuple) else [row])]
    if isinstance(argument, np.ndarray):
        return list(argument.ravel())
    return None


def _udf(function: Callable[..., object]) -> Callable[..., object]:
    """Turn a mismatch of range lengths, or anything unforeseen, into a cell text."""

    @wraps(function)
    def cell_safe(*args: object) -> object:
        try:
            return function(*args)
        except _ShapeError:
            return "#ranges differ in length"
        except Exception as error:  # a UDF must never raise into Excel
            return f"#error: {error}"[:255]

    return cell_safe


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _dates(values: list[object], name: str) -> tuple[np.ndarray, dict[int, _Bad]]:
    dates, errors = parse_dates(values)
    return dates, {i: _Bad(f"#bad {name}") for i, _ in errors}


def _numbers(values: list[object], name: str) -> tuple[np.ndarray, dict[int, _Bad]]:
    """Numbers from cells: numbers, or text such as 1,234.50; NaN for blanks."""
    out = np.full(len(values), np.nan)
    bad: dict[int, _Bad] = {}
    for i, value in enumerate(values):
        if _blank(value):
            continue
        if isinstance(value, bool):
            bad[i] = _Bad(f"#bad {name}")
        elif isinstance(value, int | float | Decimal | np.number):
            out[i] = float(value)
        elif isinstance(value, str) and (parsed := parse_amount_text(value)) is not None:
            out[i] = float(parsed)
        else:
            bad[i] = _Bad(f"#bad {name}")
    return out, bad


def _cents(values: np.ndarray) -> np.ndarray:
    return np.array(
        [0 if np.isnan(v) else decimal_to_cents(Decimal(repr(float(v)))) for v in values],
        dtype=np.int64,
    )


def _money_out(cents: int) -> float:
    return float(to_decimal(cents))


def _assemble(n: int, compute: Callable[[int], object], *bad_maps: dict[int, _Bad]) -> list:
    out = []
    for i in range(n):
        bad = next((m[i] for m in bad_maps if i in m), None)
        out.append(bad if bad is not None else compute(i))
    return out


@xw.func
@xw.arg("due_date", doc="Due date: a date cell, an Excel serial number or ISO text.")
@xw.arg("as_of", doc="The date to count to (blank: today).")
@_udf
def age_days(due_date, as_of=None):
    """Days past due (negative: days until due)."""
    col = _Column(due_date, as_of)
    due, bad_due = _dates(col.values(due_date), "due date")
    until, bad_as_of = _as_of_dates(col.values(as_of))
    days = aging.days_overdue(due, until)
    return col.result(
        _assemble(col.n, lambda i: None if np.isnan(days[i]) else int(days[i]), bad_due, bad_as_of)
    )


@xw.func
@xw.arg("due_date", doc="Due date: a date cell, an Excel serial number or ISO text.")
@xw.arg("as_of", doc="The date to count to (blank: today).")
@xw.arg("bounds", doc="Bucket bounds, e.g. 0,30,60,90 (blank: 0,30,60,90,180,365).")
@_udf
def age_bucket(due_date, as_of=None, bounds=None):
    """Age bucket label of each due date: Current, 1-30, 31-60, ... >365."""
    limits = _bounds(bounds)
    if isinstance(limits, _Bad):
        return limits.text
    col = _Column(due_date, as_of)
    due, bad_due = _dates(col.values(due_date), "due date")
    until, bad_as_of = _as_of_dates(col.values(as_of))
    labels = aging.age_bucket(aging.days_overdue(due, until), limits)
    return col.result(_assemble(col.n, lambda i: labels[i], bad_due, bad_as_of))


@xw.func
@xw.arg("limit", doc="Credit limit.")
@xw.arg("balance", doc="Open balance.")
@xw.arg("open_orders", doc="Orders accepted but not yet invoiced (blank: 0).")
@_udf
def credit_headroom(limit, balance, open_orders=None):
    """Credit left: limit - balance - open orders (negative: over the limit)."""
    col = _Column(limit, balance, open_orders)
    lim, bad_l = _numbers(col.values(limit), "limit")
    bal, bad_b = _numbers(col.values(balance), "balance")
    orders, bad_o = _numbers(col.values(open_orders), "open orders")
    room = credit.credit_headroom(_cents(lim), _cents(bal), _cents(orders))

    def cell(i: int) -> object:
        return None if np.isnan(lim[i]) or np.isnan(bal[i]) else _money_out(room[i])

    return col.result(_assemble(col.n, cell, bad_l, bad_b, bad_o))


@xw.func
@xw.arg("limit", doc="Credit limit.")
@xw.arg("balance", doc="Open balance.")
@xw.arg("open_orders", doc="Orders accepted but not yet invoiced (blank: 0).")
@xw.arg("max_days_overdue", doc="Days overdue of the oldest open item (blank: none).")
@xw.arg("stages", ndim=2, doc="Stages[#All] of the Policy sheet (blank: the default ladder).")
@xw.arg("rules", ndim=2, doc="Rules[#All] of the Policy sheet (blank: the default rules).")
@_udf
def credit_status(limit, balance, open_orders=None, max_days_overdue=None, stages=None,
                  rules=None):  # fmt: skip
    """A customer's credit status: OK, Near limit, Over limit or Hold."""
    policy = _policy(Stages=stages, Rules=rules)
    if isinstance(policy, _Bad):
        return policy.text
    col = _Column(limit, balance, open_orders, max_days_overdue)
    lim, bad_l = _numbers(col.values(limit), "limit")
    bal, bad_b = _numbers(col.values(balance), "balance")
    orders, bad_o = _numbers(col.values(open_orders), "open orders")
    days, bad_d = _numbers(col.values(max_days_overdue), "days")
    stage = escalation.ladder_index(escalation.ladder_days(days, 0, policy), policy)
    hold = stage >= policy.stage_index(policy.rules.hold_from_stage)
    hold &= ~np.isnan(days)
    status = credit.credit_status(
        _cents(lim), _cents(bal), _cents(orders), hold, policy.rules.near_limit_share
    )

    def cell(i: int) -> object:
        return None if np.isnan(lim[i]) or np.isnan(bal[i]) else status[i]

    return col.result(_assemble(col.n, cell, bad_l, bad_b, bad_o, bad_d))


@xw.func
@xw.arg("days_overdue", doc="Days overdue (of the customer's oldest undisputed item).")
@xw.arg("amount", doc="Amount owed (blank: not checked; zero or less: nothing owed).")
@xw.arg("segment", doc="Strategic, Standard or Watch (blank: Standard).")
@xw.arg("disputed", doc="Y if the item is disputed.")
@xw.arg("promise_broken", doc="Kept for older formulas: a promise shapes NextAction, not Stage.")
@xw.arg("last_stage", doc="Kept for older formulas: contacts shape NextAction, not Stage.")
@xw.arg("stages", ndim=2, doc="Stages[#All] of the Policy sheet (blank: the default ladder).")
@xw.arg("segments", ndim=2, doc="Segments[#All] of the Policy sheet (blank: the defaults).")
@_udf
def escalation_stage(days_overdue, amount=None, segment=None, disputed=None,
                     promise_broken=None, last_stage=None, stages=None, segments=None):  # fmt: skip
    """Where the debt stands on the collection ladder (Stage): from days overdue alone."""
    policy = _policy(Stages=stages, Segments=segments)
    if isinstance(policy, _Bad):
        return policy.text
    col = _Column(days_overdue, amount, segment, disputed, promise_broken, last_stage)
    days, bad_days = _numbers(col.values(days_overdue), "days")
    owed, bad_amount = _numbers(col.values(amount), "amount")
    offsets, bad_segment = _lookup(col.values(segment), policy.segment_offset, "segment", 0)
    flags_d, bad_disputed = _flags(col.values(disputed), "disputed")
    codes = escalation.stage_codes(
        days,
        policy,
        amount_cents=np.where(np.isnan(owed), np.nan, owed * 100),
        days_offset=offsets,
        disputed=flags_d,
    )
    names = escalation.stage_names(codes, policy)
    return col.result(
        _assemble(col.n, lambda i: names[i], bad_days, bad_amount, bad_segment, bad_disputed)
    )


@xw.func
@xw.arg("amount", doc="The overdue amount.")
@xw.arg("due_date", doc="Due date.")
@xw.arg("as_of", doc="Interest up to this date (blank: today).")
@xw.arg("annual_rate", doc="Contract rate a year, 8% as Excel holds it (blank: reference + 8%).")
@xw.arg("basis", doc="Days in the year for the day count (blank: 365).")
@_udf
def late_interest(amount, due_date, as_of=None, annual_rate=None, basis=None):
    """Simple late-payment interest, actual days / basis; rates are fractions (8% is 0.08)."""
    col = _Column(amount, due_date, as_of, annual_rate, basis)
    owed, bad_amount = _numbers(col.values(amount), "amount")
    due, bad_due = _dates(col.values(due_date), "due date")
    until, bad_as_of = _as_of_dates(col.values(as_of))
    rates, bad_rate = _numbers(col.values(annual_rate), "rate")
    bad_rate |= _percent_typed_as_number(rates)
    bad_rate |= _before_reference_rates(due, rates)
    bases, bad_basis = _numbers(col.values(basis), "basis")
    out: list[object] = [None] * col.n
    for value in np.unique(np.nan_to_num(bases, nan=POLICY.rules.interest_basis_days)):
        rows = np.flatnonzero(np.nan_to_num(bases, nan=POLICY.rules.interest_basis_days) == value)
        if value <= 0 or not float(value).is_integer():
            for i in rows:
                bad_basis[int(i)] = _Bad("#bad basis")
            continue
        policy = _with_basis(int(value))
        cents, invalid = interest.late_interest(
            _cents(owed[rows]), due[rows], until[rows], rates[rows], policy
        )
        for k, i in enumerate(rows):
            if not (invalid[k] or np.isnan(owed[i])):
                out[i] = _money_out(cents[k])
    return col.result(
        _assemble(col.n, lambda i: out[i], bad_amount, bad_due, bad_as_of, bad_rate, bad_basis)
    )


def _percent_typed_as_number(rates: np.ndarray) -> dict[int, _Bad]:
    """A rate above 1 is a percent typed as a number: 8 meant 8%, which Excel stores as 0.08."""
    bad = {}
    for i in np.flatnonzero(np.isfinite(rates) & (rates > 1)):
        shown = f"{Decimal(repr(float(rates[i]))).normalize():f}"
        bad[int(i)] = _Bad(f"#rate: use {shown}% not {shown}")
    return bad


def _before_reference_rates(due: np.ndarray, rates: np.ndarray) -> dict[int, _Bad]:
    """Statutory rows whose half-year is before the policy's first reference rate."""
    missing = interest.no_reference_rate(due, rates, POLICY)
    if not missing.any():
        return {}
    first = interest.first_reference_date(POLICY).isoformat()
    return {int(i): _Bad(f"#no reference rate before {first}") for i in np.flatnonzero(missing)}


@xw.func
@xw.arg("days_overdue", doc="Days overdue.")
@xw.arg("recovery_table", ndim=2,
        doc="Recovery[#All] of the Policy sheet (blank: the default curve).")
@_udf
def expected_recovery(days_overdue, recovery_table=None):
    """Probability of collecting a debt this many days overdue (the policy's recovery curve)."""
    policy = _policy(Recovery=recovery_table)
    if isinstance(policy, _Bad):
        return policy.text
    col = _Column(days_overdue)
    days, bad = _numbers(col.values(days_overdue), "days")
    chance = recovery.expected_recovery(days, policy)
    return col.result(
        _assemble(col.n, lambda i: None if np.isnan(chance[i]) else float(chance[i]), bad)
    )


@xw.func
@xw.arg("amount", doc="The open amount of the item.")
@xw.arg("doc_date", doc="The document date: the age (账龄) counts from it.")
@xw.arg("as_of", doc="The date the age counts to (blank: today).")
@xw.arg("provision_table", ndim=2,
        doc="Provision[#All] of the Policy sheet (blank: within 1 year 5%, 1-2 years 10% ...).")
@_udf
def provision(amount, doc_date, as_of=None, provision_table=None):
    """Bad-debt provision by age (账龄分析法): the amount x the rate of its age band."""
    policy = _policy(Provision=provision_table)
    if isinstance(policy, _Bad):
        return policy.text
    col = _Column(amount, doc_date, as_of)
    owed, bad_amount = _numbers(col.values(amount), "amount")
    dates, bad_date = _dates(col.values(doc_date), "document date")
    until, bad_as_of = _as_of_dates(col.values(as_of))
    age = aging.days_overdue(dates, until)
    cents = recovery.provision_cents(_cents(owed), age, policy)

    def cell(i: int) -> object:
        return None if np.isnan(owed[i]) or np.isnan(age[i]) else _money_out(cents[i])

    return col.result(_assemble(col.n, cell, bad_amount, bad_date, bad_as_of))


@xw.func
@xw.arg("amount", doc="The amount to write in words.")
@xw.arg("lang", doc="zh for 大写金额, en for English words (blank: en).")
@xw.arg("currency", doc="Currency code, e.g. CNY (人民币), GBP, USD (blank: none).")
@_udf
def amount_in_words(amount, lang=None, currency=None):
    """The amount in words: 壹万陆仟肆佰零玖元零贰分, or English."""
    col = _Column(amount, lang, currency)
    owed, bad = _numbers(col.values(amount), "amount")
    langs, currencies = col.values(lang), col.values(currency)

    def cell(i: int) -> object:
        if np.isnan(owed[i]):
            return None
        language = str(langs[i] or "en").strip().lower()
        if language not in ("en", "zh"):
            return "#lang must be en or zh"
        code = str(currencies[i]).strip().upper() if not _blank(currencies[i]) else None
        return words.amount_in_words(Decimal(repr(float(owed[i]))), language, code)

    return col.result(_assemble(col.n, cell, bad))


_POLICIES: dict[tuple, Policy | _Bad] = {}  # a column of cells passes the same tables


def _policy(**tables: object) -> Policy | _Bad:
    """The policy the given Policy tables (a range each, header row first) make, the
    default for the tables not given; a table that does not read gives its problem."""
    given = {name: _rows(v) for name, v in tables.items() if v is not None and not _blank(v)}
    if not given:
        return POLICY
    key = tuple((name, tuple(map(tuple, rows))) for name, rows in sorted(given.items()))
    if key not in _POLICIES:
        from xl_addin.services.live import raw_table
        from xl_addin.workbook.reader import read_policy

        policy, problems = read_policy({n: raw_table(n, rows) for n, rows in given.items()})
        if len(_POLICIES) > 32:  # a workbook has one policy: the cache only saves re-reading it
            _POLICIES.clear()
        _POLICIES[key] = _Bad(f"#{problems[0]}"[:255]) if problems else policy
    return _POLICIES[key]


def _as_of_dates(values: list[object]) -> tuple[np.ndarray, dict[int, _Bad]]:
    filled = [dt.date.today() if _blank(v) else v for v in values]
    return _dates(filled, "as-of date")


def _bounds(bounds: object) -> tuple[int, ...] | _Bad:
    if _blank(bounds):
        return POLICY.bounds
    items = _flatten(bounds)
    if items is None:
        items = str(bounds).replace("，", ",").split(",") if isinstance(bounds, str) else [bounds]
    try:
        numbers = [float(str(v).strip()) for v in items if not _blank(v)]
        limits = tuple(int(v) for v in numbers)
    except ValueError:
        return _Bad("#bad bounds")
    if (
        not limits
        or list(limits) != sorted(set(limits))
        or any(not float(v).is_integer() for v in numbers)
    ):
        return _Bad("#bounds must rise")
    bucket_labels(limits)
    return limits


def _lookup(values, find, name: str, blank_value: int):
    out = np.full(len(values), blank_value, dtype=np.int64)
    bad: dict[int, _Bad] = {}
    for i, value in enumerate(values):
        if _blank(value):
            continue
        found = find(value)
        if found is None:
            bad[i] = _Bad(f"#unknown {name}")
        else:
            out[i] = found
    return out, bad


def _flags(values, name: str):
    out = np.zeros(len(values), dtype=bool)
    bad: dict[int, _Bad] = {}
    for i, value in enumerate(values):
        if _blank(value) or value is False or value == 0:
            continue
        text = str(value).strip().casefold()
        if value is True or value == 1 or text in ("y", "yes", "true", "是"):
            out[i] = True
        elif text not in ("n", "no", "false", "否"):
            bad[i] = _Bad(f"#bad {name}")
    return out, bad


def _with_basis(days: int) -> Policy:
    if days == POLICY.rules.interest_basis_days:
        return POLICY
    return replace(POLICY, rules=replace(POLICY.rules, interest_basis_days=days))


# --- the computed columns, one call per block ------------------------------------------------

_TABLE_DOCS = {
    "settings": "Settings[#All]: AsOfDate (blank: today), Language, BaseCurrency ...",
    "contacts": "Contacts[#All]: letters sent, calls, promises and disputes.",
    "buckets": "Buckets[#All] of the Policy sheet (blank: the default buckets).",
    "stages": "Stages[#All] of the Policy sheet (blank: the default ladder).",
    "segments": "Segments[#All] of the Policy sheet (blank: the default offsets).",
    "rules": "Rules[#All] of the Policy sheet (blank: the default rules).",
}
_LEDGER_DOC = "The Ledger's input columns with their header: Ledger[[#All],[CustomerID]:[Notes]]."
_CUSTOMERS_DOC = ("The Customers' input columns with their header: "
                  "Customers[[#All],[CustomerID]:[TaxID]].")  # fmt: skip
_last: tuple[tuple, object] | None = None  # the last block computed, for its twin's call


def _computed(ledger, customers, settings, contacts, policy: dict[str, object]):
    """Both blocks, computed once for the two functions that show them (Excel calls one
    after the other with the same tables)."""
    from xl_addin.services.live import computed_blocks

    global _last
    key = (ledger, customers, settings, contacts, policy)
    if _last is not None and _last[0] == key:
        return _last[1]
    tables = {"Ledger": ledger, "Customers": customers, "Settings": settings,
              "Contacts": contacts}  # fmt: skip
    blocks = computed_blocks(
        {k: _rows(v) for k, v in tables.items() if v is not None},
        {k: _rows(v) for k, v in policy.items() if v is not None},
    )
    _last = (key, blocks)
    return blocks


def _rows(values) -> list[list[object]]:
    if not isinstance(values, list | tuple):
        return [[values]]
    return [list(r) if isinstance(r, list | tuple) else [r] for r in values]


def _block_arguments(first: str, second: str):
    """xlwings' conversion (whole ranges, 2-D) and help of a block function's arguments:
    its own table, the other one, then Settings, Contacts and the Policy tables."""
    docs = {"ledger": _LEDGER_DOC, "customers": _CUSTOMERS_DOC, **_TABLE_DOCS}

    def decorate(function):
        for name in reversed((first, second, *_TABLE_DOCS)):  # as if stacked top to bottom
            function = xw.arg(name, ndim=2, doc=docs[name])(function)
        return function

    return decorate


def _shown(block: list[list[object]], problems) -> list[list[object]]:
    """The block as Excel shows it: every row the first problem's text when there is one."""
    if problems:
        text = f"#{problems[0]}"[:255]
        block = [[text] * len(row) for row in block]
    return block or [[None]]


@xw.func
@_block_arguments("ledger", "customers")
@_udf
def ledger_columns(ledger, customers, settings=None, contacts=None, buckets=None, stages=None,
                   segments=None, rules=None):  # fmt: skip
    """OpenAmount, DaysOverdue, Bucket and Stage of every Ledger row: one call."""
    policy = {"Buckets": buckets, "Stages": stages, "Segments": segments, "Rules": rules}
    blocks = _computed(ledger, customers, settings, contacts, policy)
    return _shown(blocks.ledger, blocks.problems)


@xw.func
@_block_arguments("customers", "ledger")
@_udf
def customer_columns(customers, ledger, settings=None, contacts=None, buckets=None, stages=None,
                     segments=None, rules=None):  # fmt: skip
    """Balance ... Stage, NextAction and its reason of every Customers row: one call."""
    policy = {"Buckets": buckets, "Stages": stages, "Segments": segments, "Rules": rules}
    blocks = _computed(ledger, customers, settings, contacts, policy)
    return _shown(blocks.customers, blocks.problems)


@xw.func
@xw.arg("doc_no", doc="The invoice's DocNo (a cell, or a column of them: the dates spill).")
@_block_arguments("ledger", "customers")
@_udf
def expected_pay_date(doc_no, ledger, customers, settings=None, contacts=None, buckets=None,
                      stages=None, segments=None, rules=None):  # fmt: skip
    """When an open invoice is expected to be paid: its customer's habit, cycle or promise."""
    from xl_addin.services.live import LEDGER_BLOCK
    from xl_addin.workbook.schema import LEDGER, fold

    policy = {"Buckets": buckets, "Stages": stages, "Segments": segments, "Rules": rules}
    blocks = _computed(ledger, customers, settings, contacts, policy)
    if blocks.problems:
        return f"#{blocks.problems[0]}"[:255]
    rows = _rows(ledger)
    doc_no_column = next(c for c in LEDGER.columns if c.field == "doc_no")
    headers = {fold(h) for h in (doc_no_column.header, *doc_no_column.aliases)}
    where = next((k for k, h in enumerate(rows[0]) if fold(h) in headers), None)
    if where is None:
        return "#the Ledger range has no DocNo column"
    position = {_doc_key(r[where]): k for k, r in enumerate(rows[1:]) if not _blank(r[where])}
    col = _Column(doc_no)
    at = LEDGER_BLOCK.index("ExpectedPayDate")

    def cell(wanted: object) -> object:
        if _blank(wanted):
            return None
        k = position.get(_doc_key(wanted))
        return _Bad("#unknown document") if k is None else blocks.ledger[k][at]

    # The column flattened once: per cell it would cost the whole column again (O(n²)).
    return col.result([cell(wanted) for wanted in col.values(doc_no)])


def _doc_key(value: object) -> str:
    """A document number as text (a number typed in a cell, 1001.0, is 1001)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
