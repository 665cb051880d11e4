"""After issuing, a letters run grows the contact log it read by the documents it recorded,
rather than reading a year of a big branch's documents again: the log, Stage and
NextAction are those a log read whole gives, in every case. Real workbooks, journals, runs."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from tests.services.runs import branch_workbook
from tests.services.test_history_append import JUNE, LATER, seed
from xl_addin.journal.store import Journal, journal_url
from xl_addin.services import contacts as contacts_service
from xl_addin.services.book import load_book
from xl_addin.services.contacts import DUNNING_KINDS, after_issuing, collection_state, grown_log
from xl_addin.services.demo import DEFAULT_AS_OF
from xl_addin.services.letters import run_letters


@pytest.fixture
def before(tmp_path):
    """A branch's workbook with 40 earlier letters and a day's run in its journal, and its
    collection state as the next run reads it, before issuing."""
    path = branch_workbook(tmp_path / "branch.xlsx")
    seed(journal_url(path, ""), 40)
    run_letters(path, as_of=DEFAULT_AS_OF, out=tmp_path / "day1")
    loaded = load_book(path)
    with Journal.open(journal_url(path, "")) as journal:
        state = collection_state(loaded, journal, LATER)
    return path, loaded, state


def read_whole(path, loaded):
    with Journal.open(journal_url(path, "")) as journal:
        documents = journal.contact_documents(DUNNING_KINDS, branch="SH")
    return contacts_service.contact_log(loaded, documents, loaded.book.policy), len(documents)


@pytest.fixture
def reads(monkeypatch):
    """How many times the log is read whole."""
    count = []
    whole = contacts_service.contact_log

    def counted(*args):
        count.append(1)
        return whole(*args)

    monkeypatch.setattr(contacts_service, "contact_log", counted)
    return count


def test_the_run_grows_the_log_to_the_one_read_whole(before, tmp_path, reads):
    path, loaded, state = before
    assert state.documented > 40
    run = run_letters(path, as_of=LATER, out=tmp_path / "day2")
    issued = [d for d in run.issued.documents if d.planned.kind in DUNNING_KINDS]
    assert issued and len(reads) == 1  # the run read it once, before issuing, and grew it
    reads.clear()
    with Journal.open(journal_url(path, "")) as journal:
        grown, documented = grown_log(state, loaded, journal)
        assert not reads  # the documents before were not read again
        after = after_issuing(state, loaded, journal, LATER)
    whole, count = read_whole(path, loaded)
    assert documented == count == state.documented + len(issued)
    pd.testing.assert_frame_equal(grown, whole)
    pd.testing.assert_frame_equal(after.contacts, whole)
    with Journal.open(journal_url(path, "")) as journal:
        served = journal.issued_keys(DUNNING_KINDS, LATER.isoformat(), branch="SH")
    from xl_addin.core.dunning import plan_dunning

    pd.testing.assert_frame_equal(after.plan, plan_dunning(
        state.aging, state.ledger, loaded.customers, whole, loaded.book.policy, served))


def test_nothing_recorded_since_keeps_the_log(before, reads):
    path, loaded, state = before
    with Journal.open(journal_url(path, "")) as journal:
        grown, documented = grown_log(state, loaded, journal)
    assert grown is state.contacts and documented == state.documented and not reads


def test_a_document_recorded_since_that_sorts_before_means_the_log_is_read_whole(
        before, reads):  # fmt: skip
    """Another computer's clock behind: the journal puts it among those the log holds."""
    path, loaded, state = before
    seed(journal_url(path, ""), 1, JUNE - dt.timedelta(days=1), prefix="LATE")
    with Journal.open(journal_url(path, "")) as journal:
        grown, documented = grown_log(state, loaded, journal)
    whole, count = read_whole(path, loaded)
    assert reads and documented == count == state.documented + 1
    pd.testing.assert_frame_equal(grown, whole)
    assert grown["customer_id"].iat[0] == "LATE0000"


def test_a_document_the_contacts_sheet_names_means_the_log_is_read_whole(before, tmp_path,
                                                                        reads):  # fmt: skip
    """The Contacts sheet already has a row for a document the run recorded (with the
    collector's outcome): the log read whole decides what that row adds."""
    path, loaded, state = before
    run = run_letters(path, as_of=LATER, out=tmp_path / "day2")
    document = next(d for d in run.issued.documents if d.planned.kind in DUNNING_KINDS)
    reads.clear()
    table = loaded.book.contacts
    row = {column: None for column in table.frame.columns}
    row.update(customer_id=document.planned.customer_id, date=LATER, kind="Call",
               reference=document.reference, outcome="Will pay Friday")
    frame = pd.concat([table.frame, pd.DataFrame([row])], ignore_index=True)
    named = dataclasses.replace(loaded, book=dataclasses.replace(
        loaded.book, contacts=dataclasses.replace(table, frame=frame)))  # fmt: skip
    with Journal.open(journal_url(path, "")) as journal:
        grown, _ = grown_log(state, named, journal)
    assert reads
    pd.testing.assert_frame_equal(grown, read_whole(path, named)[0])
