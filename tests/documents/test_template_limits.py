"""Templates travel between branches: whatever one holds, a run stops with a TemplateError
naming the file and the paragraph, within its time and size limits, never a traceback,
a hang, or a document Word cannot open. Each template here is a real .docx written with
python-docx; what renders is read back with python-docx."""

from __future__ import annotations

import io
import time

import docx
import pytest

from xl_addin.documents.render import CompiledTemplate, RenderLimits
from xl_addin.errors import TemplateError

FAST = RenderLimits(seconds=1.0, max_bytes=1024 * 1024)


def template(tmp_path, *paragraphs: str):
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    path = tmp_path / "letter.docx"
    document.save(path)
    return path


def render(tmp_path, *paragraphs: str, limits: RenderLimits = FAST, **context) -> bytes:
    return CompiledTemplate.load(template(tmp_path, *paragraphs)).render(context, limits)


@pytest.mark.parametrize("tag", [
    "{% include 'x.docx' %}", "{% extends 'base.docx' %}", "{% import 'm' as m %}",
    "{% from 'm' import x %}",
])  # fmt: skip
def test_a_template_cannot_reach_another_file(tmp_path, tag):
    with pytest.raises(TemplateError, match=r"letter\.docx: .* not allowed.*paragraph \d+"):
        CompiledTemplate.load(template(tmp_path, "Dear customer", tag))


@pytest.mark.parametrize(("source", "said"), [
    ("{{ 1/0 }}", "ZeroDivisionError"),
    ("{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}", "calls itself without end"),
    ("{% for i in range(10**9) %}x{% endfor %}", "not allowed|Range too big|too large"),
    ("{{ 'A' * 10**11 }}", "not allowed"),
    ("{{ 'A' * 100000 * 100000 }}", "not allowed"),
    ("{{ 10 ** 100000000 }}", "not allowed"),
    ("{{ [1] * 10**9 }}", "not allowed"),
    ("{{ customer.name.__class__ }}", ""),  # the sandbox: nothing, and no error
])  # fmt: skip
def test_what_a_template_does_wrong_is_a_template_error(tmp_path, source, said):
    started = time.monotonic()
    if not said:
        data = render(tmp_path, "Dear customer", source, customer={"name": "x"})
        assert "Dear customer" in text_of(data)
        return
    with pytest.raises(TemplateError, match=rf"letter\.docx.*({said})") as raised:
        render(tmp_path, "Dear customer", source)
    assert "paragraph" in str(raised.value)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("source", [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}",
    "{% set s = 'A' * 100000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
])  # fmt: skip
def test_a_template_that_would_run_for_hours_stops_at_its_time_limit(tmp_path, source):
    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"longer than the time allowed|writes more than"):
        render(tmp_path, source, limits=RenderLimits(seconds=0.5, max_bytes=10**9))
    assert time.monotonic() - started < 5


def test_a_template_that_writes_too_much_stops_at_its_size_limit(tmp_path):
    source = "{% for i in range(100000) %}" + "y" * 1000 + "{% endfor %}"
    with pytest.raises(TemplateError, match=r"writes more than 1\.0 MB"):
        render(tmp_path, source, limits=RenderLimits(seconds=30, max_bytes=1024 * 1024))


def test_control_characters_never_reach_the_document(tmp_path):
    data = render(tmp_path, "Dear {{ name }}", "{{ name | safe }}", name="A\x01B\x0bC_x0001_")
    assert "Dear ABC_x0001_" in text_of(data)


def test_markup_let_through_by_safe_is_refused_before_anyone_records_the_file(tmp_path):
    with pytest.raises(TemplateError, match="would not open in Word"):
        render(tmp_path, "{{ name | safe }}", name="</w:t></w:r></w:p><w:p>")


def test_limits_are_per_document_and_a_normal_letter_is_far_inside_them(tmp_path):
    compiled = CompiledTemplate.load(template(tmp_path, "Dear {{ name }}", "{{ total }}"))
    for _ in range(50):
        data = compiled.render({"name": "Harbour & Sons <Ltd>", "total": "1,234.56"}, FAST)
    assert "Harbour & Sons <Ltd>" in text_of(data)


def text_of(data: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
