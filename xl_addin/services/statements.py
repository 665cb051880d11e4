"""The month's statements of account (`credit-control statements` and the Statements button).

One statement per customer with a balance or activity in the period (or all,
with include_zero): opening balance, the period's documents with debit, credit
and running balance, closing balance in figures and words, the aging of the
closing balance, the items overdue or disputed at the period end, payment details
and the reply slip. Issued, recorded and written back through services.issuing,
like the letters; the journal's key is the period, so re-running a month issues
nothing new without --force. Every run (not a dry run) also records the period's month-end
aging in the journal (services/month_end.py), replacing what was recorded for it before.

What the statement asks for follows the balance: a debit balance asks for the
overdue amount without the disputed items (a statement whose overdue items are all
disputed asks for nothing); a credit balance is stated as what we owe the customer
(the amount in words without 负); a nil balance says so. The statement is dated the
day it is issued (the run's as-of date, never before the period end) and the reply-by
date counts from that day, so a statement sent late in the month is not due back
in the past.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xl_addin.core.labels import DOC_TYPE_NAMES, bucket_text
from xl_addin.core.problems import Problem, Source
from xl_addin.core.snapshots import last_month_end
from xl_addin.core.statements import Period, Statements, build_statements
from xl_addin.documents.fields import (
    branch_fields,
    customer_fields,
    date_text,
    language_of,
    money_fields,
    unbroken,
    words,
)
from xl_addin.documents.files import document_stem
from xl_addin.journal.store import Journal, journal_url
from xl_addin.packs.lookup import Pack
from xl_addin.services.book import (
    LedgerSource,
    LoadedBook,
    load_book,
    output_folder,
    period_source,
    resolve_as_of,
    resolve_period,
)
from xl_addin.services.history_sheet import KIND_NAMES
from xl_addin.services.issuing import (
    IssueResult,
    PlannedDocument,
    Progress,
    check_history_first,
    holds_workbook,
    issue_run,
    money,
    ready_to_issue,
    skipped_customers,
    summary_file,
    unknown_customers,
    write_back,
)
from xl_addin.services.month_end import STATEMENTS, record_aging
from xl_addin.services.render_limits import render_limits

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip
SUBJECTS = {"en": "Statement of account {period}: {name} ({reference})",
            "zh": "{period}对账单：{name}（{reference}）"}  # fmt: skip
BODIES = {
    "en": "Dear {contact},\n\nPlease find attached your statement of account for {period}. "
          "Kindly confirm the balance on the reply slip, or tell us of any difference.\n\n"
          "Kind regards,\n{branch}",
    "zh": "{contact}您好：\n\n附件为贵公司{period}的对账单，请核对后在回执上确认余额，"
          "如有差异请告知。\n\n此致\n敬礼！\n\n{branch}",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class StatementsResult:
    period: Period
    plan: pd.DataFrame  # customer_id, opening/closing cents, documents, action, reason
    issued: IssueResult | None
    backup: Path | None = None


@holds_workbook("statements")
def run_statements(
    path: Path,
    *,
    period: str | None = None,
    as_of: dt.date | None = None,
    out: Path | None = None,
    pdf: bool = False,
    email: bool = False,
    dry_run: bool = False,
    force: bool = False,
    only: Sequence[str] = (),
    include_zero: bool = False,
    progress: Progress = lambda *_: None,
    writer=None,
    ledger: LedgerSource | None = None,
    render_seconds: float | None = None,
    render_megabytes: float | None = None,
) -> StatementsResult | tuple[Problem, ...]:
    """Build, issue and record the statements of one month, dated `as_of` (else
    Settings.AsOfDate, else today; never before the month's last day); each rendered
    within the command line's `render_seconds` and `render_megabytes`, else the workbook's
    or the pack's limits (services.render_limits)."""
    progress("Reading the workbook", 0, 1)
    # History checked first: at a big branch its read is the run's largest, and would
    # stack on the book's (services.issuing.check_history_first)
    first = check_history_first(path)
    loaded = load_book(path, ledger)  # the Ledger sheet, or an ERP export in its place
    if not isinstance(loaded, LoadedBook):
        return loaded
    settings = loaded.book.settings
    try:
        month = resolve_period(loaded.book, period)
    except ValueError as error:
        return (Problem(period_source(loaded.book, period), str(error)),)
    if not period and not settings.statement_period:
        # No month named: the last month ended by the as-of date (as close records).
        month = last_month_end(resolve_as_of(loaded.book, as_of))
    if as_of is not None and month.last_day > as_of:
        # A statement states the closing balance at the month's end: one asked for before
        # that day would state a balance nobody can know yet. (A stale Settings.AsOfDate
        # inside the month is not refused: the statement is dated the month's last day.)
        return (Problem(Source("--as-of"), f"the month {month} has not ended by the as-of "
                        f"date {as_of.isoformat()}: its statements are issued from its last "
                        f"day, {month.last_day.isoformat()}"),)  # fmt: skip
    when, today = resolve_as_of(loaded.book, as_of), dt.date.today()
    if month.last_day > max(when, today):
        # A stale Settings.AsOfDate inside the month is let through (above), but a month
        # that has not ended by today either would be stated, and dated, in the future.
        return (Problem(period_source(loaded.book, period), f"the month {month} has not "
                        f"ended: the as-of date is {when} and today is {today}; its "
                        f"statements are issued from its last day, "
                        f"{month.last_day.isoformat()}"),)  # fmt: skip
    unknown = unknown_customers(loaded.customers, only)
    if unknown:
        return unknown
    # branch and journal checked first
    pack, problems, history = ready_to_issue(path, settings, loaded.book.policy, first)
    limits, wrong = render_limits(settings, pack, seconds=render_seconds,
                                  megabytes=render_megabytes)  # fmt: skip
    if problems or wrong:
        return tuple(dict.fromkeys(problems + wrong))
    statements = build_statements(loaded.ledger, loaded.customers, month, loaded.book.policy)
    folder = None if dry_run else output_folder(path, settings, out, f"statements {month}")
    url = journal_url(path, settings.journal, dry_run)
    with Journal.open(url) as journal:
        served = journal.issued_keys(("statement",), str(month), branch=settings.branch)
        plan = _plan(statements, include_zero, only, served, force)
        if dry_run:
            return StatementsResult(month, plan, None)
        issued_on = issue_date(resolve_as_of(loaded.book, as_of), month)
        planned = statement_documents(loaded, statements, plan, pack, issued_on)
        issued = issue_run(
            planned, journal=journal, kind="statements", pack=pack, settings=settings,
            as_of=None, period=str(month), day=issued_on, out_dir=folder, pdf=pdf,
            email=email, progress=progress,
            summary=(summary_file("statements", month, settings.language),
                     _summary_title(month, settings.language)),
            skipped=_skipped(plan, loaded.customers, settings.base_currency), workbook=path,
            policy=loaded.book.policy, limits=limits,
        )  # fmt: skip
        # The period's month-end aging, for the trend and the roll rates (services/month_end)
        record_aging(journal, statements.aging, loaded, Path(path), month, STATEMENTS)
        backup = write_back(path, writer, [], journal, settings.language, progress,
                            policy=loaded.book.policy, finished=issued,
                            branch=settings.branch, listed=history)  # fmt: skip
    return StatementsResult(month, plan, issued, backup)


def _plan(statements: Statements, include_zero, only, served, force) -> pd.DataFrame:
    summary = statements.summary
    wanted = statements.wanted(include_zero)
    ids = summary["customer_id"].to_numpy(dtype=object)
    revision = np.array([served.get(c, -1) + 1 for c in ids])
    action = np.where(wanted, "send", "skip").astype(object)
    reason = np.where(wanted, "", "no balance and no documents in the period").astype(object)
    again = wanted & (revision > 0) & (not force)
    action[again] = "skip"
    reason[again] = "already issued for this period (use --force to reissue)"
    plan = pd.DataFrame({
        "customer_id": ids, "opening_cents": summary["opening_cents"].to_numpy(),
        "closing_cents": summary["closing_cents"].to_numpy(),
        "documents": summary["documents"].to_numpy(), "action": action, "reason": reason,
        "revision": revision, "row": np.arange(len(ids)),
    })  # fmt: skip
    if only:
        plan = plan[plan["customer_id"].isin(only)].reset_index(drop=True)
    return plan


def _skipped(plan: pd.DataFrame, customers: pd.DataFrame, base_currency: str):
    """Customers with a balance or documents whom the run passes over: closing, reason."""
    something = (plan["closing_cents"] != 0) | (plan["documents"] > 0)
    rows = plan[(plan["action"] == "skip") & something]
    stages = ["statement"] * len(rows)
    return skipped_customers(customers, base_currency, rows["customer_id"], stages,
                             rows["closing_cents"], rows["reason"])  # fmt: skip


def issue_date(as_of: dt.date, month: Period) -> dt.date:
    """The day a statement is dated: the run's date, but never before the month it states
    has ended (a stale Settings.AsOfDate would otherwise date it before its own closing)."""
    return max(as_of, month.last_day)


def statement_documents(
    loaded, statements: Statements, plan, pack: Pack, issued_on: dt.date | None = None
) -> list[PlannedDocument]:
    """The planned statement documents, with every template field (DESIGN.md contract).

    `issued_on` is the statement's date and the start of its reply-by period (default:
    the period's last day)."""
    settings = loaded.book.settings
    policy = loaded.book.policy
    month = statements.period
    issued_on = issued_on or month.last_day
    reply_by = issued_on + dt.timedelta(days=policy.rules.reply_days)
    branches = {lang: branch_fields(settings.branch, pack.branch_profile(lang))
                for lang in ("en", "zh")}  # fmt: skip
    # Everything per customer is looked up once for the run: rows as plain records,
    # lines and items gathered in one pass over each table (not a frame per customer).
    send = plan[plan["action"] == "send"]
    positions = send["row"].to_numpy(dtype=np.int64)
    customer_rows = loaded.customers.iloc[positions].to_dict("records")
    summary_rows = statements.summary.iloc[positions].to_dict("records")
    lines_by_customer = _rows_by_customer(statements.lines)
    # The items the statement lists: open at the period end and overdue or disputed.
    open_items = statements.open_items
    items_by_customer = _rows_by_customer(
        open_items[(open_items["days_overdue"] > 0) | open_items["disputed"]]
    )
    planned = []
    for row, customer, s in zip(send.itertuples(index=False), customer_rows, summary_rows,
                                strict=True):  # fmt: skip
        lang = language_of(customer.get("language"), settings.language)
        currency = str(customer.get("currency") or settings.base_currency)
        lines = lines_by_customer.get(row.customer_id, ())
        items = items_by_customer.get(row.customer_id, ())
        closing = money(int(s["closing_cents"]))
        context = {
            "customer": customer_fields(customer), "branch": branches[lang], "currency": currency,
            "period": str(month), "period_text": _period_text(month, lang),
            "date": date_text(issued_on, lang),
            "opening_date": date_text(month.first_day - dt.timedelta(days=1), lang),
            "closing_date": date_text(month.last_day, lang),
            "reply_by": date_text(reply_by, lang),
            **money_fields("opening", money(int(s["opening_cents"])), lang),
            **money_fields("closing", closing, lang),
            # A credit balance is stated as what we owe: the amount without its sign.
            **money_fields("closing_abs", abs(closing), lang), "in_credit": closing < 0,
            **money_fields("total_debit", money(int(s["debit_cents"])), lang),
            **money_fields("total_credit", money(int(s["credit_cents"])), lang),
            # What the statement asks for: overdue and not disputed.
            **money_fields("total_overdue", money(int(s["payable_overdue_cents"])), lang),
            **money_fields("total_disputed", money(int(s["disputed_cents"])), lang),
            **money_fields("total_disputed_overdue", money(int(s["disputed_overdue_cents"])),
                           lang),
            **money_fields("total_open", closing, lang),
            **money_fields("unapplied", money(int(s["unapplied_cents"])), lang),
            "total_in_words": words(abs(closing), lang, currency),
            "lines": [_line(line, lang) for line in lines],
            "aging": [{"label": bucket_text(label, lang),
                       **money_fields("amount", money(int(s[f"bucket:{label}"])), lang)}
                      for label in statements.labels],
            "items": [_item(item, lang) for item in items],
            "interest": "", "compensation": "", "stage": "statement",
            "stage_name": "对账单" if lang == "zh" else "Statement of account",
        }  # fmt: skip
        name = str(customer.get("name") or row.customer_id)
        contact = customer.get("contact") or name
        planned.append(PlannedDocument(
            customer_id=row.customer_id, kind="statement", stage="statement",
            template_key="statement", lang=lang, key=str(month), amount=closing,
            currency=currency, context=context, revision=int(row.revision),
            file_stem=document_stem(row.customer_id, name,
                                    f"{KIND_NAMES[lang]['statement']} {month}"),
            email_to=str(customer.get("email") or ""),
            subject=SUBJECTS[lang].format(period=context["period_text"], name=name,
                                          reference="{reference}"),
            body=BODIES[lang].format(contact=contact, period=context["period_text"],
                                     branch=branches[lang]["name"]),
            opening=money(int(s["opening_cents"])), closing=closing,
        ))  # fmt: skip
    return planned


def _rows_by_customer(frame: pd.DataFrame) -> dict[str, list]:
    """The frame's rows (named tuples) per customer, in the frame's order: one pass."""
    grouped: dict[str, list] = {}
    for row in frame.itertuples(index=False):
        grouped.setdefault(row.customer_id, []).append(row)
    return grouped


def _item(item, lang: str) -> dict[str, object]:
    return {
        "doc_no": unbroken(item.doc_no), "doc_date": date_text(item.doc_date, lang),
        "due_date": date_text(item.due_date, lang),
        **money_fields("amount", money(int(item.amount_cents)), lang),
        **money_fields("open_amount", money(int(item.open_cents)), lang),
        "days_overdue": int(item.days_overdue), "disputed": bool(item.disputed),
    }  # fmt: skip


def _line(line, lang: str) -> dict[str, object]:
    description = line.reference or (f"→ {line.applies_to}" if line.applies_to else "")
    return {
        "date": date_text(line.doc_date, lang),
        "doc_type": DOC_TYPE_NAMES[lang].get(line.doc_type, line.doc_type),
        "doc_no": unbroken(line.doc_no), "description": description,
        "disputed": bool(line.disputed),
        **money_fields("debit", money(int(line.debit_cents)), lang),
        **money_fields("credit", money(int(line.credit_cents)), lang),
        **money_fields("balance", money(int(line.balance_cents)), lang),
    } | ({"debit": ""} if not line.debit_cents else {}) | (
        {"credit": ""} if not line.credit_cents else {})  # fmt: skip


def _summary_title(month: Period, language: str) -> str:
    """The run summary's title: Statements November 2026, 2026年11月对账单."""
    lang = "zh" if language == "zh" else "en"
    return (f"{_period_text(month, lang)}对账单" if lang == "zh"
            else f"Statements {_period_text(month, lang)}")  # fmt: skip


def _period_text(month: Period, lang: str) -> str:
    if lang == "zh":
        return f"{month.year}年{month.month}月"
    return f"{MONTHS_EN[month.month - 1]} {month.year}"


def button_run(path: Path, writer) -> str:
    """The Statements button: the month of Settings.StatementPeriod (or AsOfDate)."""
    result = run_statements(path, writer=writer)
    if not isinstance(result, StatementsResult):
        return f"Statements stopped: {len(result)} problem(s); run Validate to list them."
    count = len(result.issued.documents) if result.issued else 0
    return f"{count} statement(s) issued for {result.period}; see History."
