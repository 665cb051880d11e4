"""Read a ledger exported by an ERP, in the shape it comes in, into the Ledger table.

Three shapes are read (`SHAPES`; `auto` tells them apart by their headers):

- `ledger`: our Ledger layout (CustomerID, DocType, DocNo, DocDate, DueDate, Amount ...);
- `open-items`: an open-items list without DocType (客户编号, 单据号, 单据日期, 到期日,
  金额): a positive amount is an invoice, a negative one a credit note (noted as such);
- `debit-credit`: a customer ledger with Debit and Credit columns (借方/贷方) and usually
  a running Balance (余额, with 方向 借/贷): a debit is an invoice, a credit a payment,
  an opening-balance line (期初余额) an adjustment; each stated balance is checked
  against the one before it plus the line's debit less its credit.

Files are CSV (UTF-8, UTF-8 with BOM, GBK/GB18030; comma, semicolon or tab) or the first
sheet of an .xlsx/.xlsm/.xls export; the header is the first row (of the first 20) that
names a customer column, so an ERP's title lines above it are passed over, and total lines
(合计, 本月合计, Total) are left out. Every problem names the file, row and column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xl_addin.core.money import to_decimal
from xl_addin.core.problems import Problem, Source
from xl_addin.errors import WorkbookError
from xl_addin.workbook.convert import normalise
from xl_addin.workbook.schema import LEDGER, Column, TableSpec, fold
from xl_addin.workbook.tables import RawTable, Table, column_letter

SHAPES = ("auto", "ledger", "open-items", "debit-credit")
ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 is a superset of GBK and GB2312
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls")
HEADER_SEARCH_ROWS = 20

CUSTOMER = ("客户编号", "客户代码", "客户号", "客户编码", "往来单位编码", "CustomerNo",
            "Customer", "AccountNo")  # fmt: skip
DOC_NO = ("单据号", "单据编号", "发票号", "凭证号", "凭证字号", "DocumentNo", "InvoiceNo",
          "Voucher", "VoucherNo")  # fmt: skip
DOC_DATE = ("单据日期", "日期", "业务日期", "凭证日期", "Date", "DocumentDate", "InvoiceDate")
DUE_DATE = ("到期日", "到期日期", "DueDate", "Due")
CURRENCY = ("币种", "货币")
NOTES = ("备注",)
DEBIT = ("借方", "借方金额", "Dr", "Debit", "DebitAmount")
CREDIT = ("贷方", "贷方金额", "Cr", "Credit", "CreditAmount")

OPEN_ITEMS = TableSpec(
    "OpenItems",
    (),
    (
        Column("CustomerID", "customer_id", "id", True, CUSTOMER),
        Column("DocNo", "doc_no", "id", True, DOC_NO),
        Column("DocDate", "doc_date", "date", True, DOC_DATE),
        Column("DueDate", "due_date", "date", False, DUE_DATE),
        Column("Amount", "amount_cents", "money", True, ("金额", "未结金额", "余额", "Open",
                                                           "OpenAmount", "Balance")),
        Column("AppliesTo", "applies_to", "id", False, ("核销单据",)),
        Column("Currency", "currency", "text", False, CURRENCY),
        Column("Reference", "reference", "text", False, ("参考", "摘要", "说明", "Description")),
        Column("Disputed", "disputed", "yn", False, ("争议",)),
        Column("Notes", "notes", "text", False, NOTES),
    ),
)  # fmt: skip
DEBIT_CREDIT = TableSpec(
    "DebitCredit",
    (),
    (
        Column("CustomerID", "customer_id", "id", True, CUSTOMER),
        Column("DocNo", "doc_no", "id", False, DOC_NO),
        Column("DocDate", "doc_date", "date", False, DOC_DATE),
        Column("DueDate", "due_date", "date", False, DUE_DATE),
        Column("DocType", "doc_type", "doctype", False, ("单据类型",)),
        Column("Description", "reference", "text", False, ("摘要", "说明", "Reference",
                                                           "Narrative", "参考")),
        Column("Debit", "debit_cents", "money", False, DEBIT),
        Column("Credit", "credit_cents", "money", False, CREDIT),
        Column("Direction", "direction", "text", False, ("方向", "借贷方向", "余额方向", "DrCr")),
        Column("Balance", "balance_cents", "money", False, ("余额", "RunningBalance")),
        Column("Currency", "currency", "text", False, CURRENCY),
        Column("Disputed", "disputed", "yn", False, ("争议",)),
        Column("Notes", "notes", "text", False, NOTES),
    ),
)  # fmt: skip
# Lines that carry a total or an opening balance, not a document (any cell saying so).
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "本月合计", "本期合计", "本年累计", "累计",
                         "期末余额", "total", "subtotal", "closingbalance"})  # fmt: skip
OPENING_WORDS = frozenset({"期初余额", "上年结转", "上期结转", "年初余额", "openingbalance",
                           "balancebroughtforward", "broughtforward", "b/f"})  # fmt: skip
CREDIT_DIRECTIONS = frozenset({"贷", "cr", "credit"})
LEDGER_FIELDS = tuple(c.field for c in LEDGER.columns)


@dataclass(frozen=True, slots=True)
class LedgerFile:
    """A ledger file and how to read it: its shape (`SHAPES`) and the order of day and month
    in dates like 05/11/2026 (core.dates.DAY_FIRST or MONTH_FIRST; None: refused)."""

    path: Path
    shape: str = "auto"
    date_order: str | None = None


def decode(data: bytes, name: str) -> str:
    """Decode CSV bytes as UTF-8 (BOM optional), else as GB18030; never guess silently wrong."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise WorkbookError(f"{name}: not UTF-8 or GBK text; save it as CSV UTF-8 and try again")


def csv_rows(path: Path) -> list[list[str]]:
    """The rows of a CSV file, its encoding and delimiter (comma, semicolon, tab) found."""
    try:
        text = decode(path.read_bytes(), path.name)
    except OSError as error:
        raise WorkbookError(f"{path}: cannot be read ({error.strerror})") from error
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def read_ledger_file(source: LedgerFile | Path, problems: list[Problem]) -> Table | None:
    """Read a ledger file into the Ledger table (rows are the file's rows); None, with the
    problems, when it cannot be read as a ledger at all."""
    file = source if isinstance(source, LedgerFile) else LedgerFile(Path(source))
    if file.shape not in SHAPES:
        raise WorkbookError(f"unknown shape {file.shape}: one of {', '.join(SHAPES)}")
    sheet, rows = _rows(file.path)
    header = _header_row(rows)
    if header is None:
        names = ", ".join(("CustomerID", *CUSTOMER[:4]))
        problems.append(Problem(Source(sheet), f"no customer column found ({names} ...) in the "
                                f"first {HEADER_SEARCH_ROWS} rows"))  # fmt: skip
        return None
    headers = tuple(str(h).strip() for h in rows[header])
    shape = file.shape if file.shape != "auto" else _shape_of(headers)
    if shape is None:
        problems.append(Problem(Source(sheet, header + 1), "cannot tell the shape: no "
                                "DocType (单据类型), Amount (金额) nor Debit and Credit "
                                "(借方/贷方) column"))  # fmt: skip
        return None
    body = [list(r) for r in rows[header + 1 :]]
    problems += _extra_fields(body, len(headers), sheet, header + 2)
    totals = [i for i, r in enumerate(body) if _says(r, TOTAL_WORDS)]
    for i in totals:
        body[i] = [""] * len(body[i])
    raw = RawTable(sheet, None, header + 1, 1, headers, body)
    spec = {"ledger": LEDGER, "open-items": OPEN_ITEMS, "debit-credit": DEBIT_CREDIT}[shape]
    found: list[Problem] = []
    table = normalise(raw, spec, False, found, file.date_order)
    problems += found
    if found and any(p.source.row in (None, header + 1) for p in found):
        return None  # a required column missing: nothing to convert
    if shape == "open-items":
        table = _as_ledger(table, _from_open_items(table.frame, sheet))
    elif shape == "debit-credit":
        opening = [header + 2 + i for i, r in enumerate(body) if _says(r, OPENING_WORDS)]
        frame, more = _from_debit_credit(table, set(opening))
        cells = {(p.source.row, p.source.column) for p in found}  # said once per cell
        problems += [p for p in more if (p.source.row, p.source.column) not in cells]
        table = _as_ledger(table, frame)
    table.frame.attrs["shape"] = shape
    return table


def _rows(path: Path) -> tuple[str, list[list[object]]]:
    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        import python_calamine as calamine

        try:
            book = calamine.CalamineWorkbook.from_path(str(path))
            name = book.sheet_names[0]
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except (calamine.CalamineError, IndexError, OSError) as error:
            raise WorkbookError(f"{path.name}: cannot be read as a workbook ({error})") from error
        return f"[{path.name}]{name}", rows
    return path.name, csv_rows(path)


def _extra_fields(body: list[list[object]], width: int, sheet: str, first_row: int):
    """A line with more fields than the header names (a comma in a field not in quotes):
    its values would be read shifted or cut off, so it is said where the first one is."""
    problems = []
    for number, row in enumerate(body, start=first_row):
        if len(row) > width:
            extra = next((i for i in range(width, len(row)) if row[i] not in ("", None)), None)
            if extra is not None:
                problems.append(Problem(Source(sheet, number, column_letter(extra + 1)),
                                        f"{len(row)} fields where the header names {width}: "
                                        "a comma in a field not in quotes?"))  # fmt: skip
    return problems


def _header_row(rows: list[list[object]]) -> int | None:
    wanted = {fold(t) for t in ("CustomerID", *CUSTOMER)}
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any(fold(cell) in wanted for cell in row):
            return i
    return None


def _shape_of(headers: tuple[str, ...]) -> str | None:
    folded = {fold(h) for h in headers}

    def has(*names: str) -> bool:
        return bool(folded & {fold(n) for n in names})

    if has("DocType", "单据类型") and has("Amount", "金额"):
        return "ledger"
    if has(*DEBIT) or has(*CREDIT):
        return "debit-credit"
    if has(*(a for c in OPEN_ITEMS.columns if c.field == "amount_cents"
             for a in (c.header, *c.aliases))):  # fmt: skip
        return "open-items"
    return None


def _says(row: list[object], words: frozenset[str]) -> bool:
    return any(isinstance(cell, str) and fold(cell) in words for cell in row)


def _as_ledger(table: Table, frame: pd.DataFrame) -> Table:
    letters = {field: letter for field, letter in table.letters.items() if field in frame}
    frame.attrs["sheet"] = table.raw.sheet
    frame.attrs["letters"] = letters
    return Table(table.raw, frame, letters)


def _blank_ledger(frame: pd.DataFrame) -> dict[str, object]:
    n = len(frame)
    texts = np.full(n, "", dtype=object)
    return {
        "row": frame["row"].to_numpy(),
        **{f: frame[f].to_numpy() if f in frame else texts.copy() for f in
           ("customer_id", "doc_no", "applies_to", "currency", "reference", "notes")},
        "doc_type": texts.copy(),
        "doc_date": frame["doc_date"].to_numpy(),
        "due_date": frame["due_date"].to_numpy(),
        "amount_cents": np.full(n, np.nan),
        "disputed": frame["disputed"].to_numpy(dtype=bool),
    }  # fmt: skip


def _frame(data: dict[str, object], keep: np.ndarray | None = None) -> pd.DataFrame:
    columns = {f: pd.Series(data[f], dtype=object if np.asarray(data[f]).dtype == object
                            else None) for f in ("row", *LEDGER_FIELDS)}  # fmt: skip
    frame = pd.DataFrame(columns)
    if keep is not None:
        frame = frame[keep].reset_index(drop=True)
    return frame


def _from_open_items(frame: pd.DataFrame, sheet: str) -> pd.DataFrame:
    """Positive amounts are invoices, negative ones credit notes (their Notes say so)."""
    data = _blank_ledger(frame)
    amount = frame["amount_cents"].to_numpy(dtype=np.float64)
    credit = amount < 0
    data["doc_type"] = np.where(credit, "CRN", "INV").astype(object)
    data["amount_cents"] = np.abs(amount)
    notes = data["notes"].copy()
    for i in np.flatnonzero(credit):
        said = f"credit note: amount {to_decimal(int(amount[i])):,} in {sheet}"
        notes[i] = f"{notes[i]}; {said}" if notes[i] else said
    data["notes"] = notes
    return _frame(data)


def _from_debit_credit(table: Table, opening: set[int]) -> tuple[pd.DataFrame, list[Problem]]:
    """Debits are invoices, credits payments, an opening line an adjustment; the running
    balance is checked line by line (each against the line before, per customer)."""
    frame, sheet, letters = table.frame, table.raw.sheet, table.letters
    problems: list[Problem] = []

    def at(i: int, field: str) -> Source:
        return Source(sheet, int(frame["row"].iat[i]), letters.get(field))

    data = _blank_ledger(frame)
    debit = np.nan_to_num(frame["debit_cents"].to_numpy(dtype=np.float64))
    credit = np.nan_to_num(frame["credit_cents"].to_numpy(dtype=np.float64))
    stated = frame["balance_cents"].to_numpy(dtype=np.float64)
    directions = [fold(d) for d in frame["direction"]]
    stated = np.where([d in CREDIT_DIRECTIONS for d in directions], -np.abs(stated), stated)
    given_type = frame["doc_type"].to_numpy(dtype=object)
    doc_type = data["doc_type"]
    amount = data["amount_cents"]
    doc_no = data["doc_no"].copy()
    notes = data["notes"].copy()
    keep = np.ones(len(frame), dtype=bool)
    running: dict[str, float] = {}
    for i in range(len(frame)):
        customer, row = frame["customer_id"].iat[i], int(frame["row"].iat[i])
        before = running.get(customer, 0.0)
        if row in opening:
            balance = stated[i] if not np.isnan(stated[i]) else debit[i] - credit[i]
            running[customer] = balance
            if balance == 0:
                keep[i] = False
                continue
            doc_type[i], amount[i] = "ADJ", balance
            doc_no[i] = doc_no[i] or f"OPENING-{customer}"
            notes[i] = notes[i] or f"opening balance in {sheet}"
            if np.isnat(data["doc_date"][i]):
                problems.append(Problem(at(i, "doc_date"), "the opening balance has no date"))
            continue
        if debit[i] and credit[i]:
            problems.append(Problem(at(i, "debit_cents"), "both a debit and a credit on one "
                                    "line: give each its own line"))  # fmt: skip
            continue
        if not debit[i] and not credit[i]:
            problems.append(Problem(at(i, "debit_cents"), "neither a debit nor a credit"))
            continue
        if given_type[i]:
            doc_type[i], amount[i] = given_type[i], abs(debit[i] or credit[i])
        elif debit[i] > 0:
            doc_type[i], amount[i] = "INV", debit[i]
        elif debit[i] < 0:  # a red-ink (红字) debit: a credit note
            doc_type[i], amount[i] = "CRN", -debit[i]
        elif credit[i] > 0:
            doc_type[i], amount[i] = "PAY", credit[i]
        else:  # a red-ink credit: a payment reversed
            doc_type[i], amount[i] = "ADJ", -credit[i]
        if not doc_no[i]:
            problems.append(Problem(at(i, "doc_no"), "DocNo is blank"))
        if np.isnat(data["doc_date"][i]):
            problems.append(Problem(at(i, "doc_date"), "DocDate is blank"))
        expected = before + debit[i] - credit[i]
        running[customer] = expected
        if not np.isnan(stated[i]):
            if round(stated[i]) != round(expected):
                problems.append(Problem(at(i, "balance_cents"), _balance_message(
                    stated[i], before, debit[i], credit[i], expected)))  # fmt: skip
            running[customer] = stated[i]  # the next line is checked against what is stated
    data["doc_no"], data["notes"] = doc_no, notes
    return _frame(data, keep), problems


def _balance_message(stated, before, debit, credit, expected) -> str:
    def money(cents: float) -> str:
        return f"{to_decimal(round(cents)):,}"

    return (f"balance {money(stated)} does not follow from the line before: {money(before)} "
            f"+ debit {money(debit)} - credit {money(credit)} = {money(expected)}")  # fmt: skip
