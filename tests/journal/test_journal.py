"""The journal on a real SQLite file: references never given twice, revisions, interrupted runs."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pytest

from xl_addin.errors import JournalError
from xl_addin.journal.store import DocumentRecord, Journal, journal_url, now

DAY = dt.date(2026, 11, 30)
TAKE = """
import sys, datetime as dt
from xl_addin.journal.store import Journal
j = Journal.open(sys.argv[1])
run = j.start_run("letters", None, None, "t", "SH", "v")
print("\\n".join(j.reserve_reference(run, "SH", "letter", dt.date(2026, 11, 30), "f")
                 for _ in range(40)))
"""


def record(journal, run, reference, customer="C1", revision=0):
    journal.record(run, DocumentRecord(
        "letter", customer, "demand_letter", DAY.isoformat(), reference, revision, "f.docx",
        "0" * 64, Decimal("10.00"), "CNY", now(), "u", "SH", "v1",
    ))  # fmt: skip


def test_two_processes_at_once_never_get_the_same_reference(tmp_path):
    url = f"sqlite:///{tmp_path / 'j.sqlite'}"
    Journal.open(url).close()
    workers = [subprocess.Popen([sys.executable, "-c", TAKE, url], stdout=subprocess.PIPE,
                                text=True) for _ in range(3)]  # fmt: skip
    taken = [line for w in workers for line in w.communicate(timeout=120)[0].split()]
    assert len(taken) == 120 and len(set(taken)) == 120
    assert sorted(taken)[0] == "SH-LTR-20261130-0001" and sorted(taken)[-1].endswith("-0120")


def test_a_reference_is_recorded_once_and_revisions_are_kept(tmp_path):
    with Journal.open(f"sqlite:///{tmp_path / 'j.sqlite'}") as journal:
        run = journal.start_run("letters", DAY, None, "u", "SH", "v1")
        first = journal.reserve_reference(run, "SH", "letter", DAY, "a")
        record(journal, run, first)
        with pytest.raises(JournalError, match="already in the journal"):
            record(journal, run, first)
        second = journal.reserve_reference(run, "SH", "letter", DAY, "b")
        record(journal, run, second, revision=1)
        assert [d.revision for d in journal.issued("letter", "C1", DAY.isoformat())] == [0, 1]
        assert journal.issued_keys(("letter",), DAY.isoformat()) == {"C1": 1}


def test_an_interrupted_run_leaves_its_reservation_for_the_next_run(tmp_path):
    with Journal.open(f"sqlite:///{tmp_path / 'j.sqlite'}") as journal:
        run = journal.start_run("letters", DAY, None, "u", "SH", "v1")
        reference = journal.reserve_reference(run, "SH", "letter", DAY, str(tmp_path / "x.docx"))
        # (the process dies here, after writing the file and before recording it)
        assert journal.unrecorded() == [(reference, str(tmp_path / "x.docx"))]
        journal.set_aside(reference)
        assert journal.unrecorded() == []
        assert journal.reserve_reference(run, "SH", "letter", DAY, "y") != reference


def test_where_the_journal_lives(tmp_path):
    book = tmp_path / "branch.xlsx"
    assert journal_url(book) == f"sqlite:///{tmp_path / 'branch.journal.sqlite'}"
    assert journal_url(book, "shared/j.sqlite") == f"sqlite:///{tmp_path / 'shared/j.sqlite'}"
    assert journal_url(book, "postgresql://u@h/db") == "postgresql://u@h/db"
    with pytest.raises(JournalError, match="cannot be opened"):
        Journal.open("sqlite:////no/such/folder/j.sqlite")


TAKE_BATCHES = """
import sys, datetime as dt
from xl_addin.journal.store import Journal
j = Journal.open(sys.argv[1])
run = j.start_run("letters", None, None, "t", "SH", "v")
day = dt.date(2026, 11, 30)
for _ in range(8):
    print("\\n".join(j.reserve_references(run, "SH", day, [("letter", "f")] * 5
                                         + [("call_sheet", "g")] * 2)))
"""


def test_two_processes_taking_batches_never_share_a_reference(tmp_path):
    url = f"sqlite:///{tmp_path / 'j.sqlite'}"
    Journal.open(url).close()
    workers = [subprocess.Popen([sys.executable, "-c", TAKE_BATCHES, url],
                                stdout=subprocess.PIPE, text=True) for _ in range(3)]  # fmt: skip
    taken = [line for w in workers for line in w.communicate(timeout=120)[0].split()]
    letters = sorted(t for t in taken if "-LTR-" in t)
    calls = sorted(t for t in taken if "-CALL-" in t)
    assert len(set(taken)) == len(taken) == 3 * 8 * 7
    assert letters == [f"SH-LTR-20261130-{n:04d}" for n in range(1, 121)]  # no gap, no repeat
    assert calls == [f"SH-CALL-20261130-{n:04d}" for n in range(1, 49)]


def test_a_batch_is_numbered_in_order_and_recorded_in_one_go(tmp_path):
    with Journal.open(f"sqlite:///{tmp_path / 'j.sqlite'}") as journal:
        run = journal.start_run("letters", DAY, None, "u", "SH", "v1")
        planned = [("letter", "a"), ("call_sheet", "b"), ("letter", "c"), ("statement", "d")]
        references = journal.reserve_references(run, "SH", DAY, planned)
        assert references == ["SH-LTR-20261130-0001", "SH-CALL-20261130-0001",
                              "SH-LTR-20261130-0002", "SH-STM-20261130-0001"]  # fmt: skip
        assert sorted(journal.unrecorded()) == sorted(zip(references, "abcd", strict=True))
        records = [DocumentRecord("letter", f"C{i}", "demand_letter", DAY.isoformat(), r, 0,
                                  "f.docx", "0" * 64, Decimal("1"), "CNY", now(), "u", "SH",
                                  "v1") for i, r in enumerate(references)]  # fmt: skip
        journal.record_batch(run, records[:3])
        assert journal.unrecorded() == [(references[3], "d")]
        # a batch with one document already recorded is refused whole, naming that one
        with pytest.raises(JournalError, match=f"{references[2]}: already in the journal"):
            journal.record_batch(run, records[2:])
        assert journal.unrecorded() == [(references[3], "d")]
        assert [d.reference for d in journal.documents()] == references[:3]
        journal.set_aside([references[3]])
        assert journal.unrecorded() == []
        assert journal.reserve_references(run, "SH", DAY, [("statement", "e")]) == [
            "SH-STM-20261130-0002"  # the number set aside is never given again
        ]
