"""A workbook whose journal is gone (History lists its documents, the file beside it is
missing): close and history refuse it as letters does, naming the History row and the
journal, and make no new, empty journal in its place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.services.runs import cli, files, issued_workbook


@pytest.fixture(scope="module")
def issued(tmp_path_factory) -> Path:
    """A workbook whose History lists a letters run's documents."""
    return issued_workbook(tmp_path_factory.mktemp("issued"))


@pytest.mark.parametrize("command", ["close", "history"])  # as letters: test_issuing_safety_cli.py
def test_a_workbook_whose_journal_is_gone_is_refused(issued, tmp_path, command):
    book = tmp_path / "branch.xlsx"
    shutil.copy(issued, book)  # the journal stays behind
    before = files(tmp_path)
    refused = cli(command, book)
    assert refused.returncode == 1, refused.message
    assert "History!E4: reference SH-" in refused.message
    assert (f"is not in the journal {tmp_path / 'branch.journal.sqlite'} (no such file;"
            in refused.message)
    assert "Traceback" not in refused.message
    assert files(tmp_path) == before  # no journal made
