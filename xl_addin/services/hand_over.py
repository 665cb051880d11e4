"""The legal step's hand-over workbook: what a solicitor needs to take the debt on.

Written beside the letter before action, in the customer's language: the claim (the
overdue debt, the interest and compensation the letter claims, and their total), the
debt invoice by invoice with its total, every ledger document of the customer, and the
contact history (the Contacts sheet's rows for the customer and the documents the
journal recorded for it). Stages, kinds and document types are named, never keyed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from xl_addin.core.labels import DOC_TYPE_NAMES
from xl_addin.core.money import to_decimal
from xl_addin.documents.fields import date_text
from xl_addin.documents.files import document_stem, safe_file_name
from xl_addin.services.book import LoadedBook
from xl_addin.services.contacts import contact_kind_name
from xl_addin.services.history_sheet import KIND_NAMES, stage_namer
from xl_addin.workbook.report import ReportSheet, write_report

LABELS = {
    "en": {
        "title": "Hand-over pack {reference}, as of {date}",
        "sheets": ("Customer", "Claim", "Debt", "Documents", "Contact history"),
        "customer": ("Field", "Value"),
        "fields": ("Customer", "Name", "Contact", "Address", "Phone", "Email", "Last stage",
                   "Last contact"),
        "claim": ("Claim", "Amount", "Currency"),
        "claims": ("Overdue debt", "Interest claimed in the letter",
                   "Compensation claimed in the letter", "Total claimed"),
        "debt": ("Invoice", "Invoice date", "Due date", "Open", "Days overdue"),
        "total": "Total",
        "documents": ("Type", "Document", "Date", "Due date", "Amount", "Applies to",
                      "Disputed"),
        "yes": "Yes",
        "history": ("Date", "Kind", "Stage", "Reference", "Amount", "Outcome",
                    "Promised date", "Promised amount", "Notes"),
    },
    "zh": {
        "title": "移交材料 {reference}，截至{date}",
        "sheets": ("客户", "索赔金额", "欠款明细", "单据", "联系记录"),
        "customer": ("项目", "内容"),
        "fields": ("客户编号", "客户名称", "联系人", "地址", "电话", "电子邮件", "最近阶段",
                   "最近联系日期"),
        "claim": ("索赔项目", "金额", "币种"),
        "claims": ("逾期欠款", "函件所主张的逾期利息", "函件所主张的固定补偿", "索赔合计"),
        "debt": ("发票号", "开票日期", "到期日", "未付金额", "逾期天数"),
        "total": "合计",
        "documents": ("类型", "单据号", "日期", "到期日", "金额", "对应单据", "争议"),
        "yes": "是",
        "history": ("日期", "类型", "阶段", "编号", "金额", "结果", "承诺付款日", "承诺金额",
                    "备注"),
    },
}  # fmt: skip
_CUSTOMER_FIELDS = ("customer_id", "name", "contact", "address", "phone", "email",
                    "last_stage", "last_contact_date")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Claim:
    """What the letter before action claims, in the customer's currency."""

    overdue: Decimal
    interest: Decimal
    compensation: Decimal
    currency: str

    @property
    def total(self) -> Decimal:
        return self.overdue + self.interest + self.compensation


@dataclass(frozen=True, slots=True)
class CustomerRows:
    """Where each of a run's legal-step customers has rows in the Ledger and the Contacts
    tables (positions, in the tables' order), found in one pass over each table: a scan of
    the whole ledger per hand-over made a run pay for the ledger once per legal customer."""

    ledger: dict[str, np.ndarray]
    contacts: dict[str, np.ndarray]

    def of(self, loaded: LoadedBook, customer_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The customer's ledger rows and Contacts rows (an empty frame when none)."""
        none = np.zeros(0, dtype=np.int64)
        table = loaded.book.contacts
        logged = (table.frame.iloc[self.contacts.get(customer_id, none)]
                  if table is not None else pd.DataFrame())  # fmt: skip
        return loaded.ledger.iloc[self.ledger.get(customer_id, none)], logged


def customer_rows(loaded: LoadedBook, customer_ids: Sequence[str]) -> CustomerRows:
    """The ledger and Contacts rows of each of `customer_ids` (see CustomerRows)."""
    table = loaded.book.contacts
    logged = table.frame["customer_id"] if table is not None else pd.Series([], dtype=object)
    return CustomerRows(_positions(loaded.ledger["customer_id"], customer_ids),
                        _positions(logged, customer_ids))  # fmt: skip


def _positions(column: pd.Series, wanted: Sequence[str]) -> dict[str, np.ndarray]:
    """Each wanted value's positions in `column`, rising."""
    keys = pd.Index(list(dict.fromkeys(wanted)), dtype=object)
    code = keys.get_indexer(pd.Index(column.to_numpy(dtype=object), dtype=object))
    rows = np.flatnonzero(code >= 0)
    rows = rows[np.argsort(code[rows], kind="stable")]
    bounds = np.searchsorted(code[rows], np.arange(len(keys) + 1))
    return {key: rows[bounds[k]:bounds[k + 1]] for k, key in enumerate(keys)}


def hand_over(
    loaded: LoadedBook,
    journal,
    customer: dict,
    items: pd.DataFrame,
    when: dt.date,
    lang: str,
    claim: Claim,
    rows: CustomerRows,
) -> Callable[[Path, str], Path]:
    """A function writing the hand-over workbook for a letter's reference into a folder
    (the issuing engine calls it once the reference is known); `rows` holds the customer's
    (customer_rows)."""

    def write(folder: Path, reference: str) -> Path:
        customer_id = customer["customer_id"]
        ledger_rows, logged = rows.of(loaded, customer_id)
        labels = LABELS["zh" if lang == "zh" else "en"]
        stage_name = stage_namer(loaded.book.policy, lang)
        title = (labels["title"].format(reference=reference, date=date_text(when, lang)),)
        names = labels["sheets"]
        # Named as its letter is, the reference first: REF C009 Acme Ltd Hand-over pack.
        what = KIND_NAMES["zh" if lang == "zh" else "en"]["legal_pack"]
        name = str(customer.get("name") or "")
        stem = safe_file_name(f"{reference} {document_stem(customer_id, name, what)}")
        path = folder / f"{stem}.xlsx"
        write_report(path, [
            ReportSheet(names[0], labels["customer"],
                        _facts(customer, labels, stage_name), title),
            ReportSheet(names[1], labels["claim"], _claim_rows(claim, labels), title),
            ReportSheet(names[2], labels["debt"], _debt_rows(items, labels), title),
            ReportSheet(names[3], labels["documents"],
                        _document_rows(ledger_rows, lang, labels), title),
            ReportSheet(names[4], labels["history"],
                        contact_history(loaded, logged, journal.documents(
                            customer_id, branch=loaded.book.settings.branch), customer_id,
                                        lang), title),
        ], lang)  # fmt: skip
        return path

    return write


def _facts(customer: dict, labels, stage_name) -> list[tuple[str, object]]:
    values = [customer.get(field) for field in _CUSTOMER_FIELDS]
    values[6] = stage_name(str(values[6] or ""))
    values[7] = _day(values[7])
    return [(label, "" if _blank(value) else value if isinstance(value, dt.date) else str(value))
            for label, value in zip(labels["fields"], values, strict=True)]  # fmt: skip


def _claim_rows(claim: Claim, labels) -> list[tuple[str, Decimal, str]]:
    amounts = (claim.overdue, claim.interest, claim.compensation, claim.total)
    return [(label, amount, claim.currency)
            for label, amount in zip(labels["claims"], amounts, strict=True)]  # fmt: skip


def _debt_rows(items: pd.DataFrame, labels) -> list[tuple]:
    rows = [(i.doc_no, _day(i.doc_date), _day(i.due_date), to_decimal(int(i.open_cents)),
             int(i.days_overdue)) for i in items.itertuples(index=False)]  # fmt: skip
    total = sum((row[3] for row in rows), Decimal(0))
    return [*rows, (labels["total"], None, None, total, None)]


def _document_rows(rows: pd.DataFrame, lang: str, labels) -> list[tuple]:
    """The customer's ledger rows, as the Documents sheet lists them."""
    types = DOC_TYPE_NAMES["zh" if lang == "zh" else "en"]
    return [
        (types.get(r.doc_type, r.doc_type), r.doc_no, _day(r.doc_date), _day(r.due_date),
         to_decimal(int(r.amount_cents)), "" if _blank(r.applies_to) else r.applies_to,
         labels["yes"] if r.disputed else "")
        for r in rows.itertuples(index=False)
    ]  # fmt: skip


def contact_history(
    loaded: LoadedBook, logged: pd.DataFrame, documents: Sequence, customer_id: str, lang: str
) -> list[tuple]:
    """The customer's contacts, oldest first: its Contacts sheet rows (`logged`), and each
    document the journal recorded that the sheet does not list (by its reference)."""
    stage_name = stage_namer(loaded.book.policy, lang)
    rows: list[tuple] = []
    for r in logged.itertuples(index=False):
        promised = None if _blank(r.promise_amount_cents) else to_decimal(
            int(r.promise_amount_cents))
        rows.append((_day(r.date), contact_kind_name(r.kind, lang),
                     stage_name(str(r.stage or "")), r.reference or "", None, r.outcome or "",
                     _day(r.promise_date), promised, r.notes or ""))  # fmt: skip
    listed = {str(row[3]).strip() for row in rows if row[3]}
    kinds = KIND_NAMES["zh" if lang == "zh" else "en"]
    for d in documents:
        if d.customer_id == customer_id and d.reference not in listed:
            rows.append((_issued_on(d), kinds.get(d.kind, d.kind), stage_name(d.stage),
                         d.reference, d.amount, "", None, None, ""))  # fmt: skip
    return sorted(rows, key=lambda row: row[0] or dt.date.min)


def _issued_on(document) -> dt.date:
    """A document's day as the Contacts sheet gives it: its run's as-of date (the key of a
    letter), else the day it was issued (a statement's key is its month)."""
    try:
        return dt.date.fromisoformat(document.key)
    except (TypeError, ValueError):
        return _day(document.issued_at)


def _day(value: object) -> dt.date | None:
    if _blank(value):
        return None
    return pd.Timestamp(value).date()


def _blank(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))
