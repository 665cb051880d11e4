"""A table as found in a workbook or CSV file, raw and normalised."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from xl_addin.core.problems import Source

LAST_ROW = 1_048_576  # a worksheet's last row (2**20): Excel opens no sheet reaching past it


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index


@dataclass(frozen=True, slots=True)
class RawTable:
    """Cell values of one table as found: where it sits, its header texts and data rows."""

    sheet: str
    table: str | None
    header_row: int  # 1-based worksheet row of the header
    first_column: int  # 1-based worksheet column of the first column
    headers: tuple[str, ...]
    rows: list[list[object]]
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> "#N/A"
    uncovered: tuple[object, ...] = ()  # Problems: data found below the table's ref
    # (row, col) of the sheet's number cells holding 60: calamine reads a date cell of
    # serial 60 as 1900-02-28, so the reader asks where they are when a date reads that.
    sixties: Callable[[], Iterable[tuple[int, int]]] | None = None
    # What (row, col) cells hold as written: calamine reads a date cell below serial 1 (a
    # negative serial, a date before 1900) as a time of day, 00:00:00.
    written: Callable[[set[tuple[int, int]]], Mapping[tuple[int, int], str]] | None = None

    def letter(self, position: int) -> str:
        return column_letter(self.first_column + position)


@dataclass(frozen=True, slots=True)
class Table:
    """A normalised table: engine columns plus `row` (worksheet row), and where each column is."""

    raw: RawTable
    frame: pd.DataFrame
    letters: dict[str, str]  # field -> column letter

    def source(self, row: int | None = None, field_name: str | None = None) -> Source:
        return Source(self.raw.sheet, row, self.letters.get(field_name) if field_name else None)
