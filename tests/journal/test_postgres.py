"""The same journal on a real PostgreSQL server, shared by branches issuing at once.

The server is Debian's PostgreSQL, started for the session (tests/journal/postgres.py);
the driver is psycopg, pinned in constraints.txt.
"""

from __future__ import annotations

import time

import pytest

from tests.journal.postgres import postgres  # noqa: F401 (the fixture)
from tests.services.runs import branch_workbook, check_journal_and_files, cli, start
from tests.services.test_concurrency import RACER
from xl_addin.journal.store import Journal

OPEN_AT_ONCE = """
import sys, time
from xl_addin.journal.store import Journal
url, at = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))
with Journal.open(url) as journal:
    journal.start_run("letters", None, None, None, "SH", "1")
print("opened")
"""
HOLD_SCOPE = """
import sys, time
from xl_addin.journal.store import Journal
from xl_addin.services.run_lock import Holder
url, folder = sys.argv[1], sys.argv[2]
with Journal.open(url) as journal:
    with journal.scope_lock(f"folder:{folder}", Holder.me("statements").text()) as other:
        assert other is None
        print("held", flush=True)
        time.sleep(120)
"""


@pytest.mark.parametrize("round_", range(3))
def test_the_first_runs_on_a_new_journal_do_not_collide_creating_tables(postgres, round_):  # noqa: F811
    url = postgres.new_database()
    at = time.time() + 2
    children = [start(OPEN_AT_ONCE, url, at) for _ in range(4)]
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0 and out.strip() == b"opened", err.decode()
    with Journal.open(url) as journal, journal.engine.connect() as connection:
        runs = connection.exec_driver_sql("SELECT count(*) FROM runs").scalar()
    assert runs == 4


def test_branches_issue_at_once_into_one_postgresql_journal(postgres, tmp_path):  # noqa: F811
    url = postgres.new_database()
    books = [
        branch_workbook(tmp_path / "sh" / "branch.xlsx", "SH", 40, "SH-", journal=url),
        branch_workbook(tmp_path / "sh2" / "branch.xlsx", "SH", 40, "SX-", journal=url),
        branch_workbook(tmp_path / "ldn" / "branch.xlsx", "LDN", 40, "LDN-", journal=url),
    ]
    at = time.time() + 3  # the tables do not exist yet: the racers create them together
    children = [start(RACER, book, "-", at) for book in books]
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, out.decode() + err.decode()
    folders = [book.parent / "letters 2026-11-30" for book in books]
    total = check_journal_and_files(url, folders, books)
    with Journal.open(url) as journal:
        records = journal.documents()
    assert {r.customer_id.split("-")[0] for r in records} == {"SH", "SX", "LDN"}
    # Two workbooks of branch SH drew from one sequence per kind: no gap, no number twice.
    numbers: dict[str, list[int]] = {}
    for r in records:
        prefix, number = r.reference.rsplit("-", 1)
        numbers.setdefault(prefix, []).append(int(number))
    assert any(p.startswith("SH-") for p in numbers) and any(p.startswith("LDN-") for p in numbers)
    for taken in numbers.values():
        assert sorted(taken) == list(range(1, len(taken) + 1))
    assert total == len(records) > 12


def test_a_folder_held_in_the_journal_by_a_live_run_is_refused(postgres, tmp_path):  # noqa: F811
    url = postgres.new_database()
    book = branch_workbook(tmp_path / "branch.xlsx", journal=url)
    out = tmp_path / "out"
    out.mkdir()
    holder = start(HOLD_SCOPE, url, out.resolve())
    assert holder.stdout.readline().strip() == b"held", holder.stderr.read().decode()
    try:
        refused = cli("letters", book, "--out", out)
    finally:
        holder.kill()
        holder.communicate()
    assert refused.returncode == 1
    assert f"statements already writing into {out} since" in refused.message
    assert "(journal postgresql+psycopg://cc@127.0.0.1:" in refused.message
    assert not list(out.glob("*.docx"))
    # The holder's connection is gone with it: the server dropped the lock.
    done = cli("letters", book, "--out", out)
    assert done.returncode == 0, done.message
    check_journal_and_files(url, [out], [book])
