"""The reconcile use case: compare a customer's reply with our ledger and write a report."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from xl_addin.core.money import decimal_to_cents, parse_amount_text, to_decimal
from xl_addin.core.problems import Problem, Source
from xl_addin.core.reconcile import Reconciliation, reconcile_balance, reconcile_documents
from xl_addin.core.statements import Period, signed_cents
from xl_addin.documents.fields import date_text
from xl_addin.documents.files import safe_file_name
from xl_addin.errors import WorkbookError
from xl_addin.services.book import (
    LoadedBook,
    load_book,
    output_folder,
    period_source,
    resolve_period,
)
from xl_addin.workbook.reply import TOTAL_WORDS, read_reply
from xl_addin.workbook.report import ReportSheet, write_report
from xl_addin.workbook.schema import fold

CREDIT_TYPES = frozenset(
    {"pay", "payment", "crn", "creditnote", "收款", "付款", "贷项", "贷项通知"}
)


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    customer_id: str
    name: str
    lang: str
    currency: str
    period: Period
    reconciliation: Reconciliation
    report: Path


# Digits with separators and maybe a sign or currency mark: meant as an amount, not a file.
_AMOUNT_LIKE = re.compile(r"^[-+(]?[¥$£€]?\s*[\d.,' \u00a0]*\d[\d.,' \u00a0]*\)?$")


def _not_an_amount(text: str) -> str:
    """Why a reply that looks like an amount is not read as one, and how to write it."""
    digits = re.sub(r"[^\d.,]", "", text)
    if "," in digits and "." in digits and digits.rfind(",") > digits.rfind("."):
        guess = digits.replace(".", "").replace(",", ".")
        example = f" ({text} written our way is {Decimal(guess):,})"
    else:
        example = ""
    return (f'"{text}" is neither an amount as we write them nor a file: write the balance '
            f"with a point for the decimals and commas (or nothing) for thousands, e.g. "
            f"12,345.67 or 12345.67{example}; or give the path of the customer's .xlsx or "
            ".csv file")


def reconcile(
    workbook: Path,
    reply: str,
    customer_id: str,
    period: str | None = None,
    out: Path | None = None,
) -> ReconcileResult | tuple[Problem, ...]:
    """Reconcile `reply` (a balance such as "12,345.67", or an .xlsx/.csv file) for one customer."""
    text = reply.strip().replace("，", ",")
    if parse_amount_text(text) is None and not Path(reply).exists() and _AMOUNT_LIKE.match(text):
        raise WorkbookError(_not_an_amount(text))
    loaded = load_book(workbook)
    if not isinstance(loaded, LoadedBook):
        return loaded
    customers = loaded.customers
    match = np.flatnonzero(customers["customer_id"].to_numpy(dtype=object) == customer_id)
    if not len(match):
        return (Problem(Source("Customers"), f"no customer {customer_id} in Customers"),)
    customer = customers.iloc[int(match[0])]
    try:
        when = resolve_period(loaded.book, period)
    except ValueError as error:
        return (Problem(period_source(loaded.book, period), str(error)),)
    ours = _our_documents(loaded.ledger, customer_id, when.last_day)
    problems: list[Problem] = []
    balance = parse_amount_text(reply.strip().replace("，", ","))
    limit = loaded.book.settings.amount_limit
    if balance is not None and abs(balance) > limit and not Path(reply).exists():
        message = f"the balance {reply} is beyond the largest amount accepted, ±{limit:,}"
        return (Problem(Source("reply"), message),)
    if balance is not None and not Path(reply).exists():
        result = reconcile_balance(int(ours["signed_cents"].sum()), decimal_to_cents(balance))
    else:
        table = read_reply(Path(reply), problems)
        if table is None or problems:
            return tuple(problems)
        result = reconcile_documents(ours, _their_documents(table.frame))
    lang = str(customer.get("language") or loaded.book.settings.language or "en")
    lang = "zh" if lang.lower().startswith("zh") or lang == "中文" else "en"
    name = str(customer.get("name") or "")
    currency = str(customer.get("currency") or loaded.book.settings.base_currency)
    folder = output_folder(workbook, loaded.book.settings, out, "")
    folder.mkdir(parents=True, exist_ok=True)
    what = "对账差异表" if lang == "zh" else "reconciliation"
    path = folder / f"{safe_file_name(f'{what} {customer_id} {when}')}.xlsx"
    write_report(path, _report(result, customer_id, name, currency, when, lang), lang)
    return ReconcileResult(customer_id, name, lang, currency, when, result, path)


def _our_documents(ledger: pd.DataFrame, customer_id: str, cutoff: dt.date) -> pd.DataFrame:
    debit, credit = signed_cents(ledger)
    doc_date = ledger["doc_date"].to_numpy(dtype="datetime64[D]")
    keep = (ledger["customer_id"].to_numpy(dtype=object) == customer_id) & (
        doc_date <= np.datetime64(cutoff, "D")
    )
    return pd.DataFrame(
        {
            "doc_no": ledger["doc_no"].to_numpy(dtype=object)[keep],
            "doc_date": doc_date[keep],
            "signed_cents": (debit - credit)[keep],
        }
    )


def _their_documents(frame: pd.DataFrame) -> pd.DataFrame:
    """Their rows as signed cents (+: raises what they owe us); total lines left out."""
    keep = ~frame["doc_no"].map(fold).isin(TOTAL_WORDS).to_numpy()  # a total in the number column
    amount = np.nan_to_num(frame["amount_cents"].to_numpy(dtype=np.float64))
    if frame["amount_cents"].isna().all():
        debit = np.nan_to_num(frame["debit_cents"].to_numpy(dtype=np.float64))
        credit = np.nan_to_num(frame["credit_cents"].to_numpy(dtype=np.float64))
        amount = debit - credit
    is_credit = frame["doc_type"].map(fold).isin(CREDIT_TYPES).to_numpy()
    amount = np.where(is_credit, -np.abs(amount), amount)
    return pd.DataFrame(
        {
            "doc_no": frame["doc_no"].to_numpy(dtype=object)[keep],
            "doc_date": frame["doc_date"].to_numpy(dtype="datetime64[D]")[keep],
            "signed_cents": amount.astype(np.int64)[keep],
        }
    )


_LABELS = {
    "en": {
        "title": "Reconciliation of {name} ({id}) at {date}, {currency}",
        "ours": "Our balance", "theirs": "Their balance", "difference": "Difference",
        "explained": "Explained by the documents below", "unexplained": "Unexplained",
        "flipped": "Their amounts were read with the opposite sign (a payables ledger).",
        "headers": ("Kind", "Our document", "Their document", "Date", "Our amount",
                    "Their amount", "Effect on the difference", "Explanation"),
        "summary": "Summary", "differences": "Differences",
    },
    "zh": {
        "title": "{name}（{id}）对账差异表，截至{date}，币种 {currency}",
        "ours": "我方余额", "theirs": "对方余额", "difference": "差额",
        "explained": "以下单据可解释的差额", "unexplained": "未解释差额",
        "flipped": "对方金额按相反方向读取（应付账款视角）。",
        "headers": ("差异类型", "我方单据", "对方单据", "日期", "我方金额", "对方金额",
                    "对差额的影响", "说明"),
        "summary": "汇总", "differences": "差异明细",
    },
}  # fmt: skip
_KINDS = {
    "en": {"ours_only": "Ours only", "theirs_only": "Theirs only", "amount": "Amount differs",
           "by_amount": "Matched by amount"},
    "zh": {"ours_only": "我方有对方无", "theirs_only": "对方有我方无", "amount": "金额不符",
           "by_amount": "按金额匹配"},
}  # fmt: skip


def _report(result: Reconciliation, customer_id, name, currency, period: Period, lang):
    labels = _LABELS[lang]
    title = labels["title"].format(
        name=name, id=customer_id, date=date_text(period.last_day, lang), currency=currency
    )
    summary_rows = [
        (labels["ours"], to_decimal(result.our_balance_cents)),
        (labels["theirs"], to_decimal(result.their_balance_cents)),
        (labels["difference"], to_decimal(result.difference_cents)),
        (labels["explained"], to_decimal(result.explained_cents)),
        (labels["unexplained"], to_decimal(result.unexplained_cents)),
    ]
    notes = (labels["flipped"],) if result.flipped_signs else ()
    explanation = "explanation_zh" if lang == "zh" else "explanation"
    rows = [
        (
            _KINDS[lang][d.kind],
            d.doc_no,
            d.their_doc_no,
            None if pd.isna(d.doc_date) else pd.Timestamp(d.doc_date).date(),
            _money(d.ours_cents),
            _money(d.theirs_cents),
            to_decimal(int(d.effect_cents)),
            getattr(d, explanation),
        )
        for d in result.differences.itertuples()
    ]
    return [
        ReportSheet(labels["summary"], ("", currency), summary_rows, (title, *notes)),
        ReportSheet(labels["differences"], labels["headers"], rows, (title,)),
    ]


def _money(cents: object) -> Decimal | None:
    return None if cents is None or pd.isna(cents) else to_decimal(int(cents))
