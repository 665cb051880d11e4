"""The refresh use case: compute the workbook's columns and Aging sheet, and write them safely.

One engine for every route: `credit-control refresh` (a file, written safely with a
backup), the Refresh button (the book open in Excel, written back through xlwings) and
the xlwings Lite script (the book open in Lite) all run `compute` and write what
`updates` gives. NextAction needs what was issued: a saved workbook's journal is read
(never created); in xlwings Lite, which reaches no local files, NextAction comes from
the workbook's Contacts table and the Customers' LastStage/LastContactDate only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from xl_addin.core import forecast
from xl_addin.core.contacts import promise_states
from xl_addin.core.escalation import stage_keys
from xl_addin.core.labels import date_text, translator
from xl_addin.core.ledger import AgingResult, per_distinct
from xl_addin.core.money import to_decimal
from xl_addin.core.problems import Problem
from xl_addin.core.validate import check_horizon
from xl_addin.errors import CreditControlError
from xl_addin.services.book import (
    LoadedBook,
    Workbook,
    as_of_update,
    load_book,
    resolve_as_of,
    saved_path,
)
from xl_addin.services.contacts import (
    EMPTY_JOURNAL,
    NO_JOURNAL,
    CollectionState,
    collection_state,
)
from xl_addin.services.problems import problems_sheet
from xl_addin.workbook.open_book import OpenBook
from xl_addin.workbook.schema import CUSTOMERS, LEDGER
from xl_addin.workbook.updates import ColumnUpdate, SheetTable

MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"
Step = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What a refresh computed (and wrote, unless it was a dry run)."""

    loaded: LoadedBook
    state: CollectionState
    backup: Path | None = None
    expected: np.ndarray | None = None  # expected_pay_dates, once worked out for the writing

    @property
    def aging(self) -> AgingResult:
        return self.state.aging

    @property
    def as_of(self) -> dt.date:
        return self.aging.as_of


def compute(
    source: Workbook,
    as_of: dt.date | None = None,
    ledger_csv: Path | None = None,
    age_from: str = "due",
    step: Step = lambda _: None,
) -> RefreshResult | tuple[Problem, ...]:
    """Read, check and age a workbook (a file or an open book); return the result or the
    problems that stop it."""
    step("Reading the workbook")
    loaded = load_book(source, ledger_csv)
    if not isinstance(loaded, LoadedBook):
        return loaded
    step("Ageing the ledger")
    when = resolve_as_of(loaded.book, as_of)
    beyond = check_horizon(loaded.ledger, when)
    if beyond:
        return tuple(beyond)
    path = saved_path(source)
    if path is None:  # xlwings Lite, or a book never saved: no journal to read
        return RefreshResult(loaded, collection_state(loaded, NO_JOURNAL, when, age_from=age_from))
    from xl_addin.journal.location import IN_MEMORY, journal_url  # not in xlwings Lite

    # Read-only: NextAction needs what was issued; a refresh never creates a journal.
    url = journal_url(path, loaded.book.settings.journal, dry_run=True)
    if url == IN_MEMORY:  # no journal made yet: nothing issued, no database to open
        return RefreshResult(loaded, collection_state(loaded, EMPTY_JOURNAL, when,
                                                      age_from=age_from))  # fmt: skip
    from xl_addin.journal.store import Journal  # SQLAlchemy: only for a journal to read

    with Journal.open(url) as journal:
        state = collection_state(loaded, journal, when, age_from=age_from)
    return RefreshResult(loaded, state)


Writer = Callable[[Sequence[ColumnUpdate], Sequence[SheetTable]], "Path | None"]


def default_writer(source: Workbook) -> Writer:
    """Write into the file safely (with a backup), or into the open book through xlwings."""
    if isinstance(source, OpenBook):
        from xl_addin.workbook.access import XlwingsWriter

        return XlwingsWriter(source.book)
    from xl_addin.workbook.writer import write_refresh  # not in xlwings Lite

    return lambda columns, sheets: write_refresh(Path(source), columns, sheets)


def refresh(
    source: Workbook,
    as_of: dt.date | None = None,
    ledger_csv: Path | None = None,
    age_from: str = "due",
    step: Step = lambda _: None,
    writer: Writer | None = None,
) -> RefreshResult | tuple[Problem, ...]:
    """Compute and write the computed columns and the Aging sheet into the workbook.

    Nothing is written when problems stop the run. `writer` puts the results into the
    workbook: by default the file at `source` (safely, with a backup) or the open book.
    A file is held for the run (services.run_lock), as letters and statements hold it: two
    runs never write it at once.
    """
    if writer is None and not isinstance(source, OpenBook) and Path(source).is_file():
        from xl_addin.services.run_lock import workbook_lock  # files only: not in Lite
        from xl_addin.workbook.safe_save import refuse_unwritable

        with workbook_lock(Path(source), "refresh"):
            refuse_unwritable(Path(source))  # before the run, not after it
            return _refresh(source, as_of, ledger_csv, age_from, step, writer)
    return _refresh(source, as_of, ledger_csv, age_from, step, writer)


def _refresh(source, as_of, ledger_csv, age_from, step, writer):
    result = compute(source, as_of, ledger_csv, age_from, step)
    if not isinstance(result, RefreshResult):
        return result
    step("Writing the workbook")
    loaded, state = result.loaded, result.state
    habit = forecast.learn(loaded.ledger, loaded.customers, state.aging.as_of,
                           state.aging.items["due_date"].to_numpy(dtype="datetime64[D]"))
    expected = expected_pay_dates(loaded, state, habit)  # the Ledger's, and the JSON's
    updates = [customer_update(loaded, state, habit.cycle),
               *as_of_update(loaded.book, state.aging.as_of)]
    if ledger_csv is None:
        updates.append(ledger_update(result.loaded, result.state, expected))
    write = writer or default_writer(source)
    backup = write(updates, [aging_sheet(result)])
    return RefreshResult(result.loaded, result.state, backup, expected)


def button_run(source: OpenBook, writer: Writer) -> str:
    """The Refresh button, desktop or xlwings Lite: refresh the open book, or, when problems
    stop it, list them in the Problems sheet and write nothing else; return the status line."""
    try:
        result = refresh(source, writer=writer)
    except CreditControlError as error:
        return f"Refresh failed: {error}"
    if not isinstance(result, RefreshResult):
        writer([], [problems_sheet(tuple(result))])
        return f"Refresh stopped: {len(result)} problem(s), see the Problems sheet."
    customers = len(result.aging.customers)
    return f"Refreshed as of {result.as_of:%Y-%m-%d}: {customers} customers."


# --- what goes into the workbook -------------------------------------------------------


def _money(cents: np.ndarray) -> list[Decimal]:
    return [to_decimal(c) for c in np.asarray(cents).tolist()]  # Python ints: no numpy scalars


def _whole(values: np.ndarray) -> list[int | None]:
    return [None if v != v else int(v) for v in np.asarray(values, dtype=np.float64).tolist()]


def customer_update(
    loaded: LoadedBook, state: CollectionState, cycle: forecast.Cycle | None = None
) -> ColumnUpdate:
    """The Customers' computed columns, Stage and NextAction with its reason included
    (`cycle`: the settlement cycles, when forecast.learn has learnt them already)."""
    table = loaded.book.customers
    summary = state.aging.customers
    plan = state.plan
    language = loaded.book.settings.language
    words = translator(loaded.book.policy, language)  # 催款函, 超出额度 in a Chinese book
    reason = plan["reason_zh" if language == "zh" else "reason"]
    timing = forecast.payment_timing(loaded.ledger, summary["customer_id"], state.aging.as_of,
                                     due=state.aging.items["due_date"], cycle=cycle)  # fmt: skip
    values = {
        "Balance": _money(summary["balance_cents"]),
        "Overdue": _money(summary["overdue_cents"]),
        "MaxDaysOverdue": _whole(summary["max_days_overdue"].to_numpy()),
        "Headroom": _money(summary["headroom_cents"]),
        "CreditStatus": [words(v) for v in summary["credit_status"]],
        "Stage": [words(v) for v in summary["stage"]],
        "NextAction": [words(n) if isinstance(n, str) else "" for n in plan["next_action"]],
        "NextActionReason": list(reason),
        "PaymentHabit": forecast.timing_text(timing, language),
    }
    return _update(table, CUSTOMERS, values, loaded.customers["row"])


def ledger_update(
    loaded: LoadedBook, state: CollectionState, expected: np.ndarray | None = None
) -> ColumnUpdate:
    """The Ledger's computed columns (`expected`: expected_pay_dates, when already known)."""
    table = loaded.book.ledger
    items = state.aging.items
    scope = items["in_scope"].to_numpy()
    open_cents = items["open_cents"].to_numpy()
    words = translator(loaded.book.policy, loaded.book.settings.language)
    if expected is None:
        expected = expected_pay_dates(loaded, state)
    settled = to_decimal(0)  # most rows of a ledger: one Decimal for them all
    values = {
        "OpenAmount": [
            (to_decimal(c) if c else settled) if s else None
            for c, s in zip(open_cents.tolist(), scope.tolist(), strict=True)
        ],
        "DaysOverdue": _whole(items["days_overdue"].to_numpy()),
        "Bucket": per_distinct(items["bucket"], words).tolist(),
        "Stage": per_distinct(items["stage"], words).tolist(),
        "ExpectedPayDate": np.asarray(expected, dtype="datetime64[D]").tolist(),  # NaT: None
    }
    return _update(table, LEDGER, values, loaded.ledger["row"])


def open_rows(state: CollectionState) -> np.ndarray:
    """The ledger positions of the open items (in scope, something still owed)."""
    items = state.aging.items
    return np.flatnonzero(items["in_scope"].to_numpy() & (items["open_cents"].to_numpy() > 0))


def expected_pay_dates(
    loaded: LoadedBook, state: CollectionState, habit: forecast.Habit | None = None
) -> np.ndarray:
    """Every ledger row's expected payment date (NaT: not an open item, or not expected
    within any forecast): its customer's habit or settlement cycle, moved by the
    customer's pending promise (core.forecast.open_item_dates). The Ledger's
    ExpectedPayDate, EXPECTED_PAY_DATE, the JSON items and the Forecast sheet all read it.
    `habit`: forecast.learn's, when learnt already."""
    as_of = state.aging.as_of
    promises = promise_states(state.contacts, state.ledger, np.datetime64(as_of, "D"))
    pending = promises[promises["state"] == "pending"]
    promised = {c: pd.Timestamp(d).date() for c, d in
                zip(pending["customer_id"], pending["promise_date"], strict=True)}  # fmt: skip
    return forecast.open_item_dates(loaded.ledger, loaded.customers,
                                    state.aging.items["due_date"].to_numpy(dtype="datetime64[D]"),
                                    open_rows(state), as_of, promised, habit)  # fmt: skip


def _update(table, spec, values, rows) -> ColumnUpdate:
    formats = {c.header: MONEY_FORMAT for c in spec.computed if c.kind == "money"}
    formats |= {c.header: "0" for c in spec.computed if c.kind == "int"}
    formats |= {c.header: "yyyy-mm-dd" for c in spec.computed if c.kind == "date"}
    return ColumnUpdate(
        sheet=table.raw.sheet,
        header_row=table.raw.header_row,
        first_column=table.raw.first_column,
        table=table.raw.table,
        rows=[int(r) for r in rows],
        values=values,
        number_formats=formats,
        aliases={c.header: c.aliases for c in spec.computed},
        computed=True,
    )


AGING_HEADERS = {
    "en": ("Customer", "Name", "Currency", "Unapplied", "Balance", "Overdue", "Overdue %",
           "Max days overdue", "Credit status", "Stage", "Total", "Share of total"),
    "zh": ("客户编号", "客户名称", "币种", "未核销", "余额", "逾期金额", "逾期占比",
           "最长逾期天数", "信用状态", "催收阶段", "合计", "占比"),
}  # fmt: skip


def aging_frame(result: RefreshResult) -> pd.DataFrame:
    """Return the aging by customer: one row per customer with anything open, amounts in cents."""
    summary = result.aging.customers
    customers = result.loaded.customers
    frame = pd.DataFrame(
        {
            "customer_id": summary["customer_id"],
            "name": customers["name"],
            "currency": customers["currency"],
            **{label: summary[f"bucket:{label}"] for label in result.aging.labels},
            "unapplied": summary["unapplied_cents"],
            "balance": summary["balance_cents"],
            "overdue": summary["overdue_cents"],
            "max_days_overdue": summary["max_days_overdue"],
            "credit_status": summary["credit_status"],
            "stage": summary["stage"],
        }
    )
    active = (frame[list(result.aging.labels)].to_numpy() != 0).any(axis=1) | (
        frame["unapplied"].to_numpy() != 0
    )
    return frame[active].reset_index(drop=True)


def aging_sheet(result: RefreshResult) -> SheetTable:
    """Build the Aging sheet: per customer by bucket, totals and shares per currency."""
    language = result.loaded.book.settings.language
    words = translator(result.loaded.book.policy, language)
    h = AGING_HEADERS[language]
    labels = list(result.aging.labels)
    shown = [words(label) for label in labels]  # 未到期, 1-30天 ... in a Chinese book
    frame = aging_frame(result)
    header = [h[0], h[1], h[2], *shown, h[3], h[4], h[5], h[6], h[7], h[8], h[9]]
    money = {name: _money(frame[name].to_numpy()) for name in (*labels, "unapplied", "balance")}
    money["overdue"] = _money(frame["overdue"].to_numpy())
    shares = [_share(o, b) for o, b in zip(frame["overdue"], frame["balance"], strict=True)]
    columns = [
        list(frame["customer_id"]), list(frame["name"]), list(frame["currency"]),
        *(money[label] for label in labels),
        money["unapplied"], money["balance"], money["overdue"], shares,
        _whole(frame["max_days_overdue"].to_numpy()),
        [words(v) for v in frame["credit_status"]], [words(v) for v in frame["stage"]],
    ]  # fmt: skip
    rows = [list(row) for row in zip(*columns, strict=True)]
    totals = []
    for currency, group in frame.groupby("currency", sort=True):
        sums = [int(group[label].sum()) for label in labels]
        balance = int(group["balance"].sum())
        overdue = int(group["overdue"].sum())
        unapplied = int(group["unapplied"].sum())
        totals.append(
            [f"{h[10]} {currency}", "", currency, *map(to_decimal, sums),
             to_decimal(unapplied), to_decimal(balance), to_decimal(overdue),
             _share(overdue, balance), None, None, None]
        )  # fmt: skip
        totals.append(
            [f"{h[11]} {currency}", "", currency, *(_share(s, balance) for s in sums),
             _share(unapplied, balance), _share(balance, balance), _share(overdue, balance),
             None, None, None, None]
        )  # fmt: skip
    formats = {name: MONEY_FORMAT for name in (*shown, h[3], h[4], h[5])}
    formats[h[6]] = "0.0%"
    day = date_text(result.as_of, language)
    title = f"账龄分析表 截至 {day}" if language == "zh" else f"Aged receivables as of {day}"
    return SheetTable(
        sheet="Aging",
        title=title,
        header=header,
        rows=rows,
        totals=totals,
        number_formats=formats,
        chart=True,
        chart_columns=shown,
    )


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    """Aging totals of one currency, in cents."""

    currency: str
    customers: int
    buckets: dict[str, int]
    unapplied: int
    balance: int
    overdue: int
    stages: dict[str, int]


def totals_by_currency(result: RefreshResult) -> list[CurrencyTotals]:
    """Return the aging totals per currency, with the number of customers at each stage."""
    frame = aging_frame(result)
    totals = []
    for currency, group in frame.groupby("currency", sort=True):
        totals.append(
            CurrencyTotals(
                currency=str(currency),
                customers=len(group),
                buckets={label: int(group[label].sum()) for label in result.aging.labels},
                unapplied=int(group["unapplied"].sum()),
                balance=int(group["balance"].sum()),
                overdue=int(group["overdue"].sum()),
                stages={str(k): int(v) for k, v in group["stage"].value_counts().items()},
            )
        )
    return totals


def as_json(result: RefreshResult) -> dict[str, object]:
    """Return the refresh result in the `--format json` contract shape of DESIGN.md."""
    summary, plan = result.aging.customers, result.state.plan
    labels = result.aging.labels
    # Column by column (the frame has a column per bucket and many the JSON does not
    # show): far cheaper than a dict per row of the whole frame.
    money = {name: _numbers(summary[name].to_numpy()) for name in
             ("balance_cents", "unapplied_cents", "overdue_cents", "headroom_cents")}  # fmt: skip
    buckets = _numbers(summary[[f"bucket:{label}" for label in labels]].to_numpy())
    columns = zip(
        summary["customer_id"].tolist(), money["balance_cents"], buckets,
        money["unapplied_cents"], money["overdue_cents"], summary["max_days_overdue"].tolist(),
        money["headroom_cents"], summary["credit_status"].tolist(), summary["stage"].tolist(),
        plan["stage_key"].tolist(), plan["next_action"].tolist(), plan["next_key"].tolist(),
        plan["reason"].tolist(), strict=True,
    )  # fmt: skip
    customers = [
        {
            "CustomerID": customer_id,
            "Balance": balance,
            "Buckets": dict(zip(labels, in_buckets, strict=True)),
            "Unapplied": unapplied,
            "Overdue": overdue,
            "MaxDaysOverdue": None if math.isnan(max_days) else int(max_days),
            "Headroom": headroom,
            "CreditStatus": status,
            "Stage": _text(stage),
            "StageKey": _text(stage_key),
            "NextAction": _text(next_action),
            "NextActionKey": _text(next_key),
            "NextActionReason": reason,
        }
        for (customer_id, balance, in_buckets, unapplied, overdue, max_days, headroom, status,
             stage, stage_key, next_action, next_key, reason) in columns
    ]  # fmt: skip
    items_frame = result.aging.items
    ledger = result.loaded.ledger
    open_rows = np.flatnonzero(
        items_frame["in_scope"].to_numpy() & (items_frame["open_cents"].to_numpy() != 0)
    )
    days = items_frame["days_overdue"].to_numpy()
    item_keys = stage_keys(items_frame["stage_code"].to_numpy(dtype=np.int64),
                           result.loaded.book.policy)  # fmt: skip
    customer_ids = ledger["customer_id"].to_numpy(dtype=object)[open_rows]
    doc_nos = ledger["doc_no"].to_numpy(dtype=object)[open_rows]
    open_cents = items_frame["open_cents"].to_numpy()[open_rows]
    buckets = items_frame["bucket"].to_numpy(dtype=object)[open_rows]
    stages = items_frame["stage"].to_numpy(dtype=object)[open_rows]
    every_row = result.expected
    if every_row is None:  # a dry run: nothing written, so nothing worked out yet
        every_row = expected_pay_dates(result.loaded, result.state)
    expected = every_row[open_rows]
    columns = zip(customer_ids, doc_nos, open_cents.tolist(), days[open_rows].tolist(),
                  buckets, stages, np.asarray(item_keys, dtype=object)[open_rows],
                  expected)  # fmt: skip
    items = [
        {
            "CustomerID": customer_id,
            "DocNo": doc_no,
            "OpenAmount": _number(cents),
            "DaysOverdue": None if math.isnan(day) else int(day),
            "Bucket": _text(bucket),
            "Stage": _text(stage),
            "StageKey": _text(key),
            "ExpectedPayDate": None if np.isnat(when) else str(when),
        }
        for customer_id, doc_no, cents, day, bucket, stage, key, when in columns
    ]
    return {
        "as_of": result.as_of.isoformat(),
        "customers": customers,
        "items": items,
        "problems": [],
    }


def _text(value: object) -> str | None:
    """A label for JSON: text, or null (never NaN) where there is none."""
    return value if isinstance(value, str) else None


def _numbers(cents: np.ndarray) -> list:
    """`_number` of every whole number of cents in an array (of any shape), as lists."""
    cents = np.asarray(cents, dtype=np.int64)
    if ((cents >= 2**53) | (cents <= -(2**53))).any():
        return np.vectorize(_number, otypes=[object])(cents).tolist()
    return (cents / 100).tolist()


def _number(cents: int) -> float:
    """A JSON number with the exact two-decimal digits (floats print shortest round-trip).

    Below 2**53 both cents and 100 are exact doubles and IEEE division rounds correctly,
    so `cents / 100` is the double nearest the decimal amount, as `float(Decimal)` is.
    """
    cents = int(cents)
    if abs(cents) < 2**53:
        return cents / 100
    return float(to_decimal(cents))
