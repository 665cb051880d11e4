"""A refresh killed at any moment leaves the old workbook or the complete new one, never half."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
import python_calamine as calamine
from openpyxl.worksheet.table import Table

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

ROOT = Path(__file__).resolve().parents[2]
ROWS = 20_000
BUDGET_SECONDS = 30
REFRESH = """
import sys
from pathlib import Path
from xl_addin.workbook.writer import ColumnUpdate, write_refresh

path, n = Path(sys.argv[1]), int(sys.argv[2])
rows = range(2, n + 2)
update = ColumnUpdate("Ledger", 1, 1, "Ledger", rows, {"Bucket": [f"B{r}" for r in rows]})
write_refresh(path, [update], [])
"""


def ledger_book(path: Path, rows: int) -> Path:
    book = openpyxl.Workbook()
    ledger = book.active
    ledger.title = "Ledger"
    ledger.append(["CustomerID", "DocNo", "Amount"])
    for i in range(rows):
        ledger.append([f"C{i % 300:03d}", f"INV-{i}", 100 + i % 997])
    ledger.add_table(Table(displayName="Ledger", ref=f"A1:C{rows + 1}"))
    book.save(path)
    return path


def start_refresh(path: Path) -> subprocess.Popen:
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    }
    return subprocess.Popen(
        [sys.executable, "-c", REFRESH, str(path), str(ROWS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def temp_files(path: Path) -> list[Path]:
    return list(path.parent.glob(f".~{path.name}.*"))


def assert_old_or_complete_new(path: Path, old: bytes) -> str:
    """Check the file at `path` is the old workbook or a whole new one; say which."""
    data = path.read_bytes()
    values = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Ledger")
    sheet = values.to_python()
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        last = next(book["Ledger"].iter_rows(min_row=ROWS + 1, values_only=True))
    finally:
        book.close()
    if data == old:
        return "old"
    assert sheet[0][-1] == "Bucket"
    assert [row[-1] for row in sheet[1:]] == [f"B{r}" for r in range(2, ROWS + 2)]
    assert last[-1] == f"B{ROWS + 1}"
    return "new"


def test_a_killed_refresh_never_leaves_a_partial_workbook(tmp_path):
    began = time.monotonic()
    path = ledger_book(tmp_path / "branch.xlsx", ROWS)
    original = path.read_bytes()

    timed = time.monotonic()  # one whole run, to know how long a refresh takes here
    full = start_refresh(path)
    _, errors = full.communicate(timeout=120)
    assert full.returncode == 0, errors.decode()
    duration = time.monotonic() - timed
    assert assert_old_or_complete_new(path, original) == "new"

    rng = random.Random(20261130)
    outcomes = []
    iteration = 0
    while time.monotonic() - began < BUDGET_SECONDS - duration - 2 or iteration < 3:
        path.write_bytes(original)
        before = path.read_bytes()
        process = start_refresh(path)
        if iteration % 2:  # kill while the new file is being written or swapped in
            deadline = time.monotonic() + duration * 2
            while not temp_files(path) and process.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.005)
            time.sleep(rng.uniform(0, duration / 2))
        else:
            time.sleep(rng.uniform(0.05, min(2.0, duration * 1.1)))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        assert process.returncode in (-signal.SIGKILL, 0)

        outcomes.append(assert_old_or_complete_new(path, before))
        backup = path.with_name("branch.bak.xlsx")
        if backup.exists():  # a backup is also always whole
            assert calamine.CalamineWorkbook.from_path(str(backup)).sheet_names == ["Ledger"]
        for leftover in temp_files(path):  # a killed run cannot tidy up; the next one does
            assert leftover.name.endswith(".tmp.xlsx")
            leftover.unlink()
        iteration += 1
    assert len(outcomes) >= 3
