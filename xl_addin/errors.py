"""Exceptions for broken environments; expected data problems are `Problem` values instead.

CreditControlError
 ├── WorkbookError     a workbook that cannot be read or written at all
 ├── TemplateError     a letter or statement template that cannot be used
 ├── DocumentError     a document that cannot be written or converted
 ├── JournalError      the journal database cannot be opened or written
 └── InputError        user input with located problems (carries them)
"""

from __future__ import annotations

from collections.abc import Sequence

from xl_addin.core.problems import Problem


class CreditControlError(Exception):
    """Base of every error the product raises on purpose."""


class WorkbookError(CreditControlError):
    """A workbook that cannot be opened, read or written."""


class TemplateError(CreditControlError):
    """A template that cannot be found, compiled or rendered."""


class DocumentError(CreditControlError):
    """A document that cannot be written, or converted to PDF."""


class JournalError(CreditControlError):
    """The journal cannot be opened or written."""


class InputError(CreditControlError):
    """The input has problems; each names its sheet, row and column."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        lines = [str(p) for p in self.problems[:20]]
        if len(self.problems) > 20:
            lines.append(f"... and {len(self.problems) - 20} more")
        super().__init__("\n".join(lines))
