"""One journal for a whole group whose branches use the same CustomerIDs.

A document is the branch's: what counts as already issued, repeats, the last contact
(LastStage and the ladder), History and `history` are each branch's own, whatever the
other branches sharing the journal issue to a customer of the same ID. A journal made
before the branch was part of a document's identity opens and is upgraded in place.
Real SQLite files and a real PostgreSQL server, real processes racing.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from tests.journal.postgres import postgres  # noqa: F401 (the fixture)
from tests.services.runs import branch_workbook, check_journal_and_files, start
from tests.services.test_concurrency import RACER
from xl_addin.cli import app
from xl_addin.errors import JournalError
from xl_addin.journal.store import DOCUMENT_IDENTITY, DocumentRecord, Journal, now
from xl_addin.services.demo import DEFAULT_AS_OF
from xl_addin.services.history import history
from xl_addin.services.letters import LettersResult, run_letters
from xl_addin.workbook.reader import read_history_references, read_workbook

DAY = dt.date(2026, 11, 30)
LATER = DEFAULT_AS_OF + dt.timedelta(days=11)  # past day 1 letters' pay-by date: a next step


def document(customer: str, branch: str, reference: str, revision: int = 0) -> DocumentRecord:
    return DocumentRecord("letter", customer, "demand_letter", DAY.isoformat(), reference,
                          revision, "f.docx", "0" * 64, Decimal("10.00"), "CNY", now(), "u",
                          branch, "v1")  # fmt: skip


def test_two_branches_issue_to_the_same_customer_id_each_on_its_own(tmp_path):
    with Journal.open(f"sqlite:///{tmp_path / 'group.sqlite'}") as journal:
        sh = journal.start_run("letters", DAY, None, "u", "SH", "v1")
        ldn = journal.start_run("letters", DAY, None, "u", "LDN", "v1")
        journal.record(sh, document("C1", "SH", journal.reserve_reference(sh, "SH", "letter",
                                                                          DAY, "a")))  # fmt: skip
        # LDN's C001 is another customer: its first letter of the day is revision 0 too.
        journal.record(ldn, document("C1", "LDN", journal.reserve_reference(ldn, "LDN",
                                                                            "letter", DAY, "b")))
        with pytest.raises(JournalError, match="already in the journal"):  # SH's, twice
            journal.record(sh, document("C1", "SH", journal.reserve_reference(
                sh, "SH", "letter", DAY, "c")))  # fmt: skip
        key = DAY.isoformat()
        assert journal.issued_keys(("letter",), key, branch="SH") == {"C1": 0}
        assert journal.issued_keys(("letter",), key, branch="XX") == {}
        assert [d.branch for d in journal.issued("letter", "C1", key, branch="LDN")] == ["LDN"]
        assert [d.reference for d in journal.documents("C1", branch="LDN")] == [
            "LDN-LTR-20261130-0001"
        ]
        assert len(journal.documents()) == 2  # the group's journal: every branch's


# The journal's tables as versions before this one made them (SQLAlchemy's DDL for the
# old metadata, written out): a document's identity without its branch, the branch
# column nullable.
OLD_RUNS = """CREATE TABLE runs (
    id {id} NOT NULL, kind VARCHAR(20) NOT NULL, as_of VARCHAR(10), period VARCHAR(7),
    "user" VARCHAR(100), branch VARCHAR(20), pack_version VARCHAR(50),
    started_at {stamp} NOT NULL, finished_at {stamp}, status VARCHAR(20) NOT NULL,
    PRIMARY KEY (id))"""
OLD_DOCUMENTS = """CREATE TABLE documents (
    id {id} NOT NULL, run_id INTEGER NOT NULL, kind VARCHAR(20) NOT NULL,
    customer_id VARCHAR(100) NOT NULL, stage VARCHAR(40) NOT NULL, "key" VARCHAR(20) NOT NULL,
    reference VARCHAR(60) NOT NULL, revision INTEGER NOT NULL, file VARCHAR(500) NOT NULL,
    sha256 VARCHAR(64) NOT NULL, amount VARCHAR(40) NOT NULL, currency VARCHAR(3) NOT NULL,
    issued_at {stamp} NOT NULL, "user" VARCHAR(100), {branch}pack_version VARCHAR(50),
    opening VARCHAR(40), closing VARCHAR(40), PRIMARY KEY (id),
    UNIQUE (kind, customer_id, "key", revision), UNIQUE (reference))"""
OLD_SEQUENCES = "CREATE TABLE sequences (prefix VARCHAR(60) NOT NULL, last INTEGER NOT NULL, " \
    "PRIMARY KEY (prefix))"
OLD_ROWS = [  # run 1 of SH (one document from before documents carried a branch), run 2 of LDN
    "INSERT INTO runs VALUES (1, 'letters', '2026-11-30', '', 'u', 'SH', '1', "
    "'2026-11-30 10:00:00', '2026-11-30 10:01:00', 'done')",
    "INSERT INTO runs VALUES (2, 'letters', '2026-11-30', '', 'u', 'LDN', '1', "
    "'2026-11-30 11:00:00', '2026-11-30 11:01:00', 'done')",
    "INSERT INTO documents VALUES (1, 1, 'letter', 'C2', 'friendly_reminder', '2026-11-30', "
    "'SH-LTR-20261130-0001', 0, 'a.docx', '{sha}', '5.00', 'CNY', '2026-11-30 10:00:00', 'u', "
    "{branch}'1', NULL, NULL)",
    "INSERT INTO documents VALUES (2, 2, 'letter', 'C3', 'demand_letter', '2026-11-30', "
    "'LDN-LTR-20261130-0001', 0, 'b.docx', '{sha}', '7.00', 'GBP', '2026-11-30 11:00:00', 'u', "
    "{ldn}'1', NULL, NULL)",
    "INSERT INTO sequences VALUES ('SH-LTR-20261130', 1)",
    "INSERT INTO sequences VALUES ('LDN-LTR-20261130', 1)",
]


def old_journal(url: str, with_branch_column: bool = True) -> None:
    """A journal as the previous version left it (SH's C2 has no branch recorded)."""
    engine = create_engine(url)
    postgresql = engine.dialect.name == "postgresql"
    kinds = {"id": "SERIAL" if postgresql else "INTEGER",
             "stamp": "TIMESTAMP WITHOUT TIME ZONE" if postgresql else "DATETIME"}  # fmt: skip
    column = "branch VARCHAR(20), " if with_branch_column else ""
    values = {"sha": "0" * 64, "branch": "NULL, " if with_branch_column else "",
              "ldn": "'LDN', " if with_branch_column else ""}  # fmt: skip
    with engine.begin() as connection:
        connection.exec_driver_sql(OLD_RUNS.format(**kinds))
        connection.exec_driver_sql(OLD_DOCUMENTS.format(**kinds, branch=column))
        connection.exec_driver_sql(OLD_SEQUENCES)
        for row in OLD_ROWS:
            connection.exec_driver_sql(row.format(**values))
        if postgresql:  # the rows above were given their ids
            for table in ("runs", "documents"):
                connection.exec_driver_sql(f"SELECT setval('{table}_id_seq', 2)")
    engine.dispose()


def check_upgraded(url: str) -> None:
    """The old documents kept, each with its run's branch; the new identity in force."""
    with Journal.open(url) as journal:
        assert [(d.reference, d.customer_id, d.branch) for d in journal.documents()] == [
            ("SH-LTR-20261130-0001", "C2", "SH"), ("LDN-LTR-20261130-0001", "C3", "LDN"),
        ]  # fmt: skip
        with journal.engine.connect() as connection:
            found = inspect(connection)
            identities = [tuple(u["column_names"])
                          for u in found.get_unique_constraints("documents")]  # fmt: skip
            branch = next(c for c in found.get_columns("documents") if c["name"] == "branch")
            indexes = {i["name"]: i["column_names"] for i in found.get_indexes("documents")}
        assert DOCUMENT_IDENTITY in identities and len(identities) == 2  # and the reference
        # A customer's documents found by index (history, legal packs), made on opening.
        assert indexes["documents_branch_customer_issued"] == ["branch", "customer_id",
                                                               "issued_at", "id"]  # fmt: skip
        assert indexes["documents_branch_issued"] == ["branch", "issued_at", "id"]  # in order
        assert "documents_branch_customer" not in indexes  # the earlier one, replaced
        assert not branch["nullable"]
        # LDN's C2 is not SH's: its letter of the day is accepted; SH's C2 again is not.
        run = journal.start_run("letters", DAY, None, "u", "LDN", "1")
        journal.record(run, document("C2", "LDN", journal.reserve_reference(
            run, "LDN", "letter", DAY, "c")))  # fmt: skip
        with pytest.raises(JournalError, match="already in the journal"):
            journal.record(run, document("C2", "SH", journal.reserve_reference(
                run, "SH", "letter", DAY, "d")))  # fmt: skip
        assert journal.issued_keys(("letter",), DAY.isoformat(), branch="SH") == {"C2": 0}
        assert journal.issued_keys(("letter",), DAY.isoformat(), branch="LDN") == {
            "C2": 0, "C3": 0,
        }  # fmt: skip
        assert [d.reference for d in journal.documents(branch="LDN")] == [
            "LDN-LTR-20261130-0001", "LDN-LTR-20261130-0002",  # numbers go on from the old
        ]  # fmt: skip


OPEN_AT_ONCE = """
import sys, time
from xl_addin.journal.store import Journal
url, at = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))
with Journal.open(url) as journal:
    print(len(journal.documents(branch="SH")))
"""


@pytest.mark.parametrize("with_branch_column", [True, False])
def test_an_old_sqlite_journal_opens_and_is_upgraded(tmp_path, with_branch_column):
    url = f"sqlite:///{tmp_path / 'old.journal.sqlite'}"
    old_journal(url, with_branch_column)
    # Four runs opening it at the same instant: one upgrades, the others find it done.
    at = time.time() + 2
    children = [start(OPEN_AT_ONCE, url, at) for _ in range(4)]
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0 and out.strip() == b"1", err.decode()
    check_upgraded(url)
    before = sqlite3.connect(tmp_path / "old.journal.sqlite").execute(
        "SELECT sql FROM sqlite_master WHERE name = 'documents'").fetchone()  # fmt: skip
    Journal.open(url).close()  # upgraded already: nothing changes
    after = sqlite3.connect(tmp_path / "old.journal.sqlite").execute(
        "SELECT sql FROM sqlite_master WHERE name = 'documents'").fetchone()  # fmt: skip
    assert before == after


def test_an_old_postgresql_journal_opens_and_is_upgraded(postgres):  # noqa: F811
    url = postgres.new_database()
    old_journal(url)
    at = time.time() + 2
    children = [start(OPEN_AT_ONCE, url, at) for _ in range(3)]
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0 and out.strip() == b"1", err.decode()
    check_upgraded(url)
    Journal.open(url).close()  # again: idempotent


def documents_of(result) -> list[tuple[str, str, str, int]]:
    assert isinstance(result, LettersResult), result
    return sorted((d.planned.customer_id, d.planned.kind, d.planned.stage, d.planned.revision)
                  for d in result.issued.documents)  # fmt: skip


def customer_columns(book: Path) -> list[tuple]:
    read, _ = read_workbook(book)
    frame = read.customers.frame
    return sorted(zip(frame["customer_id"], frame["last_stage"].fillna(""),
                      frame["last_contact_date"].astype(str), strict=True))  # fmt: skip


def test_branches_with_the_same_customer_ids_each_keep_their_own_ladder(tmp_path):
    """SH and LDN, the same twelve CustomerIDs, one journal; each does exactly what it does
    alone with a journal of its own (the control): the same documents day after day, the
    same LastStage and LastContactDate, repeats refused for itself only, its own history."""
    group = f"sqlite:///{tmp_path / 'group.journal.sqlite'}"
    shared = {code: branch_workbook(tmp_path / code / "branch.xlsx", code, journal=group)
              for code in ("SH", "LDN")}  # fmt: skip
    alone = {code: branch_workbook(tmp_path / f"alone {code}" / "branch.xlsx", code)
             for code in ("SH", "LDN")}  # fmt: skip
    # Day 1: SH only. Day 2: both; LDN's first contact with its customers, SH's second.
    runs = [("SH", DEFAULT_AS_OF), ("LDN", LATER), ("SH", LATER)]
    for code, day in runs:
        together = documents_of(run_letters(shared[code], as_of=day))
        on_its_own = documents_of(run_letters(alone[code], as_of=day))
        assert together == on_its_own and together, (code, day)
        # A repeat the same day issues nothing, for this branch only.
        assert documents_of(run_letters(shared[code], as_of=day)) == []
    for code in ("SH", "LDN"):
        assert customer_columns(shared[code]) == customer_columns(alone[code])
        mine = history(shared[code])
        assert {d.branch for d in mine} == {code}
        assert sorted((d.customer_id, d.stage, d.key) for d in mine) == sorted(
            (d.customer_id, d.stage, d.key) for d in history(alone[code]))  # fmt: skip
        listed = {reference for _, reference in read_history_references(shared[code])}
        assert listed == {d.reference for d in mine}
    with Journal.open(group) as journal:
        customers = {code: {d.customer_id for d in journal.documents(branch=code)}
                     for code in ("SH", "LDN")}  # fmt: skip
    assert customers["SH"] & customers["LDN"]  # the same IDs, served by both
    # Head office's view: every branch's documents from any branch's workbook.
    everyone = history(shared["SH"], all_branches=True)
    assert sorted(d.reference for d in everyone) == sorted(
        d.reference for code in ("SH", "LDN") for d in history(shared[code]))  # fmt: skip
    listed = CliRunner().invoke(app, ["history", str(shared["LDN"]), "--all-branches",
                                      "--format", "json"])  # fmt: skip
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)["documents"]
    assert {row["Branch"] for row in rows} == {"SH", "LDN"} and len(rows) == len(everyone)
    assert all(row["Stage"] and "_" not in row["Stage"] for row in rows)  # names, not keys
    folders = [folder for book in shared.values() for folder in book.parent.glob("letters *")]
    assert len(folders) == 3
    check_journal_and_files(group, folders, list(shared.values()))


def race_two_branches(url: str, tmp_path: Path, rounds: int) -> tuple[int, int]:
    """SH (started twice) and LDN, the same CustomerIDs, racing into one journal each round;
    return (documents, racers refused)."""
    books = {code: branch_workbook(tmp_path / code / "branch.xlsx", code, 12, journal=url)
             for code in ("SH", "LDN")}  # fmt: skip
    racers = ["SH", "SH", "LDN"]
    refused = 0
    for _ in range(rounds):
        at = time.time() + 3
        children = [start(RACER, books[code], "-", at) for code in racers]
        for child in children:
            out, err = child.communicate(timeout=600)
            text = out.decode() + err.decode()
            assert child.returncode in (0, 1), text
            if child.returncode == 1:  # only the workbook lock's message, never a traceback
                assert "refused:" in text and "already running" in text, text
                refused += 1
    for code in books:  # a racer refused in every round left its work to this run
        assert isinstance(run_letters(books[code]), LettersResult)
    folders = [book.parent / "letters 2026-11-30" for book in books.values()]
    total = check_journal_and_files(url, folders, list(books.values()))
    with Journal.open(url) as journal:
        served = {code: sorted((d.customer_id, d.kind, d.stage)
                               for d in journal.documents(branch=code))
                  for code in books}  # fmt: skip
        references = {code: {d.reference.split("-")[0] for d in journal.documents(branch=code)}
                      for code in books}  # fmt: skip
    # The same customers and data: each branch served every customer once, on its own.
    assert served["SH"] == served["LDN"] and served["SH"]
    assert references == {"SH": {"SH"}, "LDN": {"LDN"}}
    return total, refused


def test_two_branches_with_the_same_customer_ids_race_into_one_sqlite_journal(tmp_path):
    total, refused = race_two_branches(f"sqlite:///{tmp_path / 'group.journal.sqlite'}",
                                       tmp_path, rounds=2)  # fmt: skip
    print(f"same-ID race (SQLite): 2 rounds of 3 processes, {total} documents, "
          f"{refused} racers refused")


def test_two_branches_with_the_same_customer_ids_race_into_one_postgresql_journal(
    postgres, tmp_path  # noqa: F811
):
    total, refused = race_two_branches(postgres.new_database(), tmp_path, rounds=2)
    print(f"same-ID race (PostgreSQL): 2 rounds of 3 processes, {total} documents, "
          f"{refused} racers refused")


def test_a_journal_made_before_the_customer_index_gets_it_on_opening(tmp_path):
    """A customer's documents in order (history, legal packs) by the index, not by the
    branch's: the earlier index, on the customer only, is replaced."""
    path = tmp_path / "j.sqlite"
    Journal.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as connection:
        connection.execute("DROP INDEX documents_branch_customer_issued")
        connection.execute("CREATE INDEX documents_branch_customer ON documents (branch, "
                           "customer_id)")  # fmt: skip
    with Journal.open(f"sqlite:///{path}") as journal, journal.engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT * FROM documents WHERE branch = 'SH' AND customer_id = 'C1'"
            " ORDER BY issued_at, id"
        ).all()
        names = [row[1] for row in connection.exec_driver_sql("PRAGMA index_list(documents)")]
    assert "documents_branch_customer_issued" in str(plan) and "TEMP B-TREE" not in str(plan)
    assert "documents_branch_customer" not in names


def test_a_journal_made_before_the_order_index_gets_it_and_lists_a_branch_unsorted(tmp_path):
    """History and the contact log read a branch's documents in order from any one
    (Journal.listed, contact_documents): by the index, without sorting a year of
    documents first."""
    path = tmp_path / "j.sqlite"
    Journal.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as connection:
        connection.execute("DROP INDEX documents_branch_issued")
    with Journal.open(f"sqlite:///{path}") as journal, journal.engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT reference FROM documents WHERE branch = 'SH' AND kind IN "
            "('letter', 'call_sheet') ORDER BY issued_at, id LIMIT -1 OFFSET 5"
        ).all()
    assert "documents_branch_issued" in str(plan) and "TEMP B-TREE" not in str(plan)
