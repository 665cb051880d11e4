"""Every shipped letter template, in both languages, rendered and read back with python-docx."""

from __future__ import annotations

import datetime as dt
import importlib.util
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from xl_addin.documents.fields import (
    branch_fields,
    customer_fields,
    date_text,
    money_fields,
    words,
)
from xl_addin.documents.render import TemplateCache
from xl_addin.packs.lookup import open_pack

STAGES = ("pre_due_reminder", "friendly_reminder", "phone_call", "demand_letter",
          "final_notice", "credit_hold", "legal_action")  # fmt: skip
LETTERS = tuple(s for s in STAGES if s != "phone_call")
ITEM_HEADINGS = {"en": "Invoice", "zh": "发票号"}
CUSTOMER = {"customer_id": "C002", "name": "Fuyuan & Sons <Wuhan> {{ 7*7 }}", "contact": "Li Na",
            "address": "88 Jiefang Avenue, Wuhan", "email": "ap@fuyuan.cn",
            "phone": "027-8555 0101", "segment": "key", "currency": "CNY"}  # fmt: skip
AS_OF = dt.date(2026, 11, 30)
TOTAL = Decimal("16409.02")


@pytest.fixture(scope="module")
def cache():
    return TemplateCache(open_pack(None, None))  # one cache, compiled once for all tests


def context(lang: str, interest: bool) -> dict[str, object]:
    pack = open_pack(None, "SH" if lang == "zh" else "LDN")
    items = [
        ("INV-1001", dt.date(2026, 9, 1), dt.date(2026, 10, 1), "10000.00", "9409.02"),
        ("INV-1017", dt.date(2026, 9, 20), dt.date(2026, 10, 20), "7000.00", "7000.00"),
    ]
    return {
        "customer": customer_fields(CUSTOMER),
        "branch": branch_fields(pack.branch or "", pack.branch_profile()),
        "currency": "CNY", "reference": "SH-LTR-20261130-0007",
        "items": [{"doc_no": no, "doc_date": date_text(issued, lang),
                   "due_date": date_text(due, lang), **money_fields("amount", Decimal(a), lang),
                   **money_fields("open_amount", Decimal(o), lang),
                   "days_overdue": (AS_OF - due).days} for no, issued, due, a, o in items],
        **money_fields("total_overdue", TOTAL, lang),
        **money_fields("total_open", TOTAL, lang),
        "total_in_words": words(TOTAL, lang, "CNY"),
        "date": date_text(AS_OF, lang), "reply_by": date_text(AS_OF + dt.timedelta(10), lang),
        **(money_fields("interest", Decimal("312.45"), lang) if interest else {"interest": ""}),
        **(money_fields("compensation", Decimal("80"), lang) if interest
           else {"compensation": ""}),
        "max_days_overdue": 60, "last_stage": "demand_letter",
        "last_contact": date_text(dt.date(2026, 11, 2), lang),
        "promise": f"{date_text(dt.date(2026, 11, 20), lang)} 5,000.00",
    }  # fmt: skip


def read_back(data: bytes, tmp_path) -> tuple[str, list[list[str]]]:
    path = tmp_path / "letter.docx"
    path.write_bytes(data)
    document = docx.Document(path)
    tables = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n" + "\n".join(" | ".join(row) for row in tables)
    for section in document.sections:
        text += "\n" + "\n".join(p.text for p in section.header.paragraphs)
        text += "\n" + "\n".join(p.text for p in section.footer.paragraphs)
    return text, tables


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("key", STAGES)
def test_each_template_shows_the_facts(cache, key, lang, tmp_path):
    ctx = context(lang, interest=False)
    days = "60"  # INV-1001's days overdue
    if key == "pre_due_reminder":  # its items fall due later: the days to go, not minus
        for item in ctx["items"]:
            item["days_overdue"] = -4
        days = "4"
    text, tables = read_back(cache.get(key, lang).render(ctx), tmp_path)
    assert CUSTOMER["name"] in text  # escaped and never evaluated: "{{ 7*7 }}" stays
    assert "SH-LTR-20261130-0007" in text and "16,409.02" in text
    assert ctx["date"] in text and ctx["branch"]["name"] in text
    assert ("30 November 2026" if lang == "en" else "2026年11月30日") in text
    rows = [row for row in tables if row and row[0] in ("INV-1001", "INV-1017")]
    assert [row[0] for row in rows] == ["INV-1001", "INV-1017"]  # one table row per item
    assert any("9,409.02" in cell for cell in rows[0]) and any(c == days for c in rows[0])
    heading = {"en": "Due in (days)", "zh": "距到期天数"}[lang]
    assert (heading in tables[0]) == (key == "pre_due_reminder"), tables[0]
    assert "{{" not in text.replace(CUSTOMER["name"], "") and "{%" not in text
    if lang == "zh":
        assert "人民币壹万陆仟肆佰零玖元零贰分" in text
    else:
        assert ctx["total_in_words"] in text
    if key == "phone_call":
        assert ctx["last_contact"] in text and "5,000.00" in text and CUSTOMER["phone"] in text
    else:
        assert ctx["branch"]["signatory"] in text and CUSTOMER["address"] in text


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("key", LETTERS)
def test_interest_paragraphs_only_when_present(cache, key, lang, tmp_path):
    compiled = cache.get(key, lang)
    if "interest" not in compiled.fields:
        pytest.skip(f"{key} does not mention interest")
    without, _ = read_back(compiled.render(context(lang, interest=False)), tmp_path)
    with_interest, _ = read_back(compiled.render(context(lang, interest=True)), tmp_path)
    assert "312.45" in with_interest and "312.45" not in without
    assert len(with_interest.splitlines()) > len(without.splitlines())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_demand_letters_carry_the_reply_date_and_the_bank(cache, lang, tmp_path):
    ctx = context(lang, interest=False)
    text, _ = read_back(cache.get("demand_letter", lang).render(ctx), tmp_path)
    assert ctx["reply_by"] in text and ctx["branch"]["bank"] in text


def test_chinese_templates_ask_for_a_cjk_font():
    pack = open_pack(None, None)
    for key in STAGES:
        styles = docx.Document(pack.template(key, "zh")).styles.element.xml
        assert 'w:eastAsia="zh-CN"' in styles and "w:eastAsia=" in styles


def test_the_shipped_letter_templates_are_what_the_script_makes(tmp_path, monkeypatch):
    """letters/make_letter_templates.py makes every shipped letter and call sheet byte for
    byte, set as letters are (its LETTER layout), not as the one-page statement is."""
    letters = Path(__file__).resolve().parents[2] / "letters"
    monkeypatch.syspath_prepend(str(letters))  # the script imports the statement script
    spec = importlib.util.spec_from_file_location("make_letters",
                                                  letters / "make_letter_templates.py")  # fmt: skip
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "HERE", tmp_path)
    for lang in ("en", "zh"):
        (tmp_path / lang).mkdir()
        made = [script.make_letter(stage, lang) for stage in LETTERS] + [
            script.make_call_sheet(lang)
        ]
        assert sorted(p.stem for p in made) == sorted(STAGES)
        for path in made:
            shipped = letters / lang / path.name
            assert path.read_bytes() == shipped.read_bytes(), f"{lang}/{path.name}"
            # the items' headings repeat on every page a long list runs onto
            items = docx.Document(shipped).tables[-1 if path.stem != "phone_call" else 1]
            assert items.rows[0].cells[0].text == ITEM_HEADINGS[lang], path
            assert items.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None, path


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_emails_subject_names_the_letter_as_its_heading_does(cache, lang, tmp_path):
    """"Legal action" is the ladder's name; the customer reads "Letter before action"."""
    from xl_addin.services.letters import SUBJECT_TITLES

    assert set(SUBJECT_TITLES[lang]) == set(LETTERS)
    for key in LETTERS:
        text, _ = read_back(cache.get(key, lang).render(context(lang, interest=False)), tmp_path)
        title = SUBJECT_TITLES[lang][key].replace(" ", "")  # 催 款 函 is spaced as a heading
        assert any(line.replace(" ", "").startswith(title) for line in text.splitlines()), key
