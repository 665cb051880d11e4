"""A statements run killed mid-batch: the next run issues exactly what is missing, nothing twice.

The run goes in batches of 4 (services.issuing.BATCH_SIZE): reserve the batch's references,
write its files, sync them, record the batch. The child process is killed (SIGKILL, no
clean-up) in the second batch, once before its files are synced and once after the sync,
just before the journal records them. The next run must set the killed batch's files aside,
issue every statement still missing once, and keep the first batch as it was recorded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from xl_addin.journal.store import Journal, journal_url
from xl_addin.services.demo import DEFAULT_AS_OF
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.statements import StatementsResult, run_statements

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-11"
KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from xl_addin.documents import files
from xl_addin.journal.store import Journal
from xl_addin.services import issuing
from xl_addin.services.statements import run_statements

book, out, where = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
issuing.BATCH_SIZE = 4
calls = {"sync": 0, "record": 0}


def kill_at(step, original):
    def wrapped(*args, **kwargs):
        calls[step] += 1
        if step == where and calls[step] == 2:  # the second batch is written, not recorded
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    return wrapped


issuing.sync_files = kill_at("sync", files.sync_files)
Journal.record_batch = kill_at("record", Journal.record_batch)
run_statements(book, period=sys.argv[4], out=out)
raise SystemExit("the run was not killed")
"""


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("kill")
    data = make_demo_data(DEFAULT_AS_OF, 24)
    path = folder / "branch.xlsx"  # its Settings.Journal: branch.journal.sqlite beside it
    new_workbook(path, language="en", branch="SH", as_of=DEFAULT_AS_OF, customers=data.customers,
                 ledger=data.ledger, settings={**data.settings, "Language": "en"})  # fmt: skip
    return path


@pytest.mark.parametrize("where", ["sync", "record"])
def test_a_run_killed_between_a_batch_written_and_recorded_is_completed_once(
    workbook, tmp_path, where
):
    book = tmp_path / "branch.xlsx"
    book.write_bytes(workbook.read_bytes())
    out = tmp_path / "statements"
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    }
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(book), str(out), where, PERIOD],
                            cwd=ROOT, env=env, capture_output=True, timeout=300)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()

    with Journal.open(journal_url(book)) as journal:
        first_batch = {d.reference: d.customer_id for d in journal.documents()}
        in_flight = journal.unrecorded()
    assert len(first_batch) == 4 and len(in_flight) == 4  # batch 1 recorded, batch 2 not
    left = sorted(p.name for p in out.glob("*.docx"))
    assert len(left) == 8  # both batches' files were written before the kill
    assert len([p for p in out.iterdir() if p.name.endswith(".tmp")]) == 0

    result = run_statements(book, period=PERIOD, out=out)
    assert isinstance(result, StatementsResult), result
    wanted = set(result.plan["customer_id"][result.plan["action"] == "send"])
    assert wanted and len(wanted) + 4 > 8  # the re-run had more than the lost batch to do
    set_aside = {p.name.split(" ", 1)[0] for p in result.issued.set_aside}
    assert set_aside == {reference for reference, _ in in_flight}
    assert all(p.parent == out / "unrecorded" and p.exists() for p in result.issued.set_aside)

    with Journal.open(journal_url(book)) as journal:
        records = journal.documents()
        assert journal.unrecorded() == []
    customers = [d.customer_id for d in records]
    assert len(customers) == len(set(customers))  # nothing issued twice
    assert set(customers) == wanted | set(first_batch.values())  # nothing missing
    assert {d.reference: d.customer_id for d in records[:4]} == first_batch  # kept as recorded
    references = [d.reference for d in records]
    assert len(set(references)) == len(references)
    assert not set(references) & set_aside  # a number set aside is never given again
    # The folder holds exactly the recorded documents; the killed batch's are set aside.
    assert sorted(p.name for p in out.glob("*.docx")) == sorted(Path(d.file).name for d in records)
