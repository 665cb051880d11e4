"""Rendering, file names, e-mail drafts, PDF: with real .docx files read back."""

from __future__ import annotations

import email
import shutil
import subprocess
from decimal import Decimal
from email import policy as email_policy

import docx
import pytest

from xl_addin.documents.eml import write_eml
from xl_addin.documents.fields import date_text, money_text, words
from xl_addin.documents.files import safe_file_name, sync_files, write_new
from xl_addin.documents.pdf import soffice, to_pdf
from xl_addin.documents.render import CompiledTemplate
from xl_addin.errors import DocumentError, TemplateError
from xl_addin.packs.lookup import BUILTIN, open_pack


def template(tmp_path, *paragraphs: str):
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    path = tmp_path / "t.docx"
    document.save(path)
    return path


def rendered_text(data: bytes, tmp_path) -> list[str]:
    path = tmp_path / "out.docx"
    path.write_bytes(data)
    return [p.text for p in docx.Document(path).paragraphs]


def test_customer_text_is_escaped_and_never_run(tmp_path):
    compiled = CompiledTemplate.load(template(tmp_path, "Dear {{ customer.name }}"))
    out = compiled.render({"customer": {"name": "A & B <Ltd> {{ 7*7 }}"}})
    assert rendered_text(out, tmp_path) == ["Dear A & B <Ltd> {{ 7*7 }}"]
    assert compiled.fields == frozenset({"customer"})


def test_templates_cannot_reach_python_internals(tmp_path):
    compiled = CompiledTemplate.load(template(tmp_path, "{{ ''.__class__.__mro__ }}"))
    with pytest.raises(TemplateError, match="not allowed"):
        compiled.render({})


def test_a_broken_template_names_its_file(tmp_path):
    with pytest.raises(TemplateError, match=r"t\.docx"):
        CompiledTemplate.load(template(tmp_path, "{% if x %}never closed"))


def test_one_compiled_template_renders_many_documents(tmp_path):
    compiled = CompiledTemplate.load(template(tmp_path, "{% for i in items %}{{ i }},{% endfor %}"))
    assert rendered_text(compiled.render({"items": [1, 2]}), tmp_path) == ["1,2,"]
    assert rendered_text(compiled.render({"items": ["x"]}), tmp_path) == ["x,"]


@pytest.mark.parametrize(("text", "expected"), [
    ("C001 上海华信 demand_letter", "C001 上海华信 demand_letter"),
    ("../../etc/passwd", "etc_passwd"),
    ('a<b>c:d"e|f?g*h', "a_b_c_d_e_f_g_h"),
    ("CON", "CON_"),
    ("name. ", "name"),
    ("", "document"),
])  # fmt: skip
def test_safe_file_names(text, expected):
    assert safe_file_name(text) == expected


def test_write_new_never_replaces(tmp_path):
    path = write_new(tmp_path / "a.docx", b"first")
    with pytest.raises(DocumentError, match="already exists"):
        write_new(path, b"second")
    assert path.read_bytes() == b"first" and len(list(tmp_path.iterdir())) == 1


def test_a_batch_written_unsynced_is_synced_at_once_and_never_replaces(tmp_path):
    paths = [write_new(tmp_path / f"{i}.docx", b"x" * i, sync=False) for i in range(20)]
    with pytest.raises(DocumentError, match="already exists"):
        write_new(paths[3], b"other", sync=False)
    sync_files(paths)
    assert [p.read_bytes() for p in paths] == [b"x" * i for i in range(20)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    with pytest.raises(FileNotFoundError):  # a file gone before its sync is an error, not a pass
        sync_files([*paths, tmp_path / "gone.docx"])


def test_eml_draft_round_trip(tmp_path):
    attachment = tmp_path / "催款函 C001.pdf"
    attachment.write_bytes(b"%PDF-1.4 test")
    path = write_eml(tmp_path / "m.eml", "ap@example.cn", "催款函 SH-LTR-1", "您好,附件请查收。",
                     [attachment])  # fmt: skip
    message = email.message_from_bytes(path.read_bytes(), policy=email_policy.default)
    assert message["Subject"] == "催款函 SH-LTR-1" and message["X-Unsent"] == "1"
    [part] = list(message.iter_attachments())
    assert part.get_filename() == "催款函 C001.pdf" and part.get_content() == b"%PDF-1.4 test"


def test_fields_in_each_language():
    assert money_text(Decimal("1234.5")) == "1,234.50"
    assert date_text(__import__("datetime").date(2026, 11, 30), "zh") == "2026年11月30日"
    assert date_text(__import__("datetime").date(2026, 11, 30), "en") == "30 November 2026"
    assert words(Decimal("16409.02"), "zh", "CNY") == "人民币壹万陆仟肆佰零玖元零贰分"


def test_a_branch_template_overrides_the_pack(tmp_path):
    shutil.copytree(BUILTIN, tmp_path / "pack")
    own = tmp_path / "pack" / "branches" / "SH" / "letters" / "zh"
    own.mkdir(parents=True)
    shutil.copy(BUILTIN / "zh" / "statement.docx", own / "demand_letter.docx")
    pack = open_pack(tmp_path / "pack", "SH")
    assert pack.template("demand_letter", "zh") == own / "demand_letter.docx"
    assert pack.template("demand_letter", "en") == tmp_path / "pack" / "en" / "demand_letter.docx"
    assert pack.branch_profile()["signatory"] and pack.version == "2026.12.1"
    with pytest.raises(TemplateError, match="no template"):
        pack.template("no_such_stage", "en")


@pytest.mark.skipif(soffice() is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice and poppler are not installed")  # fmt: skip
def test_pdf_of_chinese_and_english_letters_has_the_text(tmp_path):
    compiled = CompiledTemplate.load(BUILTIN / "zh" / "demand_letter.docx")
    context = {"customer": {"name": "武汉富源贸易有限公司", "id": "C002"}, "currency": "CNY",
               "total_overdue": "182,868.12", "total_in_words": "人民币壹拾捌万元整",
               "items": [], "branch": {"name": "华信商贸"}, "reference": "SH-LTR-1", "date": "",
               "reply_by": "2026年12月10日"}  # fmt: skip
    docx_path = write_new(tmp_path / "zh.docx", compiled.render(context))
    [pdf] = to_pdf([docx_path], tmp_path)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "武汉富源贸易有限公司" in text and "182,868.12" in text and "催" in text


def test_without_libreoffice_the_docx_files_stay(tmp_path, monkeypatch):
    import xl_addin.documents.pdf as pdf

    docx_path = write_new(tmp_path / "a.docx", b"PK")
    monkeypatch.setattr(pdf, "soffice", lambda: None)
    with pytest.raises(DocumentError, match="docx files are kept"):
        pdf.to_pdf([docx_path], tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["a.docx"]


@pytest.mark.skipif(soffice() is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice and poppler are not installed")  # fmt: skip
def test_pdf_of_many_letters_in_parallel_workers(tmp_path):
    compiled = CompiledTemplate.load(BUILTIN / "en" / "demand_letter.docx")
    paths = []
    for i in range(3):
        context = {"customer": {"name": f"Bennett & Sons {i}", "id": f"C{i}"}, "currency": "GBP",
                   "total_overdue": f"{i},985.05", "total_in_words": "", "items": [],
                   "branch": {"name": "Huaxin Trading (UK) Ltd"}, "reference": f"LDN-{i}",
                   "date": "30 November 2026", "reply_by": "10 December 2026"}  # fmt: skip
        paths.append(write_new(tmp_path / f"{i} Bennett.docx", compiled.render(context)))
    done = []
    pdfs = to_pdf(paths, tmp_path, workers=2, progress=done.append)
    assert [p.name for p in pdfs] == ["0 Bennett.pdf", "1 Bennett.pdf", "2 Bennett.pdf"]
    assert sum(done) == 3
    for i, pdf in enumerate(pdfs):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert f"Bennett & Sons {i}" in text and f"GBP {i},985.05" in text and "10 December" in text
