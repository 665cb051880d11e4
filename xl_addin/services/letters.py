"""The dunning run (`credit-control letters` and the Generate letters button).

Read the workbook, bring the journal's record of contacts into the customers'
LastStage and LastContactDate, age the ledger, decide per customer
(core.dunning), then issue one document per customer through services.issuing:
a letter, a call sheet for the phone-call step, a letter and a hand-over
workbook for the legal step. Finally the workbook's Customers (LastStage,
LastContactDate) and History sheet are updated with the same safe write as
refresh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from xl_addin.core.dunning import SEND, SKIP, listed_items, listed_rows
from xl_addin.core.interest import (
    first_reference_date,
    fixed_compensation,
    late_interest,
    no_reference_rate,
)
from xl_addin.core.problems import Problem, Source
from xl_addin.documents.fields import (
    branch_fields,
    customer_fields,
    date_text,
    language_of,
    money_fields,
    money_text,
    unbroken,
    words,
)
from xl_addin.documents.files import document_stem
from xl_addin.journal.store import Journal, journal_url
from xl_addin.packs.lookup import Pack
from xl_addin.services.book import (
    LedgerSource,
    LoadedBook,
    as_of_update,
    load_book,
    output_folder,
    resolve_as_of,
)
from xl_addin.services.contacts import (
    CollectionState,
    after_issuing,
    collection_state,
    contacts_sheet,
)
from xl_addin.services.hand_over import Claim, customer_rows, hand_over
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
from xl_addin.services.refresh import customer_update
from xl_addin.services.render_limits import render_limits
from xl_addin.workbook.schema import CUSTOMERS
from xl_addin.workbook.writer import ColumnUpdate


def _summary_title(when: dt.date, language: str) -> str:
    """The run summary's title: Letters as of 30 November 2026, 催款函件（截至2026年11月30日）."""
    if language == "zh":
        return f"催款函件（截至{date_text(when, 'zh')}）"
    return f"Letters as of {date_text(when, 'en')}"


SUBJECTS = {
    "en": "{stage}: {name}, {currency} {amount} ({reference})",
    "zh": "{stage}：{name}，{currency} {amount}（{reference}）",
}
# An e-mail's subject names the letter as its heading does (letters/make_letter_templates),
# not as the ladder does ("Legal action" is a "Letter before action" to the customer); a
# step the Policy adds goes by its name.
SUBJECT_TITLES = {
    "en": {"pre_due_reminder": "Payment reminder", "friendly_reminder": "Friendly reminder",
           "demand_letter": "Demand for payment", "final_notice": "Final notice",
           "credit_hold": "Notice of credit hold", "legal_action": "Letter before action"},
    "zh": {"pre_due_reminder": "到期付款提醒", "friendly_reminder": "友好提醒",
           "demand_letter": "催款函", "final_notice": "最后通知", "credit_hold": "停止供货通知",
           "legal_action": "法律程序告知函"},
}  # fmt: skip
BODIES = {
    "en": "Dear {contact},\n\nPlease find attached our letter {reference} about your account "
          "{id}.\n\nKind regards,\n{branch}",
    "zh": "{contact}您好：\n\n附件为我司关于贵公司账户 {id} 的函件 {reference}，请查收。"
          "\n\n此致\n敬礼！\n\n{branch}",
}  # fmt: skip


# What a letter's interest paragraph cites: the contract, or the law of the debt's currency.
INTEREST_LAW = {
    "en": {"contract": "the terms of our contract",
           "GBP": "the Late Payment of Commercial Debts (Interest) Act 1998",
           "EUR": "the Late Payment Directive 2011/7/EU",
           "": "the applicable late-payment law"},
    "zh": {"contract": "合同约定",
           "GBP": "英国《1998年商业债务逾期付款（利息）法》",
           "EUR": "欧盟《逾期付款指令》（2011/7/EU）",
           "": "相关逾期付款法律规定"},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LettersResult:
    as_of: dt.date
    plan: pd.DataFrame  # every customer: action (send/skip), stage, amount, reason
    issued: IssueResult | None  # None for a dry run
    backup: Path | None = None
    problems: tuple[Problem, ...] = ()  # found while writing: e.g. an invoice with no rate


@holds_workbook("letters")
def run_letters(
    path: Path,
    *,
    as_of: dt.date | None = None,
    out: Path | None = None,
    pdf: bool = False,
    email: bool = False,
    dry_run: bool = False,
    force: bool = False,
    only: Sequence[str] = (),
    progress: Progress = lambda *_: None,
    writer=None,
    ledger: LedgerSource | None = None,
    render_seconds: float | None = None,
    render_megabytes: float | None = None,
) -> LettersResult | tuple[Problem, ...]:
    """Plan the day's collection work and (unless a dry run) issue and record it.

    `render_seconds` and `render_megabytes` (the command line's) bound each document's
    rendering before the workbook's and the pack's limits (services.render_limits)."""
    progress("Reading the workbook", 0, 1)
    # History checked first: at a big branch its read is the run's largest, and would
    # stack on the book's (services.issuing.check_history_first)
    first = check_history_first(path)
    loaded = load_book(path, ledger)  # the Ledger sheet, or an ERP export in its place
    if not isinstance(loaded, LoadedBook):
        return loaded
    settings = loaded.book.settings
    when = resolve_as_of(loaded.book, as_of)
    unknown = unknown_customers(loaded.customers, only)
    if unknown:
        return unknown
    # branch and journal checked first
    pack, problems, history = ready_to_issue(path, settings, loaded.book.policy, first)
    limits, wrong = render_limits(settings, pack, seconds=render_seconds,
                                  megabytes=render_megabytes)  # fmt: skip
    if problems or wrong:
        return tuple(dict.fromkeys(problems + wrong))
    folder = None if dry_run else output_folder(path, settings, out, f"letters {when}")
    url = journal_url(path, settings.journal, dry_run)
    with Journal.open(url) as journal:
        state = collection_state(loaded, journal, when, force=force)
        later = _issued_after(state.contacts, when)
        if later is not None and not dry_run:
            where = Source("--as-of") if as_of else settings.source("as_of")
            return (Problem(where, f"the journal has this branch's documents of {later}: a run "
                            f"as of {when} would issue as if they had not been sent (--dry-run "
                            f"shows what it would have done)"),)  # fmt: skip
        plan = state.plan
        if only:
            plan = plan[plan["customer_id"].isin(only)].reset_index(drop=True)
        if dry_run:
            return LettersResult(when, plan, None)
        found: list[Problem] = []
        planned = _documents(loaded, state, plan, pack, when, found, journal)
        issued = issue_run(
            planned, journal=journal, kind="letters", pack=pack, settings=settings, as_of=when,
            period=None, day=when, out_dir=folder, pdf=pdf, email=email, progress=progress,
            summary=(summary_file("letters", when, settings.language),
                     _summary_title(when, settings.language)),
            skipped=_skipped(plan, loaded.customers, settings.base_currency, settings.language),
            workbook=path,
            policy=loaded.book.policy,
            limits=limits,
        )  # fmt: skip
        # Stage and NextAction as they stand now that the documents are issued: the run's
        # contact log grown by them.
        after = after_issuing(state, loaded, journal, when)
        del state
        updates = [customer_update(loaded, after), *as_of_update(loaded.book, when)]
        if issued.finished:  # this run's documents and those of a killed run it finished
            updates.append(_contacts_update(loaded, issued, when))
        sheets = [contacts_sheet(loaded, issued.finished, settings.language)]
        backup = write_back(path, writer, updates, journal, settings.language, progress,
                            sheets=sheets, policy=loaded.book.policy,
                            finished=issued, branch=settings.branch,
                            listed=history)  # fmt: skip
    return LettersResult(when, plan, issued, backup, tuple(found))


def _skipped(plan: pd.DataFrame, customers: pd.DataFrame, base_currency: str,
             language: str = "en"):  # fmt: skip
    """Customers with something overdue whom the run passes over: stage, overdue, and the
    reason in the workbook's language."""
    rows = plan[(plan["action"] == SKIP) & (plan["overdue_cents"] > 0)]
    reasons = rows["reason_zh" if language == "zh" else "reason"]
    return skipped_customers(customers, base_currency, rows["customer_id"], rows["stage"],
                             rows["overdue_cents"], reasons)  # fmt: skip


def _issued_after(contacts: pd.DataFrame, when: dt.date) -> dt.date | None:
    """The day of the latest document issued after `when` (None: none): a run dated before
    the journal's last documents would replay the ladder without them."""
    days = contacts["date"][contacts["document"].to_numpy(dtype=bool)].dropna()
    latest = days.max() if len(days) else None
    return latest.date() if latest is not None and latest.date() > when else None


def _documents(loaded, state: CollectionState, plan, pack: Pack, when: dt.date, problems,
               journal: Journal):
    settings = loaded.book.settings
    policy = loaded.book.policy
    customers, aging = loaded.customers, state.aging
    branches = {lang: branch_fields(settings.branch, pack.branch_profile(lang))
                for lang in ("en", "zh")}  # fmt: skip
    # Per customer, looked up once for the run: rows as plain records, the listed items
    # as named tuples and positions in one table (a frame only where interest needs one).
    by_id = dict(zip(customers["customer_id"], customers.to_dict("records"), strict=True))
    interest_from = policy.stage_index(policy.rules.interest_from_stage)
    statutory = {c.strip().upper() for c in policy.rules.interest_currencies.split(",") if c}
    # The items of every document, found in one pass over the ledger for the whole run.
    codes = state.plan["next_code"].to_numpy()
    listed = listed_items(aging, state.ledger, listed_rows(aging, state.ledger, codes, policy))
    item_tuples = list(listed.itertuples(index=False))
    positions = listed.groupby("customer_id", sort=False).indices
    none = np.zeros(0, dtype=np.int64)
    sent = plan[plan["action"] == SEND]
    legal = customer_rows(loaded, sent["customer_id"][sent["kind"] == "legal_pack"])
    planned = []
    for row in sent.itertuples(index=False):
        customer = by_id[row.customer_id]
        lang = language_of(customer.get("language"), settings.language)
        currency = str(customer.get("currency") or settings.base_currency)
        at = positions.get(row.customer_id, none)
        total = money(int(row.amount_cents))
        context = {
            "customer": customer_fields(customer), "branch": branches[lang], "currency": currency,
            "items": [_item(item_tuples[i], lang) for i in at],
            **money_fields("total_overdue", total, lang),
            **money_fields("total_open", money(int(row.balance_cents)), lang),
            "total_in_words": words(total, lang, currency),
            "date": date_text(when, lang),
            "reply_by": date_text(when + dt.timedelta(days=policy.rules.reply_days), lang),
            "stage": row.next_key, "stage_name": _stage_name(policy, row.next_code, lang),
            "first_contact": bool(row.first_contact),
            "interest": "", "compensation": "", "interest_law": "",
        }  # fmt: skip
        if interest_from is not None and row.next_code >= interest_from:
            charges, found = _interest(customer, currency, listed.iloc[at], when, policy, lang,
                                       statutory, state.ledger)  # fmt: skip
            context |= charges
            problems += found
        if row.kind == "call_sheet":
            context |= _call_facts(customer, row, context["items"], lang, policy)
        name = str(customer.get("name") or row.customer_id)
        subject = SUBJECTS[lang].format(
            stage=SUBJECT_TITLES[lang].get(row.next_key, context["stage_name"]), name=name,
            currency=currency,
            amount=money_text(total), reference="{reference}",
        )  # fmt: skip
        planned.append(PlannedDocument(
            customer_id=row.customer_id, kind=row.kind, stage=row.next_key,
            template_key=row.next_key, lang=lang, key=when.isoformat(), amount=total,
            currency=currency, context=context, revision=int(row.revision),
            file_stem=document_stem(row.customer_id, name, context["stage_name"]),
            # A call sheet is the collector's task, never mailed to the customer.
            email_to="" if row.kind == "call_sheet" else str(customer.get("email") or ""),
            subject=subject,
            body=BODIES[lang].format(contact=customer.get("contact") or name,
                                     reference="{reference}", id=row.customer_id,
                                     branch=branches[lang]["name"]),
            extra=hand_over(loaded, journal, customer, listed.iloc[at], when, lang,
                            _claim(context, currency), legal)
            if row.kind == "legal_pack"
            else None,
        ))  # fmt: skip
    return planned


def _item(item, lang: str) -> dict[str, object]:
    return {
        "doc_no": unbroken(item.doc_no), "doc_date": date_text(item.doc_date, lang),
        "due_date": date_text(item.due_date, lang),
        **money_fields("amount", money(item.amount_cents), lang),
        **money_fields("open_amount", money(item.open_cents), lang),
        "days_overdue": int(item.days_overdue),
    }  # fmt: skip


def _interest(
    customer,
    currency: str,
    items: pd.DataFrame,
    when: dt.date,
    policy,
    lang: str,
    statutory: set[str],
    ledger: pd.DataFrame,
) -> tuple[dict[str, object], list[Problem]]:
    """Late interest and fixed compensation for a letter, and any invoice without a rate.

    A customer's contract rate (yearly or daily) applies whatever the currency: the
    contract, not the statute, gives the right; it brings no statutory compensation (the
    UK Act's fixed sum comes with statutory interest, s.5A). Without one, statutory
    interest and the currency's compensation (GBP tiers, EUR 40, else none) apply to the
    currencies in the interest_currencies rule only.
    """
    rate = customer.get("contract_rate_value")
    contract = rate is not None and not pd.isna(rate)
    if not contract and currency not in statutory:
        return {}, []
    due = items["due_date"].to_numpy()
    rates = np.full(len(items), float(rate) if contract else np.nan)
    per_day = bool(customer.get("contract_rate_per_day"))
    until = np.datetime64(when, "D")
    cents, _ = late_interest(items["open_cents"].to_numpy(), due, until, rates, policy,
                             per_day=per_day)  # fmt: skip
    compensation = Decimal(0)
    if not contract:
        for amount in items["amount_cents"]:
            compensation += fixed_compensation(money(amount), currency, policy)
    laws = INTEREST_LAW[lang]
    fields = {
        **money_fields("interest", money(int(cents.sum())), lang),
        **money_fields("compensation", compensation, lang),
        "interest_law": laws["contract"] if contract else laws.get(currency, laws[""]),
    }
    if not compensation:
        fields["compensation"] = ""  # the letter then claims interest only
    missing = np.flatnonzero(no_reference_rate(due, rates, policy))
    return fields, [_no_reference_rate(customer, items.iloc[i], policy, ledger) for i in missing]


def _no_reference_rate(customer, item, policy, ledger: pd.DataFrame) -> Problem:
    """An invoice overdue from before the reference table, located at its due date."""
    rows = ledger["row"][ledger["doc_no"] == item.doc_no] if "row" in ledger else []
    where = Source(
        ledger.attrs.get("sheet", "Ledger"),
        int(rows.iloc[0]) if len(rows) else None,
        ledger.attrs.get("letters", {}).get("due_date"),
    )
    due = pd.Timestamp(item.due_date).date()
    first = first_reference_date(policy)
    return Problem(
        where,
        f"customer {customer['customer_id']}, invoice {item.doc_no} due {due}: no reference "
        f"rate before {first}, so no interest is claimed on it; add the half-year's rate to "
        "the Policy sheet's Interest table",
    )


PROMISE_STATES = {"en": {"kept": "kept", "broken": "not kept", "pending": "not due yet"},
                  "zh": {"kept": "已兑现", "broken": "未兑现", "pending": "未到期"}}


def _call_facts(customer, row, items: list[dict], lang: str, policy) -> dict[str, object]:
    """A call sheet's facts: its oldest item (of those it lists: a disputed one older is
    not the call's business), the last contact and the latest promise, with how it stands."""
    promise_text = ""
    if not pd.isna(row.promise_date):
        state = PROMISE_STATES[lang].get(row.promise_state, "")
        said = f"（{state}）" if lang == "zh" else f" ({state})"
        promise_text = (f"{date_text(row.promise_date, lang)} {row.promise_amount}".strip()
                        + (said if state else ""))  # fmt: skip
    return {
        "max_days_overdue": max((int(item["days_overdue"]) for item in items),
                                default=int(row.max_days_overdue)),
        "last_stage": _named(str(customer.get("last_stage") or ""), policy, lang),
        "last_contact": date_text(customer.get("last_contact_date"), lang),
        "promise": promise_text,
    }


def _claim(context: dict[str, object], currency: str) -> Claim:
    """What a letter's fields claim: the overdue total, interest and compensation."""
    zero = Decimal(0)
    return Claim(context["total_overdue_value"], context.get("interest_value", zero),
                 context.get("compensation_value", zero), currency)  # fmt: skip


def _contacts_update(loaded: LoadedBook, issued: IssueResult, when: dt.date) -> ColumnUpdate:
    """Customers.LastStage and LastContactDate for every customer a letter or hand-over pack
    went to (a call sheet is a task: the call counts once its outcome is logged)."""
    table = loaded.book.customers
    policy, language = loaded.book.policy, loaded.book.settings.language
    # The latest document per customer: a resumed one (a killed run's) dated its own day.
    latest = {}
    for d in sorted(issued.finished, key=lambda d: d.planned.key):
        if d.planned.kind != "call_sheet":
            latest[d.planned.customer_id] = d
    stage_of = {c: _stage_name(policy, policy.stage_index(d.planned.stage), language)
                for c, d in latest.items()}  # fmt: skip
    ids = loaded.customers["customer_id"].to_numpy(dtype=object)
    rows = loaded.customers["row"].to_numpy()
    served = [i for i, c in enumerate(ids) if c in stage_of]
    return ColumnUpdate(
        sheet=table.raw.sheet, header_row=table.raw.header_row,
        first_column=table.raw.first_column, table=table.raw.table,
        rows=[int(rows[i]) for i in served],
        values={"LastStage": [stage_of[ids[i]] for i in served],
                "LastContactDate": [dt.date.fromisoformat(latest[ids[i]].planned.key)
                                    for i in served]},
        number_formats={"LastContactDate": "yyyy-mm-dd"},
        aliases={c.header: c.aliases for c in CUSTOMERS.columns},
    )  # fmt: skip


def _named(stage: str, policy, lang: str) -> str:
    """A stage as the workbook names it (LastStage: a key, or a name in either language),
    named in the document's language; text that names no stage, as it is."""
    code = policy.stage_index(stage) if stage else None
    return stage if code is None else _stage_name(policy, code, lang)


def _stage_name(policy, code: int, lang: str) -> str:
    stage = policy.stages[code]
    return stage.name_zh if lang == "zh" and stage.name_zh else stage.name


def button_run(path: Path, writer) -> str:
    """The Generate letters button: run for today's AsOfDate; return the status line."""
    result = run_letters(path, writer=writer)
    if not isinstance(result, LettersResult):
        return f"Letters stopped: {len(result)} problem(s); run Validate to list them."
    issued = result.issued
    count = len(issued.documents) if issued else 0
    return f"{count} document(s) issued as of {result.as_of}; see History."
