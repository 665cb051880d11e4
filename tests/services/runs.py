"""Workbooks and child processes for the concurrency, kill and shared-journal tests."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from xl_addin.journal.store import Journal
from xl_addin.services.demo import DEFAULT_AS_OF
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.workbook.reader import read_history_references

ROOT = Path(__file__).resolve().parents[2]
ENV = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
PACK = ROOT / "letters"


def files(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder`: its SHA-256 (a folder: "folder"), to show a
    refused run left everything as it was."""
    return {str(p.relative_to(folder)): "folder" if p.is_dir()
            else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))}  # fmt: skip


def issued_workbook(folder: Path) -> Path:
    """A branch workbook whose journal (and History) hold a letters run, in `folder`; the
    documents themselves removed."""
    book = branch_workbook(folder / "branch.xlsx")
    done = cli("letters", book)
    assert done.returncode == 0, done.message
    shutil.rmtree(book.parent / "letters 2026-11-30")
    return book


def branch_workbook(path: Path, branch: str = "SH", customers: int = 12, prefix: str = "",
                    journal: str = "", pack: Path | None = None,
                    settings: dict[str, object] | None = None) -> Path:  # fmt: skip
    """A demo workbook of `branch` whose customer IDs start with `prefix`, on `journal`
    (blank: its own beside it), with more Settings rows (`settings`)."""
    data = make_demo_data(DEFAULT_AS_OF, customers)
    data.customers["CustomerID"] = prefix + data.customers["CustomerID"]
    data.ledger["CustomerID"] = prefix + data.ledger["CustomerID"]
    settings = {**data.settings, "Language": "en", "Branch": branch, **(settings or {})}
    if journal:
        settings["Journal"] = journal
    if pack is not None:
        settings["TemplatePack"] = str(pack)
    path.parent.mkdir(parents=True, exist_ok=True)
    new_workbook(path, language="en", branch=branch, as_of=DEFAULT_AS_OF,
                 customers=data.customers, ledger=data.ledger, settings=settings)  # fmt: skip
    return path


def pack_with_branch(folder: Path, code: str, like: str = "SH") -> Path:
    """A copy of the built-in pack with one more branch, `code`, the copy of `like`."""
    pack = folder / "pack"
    shutil.copytree(PACK, pack, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(pack / "branches" / like, pack / "branches" / code)
    toml = pack / "branches" / code / "branch.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(f'"{like}"', f'"{code}"'),
                    encoding="utf-8")  # fmt: skip
    return pack


def start(script: str, *args: object) -> subprocess.Popen:
    """A real child process running `script` (Python source) with `args`."""
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def cli(*args: object, timeout: float = 600) -> subprocess.CompletedProcess:
    """`credit-control ARGS` in a child process; `.message`: its output on one line."""
    done = subprocess.run([sys.executable, "-m", "xl_addin.cli", *map(str, args)], cwd=ROOT,
                          env=ENV | {"COLUMNS": "500"}, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    done.message = " ".join((done.stdout + done.stderr).split())
    return done


def check_journal_and_files(url: str, folders: list[Path], workbooks: list[Path] = ()) -> int:
    """Every reference unique, every journal row has its file, every document file its row,
    nothing reserved and left open, every History reference known; return the documents."""
    with Journal.open(url) as journal:
        records = journal.documents()
        open_reservations = journal.unrecorded()
    references = [r.reference for r in records]
    assert len(references) == len(set(references)), "a reference given twice"
    identities = [(r.branch, r.kind, r.customer_id, r.key, r.revision) for r in records]
    assert len(identities) == len(set(identities)), "a document issued twice"
    missing = [r.file for r in records if not Path(r.file).is_file()]
    assert not missing, f"journal rows without their file: {missing[:3]}"
    assert open_reservations == [], f"reservations left open: {open_reservations[:3]}"
    recorded = {Path(r.file).resolve() for r in records}
    for folder in folders:
        files = {p.resolve() for p in folder.glob("*.docx")}
        assert files <= recorded, f"files without a journal row: {sorted(files - recorded)[:3]}"
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    for workbook in workbooks:
        listed = {reference for _, reference in read_history_references(workbook)}
        assert listed <= set(references)
    return len(records)
