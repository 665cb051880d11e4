"""Every shipped template in both languages through LibreOffice to PDF, read back with poppler.

A statement of up to about fifteen lines is one page; the reply slip is never cut from its
signature boxes; each PDF embeds one Latin face, and a Chinese one a Chinese face besides.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.books import make_book
from tests.documents.test_templates import STAGES, context
from xl_addin.documents.fields import NON_BREAKING_HYPHEN, unbroken
from xl_addin.documents.pdf import soffice, to_pdf
from xl_addin.documents.render import TemplateCache
from xl_addin.packs.lookup import open_pack
from xl_addin.services.statements import run_statements

pytestmark = pytest.mark.skipif(
    soffice() is None or not all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdfinfo")),
    reason="needs LibreOffice and poppler-utils (pdftotext, pdffonts, pdfinfo)",
)

HEADERS = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage", "Language")
LEDGER_HEADERS = ("CustomerID", "DocType", "DocNo", "DocDate", "DueDate", "Amount", "AppliesTo",
                  "Disputed", "Reference")  # fmt: skip
# Customer: (language, lines in November 2026). Every customer also has two September invoices,
# one overdue and one disputed, so that the statement carries the items table too.
CUSTOMERS = {
    "S03": ("zh", 3), "E03": ("en", 3), "S06": ("zh", 6), "E10": ("en", 10),
    "S15": ("zh", 15), "E15": ("en", 15), "S40": ("zh", 40), "E40": ("en", 40),
}  # fmt: skip
NAMES = {"zh": "杭州宏图供应链管理有限公司", "en": "Davies' Textiles and Marine Services Ltd"}
SLIP = {"en": ("Reply", ("Signature", "stamp")), "zh": ("回", ("经办人签字", "单位盖章"))}
CUT = {"en": "cut", "zh": "请沿此线剪下"}
CJK_FACES = ("NotoSerifCJK", "NotoSansCJK", "SimSun", "DengXian")


def ledger() -> list[tuple[object, ...]]:
    """Document numbers as an ERP writes them (INV-2026-001049): the longest the demo has."""
    rows: list[tuple[object, ...]] = []
    for index, (customer, (_, lines)) in enumerate(CUSTOMERS.items()):
        number = iter(range(index * 1000, index * 1000 + 1000))
        rows += [
            (customer, "INV", f"INV-2026-{next(number):06}", dt.date(2026, 9, 1),
             dt.date(2026, 10, 1), 12345.67, "", "N", "PO 4500012345"),
            (customer, "INV", f"INV-2026-{next(number):06}", dt.date(2026, 9, 15),
             dt.date(2026, 10, 15), 2480.00, "", "Y", "Price query"),
        ]  # fmt: skip
        for n in range(lines):
            day = dt.date(2026, 11, 1 + n % 28)
            if n % 3 == 2:
                rows.append((customer, "PAY", f"PAY-2026-{next(number):06}", day, None,
                             1000.00 + n, "", "N", "BACS"))  # fmt: skip
            else:
                rows.append((customer, "INV", f"INV-2026-{next(number):06}", day,
                             day + dt.timedelta(30), 1234.56 * (n + 1), "", "N",
                             f"Order {n:05}"))  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def statements(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("statements")
    customers = [(c, NAMES[lang], "Standard", "CNY" if lang == "zh" else "GBP", 500000, "", lang)
                 for c, (lang, _) in CUSTOMERS.items()]  # fmt: skip
    book = make_book(folder / "book.xlsx", customers=customers, ledger=ledger(),
                     customer_headers=HEADERS, ledger_headers=LEDGER_HEADERS)  # fmt: skip
    result = run_statements(book, period="2026-11", out=folder / "out", pdf=True)
    assert not isinstance(result, tuple), result
    return {d.planned.customer_id: Path(d.file).with_suffix(".pdf")
            for d in result.issued.documents}  # fmt: skip


@pytest.fixture(scope="module")
def letters(tmp_path_factory) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("letters")
    cache = TemplateCache(open_pack(None, None))
    paths = {}
    for lang in ("en", "zh"):
        for key in STAGES:
            path = folder / f"{key}-{lang}.docx"
            path.write_bytes(cache.get(key, lang).render(printed(context(lang, interest=True))))
            paths[key, lang] = path
    pdfs = to_pdf(list(paths.values()), folder)
    return dict(zip(paths, pdfs, strict=True))


def printed(fields: dict[str, object]) -> dict[str, object]:
    """The reference and document numbers as the issuing run hands them to a template."""
    items = [item | {"doc_no": unbroken(item["doc_no"])} for item in fields["items"]]
    return fields | {"reference": unbroken(fields["reference"]), "items": items}


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))


def words(pdf: Path) -> list[tuple[int, float, str]]:
    """(page, top, word) of every word, from `pdftotext -bbox`."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    found, page = [], 0
    for line in html.splitlines():
        if "<page " in line:
            page += 1
        match = re.search(r'yMin="([\d.]+)".*>(.*)</word>', line)
        if match:
            found.append((page, float(match.group(1)), match.group(2)))
    return found


def families(pdf: Path) -> set[str]:
    """The embedded font families: 'BAAAAA+Carlito-Bold' is Carlito."""
    listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]  # fmt: skip
    names = [line.split()[0].split("+")[-1] for line in listing if line.strip()]
    return {name.split("-")[0] for name in names}


def test_a_statement_of_up_to_fifteen_lines_is_one_page(statements):
    # With the two overdue and disputed items, the aging and the whole reply slip.
    for customer in ("S03", "E03", "S06", "E10", "S15", "E15"):
        assert pages(statements[customer]) == 1, customer


@pytest.mark.parametrize("customer", sorted(CUSTOMERS))
def test_the_reply_slip_stays_with_its_signature_boxes(statements, customer):
    lang = CUSTOMERS[customer][0]
    heading, boxes = SLIP[lang]
    placed = words(statements[customer])
    # The slip's heading is the last occurrence (the body asks for "the reply slip below").
    title = [(page, top) for page, top, word in placed if word == heading][-1]
    for box in boxes:
        where = [(page, top) for page, top, word in placed if word == box]
        assert where, (customer, box)
        page, top = where[-1]
        assert page == title[0] and top > title[1], (customer, box, where, title)


def test_a_long_statement_puts_the_whole_slip_on_the_last_page(statements):
    for customer in ("S40", "E40"):
        lang = CUSTOMERS[customer][0]
        heading, boxes = SLIP[lang]
        placed = words(statements[customer])
        assert pages(statements[customer]) == 2, customer
        # Cut line, heading and signature boxes all on page 2, nothing of the slip on page 1.
        assert {page for page, _, word in placed if word == CUT[lang]} == {2}, customer
        assert [page for page, _, word in placed if word == heading][-1] == 2, customer
        assert {page for page, _, word in placed if word in boxes} == {2}, customer


def test_a_statement_prints_its_reference_whole_and_the_journal_keeps_it_plain(statements):
    for customer, pdf in statements.items():
        reference = pdf.name.split()[0]  # the file is named by the plain reference
        placed = [word for _, _, word in words(pdf)]
        # The reference block and the reply slip: each whole, read back with ASCII hyphens.
        assert sum(reference in word for word in placed) == 2, (customer, reference)
        assert NON_BREAKING_HYPHEN not in "".join(placed), customer
    journal = next(iter(statements.values())).parents[1] / "book.journal.sqlite"
    with sqlite3.connect(journal) as db:
        recorded = [row[0] for row in db.execute("SELECT reference FROM documents")]
    assert sorted(recorded) == sorted(pdf.name.split()[0] for pdf in statements.values())
    assert all(reference.isascii() for reference in recorded)


def test_statements_embed_one_latin_face_and_for_chinese_one_chinese_face(statements):
    for customer, pdf in statements.items():
        latin = {f for f in families(pdf) if not f.startswith(CJK_FACES)}
        cjk = families(pdf) - latin
        assert len(latin) == 1, (customer, families(pdf))
        assert len(cjk) == (1 if CUSTOMERS[customer][0] == "zh" else 0), (customer, cjk)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_letters_are_one_page_in_one_latin_face(letters, lang):
    for key in STAGES:
        pdf = letters[key, lang]
        found = families(pdf)
        latin = {f for f in found if not f.startswith(CJK_FACES)}
        assert len(latin) == 1, (key, found)
        # The English letters print the customer's Chinese test name too: one Chinese face.
        assert len(found - latin) <= 1, (key, found)
        assert pages(pdf) == 1, key


def test_letters_keep_dates_and_references_on_one_line(letters):
    for (key, lang), pdf in letters.items():
        placed = words(pdf)
        joined = "".join(word for _, _, word in placed)
        for reference in ("SH-LTR-20261130-0007", "INV-1001"):
            whole = sum(word.count(reference) for _, _, word in placed)
            # Never split, in running text either; the PDF reads the plain ASCII hyphen.
            assert whole >= 1 and whole == joined.count(reference), (key, lang, reference)
            assert NON_BREAKING_HYPHEN not in joined, (key, lang)
        text = "".join(word for _, _, word in placed)
        date = "2026年10月20日" if lang == "zh" else "20October2026"
        assert date in text, (key, lang)
        # Each piece of the due date sits on the line of its first piece.
        parts = ["2026年10月20日"] if lang == "zh" else ["20", "October", "2026"]
        for i in range(len(placed) - len(parts) + 1):
            window = placed[i:i + len(parts)]
            if [word for _, _, word in window] == parts:
                assert len({(page, top) for page, top, _ in window}) == 1, (key, lang, window)


def test_chinese_documents_declare_simplified_chinese_only(tmp_path):
    pack = open_pack(None, None)
    for key in (*STAGES, "statement"):
        for lang in ("en", "zh"):
            with zipfile.ZipFile(pack.template(key, lang)) as archive:
                styles = archive.read("word/styles.xml").decode()
                document = archive.read("word/document.xml").decode()
            assert "ja-JP" not in styles + document, (key, lang)
            defaults = styles.split("</w:docDefaults>")[0]
            assert 'w:eastAsia="zh-CN"' in defaults and 'w:eastAsia="SimSun"' in defaults
            latin = "Times New Roman" if lang == "zh" else "Calibri"
            assert f'w:ascii="{latin}"' in defaults and "Theme" not in defaults, (key, lang)
