"""Write a new credit-control workbook (.xlsx) in the layout of the workbook contract.

Sheets, in order: Settings, Customers, Ledger, Policy, Aging, Contacts, History, Problems;
each data sheet holds an Excel table named like the sheet, the Policy sheet one
table per policy table. openpyxl's write-only mode streams the rows (a 100,000-row
ledger takes about 12 seconds); in that mode widths, the frozen header and table
columns are declared by hand, before or beside the rows.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableFormula, TableStyleInfo

from xl_addin.core.policy import DEFAULT_POLICY, Policy, bucket_labels
from xl_addin.errors import WorkbookError
from xl_addin.workbook.schema import CONTACT_HEADERS_ZH, CONTACTS, CUSTOMERS, LEDGER, TableSpec
from xl_addin.workbook.updates import LANDSCAPE_FROM

SETTINGS_KEYS = (
    "AsOfDate", "Language", "BaseCurrency", "Branch", "StatementPeriod",
    "OutputFolder", "Journal", "TemplatePack", "PackVersion",
)  # fmt: skip
HISTORY_HEADERS = ("RunAt", "Kind", "CustomerID", "Stage", "Reference", "File", "Amount")
PROBLEMS_HEADERS = ("Sheet", "Row", "Column", "Message")
DOC_TYPES = ("INV", "CRN", "PAY", "ADJ")
YES_NO = ("Y", "N")

DATE_FORMAT = "yyyy-mm-dd"
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.00%"  # rates are fractions, as Excel stores percentages: 0.08 shows 8.00%
NUMBER_FORMATS = {"money": MONEY_FORMAT, "share": "0.0%", "rate": PERCENT_FORMAT}

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
COMPUTED_FILL = PatternFill("solid", fgColor="E2EFDA")  # columns that refresh writes
TITLE_FONT = Font(bold=True, size=12)
TABLE_STYLE = "TableStyleLight9"

AGING_NOTE = {
    "en": "Run refresh to build the aging by customer.",
    "zh": "请运行刷新（Run refresh）生成账龄分析表。",
}
VALIDATION_MESSAGE = {
    "en": ("Not in the list", "Choose a value from the list."),
    "zh": ("不在列表中", "请从列表中选择。"),
}
POLICY_TITLES = {
    "Buckets": ("Buckets: days overdue up to", "账龄区间 Buckets：逾期天数上限"),
    "Stages": ("Stages: the collection ladder, from days overdue", "催收阶梯 Stages：自逾期天数起"),
    "Segments": ("Segments: days added to days overdue", "客户类别 Segments：逾期天数调整"),
    "Rules": ("Rules", "规则 Rules"),
    "Recovery": ("Recovery: chance of collecting by days overdue", "回收概率 Recovery：按逾期天数"),
    "Provision": ("Provision: bad-debt rate by age in days", "坏账准备 Provision：按账龄天数"),
    "Interest": (
        "Interest: reference rate (Bank Rate on 31 Dec / 30 Jun) for the half-year from",
        "基准利率 Interest：自该半年起适用的英格兰银行基准利率",
    ),
    "Compensation": (
        "Compensation: fixed per invoice, by currency, from amount",
        "固定补偿 Compensation：按币种及发票金额",
    ),
}


class Formula(str):
    """A cell formula (=...), written as a formula; any other text starting with = stays text."""


class Percent(Decimal):
    """A rate in a column of mixed values, written as a percentage (0.08 shows 8.00%)."""


@dataclass(frozen=True, slots=True)
class Block:
    """One table to write: its name, headers, the kind of each column and the values by column."""

    name: str
    headers: tuple[str, ...]
    kinds: tuple[str, ...]  # schema kinds, plus "share" and "rate" for policy numbers
    columns: tuple[list[object], ...]  # plain values (see `_plain`), one list per column
    computed: frozenset[str] = frozenset()

    @property
    def height(self) -> int:
        """Data rows; an empty table keeps one blank row, as Excel needs."""
        return max(len(self.columns[0]) if self.columns else 0, 1)


def write_credit_workbook(
    path: Path,
    settings: Mapping[str, object],
    customers: pd.DataFrame,
    ledger: pd.DataFrame,
    policy: Policy = DEFAULT_POLICY,
    language: str = "en",
) -> None:
    """Write a new credit-control workbook at `path` (written beside it, then moved in place).

    Columns missing from `customers` or `ledger` are written blank; a column the
    contract does not know raises ValueError. `language` (en or zh) picks the
    sheet notes and titles, and fills Settings.Language when `settings` has none.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"{path.name}: the builder writes .xlsx workbooks only")
    lang = "zh" if language == "zh" else "en"
    # Every value is converted before the streaming workbook opens: nothing fails half-written.
    blocks = (
        settings_block(settings, lang),
        frame_block(CUSTOMERS, customers),
        frame_block(LEDGER, ledger),
    )
    temporary = _temporary_beside(path)
    try:
        book = Workbook(write_only=True)
        _write_sheets(book, *blocks, policy, lang)
        book.save(temporary)
        os.replace(temporary, path)
    except OSError as error:
        raise WorkbookError(f"{path.name}: cannot be written ({error})") from error
    finally:
        temporary.unlink(missing_ok=True)


def _write_sheets(book, settings: Block, customers: Block, ledger: Block, policy, language):
    write_table_sheet(book, settings, freeze="A2")
    segments = tuple(s.name for s in policy.segments)
    write_table_sheet(
        book,
        customers,
        freeze="A2",
        choices={"Segment": segments, "DunningBlock": YES_NO},
        language=language,
    )
    write_table_sheet(
        book,
        ledger,
        freeze="A2",
        choices={"DocType": DOC_TYPES, "Disputed": YES_NO},
        language=language,
    )
    write_policy_sheet(book, policy_blocks(policy), language)
    book.create_sheet("Aging").append([AGING_NOTE[language]])
    write_table_sheet(book, empty_block("Contacts", contact_headers(language)), freeze="A2")
    write_table_sheet(book, empty_block("History", HISTORY_HEADERS), freeze="A2")
    write_table_sheet(book, empty_block("Problems", PROBLEMS_HEADERS), freeze="A2")
    book.defined_names["AsOfDate"] = DefinedName("AsOfDate", attr_text="Settings!$B$2")


def _temporary_beside(path: Path) -> Path:
    """Create an empty temporary file in the workbook's folder (so the final move is atomic)."""
    try:
        descriptor, name = tempfile.mkstemp(
            prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent
        )
    except OSError as error:
        raise WorkbookError(f"{path.name}: cannot be written in {path.parent} ({error})") from error
    os.close(descriptor)
    return Path(name)


# --- what goes into the tables ------------------------------------------------------------


def settings_block(settings: Mapping[str, object], language: str) -> Block:
    values = dict(settings)
    values["Language"] = values.get("Language") or language
    keys = [*SETTINGS_KEYS, *(k for k in values if k not in SETTINGS_KEYS)]
    return _rows_block(
        "Settings", ("Key", "Value"), ("text", "raw"), [(k, values.get(k)) for k in keys]
    )


def frame_block(spec: TableSpec, frame: pd.DataFrame, added: Sequence[str] = ()) -> Block:
    """The table of `spec` from `frame`; `added` names the user's own columns of the frame,
    written as they are at the right of the contract's (any other unknown column is refused)."""
    columns = (*spec.columns, *spec.computed)
    headers = tuple(c.header for c in columns)
    unknown = [str(c) for c in frame.columns if c not in headers and c not in added]
    if unknown:
        raise ValueError(f"{spec.name}: unknown columns {', '.join(unknown)}")
    blank = [None] * len(frame)
    return _block(
        spec.name,
        (*headers, *added),
        (*(c.kind for c in columns), *("raw",) * len(added)),
        [frame[h].tolist() if h in frame.columns else blank for h in (*headers, *added)],
        frozenset(c.header for c in spec.computed),
    )


def contact_headers(language: str) -> tuple[str, ...]:
    """The Contacts table's headers in the workbook's language."""
    return CONTACT_HEADERS_ZH if language == "zh" else tuple(c.header for c in CONTACTS.columns)


def contacts_block(language: str, frame: pd.DataFrame | None = None,
                   added: Sequence[str] = ()) -> Block:  # fmt: skip
    """The Contacts table in the workbook's language: `frame` (contract headers, plus the
    user's `added` columns) written as it is, or empty."""
    headers = contact_headers(language)
    if frame is None:
        return empty_block("Contacts", headers)
    blank = [None] * len(frame)
    names = [c.header for c in CONTACTS.columns]
    columns = [frame[h].tolist() if h in frame.columns else blank for h in names]
    columns += [frame[h].tolist() for h in added]
    return _block("Contacts", (*headers, *added), ("raw",) * (len(headers) + len(added)), columns)


def write_plain_sheet(book: Workbook, name: str, rows: Sequence[Sequence[object]]) -> None:
    """A sheet of values and formulas (`Formula`) as they are, no table."""
    sheet = book.create_sheet(name)
    for row in rows:
        sheet.append([_cell(sheet, _plain(value, "raw"), "raw") for value in row])


def empty_block(name: str, headers: Sequence[str]) -> Block:
    return _block(name, headers, ("raw",) * len(headers), [[] for _ in headers])


def _rows_block(name: str, headers: Sequence[str], kinds: Sequence[str], rows) -> Block:
    columns = [list(column) for column in zip(*rows)] or [[] for _ in headers]
    return _block(name, headers, kinds, columns)


def _block(name, headers, kinds, columns, computed=frozenset()) -> Block:
    plain = tuple(
        [_plain(v, kind) for v in column] for column, kind in zip(columns, kinds, strict=True)
    )
    return Block(name, tuple(headers), tuple(kinds), plain, computed)


def policy_blocks(policy: Policy) -> tuple[Block, ...]:
    """Return the Policy sheet's tables, in the names and columns the policy reader expects."""
    labels = bucket_labels(policy.bounds)
    rules = policy.rules
    return (
        _rows_block("Buckets", ("UpToDays", "Label"), ("int", "text"), zip(policy.bounds, labels)),
        _rows_block(
            "Stages",
            ("Key", "Name", "NameZh", "FromDays", "Action", "RepeatDays"),
            ("text", "text", "text", "int", "text", "int"),
            [(s.key, s.name, s.name_zh, s.from_days, s.action, s.repeat_days)
             for s in policy.stages],
        ),
        _rows_block(
            "Segments",
            ("Segment", "SegmentZh", "DaysOffset"),
            ("text", "text", "int"),
            [(s.name, s.name_zh, s.days_offset) for s in policy.segments],
        ),
        _rows_block(
            "Rules",
            ("Key", "Value"),
            ("text", "raw"),
            [
                ("NearLimitShare", rules.near_limit_share),
                ("RiskLatenessDays", rules.risk_lateness_days),
                ("RiskBrokenPromises", rules.risk_broken_promises),
                ("RiskLimitUse", Percent(rules.risk_limit_use)),
                ("RiskLimitRise", Percent(rules.risk_limit_rise)),
                ("RiskOverdueRise", Percent(rules.risk_overdue_rise)),
                ("MinimumAmount", rules.minimum_amount),
                ("MinContactIntervalDays", rules.min_contact_interval_days),
                ("MaxStepsPerRun", rules.max_steps_per_run),
                ("FirstContactMaxStage", rules.first_contact_max_stage),
                ("HoldFromStage", rules.hold_from_stage),
                ("DefaultPaymentTermsDays", rules.default_payment_terms_days),
                ("StatutoryMargin", Percent(rules.statutory_margin)),
                ("InterestBasisDays", rules.interest_basis_days),
                ("InterestFromStage", rules.interest_from_stage),
                ("InterestCurrencies", rules.interest_currencies),
                ("ReplyDays", rules.reply_days),
                ("DeadlineFromStage", rules.deadline_from_stage),
                # Off unless set (a pack's Rules.csv, or a row the branch adds): no row.
                *([("ReminderLeadDays", rules.reminder_lead_days)]
                  if rules.reminder_lead_days is not None else []),
            ],
        ),
        _rows_block("Recovery", ("Days", "Probability"), ("int", "share"), policy.recovery),
        _rows_block("Provision", ("FromDays", "Rate"), ("int", "share"), policy.provision),
        _rows_block(
            "Interest", ("EffectiveFrom", "ReferenceRate"), ("date", "rate"), policy.reference_rates
        ),
        _rows_block(
            "Compensation",
            ("Currency", "FromAmount", "Compensation"),
            ("text", "money", "money"),
            [(t.currency, t.from_amount, t.amount) for t in policy.compensation],
        ),
    )


# --- cells --------------------------------------------------------------------------------


def _plain(value: object, kind: str) -> object:
    """Return a value openpyxl writes as it is: None for any blank, else text, number or date."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, Formula):
        return value
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value) or None
    if isinstance(value, np.datetime64):
        value = None if np.isnat(value) else pd.Timestamp(value)
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return ("Y" if value else "N") if kind == "yn" else value
    if isinstance(value, float | Decimal):
        return _plain_number(value, kind)
    if isinstance(value, dt.datetime):  # pd.Timestamp included
        midnight = value.time() == dt.time(0)
        return value.date() if kind == "date" or midnight else value.replace(tzinfo=None)
    if value is None or isinstance(value, int | dt.date | dt.time):
        return value
    return _plain(str(value), kind)


def _plain_number(value: float | Decimal, kind: str) -> object:
    if value != value:  # NaN, float or Decimal
        return None
    if abs(value) == math.inf:
        return str(value)
    if kind == "int" and value == int(value):
        return int(value)
    return value


def _cell(sheet, value: object, kind: str) -> object:
    """Return what to append for a plain value: itself, or a cell with a format or kept text."""
    if isinstance(value, Formula):
        cell = WriteOnlyCell(sheet, str(value))
        if kind == "date":  # a computed date (ExpectedPayDate) shows as one before a refresh
            cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, str):
        if not (value.startswith("=") or value in ERROR_CODES):
            return value
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"  # text, never a formula or an error
        return cell
    if isinstance(value, dt.date):
        number_format = DATE_FORMAT
    elif isinstance(value, Percent):
        number_format = PERCENT_FORMAT
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number_format = NUMBER_FORMATS.get(kind)
    else:
        number_format = None
    if value is None or number_format is None:
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = number_format
    return cell


def _header_cell(sheet, text: str, computed: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, text)
    cell.font = HEADER_FONT
    cell.fill = COMPUTED_FILL if computed else HEADER_FILL
    return cell


def _title_cell(sheet, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, text)
    cell.font = TITLE_FONT
    cell.alignment = Alignment(vertical="bottom")
    return cell


def _width(header: str, values: list[object], kind: str) -> float:
    """Return a column width that fits the header and the first values."""
    if kind == "date":
        return max(12, _display_length(header) + 4)
    sample = [v for v in values[:200] if v is not None]
    longest = max((_display_length(str(v)) for v in sample), default=0)
    if kind == "money":
        longest += 4  # thousands separators
    return min(max(longest, _display_length(header) + 4, 8) + 2, 50)


def _set_widths(sheet, blocks: Sequence[Block]) -> None:
    """Size each column to the widest of the blocks written in it (before any row is sent)."""
    widths: dict[int, float] = {}
    for block in blocks:
        for position, (header, column, kind) in enumerate(
            zip(block.headers, block.columns, block.kinds, strict=True), 1
        ):
            widths[position] = max(widths.get(position, 0), _width(header, column, kind))
    for position, width in widths.items():
        sheet.column_dimensions[get_column_letter(position)].width = width


def _display_length(text: str) -> int:
    """Characters as Excel shows them: CJK and full-width characters take two columns."""
    return len(text) + sum(1 for ch in text if ord(ch) >= 0x2E80)


# --- sheets -------------------------------------------------------------------------------


def _excel_table(block: Block, top: int) -> Table:
    """Return the Excel table over a block written with its header in row `top`, from column A."""
    ref = f"A{top}:{get_column_letter(len(block.headers))}{top + block.height}"
    return Table(
        displayName=block.name,
        ref=ref,
        autoFilter=AutoFilter(ref=ref),
        # write-only mode cannot read the header cells back, so the columns are named here
        tableColumns=[TableColumn(id=i, name=h) for i, h in enumerate(block.headers, 1)],
        tableStyleInfo=TableStyleInfo(name=TABLE_STYLE, showRowStripes=True),
    )


def _add_table(sheet, table: Table) -> None:
    with warnings.catch_warnings():
        # openpyxl warns that write-only tables need their columns named by hand; they are.
        warnings.simplefilter("ignore", UserWarning)
        sheet.add_table(table)


def _append_block(sheet, block: Block) -> None:
    """Append the header and data rows of a block to a write-only sheet."""
    sheet.append([_header_cell(sheet, h, h in block.computed) for h in block.headers])
    cells = [
        [_cell(sheet, v, kind) for v in column]
        for column, kind in zip(block.columns, block.kinds, strict=True)
    ]
    if not cells or not cells[0]:
        sheet.append([None])
        return
    for row in zip(*cells):
        sheet.append(row)


def _validations(block: Block, choices: Mapping[str, Sequence[str]], language: str):
    title, message = VALIDATION_MESSAGE[language]
    for position, header in enumerate(block.headers, 1):
        if header not in choices:
            continue
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(choices[header]) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",  # aliases such as 是 or 发票 stay allowed
            errorTitle=title,
            error=message,
        )
        letter = get_column_letter(position)
        validation.add(f"{letter}2:{letter}{block.height + 1}")
        yield validation


def write_table_sheet(
    book: Workbook,
    block: Block,
    *,
    freeze: str | None = None,
    choices: Mapping[str, Sequence[str]] | None = None,
    language: str = "en",
    formulas: Mapping[str, str] | None = None,
):
    """Write a sheet holding one Excel table; `formulas` (header -> formula) are the
    table's calculated columns, which Excel fills into every new row."""
    sheet = book.create_sheet(block.name)
    _set_widths(sheet, [block])
    sheet.freeze_panes = freeze
    _print_setup(sheet, len(block.headers))
    _append_block(sheet, block)
    for validation in _validations(block, choices or {}, language):
        sheet.data_validations.append(validation)
    table = _excel_table(block, top=1)
    for column in table.tableColumns:
        if formulas and column.name in formulas:
            text = formulas[column.name].removeprefix("=")
            column.calculatedColumnFormula = TableFormula(attr_text=text)
    _add_table(sheet, table)
    return sheet


def _print_setup(sheet, width: int) -> None:
    """Print one page wide, the header row on every page, landscape when the table is wide."""
    sheet.print_title_rows = "1:1"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.page_setup.orientation = "landscape" if width > LANDSCAPE_FROM else "portrait"


def write_policy_sheet(book: Workbook, blocks: Sequence[Block], language: str) -> None:
    """Stack the policy tables down one sheet: a title, the table, two blank rows."""
    sheet = book.create_sheet("Policy")
    _set_widths(sheet, blocks)
    top = 1
    for block in blocks:
        title = POLICY_TITLES[block.name][language == "zh"]
        sheet.append([_title_cell(sheet, title)])
        _append_block(sheet, block)
        _add_table(sheet, _excel_table(block, top=top + 1))
        top += 1 + 1 + block.height
        if block is not blocks[-1]:
            sheet.append([])
            sheet.append([])
            top += 2
