"""Issuing documents, the part letters and statements share: render, write, record, PDF, e-mail.

For each planned document: take a reference from the journal, render the
template (compiled once per run), write the file (never over another), record
it in the journal; then PDF and .eml on request, a run summary beside the
documents, and the workbook's History sheet (and, for letters, the customers'
LastStage and LastContactDate) updated through the same safe write as refresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xl_addin.core.money import to_decimal
from xl_addin.core.problems import Problem, Source
from xl_addin.documents.eml import write_eml
from xl_addin.documents.files import safe_file_name, write_new
from xl_addin.documents.pdf import to_pdf
from xl_addin.documents.render import TemplateCache
from xl_addin.journal.store import DocumentRecord, Journal, current_user, now
from xl_addin.packs.lookup import Pack, open_pack
from xl_addin.workbook.report import ReportSheet, write_report
from xl_addin.workbook.writer import SheetTable, write_refresh

Progress = Callable[[str, int, int], None]  # (what, done, total)
HISTORY_HEADERS = ("IssuedAt", "Kind", "CustomerID", "Stage", "Reference", "Revision", "File",
                   "Amount", "Currency")  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlannedDocument:
    customer_id: str
    kind: str  # letter, call_sheet, legal_pack, statement
    stage: str  # stage key, or "statement"
    template_key: str
    lang: str
    key: str  # what makes a re-run a duplicate: the as-of date or the period
    amount: Decimal
    currency: str
    context: Mapping[str, object]
    file_stem: str
    revision: int = 0
    email_to: str = ""
    subject: str = ""
    body: str = ""
    opening: Decimal | None = None
    closing: Decimal | None = None
    extra: Callable[[Path, str], Path] | None = None  # writes a companion file (hand-over pack)


@dataclass(frozen=True, slots=True)
class IssuedDocument:
    planned: PlannedDocument
    reference: str
    file: Path
    extra_file: Path | None = None
    pdf: Path | None = None
    eml: Path | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A customer a run passed over, for the run summary."""

    customer_id: str
    stage: str
    amount: Decimal
    currency: str
    reason: str


def skipped_customers(customers, base_currency: str, ids, stages, cents, reasons) -> list[Skipped]:
    """The customers a run passes over (columns of the plan), in their own currency."""
    currency = dict(zip(customers["customer_id"], customers["currency"], strict=False))

    def currency_of(customer_id: str) -> str:
        value = currency.get(customer_id)
        return value.strip() if isinstance(value, str) and value.strip() else base_currency

    return [Skipped(str(c), s if isinstance(s, str) else "", money(int(a)), currency_of(c), r)
            for c, s, a, r in zip(ids, stages, cents, reasons, strict=True)]  # fmt: skip


@dataclass(slots=True)
class IssueResult:
    run_id: int
    documents: list[IssuedDocument] = field(default_factory=list)
    set_aside: list[Path] = field(default_factory=list)
    summary: Path | None = None
    pdf_problem: str = ""


def issue(
    planned: Sequence[PlannedDocument],
    *,
    journal: Journal,
    run_id: int,
    pack: Pack,
    branch: str,
    day: dt.date,
    out_dir: Path,
    pdf: bool = False,
    email: bool = False,
    sender: str = "",
    progress: Progress = lambda *_: None,
) -> IssueResult:
    """Issue every planned document; see the module docstring for the order of steps."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = IssueResult(run_id, set_aside=_set_aside_unrecorded(journal, out_dir))
    cache = TemplateCache(pack)
    user = current_user()
    for n, document in enumerate(planned, 1):
        progress("Writing documents", n - 1, len(planned))
        template = cache.get(document.template_key, document.lang)  # compiled once per run
        target = out_dir / f"{safe_file_name(document.file_stem)}.docx"
        reference = journal.reserve_reference(run_id, branch, document.kind, day, str(target))
        target = out_dir / f"{safe_file_name(reference + ' ' + document.file_stem)}.docx"
        data = template.render({**document.context, "reference": reference})
        write_new(target, data)
        extra = document.extra(out_dir, reference) if document.extra else None
        journal.record(run_id, DocumentRecord(
            kind=document.kind, customer_id=document.customer_id, stage=document.stage,
            key=document.key, reference=reference, revision=document.revision,
            file=str(target), sha256=hashlib.sha256(data).hexdigest(), amount=document.amount,
            currency=document.currency, issued_at=now(), user=user, branch=branch,
            pack_version=pack.version, opening=document.opening, closing=document.closing,
        ))  # fmt: skip
        result.documents.append(IssuedDocument(document, reference, target, extra))
    progress("Writing documents", len(planned), len(planned))
    if pdf and result.documents:
        result.documents = _with_pdfs(result, out_dir, progress)
    if email:
        result.documents = [_with_eml(d, sender) for d in result.documents]
    return result


def unknown_customers(customers, only: Sequence[str]) -> tuple[Problem, ...]:
    """A --customer that is not in Customers, as a located problem."""
    known = set(customers["customer_id"])
    return tuple(Problem(Source("Customers"), f"no customer {c} in Customers")
                 for c in only if c not in known)  # fmt: skip


def pack_of(settings) -> Pack:
    """The workbook's template pack (Settings.TemplatePack, else the built-in one)."""
    folder = Path(settings.template_pack) if settings.template_pack else None
    return open_pack(folder, settings.branch)


def issue_run(
    planned: Sequence[PlannedDocument],
    *,
    journal: Journal,
    kind: str,
    pack: Pack,
    settings,
    as_of: dt.date | None,
    period: str | None,
    day: dt.date,
    out_dir: Path,
    summary: tuple[str, str],
    skipped: Sequence[Skipped] = (),
    pdf: bool = False,
    email: bool = False,
    progress: Progress = lambda *_: None,
) -> IssueResult:
    """One recorded run: start it, issue the documents, finish it (failed on any error),
    and write the run summary `summary` = (file name, title) beside the documents, with
    the customers the run passed over and why (`skipped`)."""
    run_id = journal.start_run(kind, as_of, period, None, settings.branch, pack.version)
    try:
        result = issue(planned, journal=journal, run_id=run_id, pack=pack,
                       branch=settings.branch, day=day, out_dir=out_dir, pdf=pdf, email=email,
                       progress=progress)  # fmt: skip
    except BaseException:
        journal.finish_run(run_id, "failed")
        raise
    journal.finish_run(run_id, "done")
    result.summary = write_summary(out_dir, summary[0], result, summary[1], skipped)
    return result


def write_back(
    path: Path, writer, updates, journal: Journal, language: str,
    progress: Progress = lambda *_: None, sheets: Sequence[SheetTable] = (),
) -> Path | None:  # fmt: skip
    """Column updates, the History sheet and any other `sheets` into the workbook: the open
    book (a button's writer) or the file, safely. (A large workbook takes a while: the step
    is shown.)"""
    progress("Updating the workbook", 0, 1)
    write = writer or (lambda columns, tables: write_refresh(path, columns, tables))
    backup = write(list(updates), [history_sheet(journal, language), *sheets])
    progress("Updating the workbook", 1, 1)
    return backup


def _with_pdfs(result: IssueResult, out_dir: Path, progress: Progress) -> list[IssuedDocument]:
    from xl_addin.errors import DocumentError

    files = [d.file for d in result.documents]
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        progress("Converting to PDF", done[0], len(files))

    try:
        pdfs = to_pdf(files, out_dir, progress=step)
    except DocumentError as error:
        result.pdf_problem = str(error)
        return result.documents
    return [
        IssuedDocument(d.planned, d.reference, d.file, d.extra_file, p, d.eml)
        for d, p in zip(result.documents, pdfs, strict=True)
    ]


def _with_eml(document: IssuedDocument, sender: str) -> IssuedDocument:
    planned = document.planned
    if not planned.email_to:
        return document
    attachment = document.pdf or document.file
    subject = planned.subject.replace("{reference}", document.reference)
    body = planned.body.replace("{reference}", document.reference)
    eml = write_eml(document.file.with_suffix(".eml"), planned.email_to, subject, body,
                    [attachment], sender or None)  # fmt: skip
    return IssuedDocument(planned, document.reference, document.file, document.extra_file,
                          document.pdf, eml)  # fmt: skip


def _set_aside_unrecorded(journal: Journal, out_dir: Path) -> list[Path]:
    """Move files of earlier runs that died before recording them out of the way."""
    moved = []
    for reference, file in journal.unrecorded():
        path = Path(file)
        candidates = [p for p in path.parent.glob(f"{safe_file_name(reference)}*") if p.is_file()]
        if candidates:
            aside = out_dir / "unrecorded"
            aside.mkdir(exist_ok=True)
            for candidate in candidates:
                target = aside / candidate.name
                shutil.move(candidate, target)
                moved.append(target)
        journal.set_aside(reference)
    return moved


def history_sheet(journal: Journal, language: str) -> SheetTable:
    """The workbook's History sheet: every document of the journal, newest last."""
    rows = [
        [d.issued_at, d.kind, d.customer_id, d.stage, d.reference, d.revision, d.file,
         d.amount, d.currency]
        for d in journal.documents()
    ]  # fmt: skip
    title = "发文记录(日志)" if language == "zh" else "Documents issued (from the journal)"
    formats = {"Amount": "#,##0.00", "IssuedAt": "yyyy-mm-dd hh:mm"}
    return SheetTable("History", title, HISTORY_HEADERS, rows, number_formats=formats)


def write_summary(
    out_dir: Path, name: str, result: IssueResult, title: str, skipped: Sequence[Skipped] = ()
) -> Path:
    """The run summary beside the documents: per stage (customers, amount), each document,
    and each customer passed over with the reason."""
    by_stage: dict[tuple[str, str], list[Decimal]] = {}
    for d in result.documents:
        by_stage.setdefault((d.planned.stage, d.planned.currency), []).append(d.planned.amount)
    stages = [(stage, currency, len(v), sum(v, Decimal(0)))
              for (stage, currency), v in sorted(by_stage.items())]  # fmt: skip
    documents = [
        (d.reference, d.planned.customer_id, d.planned.stage, d.planned.amount,
         d.planned.currency, d.file.name, d.pdf.name if d.pdf else "", d.eml.name if d.eml else "")
        for d in result.documents
    ]  # fmt: skip
    path = out_dir / name
    write_report(path, [
        ReportSheet("Summary", ("Stage", "Currency", "Customers", "Amount"), stages, (title,)),
        ReportSheet("Documents", ("Reference", "CustomerID", "Stage", "Amount", "Currency",
                                  "File", "PDF", "E-mail"), documents, (title,)),
        ReportSheet("Skipped", ("CustomerID", "Stage", "Amount", "Currency", "Reason"),
                    [(s.customer_id, s.stage, s.amount, s.currency, s.reason) for s in skipped],
                    (title,)),
    ])  # fmt: skip
    return path


def money(cents: int) -> Decimal:
    return to_decimal(int(cents))
