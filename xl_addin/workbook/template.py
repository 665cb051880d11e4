"""Build the branch workbook from code: tables whose computed columns call the functions.

The layout is the workbook contract (builder.py writes the tables); on top of it:

- a Start sheet with short instructions in both languages and the places of the
  buttons (Refresh, Generate letters, Statements, Validate);
- computed columns as formulas calling the Excel functions of `xl_addin.udfs`
  (`=AGE_BUCKET(...)`), declared as the tables' calculated columns so Excel fills
  them into new rows; `refresh` keeps them and stores the engine's values as their
  results, so the numbers show even where no Python runs;
- conditional formats (over limit, hold, over 90 days) and an `xlwings.conf` sheet
  telling classic xlwings where the functions live and, when one is given, which
  Python to run (`Interpreter_Win` / `Interpreter_Mac`, see interpreter.py).

Formulas are written in the file format, not as typed in Excel: structured
references in full (`Ledger[[#This Row],[DueDate]]`; `[@DueDate]` is only how
Excel displays them), and functions newer than Excel 2007 with their `_xlfn.`
prefix (MAXIFS). The VBA functions of xlwings are plain names.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName

from xl_addin.core.labels import CREDIT_STATUS_ZH
from xl_addin.core.policy import DEFAULT_POLICY, Policy
from xl_addin.workbook.builder import (
    DOC_TYPES,
    HISTORY_HEADERS,
    PROBLEMS_HEADERS,
    YES_NO,
    Formula,
    contacts_block,
    empty_block,
    frame_block,
    policy_blocks,
    settings_block,
    write_plain_sheet,
    write_policy_sheet,
    write_table_sheet,
)
from xl_addin.workbook.package import Package, q
from xl_addin.workbook.safe_save import save_atomically
from xl_addin.workbook.schema import CUSTOMERS, LEDGER
from xl_addin.workbook.tables import column_index, column_letter

BUTTONS = (  # (label en, label zh, VBA Sub, Python entry point in xl_addin.macros)
    ("Refresh", "刷新", "RefreshButton", "refresh"),
    ("Generate letters", "生成催款函", "GenerateLettersButton", "generate_letters"),
    ("Statements", "生成对账单", "StatementsButton", "statements"),
    ("Validate", "检查数据", "ValidateButton", "validate"),
)
BUTTON_ROWS = (5, 8, 11, 14)  # Start!B5, B8, ... : where each button sits
# Start's columns (in characters): the buttons (150 points wide) sit inside column B, so
# they cover none of the instructions in column C.
START_WIDTHS = {"A": 3, "B": 30, "C": 100}


def start_left(letter: str = "B") -> float:
    """Where a Start column begins, in points: Excel's column width in characters is
    (7 * width + 5) pixels of Calibri 11's 7-pixel digit, 0.75 point each."""
    left = 0.0
    for column, width in START_WIDTHS.items():
        if column == letter:
            return left + 3.0  # a small margin inside the cell
        left += (7 * width + 5) * 0.75
    raise ValueError(f"Start has no column {letter} of known width")
START_TEXT = {
    "en": (
        "Credit control",
        "1. Put the date of the run in Settings (AsOfDate), your customers in Customers and the "
        "ledger (invoices, payments, credit notes) in Ledger.",
        "2. Refresh computes open amounts, days overdue, buckets, credit status and the stage "
        "of each customer, and the Aging sheet.",
        "3. Generate letters writes the dunning letters and call sheets; Statements writes "
        "the monthly statements of account. Both record what was issued in History.",
        "4. Validate lists every problem in the data on the Problems sheet, with its cell.",
        "The green columns are computed: do not type in them.",
    ),
    "zh": (
        "信用管理",
        "1. 在 Settings（设置）填写截止日期 AsOfDate，在 Customers 填写客户资料，在 Ledger 填写"
        "发票、收款、贷项等单据。",
        "2. 点击“刷新”计算未结金额、逾期天数、账龄、信用状态和催收阶段，并生成账龄分析表 Aging。",
        "3. “生成催款函”生成催款函和电话催收单；“生成对账单”生成月度对账单。已发出的文件记录在 "
        "History。",
        "4. “检查数据”把数据中的每个问题（含单元格位置）列在 Problems 工作表。",
        "绿色表头的列由程序计算，请勿手工填写。",
    ),
}
XLWINGS_CONF = (("UDF Modules", "xl_addin.udfs"), ("Use UDF Server", False),
                ("Show Console", False))  # fmt: skip
AGING_NOTE = {
    "en": "Press Refresh to build the aging by customer.",
    "zh": "请点击“刷新”生成账龄分析表。",
}
RED = PatternFill("solid", fgColor="F8CBAD")
DARK_RED = PatternFill("solid", fgColor="C00000")
ORANGE = PatternFill("solid", fgColor="FCE4D6")


LIVE_SHEET = "Live"
# The sheets the layout has, in order (build_template writes them; the user's own go after
# Problems).
LAYOUT_SHEETS = ("Start", "Settings", "Customers", "Ledger", "Policy", "Aging", "Contacts",
                 "History", "Problems", LIVE_SHEET, "xlwings.conf")  # fmt: skip
LIVE_ANCHORS = {"Ledger": "A3", "Customers": "G3"}  # where each block spills from
LIVE_NAMES = {"Ledger": "LedgerColumns", "Customers": "CustomerColumns"}
POLICY_ARGUMENTS = ("Buckets", "Stages", "Segments", "Rules")
# Excel 365's calculation engine id: a file last calculated by an older engine is
# recalculated in full on open, which is what the stored values are there to avoid.
CALC_ID = 191029


def live_formulas() -> dict[str, str]:
    """The two block functions: each is fed the tables' input columns (header included,
    computed columns left out: they depend on the block) and the Policy tables."""
    ledger = f"Ledger[[#All],[{LEDGER.columns[0].header}]:[{LEDGER.columns[-1].header}]]"
    customers = (f"Customers[[#All],[{CUSTOMERS.columns[0].header}]:"
                 f"[{CUSTOMERS.columns[-1].header}]]")  # fmt: skip
    rest = ",".join(("Settings[#All]", "Contacts[#All]", *(f"{t}[#All]" for t in POLICY_ARGUMENTS)))
    return {
        "Ledger": f"LEDGER_COLUMNS({ledger},{customers},{rest})",
        "Customers": f"CUSTOMER_COLUMNS({customers},{ledger},{rest})",
    }


def _from_block(table: str, spec) -> dict[str, str]:
    """Each computed column: its value from the block, by the row's position in the table
    (a native lookup: no Python call per row)."""
    name = LIVE_NAMES[table]
    return {
        column.header: f"=INDEX({name},ROW()-ROW({table}[#Headers]),{k})"
        for k, column in enumerate(spec.computed, start=1)
    }


def ledger_formulas(policy: Policy = DEFAULT_POLICY) -> dict[str, str]:
    """The Ledger's computed columns, read from the Ledger block of the Live sheet."""
    return _from_block("Ledger", LEDGER)


def customer_formulas() -> dict[str, str]:
    """The Customers' computed columns, read from the Customers block of the Live sheet."""
    return _from_block("Customers", CUSTOMERS)


def build_template(
    path: Path,
    *,
    language: str = "en",
    branch: str = "",
    policy: Policy = DEFAULT_POLICY,
    customers: pd.DataFrame | None = None,
    ledger: pd.DataFrame | None = None,
    settings: Mapping[str, object] | None = None,
    interpreters: Mapping[str, str] | None = None,
    contacts: pd.DataFrame | None = None,
    added: Mapping[str, Sequence[str]] | None = None,
    sheets: Mapping[str, Sequence[Sequence[object]]] | None = None,
) -> Path | None:
    """Write the branch workbook (.xlsx) at `path` safely; return the backup of a previous file.

    `customers`, `ledger` and `contacts` (contract headers) fill the tables, e.g. from the
    demo or the workbook being upgraded; `added` (table -> headers) names the user's own
    columns of those frames, written at the right of the table; `sheets` (name -> rows)
    are the user's own sheets, written as values and formulas after Problems;
    `interpreters` (xlwings.conf key -> path) are added below the xlwings settings.
    """
    added = added or {}
    lang = "zh" if language == "zh" else "en"
    values = {"AsOfDate": dt.date.today(), "Language": lang, "Branch": branch, "BaseCurrency":
              "CNY" if lang == "zh" else "", **(settings or {})}  # fmt: skip
    blocks = (
        settings_block(values, lang),
        frame_block(CUSTOMERS, _with_formulas(customers, CUSTOMERS, customer_formulas()),
                    added.get("Customers", ())),
        frame_block(LEDGER, _with_formulas(ledger, LEDGER, ledger_formulas(policy)),
                    added.get("Ledger", ())),
        contacts_block(lang, contacts, added.get("Contacts", ())),
    )  # fmt: skip

    def write(target: Path) -> None:
        book = Workbook(write_only=True)
        _start_sheet(book, lang)
        write_table_sheet(book, blocks[0], freeze="A2")
        segments = tuple(s.name for s in policy.segments)
        customers_sheet = write_table_sheet(
            book, blocks[1], freeze="B2", language=lang, formulas=customer_formulas(),
            choices={"Segment": segments, "DunningBlock": YES_NO, "Language": ("en", "zh")},
        )  # fmt: skip
        ledger_sheet = write_table_sheet(
            book, blocks[2], freeze="D2", language=lang, formulas=ledger_formulas(policy),
            choices={"DocType": DOC_TYPES, "Disputed": YES_NO},
        )  # fmt: skip
        _credit_formats(customers_sheet, blocks[1])
        _overdue_formats(ledger_sheet, blocks[2])
        write_policy_sheet(book, policy_blocks(policy), lang)
        book.create_sheet("Aging").append([AGING_NOTE[lang]])
        write_table_sheet(book, blocks[3], freeze="A2")
        write_table_sheet(book, empty_block("History", HISTORY_HEADERS), freeze="A2")
        write_table_sheet(book, empty_block("Problems", PROBLEMS_HEADERS), freeze="A2")
        for name, rows in (sheets or {}).items():
            write_plain_sheet(book, name, rows)
        _live_sheet(book, lang, {"Ledger": blocks[2].height, "Customers": blocks[1].height})
        conf = book.create_sheet("xlwings.conf")
        for key, value in (*XLWINGS_CONF, *(interpreters or {}).items()):
            conf.append([key, value])
        book.defined_names["AsOfDate"] = DefinedName("AsOfDate", attr_text="Settings!$B$2")
        for table, cell in LIVE_ANCHORS.items():
            column, row = cell[0], cell[1:]
            book.defined_names[LIVE_NAMES[table]] = DefinedName(
                LIVE_NAMES[table], attr_text=f"_xlfn.ANCHORARRAY({LIVE_SHEET}!${column}${row})"
            )
        # Recalculate only what changed: no full recalculation on load (openpyxl's
        # default), and the calculation engine of today's Excel (see CALC_ID).
        book.calculation.fullCalcOnLoad = False
        book.calculation.calcId = CALC_ID
        book.save(target)
        mark_dynamic_arrays(target, LIVE_SHEET, tuple(LIVE_ANCHORS.values()))
        _fix_timestamps(target)

    return save_atomically(Path(path), write)


def _with_formulas(frame, spec, formulas: Mapping[str, str]) -> pd.DataFrame:
    """The frame (or one blank row) with each computed column holding its formula."""
    headers = [c.header for c in (*spec.columns, *spec.computed)]
    frame = pd.DataFrame(columns=headers[:1]) if frame is None else frame.copy()
    rows = max(len(frame), 1)
    if not len(frame):
        frame = pd.DataFrame({headers[0]: [None]})
    for header, formula in formulas.items():
        frame[header] = [Formula(formula)] * rows
    return frame


LIVE_NOTE = {
    "en": "The computed columns of Ledger and Customers: one function call each, fed the "
          "tables and the Policy. The tables read their computed columns from here. Do not "
          "type in this sheet.",
    "zh": "Ledger 与 Customers 的计算列：各由一次函数调用算出（依据各表与 Policy）。"
          "表中的计算列取自此处。请勿在此表输入。",
}


def _live_sheet(book: Workbook, lang: str, heights: Mapping[str, int]) -> None:
    """The Live sheet: a note, the blocks' headers, and each block's function in its anchor
    (a dynamic array formula: its ref is the block's size today; it spills as the table grows)."""
    from openpyxl.worksheet.formula import ArrayFormula

    sheet = book.create_sheet(LIVE_SHEET)
    sheet.append([LIVE_NOTE[lang]])
    specs = {"Ledger": LEDGER, "Customers": CUSTOMERS}
    header: list[object] = []
    anchors: list[object] = []
    for table, cell in LIVE_ANCHORS.items():
        first = column_index(cell[0])
        headers = [c.header for c in specs[table].computed]
        header += [None] * (first - 1 - len(header)) + [f"{table}: {h}" for h in headers]
        last = column_letter(first + len(headers) - 1)
        ref = f"{cell}:{last}{int(cell[1:]) + heights[table] - 1}"
        anchors += [None] * (first - 1 - len(anchors))
        anchors.append(ArrayFormula(ref, "=" + live_formulas()[table]))
        anchors += [None] * (len(headers) - 1)
    sheet.append(header)
    sheet.append(anchors)


def mark_dynamic_arrays(path: Path, sheet_name: str, cells: tuple[str, ...]) -> None:
    """Make the array formulas in `cells` dynamic arrays (they spill, and grow with their
    source) rather than the fixed-size arrays of Ctrl+Shift+Enter: the cell metadata part
    with the XLDAPR property ([MS-XLSX] 2.6.82), and `cm` on each cell pointing at it."""
    with Package(path) as package:
        entry = package.sheet(sheet_name)
        root = package.edit(entry.part)
        for cell in root.iter(q("c")):
            if cell.get("r") in cells:
                cell.set("cm", "1")
        package.put("xl/metadata.xml", METADATA_XML)
        package.add_relationship(package.workbook_part, METADATA_REL, "xl/metadata.xml")
        package.set_content_type("xl/metadata.xml", METADATA_TYPE)
        marked = path.with_name(path.name + ".marked")
        package.save(marked)
    shutil.move(marked, path)


METADATA_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sheetMetadata"
METADATA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"
METADATA_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:xda="http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray">'
    b'<metadataTypes count="1"><metadataType name="XLDAPR" minSupportedVersion="120000" '
    b'copy="1" pasteAll="1" pasteValues="1" merge="1" splitFirst="1" rowColShift="1" '
    b'clearFormats="1" clearComments="1" assign="1" coerce="1" cellMeta="1"/></metadataTypes>'
    b'<futureMetadata name="XLDAPR" count="1"><bk><extLst>'
    b'<ext uri="{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}">'
    b'<xda:dynamicArrayProperties fDynamic="1" fCollapsed="0"/></ext></extLst></bk>'
    b'</futureMetadata><cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata>'
    b"</metadata>"
)


def _start_sheet(book: Workbook, lang: str) -> None:
    sheet = book.create_sheet("Start")
    for letter, width in START_WIDTHS.items():
        sheet.column_dimensions[letter].width = width
    first, other = (START_TEXT["zh"], START_TEXT["en"]) if lang == "zh" else (
        START_TEXT["en"], START_TEXT["zh"])  # fmt: skip
    lines = [first[0], *first[1:], "", *other[1:]]
    title = _cell_font(sheet, lines[0], Font(bold=True, size=16))
    sheet.append([None, title])
    sheet.append([])
    by_row = {row: button for row, button in zip(BUTTON_ROWS, BUTTONS, strict=True)}
    texts = iter(lines[1:])
    for row in range(3, 3 + max(len(lines), BUTTON_ROWS[-1])):
        button = by_row.get(row)
        label = None if button is None else f"{button[0]} / {button[1]}"
        sheet.append([None, label, next(texts, None)])


def _cell_font(sheet, value, font):
    cell = WriteOnlyCell(sheet, value)
    cell.font = font
    return cell


def _column_range(block, header: str) -> tuple[str, str]:
    letter = get_column_letter(block.headers.index(header) + 1)
    return letter, f"{letter}2:{letter}{block.height + 1}"


def _credit_formats(sheet, block) -> None:
    status, cells = _column_range(block, "CreditStatus")
    hold, over = ((f'OR(${status}2="{en}",${status}2="{CREDIT_STATUS_ZH[en]}")')
                  for en in ("Hold", "Over limit"))  # either language: Settings may change
    rules = ((hold, DARK_RED, Font(color="FFFFFF", bold=True)), (over, RED, None))
    for formula, fill, font in rules:
        sheet.conditional_formatting.add(
            f"A2:{cells.split(':')[1]}", FormulaRule(formula=[formula], fill=fill, font=font)
        )


def _overdue_formats(sheet, block) -> None:
    days, cells = _column_range(block, "DaysOverdue")
    sheet.conditional_formatting.add(
        cells, FormulaRule(formula=[f"AND(ISNUMBER({days}2),{days}2>90)"], fill=ORANGE)
    )


def _fix_timestamps(path: Path) -> None:
    """Give docProps/core.xml fixed times, so that the same input builds the same file."""
    fixed = path.with_name(path.name + ".fixed")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2026-01-01T00:00:00Z", data)
            info.date_time = (2026, 1, 1, 0, 0, 0)
            out.writestr(info, data)
    shutil.move(fixed, path)
