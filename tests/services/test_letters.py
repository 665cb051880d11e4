"""The dunning run end to end on a real workbook: documents read back, journal, workbook."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from tests.books import make_book, write_sheet
from xl_addin.cli import app
from xl_addin.documents.fields import NON_BREAKING_HYPHEN
from xl_addin.journal.store import DocumentRecord, Journal, journal_url, now
from xl_addin.services.letters import LettersResult, run_letters
from xl_addin.workbook.schema import CONTACTS

runner = CliRunner()
CUSTOMERS = [
    ("C001", "上海华信贸易有限公司", "Standard", "CNY", 50000, "", "zh"),
    ("C002", "Harbour & Sons <Ltd>", "Standard", "GBP", 10000, "Demand letter", "en"),
]
LEDGER = [
    ("C001", "INV", "INV-1", dt.date(2026, 9, 1), dt.date(2026, 10, 1), 12000.5, "", "N"),
    ("C001", "PAY", "PAY-1", dt.date(2026, 10, 15), None, 2000, "INV-1", "N"),
    ("C002", "INV", "INV-2", dt.date(2026, 7, 1), dt.date(2026, 8, 1), 8000, "", ""),
]
HEADERS = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage", "Language")


def text_of(path) -> str:
    """The document's text as a reader sees it: a reference's non-breaking hyphens (U+2011,
    which keep it on one line) read as hyphens."""
    document = docx.Document(path)
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join(parts).replace(NON_BREAKING_HYPHEN, "-")


@pytest.fixture
def book(tmp_path):
    return make_book(tmp_path / "branch.xlsx", customers=CUSTOMERS, ledger=LEDGER,
                     customer_headers=HEADERS)  # fmt: skip


def test_letters_in_both_languages_carry_the_facts(book, tmp_path):
    result = run_letters(book, out=tmp_path / "out")
    assert isinstance(result, LettersResult)
    by_customer = {d.planned.customer_id: d for d in result.issued.documents}
    zh = text_of(by_customer["C001"].file)
    # 12,000.50 - 2,000.00 paid = 10,000.50, 60 days overdue: a demand letter (first contact cap)
    assert "催 款 函" in zh and "上海华信贸易有限公司" in zh and "INV-1" in zh
    assert "10,000.50" in zh and "人民币壹万元伍角" in zh and "2026年11月30日" in zh
    assert by_customer["C001"].reference in zh
    en = text_of(by_customer["C002"].file)
    # last step Demand letter, 121 days overdue: one step up to the final notice
    assert "Final notice" in en and "Harbour & Sons <Ltd>" in en and "8,000.00" in en
    assert "eight thousand" in en.lower() and "30 November 2026" in en
    assert "Late Payment of Commercial Debts" in en  # GBP: statutory interest is claimed
    assert re.fullmatch(r"LDN-LTR-20261130-000\d", by_customer["C002"].reference)


def test_journal_workbook_and_no_duplicate_on_rerun(book, tmp_path):
    first = run_letters(book, out=tmp_path / "out")
    refs = {d.reference for d in first.issued.documents}
    with Journal.open(journal_url(book)) as journal:
        recorded = journal.documents()
        assert {d.reference for d in recorded} == refs and len(recorded) == 2
        assert all(len(d.sha256) == 64 for d in recorded)
    customers = openpyxl.load_workbook(book)["Customers"]
    header = [c.value for c in customers[1]]
    stage = header.index("LastStage") + 1
    contact = header.index("LastContactDate") + 1
    assert customers.cell(2, stage).value == "Demand letter"  # in the workbook's language
    assert customers.cell(2, contact).value.date() == dt.date(2026, 11, 30)
    history = openpyxl.load_workbook(book)["History"]
    assert {history.cell(r, 5).value for r in range(4, 6)} == refs
    again = run_letters(book, out=tmp_path / "out")
    assert again.issued.documents == []  # served today, and contacted 0 days ago
    forced = run_letters(book, out=tmp_path / "out", force=True, only=("C001",))
    assert [d.planned.revision for d in forced.issued.documents] in ([], [1])


def test_dry_run_writes_nothing(book, tmp_path):
    before = book.read_bytes()
    result = runner.invoke(app, ["letters", str(book), "--dry-run", "--format", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["run"] is None and {d["CustomerID"] for d in plan["documents"]} == {"C001", "C002"}
    assert book.read_bytes() == before and not (tmp_path / "branch.journal.sqlite").exists()


def test_json_output_has_the_contract_shape(book, tmp_path):
    result = runner.invoke(app, ["letters", str(book), "--out", str(tmp_path / "o"),
                                 "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data["run"], int)
    assert {tuple(sorted(d)) for d in data["documents"]} == {
        ("Amount", "CustomerID", "File", "Reference", "Stage", "StageKey")
    }
    names = {(d["Stage"], d["StageKey"]) for d in data["documents"]}
    assert names == {("Demand letter", "demand_letter"), ("Final notice", "final_notice")}


def test_an_unknown_customer_is_a_located_problem(book):
    result = runner.invoke(app, ["letters", str(book), "--customer", "C404"])
    assert result.exit_code == 1 and "C404" in result.output


def test_the_legal_step_writes_a_hand_over_workbook(tmp_path):
    customers = [("C009", "Long Overdue Ltd", "Standard", "GBP", 1000, "Credit hold", "en")]
    ledger = [("C009", "INV", "INV-7", dt.date(2025, 1, 1), dt.date(2025, 2, 1), 900, "", "")]
    path = make_book(tmp_path / "b.xlsx", customers=customers, ledger=ledger,
                     customer_headers=HEADERS)  # fmt: skip
    result = run_letters(path, out=tmp_path / "out")
    [document] = result.issued.documents
    assert document.planned.kind == "legal_pack" and "Letter before action" in text_of(
        document.file
    )
    pack = openpyxl.load_workbook(document.extra_file)
    assert pack.sheetnames == ["Customer", "Claim", "Debt", "Documents", "Contact history"]
    assert [c.value for c in pack["Debt"][4]][:1] == ["INV-7"]


def rows_of(sheet, first=4) -> list[list[object]]:
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=first)]


def test_the_hand_over_claims_what_the_letter_claims_and_tells_the_contact_history(tmp_path):
    customers = [("C009", "Long Overdue Ltd", "Standard", "GBP", 1000, "Credit hold", "en")]
    ledger = [("C009", "INV", "INV-7", dt.date(2025, 1, 1), dt.date(2025, 2, 1), 900, "", ""),
              ("C009", "INV", "INV-8", dt.date(2025, 3, 1), dt.date(2025, 4, 1), 1200.5, "", ""),
              ("C009", "PAY", "PAY-3", dt.date(2025, 5, 1), None, 200, "INV-8", "")]
    path = make_book(tmp_path / "b.xlsx", customers=customers, ledger=ledger,
                     customer_headers=HEADERS)  # fmt: skip
    book = openpyxl.load_workbook(path)
    write_sheet(book, "Contacts", [c.header for c in CONTACTS.columns],
                [(dt.datetime(2026, 10, 27), "C009", "call", "final_notice", "", "no answer",
                  None, None, "", "rang twice")])  # fmt: skip
    book.save(path)
    with Journal.open(journal_url(path)) as journal:
        run = journal.start_run("letters", dt.date(2026, 9, 1), None, "u", "LDN", "v")
        journal.record_batch(run, [DocumentRecord(  # the workbook's branch's letter
            "letter", "C009", "final_notice", "2026-09-01", "LDN-LTR-20260901-0001", 0, "f.docx",
            "0" * 64, Decimal("1900.50"), "GBP", now(), "u", "LDN", "v")])  # fmt: skip
    result = run_letters(path, out=tmp_path / "out")
    [document] = result.issued.documents
    assert document.planned.kind == "legal_pack"
    letter = document.planned.context
    pack = openpyxl.load_workbook(document.extra_file)
    debt = rows_of(pack["Debt"])
    assert debt[-1][0] == "Total"
    assert debt[-1][3] == pytest.approx(sum(row[3] for row in debt[:-1]))
    assert Decimal(str(debt[-1][3])) == letter["total_overdue_value"] == Decimal("1900.50")
    claim = {row[0]: row[1] for row in rows_of(pack["Claim"])}
    assert Decimal(str(claim["Interest claimed in the letter"])) == letter["interest_value"] > 0
    assert Decimal(str(claim["Compensation claimed in the letter"])) == (
        letter["compensation_value"]) > 0  # GBP: the Act's fixed sums
    assert claim["Total claimed"] == pytest.approx(
        claim["Overdue debt"] + claim["Interest claimed in the letter"]
        + claim["Compensation claimed in the letter"])
    facts = dict(rows_of(pack["Customer"]))
    assert facts["Last stage"] == "Credit hold"
    history = rows_of(pack["Contact history"])
    assert [(r[0].date(), r[1], r[2]) for r in history] == [
        (dt.date(2026, 9, 1), "Letter", "Final notice"),
        (dt.date(2026, 10, 27), "call", "Final notice")]
    assert pack["Contact history"]["A4"].number_format == "yyyy-mm-dd"
    documents = rows_of(pack["Documents"])
    assert [r[0] for r in documents] == ["Invoice", "Invoice", "Payment"]


def test_each_hand_over_lists_its_own_customers_documents_and_contacts(tmp_path):
    # Two legal-step customers whose ledger and Contacts rows interleave with each other's
    # and a third customer's: each pack lists its customer's rows only, in the sheets' order
    # (found once for the run, not by a scan of the ledger per pack).
    customers = [("C009", "Long Overdue Ltd", "Standard", "GBP", 1000, "Credit hold", "en"),
                 ("C010", "Later Ltd", "Standard", "GBP", 1000, "Credit hold", "en"),
                 ("C011", "Prompt Ltd", "Standard", "GBP", 1000, "", "en")]
    ledger = [("C010", "INV", "INV-20", dt.date(2025, 2, 1), dt.date(2025, 3, 1), 300, "", ""),
              ("C009", "INV", "INV-7", dt.date(2025, 1, 1), dt.date(2025, 2, 1), 900, "", ""),
              ("C011", "INV", "INV-30", dt.date(2026, 11, 1), dt.date(2026, 12, 1), 50, "", ""),
              ("C010", "CRN", "CRN-21", dt.date(2025, 3, 1), None, 100, "INV-20", ""),
              ("C009", "INV", "INV-8", dt.date(2025, 3, 1), dt.date(2025, 4, 1), 1200, "", ""),
              ("C009", "PAY", "PAY-3", dt.date(2025, 5, 1), None, 200, "INV-8", "")]
    path = make_book(tmp_path / "b.xlsx", customers=customers, ledger=ledger,
                     customer_headers=HEADERS)  # fmt: skip
    book = openpyxl.load_workbook(path)
    write_sheet(book, "Contacts", [c.header for c in CONTACTS.columns], [
        (dt.datetime(2026, 10, 20), "C010", "call", "final_notice", "", "busy", None, None, "",
         "C010 first"),
        (dt.datetime(2026, 10, 27), "C009", "call", "final_notice", "", "no answer", None, None,
         "", "C009 only"),
        (dt.datetime(2026, 10, 28), "C011", "email", "", "", "", None, None, "", "C011"),
        (dt.datetime(2026, 10, 29), "C010", "visit", "final_notice", "", "shut", None, None, "",
         "C010 second")])  # fmt: skip
    book.save(path)
    result = run_letters(path, out=tmp_path / "out")
    packs = {d.planned.customer_id: openpyxl.load_workbook(d.extra_file)
             for d in result.issued.documents if d.planned.kind == "legal_pack"}  # fmt: skip
    assert sorted(packs) == ["C009", "C010"]
    assert [r[1] for r in rows_of(packs["C009"]["Documents"])] == ["INV-7", "INV-8", "PAY-3"]
    assert [r[1] for r in rows_of(packs["C010"]["Documents"])] == ["INV-20", "CRN-21"]
    assert [r[-1] for r in rows_of(packs["C009"]["Contact history"])] == ["C009 only"]
    assert [r[-1] for r in rows_of(packs["C010"]["Contact history"])] == [
        "C010 first", "C010 second"]


def test_a_file_left_by_an_interrupted_run_is_set_aside(book, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with Journal.open(journal_url(book)) as journal:
        run = journal.start_run("letters", dt.date(2026, 11, 30), None, "u", "", "v")
        reference = journal.reserve_reference(run, "", "letter", dt.date(2026, 11, 30),
                                              str(out / "x.docx"))  # fmt: skip
    orphan = out / f"{reference} C001 half-issued.docx"
    orphan.write_bytes(b"written, never recorded")
    result = run_letters(book, out=out)
    assert result.issued.set_aside == [out / "unrecorded" / orphan.name]
    assert all(d.reference != reference for d in result.issued.documents)


def test_every_file_of_an_unrecorded_reservation_is_set_aside_and_nothing_else(book, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    day = dt.date(2026, 11, 30)
    with Journal.open(journal_url(book)) as journal:
        run = journal.start_run("letters", day, None, "u", "", "v")
        references = journal.reserve_references(
            run, "", day, [("letter", str(out / f"{n}.docx")) for n in range(12)]
        )
        [done] = journal.reserve_references(run, "", day, [("letter", str(out / "d.docx"))])
        # another workbook's run on the same journal, writing into its own folder right now
        elsewhere = tmp_path / "elsewhere" / "e.docx"
        [in_flight] = journal.reserve_references(run, "", day, [("letter", str(elsewhere))])
    elsewhere.parent.mkdir()
    (elsewhere.parent / f"{in_flight} C009 being written.docx").write_bytes(b"x")
    lost, torn = references[0], references[1]  # SH-LTR-…-0001 and -0002
    # the document, its companion and a temporary file a kill left behind
    orphans = [out / f"{lost} C001 x.docx", out / f"{lost} hand-over C001.xlsx",
               out / f".{torn} C002 y.docx.1a2b3c4d.tmp"]  # fmt: skip
    kept = [out / f"{references[0]}0 C003 not this reference.docx",  # -00010: another number
            out / f"{done} C004 recorded.docx", out / "notes.txt"]  # fmt: skip
    for path in orphans + kept:
        path.write_bytes(b"x")
    with Journal.open(journal_url(book)) as journal:
        journal.record_batch(run, [DocumentRecord(
            "letter", "C004", "demand_letter", "2026-11-01", done, 0, str(kept[1]), "0" * 64,
            Decimal(1), "CNY", now(), "u", "", "v")])  # fmt: skip
    result = run_letters(book, out=out)
    assert sorted(result.issued.set_aside) == sorted(out / "unrecorded" / p.name for p in orphans)
    assert all(p.exists() for p in kept)
    assert (elsewhere.parent / f"{in_flight} C009 being written.docx").exists()
    with Journal.open(journal_url(book)) as journal:
        # all twelve closed, with or without a file; the other folder's left to its run
        assert journal.unrecorded() == [(in_flight, str(elsewhere))]


def test_history_lists_what_the_journal_recorded(book, tmp_path):
    empty = runner.invoke(app, ["history", str(book), "--format", "json"])
    assert empty.exit_code == 0 and json.loads(empty.stdout) == {"documents": [], "contacts": []}
    assert not (tmp_path / "branch.journal.sqlite").exists()  # looking creates no journal
    issued = run_letters(book, out=tmp_path / "out")
    result = runner.invoke(app, ["history", str(book), "--customer", "C001", "--format", "json"])
    assert result.exit_code == 0, result.output
    [document] = json.loads(result.stdout)["documents"]
    c001 = next(d for d in issued.issued.documents if d.planned.customer_id == "C001")
    assert (document["Reference"], document["Stage"], document["StageKey"]) == (
        c001.reference, "Demand letter", "demand_letter"
    )
    table = runner.invoke(app, ["history", str(book)])
    assert table.exit_code == 0 and c001.reference in table.stdout


def test_the_run_summary_lists_who_was_passed_over_and_why(book, tmp_path):
    run_letters(book, out=tmp_path / "out")
    again = run_letters(book, out=tmp_path / "again")  # the same day: nobody is sent again
    assert again.issued.documents == []
    sheet = openpyxl.load_workbook(again.issued.summary)["Skipped"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert rows[0] == ["CustomerID", "Stage", "Amount", "Currency", "Reason"]
    by_customer = {r[0]: r for r in rows[1:]}
    assert by_customer["C001"][1:4] == ["Demand letter", 10000.5, "CNY"]
    # the step each has reached now: C002 had its final notice, so next is the credit hold
    assert by_customer["C002"][1:4] == ["Credit hold", 8000, "GBP"]
    assert all("already issued today" in r[4] for r in by_customer.values())


def test_each_letter_carries_the_branch_letterhead_in_its_own_language(tmp_path):
    book = make_book(tmp_path / "branch.xlsx", customers=CUSTOMERS, ledger=LEDGER,
                     customer_headers=HEADERS, settings=[("Branch", "SH")])  # fmt: skip
    result = run_letters(book, out=tmp_path / "out")
    by_customer = {d.planned.customer_id: text_of(d.file) for d in result.issued.documents}
    assert "华信商贸（上海）有限公司" in by_customer["C001"]  # a Chinese customer
    assert "Huaxin Trading (Shanghai) Co., Ltd." not in by_customer["C001"]
    assert "Huaxin Trading (Shanghai) Co., Ltd." in by_customer["C002"]  # an English one
    assert "SWIFT BKCHCNBJ300" in by_customer["C002"] and "华信商贸" not in by_customer["C002"]


def test_interest_and_compensation_follow_the_currency_and_the_contract(tmp_path):
    """Final notices (121 days overdue) as of 30 November 2026: statutory rate 3.75% + 8%."""
    headers = (*HEADERS, "ContractRate", "ContractRatePer")
    customers = [
        ("E01", "Rhein GmbH", "Standard", "EUR", 0, "Demand letter", "en", None, None),
        ("U01", "Hudson Inc", "Standard", "USD", 0, "Demand letter", "en", None, None),
        ("Z01", "华东机电有限公司", "Standard", "CNY", 0, "Demand letter", "zh", "万分之五", "日"),
        ("G01", "Thames Ltd", "Standard", "GBP", 0, "Demand letter", "en", None, None),
    ]
    due = dt.date(2026, 8, 1)
    ledger = [
        ("E01", "INV", "E-1", dt.date(2026, 7, 1), due, 500, "", ""),
        ("E01", "INV", "E-2", dt.date(2026, 7, 1), due, 20000, "", ""),
        ("U01", "INV", "U-1", dt.date(2026, 7, 1), due, 20000, "", ""),
        ("Z01", "INV", "Z-1", dt.date(2026, 7, 1), due, 100000, "", ""),
        ("G01", "INV", "G-1", dt.date(2018, 5, 31), dt.date(2018, 6, 30), 1000, "", ""),
        ("G01", "INV", "G-2", dt.date(2026, 7, 1), due, 1000, "", ""),
    ]
    path = make_book(tmp_path / "rates.xlsx", customers=customers, ledger=ledger,
                     customer_headers=headers)  # fmt: skip
    result = run_letters(path, out=tmp_path / "out")
    assert isinstance(result, LettersResult)
    letters = {d.planned.customer_id: d for d in result.issued.documents}
    assert {d.planned.stage for d in letters.values()} == {"final_notice"}

    euro = letters["E01"].planned.context
    # EU directive: a flat EUR 40 per invoice (2 x 40), never the UK tiers (40 + 100)
    assert euro["compensation"] == "80.00"
    # 20,500 x 11.75% x 121 / 365 = 798.517: statutory interest, as for GBP
    assert euro["interest"] == "798.52"
    text = text_of(letters["E01"].file)
    assert "Directive 2011/7/EU" in text and "EUR 80.00" in text
    assert "Act 1998" not in text and "EUR 140.00" not in text

    assert letters["U01"].planned.context["interest"] == ""  # USD: no statute applies
    assert "entitled to interest" not in text_of(letters["U01"].file)

    contract = letters["Z01"].planned.context
    # 每日万分之五 on ¥100,000 for 121 days: 100,000 x 0.0005 x 121 = 6,050.00; the contract
    # applies although CNY is not an interest currency, and brings no statutory compensation
    assert contract["interest"] == "6,050.00" and contract["compensation"] == ""
    text = text_of(letters["Z01"].file)
    assert "根据合同约定" in text and "6,050.00" in text and "固定补偿" not in text

    # G-1 fell due in 2018, before the reference table: no interest on it, and a problem
    # naming the customer and the invoice; G-2: 1,000 x 11.75% x 121 / 365 = 38.95
    assert letters["G01"].planned.context["interest"] == "38.95"
    assert letters["G01"].planned.context["compensation"] == "140.00"  # 70 + 70 by GBP tiers
    assert [str(p) for p in result.problems] == [
        "Ledger!E6: customer G01, invoice G-1 due 2018-06-30: no reference rate before "
        "2019-01-01, so no interest is claimed on it; add the half-year's rate to the Policy "
        "sheet's Interest table"
    ]


@pytest.mark.parametrize("last_stage", ["", "Phone call"])
def test_a_demand_letter_speaks_of_earlier_reminders_only_after_one(tmp_path, last_stage):
    customers = [("D01", "初次客户有限公司", "Standard", "CNY", 50000, last_stage, "zh"),
                 ("D02", "First Time Ltd", "Standard", "GBP", 50000, last_stage, "en")]
    ledger = [("D01", "INV", "INV-D1", dt.date(2026, 9, 16), dt.date(2026, 10, 16), 3000, "", ""),
              ("D02", "INV", "INV-D2", dt.date(2026, 9, 16), dt.date(2026, 10, 16), 3000, "", "")]
    path = make_book(tmp_path / "d.xlsx", customers=customers, ledger=ledger,
                     customer_headers=HEADERS)  # fmt: skip
    result = run_letters(path, out=tmp_path / "out")
    texts = {d.planned.customer_id: text_of(d.file) for d in result.issued.documents}
    assert {d.planned.stage for d in result.issued.documents} == {"demand_letter"}
    zh, en = texts["D01"], texts["D02"]
    if last_stage:  # a phone call came first: the letter may say so
        assert "我司此前已多次提醒" in zh and "Despite our earlier reminders" in en
    else:  # first contact: no reminder was ever sent, and the letter must not claim one
        assert "此前" not in zh and "earlier" not in en.lower()
        assert "根据我司记录，下列发票至今仍未支付" in zh
        assert "Our records show that the invoices below remain unpaid" in en
    assert "3,000.00" in zh and "3,000.00" in en


def test_history_shows_documents_and_the_contacts_logged(book, tmp_path):
    issued = run_letters(book, out=tmp_path / "out")
    workbook = openpyxl.load_workbook(book)
    sheet = workbook["Contacts"]
    table = sheet.tables["Contacts"]
    last = sheet.max_row + 1
    row = [dt.date(2026, 11, 30), "C001", "call", "", "", '=HYPERLINK("x")',
           dt.date(2026, 12, 5), 500, "", "rang AP"]
    for column, value in enumerate(row, start=1):
        sheet.cell(last, column, value)
    sheet.cell(last, 6).data_type = "s"  # what the collector typed is text, not a formula
    table.ref = f"A3:J{last}"
    workbook.save(book)
    result = runner.invoke(app, ["history", str(book), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {d["Reference"] for d in data["documents"]} == {
        d.reference for d in issued.issued.documents
    }
    [contact] = data["contacts"]
    assert contact["CustomerID"] == "C001" and contact["PromiseDate"] == "2026-12-05"
    assert contact["PromiseAmount"] == 500 and contact["Outcome"] == '=HYPERLINK("x")'
    table_output = runner.invoke(app, ["history", str(book)])
    assert table_output.exit_code == 0 and "Logged in Contacts: 1 contact" in table_output.stdout


def test_a_chinese_workbooks_summary_gives_its_reasons_in_chinese(tmp_path):
    settings = [("Branch", "SH"), ("Language", "zh")]
    book = make_book(tmp_path / "branch.xlsx", customers=CUSTOMERS, ledger=LEDGER,
                     customer_headers=HEADERS, settings=settings)  # fmt: skip
    run_letters(book, out=tmp_path / "out")
    again = run_letters(book, out=tmp_path / "again")
    sheet = openpyxl.load_workbook(again.issued.summary)["未发送"]
    reasons = [row[4].value for row in sheet.iter_rows(min_row=4)]
    assert reasons and all("今日已发出" in r for r in reasons), reasons


def test_a_chinese_summary_names_on_hold_in_chinese():
    """A customer whose every open item is disputed stands On hold: the summary of a Chinese
    workbook names it 暂缓催收, as the cells do, not the English word."""
    from xl_addin.core.policy import DEFAULT_POLICY
    from xl_addin.services.history_sheet import stage_namer

    assert stage_namer(DEFAULT_POLICY, "zh")("On hold") == "暂缓催收"
    assert stage_namer(DEFAULT_POLICY, "en")("On hold") == "On hold"


def test_a_run_dated_before_the_journals_last_documents_is_refused(book, tmp_path):
    """Letters of 30 November issued; a run as of 20 November (a typo for December) would
    replay the ladder without them: a second demand letter, a step skipped back. Refused,
    naming --as-of; the workbook, the journal and the folders as they were. A dry run
    may still look back."""
    first = run_letters(book, as_of=dt.date(2026, 11, 30), out=tmp_path / "day1")
    assert isinstance(first, LettersResult) and first.issued.documents
    journal = book.with_name(book.stem + ".journal.sqlite")
    before = book.read_bytes(), journal.read_bytes()
    refused = run_letters(book, as_of=dt.date(2026, 11, 20), out=tmp_path / "back")
    assert isinstance(refused, tuple) and str(refused[0].source) == "--as-of"
    assert refused[0].message.startswith("the journal has this branch's documents of "
                                         "2026-11-30: a run as of 2026-11-20 would issue")
    assert (book.read_bytes(), journal.read_bytes()) == before
    assert not (tmp_path / "back").exists()
    looked = run_letters(book, as_of=dt.date(2026, 11, 20), dry_run=True)
    assert isinstance(looked, LettersResult)
    result = runner.invoke(app, ["letters", str(book), "--as-of", "2026-11-20"])
    assert result.exit_code == 1 and "--as-of: the journal has" in result.output
    again = run_letters(book, as_of=dt.date(2026, 11, 30), out=tmp_path / "same day")
    assert isinstance(again, LettersResult) and not again.issued.documents  # served today


def test_a_call_sheet_states_its_oldest_item_and_how_the_last_promise_stands(tmp_path):
    """C005's oldest item (213 days) is disputed: the sheet lists the 20-day one and calls
    it the oldest. Its promise of 20 November was kept by the payment of the 18th, and the
    sheet says so, in the customer's language, as it names the last step (typed in Chinese
    in Customers.LastStage)."""
    headers = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "Language",
               "PromiseDate", "LastStage")  # fmt: skip
    ledger = [
        ("C005", "INV", "INV-OLD", dt.date(2026, 4, 1), dt.date(2026, 5, 1), 900, "", "Y"),
        ("C005", "INV", "INV-NEW", dt.date(2026, 10, 11), dt.date(2026, 11, 10), 2000, "", "N"),
        ("C005", "PAY", "PAY-9", dt.date(2026, 11, 18), None, 500, "", "N"),
    ]
    for lang, oldest, promise, last in (
        ("en", "20 days overdue", "20 November 2026 (kept)", "Friendly reminder"),
        ("zh", "20 天", "2026年11月20日（已兑现）", "友好提醒"),
    ):
        customers = [("C005", "Wright & Sons", "Standard", "GBP", 50000, lang,
                      dt.date(2026, 11, 20), "友好提醒")]  # fmt: skip
        (tmp_path / lang).mkdir()
        book = make_book(tmp_path / lang / "branch.xlsx", customers=customers, ledger=ledger,
                         customer_headers=headers)  # fmt: skip
        result = run_letters(book, out=tmp_path / lang / "out")
        [sheet] = [d for d in result.issued.documents if d.planned.kind == "call_sheet"]
        facts = {row.cells[0].text: row.cells[1].text
                 for row in docx.Document(sheet.file).tables[0].rows}  # fmt: skip
        assert facts["Oldest item" if lang == "en" else "最长逾期"] == oldest
        assert facts["Last promise" if lang == "en" else "上次承诺"] == promise
        assert facts["Last contact" if lang == "en" else "上次联系"].strip() == last
