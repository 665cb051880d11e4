"""Runs at once: one run per workbook and per output folder, and nothing lost in a race.

Real processes, real files, a real SQLite journal: a run holding the workbook or the
folder makes a second run stop with a message naming the command, since when and by whom,
having touched nothing; several workbooks sharing one journal (and some one folder) race
round after round, and afterwards every reference is unique, every journal row has its
file and every file its row.
"""

from __future__ import annotations

import os
import signal
import stat
import time
from pathlib import Path

import pytest

from tests.services.runs import (
    branch_workbook,
    check_journal_and_files,
    cli,
    pack_with_branch,
    start,
)
from xl_addin.documents.files import safe_file_name
from xl_addin.journal.store import Journal, current_user, journal_url
from xl_addin.services.letters import LettersResult, run_letters
from xl_addin.services.run_lock import workbook_lock_path

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX processes and signals")

HOLD = """
import sys, time
from pathlib import Path
from xl_addin.services.run_lock import folder_lock, workbook_lock
what, path = sys.argv[1], Path(sys.argv[2])
lock = workbook_lock(path, "letters") if what == "workbook" else folder_lock(path, "statements")
with lock:
    print("held", flush=True)
    time.sleep(120)
"""
RACE_ROUNDS = 3


def _held(what: str, path: Path):
    child = start(HOLD, what, path)
    assert child.stdout.readline().strip() == b"held", child.stderr.read().decode()
    return child


def _stop(child) -> None:
    """Kill a holder (SIGKILL: no clean-up, as a crash) and close its pipes."""
    child.send_signal(signal.SIGKILL)
    child.communicate()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_second_run_on_a_workbook_is_refused_naming_the_first(tmp_path):
    book = branch_workbook(tmp_path / "branch.xlsx")
    before = _files(tmp_path)
    holder = _held("workbook", book)
    try:
        for command in ("letters", "statements"):
            refused = cli(command, book)
            assert refused.returncode == 1, refused.stderr
            message = refused.message
            assert "letters already running on branch.xlsx since" in message
            assert f"by {current_user()}" in message and f"(process {holder.pid})" in message
    finally:
        _stop(holder)
    after = _files(tmp_path)
    after.pop(workbook_lock_path(book).name)  # the killed holder's, stale
    assert after == before  # nothing written: no journal, no documents, the workbook as it was
    assert not (tmp_path / "letters 2026-11-30").exists()
    # The holder was killed: its lock went with it, the next run goes ahead (and removes
    # the stale lock file once done).
    assert cli("letters", book).returncode == 0
    assert not workbook_lock_path(book).exists()


def test_a_run_into_a_folder_another_run_writes_into_is_refused(tmp_path):
    book = branch_workbook(tmp_path / "branch.xlsx")
    out = tmp_path / "out"
    out.mkdir()
    holder = _held("folder", out)
    try:
        refused = cli("letters", book, "--out", out)
    finally:
        _stop(holder)
    assert refused.returncode == 1
    assert f"statements already writing into {out} since" in refused.message
    assert not list(out.glob("*.docx"))
    with Journal.open(journal_url(book)) as journal:
        assert journal.documents() == [] and journal.unrecorded() == []


RACER = """
import sys, time
from pathlib import Path
from xl_addin.errors import CreditControlError
from xl_addin.services.letters import run_letters
from xl_addin.services import issuing
issuing.BATCH_SIZE = 3  # many transactions: more chances to interleave
book, out, at = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
time.sleep(max(0.0, at - time.time()))  # every racer starts at the same instant
try:
    result = run_letters(book, out=Path(out) if out != "-" else None)
except CreditControlError as error:
    print("refused:", error)
    raise SystemExit(1)
print("issued", len(result.issued.documents))
"""


def test_workbooks_sharing_a_journal_and_a_folder_race_without_losing_a_document(tmp_path):
    """Four racers a round: workbook A twice (one is refused, or finds nothing left), B and
    C (other customers, the same journal) into one shared folder, D into its own."""
    journal = tmp_path / "group.journal.sqlite"
    shared = tmp_path / "shared out"
    books = {name: branch_workbook(tmp_path / name / "branch.xlsx", prefix=f"{name}-",
                                   journal=str(journal))
             for name in "ABCD"}  # fmt: skip
    racers = [("A", "-"), ("A", "-"), ("B", shared), ("C", shared), ("D", "-")]
    outcomes: list[str] = []
    for _ in range(RACE_ROUNDS):
        at = time.time() + 3
        children = [start(RACER, books[name], out, at) for name, out in racers]
        for child in children:
            out, err = child.communicate(timeout=600)
            text = out.decode() + err.decode()
            assert child.returncode in (0, 1), text
            if child.returncode == 1:  # only ever the lock's message, never a traceback
                assert "refused:" in text and "already" in text and "since" in text, text
            outcomes.append(text.strip().splitlines()[-1] if text.strip() else "")
        folders = [shared, *(books[n].parent / "letters 2026-11-30" for n in "AD")]
        check_journal_and_files(f"sqlite:///{journal}", [f for f in folders if f.exists()],
                                list(books.values()))  # fmt: skip
    # Whatever the interleaving, each workbook ends with every customer served once: a run
    # completes what its racers left (a racer refused in every round, as C can be when B
    # always takes the shared folder first, left it all), and a run after it finds nothing.
    for name in "ABCD":
        out = shared if name in "BC" else None
        assert isinstance(run_letters(books[name], out=out), LettersResult)
        again = run_letters(books[name], out=out)
        assert isinstance(again, LettersResult) and again.issued.documents == []
    total = check_journal_and_files(f"sqlite:///{journal}",
                                    [shared, *(books[n].parent / "letters 2026-11-30"
                                               for n in "AD")], list(books.values()))  # fmt: skip
    assert total > 0
    with Journal.open(f"sqlite:///{journal}") as opened:
        documents = opened.documents()
    customers = {d.customer_id.split("-")[0] for d in documents}
    assert customers == set("ABCD")
    issued = [(d.customer_id, d.kind, d.key, d.revision) for d in documents]
    assert len(issued) == len(set(issued))  # no customer served twice the same day
    print(f"races: {RACE_ROUNDS} rounds of {len(racers)} processes, {total} documents, "
          f"{sum(o.startswith('refused') for o in outcomes)} racers refused")


def test_a_read_only_workbook_is_refused_before_anything_is_issued(tmp_path):
    book = branch_workbook(tmp_path / "branch.xlsx")
    book.chmod(0o444)
    before = _files(tmp_path)
    refused = cli("letters", book)
    assert refused.returncode == 1
    assert "branch.xlsx is read-only: nothing was issued" in refused.message
    assert _files(tmp_path) == before
    assert stat.S_IMODE(book.stat().st_mode) == 0o444
    assert not (tmp_path / "letters 2026-11-30").exists()
    assert not (tmp_path / "branch.journal.sqlite").exists()


KILLED = """
import os, signal, sys
from pathlib import Path
from xl_addin.documents.files import safe_file_name
from xl_addin.journal.store import Journal
from xl_addin.services import issuing
from xl_addin.services.letters import run_letters
issuing.BATCH_SIZE = 3
calls = [0]
original = Journal.record_batch
def record_batch(*args, **kwargs):
    calls[0] += 1
    if calls[0] == 2:  # the second batch written and synced, not recorded
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)
Journal.record_batch = record_batch
run_letters(Path(sys.argv[1]))
"""


def test_a_branch_code_with_a_bracket_does_not_defeat_the_orphan_search(tmp_path):
    pack = pack_with_branch(tmp_path, "S[H*?")
    book = branch_workbook(tmp_path / "branch.xlsx", branch="S[H*?", pack=pack)
    killed = start(KILLED, book)
    killed.communicate(timeout=600)
    assert killed.returncode == -signal.SIGKILL
    with Journal.open(journal_url(book)) as journal:
        in_flight = {reference for reference, _ in journal.unrecorded()}
    assert len(in_flight) == 3 and all(r.startswith("S[H*?-LTR-") for r in in_flight)

    result = run_letters(book)
    assert isinstance(result, LettersResult), result
    aside = {p.name.split(" ", 1)[0] for p in result.issued.set_aside}
    assert aside == {safe_file_name(r) for r in in_flight}  # the files, named S[H_-LTR-...
    out = tmp_path / "letters 2026-11-30"
    check_journal_and_files(journal_url(book), [out], [book])


def test_refresh_and_import_hold_the_workbook_too(tmp_path):
    """A refresh or an import while letters hold the workbook is refused, naming the run,
    and writes nothing (issue 13: refresh did not take the lock)."""
    from typer.testing import CliRunner

    from xl_addin.cli import app
    from xl_addin.errors import CreditControlError
    from xl_addin.services.refresh import refresh
    from xl_addin.services.run_lock import workbook_lock

    book = branch_workbook(tmp_path / "branch.xlsx")
    before = book.read_bytes()
    export = Path(__file__).resolve().parents[1] / "data" / "erp" / "ledger-layout-utf8-bom.csv"
    with workbook_lock(book, "letters"):
        with pytest.raises(CreditControlError, match=r"letters already running on branch.xlsx"):
            refresh(book)
        imported = CliRunner().invoke(app, ["import", str(book), str(export)])
        assert imported.exit_code == 1
        assert "letters already running on branch.xlsx" in " ".join(imported.output.split())
    assert book.read_bytes() == before
    assert not list(tmp_path.glob("branch.bak*"))
