"""Check one .docx template before any document is issued from it.

`template_problems` lists, all at once and located `file:line` (line n is the
template part's nth paragraph, which is where Word's author looks):
- a Jinja syntax error, in each part that has one;
- every placeholder that is not a field the renderer gives a document of its kind,
  with the closest known field (`{{ custmer.name }}`: did you mean customer?);
- a template that fails to render against the sample customer, or whose result is
  not well-formed XML or does not open again as a .docx.
"""

from __future__ import annotations

import difflib
import html
import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import docx
import jinja2
from jinja2 import meta, nodes
from lxml import etree

from xl_addin.core.problems import Problem, Source
from xl_addin.documents.render import CompiledTemplate, environment, template_sources
from xl_addin.documents.sample import known_fields, sample_context
from xl_addin.errors import TemplateError

_MAIN_PART = "word/document.xml"
_DICT_METHODS = frozenset({"get", "items", "keys", "values"})
_TAG = re.compile(r"<[^>]*>")
_PARAGRAPH_START = re.compile(r"<w:p[ >]")


def template_problems(
    path: Path, shown: str, kind: str, lang: str, branch: Mapping[str, str] | None = None
) -> tuple[Problem, ...]:
    """What is wrong with the template at `path` (named `shown` in messages) for a document
    of `kind` in `lang`; `branch` is the letterhead it renders with."""
    try:
        sources = template_sources(path)
    except TemplateError as error:
        return (Problem(Source(shown), str(error).split(": ", 1)[-1]),)
    env = environment()
    problems: list[Problem] = []
    parsed = {}
    for part, source in sources.items():
        try:
            parsed[part] = env.parse(source)
        except jinja2.TemplateSyntaxError as error:
            problems.append(_located(shown, part, error.lineno, source,
                                     f"Jinja syntax error: {error.message}"))  # fmt: skip
    known = known_fields(kind)
    for part, tree in parsed.items():
        for line, name, hint in unknown_fields(tree, known, env):
            tip = f' (did you mean "{hint}"?)' if hint else ""
            problems.append(_located(shown, part, line, sources[part],
                                     f'unknown field "{name}"{tip}'))  # fmt: skip
    if len(parsed) < len(sources):
        return tuple(problems)  # a part that does not compile cannot be rendered
    return (*problems, *_render_problems(path, shown, sample_context(kind, lang, branch)))


def unknown_fields(tree: nodes.Template, known: Mapping[str, frozenset[str] | None], env):
    """(line, name, closest known name or "") for each placeholder `known` does not have."""
    found: dict[str, tuple[int, str]] = {}
    undeclared = meta.find_undeclared_variables(tree) - set(known) - set(env.globals)
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name in undeclared:
            hint = difflib.get_close_matches(name.name, list(known), n=1, cutoff=0.6)
            found.setdefault(name.name, (name.lineno, hint[0] if hint else ""))
    blocks = {k: v for k, v in known.items() if v is not None}
    _walk_fields(tree, blocks, found)
    return sorted((line, name, hint) for name, (line, hint) in found.items())


def _walk_fields(node, scope, found) -> None:
    """Check `block.field` and `item.field` (inside a loop over a known list) names."""
    if isinstance(node, nodes.For):
        _walk_fields(node.iter, scope, found)
        inner = dict(scope)
        if isinstance(node.target, nodes.Name):
            inner.pop(node.target.name, None)
            over = node.iter.node if isinstance(node.iter, nodes.Filter) else node.iter
            if isinstance(over, nodes.Name) and over.name in scope:
                inner[node.target.name] = scope[over.name]
        for child in [node.test, *node.body]:
            if child is not None:
                _walk_fields(child, inner, found)
        for child in node.else_:
            _walk_fields(child, scope, found)
        return
    if isinstance(node, nodes.Getattr | nodes.Getitem) and isinstance(node.node, nodes.Name):
        attr = node.attr if isinstance(node, nodes.Getattr) else _constant(node.arg)
        fields = scope.get(node.node.name)
        if fields is not None and attr and attr not in fields and attr not in _DICT_METHODS:
            hint = difflib.get_close_matches(attr, sorted(fields), n=1, cutoff=0.6)
            name = f"{node.node.name}.{attr}"
            found.setdefault(name, (node.lineno, f"{node.node.name}.{hint[0]}" if hint else ""))
    for child in node.iter_child_nodes():
        _walk_fields(child, scope, found)


def _constant(node) -> str | None:
    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else None


def _located(shown: str, part: str, line: int, source: str, message: str) -> Problem:
    """A problem at the paragraph of the source's `line` (each paragraph starts a line),
    shown as `file:paragraph` with that paragraph's text."""
    lines = source.split("\n")[: max(line, 1)]
    paragraph = sum(1 for text in lines if _PARAGRAPH_START.match(text))
    text = html.unescape(_TAG.sub("", lines[-1])).strip() if lines else ""
    quoted = f' "{text[:80]}{"..." if len(text) > 80 else ""}"' if text else ""
    where = "" if part == _MAIN_PART else f"{part}, "
    return Problem(Source(f"{shown}:{max(paragraph, 1)}"),
                   f"{message} ({where}paragraph{quoted})")  # fmt: skip


def _render_problems(path: Path, shown: str, context) -> tuple[Problem, ...]:
    """Render against the sample; the result must be well-formed XML and open as a .docx."""
    try:
        data = CompiledTemplate.load(path).render(context)
    except TemplateError as error:
        message = str(error)  # "<file> (<part>): what": the file is named by the Source
        if message.startswith(path.name):
            message = message[len(path.name):].lstrip()
        # "(part): what" follows with a space; "what" alone after a colon.
        message = " " + message if message.startswith("(") else ": " + message.removeprefix(": ")
        return (Problem(Source(shown), f"does not render for a sample customer{message}"),)
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if not name.endswith((".xml", ".rels")):
                continue
            try:
                etree.fromstring(archive.read(name))
            except etree.XMLSyntaxError as error:
                message = f"renders invalid XML in {name} for a sample customer: {error.msg}"
                problems.append(Problem(Source(shown), message))
    if not problems:
        try:
            docx.Document(io.BytesIO(data))
        except Exception as error:  # python-docx raises many kinds on a broken package
            problems.append(Problem(Source(shown), f"renders a document Word cannot open: "
                                                   f"{error}"))  # fmt: skip
    return tuple(problems)
