"""The workbook's History sheet: every document the journal holds of the workbook's branch,
as the letters and statements runs write it after their documents.

A big branch's History holds a year of documents (450,000 rows, a 220 MB sheet part in
the file). Written whole at every run, it took a dozen seconds and half a gigabyte. So a
run appends to it instead, when it can tell that what it holds is what writing it whole
would write: before the run (`listed_history`), every row the sheet lists is compared
with the journal's document in the same place, named in the workbook's language and
Policy; when writing, the file's sheet must still hold that many rows and nothing under
them (workbook.writer.appendable_rows), and the journal still that document in that
place. Anything else (the language or a stage's name changed, a row edited, removed or
sorted, the sheet written by Excel in its own way, a run through the open book) writes
it whole, as before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from xl_addin.core.labels import translator
from xl_addin.core.policy import DEFAULT_POLICY, Policy
from xl_addin.journal.store import Journal
from xl_addin.workbook.convert import cell_text
from xl_addin.workbook.package import Package
from xl_addin.workbook.reader import HistorySheet
from xl_addin.workbook.updates import HEADER_ROW
from xl_addin.workbook.writer import WIDTH_SAMPLE_ROWS, SheetTable, appendable_rows

HISTORY_HEADERS = ("IssuedAt", "Kind", "CustomerID", "Stage", "Reference", "Revision", "File",
                   "Amount", "Currency")  # fmt: skip
HISTORY_TITLES = {"en": "Documents issued (from the journal)", "zh": "发文记录（日志）"}
HISTORY_FORMATS = {"Amount": "#,##0.00", "IssuedAt": "yyyy-mm-dd hh:mm"}
_SAME_TIME = dt.timedelta(seconds=1)  # a time read back from a cell: to the second

KIND_NAMES = {  # what History shows for a document's kind, per language
    "en": {"letter": "Letter", "call_sheet": "Call sheet", "legal_pack": "Hand-over pack",
           "statement": "Statement"},
    "zh": {"letter": "催款函件", "call_sheet": "电话催收单", "legal_pack": "移交材料",
           "statement": "对账单"},
}  # fmt: skip


def stage_namer(policy: Policy, language: str) -> Callable[[str], str]:
    """A function naming a stage key (or either name of it) as a person reads it: the
    policy's name in `language`, the document kind's (a statement), or the workbook's
    word for it (On hold: core.labels); else unchanged."""
    kinds = KIND_NAMES["zh" if language == "zh" else "en"]
    words = translator(policy, language)

    def stage_name(key: str) -> str:
        index = policy.stage_index(key)
        if index is None:
            return kinds.get(key, words(key)) if isinstance(key, str) else key
        stage = policy.stages[index]
        return stage.name_zh if language == "zh" and stage.name_zh else stage.name

    return stage_name


def history_row(language: str, policy: Policy) -> Callable[[Sequence], list]:
    """A function giving the History row of a document as the journal lists it
    (Journal.listed): its kind and stage named in `language` (the journal keeps keys)."""
    kinds = KIND_NAMES["zh" if language == "zh" else "en"]
    stage_name = stage_namer(policy, language)
    names: dict[str, str] = {}  # a year of documents has a handful of stages

    def row(document: Sequence) -> list:
        issued_at, kind, customer_id, stage, reference, revision, file, amount, currency = \
            document  # fmt: skip
        name = names.get(stage)
        if name is None:
            name = names[stage] = stage_name(stage)
        return [issued_at, kinds.get(kind, kind), customer_id, name, reference, revision, file,
                Decimal(amount), currency]  # fmt: skip

    return row


@dataclass(frozen=True, slots=True)
class ListedHistory:
    """The History sheet before a run, when each of its `rows` rows is the journal's
    document in the same place as writing History whole would write it, the last being
    `last` (a reference). The run appends its documents to it."""

    rows: int
    last: str


@dataclass(frozen=True, slots=True)
class HistoryCheck:
    """The History sheet against the journal: how it stands (None: written whole next
    time) and the rows listing a reference the journal's documents of the branch do not
    have in that place, (row, reference), for services.issuing to look up."""

    listed: ListedHistory | None
    others: list[tuple[int, str]]
    references: int  # the rows listing one, in all


def listed_history(sheet: HistorySheet, journal: Journal | None, language: str,
                   policy: Policy, branch: str) -> HistoryCheck:  # fmt: skip
    """Compare the History sheet with the journal's documents of `branch`, row by row, as
    both are read (neither is held whole). `journal` None: there is none yet."""
    wanted = (sheet.title == HISTORY_TITLES["zh" if language == "zh" else "en"]
              and sheet.header_row == HEADER_ROW
              and sheet.header == list(HISTORY_HEADERS))  # fmt: skip
    row_of = history_row(language, policy)
    rows, last, others = 0, "", []
    with contextlib.closing(_documents(journal, branch)) as documents:
        for number, values in enumerate(sheet.rows, start=sheet.header_row + 1):
            if wanted:
                document = next(documents, None)
                if document is not None and _written(row_of(document), values):
                    rows, last = rows + 1, document.reference
                    continue
                wanted = False
            reference = cell_text(values[sheet.reference_column])
            if reference:
                others.append((number, reference))
    if others or not rows:
        return HistoryCheck(None, others, rows + len(others))
    return HistoryCheck(ListedHistory(rows, last), [], rows)


def history_naming(language: str, policy: Policy, branch: str) -> str:
    """A digest of what a History row is made from besides its document: the language,
    the branch, the titles, and the Policy's stage names and buckets (core.labels)."""
    stages = [[s.key, s.name, s.name_zh] for s in policy.stages]
    made_of = [language, branch, HISTORY_TITLES, HISTORY_HEADERS, KIND_NAMES, stages,
               list(policy.bounds)]  # fmt: skip
    return hashlib.sha256(json.dumps(made_of, ensure_ascii=False).encode()).hexdigest()


def marked_history(journal: Journal, workbook: Path, naming: str,
                   branch: str) -> ListedHistory | None:  # fmt: skip
    """How History stands, without reading it, when the file's History part is still the
    one a run last wrote (Journal.history_mark: its CRC-32 and size), named the same way,
    and the journal still has its last document in that place. None: read it."""
    mark = journal.history_mark(str(workbook.resolve()))
    if mark is None or mark.naming != naming or _stamp(workbook) != (mark.part_crc,
                                                                     mark.part_size):  # fmt: skip
        return None
    with contextlib.closing(journal.listed(branch, mark.rows - 1)) as documents:
        document = next(documents, None)
    if document is None or document.reference != mark.last:
        return None
    return ListedHistory(mark.rows, mark.last)


def mark_written(journal: Journal, workbook: Path, sheet: SheetTable, naming: str,
                 listed: ListedHistory | None) -> None:  # fmt: skip
    """Record the History `sheet` just written into the file (see `marked_history`)."""
    if sheet.rows:
        last = sheet.rows[-1][HISTORY_HEADERS.index("Reference")]
    else:
        last = listed.last if sheet.kept_rows and listed is not None else ""
    stamp, key = _stamp(workbook), str(workbook.resolve())
    if sheet.data_rows and last and stamp is not None and len(key) <= 1000:  # the column's
        journal.mark_history(key, *stamp, sheet.data_rows, last, naming)


def _stamp(workbook: Path) -> tuple[int, int] | None:
    with Package(workbook) as package:
        entry = package.sheet("History")
        return None if entry is None else package.stamp(entry.part)


def history_sheet(journal: Journal, language: str, policy: Policy = DEFAULT_POLICY,
                  branch: str | None = None, listed: ListedHistory | None = None,
                  rows_now: Callable[[], int | None] | None = None) -> SheetTable:  # fmt: skip
    """The workbook's History sheet: every document of the journal issued by `branch` (the
    workbook's: a journal a group shares holds other branches' too), newest last, its kind
    and stage named in the workbook's language.

    With `listed` (how the sheet stood before the run) and `rows_now` (the rows the sheet
    holds now, if rows can be appended to it: `file_rows` for the file, the open book's
    writer's `appendable_rows` for a button), only the documents after those it lists, if
    the sheet still holds them and nothing under them and the journal still has its last
    document in that place; else every document (the sheet written whole)."""
    row = history_row(language, policy)
    title = HISTORY_TITLES["zh" if language == "zh" else "en"]

    def sheet(rows: list, kept: int = 0, sample: list | None = None) -> SheetTable:
        return SheetTable("History", title, HISTORY_HEADERS, rows,
                          number_formats=HISTORY_FORMATS, kept_rows=kept,
                          kept_sample=sample)  # fmt: skip

    if listed is not None and rows_now is not None and rows_now() == listed.rows:
        with contextlib.closing(journal.listed(branch, listed.rows - 1)) as documents:
            first = next(documents, None)
            if first is not None and first.reference == listed.last:
                rows = [row(d) for d in documents]
                # the columns sized from the first rows again, as a whole write sizes them
                with contextlib.closing(journal.listed(branch)) as documents:
                    sample = [row(d) for d in itertools.islice(documents, WIDTH_SAMPLE_ROWS)]
                return sheet(rows, kept=listed.rows, sample=sample)
    with contextlib.closing(journal.listed(branch)) as documents:
        return sheet([row(d) for d in documents])


def file_rows(workbook: Path) -> Callable[[], int | None]:
    """The rows of the file's History table, if rows can be appended to it (`history_sheet`)."""
    return lambda: appendable_rows(workbook, "History", HISTORY_HEADERS)


def _documents(journal: Journal | None, branch: str) -> Iterator[tuple]:
    return journal.listed(branch) if journal is not None else (d for d in ())


def _written(expected: list, found: Sequence) -> bool:
    """Whether the cells `found` (as calamine reads them) hold the row `expected`."""
    if len(found) < len(expected) or any(cell_text(v) for v in found[len(expected) :]):
        return False
    for value, cell in zip(expected, found, strict=False):
        if value is None or value == "":
            same = cell is None or cell == ""
        elif isinstance(value, dt.datetime):
            if type(cell) is dt.date:  # calamine reads a time of midnight as the day
                cell = dt.datetime.combine(cell, dt.time())
            same = isinstance(cell, dt.datetime) and abs(cell - value) < _SAME_TIME
        elif isinstance(value, int | Decimal):
            same = isinstance(cell, int | float) and float(value) == cell
        else:
            same = cell == value
        if not same:
            return False
    return True
