"""Issuing documents, the part letters and statements share: render, write, record, PDF, e-mail.

Before anything is issued (`ready_to_issue`): the branch must be one of the pack's, with
a legal name, address and bank in each language, and every reference the workbook's
History sheet lists must be in the journal (a workbook copied to a new name must not
start a journal of its own and give the same references again).

The planned documents go in batches (`BATCH_SIZE`): take the batch's references from
the journal (one transaction), render each template (compiled once per run) and write
each file (never over another), sync the batch's files to disk at once, then record
the batch in the journal (one transaction): a document is recorded only once its
bytes are on disk, and a run killed before the record leaves reservations that the
next run into the same folder finds, setting their files aside. Then PDF and .eml on
request, a run summary beside the documents (merged into the day's summary when there
is one), and the workbook's History sheet (and, for letters, the customers' LastStage
and LastContactDate) updated through the same safe write as refresh.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import functools
import hashlib
import os
import re
import shutil
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from xl_addin.core.money import to_decimal
from xl_addin.core.policy import DEFAULT_POLICY, Policy
from xl_addin.core.problems import Problem, Source
from xl_addin.documents.eml import write_eml
from xl_addin.documents.fields import unbroken
from xl_addin.documents.files import safe_file_name, sync_files, write_new
from xl_addin.documents.pdf import to_pdf
from xl_addin.documents.render import DEFAULT_LIMITS, RenderLimits, TemplateCache
from xl_addin.errors import TemplateError, WorkbookError
from xl_addin.journal.store import (
    DocumentRecord,
    Journal,
    current_user,
    journal_name,
    journal_url,
    now,
    sqlite_file,
)
from xl_addin.packs.lookup import Pack, open_pack
from xl_addin.services.history_sheet import (
    HISTORY_HEADERS,
    ListedHistory,
    file_rows,
    history_naming,
    history_sheet,
    listed_history,
    mark_written,
    marked_history,
    stage_namer,
)
from xl_addin.services.render_limits import render_limits
from xl_addin.services.run_lock import Holder, RunBusyError, folder_lock, workbook_lock
from xl_addin.workbook.reader import read_history, read_settings_and_policy
from xl_addin.workbook.report import ReportSheet, read_report, write_report
from xl_addin.workbook.safe_save import backup_path, refuse_unwritable, remove_temporaries
from xl_addin.workbook.writer import SheetTable, write_refresh

Progress = Callable[[str, int, int], None]  # (what, done, total)
BATCH_SIZE = 200  # documents per journal transaction and per sync of their files


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
    pdf: bool = False  # PDFs were asked for
    pdf_problem: str = ""
    without_pdf: list[Path] = field(default_factory=list)  # .docx left without a PDF
    earlier_pdfs: list[Path] = field(default_factory=list)  # made for documents issued before
    # Documents a killed run of the same command on the workbook recorded but did not
    # finish (PDF, e-mail draft, summary, workbook): this run finished them.
    resumed: list[IssuedDocument] = field(default_factory=list)
    removed_temporary: list[Path] = field(default_factory=list)  # left behind by a killed run

    @property
    def finished(self) -> list[IssuedDocument]:
        """The documents whose run this run completes: its own and the resumed ones."""
        return [*self.resumed, *self.documents]

    @property
    def all_pdfs(self) -> bool:
        """PDFs were asked for and every document has one."""
        return self.pdf and not self.without_pdf


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
    key: str = "",
    progress: Progress = lambda *_: None,
    work: Work | None = None,
    limits: RenderLimits = DEFAULT_LIMITS,
) -> IssueResult:
    """Issue every planned document; see the module docstring for the order of steps.

    With `pdf`, the documents recorded earlier for the same `key` (as-of date or period)
    in `out_dir` that still have no PDF are converted too: running again with --pdf makes
    the PDFs a run could not. With `work` (the command and workbook), each document is
    recorded with what it still needs, and what a killed run of the same command on the
    workbook left unfinished is finished first (its PDFs and drafts made if missing).
    Each document is rendered within `limits` (services.render_limits). The caller holds
    the output folder (services.run_lock).
    """
    cache = TemplateCache(pack)
    # Every template the run needs is compiled before the first document: a broken one
    # stops the run here, never after some customers have had their letter.
    for template_key, lang in dict.fromkeys((d.template_key, d.lang) for d in planned):
        cache.get(template_key, lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = IssueResult(run_id, set_aside=_set_aside_unrecorded(journal, out_dir), pdf=pdf)
    result.removed_temporary = remove_temporary_files(out_dir)
    if work is not None:
        result.resumed = _unfinished(journal, work)
    user = current_user()
    for start in range(0, len(planned), BATCH_SIZE):
        batch = planned[start : start + BATCH_SIZE]
        planned_files = [str(out_dir / f"{safe_file_name(d.file_stem)}.docx") for d in batch]
        references = journal.reserve_references(
            run_id, branch, day, [(d.kind, f) for d, f in zip(batch, planned_files, strict=True)]
        )
        written: list[tuple[IssuedDocument, DocumentRecord]] = []
        try:
            for n, (document, reference) in enumerate(zip(batch, references, strict=True)):
                progress("Writing documents", start + n, len(planned))
                template = cache.get(document.template_key, document.lang)
                target = out_dir / f"{safe_file_name(reference + ' ' + document.file_stem)}.docx"
                context = {**document.context, "reference": unbroken(reference)}
                data = template.render(context, limits)
                write_new(target, data, sync=False)
                extra = document.extra(out_dir, reference) if document.extra else None
                written.append((IssuedDocument(document, reference, target, extra), DocumentRecord(
                    kind=document.kind, customer_id=document.customer_id, stage=document.stage,
                    key=document.key, reference=reference, revision=document.revision,
                    file=str(target), sha256=hashlib.sha256(data).hexdigest(),
                    amount=document.amount, currency=document.currency, issued_at=now(),
                    user=user, branch=branch, pack_version=pack.version,
                    opening=document.opening, closing=document.closing,
                )))  # fmt: skip
        except BaseException:
            # The documents written before the failure are whole: record them, and close
            # the reservations of those never written (an error doing so gives way to the
            # one that stopped the run).
            with contextlib.suppress(Exception):
                _record(journal, run_id, written)
                _release_unwritten(journal, out_dir, references[len(written):])
            raise
        _record(journal, run_id, written, work, pdf, email, sender)
        result.documents.extend(issued for issued, _ in written)
    progress("Writing documents", len(planned), len(planned))
    _finish_files(result, journal, out_dir, key, pdf, email, sender, progress, branch)
    return result


def _release_unwritten(journal: Journal, out_dir: Path, references: Sequence[str]) -> None:
    """Close the reservations of a failed batch's documents that left no file (a template
    that stopped before writing): the next run has nothing of theirs to set aside. One
    with a file, whole or temporary, stays open for the next run to set aside."""
    on_disk = {_reference_of(entry.name) for entry in os.scandir(out_dir)}
    unwritten = [r for r in references if safe_file_name(r) not in on_disk]
    if unwritten:
        journal.set_aside(unwritten)


def _finish_files(result: IssueResult, journal: Journal, out_dir: Path, key: str, pdf: bool,
                  email: bool, sender: str, progress: Progress,
                  branch: str) -> None:  # fmt: skip
    """PDFs and e-mail drafts: the run's (as asked) and the resumed documents' (as their run
    asked), each made only if missing."""
    from xl_addin.errors import DocumentError

    resumed_pdf = [d.file for d in result.resumed if d.planned.context.get("pdf")
                   and d.file.exists() and not _pdf_of(d.file, d.file.parent).exists()]  # fmt: skip
    here = out_dir.resolve()
    elsewhere = [f for f in resumed_pdf if f.parent.resolve() != here]
    if pdf or resumed_pdf:
        result.pdf = result.pdf or bool(resumed_pdf)
        now_issued = {d.file for d in result.documents}
        earlier = _earlier_without_pdf(journal, out_dir, key, now_issued, branch) if pdf else []
        earlier += [f for f in resumed_pdf if f not in earlier and f not in elsewhere]
        result.documents = _with_pdfs(result, earlier, out_dir, progress)
    for folder in dict.fromkeys(f.parent for f in elsewhere):  # a killed run's other --out
        with contextlib.suppress(DocumentError):
            to_pdf([f for f in elsewhere if f.parent == folder], folder)
    result.resumed = [_found_pdf(d) for d in result.resumed]
    if email:
        result.documents = [_with_eml(d, sender) for d in result.documents]
    result.resumed = [_with_eml(d, str(d.planned.context.get("sender", "")))
                      if d.planned.context.get("email") and d.eml is None else d
                      for d in result.resumed]  # fmt: skip
    sync_files([d.eml for d in result.finished if d.eml])  # once for the run's drafts


def _found_pdf(document: IssuedDocument) -> IssuedDocument:
    pdf = _pdf_of(document.file, document.file.parent)
    return IssuedDocument(document.planned, document.reference, document.file,
                          document.extra_file, pdf if pdf.exists() else None, document.eml)


@dataclass(frozen=True, slots=True)
class Work:
    """What makes a run resumable: its command, its workbook and its run summary."""

    command: str  # letters, statements
    workbook: Path
    summary: str = ""  # the run summary's file name
    summary_title: str = ""

    @property
    def workbook_key(self) -> str:
        return str(self.workbook.resolve())


def _unfinished(journal: Journal, work: Work) -> list[IssuedDocument]:
    """The documents an earlier, killed run of `work.command` on the workbook recorded and
    did not finish, as issued documents (what they still need rides in their context)."""
    resumed = []
    for row in journal.unfinished_work(work.workbook_key, work.command):
        record: DocumentRecord = row["record"]
        file = Path(record.file)
        planned = PlannedDocument(
            customer_id=record.customer_id, kind=record.kind, stage=record.stage,
            template_key=record.stage, lang="", key=record.key, amount=record.amount,
            currency=record.currency, file_stem=file.stem, revision=record.revision,
            opening=record.opening, closing=record.closing,
            email_to=str(row["email_to"] or ""), subject=str(row["subject"] or ""),
            body=str(row["body"] or ""),
            context={"pdf": bool(row["pdf"]), "email": bool(row["email_to"]),
                     "sender": row["sender"] or "", "summary": row["summary"] or "",
                     "summary_title": row["summary_title"] or "", "run_id": row["run_id"]},
        )  # fmt: skip
        eml = file.with_suffix(".eml")
        extra = next(iter(sorted(file.parent.glob(f"{glob_escape(record.reference)} *.xlsx"))),
                     None)  # fmt: skip
        resumed.append(IssuedDocument(planned, record.reference, file, extra, None,
                                      eml if eml.exists() else None))  # fmt: skip
    return resumed


def glob_escape(text: str) -> str:
    """`text` matched literally in a glob pattern (a branch code may hold `[`, `*` or `?`)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


# documents.files.write_new's and workbook.safe_save's temporary files (a draft, a
# document, a run summary) and documents.pdf's conversion folders
TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp(\.\w+)?$|^\.~pdf-\w+$")


def remove_temporary_files(out_dir: Path) -> list[Path]:
    """Remove what killed runs left half-made in the folder: write_new's temporary files
    (a finished .docx or .eml under a temporary name, never recorded as such) and PDF
    conversion folders. The caller holds the folder, so no live run owns them."""
    removed = []
    for entry in sorted(os.scandir(out_dir), key=lambda e: e.name):
        if not TEMPORARY.match(entry.name):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _record(journal: Journal, run_id: int, written, work: Work | None = None, pdf: bool = False,
            email: bool = False, sender: str = "") -> None:  # fmt: skip
    """Sync the batch's files to disk, then record the batch, with what each document still
    needs from its run (`work`): never a record before its bytes."""
    if not written:
        return
    sync_files([issued.file for issued, _ in written]
               + [issued.extra_file for issued, _ in written if issued.extra_file])  # fmt: skip
    rows = [] if work is None else [
        {"reference": issued.reference, "run_id": run_id, "command": work.command,
         "workbook": work.workbook_key, "pdf": int(pdf),
         "email_to": issued.planned.email_to if email else "",
         "subject": issued.planned.subject.replace("{reference}", issued.reference),
         "body": issued.planned.body.replace("{reference}", issued.reference),
         "sender": sender, "summary": work.summary, "summary_title": work.summary_title}
        for issued, _ in written
    ]  # fmt: skip
    journal.record_batch(run_id, [record for _, record in written], rows)


def unknown_customers(customers, only: Sequence[str]) -> tuple[Problem, ...]:
    """A --customer that is not in Customers, as a located problem."""
    known = set(customers["customer_id"])
    return tuple(Problem(Source("Customers"), f"no customer {c} in Customers")
                 for c in only if c not in known)  # fmt: skip


def pack_of(settings) -> Pack:
    """The workbook's template pack (Settings.TemplatePack, else the built-in one)."""
    folder = Path(settings.template_pack) if settings.template_pack else None
    return open_pack(folder, settings.branch)


class Ready(NamedTuple):
    """What `ready_to_issue` found: the pack (None if the run must stop), the problems,
    and how the History sheet stands against the journal (services.history_sheet)."""

    pack: Pack | None
    problems: tuple[Problem, ...]
    history: ListedHistory | None = None


def ready_to_issue(path: Path, settings, policy: Policy = DEFAULT_POLICY,
                   first: HistoryChecked | None = None) -> Ready:  # fmt: skip
    """The run's template pack, or what stops the run before anything is issued.

    Problems: a template pack that cannot be opened, a branch the pack does not have or
    whose branch.toml lacks legal name, address or bank, a render limit in Settings or the
    pack's pack.toml that is not a number within bounds (services.render_limits), and
    History references that the journal does not know (`first`, the check run before the
    book was read, if it was run for these settings). Nothing is written (no journal is
    created). `policy` names the stages in History.
    """
    try:
        pack = pack_of(settings)
    except TemplateError as error:
        return Ready(None, (Problem(settings.source("template_pack"), str(error)),))
    if first is not None and first.made_for == _history_key(path, settings, policy):
        listed, unknown = first.listed, first.problems
    else:
        listed, unknown = history_problems(path, settings, policy)
    problems = (pack.branch_problems(settings.source("branch"))
                + render_limits(settings, pack)[1] + unknown)  # fmt: skip
    return Ready(None if problems else pack, problems, listed)


class HistoryChecked(NamedTuple):
    """`history_problems` run before the book was read (`check_history_first`), and what
    for: the journal, language, branch and naming it was run with."""

    made_for: tuple
    listed: ListedHistory | None
    problems: tuple[Problem, ...]


def check_history_first(path: Path) -> HistoryChecked | None:
    """The History check (`history_problems`) before the workbook is read whole. At a big
    branch it is the run's largest read: calamine holds the sheet whole, 350 MiB at a
    year's 450,000 rows, which on the book already read (the Ledger's frames) took a run
    past 600 MB. The Settings and the Policy are read alone for it; `ready_to_issue`
    takes its result when the book has the same. None: they cannot be read (reading the
    book says why)."""
    try:
        settings, policy = read_settings_and_policy(path)
    except WorkbookError:
        return None
    listed, problems = history_problems(path, settings, policy)
    return HistoryChecked(_history_key(path, settings, policy), listed, problems)


def release_freed_memory() -> None:
    """Give the system back what a large read freed. glibc keeps the freed small blocks of
    the heap (calamine's cells of a 450,000-row History: 85 MiB) counted in the process for
    the rest of the run; its malloc_trim returns them. Elsewhere nothing to do (macOS and
    Windows return freed memory themselves)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl)
        return
    trim(0)


def _history_key(path: Path, settings, policy: Policy) -> tuple:
    return (journal_url(path, settings.journal), settings.language, settings.branch,
            history_naming(settings.language, policy, settings.branch))  # fmt: skip


def history_problems(path: Path, settings, policy: Policy = DEFAULT_POLICY,
                     ) -> tuple[ListedHistory | None, tuple[Problem, ...]]:  # fmt: skip
    """How the History sheet stands against the journal (services.history_sheet), and a
    History reference the workbook's journal does not know, with the journal's name.

    Such a workbook was issued from another journal (a copy under a new name, whose blank
    Settings.Journal now names a journal of its own; a journal moved or lost): issuing from
    it would give again references already used. The journal is read, never created.
    """
    url = journal_url(path, settings.journal)
    file = sqlite_file(url)
    missing = file is not None and not file.exists()
    with contextlib.ExitStack() as stack:
        journal = None if missing else stack.enter_context(Journal.open(url))
        if journal is not None:  # as the last run wrote it: no need to read it
            naming = history_naming(settings.language, policy, settings.branch)
            listed = marked_history(journal, path, naming, settings.branch)
            if listed is not None:
                return listed, ()
        sheet = read_history(path)
        if sheet is None:
            return None, ()
        check = listed_history(sheet, journal, settings.language, policy, settings.branch)
        release_freed_memory()  # calamine's cells of the whole sheet, read through
        known = (journal.known_references([r for _, r in check.others])
                 if journal is not None and check.others else set())  # fmt: skip
    unknown = [(row, reference) for row, reference in check.others if reference not in known]
    if not unknown:
        return check.listed, ()
    row, reference = unknown[0]
    notes = ["no such file"] if missing else []
    if len(unknown) > 1:
        notes.append(f"{len(unknown)} of the {check.references} references in History are "
                     "not in it")  # fmt: skip
    count = f" ({'; '.join(notes)})" if notes else ""
    holders = _journals_knowing(path.parent, reference, file)
    names = ", ".join(h.name for h in holders)
    hint = f" ({names} in the workbook's folder has it)" if holders else ""
    return None, (Problem(sheet.source(row), f"reference {reference} is not in the journal "
                                  f"{journal_name(url)}{count}: this workbook was issued from "
                                  f"another journal; set Settings.Journal to that journal"
                                  f"{hint}"),)  # fmt: skip


def _journals_knowing(folder: Path, reference: str, exclude: Path | None) -> list[Path]:
    """The SQLite journals beside the workbook that recorded `reference` (read only)."""
    found = []
    for candidate in sorted(folder.glob("*.journal.sqlite")):
        if exclude is not None and candidate.resolve() == exclude.resolve():
            continue
        try:
            # immutable: no lock and no -shm/-wal files beside it (this is only a hint)
            uri = f"{candidate.resolve().as_uri()}?mode=ro&immutable=1"
            db = sqlite3.connect(uri, uri=True)
            try:
                row = db.execute("SELECT 1 FROM documents WHERE reference = ?", (reference,))
                if row.fetchone():
                    found.append(candidate)
            finally:
                db.close()
        except sqlite3.Error:
            continue  # not a journal, or locked: no hint from it
    return found


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
    workbook: Path | None = None,
    policy: Policy = DEFAULT_POLICY,
    limits: RenderLimits = DEFAULT_LIMITS,
) -> IssueResult:
    """One recorded run: start it, issue the documents, finish it (failed on any error),
    and write the run summary `summary` = (file name, title) beside the documents, with
    the customers the run passed over and why (`skipped`).

    The run holds the output folder throughout (a file lock in it and, on a database
    server, an advisory lock in the journal: services.run_lock); with `workbook`, what a
    killed run of `kind` on it left unfinished is finished too (IssueResult.resumed, the
    caller then writes them into the workbook with `write_back`)."""
    # The day's summary is written last: one open in Excel (a run again the same day) would
    # stop the run after its documents are issued, before the workbook is updated.
    refuse_unwritable(out_dir / summary[0], "nothing was issued", buttons=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Work(kind, workbook, summary[0], summary[1]) if workbook is not None else None
    with folder_lock(out_dir, kind, workbook) as holder, \
            journal_scope(journal, out_dir, holder):  # fmt: skip
        run_id = journal.start_run(kind, as_of, period, None, settings.branch, pack.version)
        key = as_of.isoformat() if as_of else str(period or "")
        try:
            result = issue(planned, journal=journal, run_id=run_id, pack=pack,
                           branch=settings.branch, day=day, out_dir=out_dir, pdf=pdf,
                           email=email, key=key, progress=progress, work=work,
                           limits=limits)  # fmt: skip
        except BaseException:
            journal.finish_run(run_id, "failed")
            raise
        journal.finish_run(run_id, "done")
        stage_name = stage_namer(policy, settings.language)
        # The same day's (or period's) summary under another name (the other language's,
        # or the name a run before file names were in the workbook's language gave it)
        # is merged into this one.
        earlier = [n for n in summary_files(kind, key) if n != summary[0]]
        result.summary = write_summary(out_dir, summary[0], result, summary[1], skipped,
                                       stage_name, settings.language, earlier)  # fmt: skip
        _resumed_summaries(result, {summary[0], *earlier}, stage_name, settings.language)
    return result


# A run summary's file name before its day or period, in the workbook's language. The
# English names are those every earlier version wrote.
SUMMARY_NAMES = {
    "letters": {"en": "summary letters", "zh": "汇总 催款函件"},
    "statements": {"en": "summary statements", "zh": "汇总 对账单"},
}  # fmt: skip


def summary_file(command: str, key: object, language: str) -> str:
    """The run summary's file name: `summary letters 2026-11-30.xlsx`, `汇总 对账单 2026-11.xlsx`
    (the key is the as-of date or the period)."""
    return f"{SUMMARY_NAMES[command]['zh' if language == 'zh' else 'en']} {key}.xlsx"


def summary_files(command: str, key: object) -> tuple[str, ...]:
    """Every name the run summary of `command` for `key` has had, in either language."""
    names = SUMMARY_NAMES.get(command, {})
    return tuple(dict.fromkeys(f"{name} {key}.xlsx" for name in names.values()))


def _resumed_summaries(result: IssueResult, written: set[str], stage_name,
                       language: str) -> None:  # fmt: skip
    """The run summaries of resumed documents whose own summary is another file (`written`:
    the names of the summary this run wrote)."""
    by_name: dict[tuple[Path, str, str], list[IssuedDocument]] = {}
    for d in result.resumed:
        name = str(d.planned.context.get("summary") or "")
        folder = d.file.parent
        if name and not (name in written and result.summary is not None
                         and folder.resolve() == result.summary.parent.resolve()):  # fmt: skip
            title = str(d.planned.context.get("summary_title") or "")
            by_name.setdefault((folder, name, title), []).append(d)
    for (folder, name, title), documents in by_name.items():
        write_summary(folder, name, IssueResult(result.run_id, documents=documents), title,
                      stage_name=stage_name, language=language)  # fmt: skip


@contextlib.contextmanager
def journal_scope(journal: Journal, out_dir: Path, holder: Holder):
    """Hold the output folder in the journal too (an advisory lock on a database server)."""
    with journal.scope_lock(f"folder:{out_dir.resolve()}", holder.text()) as other:
        if other is not None:
            found = Holder.parse(other)
            who = (f"{found.command} already writing into {out_dir} {found.describe()}"
                   if found else f"another run is writing into {out_dir}")  # fmt: skip
            raise RunBusyError(f"{who} (journal {journal_name(str(journal.engine.url))}); "
                               "nothing was issued: wait for it to finish")  # fmt: skip
        yield


def write_back(
    path: Path, writer, updates, journal: Journal, language: str,
    progress: Progress = lambda *_: None, sheets: Sequence[SheetTable] = (),
    policy: Policy = DEFAULT_POLICY, finished: IssueResult | None = None, *, branch: str,
    listed: ListedHistory | None = None,
) -> Path | None:  # fmt: skip
    """Column updates, the History sheet (the `branch`'s documents) and any other `sheets`
    into the workbook: the open book (a button's writer) or the file, safely. (A large
    workbook takes a while: the step is shown.) History is appended to when `listed`
    (`ready_to_issue`) says how it stood before the run (services.history_sheet): in the
    file, or in the open book, which the button saved just before the run (macros), so the
    check read what it holds.
    Once written, the `finished` run's documents (its own and those it resumed) need
    nothing more: the journal forgets their unfinished work."""
    progress("Updating the workbook", 0, 1)
    write = writer or (lambda columns, tables: write_refresh(path, columns, tables))
    rows_now = (file_rows(path) if writer is None
                else lambda: writer.appendable_rows("History", HISTORY_HEADERS))  # fmt: skip
    history = history_sheet(journal, language, policy, branch, listed, rows_now)
    backup = write(list(updates), [history, *sheets])
    if writer is None:
        mark_written(journal, path, history, history_naming(language, policy, branch), listed)
    if finished is not None:
        journal.finish_work([d.reference for d in finished.finished])
    progress("Updating the workbook", 1, 1)
    return backup


def holds_workbook(command: str):
    """Run a document service (path first; dry_run and writer keywords) holding the workbook:
    one run at a time per workbook (services.run_lock), a read-only workbook refused before
    anything is issued, and the temporary files of a killed save beside it removed."""

    def decorate(run):
        @functools.wraps(run)
        def locked(path, *args, dry_run: bool = False, writer=None, **kwargs):
            if dry_run:
                return run(path, *args, dry_run=dry_run, writer=writer, **kwargs)
            path = Path(path)
            with workbook_lock(path, command):
                if path.exists():
                    refuse_read_only(path, writer)
                    remove_temporaries(path)
                return run(path, *args, dry_run=dry_run, writer=writer, **kwargs)

        return locked

    return decorate


def refuse_read_only(path: Path, writer) -> None:
    """Stop before anything is issued when the workbook file cannot be written back: it
    is read-only (even for an administrator), its folder is, or Excel has it open. Not on
    the button route (`writer`): the open book saves itself."""
    if writer is None:
        refuse_unwritable(path, "nothing was issued (the documents would be issued and the "
                                "workbook not updated)")  # fmt: skip


def _with_pdfs(
    result: IssueResult, earlier: list[Path], out_dir: Path, progress: Progress
) -> list[IssuedDocument]:
    """Convert the run's documents (and `earlier` ones without a PDF); note what has none.

    A document has a PDF when its PDF exists afterwards, whatever LibreOffice said: one
    failed batch does not hide the PDFs the others made.
    """
    from xl_addin.errors import DocumentError

    files = [d.file for d in result.documents] + earlier
    if not files:
        return result.documents
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        progress("Converting to PDF", done[0], len(files))

    try:
        to_pdf(files, out_dir, progress=step)
    except DocumentError as error:
        result.pdf_problem = str(error)
    result.without_pdf = [f for f in files if not _pdf_of(f, out_dir).exists()]
    result.earlier_pdfs = [_pdf_of(f, out_dir) for f in earlier if _pdf_of(f, out_dir).exists()]
    return [
        IssuedDocument(d.planned, d.reference, d.file, d.extra_file,
                       _pdf_of(d.file, out_dir) if _pdf_of(d.file, out_dir).exists() else None,
                       d.eml)
        for d in result.documents
    ]  # fmt: skip


def _pdf_of(file: Path, out_dir: Path) -> Path:
    return out_dir / f"{file.stem}.pdf"


def _earlier_without_pdf(journal: Journal, out_dir: Path, key: str, now_issued,
                         branch: str) -> list[Path]:  # fmt: skip
    """The branch's documents recorded for `key` in `out_dir`, still there, that have no
    PDF yet."""
    if not key:
        return []
    folder = out_dir.resolve()
    found = []
    for record in journal.documents(branch=branch):
        file = Path(record.file)
        if (record.key == key and file not in now_issued and file.suffix == ".docx"
                and file.exists() and file.parent.resolve() == folder
                and not _pdf_of(file, out_dir).exists()):  # fmt: skip
            found.append(file)
    return found


def _with_eml(document: IssuedDocument, sender: str) -> IssuedDocument:
    planned = document.planned
    if not planned.email_to:
        return document
    attachment = document.pdf or document.file
    subject = planned.subject.replace("{reference}", document.reference)
    body = planned.body.replace("{reference}", document.reference)
    eml = write_eml(document.file.with_suffix(".eml"), planned.email_to, subject, body,
                    [attachment], sender or None, sync=False)  # fmt: skip
    return IssuedDocument(planned, document.reference, document.file, document.extra_file,
                          document.pdf, eml)  # fmt: skip


def _set_aside_unrecorded(journal: Journal, out_dir: Path) -> list[Path]:
    """Move files of earlier runs into `out_dir` that died before recording them out of the way.

    A document's files (.docx, companion, and a temporary file a kill left behind) are
    named after its reference: the folder is listed once, whatever the number of
    reservations. Reservations for other folders are left to the runs into those folders:
    one may be a run of another workbook on the same journal, writing its batch right now.
    """
    folder = out_dir.resolve()
    unrecorded = [reference for reference, file in journal.unrecorded()
                  if Path(file).parent.resolve() == folder]  # fmt: skip
    if not unrecorded:
        return []
    references = {safe_file_name(reference) for reference in unrecorded}
    moved = []
    aside = out_dir / "unrecorded"
    for entry in [e for e in os.scandir(out_dir) if e.is_file()]:
        if _reference_of(entry.name) in references:
            aside.mkdir(exist_ok=True)
            target = aside / entry.name
            shutil.move(entry.path, target)
            moved.append(target)
    journal.set_aside(unrecorded)
    return sorted(moved)


def _reference_of(name: str) -> str:
    """The reference a document's file name starts with (`REF stem.docx`, `.REF stem…tmp`)."""
    head = name.lstrip(".").split(" ", 1)[0]
    return head if " " in name else head.split(".", 1)[0]


SUMMARY_DOCUMENTS = ("Reference", "CustomerID", "Stage", "Amount", "Currency", "File", "PDF",
                     "E-mail")  # fmt: skip
SUMMARY_SKIPPED = ("CustomerID", "Stage", "Amount", "Currency", "Reason")
# The run summary's sheets and headings in the workbook's language: (sheet, headers) for the
# stages, the documents and the customers passed over.
SUMMARY_SHEETS = {
    "en": (("Summary", ("Stage", "Currency", "Customers", "Amount")),
           ("Documents", SUMMARY_DOCUMENTS), ("Skipped", SUMMARY_SKIPPED)),
    "zh": (("汇总", ("阶段", "币种", "客户数", "金额")),
           ("文件", ("编号", "客户编号", "阶段", "金额", "币种", "文件", "PDF", "电子邮件")),
           ("未发送", ("客户编号", "阶段", "金额", "币种", "原因"))),
}  # fmt: skip


def write_summary(
    out_dir: Path, name: str, result: IssueResult, title: str, skipped: Sequence[Skipped] = (),
    stage_name: Callable[[str], str] = str, language: str = "en", earlier: Sequence[str] = (),
) -> Path:
    """The run summary beside the documents: per stage (customers, amount), each document,
    and each customer passed over with the reason.

    A summary already there (an earlier run of the same day or period) is merged, not
    replaced: its documents stay, this run's are added, a PDF made since is filled in,
    and its Skipped list is updated (this run's reasons; a customer served since leaves
    it). The file is replaced atomically. Stages are shown by `stage_name` (see
    `stage_namer`), never as keys; sheets and headings are in `language` (an earlier
    summary in the other language is read too). The summaries named in `earlier` (the
    same run's under another name) are merged the same way, then kept as their backup
    (`<name>.bak.xlsx`): one summary per day or period, whatever the language.
    """
    path = out_dir / name
    others = [out_dir / n for n in earlier if n != name and (out_dir / n).is_file()]
    earlier_documents, earlier_skipped = [], []
    for source in (*others, path):  # the current file's rows last: they win
        for _, (documents_sheet, documents_headers), (skipped_sheet, skipped_headers) in \
                SUMMARY_SHEETS.values():  # fmt: skip
            found = read_report(source, {documents_sheet: documents_headers,
                                         skipped_sheet: skipped_headers})  # fmt: skip
            earlier_documents += found.get(documents_sheet, [])
            earlier_skipped += found.get(skipped_sheet, [])
    documents: dict[str, tuple] = {}
    for row in earlier_documents:
        pdf = _pdf_of(Path(str(row[5])), out_dir) if row[5] else None
        if not row[6] and pdf is not None and pdf.exists():
            row = (*row[:6], pdf.name, row[7])
        documents[str(row[0])] = (row[0], row[1], stage_name(row[2]), *row[3:])
    names = {name, *earlier}
    resumed_here = [d for d in result.resumed if d.planned.context.get("summary") in names
                    and d.file.parent.resolve() == out_dir.resolve()]  # fmt: skip
    for d in [*resumed_here, *result.documents]:
        documents[d.reference] = (
            d.reference, d.planned.customer_id, stage_name(d.planned.stage), d.planned.amount,
            d.planned.currency, d.file.name, d.pdf.name if d.pdf else "",
            d.eml.name if d.eml else "",
        )  # fmt: skip
    served = {row[1] for row in documents.values()}
    passed_over = {str(row[0]): (row[0], stage_name(row[1]), *row[2:])
                   for row in earlier_skipped}  # fmt: skip
    passed_over |= {s.customer_id: (s.customer_id, stage_name(s.stage), s.amount, s.currency,
                                    s.reason) for s in skipped}  # fmt: skip
    by_stage: dict[tuple[str, str], list[Decimal]] = {}
    for row in documents.values():  # an earlier summary's stage names named afresh
        by_stage.setdefault((stage_name(str(row[2])), str(row[4])), []).append(row[3])
    stages = [(stage, currency, len(v), sum(v, Decimal(0)))
              for (stage, currency), v in sorted(by_stage.items())]  # fmt: skip
    by_stage_sheet, documents_sheet, skipped_sheet = SUMMARY_SHEETS[
        "zh" if language == "zh" else "en"]
    write_report(path, [
        ReportSheet(*by_stage_sheet, stages, (title,)),
        ReportSheet(*documents_sheet, list(documents.values()), (title,)),
        ReportSheet(*skipped_sheet,
                    [row for customer, row in passed_over.items() if customer not in served],
                    (title,)),
    ], language)  # fmt: skip
    for other in others:  # merged above: kept as a backup, no longer a second summary
        with contextlib.suppress(OSError):  # open in Excel on Windows: left as it is
            os.replace(other, backup_path(other))
    return path


def money(cents: int) -> Decimal:
    return to_decimal(int(cents))
