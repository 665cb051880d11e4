"""The command through its runner: exit codes, JSON contract, files left untouched on bad input."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from tests.books import LEDGER, make_book
from xl_addin.cli import app

runner = CliRunner()


def test_refresh_json_has_the_contract_shape(tmp_path):
    path = make_book(tmp_path / "b.xlsx")
    result = runner.invoke(app, ["refresh", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["as_of"] == "2026-11-30" and data["problems"] == []
    c1 = next(c for c in data["customers"] if c["CustomerID"] == "C001")
    assert set(c1) == {"CustomerID", "Balance", "Buckets", "Unapplied", "Overdue",
                       "MaxDaysOverdue", "Headroom", "CreditStatus", "Stage", "StageKey",
                       "NextAction", "NextActionKey", "NextActionReason"}  # fmt: skip
    assert c1["Balance"] == 10000.5 and c1["Buckets"]["31-60"] == 10000.5
    assert c1["MaxDaysOverdue"] == 60 and c1["Stage"] == "Demand letter"
    assert (c1["StageKey"], c1["NextAction"], c1["NextActionKey"]) == (
        "demand_letter", "Demand letter", "demand_letter"
    )
    item = data["items"][0]
    assert set(item) == {"CustomerID", "DocNo", "OpenAmount", "DaysOverdue", "Bucket", "Stage",
                         "StageKey", "ExpectedPayDate"}  # fmt: skip
    # strict JSON: a customer with nothing open has null, never NaN
    assert "NaN" not in result.stdout
    quiet = [c for c in data["customers"] if c["Stage"] is None]
    assert all(c["StageKey"] is None and c["NextActionKey"] is None for c in quiet)
    assert path.with_name("b.bak.xlsx").exists()


BAD_ROWS = {
    "text amount": ("C001", "INV", "I9", dt.date(2026, 9, 2), None, "12,3x", "", ""),
    "impossible date": ("C001", "INV", "I9", "2026-02-30", None, 1, "", ""),
    "duplicate DocNo": ("C001", "INV", "INV-1", dt.date(2026, 9, 2), None, 1, "", ""),
    "missing invoice": ("C001", "PAY", "P9", dt.date(2026, 9, 2), None, 1, "INV-404", ""),
    "unknown customer": ("C404", "INV", "I9", dt.date(2026, 9, 2), None, 1, "", ""),
    "#N/A": ("C001", "INV", "I9", "#N/A", None, 1, "", ""),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_bad_input_exits_1_with_a_located_message_and_leaves_the_file(tmp_path, case):
    path = make_book(tmp_path / "b.xlsx", ledger=[*LEDGER, BAD_ROWS[case]])
    before = path.read_bytes()
    result = runner.invoke(app, ["refresh", str(path)])
    assert result.exit_code == 1
    assert "Ledger!" in result.stderr and "6: " in result.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.xlsx"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customers": [("C001", "A", "Standard", "CNY", -1, "")]}, "Customers!E2"),
        ({"ledger": None}, "no Ledger sheet"),
    ],
)
def test_bad_workbooks(tmp_path, kwargs, message):
    path = make_book(tmp_path / "b.xlsx", **kwargs)
    before = path.read_bytes()
    result = runner.invoke(app, ["refresh", str(path)])
    assert result.exit_code == 1 and message in result.stderr
    assert path.read_bytes() == before


def test_an_empty_workbook_refreshes_and_validates_cleanly(tmp_path):
    path = make_book(tmp_path / "b.xlsx", ledger=[])
    result = runner.invoke(app, ["refresh", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"] == []
    result = runner.invoke(app, ["refresh", str(path)])
    assert result.exit_code == 0 and "Nothing open as of" in result.stdout
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "no problems found" in " ".join(result.stdout.split())


def test_an_as_of_far_ahead_is_taken_with_a_warning(tmp_path):
    path = make_book(tmp_path / "b.xlsx")
    far = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    result = runner.invoke(app, ["refresh", str(path), "--as-of", far])
    assert result.exit_code == 0, result.output
    assert f"Warning: --as-of {far} is 400 days after today" in result.stderr
    near = (dt.date.today() + dt.timedelta(days=31)).isoformat()
    result = runner.invoke(app, ["refresh", str(path), "--as-of", near])
    assert result.exit_code == 0 and "Warning" not in result.stderr


def test_unknown_choices_are_usage_errors(tmp_path):
    path = make_book(tmp_path / "b.xlsx")
    result = runner.invoke(app, ["history", str(path), "--kind", "letterz"])
    assert result.exit_code == 2 and "letterz" in result.output
    result = runner.invoke(app, ["refresh", str(path), "--format", "yaml"])
    assert result.exit_code == 2


def test_a_reply_that_is_neither_an_amount_nor_a_file_is_explained(tmp_path):
    path = make_book(tmp_path / "b.xlsx")
    result = runner.invoke(app, ["reconcile", str(path), "12.345,67", "--customer", "C001"])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "neither an amount as we write them nor a file" in message
    assert "12.345,67 written our way is 12,345.67" in message
    result = runner.invoke(app, ["reconcile", str(path), "reply.xlsx", "--customer", "C001"])
    assert result.exit_code == 1 and "no such file" in result.stderr


@pytest.mark.parametrize(
    "command",
    ["", "new", "refresh", "validate", "import", "letters", "statements", "reconcile",
     "history", "demo"],
)  # fmt: skip
def test_help_texts_show_no_python_types(command):
    result = runner.invoke(app, [*command.split(), "--help"], terminal_width=200)
    assert result.exit_code == 0
    for word in ("<bool>", "<str>", "<path>", "<int>", "list[", "<table|json>"):
        assert word not in result.stdout, (command, word)


def test_not_a_workbook_and_usage_errors(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_text("not a workbook")
    result = runner.invoke(app, ["refresh", str(path)])
    assert result.exit_code == 1 and "not an Excel workbook" in result.stderr
    assert path.read_text() == "not a workbook"
    result = runner.invoke(app, ["refresh", "."])  # a folder: named, not an empty name
    assert result.exit_code == 1 and "Error: .: not an Excel workbook" in result.stderr
    assert runner.invoke(app, ["refresh", str(path), "--as-of", "tomorrow"]).exit_code == 2
    assert runner.invoke(app, ["refresh"]).exit_code == 2


def test_demo_builds_and_refreshes_a_workbook(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path), "--customers", "40"])
    assert result.exit_code == 0, result.output
    assert "Aged receivables" in result.stdout
    assert (tmp_path / "credit-control-demo.xlsm").exists()
    assert list((tmp_path / "letters").glob("*.docx")) and list(
        (tmp_path / "statements").glob("*.docx")
    )
    assert "unexplained 0.00" in result.stdout  # the sample reply's differences all explained
    again = runner.invoke(app, ["demo", "--out", str(tmp_path), "--customers", "40"])
    assert again.exit_code == 0, again.output  # a second demo starts the month afresh


def test_refresh_without_a_journal_opens_no_database_and_imports_no_word_or_sql(tmp_path):
    """A workbook whose journal is not made yet is refreshed without SQLAlchemy (nothing to
    read, and a refresh never creates a journal); no run of refresh imports the Word side,
    nor openpyxl (the Aging chart is written with lxml)."""
    import subprocess
    import sys

    path = make_book(tmp_path / "b.xlsx")
    probe = (
        "import sys; from xl_addin.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sqlalchemy', 'docx', 'docxtpl', 'jinja2', 'xlwings', 'openpyxl'}))"
    )
    run = subprocess.run([sys.executable, "-c", probe, "refresh", str(path), "--format", "json"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert run.stdout.strip().splitlines()[-1] == "[]"
    assert not path.with_name("b.journal.sqlite").exists()


def test_refresh_reads_no_journal_as_it_reads_an_empty_one(tmp_path):
    from xl_addin.journal.store import Journal, journal_url
    from xl_addin.services.refresh import as_json, compute

    path = make_book(tmp_path / "b.xlsx")
    without = as_json(compute(path))
    Journal.open(journal_url(path)).close()  # an empty journal beside the workbook
    assert path.with_name("b.journal.sqlite").exists()
    assert as_json(compute(path)) == without


def test_a_run_as_of_another_day_moves_settings_as_of_date_with_the_figures(tmp_path):
    """refresh --as-of 24 December stores every computed cell and the Aging sheet as of that
    day: Settings.AsOfDate says so too (the live formulas age from it; they would show 30
    November again when Excel recalculates). A blank AsOfDate means today and stays blank;
    letters --as-of moves it as well (the Customers it writes are as of that day)."""
    import openpyxl
    import python_calamine

    from xl_addin.workbook.reader import read_workbook

    def as_of_date(path):
        rows = python_calamine.CalamineWorkbook.from_path(path).get_sheet_by_name("Settings")
        return next(r[1] for r in rows.to_python() if r and r[0] == "AsOfDate")

    path = make_book(tmp_path / "b.xlsx")
    result = runner.invoke(app, ["refresh", str(path), "--as-of", "2026-12-24"])
    assert result.exit_code == 0, result.output
    assert as_of_date(path) == dt.date(2026, 12, 24)
    assert read_workbook(path)[0].settings.as_of == dt.date(2026, 12, 24)
    cell = next(r[1] for r in openpyxl.load_workbook(path)["Settings"].iter_rows()
                if r[0].value == "AsOfDate")  # fmt: skip
    assert cell.number_format == "yyyy-mm-dd"
    result = runner.invoke(app, ["letters", str(path), "--as-of", "2026-12-28",
                                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert as_of_date(path) == dt.date(2026, 12, 28)
    blank = make_book(tmp_path / "blank.xlsx", as_of=None)
    result = runner.invoke(app, ["refresh", str(blank), "--as-of", "2026-12-24"])
    assert result.exit_code == 0, result.output
    assert as_of_date(blank) in (None, "")
