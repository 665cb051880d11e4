"""Cells = engine: every formula a branch workbook holds, evaluated as Excel would
(tests/workbook/formula_eval.py: our functions called with the ranges' values, INDEX and
ROW as Excel computes them), equals what `refresh --format json` says and what refresh
stored in the file (the Ledger's ExpectedPayDate included). On the demo's kind of
workbook after a letters run (journal and Contacts filled), in Chinese, and on an English
one whose Policy a branch edited. A full recalculation makes two Python calls, whatever
the size of the ledger."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.workbook.formula_eval import Evaluator, python_calls
from xl_addin.cli import app
from xl_addin.core.policy import DEFAULT_POLICY, ON_HOLD
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.letters import run_letters
from xl_addin.services.new_workbook import new_workbook
from xl_addin.workbook.schema import CUSTOMERS, LEDGER

AS_OF = dt.date(2026, 11, 30)
MONEY = ("Balance", "Overdue", "Headroom")


def build(path, language: str, customers: int = 60):
    data = make_demo_data(AS_OF, customers)
    settings = {**data.settings, "Language": language}
    new_workbook(path, language=language, branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings=settings)  # fmt: skip
    return path


# What a Chinese workbook shows for the engine's English names (JSON stays English).
STATUS_ZH = {"OK": "正常", "Near limit": "接近额度", "Over limit": "超出额度", "Hold": "停止供货"}
STAGE_ZH = {s.key: s.name_zh for s in (*DEFAULT_POLICY.stages, ON_HOLD)}


def shown(column: str, item: dict, lang: str) -> object:
    """The value a cell shows for a JSON customer or item, in the workbook's language."""
    value = item[column]
    if lang != "zh" or value is None:
        return value
    if column == "CreditStatus":
        return STATUS_ZH[value]
    if column == "Stage":
        return STAGE_ZH[item["StageKey"]]
    if column == "NextAction":
        return STAGE_ZH[item["NextActionKey"]]
    if column == "Bucket":
        return "未到期" if value == "Current" else (
            f"{value[1:]}天以上" if value.startswith(">") else f"{value}天")
    return value


def refreshed_json(path) -> dict:
    result = CliRunner().invoke(app, ["refresh", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def edit_policy(path) -> None:
    """What a branch does in Excel: other buckets, an earlier demand letter, Watch customers
    dunned sooner, a lower near-limit share, and a Stage that repeats."""
    book = openpyxl.load_workbook(path)
    sheet = book["Policy"]
    rows: dict[object, int] = {}
    for r in range(sheet.max_row, 0, -1):  # the first row holding each text
        rows[sheet.cell(r, 1).value] = r
    first = rows["UpToDays"] + 1  # Buckets comes first
    for row, bound in zip(range(first, first + 6), (0, 20, 45, 90, 150, 365), strict=True):
        sheet.cell(row, 1).value = bound
        sheet.cell(row, 2).value = None  # labels follow the bounds
    sheet.cell(rows["demand_letter"], 4).value = 25
    sheet.cell(rows["final_notice"], 4).value = 50
    sheet.cell(rows["Watch"], 3).value = 20
    sheet.cell(rows["NearLimitShare"], 2).value = 0.6
    book.save(path)


def evaluated(path):
    """Every formula cell of the refreshed workbook, evaluated: sheet -> {(row, col): value}."""
    evaluator = Evaluator(path)
    values: dict[str, dict[tuple[int, int], object]] = {}
    for sheet, cell, text in evaluator.formulas():
        if sheet.title == "Live":
            evaluator.spill(sheet.title, cell.coordinate)  # the anchors: evaluated by use
            continue
        values.setdefault(sheet.title, {})[(cell.row, cell.column)] = evaluator.value(cell, text)
    assert evaluator.calls == 2  # one per block, whatever the number of rows
    return values


def stored(path, sheet_name: str) -> tuple[list[str], list[list[object]]]:
    sheet = openpyxl.load_workbook(path, data_only=True)[sheet_name]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    return rows[0], rows[1:]


def compare(path, answer: dict, lang: str) -> int:
    """Compare the cells with the JSON and the stored values; return the cells compared."""
    cells = evaluated(path)
    compared = 0
    header, rows = stored(path, "Customers")
    by_id = {c["CustomerID"]: c for c in answer["customers"]}
    for offset, row in enumerate(rows, start=2):
        expected = by_id[row[header.index("CustomerID")]]
        for column in (c.header for c in CUSTOMERS.computed):
            position = header.index(column) + 1
            cell = cells["Customers"][(offset, position)]
            if column in MONEY:
                assert cell == pytest.approx(expected[column]), (offset, column)
            elif column in ("NextActionReason", "PaymentHabit"):  # the book's language
                assert cell == row[position - 1], (offset, column)
            else:
                wanted = shown(column, expected, lang)
                assert cell == wanted, (offset, column, cell, wanted)
            stored_value = row[position - 1]
            assert (stored_value if stored_value != "" else None) == (
                pytest.approx(cell) if isinstance(cell, float) else cell), (offset, column)
            compared += 1
    header, rows = stored(path, "Ledger")
    items = {(i["CustomerID"], i["DocNo"]): i for i in answer["items"]}
    names = {"OpenAmount": "OpenAmount", "DaysOverdue": "DaysOverdue", "Bucket": "Bucket",
             "Stage": "Stage", "ExpectedPayDate": "ExpectedPayDate"}  # fmt: skip
    for offset, row in enumerate(rows, start=2):
        key = (row[header.index("CustomerID")], row[header.index("DocNo")])
        for column in (c.header for c in LEDGER.computed):
            position = header.index(column) + 1
            cell = _day(cells["Ledger"][(offset, position)])
            stored_value = _day(row[position - 1])
            assert (stored_value if stored_value != "" else None) == (
                pytest.approx(cell) if isinstance(cell, float) else cell), (offset, column)
            if key in items:  # an open item: the JSON lists it
                expected = _day(shown(names[column], items[key], lang))
                assert cell == (pytest.approx(expected) if isinstance(expected, float)
                                else expected), (offset, column)  # fmt: skip
            compared += 1
    return compared


def _day(value: object) -> object:
    """A date as the three routes give it (a stored datetime, JSON's ISO text), as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return dt.date.fromisoformat(value)
    return value


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_cells_after_a_letters_run_equal_the_engine(tmp_path, lang):
    path = build(tmp_path / "branch.xlsx", lang)
    issued = run_letters(path, as_of=AS_OF, out=tmp_path / "letters")
    assert not isinstance(issued, tuple) and issued.issued.documents  # journal, Contacts rows
    answer = refreshed_json(path)
    assert compare(path, answer, lang) > 60 * 8
    assert any(c["NextAction"] for c in answer["customers"])
    assert sum(i["ExpectedPayDate"] is not None for i in answer["items"]) > 60  # compared


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_cells_of_a_workbook_with_an_edited_policy_equal_the_engine(tmp_path, lang):
    path = build(tmp_path / "branch.xlsx", lang)
    edit_policy(path)
    answer = refreshed_json(path)
    assert "1-20" in {i["Bucket"] for i in answer["items"]}  # the edited policy is in force
    assert compare(path, answer, lang) > 60 * 8


EXPECTED_PAY_DATE = ("=EXPECTED_PAY_DATE(Ledger[DocNo],Ledger[[#All],[CustomerID]:[Notes]],"
                     "Customers[[#All],[CustomerID]:[TaxID]],Settings[#All],Contacts[#All],"
                     "Buckets[#All],Stages[#All],Segments[#All],Rules[#All])")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_expected_pay_date_in_a_cell_equals_the_engine(tmp_path, lang):
    """=EXPECTED_PAY_DATE over the Ledger's DocNo column (spilled) gives each open item
    the date refresh's JSON and the Ledger's ExpectedPayDate give it, after a letters run
    (promises and Contacts as the engine reads them); blank for what is not open."""
    path = build(tmp_path / "branch.xlsx", lang)
    run_letters(path, as_of=AS_OF, out=tmp_path / "letters")
    answer = refreshed_json(path)
    spilled = [row[0] for row in Evaluator(path).call(EXPECTED_PAY_DATE)]
    header, rows = stored(path, "Ledger")
    items = {(i["CustomerID"], i["DocNo"]): i for i in answer["items"]}
    stored_dates = [_day(r[header.index("ExpectedPayDate")]) for r in rows]
    assert spilled == stored_dates
    keys = [(r[header.index("CustomerID")], r[header.index("DocNo")]) for r in rows]
    assert [_day(items[k]["ExpectedPayDate"]) if k in items else None for k in keys] == spilled
    assert sum(d is not None for d in spilled) > 60
    assert all(d is None or d > AS_OF for d in spilled)


def test_a_bad_amount_shows_in_the_cells_not_as_an_exception(tmp_path):
    path = build(tmp_path / "branch.xlsx", "en", customers=10)
    book = openpyxl.load_workbook(path)
    ledger = book["Ledger"]
    amount = [c.value for c in ledger[1]].index("Amount") + 1
    ledger.cell(3, amount).value = "12,34x"
    book.save(path)
    cells = evaluated(path)
    assert all(str(v).startswith("#Ledger!F3") for v in cells["Ledger"].values()), next(
        iter(cells["Ledger"].values()))


@pytest.mark.parametrize("customers", [5, 60])
def test_a_full_recalculation_makes_two_python_calls_at_any_size(tmp_path, customers):
    path = build(tmp_path / "branch.xlsx", "en", customers)
    assert python_calls(path) == 2
