"""What a run changes in a workbook, whichever way it is written (a file, an open book).

The two kinds of change (see workbook.writer for the file and workbook.access for a
book open in Excel or xlwings Lite): a `ColumnUpdate` fills named columns of a table,
a `SheetTable` rewrites a sheet the add-in owns. Kept apart from the writer so that
xlwings Lite, which writes through the open book, carries no file-writing code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

HEADER_ROW = 3  # of an owned sheet: title in row 1, a blank row, then the table
LANDSCAPE_FROM = 8  # columns: a wider table prints landscape (every sheet we write)


@dataclass(frozen=True, slots=True)
class ColumnUpdate:
    """Values for some columns of a table, one per listed worksheet row."""

    sheet: str  # "Customers" or "Ledger"
    header_row: int  # 1-based row of the table header
    first_column: int  # 1-based column index of the table's first column
    table: str | None  # Excel table displayName holding the data, or None for a plain sheet
    rows: Sequence[int]  # 1-based worksheet rows of the records, aligned with each values list
    values: Mapping[str, Sequence[object]]  # header -> values (None = blank)
    number_formats: Mapping[str, str] = field(default_factory=dict)  # header -> number format
    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)  # header -> other headers
    # The table's computed columns: a cell of a column with a calculated formula that holds
    # no formula gets the formula, our value its stored result (see workbook.writer).
    computed: bool = False


@dataclass(frozen=True, slots=True)
class SheetTable:
    """A whole sheet the add-in owns and rewrites: title, one table, totals, maybe a chart."""

    sheet: str
    title: str  # written in A1
    header: Sequence[str]  # table header in row 3
    rows: Sequence[Sequence[object]]  # data rows from row 4
    totals: Sequence[Sequence[object]] = ()  # bold rows under the table, not part of it
    number_formats: Mapping[str, str] = field(default_factory=dict)  # header -> format
    chart: bool = False  # a stacked bar chart of chart_columns per row label (first column)
    chart_columns: Sequence[str] = ()
    chart_by: str = ""  # a header: one chart per run of rows with the same value in it
    # A second, plain block under the table and its totals (after one blank row), from
    # column A: not part of the table (e.g. Provision's roll-rate matrix). It prints with the
    # table, in its width; a chart goes under it.
    below: Sequence[Sequence[object]] = ()
    below_formats: Mapping[int, str] = field(default_factory=dict)  # block column (0-based)
    # The table's first data rows already in the sheet, as this table would write them
    # (History: services.issuing checks them against the journal): `rows` are the rows
    # after them, appended (workbook.writer and, in an open book, workbook.access, each
    # checking the sheet is still as it was); a table with totals, a block under it or a
    # chart is always written whole.
    kept_rows: int = 0
    # With kept rows, the first of them (up to writer.WIDTH_SAMPLE_ROWS): the file's columns
    # are sized again from them, as writing the table whole would size them. None: the
    # sheet's columns are kept as they are.
    kept_sample: Sequence[Sequence[object]] | None = None

    def __post_init__(self) -> None:
        if self.kept_rows and (self.totals or self.below or self.chart):
            raise ValueError(f"{self.sheet}: only a plain table is appended to")
        if self.kept_sample is not None and not self.kept_rows:
            raise ValueError(f"{self.sheet}: a sample of kept rows, and none kept")

    @property
    def data_rows(self) -> int:
        """The table's data rows once written: those kept and the new."""
        return self.kept_rows + len(self.rows)

    @property
    def below_row(self) -> int:
        """The 1-based row where the block under the table starts."""
        return HEADER_ROW + max(self.data_rows, 1) + (len(self.totals) + 1 if self.totals
                                                      else 0) + 2  # fmt: skip

    @property
    def last_row(self) -> int:
        """The sheet's last written row (the table, its totals, the block under them)."""
        if self.below:
            return self.below_row + len(self.below) - 1
        return HEADER_ROW + max(self.data_rows, 1) + (len(self.totals) + 1 if self.totals else 0)
