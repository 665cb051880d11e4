"""What stops a run before anything is issued, and what a run never hides or loses.

An unknown branch or an incomplete branch.toml, a workbook whose History the journal does
not know (a copy under a new name); --pdf without LibreOffice; the day's run summary
merged on a re-run; a copied workbook continuing its journal's references.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
import tomllib

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.books import make_book
from xl_addin.cli import app
from xl_addin.journal.store import Journal, journal_url
from xl_addin.packs.lookup import BUILTIN, open_pack
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook

runner = CliRunner()
HEADERS = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage", "Language")
CUSTOMERS = [
    ("C001", "上海华信贸易有限公司", "Standard", "CNY", 50000, "", "zh"),
    ("C002", "Harbour & Sons Ltd", "Standard", "GBP", 10000, "", "en"),
]
LEDGER = [
    ("C001", "INV", "INV-1", dt.date(2026, 9, 1), dt.date(2026, 10, 1), 12000.5, "", "N"),
    ("C002", "INV", "INV-2", dt.date(2026, 7, 1), dt.date(2026, 8, 1), 8000, "", ""),
]
AS_OF = dt.date(2026, 11, 30)


def book_with(tmp_path, name="branch.xlsx", **settings):
    return make_book(tmp_path / name, customers=CUSTOMERS, ledger=LEDGER,
                     customer_headers=HEADERS, settings=list(settings.items()))  # fmt: skip


def letters(book, *args):
    return runner.invoke(app, ["letters", str(book), *map(str, args)])


def statements(book, *args):
    return runner.invoke(app, ["statements", str(book), "--period", "2026-11", *map(str, args)])


def said(result) -> str:
    """The output as one line (rich wraps long lines at the terminal's width)."""
    return " ".join(result.output.split())


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def history_references(book) -> list[str]:
    sheet = openpyxl.load_workbook(book)["History"]
    return [sheet.cell(r, 5).value for r in range(4, sheet.max_row + 1) if sheet.cell(r, 5).value]


# --- branch ------------------------------------------------------------------------------


def test_an_unknown_branch_stops_letters_statements_and_validate_before_anything_is_written(
    tmp_path,
):
    book = book_with(tmp_path, Branch="XX")  # Settings: AsOfDate B2, Language B3, Branch B4
    before = book.read_bytes()
    expected = ('Settings!B4: branch "XX" is not in the template pack (letters): '
                "known branches LDN, SH")  # fmt: skip
    for result in (letters(book, "--out", tmp_path / "out"),
                   statements(book, "--out", tmp_path / "out"),
                   letters(book, "--dry-run")):  # fmt: skip
        assert result.exit_code == 1 and expected in said(result), result.output
    assert book.read_bytes() == before
    assert files_under(tmp_path) == ["branch.xlsx"]  # no documents, no journal
    checked = runner.invoke(app, ["validate", str(book)])
    assert checked.exit_code == 1 and expected in said(checked)


def test_the_shipped_branches_are_complete():
    for code in ("SH", "LDN"):
        pack = open_pack(None, code)
        assert code in pack.branches() and pack.branch_problems(None) == ()


COMPLETE = {"name": "HQ Hong Kong Ltd", "address": "1 Queen's Road, Hong Kong",
            "bank": "HSBC 004-123-456789-001", "phone": "+852 2000 0000"}  # fmt: skip


def pack_with_branch(tmp_path, text: str):
    pack = tmp_path / "pack"
    shutil.copytree(BUILTIN, pack)
    (pack / "branches" / "HK").mkdir()
    (pack / "branches" / "HK" / "branch.toml").write_text(text, encoding="utf-8")
    return pack


def toml_table(name: str, values: dict[str, str]) -> str:
    return f"[{name}]\n" + "".join(f'{k} = "{v}"\n' for k, v in values.items())


@pytest.mark.parametrize("missing", ["name", "address", "bank"])
def test_a_branch_file_without_legal_name_address_or_bank_stops_the_run(tmp_path, missing):
    fields = {k: v for k, v in COMPLETE.items() if k != missing}
    pack = pack_with_branch(tmp_path, toml_table("branch", fields))
    book = book_with(tmp_path, Branch="HK", TemplatePack=str(pack))
    before = book.read_bytes()
    expected = f"pack/branches/HK/branch.toml: [branch] has no {missing}"
    for result in (letters(book, "--out", tmp_path / "out"),
                   statements(book, "--out", tmp_path / "out")):  # fmt: skip
        assert result.exit_code == 1 and expected in said(result), result.output
        assert "Harbour" not in result.output  # stopped before any plan or document
    assert book.read_bytes() == before and not (tmp_path / "out").exists()
    assert not (tmp_path / "branch.journal.sqlite").exists()


def test_a_language_table_without_the_bank_is_named(tmp_path):
    # [branch] has no bank; [branch.en] gives one, [branch.zh] does not: Chinese letters lack it.
    text = (toml_table("branch", {k: v for k, v in COMPLETE.items() if k != "bank"})
            + toml_table("branch.en", {"bank": "HSBC, account 456789"})
            + toml_table("branch.zh", {"name": "香港总部有限公司"}))  # fmt: skip
    pack = pack_with_branch(tmp_path, text)
    book = book_with(tmp_path, Branch="HK", TemplatePack=str(pack))
    result = statements(book, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "pack/branches/HK/branch.toml: [branch.zh] has no bank" in said(result)
    assert "[branch.en]" not in result.output and "[branch] has no" not in result.output
    fixed = text.replace("[branch.zh]\n", '[branch.zh]\nbank = "汇丰银行 456789"\n')
    (pack / "branches" / "HK" / "branch.toml").write_text(fixed, encoding="utf-8")
    assert tomllib.loads(fixed)["branch"]["zh"]["bank"]
    assert statements(book, "--out", tmp_path / "out").exit_code == 0


def test_a_branch_folder_without_branch_toml_is_named(tmp_path):
    pack = pack_with_branch(tmp_path, "")
    (pack / "branches" / "HK" / "branch.toml").unlink()
    book = book_with(tmp_path, Branch="HK", TemplatePack=str(pack))
    result = letters(book, "--out", tmp_path / "out")
    assert result.exit_code == 1 and "pack/branches/HK/branch.toml: no such file" in said(result)


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_without_libreoffice_exits_1_listing_the_documents_which_stay_recorded(
    tmp_path, monkeypatch
):
    book = book_with(tmp_path, Branch="SH")
    nowhere = tmp_path / "no-soffice"
    nowhere.mkdir()
    monkeypatch.setenv("PATH", str(nowhere))  # shutil.which finds no LibreOffice
    result = letters(book, "--out", tmp_path / "out", "--pdf")
    assert result.exit_code == 1, result.output
    output = said(result)
    docx = sorted((tmp_path / "out").glob("*.docx"))
    assert len(docx) == 2 and not list((tmp_path / "out").glob("*.pdf"))
    assert "no PDF for 2 document(s)" in output and "LibreOffice" in output
    assert all(path.name in result.output.replace("\n", "") for path in docx)
    assert "issued and recorded in the journal" in output and "again with --pdf" in output
    assert "with PDFs" not in output
    with Journal.open(journal_url(book)) as journal:
        assert sorted(d.file for d in journal.documents()) == sorted(map(str, docx))
    assert len(history_references(book)) == 2  # the workbook knows them too
    summary = openpyxl.load_workbook(tmp_path / "out" / "summary letters 2026-11-30.xlsx")
    assert [row[6].value for row in summary["Documents"].iter_rows(min_row=4)] == [None, None]

    as_json = statements(book, "--out", tmp_path / "st", "--pdf", "--format", "json")
    assert as_json.exit_code == 1 and '"Reference"' in as_json.stdout


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_running_again_with_pdf_makes_the_missing_pdfs(tmp_path, monkeypatch):
    book = book_with(tmp_path, Branch="SH")
    path = __import__("os").environ["PATH"]
    monkeypatch.setenv("PATH", str(tmp_path))
    assert letters(book, "--out", tmp_path / "out", "--pdf").exit_code == 1
    monkeypatch.setenv("PATH", path)
    again = letters(book, "--out", tmp_path / "out", "--pdf")
    assert again.exit_code == 0, again.output
    assert "PDFs made for 2 document(s) issued earlier" in again.output
    docx = sorted((tmp_path / "out").glob("*.docx"))
    assert [p.stem for p in sorted((tmp_path / "out").glob("*.pdf"))] == [p.stem for p in docx]
    summary = openpyxl.load_workbook(tmp_path / "out" / "summary letters 2026-11-30.xlsx")
    pdfs = [row[6].value for row in summary["Documents"].iter_rows(min_row=4)]
    assert sorted(pdfs) == sorted(f"{p.stem}.pdf" for p in docx)


# --- run summary -------------------------------------------------------------------------


def test_a_same_day_rerun_merges_into_the_days_summary(tmp_path):
    book = book_with(tmp_path, Branch="SH")
    out = tmp_path / "out"
    first = letters(book, "--out", out, "--customer", "C001")
    assert first.exit_code == 0, first.output
    summary = out / "summary letters 2026-11-30.xlsx"

    def sheet_rows(name):
        sheet = openpyxl.load_workbook(summary)[name]
        return [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]

    [c001] = sheet_rows("Documents")
    assert c001[1] == "C001" and re.fullmatch(r"SH-LTR-20261130-0001", c001[0])
    second = letters(book, "--out", out)  # C001 was served today: only C002 is issued
    assert second.exit_code == 0, second.output
    documents = sheet_rows("Documents")
    assert documents[0] == c001 and [d[1] for d in documents] == ["C001", "C002"]
    assert documents[1][0] == "SH-LTR-20261130-0002"
    assert sheet_rows("Skipped") == []  # C001 was passed over today, but it was served
    stages = {(r[0], r[1]): (r[2], r[3]) for r in sheet_rows("Summary")}
    assert sum(count for count, _ in stages.values()) == 2
    assert stages[("Demand letter", "CNY")] == (1, 12000.5)  # the stage named, not its key
    assert {d[2] for d in documents} == {"Demand letter"}
    assert (out / "summary letters 2026-11-30.bak.xlsx").exists()  # replaced atomically


# --- the journal of a copied workbook ----------------------------------------------------


def test_new_names_the_journal_relative_to_the_workbooks_folder(tmp_path):
    path = tmp_path / "shanghai.xlsx"
    assert runner.invoke(app, ["new", str(path), "--branch", "SH"]).exit_code == 0
    settings = {r[0].value: r[1].value for r in openpyxl.load_workbook(path)["Settings"]
                .iter_rows(min_row=2)}  # fmt: skip
    assert settings["Journal"] == "shanghai.journal.sqlite"


def test_a_copied_workbook_continues_the_journals_references(tmp_path):
    data = make_demo_data(AS_OF, 12)
    original = tmp_path / "shanghai.xlsx"
    new_workbook(original, language="zh", branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings=data.settings)  # fmt: skip
    first_customer = data.customers.iloc[0]["CustomerID"]
    first = statements(original, "--out", tmp_path / "a", "--customer", first_customer)
    assert first.exit_code == 0, first.output
    issued = history_references(original)
    assert issued == ["SH-STM-20261130-0001"]

    copy = tmp_path / "shanghai copy.xlsx"
    shutil.copy(original, copy)
    second = statements(copy, "--out", tmp_path / "b")
    assert second.exit_code == 0, second.output
    references = history_references(copy)
    assert references[0] == "SH-STM-20261130-0001" and len(references) > 2
    assert references == [f"SH-STM-20261130-{n:04d}" for n in range(1, len(references) + 1)]
    assert len(set(references)) == len(references)  # never repeated
    assert not (tmp_path / "shanghai copy.journal.sqlite").exists()  # one journal for both
    again = statements(original, "--out", tmp_path / "c", "--force", "--customer", first_customer)
    assert again.exit_code == 0
    assert history_references(original)[-1] == f"SH-STM-20261130-{len(references) + 1:04d}"


def test_a_workbook_whose_history_the_journal_does_not_know_is_refused(tmp_path):
    # An old workbook (blank Settings.Journal) copied under a new name: its default journal
    # would be a new, empty one, and its references would start again at 0001.
    original = book_with(tmp_path, "branch.xlsx", Branch="SH")
    assert statements(original, "--out", tmp_path / "a").exit_code == 0
    copy = tmp_path / "copy.xlsx"
    shutil.copy(original, copy)
    before = copy.read_bytes()
    listing = files_under(tmp_path)
    expected = (f"History!E4: reference SH-STM-20261130-0001 is not in the journal "
                f"{tmp_path / 'copy.journal.sqlite'} (no such file; 2 of the 2 references in "
                "History are not in it): this workbook was issued from another journal; set "
                "Settings.Journal to that journal (branch.journal.sqlite in the workbook's "
                "folder has it)")  # fmt: skip
    for result in (statements(copy, "--out", tmp_path / "b", "--force"),
                   letters(copy, "--out", tmp_path / "b"),
                   letters(copy, "--dry-run")):  # fmt: skip
        assert result.exit_code == 1, result.output
        assert expected in said(result), result.output
    assert copy.read_bytes() == before and files_under(tmp_path) == listing  # nothing written
    checked = runner.invoke(app, ["validate", str(copy)])
    assert checked.exit_code == 1
    assert "History!E4: reference SH-STM-20261130-0001 is not in the journal" in said(checked)


def test_settings_journal_pointing_at_the_original_journal_lets_the_copy_continue(tmp_path):
    original = book_with(tmp_path, "branch.xlsx", Branch="SH")
    assert statements(original, "--out", tmp_path / "a", "--customer", "C001").exit_code == 0
    copy = tmp_path / "copy.xlsx"
    shutil.copy(original, copy)
    book = openpyxl.load_workbook(copy)
    settings = book["Settings"]
    settings.append(("Journal", "branch.journal.sqlite"))
    settings.tables["Settings"].ref = f"A1:B{settings.max_row}"
    book.save(copy)
    result = statements(copy, "--out", tmp_path / "b")
    assert result.exit_code == 0, result.output
    assert history_references(copy) == ["SH-STM-20261130-0001", "SH-STM-20261130-0002"]
    with sqlite3.connect(tmp_path / "branch.journal.sqlite") as db:
        assert db.execute("SELECT count(*) FROM documents").fetchone() == (2,)


def test_a_workbook_without_a_branch_issues_nothing(tmp_path):
    """No branch, no letterhead and no bank to pay to: refused before anything is issued."""
    from tests.books import make_book

    path = make_book(tmp_path / "b.xlsx", settings=[("Branch", "")])
    result = runner.invoke(app, ["letters", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "no branch: set Settings.Branch to one of LDN, SH" in result.output
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob("*.journal.sqlite"))  # not even a journal
