"""Where a value came from, and what is wrong with it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Source:
    """A place in a workbook (or CSV file): sheet, 1-based row and column letter."""

    sheet: str
    row: int | None = None
    column: str | None = None
    workbook: str = ""

    def __str__(self) -> str:
        cell = f"{self.column or ''}{self.row if self.row is not None else ''}"
        return f"{self.sheet}!{cell}" if cell else self.sheet


@dataclass(frozen=True, slots=True)
class Problem:
    """A data problem found in the input, printed as `Ledger!F12: message`."""

    source: Source
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "sheet": self.source.sheet,
            "row": self.source.row,
            "column": self.source.column,
            "message": self.message,
        }
