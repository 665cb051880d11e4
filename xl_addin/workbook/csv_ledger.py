"""Read a ledger exported as CSV by an ERP: UTF-8 (with or without BOM) or GBK/GB18030."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from xl_addin.core.problems import Problem
from xl_addin.errors import WorkbookError
from xl_addin.workbook.convert import normalise
from xl_addin.workbook.schema import LEDGER
from xl_addin.workbook.tables import RawTable, Table

ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 is a superset of GBK and GB2312


def decode(data: bytes, name: str) -> str:
    """Decode CSV bytes as UTF-8 (BOM optional), else as GB18030; never guess silently wrong."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise WorkbookError(f"{name}: not UTF-8 or GBK text; save it as CSV UTF-8 and try again")


def read_csv_ledger(path: Path, problems: list[Problem]) -> Table:
    """Read a CSV ledger into the Ledger table; the file name stands for the sheet in messages."""
    try:
        text = decode(path.read_bytes(), path.name)
    except OSError as error:
        raise WorkbookError(f"{path}: cannot be read ({error.strerror})") from error
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows:
        raise WorkbookError(f"{path.name}: the file is empty")
    raw = RawTable(path.name, None, 1, 1, tuple(h.strip() for h in rows[0]), rows[1:])
    return normalise(raw, LEDGER, False, problems)
