"""`credit-control new`: the branch workbook built from code, refreshed, read back."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import pytest
import python_calamine as calamine
from typer.testing import CliRunner

from xl_addin.cli import app
from xl_addin.core.policy import DEFAULT_POLICY, ON_HOLD
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.refresh import RefreshResult, refresh
from xl_addin.workbook.template import customer_formulas, ledger_formulas

AS_OF = dt.date(2026, 11, 30)
runner = CliRunner()
ZH_NAMES = {"OK": "正常", "Near limit": "接近额度", "Over limit": "超出额度", "Hold": "停止供货",
            **{s.name: s.name_zh for s in (*DEFAULT_POLICY.stages, ON_HOLD)}}  # fmt: skip


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A .xlsx template filled with demo data and refreshed."""
    data = make_demo_data(AS_OF, customers=25)
    path = tmp_path_factory.mktemp("tpl") / "branch.xlsx"
    new_workbook(path, language="zh", branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings=data.settings)  # fmt: skip
    result = refresh(path)
    assert isinstance(result, RefreshResult), result
    return path, result


def test_sheets_tables_and_the_named_as_of_date(filled):
    path, _ = filled
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Start", "Settings", "Customers", "Ledger", "Policy", "Aging",
                               "Contacts", "History", "Problems", "Live",
                               "xlwings.conf"]  # fmt: skip
    assert book.defined_names["AsOfDate"].attr_text == "Settings!$B$2"
    assert book["Settings"]["A2"].value == "AsOfDate"
    assert {"Customers", "Ledger"} <= {t for ws in book for t in ws.tables}
    assert "Buckets" in book["Policy"].tables and "Stages" in book["Policy"].tables
    assert book["Customers"].freeze_panes == "B2"
    assert book["xlwings.conf"]["A1"].value == "UDF Modules"


def test_computed_columns_keep_their_formulas_and_show_the_engines_values(filled):
    path, result = filled
    book = openpyxl.load_workbook(path)
    ledger = book["Ledger"]
    headers = [c.value for c in ledger[1]]
    bucket = headers.index("Bucket") + 1
    assert ledger.cell(2, bucket).value == ledger_formulas()["Bucket"]
    assert book["Ledger"].tables["Ledger"].tableColumns[bucket - 1].calculatedColumnFormula
    # What Excel (or calamine, or LibreOffice) shows before any recalculation: our numbers.
    rows = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Customers")
    values = rows.to_python()
    header = values[0]
    summary = result.aging.customers.set_index("customer_id")
    for row in values[1:]:
        engine = summary.loc[row[0]]
        assert round(row[header.index("Balance")] * 100) == engine["balance_cents"]
        # A Chinese workbook (the demo's Settings) shows the engine's names in Chinese.
        stage = ZH_NAMES.get(engine["stage"], "") if isinstance(engine["stage"], str) else ""
        assert row[header.index("Stage")] == stage
        assert row[header.index("CreditStatus")] == ZH_NAMES[engine["credit_status"]]
    customers = book["Customers"]
    stage = [c.value for c in customers[1]].index("Stage") + 1
    assert customers.cell(2, stage).value == customer_formulas()["Stage"]


def test_validation_lists_and_conditional_formats(filled):
    path, _ = filled
    book = openpyxl.load_workbook(path)
    lists = {dv.formula1 for dv in book["Ledger"].data_validations.dataValidation}
    assert '"INV,CRN,PAY,ADJ"' in lists and '"Y,N"' in lists
    rules = [r.formula[0] for rng in book["Customers"].conditional_formatting for r in rng.rules]
    assert any('"Hold"' in f and '"停止供货"' in f for f in rules)  # either language
    assert any('"Over limit"' in f and '"超出额度"' in f for f in rules)
    assert any(">90" in r.formula[0] for rng in book["Ledger"].conditional_formatting
               for r in rng.rules)  # fmt: skip


def test_reproducible(tmp_path):
    # The same name in two folders: the name is an input (Settings.Journal <name>.journal.sqlite).
    first, second = tmp_path / "a" / "book.xlsx", tmp_path / "b" / "book.xlsx"
    for path in (first, second):
        path.parent.mkdir()
        new_workbook(path, as_of=AS_OF)
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        assert a.namelist() == b.namelist()
        assert all(a.read(n) == b.read(n) for n in a.namelist())


def test_new_refuses_to_replace_a_file_without_force(tmp_path):
    path = tmp_path / "branch.xlsx"
    path.write_bytes(b"the user's own file")
    result = runner.invoke(app, ["new", str(path)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert path.read_bytes() == b"the user's own file"
    result = runner.invoke(app, ["new", str(path), "--force", "--as-of", "2026-11-30"])
    assert result.exit_code == 0, result.output
    assert path.with_name("branch.bak.xlsx").read_bytes() == b"the user's own file"


def test_validate_writes_every_problem_into_the_problems_sheet(tmp_path):
    path = tmp_path / "empty.xlsx"
    new_workbook(path, as_of=AS_OF, branch="SH")
    result = runner.invoke(app, ["validate", str(path)])  # fresh from `new`: nothing wrong
    assert result.exit_code == 0 and "no problems found" in result.output
    book = openpyxl.load_workbook(path)
    for column, value in enumerate(["C404", "INV", "I1", "2026-13-01", None, 5], start=1):
        book["Ledger"].cell(2, column).value = value  # the table's first row
    book.save(path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    problems = openpyxl.load_workbook(path)["Problems"]
    listed = [(problems.cell(r, 1).value, problems.cell(r, 3).value) for r in range(4, 6)]
    assert listed == [("Ledger", "D"), ("Ledger", "A")]  # a bad date and an unknown customer


def test_the_live_blocks_are_dynamic_arrays_and_nothing_forces_a_full_recalculation(filled):
    """Excel spills a formula only when the file marks it a dynamic array (the cell's cm
    pointing at XLDAPR metadata); without, it is a fixed Ctrl+Shift+Enter array. And a
    file that asks for a full recalculation on load (openpyxl's default) or was last
    calculated by an older engine would make Excel call Python for every cell on open."""
    from lxml import etree

    path, _ = filled  # written by new, then by refresh: both must keep these
    with zipfile.ZipFile(path) as archive:
        workbook = etree.fromstring(archive.read("xl/workbook.xml"))
        main = workbook.nsmap[None]
        calc = workbook.find(f"{{{main}}}calcPr")
        assert calc.get("fullCalcOnLoad") in (None, "0", "false")
        assert int(calc.get("calcId")) >= 191029
        metadata = archive.read("xl/metadata.xml")
        assert b'name="XLDAPR"' in metadata and b'fDynamic="1"' in metadata
        assert b"sheetMetadata" in archive.read("xl/_rels/workbook.xml.rels")
        assert b"/xl/metadata.xml" in archive.read("[Content_Types].xml")
    book = openpyxl.load_workbook(path)
    live = book["Live"]
    for anchor, function in (("A3", "LEDGER_COLUMNS("), ("G3", "CUSTOMER_COLUMNS(")):
        assert live[anchor].value.text.startswith("=" + function)
    names = {n: book.defined_names[n].attr_text for n in ("LedgerColumns", "CustomerColumns")}
    assert names == {"LedgerColumns": "_xlfn.ANCHORARRAY(Live!$A$3)",
                     "CustomerColumns": "_xlfn.ANCHORARRAY(Live!$G$3)"}  # fmt: skip
    sheet = next(n for n in zipfile.ZipFile(path).namelist()
                 if n.startswith("xl/worksheets/sheet") and b'cm="1"' in
                 zipfile.ZipFile(path).read(n))  # fmt: skip
    cells = etree.fromstring(zipfile.ZipFile(path).read(sheet)).iter(f"{{{main}}}c")
    assert sorted(c.get("r") for c in cells if c.get("cm") == "1") == ["A3", "G3"]


def test_validate_writes_nothing_when_the_problems_sheet_already_says_it(tmp_path):
    """The second validate of an unchanged workbook leaves the file and its backup alone:
    before, each one rotated the only backup, so an import followed by two validates kept
    no copy from before the import. A changed list is written, with a backup."""
    path = tmp_path / "branch.xlsx"
    new_workbook(path, as_of=AS_OF, branch="SH")
    backup = path.with_name("branch.bak.xlsx")
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    listed, kept = path.read_bytes(), backup.read_bytes()  # the Problems sheet laid out
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "no problems found" in result.output
    assert (path.read_bytes(), backup.read_bytes()) == (listed, kept)
    book = openpyxl.load_workbook(path)
    book["Ledger"].cell(2, 1).value = "C404"
    for column, value in enumerate(["INV", "I1", AS_OF, AS_OF, 5], start=2):
        book["Ledger"].cell(2, column).value = value
    book.save(path)
    changed = path.read_bytes()
    for _ in range(2):
        assert runner.invoke(app, ["validate", str(path)]).exit_code == 1
        assert backup.read_bytes() == changed  # written once; the second run changed nothing
    problems = openpyxl.load_workbook(path)["Problems"]
    assert problems.cell(4, 1).value == "Ledger" and "C404" in problems.cell(4, 4).value
