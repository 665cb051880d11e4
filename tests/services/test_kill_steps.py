"""A letters run killed at every step boundary is completed by the next run, nothing twice.

A real child process runs letters (batches of 3, e-mail drafts, PDFs where the step is
about them) and is killed with SIGKILL at one injected point: after a batch is reserved,
inside a document's write, before and after a batch is recorded, before and during the
PDF conversion, after the first drafts, before the run is closed, before the summary,
inside the summary's and the workbook's safe writes (temporary file written, not yet
swapped in), before the workbook write, and
after it, before the run's work is marked finished. The next run must leave exactly what
an uninterrupted run leaves: the same documents once each (by customer and stage), every
PDF and draft, the same LastStage and LastContactDate, one Contacts row and one History
row per document, no temporary file; a third run then changes nothing.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

from tests.services.runs import branch_workbook, check_journal_and_files, start
from xl_addin.documents.pdf import soffice
from xl_addin.journal.store import Journal, journal_url
from xl_addin.services.book import LoadedBook, load_book
from xl_addin.services.letters import LettersResult, run_letters
from xl_addin.workbook.reader import read_history_references

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from xl_addin.documents import files, pdf as pdf_module
from xl_addin.journal.store import Journal
from xl_addin.services import issuing
from xl_addin.services.letters import run_letters
from xl_addin.workbook import safe_save

book, out, point, when, nth, pdf = sys.argv[1:7]
nth, pdf = int(nth), pdf == "1"
issuing.BATCH_SIZE = 3
calls = [0]


def kill_at(original):
    def wrapped(*args, **kwargs):
        if when == "after":
            value = original(*args, **kwargs)
        calls[0] += 1
        if calls[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return value if when == "after" else original(*args, **kwargs)
    return wrapped


targets = {
    "reserve": (Journal, "reserve_references"), "link": (files.os, "link"),
    "sync": (issuing, "sync_files"), "record": (Journal, "record_batch"),
    "to_pdf": (issuing, "to_pdf"), "pdf_rename": (pdf_module.os, "replace"),
    "eml": (issuing, "write_eml"), "finish_run": (Journal, "finish_run"),
    "summary": (issuing, "write_summary"), "workbook": (issuing, "write_refresh"),
    "swap": (safe_save, "_replace"), "finish_work": (Journal, "finish_work"),
}
owner, name = targets[point]
setattr(owner, name, kill_at(getattr(owner, name)))
run_letters(Path(book), out=Path(out), pdf=pdf, email=True)
raise SystemExit("the run was not killed")
"""

NO_PDF = not soffice()
# (where, before/after, which call, with PDFs)
POINTS = [
    ("reserve", "after", 2, False),  # batch 2 reserved, nothing written
    ("link", "before", 4, False),  # a document complete under its temporary name
    ("sync", "before", 2, False),  # batch 2 written, not synced
    ("record", "before", 2, False),  # batch 2 synced, not recorded
    ("record", "after", 2, False),  # batch 2 recorded, batch 3 not begun
    ("to_pdf", "before", 1, True),  # every document recorded, no PDF
    ("pdf_rename", "before", 2, True),  # one PDF in place, the rest converted, not moved
    ("eml", "after", 2, False),  # two drafts written
    ("finish_run", "before", 1, False),  # files complete, the run still "running"
    ("summary", "before", 1, False),  # no run summary
    ("workbook", "before", 1, False),  # the workbook not written
    ("swap", "before", 1, False),  # the new run summary written beside, not swapped in
    ("swap", "before", 3, False),  # the new workbook written beside, not swapped in
    ("finish_work", "before", 1, False),  # the workbook written, the work not marked done
]


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    return branch_workbook(tmp_path_factory.mktemp("steps") / "branch.xlsx", customers=40)


def _state(book: Path, out: Path, pdf: bool):
    """What a run leaves, without the references (a killed run burns some numbers)."""
    with Journal.open(journal_url(book)) as journal:
        records = journal.documents()
        work_left = journal.unfinished_work(str(book.resolve()), "letters")
    loaded = load_book(book)
    assert isinstance(loaded, LoadedBook)
    customers = loaded.customers.set_index("customer_id")
    contacts = loaded.book.contacts.frame
    references = [r.reference for r in records]
    assert sorted(contacts["reference"][contacts["reference"] != ""]) == sorted(references)
    assert sorted(r for _, r in read_history_references(book)) == sorted(references)
    for record in records:
        file = Path(record.file)
        assert file.is_file()
        if pdf:
            assert (out / f"{file.stem}.pdf").is_file(), file.name
    drafts = sorted(p.name.split(" ", 1)[1] for p in out.glob("*.eml"))
    assert len(drafts) == len(set(drafts))
    assert not [p for p in [*out.iterdir(), *book.parent.iterdir()]
                if p.name.endswith(".tmp") or ".tmp." in p.name or p.name.startswith(".~")]
    assert (out / "summary letters 2026-11-30.xlsx").is_file()
    return {
        "documents": sorted((r.customer_id, r.kind, r.stage, r.key) for r in records),
        "drafts": drafts,
        "last": {c: (str(row["last_stage"] or ""), str(row["last_contact_date"]))
                 for c, row in customers.iterrows()},
        "work_left": work_left,
    }


@pytest.fixture(scope="module")
def uninterrupted(workbook, tmp_path_factory):
    states = {}
    for pdf in (False, True):
        if pdf and NO_PDF:
            continue
        folder = tmp_path_factory.mktemp("whole")
        book = folder / "branch.xlsx"
        shutil.copy(workbook, book)
        result = run_letters(book, out=folder / "out", pdf=pdf, email=True)
        assert isinstance(result, LettersResult) and len(result.issued.documents) > 6
        states[pdf] = _state(book, folder / "out", pdf)
    return states


@pytest.mark.parametrize(("point", "when", "nth", "pdf"), POINTS,
                         ids=[f"{p}-{w}-{n}" for p, w, n, _ in POINTS])  # fmt: skip
def test_a_run_killed_at_a_step_is_completed_by_the_next_once(
    workbook, uninterrupted, tmp_path, point, when, nth, pdf
):
    if pdf and NO_PDF:
        pytest.skip("PDF steps need LibreOffice")
    book = tmp_path / "branch.xlsx"
    shutil.copy(workbook, book)
    out = tmp_path / "out"
    killed = start(KILLED_RUN, book, out, point, when, nth, int(pdf))
    _, err = killed.communicate(timeout=600)
    assert killed.returncode == -signal.SIGKILL, err.decode()

    again = run_letters(book, out=out, pdf=pdf, email=True)
    assert isinstance(again, LettersResult), again
    state = _state(book, out, pdf)
    expected = uninterrupted[pdf]
    assert state["documents"] == expected["documents"]  # everything, once
    assert state["drafts"] == expected["drafts"]
    assert state["last"] == expected["last"]  # LastStage and LastContactDate written
    assert state["work_left"] == []
    check_journal_and_files(journal_url(book), [out], [book])

    third = run_letters(book, out=out, pdf=pdf, email=True)  # nothing left: nothing changes
    assert isinstance(third, LettersResult) and third.issued.documents == []
    assert third.issued.resumed == []
    assert _state(book, out, pdf) == state
