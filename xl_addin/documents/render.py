"""Render .docx templates written with docxtpl's Jinja placeholders, compiling each once.

docxtpl reads the template, cleans Word's run splitting out of the placeholders
(`patch_xml`) and compiles the Jinja source again for every document. A run of
2,000 statements would parse and compile the same template 2,000 times, so here
the cleaning and compiling happen once per template (`CompiledTemplate.load`),
with docxtpl's own `patch_xml` so that authors get exactly docxtpl's syntax
({{ }}, {%tr %}, {%p %} ...), and each document only renders the compiled parts
and writes the package.

Templates travel between branches, so they run in Jinja's immutable sandbox
(no access to Python internals, no imports, no files) with autoescaping on:
a customer called `A & B <Ltd>` or `{{ 7*7 }}` appears as typed.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2
from docxtpl import DocxTemplate
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from xl_addin.errors import TemplateError

_RENDERED_PARTS = re.compile(r"^word/(document|header\d*|footer\d*|footnotes)\.xml$")
_PARAGRAPH = re.compile(r"<w:p([ >])")
_ESCAPED = (("{_{", "{{"), ("}_}", "}}"), ("{_%", "{%"), ("%_}", "%}"))


def environment() -> jinja2.Environment:
    """The sandboxed Jinja environment every template renders in."""
    env = ImmutableSandboxedEnvironment(autoescape=True, keep_trailing_newline=True)
    return env


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """A .docx template read, cleaned and compiled once; render() fills it for one document."""

    path: Path
    members: tuple[tuple[zipfile.ZipInfo, bytes], ...]
    templates: Mapping[str, jinja2.Template]
    fields: frozenset[str]
    packed: Mapping[str, _Member]  # the members no placeholder touches, compressed once

    @classmethod
    def load(cls, path: Path) -> CompiledTemplate:
        """Read and compile the template at `path`; TemplateError names the file and line."""
        path = Path(path)
        try:
            with zipfile.ZipFile(path) as archive:
                members = tuple((info, archive.read(info)) for info in archive.infolist())
            cleaner = DocxTemplate(str(path))
        except (OSError, zipfile.BadZipFile, KeyError) as error:
            raise TemplateError(f"{path.name}: not a readable .docx template ({error})") from error
        env = environment()
        templates, fields = {}, set()
        for info, data in members:
            if not _RENDERED_PARTS.match(info.filename):
                continue
            text = data.decode("utf-8")
            if "{" not in text:
                continue
            source = _PARAGRAPH.sub(r"\n<w:p\1", cleaner.patch_xml(text))
            try:
                templates[info.filename] = env.from_string(source)
                fields |= meta.find_undeclared_variables(env.parse(source))
            except jinja2.TemplateSyntaxError as error:
                raise TemplateError(
                    f"{path.name}: {error.message} (near paragraph {error.lineno} of "
                    f"{info.filename})"
                ) from error
        packed = {info.filename: _Member.of(info.filename, data)
                  for info, data in members if info.filename not in templates}  # fmt: skip
        return cls(path, members, templates, frozenset(fields), packed)

    def render(self, context: Mapping[str, object]) -> bytes:
        """Return the complete .docx for one document."""
        members = []
        for info, _ in self.members:
            template = self.templates.get(info.filename)
            if template is None:
                members.append(self.packed[info.filename])
            else:
                members.append(
                    _Member.of(info.filename, self._render_part(template, info.filename, context))
                )
        return _package(members)

    def _render_part(self, template: jinja2.Template, part: str, context) -> bytes:
        try:
            xml = template.render(context)
        except jinja2.exceptions.SecurityError as error:
            raise TemplateError(f"{self.path.name}: not allowed in a template: {error}") from error
        except jinja2.TemplateError as error:
            raise TemplateError(f"{self.path.name} ({part}): {error}") from error
        xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
        for escaped, plain in _ESCAPED:
            xml = xml.replace(escaped, plain)
        return xml.encode("utf-8")


# The package is written here rather than with zipfile because zipfile compresses every
# member again for every document: python-docx's styles (800 KB of XML) made that 85% of
# the time of a statement. Members no placeholder touches are compressed once per
# template and copied as they are; the format is the plain ZIP that Word writes
# (deflate, no ZIP64: a document is far below 4 GB and 65,535 members).
@dataclass(frozen=True, slots=True)
class _Member:
    name: bytes
    crc: int
    size: int
    data: bytes  # raw deflate

    @classmethod
    def of(cls, name: str, data: bytes) -> _Member:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = compressor.compress(data) + compressor.flush()
        return cls(name.encode("utf-8"), zlib.crc32(data), len(data), packed)


_DOS_TIME, _DOS_DATE = 0, (2026 - 1980) << 9 | 1 << 5 | 1  # a fixed stamp: same input, same bytes
_UTF8 = 0x800


def _package(members: list[_Member]) -> bytes:
    out = io.BytesIO()
    central = []
    for m in members:
        offset = out.tell()
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, _UTF8, 8, _DOS_TIME, _DOS_DATE,
                             m.crc, len(m.data), m.size, len(m.name), 0)  # fmt: skip
        out.write(header + m.name + m.data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, _UTF8, 8, _DOS_TIME,
                                   _DOS_DATE, m.crc, len(m.data), m.size, len(m.name), 0, 0, 0,
                                   0, 0, offset) + m.name)  # fmt: skip
    start = out.tell()
    directory = b"".join(central)
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                          len(directory), start, 0))  # fmt: skip
    return out.getvalue()


class TemplateCache:
    """Templates of one pack, each compiled on first use and then reused for the run."""

    def __init__(self, pack):
        self.pack = pack
        self._compiled: dict[tuple[str, str], CompiledTemplate] = {}

    def get(self, key: str, lang: str) -> CompiledTemplate:
        found = self._compiled.get((key, lang))
        if found is None:
            found = CompiledTemplate.load(self.pack.template(key, lang))
            self._compiled[(key, lang)] = found
        return found


def template_sources(path: Path) -> dict[str, str]:
    """The Jinja source of each part of the template at `path` that holds a placeholder,
    cleaned as `CompiledTemplate.load` cleans it (line n + 1 is the part's nth paragraph):
    what `pack validate` parses to list every syntax error and field of a template."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = {name: archive.read(name) for name in archive.namelist()
                     if _RENDERED_PARTS.match(name)}  # fmt: skip
        cleaner = DocxTemplate(str(path))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise TemplateError(f"{path.name}: not a readable .docx template ({error})") from error
    sources = {}
    for name, data in parts.items():
        text = data.decode("utf-8", errors="replace")
        if "{" in text:
            sources[name] = _PARAGRAPH.sub(r"\n<w:p\1", cleaner.patch_xml(text))
    return sources
