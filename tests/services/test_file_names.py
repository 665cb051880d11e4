"""The files a person opens are named by their reference, then the customer and the step in
the document's language (`SH-LTR-20261130-0001 C001 上海华信贸易有限公司 催款函.docx`);
run summaries in the workbook's. Files issued before, under the old names
(`… demand_letter.docx`, `REF hand-over C009.xlsx`, `summary letters 2026-11-30.xlsx`),
are still found: set aside when never recorded, finished when a killed run left them.
"""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pytest

import xl_addin.services.issuing as issuing
import xl_addin.services.letters as letters
from tests.books import make_book
from xl_addin.journal.store import Journal, journal_url
from xl_addin.services.letters import LettersResult, run_letters
from xl_addin.services.statements import run_statements
from xl_addin.workbook.reader import read_history_references

DAY = dt.date(2026, 11, 30)
HEADERS = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage", "Language")
CUSTOMERS = [
    ("C001", "上海华信贸易有限公司", "Standard", "CNY", 50000, "", "zh"),
    ("C002", "Harbour & Sons <Ltd>", "Standard", "GBP", 10000, "Demand letter", "en"),
    ("C009", "杭州长欠实业有限公司", "Standard", "CNY", 1000, "Credit hold", "zh"),
]
LEDGER = [
    ("C001", "INV", "INV-1", dt.date(2026, 9, 1), dt.date(2026, 10, 1), 12000.5, "", "N"),
    ("C002", "INV", "INV-2", dt.date(2026, 7, 1), dt.date(2026, 8, 1), 8000, "", ""),
    ("C009", "INV", "INV-7", dt.date(2025, 1, 1), dt.date(2025, 2, 1), 900, "", ""),
]
RAW_KEY = re.compile(r"[a-z]+_[a-z]+|hand-over|statement|summary")
OLD_STEMS = {"催款函": "demand_letter", "Final notice": "final_notice", "法律程序": "legal_action"}


def book(tmp_path, language: str):
    return make_book(tmp_path / "branch.xlsx", customers=CUSTOMERS, ledger=LEDGER,
                     customer_headers=HEADERS,
                     settings=[("Branch", "SH"), ("Language", language)])  # fmt: skip


def test_documents_are_named_by_reference_then_customer_and_step_in_their_language(tmp_path):
    result = run_letters(book(tmp_path, "zh"), out=tmp_path / "out")
    assert isinstance(result, LettersResult)
    by_customer = {d.planned.customer_id: d for d in result.issued.documents}
    names = {c: d.file.name for c, d in by_customer.items()}
    refs = {c: d.reference for c, d in by_customer.items()}
    assert names == {
        "C001": f"{refs['C001']} C001 上海华信贸易有限公司 催款函.docx",
        "C002": f"{refs['C002']} C002 Harbour & Sons _Ltd_ Final notice.docx",
        "C009": f"{refs['C009']} C009 杭州长欠实业有限公司 法律程序.docx",
    }
    assert by_customer["C009"].extra_file.name == (
        f"{refs['C009']} C009 杭州长欠实业有限公司 移交材料.xlsx")
    # The run summary of a Chinese workbook, and its File column, carry no English word.
    summary = result.issued.summary
    assert summary.name == "汇总 催款函件 2026-11-30.xlsx"
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(summary)["文件"].iter_rows(
        min_row=4)]  # fmt: skip
    assert sorted(r[5] for r in rows) == sorted(d.file.name for d in by_customer.values())
    for name in [*names.values(), by_customer["C009"].extra_file.name, summary.name]:
        if not name.startswith(refs["C002"]):
            assert not RAW_KEY.search(name), name


def test_statements_and_their_summary_are_named_in_their_language(tmp_path):
    result = run_statements(book(tmp_path, "zh"), period="2026-11", out=tmp_path / "out")
    names = {d.planned.customer_id: d.file.name.split(" ", 1)[1] for d in result.issued.documents}
    assert names["C001"] == "C001 上海华信贸易有限公司 对账单 2026-11.docx"
    assert names["C002"] == "C002 Harbour & Sons _Ltd_ Statement 2026-11.docx"
    assert result.issued.summary.name == "汇总 对账单 2026-11.xlsx"


def test_an_english_workbook_keeps_its_summary_name(tmp_path):
    result = run_letters(book(tmp_path, "en"), out=tmp_path / "out")
    assert result.issued.summary.name == "summary letters 2026-11-30.xlsx"


def test_a_long_customer_name_never_cuts_the_step_off(tmp_path):
    customers = [("C001", "上海" * 60, "Standard", "CNY", 50000, "", "zh")]
    path = make_book(tmp_path / "branch.xlsx", customers=customers, ledger=LEDGER[:1],
                     customer_headers=HEADERS, settings=[("Branch", "SH")])  # fmt: skip
    [document] = run_letters(path, out=tmp_path / "out").issued.documents
    assert document.file.name.endswith(" 催款函.docx")
    assert len(document.file.name.encode()) <= 125


def test_old_name_files_of_an_unrecorded_reservation_are_set_aside(tmp_path):
    path = book(tmp_path, "zh")
    out = tmp_path / "out"
    out.mkdir()
    with Journal.open(journal_url(path)) as journal:
        run = journal.start_run("letters", DAY, None, "u", "SH", "v")
        [lost] = journal.reserve_references(run, "SH", DAY, [(
            "legal_pack", str(out / "C009 杭州长欠实业有限公司 legal_action.docx"))])  # fmt: skip
    orphans = [out / f"{lost} C009 杭州长欠实业有限公司 legal_action.docx",
               out / f"{lost} hand-over C009.xlsx"]  # as runs before this version named them
    for orphan in orphans:
        orphan.write_bytes(b"written, never recorded")
    result = run_letters(path, out=out)
    assert sorted(result.issued.set_aside) == sorted(out / "unrecorded" / p.name for p in orphans)
    assert all(d.reference != lost for d in result.issued.documents)


def test_a_run_killed_under_the_old_names_is_finished_under_the_new(tmp_path, monkeypatch):
    """Begun by an earlier version (old names, its summary `summary letters …`), killed
    before its summary: the next run keeps the recorded files as they are, lists them in
    the summary (now named in Chinese) and writes them into the workbook."""
    path = book(tmp_path, "zh")
    out = tmp_path / "out"
    old_stem = lambda customer_id, name, what: f"{customer_id} {name} {OLD_STEMS[what]}"  # noqa: E731
    monkeypatch.setattr(letters, "document_stem", old_stem)
    monkeypatch.setattr(letters, "summary_file", lambda command, key, language:
                        f"summary {command} {key}.xlsx")  # fmt: skip

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed before the summary")

    monkeypatch.setattr(issuing, "write_summary", killed)
    with pytest.raises(KeyboardInterrupt):
        run_letters(path, out=out)
    monkeypatch.undo()
    with Journal.open(journal_url(path)) as journal:
        old = {r.reference: r.file for r in journal.documents()}
    assert any(f.endswith(" demand_letter.docx") for f in old.values())
    again = run_letters(path, out=out)
    assert not again.issued.documents  # issued already: only finished
    assert {d.reference: str(d.file) for d in again.issued.resumed} == old
    assert again.issued.summary.name == "汇总 催款函件 2026-11-30.xlsx"
    assert not (out / "summary letters 2026-11-30.xlsx").exists()
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(
        again.issued.summary)["文件"].iter_rows(min_row=4)]  # fmt: skip
    assert {r[0]: r[5] for r in rows} == {ref: file.rsplit("/", 1)[1]
                                          for ref, file in old.items()}  # fmt: skip
    legal = next(d for d in again.issued.resumed if d.planned.kind == "legal_pack")
    assert legal.extra_file is not None and legal.extra_file.name.startswith(legal.reference)
    assert sorted(r for _, r in read_history_references(path)) == sorted(old)
    with Journal.open(journal_url(path)) as journal:
        assert journal.unfinished_work(str(path.resolve()), "letters") == []
