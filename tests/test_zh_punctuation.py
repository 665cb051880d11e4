"""Chinese text we ship uses full-width punctuation: templates, workbook, reports, e-mails.

A half-width `: , ( ) ; ! ?` next to a Chinese character is flagged ("对账期间:2026年11月",
"如已付款,谢谢"). English text that quotes a Chinese word ("(年 or 日)"), docstrings and
regular expressions are not Chinese text and are left alone.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import docx

ROOT = Path(__file__).resolve().parents[1]
HAN = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
HALF_WIDTH = re.compile(f"[{HAN}][:,();!?]|[:,();!?][{HAN}]")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def chinese(text: str) -> bool:
    """Mostly Chinese: at least half as many Chinese characters as Latin letters."""
    bare = PLACEHOLDER.sub("", text)
    han = len(re.findall(f"[{HAN}]", bare))
    return han > 0 and 2 * han >= len(re.findall("[A-Za-z]", bare))


def flagged(text: str) -> list[str]:
    bare = PLACEHOLDER.sub("", text)
    return [bare[max(0, m.start() - 6):m.end() + 6] for m in HALF_WIDTH.finditer(bare)]


def docstrings(tree: ast.AST) -> set[int]:
    nodes = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, nodes) and node.body and isinstance(node.body[0], ast.Expr):
            found.add(id(node.body[0].value))
    return found


def python_strings() -> list[tuple[str, str]]:
    sources = [*ROOT.joinpath("xl_addin").rglob("*.py"), *ROOT.joinpath("letters").glob("*.py")]
    strings = []
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):  # f-strings: the literal parts, joined
                parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
                text = "{}".join(map(str, parts))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in skip:
                    continue
                text = node.value
            else:
                continue
            if "\\" in text or text.startswith(("^", "(?", "[")):
                continue  # a regular expression
            strings.append((f"{path.relative_to(ROOT)}:{node.lineno}", text))
    return strings


def template_texts() -> list[tuple[str, str]]:
    texts = []
    for path in sorted(ROOT.joinpath("letters").rglob("*.docx")):
        document = docx.Document(path)
        paragraphs = list(document.paragraphs)
        for table in document.tables:
            for row in table.rows:
                for cell in row.cells:
                    paragraphs += cell.paragraphs
        texts += [(f"{path.relative_to(ROOT)}", p.text) for p in paragraphs]
    return texts


def test_the_lint_sees_what_it_should():
    assert flagged("对账期间:2026年11月") and flagged("如已付款,谢谢") and flagged("刷新(无需)")
    assert not flagged("对账期间：2026年11月，谢谢（无需）") and not flagged("{name}:{id}")
    assert chinese("请核对本对账单") and not chinese('" must be year or day (年 or 日)')


def test_chinese_strings_in_the_code_use_full_width_punctuation():
    found = [f"{where}: {flagged(text)}" for where, text in python_strings()
             if chinese(text) and flagged(text)]  # fmt: skip
    assert not found, "\n".join(found)


def test_chinese_templates_use_full_width_punctuation():
    found = [f"{where}: {flagged(text)}" for where, text in template_texts()
             if chinese(text) and flagged(text)]  # fmt: skip
    assert not found, "\n".join(found)
