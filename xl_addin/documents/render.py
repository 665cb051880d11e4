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

import gc
import io
import pyexpat
import re
import signal
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jinja2
from docxtpl import DocxTemplate
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.sandbox import safe_range as sandbox_range
from lxml import etree
from markupsafe import Markup

from xl_addin.errors import TemplateError

_RENDERED_PARTS = re.compile(r"^word/(document|header\d*|footer\d*|footnotes)\.xml$")
_PARAGRAPH = re.compile(r"<w:p([ >])")
_ESCAPED = (("{_{", "{{"), ("}_}", "}}"), ("{_%", "{%"), ("%_}", "%}"))


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """What one document may cost: seconds of rendering and bytes of XML written.

    A run takes them from the command line, the workbook's Settings or the pack's
    pack.toml (services.render_limits), within `SECONDS_RANGE` and `MEGABYTES_RANGE`."""

    seconds: float = 5.0
    max_bytes: int = 5 * 1024 * 1024


DEFAULT_LIMITS = RenderLimits()
MEGABYTE = 1024 * 1024
# What may be asked for: less than half a second fails honest documents on a busy machine,
# more than two minutes lets one template stall a run of thousands; a statement of 10,000
# lines is about 20 MB of XML.
SECONDS_RANGE = (0.5, 120.0)
MEGABYTES_RANGE = (0.1, 100.0)
HOW_TO_CHANGE = ("RenderTimeLimit and RenderSizeLimit in Settings, [render] time_limit and "
                 "size_limit in pack.toml, or --render-time-limit and --render-size-limit")
MAX_SEQUENCE = 1_000_000  # the longest string or list an operator in a template may build
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_REFUSED_TAGS = (nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)


class _LimitExceeded(Exception):
    """A template ran past its time or size limit."""


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with limits: operators that would build huge strings, lists
    or numbers are refused, and every call, attribute, operator and range() step looks at
    the clock, so a loop that writes nothing still stops at the deadline."""

    intercepted_binops = frozenset({"*", "**", "+", "//", "%"})

    def __init__(self, **options):
        super().__init__(**options)
        self._state = threading.local()
        self.globals["range"] = self._range

    def start(self, seconds: float) -> None:
        self._state.deadline = time.monotonic() + seconds

    def tick(self) -> None:
        deadline = getattr(self._state, "deadline", None)
        if deadline is not None and time.monotonic() > deadline:
            raise _LimitExceeded("took longer than the time allowed")

    def _range(self, *args):
        for value in sandbox_range(*args):
            self.tick()
            yield value

    def call_binop(self, context, operator, left, right):
        self.tick()
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError(f"a power of {right} is too large")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int) and \
                        len(sequence) * times > MAX_SEQUENCE:
                    raise SecurityError(f"a string or list of {len(sequence) * times:,} items")
        if operator == "+" and isinstance(left, str | list | tuple) and \
                isinstance(right, str | list | tuple) and len(left) + len(right) > MAX_SEQUENCE:
            raise SecurityError("a string or list longer than allowed")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):
        __self.tick()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj, attribute):
        self.tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        self.tick()
        return super().getitem(obj, argument)


def _printable(value: object) -> object:
    """Every printed value without control characters (even after `| safe`): XML 1.0
    cannot hold them, and Word refuses a document that does."""
    if isinstance(value, str) and _CONTROL.search(value):
        cleaned = _CONTROL.sub("", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


def environment() -> jinja2.Environment:
    """The sandboxed Jinja environment every template renders in."""
    env = _Sandbox(autoescape=True, keep_trailing_newline=True, finalize=_printable)
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
                tree = env.parse(source)
                refused = next(tree.find_all(_REFUSED_TAGS), None)
                if refused is not None:
                    tag = type(refused).__name__.lower().replace("fromimport", "from import")
                    raise TemplateError(
                        f"{path.name}: {{% {tag} %}} is not allowed in a template: each "
                        f"template stands alone (near paragraph {refused.lineno} of "
                        f"{info.filename})"
                    )
                templates[info.filename] = env.from_string(source)
                fields |= meta.find_undeclared_variables(tree)
            except jinja2.TemplateSyntaxError as error:
                raise TemplateError(
                    f"{path.name}: {error.message} (near paragraph {error.lineno} of "
                    f"{info.filename})"
                ) from error
        packed = {info.filename: _Member.of(info.filename, data)
                  for info, data in members if info.filename not in templates}  # fmt: skip
        return cls(path, members, templates, frozenset(fields), packed)

    def render(self, context: Mapping[str, object], limits: RenderLimits = DEFAULT_LIMITS) -> bytes:
        """Return the complete .docx for one document; TemplateError (naming the file and
        the paragraph) for anything the template does wrong, runs out of time or size, or
        a part that is not well-formed XML once rendered (Word would refuse the file)."""
        members, budget = [], [limits.max_bytes]
        deadline = time.monotonic() + limits.seconds
        for info, _ in self.members:
            template = self.templates.get(info.filename)
            if template is None:
                members.append(self.packed[info.filename])
            else:
                xml = self._render_part(template, info.filename, context, deadline, budget,
                                        limits)  # fmt: skip
                members.append(_Member.of(info.filename, xml, level=1))
        return _package(members)

    def _render_part(self, template, part: str, context, deadline: float, budget,
                     limits: RenderLimits) -> bytes:  # fmt: skip
        env = template.environment
        env.start(max(deadline - time.monotonic(), 0.0))
        where = f"{self.path.name} ({part})"
        try:
            with _alarm(deadline):
                chunks, size = [], 0
                for chunk in template.generate(context):
                    size += len(chunk)
                    if size > budget[0]:
                        raise _LimitExceeded(f"writes more than {_megabytes(budget[0])}")
                    env.tick()
                    chunks.append(chunk)
                budget[0] -= size
                xml = "".join(chunks)
        except jinja2.exceptions.SecurityError as error:
            raise TemplateError(f"{self.path.name}: not allowed in a template: {error}"
                                f"{_near(error)}") from None  # fmt: skip
        except jinja2.TemplateError as error:
            raise TemplateError(f"{where}: {error}{_near(error)}") from None
        except _LimitExceeded as error:
            allowed = f"{limits.seconds:g} s and {_megabytes(limits.max_bytes)} a document"
            raise TemplateError(f"{where}: the template {error}{_near(error)}; the limits are "
                                f"{allowed} ({HOW_TO_CHANGE})") from None  # fmt: skip
        except RecursionError as error:
            raise TemplateError(f"{where}: the template calls itself without end"
                                f"{_near(error)}") from None  # fmt: skip
        except (ArithmeticError, LookupError, TypeError, ValueError, MemoryError) as error:
            raise TemplateError(f"{where}: {type(error).__name__}: {error}"
                                f"{_near(error)}") from None  # fmt: skip
        xml = xml.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")
        for escaped, plain in _ESCAPED:
            xml = xml.replace(escaped, plain)
        data = xml.encode("utf-8")
        broken = _not_well_formed(data)
        if broken:
            raise TemplateError(
                f"{where}: the document would not open in Word, its XML is broken at "
                f"{broken}; a `| safe` filter or markup in a field?"
            ) from None
        return data


def _not_well_formed(data: bytes) -> str:
    """Where and why the XML is not well-formed ("" when it is). Expat checks without
    building a tree, in half lxml's time (a statement's part, 22 KB: 0.14 ms, not 0.36);
    a part declaring a DTD, which expat would expand, is left to lxml, entities unresolved."""
    if b"<!DOCTYPE" in data:
        try:
            etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as error:
            return f"line {error.lineno} ({error.msg})"
        return ""
    try:
        pyexpat.ParserCreate().Parse(data, True)
    except pyexpat.ExpatError as error:
        return f"line {error.lineno} ({pyexpat.ErrorString(error.code)})"
    return ""


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _near(error: BaseException) -> str:
    """ " near paragraph N" where the template was when it failed (jinja maps its frames to
    the template's lines; a line is a paragraph of the part)."""
    line = getattr(error, "lineno", None)
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return f" (near paragraph {line})" if line else ""


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


_COLLECTING = [False]  # the garbage collector is running its callbacks (gc.callbacks)
gc.callbacks.insert(0, lambda phase, _: phase == "start" and _COLLECTING.__setitem__(0, True))
gc.callbacks.append(lambda phase, _: phase == "stop" and _COLLECTING.__setitem__(0, False))


@contextmanager
def _alarm(deadline: float):
    """Stop a render at the deadline even inside a loop that calls nothing (the main
    thread of a Unix process; elsewhere the sandbox's own checks stop it)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(*_):
        # Raised where the signal lands, but never inside the garbage collector's callbacks
        # (an exception there is lost, "unraisable"): then the alarm is set to land again.
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        if not _COLLECTING[0]:
            raise _LimitExceeded("took longer than the time allowed")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
    def of(cls, name: str, data: bytes, level: int = 6) -> _Member:
        """A member compressed at `level`: 6 for the parts packed once per template, 1 for
        a document's own part (a fifth of the time, 500 bytes more on a 38 KB statement)."""
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
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
