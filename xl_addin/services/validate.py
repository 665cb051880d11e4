"""The validate use case: check a workbook and list every problem in its Problems sheet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xl_addin.core.problems import Problem
from xl_addin.errors import TemplateError
from xl_addin.services.book import Workbook, saved_path
from xl_addin.services.problems import PROBLEMS_HEADERS, PROBLEMS_TITLE, problems_sheet
from xl_addin.services.refresh import RefreshResult, Writer, compute, default_writer
from xl_addin.workbook.open_book import OpenBook
from xl_addin.workbook.reader import open_workbook
from xl_addin.workbook.updates import SheetTable

__all__ = ["PROBLEMS_HEADERS", "PROBLEMS_TITLE", "ValidateResult", "problems_sheet", "validate"]


@dataclass(frozen=True, slots=True)
class ValidateResult:
    problems: tuple[Problem, ...]
    backup: Path | None


def validate(
    source: Workbook, ledger_csv: Path | None = None, writer: Writer | None = None
) -> ValidateResult:
    """Check the workbook; write what was found (or that nothing was) into its Problems sheet.

    Beside the data, what would stop letters and statements is checked: a branch the
    template pack does not have or with an incomplete branch.toml, the pack's checks for
    the branch and the workbook's Policy (services.pack: every template the policy needs
    compiles, uses known fields and renders), a PackVersion that is not the pack's, and
    History references
    the journal does not know (for an open book: as its saved file lists them; a book
    never saved has no journal and is not checked for them).

    A file that is not a workbook at all raises WorkbookError and is left alone.
    """
    if not isinstance(source, OpenBook):
        open_workbook(Path(source))  # not a workbook: WorkbookError, nothing written
    path = saved_path(source)
    first = None
    if path is not None:  # History checked before the book is read, as letters do
        from xl_addin.services.issuing import check_history_first, ready_to_issue

        first = check_history_first(path)
    result = compute(source, None, ledger_csv)
    if isinstance(result, RefreshResult):
        # What would stop letters and statements: the branch, its letterhead, the journal.
        settings, policy = result.loaded.book.settings, result.loaded.book.policy
        problems = ready_to_issue(path, settings, policy, first)[1] if path is not None else ()
        problems = _with_pack_checks(problems, settings, policy)
        language = settings.language
    else:
        problems, language = tuple(result), "en"
        if path is not None:  # what would stop letters, listed with the rest in one pass
            from xl_addin.workbook.reader import read_workbook

            book, _ = read_workbook(path)
            if book is not None:
                language = book.settings.language
                issuing = ready_to_issue(path, book.settings, book.policy, first)[1]
                problems = tuple(dict.fromkeys([*problems, *issuing]))
    sheet = problems_sheet(problems, language)
    if writer is None and not isinstance(source, OpenBook) and _listed(Path(source), sheet):
        # Nothing to change: the file stays as it is, and so does the backup of the last
        # command that changed it (a validate after an import kept only the import's).
        return ValidateResult(problems, None)
    write = writer or default_writer(source)
    return ValidateResult(problems, write([], [sheet]))


def _listed(path: Path, sheet: SheetTable) -> bool:
    """Whether the file's sheet already holds what `sheet` would write: its title in A1,
    the header in row 3 and the rows under it, nothing else."""
    book, _ = open_workbook(path)
    name = next((n for n in book.sheet_names if n.casefold() == sheet.sheet.casefold()), None)
    if name is None:
        return False
    found = book.get_sheet_by_name(name)
    top, left = found.start or (0, 0)
    written = [[]] * top + list(found.iter_rows()) if not left else []
    wanted = [[sheet.title], [], list(sheet.header), *sheet.rows]
    return [_values(row) for row in written] == [_values(row) for row in wanted]


def _values(row) -> list:
    """A row's cells as calamine reads them, blanks at its end left off."""
    cells = ["" if v is None else float(v) if isinstance(v, int | float) else v for v in row]
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def _with_pack_checks(problems, settings, policy) -> tuple[Problem, ...]:
    """`problems` and the pack's checks for the workbook's branch; the pack's list of what
    its branch.toml lacks replaces the shorter one `ready_to_issue` gives."""
    from xl_addin.services.issuing import pack_of
    from xl_addin.services.pack import workbook_pack_problems

    try:
        pack = pack_of(settings)
    except TemplateError:
        return tuple(problems)  # ready_to_issue names it at Settings.TemplatePack
    if pack.branch not in pack.branches():
        return tuple(problems)
    branch_file = pack.shown(pack.branch_folder(pack.branch) / "branch.toml")
    kept = tuple(p for p in problems if p.source.sheet != branch_file)
    return tuple(dict.fromkeys(kept + workbook_pack_problems(settings, policy, pack)))
