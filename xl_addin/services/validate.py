"""The validate use case: check a workbook and list every problem in its Problems sheet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xl_addin.core.problems import Problem
from xl_addin.services.issuing import ready_to_issue
from xl_addin.services.refresh import RefreshResult, Writer, compute
from xl_addin.workbook.reader import open_workbook
from xl_addin.workbook.writer import SheetTable, write_refresh

PROBLEMS_TITLE = {
    "en": ("Problems found by Validate", "No problems found."),
    "zh": ("数据检查发现的问题", "未发现问题。"),
}
PROBLEMS_HEADERS = {
    "en": ("Sheet", "Row", "Column", "Message"),
    "zh": ("工作表", "行", "列", "问题"),
}


@dataclass(frozen=True, slots=True)
class ValidateResult:
    problems: tuple[Problem, ...]
    backup: Path | None


def validate(
    path: Path, ledger_csv: Path | None = None, writer: Writer | None = None
) -> ValidateResult:
    """Check the workbook; write what was found (or that nothing was) into its Problems sheet.

    Beside the data, what would stop letters and statements is checked: a branch the
    template pack does not have or with an incomplete branch.toml, and History references
    the journal does not know.

    A file that is not a workbook at all raises WorkbookError and is left alone.
    """
    open_workbook(path)  # not a workbook: WorkbookError, nothing written
    result = compute(path, None, ledger_csv)
    if isinstance(result, RefreshResult):
        # What would stop letters and statements: the branch, its letterhead, the journal.
        _, problems = ready_to_issue(path, result.loaded.book.settings)
        language = result.loaded.book.settings.language
    else:
        problems, language = tuple(result), "en"
    sheet = problems_sheet(problems, language)
    write = writer or (lambda columns, sheets: write_refresh(path, columns, sheets))
    return ValidateResult(problems, write([], [sheet]))


def problems_sheet(problems: tuple[Problem, ...], language: str = "en") -> SheetTable:
    lang = "zh" if language == "zh" else "en"
    title, none = PROBLEMS_TITLE[lang]
    rows = [
        [p.source.sheet, p.source.row, p.source.column, p.message] for p in problems
    ]  # fmt: skip
    return SheetTable("Problems", f"{title}: {len(problems)}" if problems else none,
                      PROBLEMS_HEADERS[lang], rows)  # fmt: skip
