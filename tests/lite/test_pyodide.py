"""The workbook's xlwings Lite code in real Pyodide (under Node, offline), against desktop.

A branch workbook is built as `credit-control new` builds it; its embedded main.py and
requirements.txt run in Pyodide 0.27.7 (numpy 2.0.2, pandas 2.2.3) with xlwings' own
wheel, installed as requirements.txt says. The Refresh script runs on a stand-in of the
book Lite hands a script (tests/lite/lite_book.py, fed with the client's JSON payload
built here from the file), and what it writes must equal what the desktop Refresh
button writes into the same book; so must its custom functions' results and, for a
ledger with a bad amount, its Problems sheet (and nothing else written).

Needs Node and the Pyodide distribution `.ci/run` fetches into .cache/lite (or the
folders named by XL_ADDIN_PYODIDE and XL_ADDIN_WHEELS): skipped without them, except
in CI, where their absence fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from tests.xlbook import Book
from xl_addin import macros, udfs
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.workbook import lite
from xl_addin.workbook.schema import CUSTOMERS, LEDGER

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYODIDE = Path(os.environ.get("XL_ADDIN_PYODIDE", ROOT / ".cache/lite/pyodide"))
WHEELS = Path(os.environ.get("XL_ADDIN_WHEELS", ROOT / ".cache/lite/wheels"))
AS_OF = dt.date(2026, 11, 30)
CALLS = [
    ("age_bucket", ["2026-10-01", "2026-11-30"]),
    ("age_days", [[["2026-11-25"], ["2026-12-05"], [None]], "2026-11-30"]),
    ("credit_status", [10000, 9500, 0, 5]),
    ("escalation_stage", [45, 5000, "Strategic"]),
    ("amount_in_words", [16409.02, "zh", "CNY"]),
    ("expected_recovery", [100]),
    ("late_interest", [10000, "2026-09-30", "2026-11-30", 0.08]),
    ("credit_headroom", [[[50000], [10000]], [[12000], [12500]], 0]),
]
_LEDGER = [["CustomerID", "DocType", "DocNo", "DocDate", "DueDate", "Amount"],
           ["C1", "INV", "I1", "2026-08-01", "2026-09-01", 1000.0],
           ["C1", "PAY", "P1", "2026-10-15", None, 400.0],
           [None, None, None, None, None, None],
           ["C2", "INV", "I2", "2026-11-01", "2026-12-01", 250.5]]  # fmt: skip
_CUSTOMERS = [["CustomerID", "Name", "CreditLimit", "Segment"], ["C1", "Acme", 1000.0, "Watch"],
              ["C2", "华东贸易", 5000.0, None]]  # fmt: skip
_SETTINGS = [["Key", "Value"], ["AsOfDate", "2026-11-30"], ["Branch", "SH"]]
CALLS += [  # the Live sheet's blocks, from tables' values: one call each
    ("ledger_columns", [_LEDGER, _CUSTOMERS, _SETTINGS]),
    ("customer_columns", [_CUSTOMERS, _LEDGER, _SETTINGS]),
    ("expected_pay_date", [[["I1"], ["I2"], ["P1"], ["X"]], _LEDGER, _CUSTOMERS, _SETTINGS]),
]
BAD_AMOUNT = (5, "12,3x")  # Ledger row, Amount


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed (CI installs it: apt-get install nodejs)"
    if not (PYODIDE / "pyodide.mjs").exists():
        return f"no Pyodide distribution in {PYODIDE} (.ci/run fetches it)"
    if not any(WHEELS.glob("xlwings-*.whl")):
        return f"no xlwings wheel in {WHEELS} (.ci/run fetches it)"
    return None


@pytest.fixture(scope="module")
def lite_run(tmp_path_factory):
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Lite test in Pyodide: {missing}")
        pytest.skip(missing)
    folder = tmp_path_factory.mktemp("pyodide")
    path = folder / "branch.xlsm"
    data = make_demo_data(AS_OF, customers=25)
    new_workbook(path, language="zh", branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings=data.settings)  # fmt: skip
    bad = folder / "bad.xlsx"
    shutil.copy(path, bad)
    _set_ledger_amount(bad, *BAD_AMOUNT)
    properties = _properties(path)
    job = {
        "main": properties["main.py"],
        "requirements": properties["requirements.txt"],
        "lite_book": (HERE / "lite_book.py").read_text(encoding="utf-8"),
        "calls": CALLS,
        "books": [payload(path), payload(bad)],
    }
    job_file = folder / "job.json"
    job_file.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run(["node", str(HERE / "run_lite.mjs"), str(PYODIDE), str(WHEELS),
                           str(job_file)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return path, bad, json.loads(done.stdout)


def test_runs_in_the_pyodide_lite_uses(lite_run):
    *_, out = lite_run
    assert (out["python"], out["numpy"], out["pandas"]) == ("3.12.7", "2.0.2", "2.2.3")


def test_the_functions_give_what_the_desktop_functions_give(lite_run):
    *_, out = lite_run
    expected = [getattr(udfs, name)(*args) for name, args in CALLS]
    assert out["functions"] == json.loads(json.dumps(expected, ensure_ascii=False, default=str))


def test_the_refresh_script_writes_what_the_desktop_button_writes(lite_run):
    path, _, out = lite_run
    desktop = Book(path)
    macros.refresh(desktop)
    lite_book = out["books"][0]
    status = desktop.sheets["Start"].cells[(1, 4)]
    assert status.startswith("Refreshed as of 2026-11-30")
    for sheet in ("Customers", "Ledger", "Aging", "Start"):
        assert cells(lite_book["sheets"][sheet]) == desktop_cells(desktop, sheet), sheet
    # One write per computed column (Customers 9, Ledger 5), then Aging and the status.
    writes = [(func, sheet) for func, sheet, _ in lite_book["actions"] if func == "setValues"]
    columns = [sheet for _, sheet in writes if sheet in ("Customers", "Ledger")]
    customers, ledger = len(CUSTOMERS.computed), len(LEDGER.computed)
    assert columns.count("Customers") <= customers and columns.count("Ledger") <= ledger, writes
    assert len(writes) <= customers + ledger + 3 + 1, writes  # Aging: title, table, totals
    # Lite freezes the header rows of the sheet it writes, as the file route does; page
    # setup beyond the print area is not in its API (docs/excel.md, manual check).
    assert ["freezePaneAtRange", "Aging", ["1:3"]] in lite_book["actions"]


def test_a_validation_failure_lists_the_problem_and_writes_nothing_else(lite_run):
    _, bad, out = lite_run
    desktop = Book(bad)
    macros.refresh(desktop)
    lite_book = out["books"][1]
    problems = cells(lite_book["sheets"]["Problems"])
    assert problems == desktop_cells(desktop, "Problems")
    row, _ = BAD_AMOUNT
    amount = next(c for (r, c), v in desktop.sheets["Ledger"].cells.items()
                  if r == 1 and v == "Amount")  # fmt: skip
    assert (problems[(4, 1)], problems[(4, 2)], problems[(4, 3)]) == (
        "Ledger", row, get_column_letter(amount))  # fmt: skip
    assert '"12,3x"' in problems[(4, 4)]
    assert {sheet for _, sheet, _ in lite_book["actions"]} == {"Problems", "Start"}
    assert cells(lite_book["sheets"]["Start"])[(1, 4)].startswith("Refresh stopped: 1 problem")


# --- the payload, as xlwings' client builds it -------------------------------------------


def payload(path: Path) -> dict:
    """The book as xlwings.ts's runPython sends it, plus the formulas Lite fetches on request."""
    book = openpyxl.load_workbook(path)
    sheets, formulas = [], {}
    for sheet in book.worksheets:
        values, texts = [], []
        for row in sheet.iter_rows(min_row=1, min_col=1, max_row=sheet.max_row,
                                   max_col=sheet.max_column):  # fmt: skip
            values.append([_client_value(c) for c in row])
            texts.append([_formula(c.value) if _is_formula(c.value) else "" for c in row])
        tables = [{"name": name, "range_address": ref.replace("$", ""),
                   "header_row_range_address": None, "data_body_range_address": None,
                   "total_row_range_address": None, "show_headers": True,
                   "show_totals": False, "table_style": None, "show_autofilter": True}
                  for name, ref in sheet.tables.items()]  # fmt: skip
        sheets.append({"name": sheet.title, "values": values, "pictures": [], "tables": tables})
        formulas[sheet.title] = texts
    return {
        "payload": {
            "client": "Microsoft Office Scripts", "version": "0.37.8",
            "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
            "names": [], "sheets": sheets,
        },
        "formulas": formulas,
    }  # fmt: skip


def _is_formula(value) -> bool:
    return isinstance(_formula(value), str) and _formula(value).startswith("=")


def _formula(value):
    """A cell's formula as Excel shows it: the Live sheet's anchors are dynamic arrays."""
    from openpyxl.worksheet.formula import ArrayFormula

    return value.text if isinstance(value, ArrayFormula) else value


def _client_value(cell):
    value = cell.value
    if value is None or _is_formula(value):
        return ""  # a formula's result: none, no Excel computed it (desktop stand-in alike)
    if isinstance(value, dt.datetime | dt.date):  # category Date: ISO text, as the client
        day = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        return day.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return value


# --- comparing ---------------------------------------------------------------------------


def _normal(value):
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return value[:10]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return round(float(value), 6)
    return value


def cells(grid) -> dict:
    return {(r + 1, c + 1): _normal(v) for r, row in enumerate(grid) for c, v in enumerate(row)
            if _normal(v) is not None}  # fmt: skip


def desktop_cells(book: Book, sheet: str) -> dict:
    found = book.sheets[sheet].cells
    return {k: _normal(v) for k, v in found.items() if _normal(v) is not None}


def _properties(path) -> dict:
    with zipfile.ZipFile(path) as package:
        root = ET.fromstring(package.read("xl/webextensions/webextension1.xml"))
    ns = {"we": lite.WEBEXTENSION}
    return {e.get("name"): json.loads(e.get("value")) for e in root.iterfind(".//we:property", ns)}


def _set_ledger_amount(path: Path, row: int, value) -> None:
    book = openpyxl.load_workbook(path)
    sheet = book["Ledger"]
    amount = next(c.column for c in sheet[1] if c.value == "Amount")
    sheet.cell(row, amount).value = value
    book.save(path)
