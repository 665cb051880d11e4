"""Read what a customer sent back to a statement: their own list of our documents.

Customers keep their own column names, often in Chinese, and often put a title
or two above the header: the header is the first row (of the first 20) that
names a document number column. Amounts come either as one signed Amount column
or as Debit and Credit columns (借方/贷方); the header matching, date and amount
conversion and located problems are those of the workbook reader.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import python_calamine as calamine

from xl_addin.core.problems import Problem, Source
from xl_addin.errors import WorkbookError
from xl_addin.workbook.convert import normalise
from xl_addin.workbook.ledger_file import decode
from xl_addin.workbook.schema import Column, TableSpec, fold
from xl_addin.workbook.tables import RawTable, Table

REPLY = TableSpec(
    "Reply",
    (),
    (
        Column("DocNo", "doc_no", "id", True, (
            "单据号", "单据编号", "发票号", "发票号码", "DocumentNo", "Document",
            "InvoiceNo", "Invoice", "Number", "No", "Ref", "ReferenceNo",
        )),
        Column("DocDate", "doc_date", "date", False, ("单据日期", "日期", "Date", "发票日期")),
        Column("Amount", "amount_cents", "money", False, ("金额", "Value")),
        Column("Debit", "debit_cents", "money", False, ("借方", "借方金额", "Dr")),
        Column("Credit", "credit_cents", "money", False, ("贷方", "贷方金额", "Cr")),
        Column("DocType", "doc_type", "text", False, ("单据类型", "类型", "Type")),
        Column("Description", "description", "text", False, ("摘要", "说明", "备注", "Notes")),
    ),
)  # fmt: skip
HEADER_SEARCH_ROWS = 20
# Rows that carry a total, not a document: customers' ledgers end with one.
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "本月合计", "累计", "余额", "期末余额",
                         "total", "subtotal", "balance", "closingbalance"})  # fmt: skip


def read_reply(path: Path, problems: list[Problem]) -> Table | None:
    """Read a reply (.xlsx, .xlsm or .csv); None (with a located problem) if it has no table."""
    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        sheet, rows = path.name, _csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        sheet, rows = _first_sheet_rows(path)
    else:
        raise WorkbookError(f"{path.name}: a reply must be .xlsx, .xlsm or .csv")
    header = _header_row(rows)
    if header is None:
        names = ", ".join(REPLY.columns[0].aliases[:6])
        problems.append(Problem(Source(sheet), f"no document number column found ({names} ...)"))
        return None
    body = [list(r) if not _is_total(r) else [""] * len(r) for r in rows[header + 1 :]]
    raw = RawTable(sheet, None, header + 1, 1, tuple(str(h).strip() for h in rows[header]),
                   body)  # fmt: skip
    table = normalise(raw, REPLY, False, problems)
    if "amount_cents" not in table.letters and not (
        {"debit_cents", "credit_cents"} & table.letters.keys()
    ):
        problems.append(
            Problem(Source(sheet, header + 1), "no Amount column, nor Debit and Credit columns")
        )
    return table


def _is_total(row: list[object]) -> bool:
    """A total line: its first non-blank cell says so (合计, Total ...)."""
    first = next((cell for cell in row if str(cell).strip()), "")
    return fold(first) in TOTAL_WORDS


def _csv_rows(path: Path) -> list[list[str]]:
    text = decode(path.read_bytes(), path.name)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _first_sheet_rows(path: Path) -> tuple[str, list[list[object]]]:
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
        name = book.sheet_names[0]
        return name, book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except (calamine.CalamineError, IndexError, OSError) as error:
        raise WorkbookError(f"{path.name}: cannot be read as a workbook ({error})") from error


def _header_row(rows: list[list[object]]) -> int | None:
    wanted = {fold(t) for t in (REPLY.columns[0].header, *REPLY.columns[0].aliases)}
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any(fold(cell) in wanted for cell in row):
            return i
    return None
