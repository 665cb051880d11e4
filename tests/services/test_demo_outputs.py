"""Every xlsx the demo writes reads as a person expects and prints without retouching:
the header row repeated on each page, one page wide, frozen headers, dates formatted
as dates, and no raw key (`demand_letter`, `ours_only`) in any cell a person reads."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

import xl_addin.services.demo as demo

KEY = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # demand_letter, theirs_only, credit_hold
FILE_NAME = re.compile(r"\.(docx|pdf|eml|xlsx)$")  # a file's name is not a label
# the branch workbook's sheets we write
OWNED = ("Aging", "Contacts", "History", "Problems", "Provision", "Dashboard", "Forecast")
NOT_OURS = ("sample reply.xlsx",)  # the customer's reply the demo makes up, not a report


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    patch = pytest.MonkeyPatch()
    patch.setattr(demo, "soffice", lambda: None)  # the workbooks are the point, not PDFs
    try:
        demo.run_demo(out, customers=40)
    finally:
        patch.undo()
    return out


def sheets(out: Path):
    for path in sorted(out.rglob("*.xls[xm]")):
        if ".bak." in path.name or path.name in NOT_OURS:
            continue
        book = openpyxl.load_workbook(path)
        for sheet in book:
            if path.suffix == ".xlsm" and sheet.title not in OWNED:
                continue  # the user's own sheets (Settings keys, Policy keys) are theirs
            yield f"{path.relative_to(out)}!{sheet.title}", sheet


def test_the_demo_writes_reports_and_owned_sheets(outputs):
    names = {name.split("!")[0] for name, _ in sheets(outputs)}
    # the demo's Shanghai workbook is in Chinese: so are its run summaries' names
    assert {"group.xlsx", "credit-control-demo.xlsm", "letters/汇总 催款函件 2026-11-30.xlsx",
            "statements/汇总 对账单 2026-11.xlsx"} <= names
    assert any(name.startswith("reconciliation/") for name in names)


def test_every_sheet_prints_one_page_wide_with_its_header_repeated_and_frozen(outputs):
    for name, sheet in sheets(outputs):
        title_row = sheet.print_title_rows
        assert title_row and re.fullmatch(r"\$(\d+):\$\1", title_row), name
        header = int(title_row.split(":")[0][1:])
        assert sheet.freeze_panes == f"A{header + 1}", name
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, name
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0), name
        wide = sheet.max_column > 8 and any(
            sheet.cell(header, column).value for column in range(9, sheet.max_column + 1))
        assert sheet.page_setup.orientation == ("landscape" if wide else "portrait"), name


def test_no_cell_holds_a_raw_key_or_a_date_without_a_date_format(outputs):
    found = []
    for name, sheet in sheets(outputs):
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and KEY.search(value) and not FILE_NAME.search(value):
                    found.append(f"{name}!{cell.coordinate}: {value}")
                if isinstance(value, dt.datetime) and "yy" not in cell.number_format:
                    found.append(f"{name}!{cell.coordinate}: {value} unformatted")
                if (isinstance(value, dt.datetime) and value.time() == dt.time()
                        and "h" in cell.number_format):  # fmt: skip
                    found.append(f"{name}!{cell.coordinate}: a date shown with a time")
    assert found == []


def test_money_has_the_money_format(outputs):
    for name, sheet in sheets(outputs):
        if "summary" not in name or "!Summary" not in name:
            continue
        amounts = [row[3] for row in sheet.iter_rows(min_row=4) if row[3].value is not None]
        assert amounts and all(c.number_format.startswith("#,##0.00") for c in amounts), name


def test_the_demo_closes_its_month_with_a_year_of_month_ends(outputs):
    """So that its Provision sheet shows the roll-rate matrix (services/month_end.py)."""
    from xl_addin.journal.store import Journal, journal_url

    workbook = outputs / demo.WORKBOOK
    with Journal.open(journal_url(workbook)) as journal:
        periods = journal.recorded_month_ends("SH")
    assert len(periods) >= 12 and periods["2026-11"] == "close"
    sheet = openpyxl.load_workbook(workbook, data_only=True)["Provision"]
    texts = {str(c.value) for row in sheet.iter_rows() for c in row if c.value}
    assert "逾期月数 CNY" in texts and not any(t.startswith("迁徙率矩阵需要") for t in texts)
