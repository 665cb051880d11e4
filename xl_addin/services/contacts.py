"""The contact log and the collection state built on it, shared by refresh and letters.

The log joins what the journal knows was issued (letters, call sheets, hand-over
packs, on their run's as-of date) with the workbook's Contacts sheet, where the
collectors log calls, visits, promises and disputes (and which every run
extends with the documents it issued), and with the Customers sheet's older
LastStage/LastContactDate/Promise columns. `collection_state` then ages the
ledger (items a customer disputed in a contact count as disputed) and works out
Stage and NextAction for every customer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from xl_addin.core.contacts import (
    contact_frame,
    disputed_by_contacts,
    document_contacts,
    legacy_contacts,
)
from xl_addin.core.dunning import plan_dunning
from xl_addin.core.ledger import AgingResult, age_ledger, per_distinct
from xl_addin.core.money import to_decimal
from xl_addin.core.policy import Policy
from xl_addin.services.book import LoadedBook
from xl_addin.workbook.schema import CONTACT_HEADERS_ZH, CONTACT_KINDS, CONTACTS, fold
from xl_addin.workbook.updates import SheetTable

if TYPE_CHECKING:  # xlwings Lite has no journal (and no SQLAlchemy): see NO_JOURNAL
    from xl_addin.journal.store import Journal

DUNNING_KINDS = ("letter", "call_sheet", "legal_pack")
_KIND_OF_TEXT = {
    fold(text): kind for kind, (_, _, texts) in CONTACT_KINDS.items() for text in texts
}
TITLES = {
    "en": "Contacts: every document issued and every call, visit, promise or dispute logged",
    "zh": "联系记录：每份发出的函件及每次电话、拜访、承诺和争议",
}


def contact_kind_name(text: object, language: str) -> str:
    """A contact's kind as the Contacts sheet writes it in `language` (电话 for "call");
    a kind it does not know, as it was written."""
    kind = _KIND_OF_TEXT.get(fold(str(text or "")))
    if kind is None:
        return str(text or "")
    english, chinese, _ = CONTACT_KINDS[kind]
    return chinese if language == "zh" else english


class _NoJournal:
    """The journal of a workbook that has none to reach (xlwings Lite reaches no files):
    nothing issued, so the contact log is the Contacts sheet and the Customers' columns."""

    def issued_keys(self, kinds: Sequence[str], key: str, *, branch: str | None) -> dict[str, int]:
        return {}

    def contact_documents(self, kinds: Sequence[str], *, branch: str | None) -> list:
        return []


NO_JOURNAL = _NoJournal()


class _EmptyJournal:
    """A journal with nothing recorded yet (a workbook's SQLite journal not made): what
    SQLite would answer, without opening a database. Unlike NO_JOURNAL, the journal is
    there to be read: the Contacts sheet's letters do not stand in for it."""

    def issued_keys(self, kinds: Sequence[str], key: str, *,
                    branch: str | None = None) -> dict[str, int]:  # fmt: skip
        return {}

    def contact_documents(self, kinds: Sequence[str], *, branch: str | None = None) -> list:
        return []


EMPTY_JOURNAL = _EmptyJournal()


@dataclass(frozen=True, slots=True)
class CollectionState:
    """A run's view of every customer: the ledger as aged, the log, Stage and NextAction."""

    ledger: pd.DataFrame  # with disputes logged in Contacts marked
    aging: AgingResult
    contacts: pd.DataFrame
    plan: pd.DataFrame  # core.dunning.plan_dunning
    documented: int = 0  # the log's first rows: the journal's documents, in its order


def collection_state(
    loaded: LoadedBook,
    journal: Journal | _NoJournal | None,
    as_of: dt.date,
    *,
    age_from: str = "due",
    served: Mapping[str, int] | None = None,
    force: bool = False,
) -> CollectionState:
    """Age the ledger and decide Stage and NextAction from the journal and the contact log.

    `served` (customer -> highest revision issued on `as_of`) defaults to the journal's.
    Only the workbook's branch's documents count (Settings.Branch): branches sharing a
    journal may share CustomerIDs.
    Without a journal (None or NO_JOURNAL: the workbook's functions, xlwings Lite) the
    contact log is the Contacts table, where every run writes a row per document, and a
    letter logged there on `as_of` counts as served that day.
    """
    policy, documented = loaded.book.policy, 0
    if journal is None or isinstance(journal, _NoJournal):  # cells, Lite: Contacts only
        documents = documents_in_contacts(loaded)
        contacts = contact_log(loaded, documents, policy)
        if served is None:
            today = as_of.isoformat()
            served = {d.customer_id: 0 for d in documents if d.key == today}
    else:
        branch = loaded.book.settings.branch
        if served is None:
            served = journal.issued_keys(DUNNING_KINDS, as_of.isoformat(), branch=branch)
        issued = journal.contact_documents(DUNNING_KINDS, branch=branch)
        contacts = contact_log(loaded, issued, policy)
        documented = len(issued)
        del issued  # a year of a big branch's documents: the log holds what it needs
    ledger = loaded.ledger
    disputed = disputed_by_contacts(ledger, contacts)
    if disputed.any():
        ledger = ledger.assign(disputed=ledger["disputed"].to_numpy(dtype=bool) | disputed)
        ledger.attrs = dict(loaded.ledger.attrs)
    aging = age_ledger(ledger, loaded.customers, as_of, policy, age_from)
    plan = plan_dunning(aging, ledger, loaded.customers, contacts, policy, served, force)
    return CollectionState(ledger, aging, contacts, plan, documented)


@dataclass(frozen=True, slots=True)
class LoggedDocument:
    """A document as its Contacts row records it (kind, customer, stage, day, reference)."""

    kind: str
    customer_id: str
    stage: str
    key: str  # the day, ISO
    reference: str


def documents_in_contacts(loaded: LoadedBook) -> list[LoggedDocument]:
    """The documents the Contacts table records: its rows with a reference whose kind is a
    letter, a call (a call sheet) or a hand-over, as every run writes them. Where there
    is no journal to read, they stand for the journal's documents."""
    table = loaded.book.contacts
    if table is None or table.frame.empty:
        return []
    kinds = {"letter": "letter", "email": "letter", "call": "call_sheet",
             "legal_pack": "legal_pack"}  # fmt: skip
    out = []
    for row in table.frame.itertuples(index=False):
        kind = kinds.get(_KIND_OF_TEXT.get(fold(row.kind or ""), ""))
        reference = (row.reference or "").strip()
        if kind and reference and not pd.isna(row.date):
            day = pd.Timestamp(row.date).date().isoformat()
            out.append(LoggedDocument(kind, row.customer_id, row.stage or "", day, reference))
    return out


def after_issuing(state: CollectionState, loaded: LoadedBook, journal: Journal,
                  as_of: dt.date) -> CollectionState:  # fmt: skip
    """NextAction once a run's documents are in the journal: the ledger (disputes marked)
    and its aging are `state`'s (a document disputes nothing); only the contact log has
    grown (`grown_log`)."""
    policy, branch = loaded.book.policy, loaded.book.settings.branch
    contacts, documented = grown_log(state, loaded, journal)
    served = journal.issued_keys(DUNNING_KINDS, as_of.isoformat(), branch=branch)
    plan = plan_dunning(state.aging, state.ledger, loaded.customers, contacts, policy, served)
    return CollectionState(state.ledger, state.aging, contacts, plan, documented)


def grown_log(state: CollectionState, loaded: LoadedBook,
              journal: Journal) -> tuple[pd.DataFrame, int]:  # fmt: skip
    """The contact log `collection_state` built, with the documents the journal recorded
    since (a run's): read from the journal after those the log holds, when the journal
    still has the last of them in its place, and put after them, where reading the log
    whole would put them; else (a document recorded since that sorts before, another
    computer's clock behind; one the Contacts sheet already names) the log read whole
    again. A year of a big branch's documents takes seconds to read. With the count of
    the journal's documents in it."""
    policy, branch = loaded.book.policy, loaded.book.settings.branch
    done, log = state.documented, state.contacts
    if done:
        since = journal.contact_documents(DUNNING_KINDS, branch=branch, start=done - 1)
        named = _contacts_references(loaded)
        if since and since[0].reference.strip() == log["reference"].iat[done - 1] \
                and not any(d.reference.strip() in named for d in since[1:]):  # fmt: skip
            if len(since) == 1:
                return log, done
            parts = [log.iloc[:done], _journal_part(since[1:], policy), log.iloc[done:]]
            return pd.concat(parts, ignore_index=True), done + len(since) - 1
    issued = journal.contact_documents(DUNNING_KINDS, branch=branch)
    return contact_log(loaded, issued, policy), len(issued)


def _contacts_references(loaded: LoadedBook) -> set[str]:
    table = loaded.book.contacts
    if table is None or table.frame.empty:
        return set()
    return {str(r).strip() for r in table.frame["reference"] if isinstance(r, str) and r.strip()}


def contact_log(loaded: LoadedBook, documents: Sequence, policy: Policy) -> pd.DataFrame:
    """The contact log: journal documents, the Contacts sheet, and the Customers' old columns.

    `documents`: what was issued, each with .kind, .customer_id, .stage, .key and
    .reference (Journal.contact_documents; without a journal, the Contacts sheet's)."""
    issued = [d for d in documents if d.kind in DUNNING_KINDS]
    by_reference = {d.reference: d for d in issued}
    parts = [_journal_part(issued, policy)]
    logged = _logged(loaded, by_reference, policy)
    if logged:
        parts.append(contact_frame(logged))
    legacy = legacy_contacts(loaded.customers, policy.stage_index)
    if len(legacy):
        parts.append(legacy)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _journal_part(issued: Sequence, policy: Policy) -> pd.DataFrame:
    """The contact log's rows of the journal's documents (`contact_log`)."""
    stages = np.array([d.stage for d in issued], dtype=object)
    return document_contacts(
        [d.customer_id for d in issued], [d.key for d in issued], [d.kind for d in issued],
        per_distinct(stages, lambda stage: _step(policy, stage), np.int64),
        [d.reference for d in issued])  # fmt: skip


def _logged(loaded: LoadedBook, by_reference, policy: Policy) -> list[dict[str, object]]:
    """The Contacts sheet's rows, except those that only repeat a journal document."""
    table = loaded.book.contacts
    if table is None or table.frame.empty:
        return []
    call_step = next((i for i, s in enumerate(policy.stages) if "call" in s.action), -1)
    out = []
    for row in table.frame.itertuples(index=False):
        outcome = (row.outcome or "").strip()
        dispute = (row.dispute or "").strip()
        promise = row.promise_date
        document = by_reference.get((row.reference or "").strip())
        has_news = outcome or dispute or not pd.isna(promise)
        if document is not None and not has_news:
            continue  # the journal's record of the document stands for it
        kind = _KIND_OF_TEXT.get(fold(row.kind or ""), "")
        if document is not None and document.kind == "call_sheet":
            kind = kind or "call"
        step = _step(policy, row.stage)
        if step < 0 and document is not None:
            step = _step(policy, document.stage)
        if step < 0 and kind in ("call", "visit"):
            step = call_step
        out.append({
            "customer_id": row.customer_id, "date": row.date, "kind": kind or "note",
            "step": step, "reference": (row.reference or "").strip(), "outcome": outcome,
            "promise_date": promise, "promise_cents": row.promise_amount_cents,
            "dispute": dispute, "document": False,
        })  # fmt: skip
    return out


def _step(policy: Policy, stage: object) -> int:
    index = policy.stage_index(stage)
    return -1 if index is None else index


def contacts_sheet(loaded: LoadedBook, issued: Sequence, language: str) -> SheetTable:
    """The Contacts sheet: the rows already there (as the user left them) and one row per
    document just issued (a call sheet's row waits for the collector's outcome)."""
    zh = language == "zh"
    headers = CONTACT_HEADERS_ZH if zh else tuple(c.header for c in CONTACTS.columns)
    rows: list[list[object]] = []
    table = loaded.book.contacts
    if table is not None:
        for r in table.frame.itertuples(index=False):
            rows.append([
                _day(r.date), r.customer_id, r.kind or "", r.stage or "", r.reference or "",
                r.outcome or "", _day(r.promise_date), _money(r.promise_amount_cents),
                r.dispute or "", r.notes or "",
            ])  # fmt: skip
    listed = {str(row[4]).strip() for row in rows if row[4]}
    for document in issued:
        if document.reference in listed:
            continue  # already written (by the run a killed one resumed): one row each
        planned = document.planned
        kind_en, kind_zh, _ = CONTACT_KINDS["call" if planned.kind == "call_sheet" else
                                           "legal_pack" if planned.kind == "legal_pack" else
                                           "letter"]  # fmt: skip
        step = loaded.book.policy.stage_index(planned.stage)  # named in the book's language
        stage = loaded.book.policy.stages[step] if step is not None else None
        stage_name = ("" if stage is None else stage.name_zh if zh and stage.name_zh
                      else stage.name)  # fmt: skip
        rows.append([
            dt.date.fromisoformat(planned.key), planned.customer_id, kind_zh if zh else kind_en,
            stage_name, document.reference, "", None, None, "", "",
        ])  # fmt: skip
    formats = {headers[0]: "yyyy-mm-dd", headers[6]: "yyyy-mm-dd", headers[7]: "#,##0.00"}
    return SheetTable("Contacts", TITLES["zh" if zh else "en"], headers, rows,
                      number_formats=formats)  # fmt: skip


def _day(value: object) -> dt.date | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


def _money(cents: object) -> Decimal | None:
    if cents is None or pd.isna(cents):
        return None
    return to_decimal(int(cents))
