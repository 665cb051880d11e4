"""The Problems sheet: what validation found, with sheet, row and column, in the book's language."""

from __future__ import annotations

from xl_addin.core.problems import Problem
from xl_addin.workbook.updates import SheetTable

PROBLEMS_TITLE = {
    "en": ("Problems found by Validate", "No problems found."),
    "zh": ("数据检查发现的问题", "未发现问题。"),
}
PROBLEMS_HEADERS = {
    "en": ("Sheet", "Row", "Column", "Message"),
    "zh": ("工作表", "行", "列", "问题"),
}


def problems_sheet(problems: tuple[Problem, ...], language: str = "en") -> SheetTable:
    """The Problems sheet listing `problems` (or saying there are none)."""
    lang = "zh" if language == "zh" else "en"
    title, none = PROBLEMS_TITLE[lang]
    rows = [
        [p.source.sheet, p.source.row, p.source.column, p.message] for p in problems
    ]  # fmt: skip
    return SheetTable("Problems", f"{title}: {len(problems)}" if problems else none,
                      PROBLEMS_HEADERS[lang], rows)  # fmt: skip
