"""Read a credit-control workbook (.xlsx/.xlsm) with calamine into normalised tables.

calamine (Rust) reads the cell values; two small things it does not report are
read from the file's XML directly: the 1904 date system flag, and error cells
(#N/A, #REF!...), which calamine returns as blanks and which must not pass as
empty input.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from xl_addin.core.money import AMOUNT_LIMIT
from xl_addin.core.policy import DEFAULT_POLICY, Policy, policy_from_tables
from xl_addin.core.problems import Problem, Source
from xl_addin.errors import WorkbookError
from xl_addin.workbook import convert
from xl_addin.workbook.schema import (
    CONTACTS,
    CUSTOMERS,
    LEDGER,
    POLICY_TABLES,
    SETTINGS,
    TableSpec,
    fold,
)
from xl_addin.workbook.tables import RawTable, Table, column_letter

if TYPE_CHECKING:
    import python_calamine as calamine

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True, slots=True)
class Settings:
    as_of: dt.date | None = None
    language: str = "en"
    base_currency: str = "CNY"
    branch: str = ""
    statement_period: str = ""
    output_folder: str = ""
    journal: str = ""
    template_pack: str = ""
    pack_version: str = ""
    amount_limit: Decimal = AMOUNT_LIMIT  # larger amounts are refused, never rounded or wrapped
    # Per-document render limits as typed (seconds, megabytes; blank: the pack's or the
    # default), checked with the command line's and the pack's by services.render_limits.
    render_time_limit: str = ""
    render_size_limit: str = ""
    cells: dict[str, Source] = field(default_factory=dict, compare=False)  # key -> its Value cell
    table: Table | None = field(default=None, compare=False, repr=False)  # where it was read

    def source(self, name: str) -> Source:
        """Where a setting's value is (Settings!B5), or the Settings sheet when it has no row."""
        return self.cells.get(name, Source("Settings"))


@dataclass(frozen=True, slots=True)
class CreditBook:
    """Everything the engine needs from one workbook."""

    path: Path
    date1904: bool
    settings: Settings
    customers: Table
    ledger: Table | None
    policy: Policy
    contacts: Table | None = None  # the contact log; workbooks made before it have none


_SETTING_KEYS = {
    "asofdate": "as_of", "截止日期": "as_of", "账龄截止日": "as_of",
    "language": "language", "语言": "language",
    "basecurrency": "base_currency", "本位币": "base_currency",
    "branch": "branch", "分公司": "branch", "网点": "branch",
    "statementperiod": "statement_period", "对账期间": "statement_period",
    "outputfolder": "output_folder", "输出文件夹": "output_folder",
    "journal": "journal", "日志": "journal",
    "templatepack": "template_pack", "模板包": "template_pack",
    "packversion": "pack_version", "模板版本": "pack_version",
    "amountlimit": "amount_limit", "金额上限": "amount_limit",
    "rendertimelimit": "render_time_limit", "生成时限": "render_time_limit",
    "rendersizelimit": "render_size_limit", "生成大小上限": "render_size_limit",
}  # fmt: skip


def open_workbook(path: Path) -> tuple[calamine.CalamineWorkbook, bool]:
    """Open a workbook for reading; return it and whether it uses the 1904 date system."""
    import python_calamine as calamine  # here: xlwings Lite imports this module, reads no files

    from xl_addin.workbook.package import Package

    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    if path.suffix.lower() not in WORKBOOK_SUFFIXES or not zipfile.is_zipfile(path):
        raise WorkbookError(f"{path.name or path}: not an Excel workbook (.xlsx or .xlsm)")
    try:
        with Package(path) as package:
            package.refuse_doctypes()
            date1904 = package.date1904()
        book = calamine.CalamineWorkbook.from_path(str(path), load_tables=True)
    except (calamine.CalamineError, KeyError, zipfile.BadZipFile, OSError) as error:
        raise WorkbookError(f"{path.name}: cannot be read as a workbook ({error})") from error
    return book, date1904


def read_workbook(
    path: Path, *, ledger: Table | None = None
) -> tuple[CreditBook | None, list[Problem]]:
    """Read Settings, Customers, Ledger and Policy; return the book and every problem found.

    Pass `ledger` to take the ledger from elsewhere (a CSV export); the workbook then
    needs no Ledger sheet. A file calamine cannot read (a table whose range makes no
    sense, a sheet cut short) is a WorkbookError naming it.
    """
    try:
        return _read_workbook(path, ledger)
    except BaseException as error:
        if not _unreadable(error):
            raise
        raise WorkbookError(f"{path.name}: cannot be read as a workbook ({error})") from None


def _unreadable(error: BaseException) -> bool:
    """Whether the file is damaged: calamine's errors and the panics of its Rust code
    (pyo3's PanicException, a BaseException, not importable by name), a zip member that
    does not inflate."""
    import python_calamine as calamine

    damaged = (calamine.CalamineError, zipfile.BadZipFile, zlib.error, EOFError)
    return isinstance(error, damaged) or type(error).__name__ == "PanicException"


def _read_workbook(path: Path, ledger: Table | None) -> tuple[CreditBook | None, list[Problem]]:
    book, date1904 = open_workbook(path)
    problems: list[Problem] = []
    sheets = {fold(name): name for name in book.sheet_names}
    from xl_addin.workbook.error_cells import ErrorCells  # files only: lxml, not in Lite

    error_cells = ErrorCells(path)
    with convert.no_cycle_collection(), ThreadPoolExecutor(max_workers=1) as worker:
        # calamine releases the GIL while it parses: the (large) Ledger is parsed on
        # a second core while the other tables are read and converted here.
        ledger_raw = None if ledger is not None else worker.submit(_parse_apart, path, LEDGER,
                                                                     error_cells)  # fmt: skip
        settings, customers, policy, contacts = _read_small_tables(
            book, sheets, error_cells, date1904, problems
        )
        if ledger_raw is not None:
            # The Ledger's error cells are looked for here meanwhile (their sheet's XML).
            likely = sheets.get(fold(LEDGER.name), LEDGER.name)
            errors = error_cells.of(likely)
            raw = ledger_raw.result()
            if raw is not None:
                found = errors if raw.sheet == likely else error_cells.of(raw.sheet)
                raw = _with_serial_60(replace(raw, errors=found), error_cells)
            ledger = _normalised(raw, LEDGER, date1904, problems, settings.amount_limit)
    if customers is None:
        return None, problems
    return CreditBook(path, date1904, settings, customers, ledger, policy, contacts), problems


def read_settings_and_policy(path: Path) -> tuple[Settings, Policy]:
    """The Settings and the Policy alone, as `read_workbook` reads them (their problems are
    left to it): for a check that runs before the book is read whole."""
    try:
        book, date1904 = open_workbook(path)
        from xl_addin.workbook.error_cells import ErrorCells  # files only: lxml

        sheets = {fold(name): name for name in book.sheet_names}
        settings, ignored = Settings(), []
        raw = _find_table(book, SETTINGS, sheets, ErrorCells(path))
        if raw is not None:
            settings = _read_settings(convert.normalise(raw, SETTINGS, date1904, ignored),
                                      date1904, ignored)  # fmt: skip
        return settings, _read_policy(book, sheets)[0]
    except BaseException as error:
        if not _unreadable(error):
            raise
        raise WorkbookError(f"{path.name}: cannot be read as a workbook ({error})") from None


def _read_small_tables(book, sheets, error_cells, date1904, problems):
    settings = Settings()
    raw = _find_table(book, SETTINGS, sheets, error_cells)
    if raw is not None:
        settings = _read_settings(
            convert.normalise(raw, SETTINGS, date1904, problems), date1904, problems
        )
    customers = _normalised(
        _find_table(book, CUSTOMERS, sheets, error_cells), CUSTOMERS, date1904, problems,
        settings.amount_limit,
    )
    policy, policy_problems = _read_policy(book, sheets)
    problems.extend(policy_problems)
    contacts = _find_table(book, CONTACTS, sheets, error_cells)
    if contacts is not None:
        contacts = convert.normalise(
            contacts, CONTACTS, date1904, problems, amount_limit=settings.amount_limit
        )
    return settings, customers, policy, contacts


def _parse_apart(path: Path, spec: TableSpec, error_cells) -> RawTable | None:
    """Find and parse one table with a workbook handle of its own (for another thread); its
    error cells are left to the caller, its sheet's last row is asked of `error_cells`."""
    book, _ = open_workbook(path)
    sheets = {fold(n): n for n in book.sheet_names}
    return _find_table(book, spec, sheets, _LastRowOnly(error_cells))


def _normalised(
    raw: RawTable | None, spec, date1904, problems, amount_limit: Decimal = AMOUNT_LIMIT
) -> Table | None:
    if raw is None:
        problems.append(Problem(Source(spec.name), f"the workbook has no {spec.name} sheet"))
        return None
    problems.extend(raw.uncovered)
    return convert.normalise(raw, spec, date1904, problems, amount_limit=amount_limit)


def _with_serial_60(raw: RawTable, error_cells) -> RawTable:
    """The table told how to find its sheet's cells of serial 60, which the conversion
    gives back as the number 60 (calamine reads such a date cell as 1900-02-28, the day
    before) where a date cell reads 1900-02-28 (convert._Grid); and how to find what a
    date cell read as a time of day holds (a serial below 1: a date before 1900)."""
    serial_60 = getattr(error_cells, "serial_60", None)
    if serial_60 is None:  # the Ledger parsed on a second thread: the first looks after
        return raw
    return replace(raw, sixties=functools.partial(serial_60, raw.sheet),
                   written=functools.partial(error_cells.written, raw.sheet))  # fmt: skip


def _uncovered(book, sheet: str, name: str, ref_end: tuple[int, int], first_col: int,
               width: int, error_cells) -> tuple[Problem, ...]:  # fmt: skip
    """A problem when cells right below a table hold data: its ref is shorter than its data
    (rows typed or pasted under a table that did not grow), which would be left out."""
    last_row = ref_end[0] + 1  # 1-based worksheet row of the table's last row
    known = error_cells.last_row(sheet)
    if known is not None and known <= last_row:
        return ()  # no row below the table: no need for calamine to read the sheet again
    calamine_sheet = book.get_sheet_by_name(sheet)
    if calamine_sheet.end is None or calamine_sheet.end[0] + 1 <= last_row:
        return ()
    values = calamine_sheet.to_python(skip_empty_area=False)
    below = []
    for number in range(last_row + 1, len(values) + 1):
        cells = values[number - 1][first_col - 1 : first_col - 1 + width]
        if not any(v not in ("", None) for v in cells):
            break
        below.append(number)
    if not below:
        return ()
    rows = f"row {below[0]}" if len(below) == 1 else f"rows {below[0]}-{below[-1]}"
    return (Problem(
        Source(sheet, below[0], column_letter(first_col)),
        f"the table {name} ends at row {last_row} but {rows} below it hold data, which would "
        f"be left out: resize the table to take them in (Table Design > Resize Table)",
    ),)  # fmt: skip


def _find_table(book, spec: TableSpec, sheets: dict[str, str], error_cells) -> RawTable | None:
    """Find a table: an Excel table named like the sheet, else a sheet with headers in row 1."""
    for name in book.table_names:
        if fold(name) == fold(spec.name):
            table = book.get_table_by_name(name)
            header_row, first_col = table.start[0], table.start[1] + 1
            rows = table.to_python()
            if rows and all(v == "" for v in rows[-1]) and len(rows) == 1:
                rows = []  # a table with a header and one empty row
            headers = tuple(str(c) for c in table.columns)
            uncovered = _uncovered(book, table.sheet, name, table.end, first_col, len(headers),
                                   error_cells)  # fmt: skip
            raw = RawTable(table.sheet, name, header_row, first_col, headers, rows,
                           error_cells.of(table.sheet), uncovered)  # fmt: skip
            return _with_serial_60(raw, error_cells)
    for candidate in (spec.name, *spec.sheet_aliases):
        sheet_name = sheets.get(fold(candidate))
        if sheet_name is None:
            continue
        values = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        if not values:
            return RawTable(sheet_name, None, 1, 1, (), [], {})
        headers = tuple(str(h).strip() for h in values[0])
        raw = RawTable(sheet_name, None, 1, 1, headers, values[1:], error_cells.of(sheet_name))
        return _with_serial_60(raw, error_cells)
    return None


def _read_settings(table: Table, date1904: bool, problems: list[Problem]) -> Settings:
    values: dict[str, object] = {}
    cells: dict[str, Source] = {}
    for key, value, row in zip(
        table.frame["key"], table.frame["value"], table.frame["row"], strict=True
    ):
        name = _SETTING_KEYS.get(fold(key))
        if name is None:
            continue
        cells[name] = table.source(int(row), "value")
        if name == "as_of":
            dates, errors = convert.parse_date_column([value], date1904)
            if errors:
                problems.append(Problem(table.source(int(row), "value"), f"AsOfDate {errors[0]}"))
                continue
            values[name] = None if pd.isna(dates[0]) else pd.Timestamp(dates[0]).date()
        elif name == "amount_limit":
            limit = convert.positive_amount(value)
            if limit is None:
                message = f'AmountLimit "{value}" is not a positive amount'
                problems.append(Problem(table.source(int(row), "value"), message))
            else:
                values[name] = limit
        else:
            values[name] = convert.cell_text(value)
    language = str(values.get("language") or "en").strip().lower()
    if language not in ("en", "zh"):
        where = cells.get("language", Source(table.raw.sheet))
        problems.append(Problem(where, f'Language "{language}" must be en or zh'))
        values["language"] = "en"
    else:
        values["language"] = language
    kept = {k: v for k, v in values.items() if v not in (None, "") or k == "as_of"}
    return Settings(**kept, cells=cells, table=table)


def _read_policy(book, sheets: dict[str, str]) -> tuple[Policy, list[Problem]]:
    wanted = {fold(name): name for name in POLICY_TABLES}
    tables: dict[str, RawTable] = {}
    for name in book.table_names:
        canonical = wanted.get(fold(name))
        if canonical is None:
            continue
        table = book.get_table_by_name(name)
        columns = tuple(str(c).strip() for c in table.columns)
        tables[canonical] = RawTable(table.sheet, name, table.start[0], table.start[1] + 1,
                                     columns, table.to_python())  # fmt: skip
    return read_policy(tables)


def read_policy(tables: Mapping[str, RawTable]) -> tuple[Policy, list[Problem]]:
    """The policy given by the Policy sheet's tables (Buckets, Stages, ...: `POLICY_TABLES`
    names); a table left out keeps its default."""
    frames: dict[str, pd.DataFrame] = {}
    for canonical, raw in tables.items():
        columns = [str(c).strip() for c in raw.headers]
        rows = [list(r) + [""] * (len(columns) - len(r)) for r in raw.rows]
        frame = pd.DataFrame([r[: len(columns)] for r in rows], columns=columns, dtype=object)
        frame = frame[~frame.apply(lambda r: all(v in ("", None) for v in r), axis=1)]
        frame = frame.fillna("")
        frame["row"] = [raw.header_row + 1 + i for i in frame.index]
        frame.attrs["sheet"] = raw.sheet
        frame.attrs["letters"] = {c: raw.letter(i) for i, c in enumerate(columns)}
        frames[canonical] = frame.reset_index(drop=True)
    if not frames:
        return DEFAULT_POLICY, []
    return policy_from_tables(frames)


def read_tables(
    tables: Mapping[str, RawTable], policy: Mapping[str, RawTable], date1904: bool = False,
    path: Path | None = None, *, ledger: Table | None = None,
) -> tuple[CreditBook | None, list[Problem]]:
    """The book from tables already read (an open workbook's, a function's ranges): the
    same conversion and the same problems as `read_workbook`. `tables` maps the names of
    SETTINGS, CUSTOMERS, LEDGER and CONTACTS to their raw tables (any may be missing but
    Customers, and Ledger unless `ledger` gives it already converted)."""
    problems: list[Problem] = []
    settings = Settings()
    if SETTINGS.name in tables:
        settings = _read_settings(
            convert.normalise(tables[SETTINGS.name], SETTINGS, date1904, problems),
            date1904, problems,
        )  # fmt: skip
    customers = _normalised(tables.get(CUSTOMERS.name), CUSTOMERS, date1904, problems)
    if ledger is None:
        ledger = _normalised(tables.get(LEDGER.name), LEDGER, date1904, problems)
    book_policy, policy_problems = read_policy(policy)
    problems.extend(policy_problems)
    contacts = tables.get(CONTACTS.name)
    if contacts is not None:
        contacts = convert.normalise(contacts, CONTACTS, date1904, problems)
    if customers is None:
        return None, problems
    book = CreditBook(path, date1904, settings, customers, ledger, book_policy, contacts)
    return book, problems


class _LastRowOnly:
    """Stands in for ErrorCells in a second thread: the error cells are looked for by the
    first meanwhile, the sheet's last row is ErrorCells' (found by the same look)."""

    def __init__(self, error_cells):
        self.last_row = error_cells.last_row

    def of(self, sheet: str) -> dict[tuple[int, int], str]:
        return {}


@dataclass(frozen=True, slots=True)
class HistorySheet:
    """The workbook's History sheet: the journal's record as last written into it (title,
    a blank row, then a table with a Reference column)."""

    name: str  # as the workbook spells it
    title: object  # A1
    header_row: int  # 1-based
    header: list[str]
    reference_column: int  # 0-based
    rows: Iterator[list[object]]  # the rows under the header, as read, each header-wide

    def references(self) -> Iterator[tuple[int, str]]:
        """(row, reference) of each row listing one (consumes `rows`)."""
        for number, row in enumerate(self.rows, start=self.header_row + 1):
            text = convert.cell_text(row[self.reference_column])
            if text:
                yield number, text

    def source(self, row: int) -> Source:
        """The Reference cell of a row (History!E7)."""
        return Source(self.name, row, column_letter(self.reference_column + 1))


def read_history(path: Path) -> HistorySheet | None:
    """The workbook's History sheet, its rows read one by one (a big branch's holds a
    year of documents); None for a workbook without one or without a Reference column."""
    book, _ = open_workbook(path)
    sheet = {fold(name): name for name in book.sheet_names}.get(fold("History"))
    if sheet is None:
        return None
    found = book.get_sheet_by_name(sheet)
    left = found.start[1] if found.start else 0  # rows are read from row 1, columns from it
    rows = found.iter_rows()
    head = [[""] * left + list(row) for row in itertools.islice(rows, 10)]
    header = next((i for i, row in enumerate(head)
                   if "reference" in [fold(cell) for cell in row]), None)  # fmt: skip
    if header is None:
        return None
    width = len(head[header])

    def after_header():
        for row in head[header + 1 :]:
            yield row
        for row in rows:
            yield [""] * left + list(row) if left else row

    title = head[0][0] if head and head[0] else ""
    names = [str(c) for c in head[header]]
    return HistorySheet(sheet, title, header + 1, names,
                        [fold(c) for c in names].index("reference"),
                        (row if len(row) >= width else row + [""] * (width - len(row))
                         for row in after_header()))  # fmt: skip


def read_history_references(path: Path) -> list[tuple[Source, str]]:
    """The references the workbook's History sheet lists, each with its cell (History!E7)."""
    history = read_history(path)
    if history is None:
        return []
    return [(history.source(row), reference) for row, reference in history.references()]
