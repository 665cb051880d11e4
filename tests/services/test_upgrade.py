"""`upgrade`: an old branch workbook comes into the current layout with every data cell kept.

The old workbook is a fresh one made old with openpyxl, as earlier versions left them:
per-row function calls in the computed columns, no Live sheet, no TaxID column; plus what
a branch adds: a column of its own in Customers and in Contacts, a sheet of its own, an
edited Policy row.
"""

from __future__ import annotations

import datetime as dt
import warnings

import openpyxl
import pandas as pd
import pytest
import python_calamine
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.table import TableColumn
from typer.testing import CliRunner

from xl_addin.cli import app
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.pack import init_pack
from xl_addin.services.upgrade import upgrade_workbook
from xl_addin.workbook.schema import CONTACTS, CUSTOMERS, LEDGER
from xl_addin.workbook.template import customer_formulas, ledger_formulas

runner = CliRunner()
AS_OF = dt.date(2026, 11, 30)
CUSTOMER_ROWS = pd.DataFrame({
    "CustomerID": ["C001", "00042", "C003"],  # 00042: text that looks like a number
    "Name": ["上海华信贸易有限公司", "Harbour & Sons Ltd", "=not a formula"],
    "Segment": ["Standard", "Strategic", "Watch"],
    "CreditLimit": [50000, 10000.5, None],
    "PaymentTermsDays": [30, 45, 60],
    "TaxID": ["91310000MA1FL1", None, "GB123"],
})  # fmt: skip
LEDGER_ROWS = pd.DataFrame({
    "CustomerID": ["C001", "C001", "00042"],
    "DocType": ["INV", "PAY", "INV"],
    "DocNo": ["INV-1", "PAY-1", "INV-2"],
    "DocDate": [dt.date(2026, 9, 1), dt.date(2026, 10, 15), dt.date(2026, 11, 1)],
    "DueDate": [dt.date(2026, 10, 1), None, dt.date(2026, 12, 1)],
    "Amount": [12000.5, 2000, 8000],
    "AppliesTo": [None, "INV-1", None],
})  # fmt: skip
CONTACT_ROWS = [
    (dt.datetime(2026, 11, 2), "C001", "call", None, None, "promised", dt.datetime(2026, 12, 5),
     5000, None, "rang twice"),
    (dt.datetime(2026, 11, 9), "00042", "e-mail", None, "REF-9", None, None, None, "Y", None),
]
OLD_LEDGER = {  # the per-row formulas of an earlier layout
    "OpenAmount": "=Ledger[[#This Row],[Amount]]",
    "DaysOverdue": "=AGE_DAYS(Ledger[[#This Row],[DueDate]],AsOfDate)",
    "Bucket": "=AGE_BUCKET(Ledger[[#This Row],[DueDate]],AsOfDate)",
    "Stage": "=ESCALATION_STAGE(Ledger[[#This Row],[DaysOverdue]])",
}


def _load(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path, **options)


def _table_rows(book, name: str) -> list[dict[str, object]]:
    """A table's rows as header -> cell value (openpyxl: formulas as text)."""
    for sheet in book.worksheets:
        if name in sheet.tables:
            left, top, right, bottom = range_boundaries(sheet.tables[name].ref)
            rows = [[c.value for c in row] for row in sheet.iter_rows(
                min_row=top, max_row=bottom, min_col=left, max_col=right)]
            return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    raise AssertionError(f"no table {name}")


def _data(book, name: str, spec) -> list[dict[str, object]]:
    """The cells a user typed: every column but the computed ones."""
    computed = {c.header for c in spec.computed}
    return [{h: v for h, v in row.items() if h not in computed} for row in _table_rows(book, name)]


def _add_column(sheet, table_name: str, header: str, values) -> None:
    table = sheet.tables[table_name]
    left, top, right, bottom = range_boundaries(table.ref)
    column = right + 1
    sheet.cell(top, column, header)
    for row, value in enumerate(values, start=top + 1):
        sheet.cell(row, column, value)
    table.ref = f"{get_column_letter(left)}{top}:{get_column_letter(column)}{bottom}"
    table.autoFilter.ref = table.ref
    table.tableColumns.append(TableColumn(id=column - left + 1, name=header))


def _drop_column(sheet, table_name: str, header: str) -> None:
    table = sheet.tables[table_name]
    left, top, right, bottom = range_boundaries(table.ref)
    names = [c.name for c in table.tableColumns]
    sheet.delete_cols(left + names.index(header))
    del table.tableColumns[names.index(header)]
    for number, column in enumerate(table.tableColumns, start=1):
        column.id = number
    table.ref = f"{get_column_letter(left)}{top}:{get_column_letter(right - 1)}{bottom}"
    table.autoFilter.ref = table.ref


def make_old_workbook(path, pack) -> None:
    """A workbook as an earlier version left it, with a branch's own additions."""
    new_workbook(path, branch="SH", pack=pack, as_of=AS_OF, customers=CUSTOMER_ROWS,
                 ledger=LEDGER_ROWS, interpreters={}, settings={"PackVersion": "2025.1"})
    book = _load(path)
    del book["Live"]
    for name in ("LedgerColumns", "CustomerColumns"):
        del book.defined_names[name]
    ledger = book["Ledger"]
    headers = [c.value for c in ledger[1]]
    for header, formula in OLD_LEDGER.items():
        column = headers.index(header) + 1
        ledger.tables["Ledger"].tableColumns[column - 1].calculatedColumnFormula = None
        for row in range(2, 2 + len(LEDGER_ROWS)):
            ledger.cell(row, column, formula)
    customers = book["Customers"]
    headers = [c.value for c in customers[1]]
    customers.cell(2, headers.index("Stage") + 1, "=ESCALATION_STAGE(0)")
    _drop_column(customers, "Customers", "TaxID")
    _add_column(customers, "Customers", "Region", ["East", None, 7])
    contacts = book["Contacts"]
    for row, values in enumerate(CONTACT_ROWS, start=2):
        for column, value in enumerate(values, start=1):
            contacts.cell(row, column, value)
    contacts.tables["Contacts"].ref = contacts.tables["Contacts"].autoFilter.ref = "A1:J3"
    _add_column(contacts, "Contacts", "Collector", ["Li", "Wang"])
    notes = book.create_sheet("Notes")
    notes.append(["Who", "Limit"])
    notes.append(["Li", 100])
    notes.append(["total", "=SUM(B2:B2)"])
    policy = book["Policy"]
    for row in policy.iter_rows():
        for cell in row:
            if cell.value == "demand_letter":
                policy.cell(cell.row, cell.column + 3).value = 45  # FromDays 31 -> 45
    book.save(path)


@pytest.fixture
def pack(tmp_path):
    folder = tmp_path / "pack"
    init_pack(folder)
    (folder / "pack.toml").write_text(
        (folder / "pack.toml").read_text(encoding="utf-8").replace(
            'version = "', 'version = "2026.2" # was "', 1), encoding="utf-8")
    return folder


@pytest.fixture
def old(tmp_path, pack):
    path = tmp_path / "branch.xlsx"
    make_old_workbook(path, pack)
    return path


def test_upgrade_keeps_every_data_cell_and_user_column(old, pack):
    before, before_bytes = _load(old), old.read_bytes()
    result, problems = upgrade_workbook(old, pack)
    assert problems == () and result is not None
    after = _load(old)
    old_customers = _data(before, "Customers", CUSTOMERS)
    new_customers = _data(after, "Customers", CUSTOMERS)
    for row in new_customers:
        assert row.pop("TaxID") is None  # the column the old layout lacked, blank
    assert new_customers == old_customers
    assert list(_table_rows(after, "Customers")[0])[-1] == "Region"  # at the right
    assert _data(after, "Ledger", LEDGER) == _data(before, "Ledger", LEDGER)
    assert _data(after, "Contacts", CONTACTS) == _data(before, "Contacts", CONTACTS)
    assert [r["Collector"] for r in _table_rows(after, "Contacts")] == ["Li", "Wang"]
    assert [[c.value for c in row] for row in after["Notes"].iter_rows()] == [
        ["Who", "Limit"], ["Li", 100], ["total", "=SUM(B2:B2)"]]
    assert result.backup.name == "branch.before-upgrade.xlsx"
    assert result.backup.read_bytes() == before_bytes  # the old file, whole
    assert result.user_columns == ("Customers.Region", "Contacts.Collector")
    assert result.user_sheets == ("Notes",)
    assert "Live" in result.sheets_added and "Customers.TaxID" in result.columns_added
    assert result.rows == {"Customers": 3, "Ledger": 3, "Contacts": 2}


def test_upgrade_reads_back_the_same_values_through_calamine(old, pack):
    def values(path):
        book = python_calamine.CalamineWorkbook.from_path(str(path), load_tables=True)
        rows = book.get_table_by_name("Ledger").to_python()
        columns = list(book.get_table_by_name("Ledger").columns)
        keep = [columns.index(c.header) for c in LEDGER.columns]
        return [[row[i] for i in keep] for row in rows]

    before = values(old)
    upgrade_workbook(old, pack)
    assert values(old) == before


def test_computed_columns_become_the_live_formulas(old, pack):
    result, _ = upgrade_workbook(old, pack)
    after = _load(old)
    assert "Live" in after.sheetnames
    for row in _table_rows(after, "Ledger"):
        assert {h: row[h] for h in ledger_formulas()} == ledger_formulas()
    for row in _table_rows(after, "Customers"):
        assert {h: row[h] for h in customer_formulas()} == customer_formulas()
    assert {"Ledger.Bucket", "Ledger.Stage", "Customers.Stage"} <= set(result.formulas_replaced)
    settings = {r[0].value: r[1].value for r in after["Settings"].iter_rows(min_row=2)}
    assert settings["PackVersion"] == "2026.2" and settings["Branch"] == "SH"
    assert result.pack_version == ("2025.1", "2026.2")


def _stage_from_days(path) -> dict[str, int]:
    return {row["Key"]: row["FromDays"] for row in _table_rows(_load(path), "Stages")}


def test_an_edited_policy_is_kept_and_replaced_on_request(old, pack):
    result, _ = upgrade_workbook(old, pack)
    assert result.policy == "kept" and result.policy_tables == ("Stages",)
    assert _stage_from_days(old)["demand_letter"] == 45
    result, _ = upgrade_workbook(old, pack, replace_policy=True)
    assert result.policy == "replaced"
    assert _stage_from_days(old)["demand_letter"] == 31
    result, _ = upgrade_workbook(old, pack)
    assert result.policy == "unchanged"
    assert result.backup.name == "branch.before-upgrade-3.xlsx"  # each upgrade's old file kept


def test_a_dry_run_changes_nothing(old, pack):
    before = old.read_bytes()
    files = sorted(old.parent.iterdir())
    result, problems = upgrade_workbook(old, pack, dry_run=True)
    assert problems == () and result.dry_run and result.backup is None
    assert "Live" in result.sheets_added and result.policy == "kept"
    assert old.read_bytes() == before and sorted(old.parent.iterdir()) == files


def test_a_pack_needing_a_newer_tool_is_refused(old, pack):
    manifest = pack / "pack.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('requires = "', 'requires = "99.0" # was "', 1),
                        encoding="utf-8")  # fmt: skip
    before = old.read_bytes()
    result = runner.invoke(app, ["upgrade", str(old), "--pack", str(pack)])
    assert result.exit_code == 1
    assert "99.0" in " ".join(result.output.split())
    assert old.read_bytes() == before and sorted(p.name for p in old.parent.iterdir()) == [
        "branch.xlsx", "pack"]


def test_a_pack_without_the_branchs_letters_is_refused(old, tmp_path):
    """An empty folder (no pack.toml, no branches) was taken: the workbook then named it
    its TemplatePack and every letters run stopped on 'branch SH is not in the pack'."""
    empty = tmp_path / "empty"
    empty.mkdir()
    before = old.read_bytes()
    result = runner.invoke(app, ["upgrade", str(old), "--pack", str(empty)])
    assert result.exit_code == 1 and "no such branch (the pack has: none)" in result.output
    assert old.read_bytes() == before
    assert sorted(p.name for p in old.parent.iterdir()) == ["branch.xlsx", "empty", "pack"]


def test_cli_upgrade_dry_run_and_json(old, pack):
    before = old.read_bytes()
    shown = runner.invoke(app, ["upgrade", str(old), "--pack", str(pack), "--dry-run"])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "Customers.Region" in text and "Notes" in text and "kept" in text
    assert old.read_bytes() == before
    done = runner.invoke(app, ["upgrade", str(old), "--pack", str(pack), "--format", "json",
                               "--replace-policy"])  # fmt: skip
    assert done.exit_code == 0, done.output
    import json

    report = json.loads(done.stdout)
    assert report["policy"] == "replaced"
    assert report["backup"].endswith("branch.before-upgrade.xlsx")


def test_a_workbook_that_does_not_read_is_refused(tmp_path, pack):
    path = tmp_path / "broken.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Other"
    book.save(path)
    before = path.read_bytes()
    result = runner.invoke(app, ["upgrade", str(path), "--pack", str(pack)])
    assert result.exit_code == 1 and path.read_bytes() == before


def test_a_macro_workbook_without_contacts_gets_them_and_runs(tmp_path, pack):
    path = tmp_path / "branch.xlsm"
    make_old_workbook(path, pack)
    book = _load(path, keep_vba=True)
    del book["Contacts"]  # made before the contact log
    book.save(path)
    result, problems = upgrade_workbook(path, pack)
    assert problems == () and "Contacts" in result.sheets_added
    assert result.rows["Contacts"] == 0
    after = _load(path, keep_vba=True)
    assert after.vba_archive is not None and "Contacts" in after.sheetnames
    assert _data(after, "Customers", CUSTOMERS)[1]["CustomerID"] == "00042"
    refreshed = runner.invoke(app, ["refresh", str(path)])
    assert refreshed.exit_code == 0, refreshed.output
