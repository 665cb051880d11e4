"""Building a credit-control workbook, checked by reading it back with openpyxl and calamine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from xl_addin.core.policy import DEFAULT_POLICY, Policy, Rules
from xl_addin.errors import WorkbookError
from xl_addin.workbook.builder import write_credit_workbook
from xl_addin.workbook.reader import read_workbook

AS_OF = dt.date(2026, 11, 30)
SETTINGS = {"AsOfDate": AS_OF, "Language": "zh", "BaseCurrency": "CNY", "Branch": "SH"}

CUSTOMERS = pd.DataFrame(
    [
        ("C0001", "上海华信贸易有限公司", "Standard", "zh", "CNY", Decimal("500000.00"), 30),
        ("C0002", "=SUM(A1)", "Watch", "en", "GBP", 25000.5, 45),
    ],
    columns=["CustomerID", "Name", "Segment", "Language", "Currency", "CreditLimit",
             "PaymentTermsDays"],
)  # fmt: skip

LEDGER = pd.DataFrame(
    [
        ("C0001", "INV", "INV-2026-000001", dt.date(2026, 9, 1), dt.date(2026, 10, 1),
         Decimal("12000.50"), "", "Y", ""),
        ("C0001", "PAY", "PAY-2026-000001", dt.date(2026, 10, 15), None,
         Decimal("2000.00"), "INV-2026-000001", "", ""),
        ("C0002", "CRN", "CRN-2026-000001", dt.date(2026, 11, 5), None,
         Decimal("500.25"), "", "", "#N/A"),
    ],
    columns=["CustomerID", "DocType", "DocNo", "DocDate", "DueDate", "Amount", "AppliesTo",
             "Disputed", "Reference"],
)  # fmt: skip

SHEETS = ["Settings", "Customers", "Ledger", "Policy", "Aging", "Contacts", "History", "Problems"]
POLICY_TABLES = [
    "Buckets", "Stages", "Segments", "Rules", "Recovery", "Provision", "Interest", "Compensation",
]  # fmt: skip


@pytest.fixture
def book_path(tmp_path):
    path = tmp_path / "credit.xlsx"
    write_credit_workbook(path, SETTINGS, CUSTOMERS, LEDGER)
    return path


def validations(sheet) -> dict[str, str]:
    """Map each validated range to its list."""
    return {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}


def test_sheets_tables_and_the_as_of_name(book_path):
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == SHEETS
    refs = {name: ref for sheet in book for name, ref in sheet.tables.items()}
    assert refs == {
        "Settings": "A1:B10",
        "Customers": "A1:AD3",  # 21 input columns (TaxID last), 9 computed
        "Ledger": "A1:P4",  # 11 input columns, 5 computed
        "Buckets": "A2:B8",
        "Stages": "A12:F20",
        "Segments": "A24:C27",
        "Rules": "A31:B49",  # with the five Risk* rows (core/risk.py), DeadlineFromStage
        "Recovery": "A53:B59",
        "Provision": "A63:B69",
        "Interest": "A73:B89",
        "Compensation": "A93:C97",
        "Contacts": "A1:J2",
        "History": "A1:G2",
        "Problems": "A1:D2",
    }
    assert book.defined_names["AsOfDate"].attr_text == "Settings!$B$2"
    assert book["Settings"]["B2"].value == dt.datetime(2026, 11, 30)
    assert "Run refresh" in book["Aging"]["A1"].value


def test_headers_follow_the_contract(book_path):
    book = openpyxl.load_workbook(book_path)
    customers = [c.value for c in book["Customers"][1]]
    assert customers[:6] == ["CustomerID", "Name", "Segment", "Language", "Currency", "CreditLimit"]
    assert customers[-9:] == [
        "Balance", "Overdue", "MaxDaysOverdue", "Headroom", "CreditStatus", "Stage", "NextAction",
        "NextActionReason", "PaymentHabit",
    ]  # fmt: skip
    ledger = [c.value for c in book["Ledger"][1]]
    assert ledger[-5:] == ["OpenAmount", "DaysOverdue", "Bucket", "Stage", "ExpectedPayDate"]
    assert [c.value for c in book["History"][1]] == [
        "RunAt", "Kind", "CustomerID", "Stage", "Reference", "File", "Amount",
    ]  # fmt: skip
    assert [c.value for c in book["Problems"][1]] == ["Sheet", "Row", "Column", "Message"]
    header = book["Ledger"]["A1"]
    assert header.font.b and header.fill.fill_type == "solid"
    assert book["Ledger"].freeze_panes == "A2"
    for name, orientation in (("Customers", "landscape"), ("Problems", "portrait")):
        sheet = book[name]  # prints one page wide, the header row on every page
        assert sheet.print_title_rows == "$1:$1" and sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
        assert sheet.page_setup.orientation == orientation


def test_values_keep_their_kind(book_path):
    book = openpyxl.load_workbook(book_path)
    customers, ledger = book["Customers"], book["Ledger"]
    assert customers["B2"].value == "上海华信贸易有限公司"
    assert (customers["B3"].value, customers["B3"].data_type) == ("=SUM(A1)", "s")
    assert (ledger["I4"].value, ledger["I4"].data_type) == ("#N/A", "s")
    assert (customers["F2"].value, customers["F2"].number_format) == (500000, "#,##0.00")
    assert customers["G3"].value == 45
    assert (ledger["D2"].value, ledger["D2"].number_format) == (
        dt.datetime(2026, 9, 1),
        "yyyy-mm-dd",
    )
    assert (ledger["F2"].value, ledger["F2"].number_format) == (12000.5, "#,##0.00")
    assert ledger["E3"].value is None and ledger["S2"].value is None


def test_lists_are_validated(book_path):
    book = openpyxl.load_workbook(book_path)
    assert validations(book["Customers"]) == {
        "C2:C3": '"Strategic,Standard,Watch"',
        "M2:M3": '"Y,N"',
    }
    assert validations(book["Ledger"]) == {"B2:B4": '"INV,CRN,PAY,ADJ"', "J2:J4": '"Y,N"'}


def test_calamine_reads_the_tables_back(book_path):
    book = CalamineWorkbook.from_path(str(book_path), load_tables=True)
    assert set(book.table_names) >= {"Settings", "Customers", "Ledger", *POLICY_TABLES}
    ledger = book.get_table_by_name("Ledger")
    assert ledger.columns[:3] == ["CustomerID", "DocType", "DocNo"]
    computed = [""] * 5
    assert ledger.to_python() == [
        ["C0001", "INV", "INV-2026-000001", dt.date(2026, 9, 1), dt.date(2026, 10, 1), 12000.5,
         "", "", "", "Y", "", *computed],
        ["C0001", "PAY", "PAY-2026-000001", dt.date(2026, 10, 15), "", 2000.0,
         "INV-2026-000001", "", "", "", "", *computed],
        ["C0002", "CRN", "CRN-2026-000001", dt.date(2026, 11, 5), "", 500.25,
         "", "", "#N/A", "", "", *computed],
    ]  # fmt: skip
    settings = book.get_table_by_name("Settings").to_python()
    assert settings[:4] == [
        ["AsOfDate", AS_OF],
        ["Language", "zh"],
        ["BaseCurrency", "CNY"],
        ["Branch", "SH"],
    ]
    assert [row[0] for row in settings[4:]] == [
        "StatementPeriod", "OutputFolder", "Journal", "TemplatePack", "PackVersion",
    ]  # fmt: skip
    assert all(row[1] == "" for row in settings[4:])


def test_the_reader_gets_back_the_same_book(book_path):
    book, problems = read_workbook(book_path)
    assert [str(p) for p in problems] == []
    assert book.policy == DEFAULT_POLICY
    assert book.settings.as_of == AS_OF and book.settings.language == "zh"
    assert list(book.customers.frame["credit_limit_cents"]) == [50_000_000, 2_500_050]
    assert list(book.ledger.frame["amount_cents"]) == [1_200_050, 200_000, 50_025]
    assert list(book.ledger.frame["applies_to"]) == ["", "INV-2026-000001", ""]


def test_a_branch_policy_round_trips(tmp_path):
    policy = Policy(
        bounds=(0, 45, 90),
        segments=DEFAULT_POLICY.segments[:2],
        rules=Rules(minimum_amount=Decimal("250.50"), max_steps_per_run=2),
        recovery=((0, Decimal("1")), (90, Decimal("0.7"))),
    )
    path = tmp_path / "branch.xlsx"
    write_credit_workbook(path, SETTINGS, CUSTOMERS, LEDGER, policy)
    book, problems = read_workbook(path)
    assert problems == [] and book.policy == policy
    segment = openpyxl.load_workbook(path)["Customers"].data_validations.dataValidation[0]
    assert segment.formula1 == '"Strategic,Standard"'


def test_empty_frames_give_tables_with_one_blank_row(tmp_path):
    path = tmp_path / "new.xlsx"
    write_credit_workbook(path, {}, pd.DataFrame(), pd.DataFrame(), language="zh")
    book = openpyxl.load_workbook(path)
    assert book["Customers"].tables["Customers"].ref == "A1:AD2"
    assert book["Ledger"].tables["Ledger"].ref == "A1:P2"
    assert book["Settings"]["B3"].value == "zh"  # Language follows the builder's language
    assert book["Settings"]["B2"].value is None
    assert "请运行刷新" in book["Aging"]["A1"].value


def test_replaces_an_existing_file_and_leaves_nothing_beside_it(tmp_path, book_path):
    book_path.write_bytes(b"not a workbook")
    write_credit_workbook(book_path, SETTINGS, CUSTOMERS, LEDGER)
    assert openpyxl.load_workbook(book_path).sheetnames == SHEETS
    assert [p.name for p in tmp_path.iterdir()] == ["credit.xlsx"]


def test_unknown_columns_and_other_formats_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Ledger: unknown columns Amt"):
        write_credit_workbook(
            tmp_path / "b.xlsx", SETTINGS, CUSTOMERS, LEDGER.rename(columns={"Amount": "Amt"})
        )
    with pytest.raises(ValueError, match=r"\.xlsx"):
        write_credit_workbook(tmp_path / "b.xlsm", SETTINGS, CUSTOMERS, LEDGER)
    assert list(tmp_path.iterdir()) == []


def test_pandas_blanks_and_timestamps(tmp_path):
    ledger = LEDGER.assign(
        DocDate=pd.to_datetime(LEDGER["DocDate"]),
        DueDate=pd.to_datetime(LEDGER["DueDate"]),
        Amount=[12000.5, float("nan"), 500.25],
    )
    path = tmp_path / "b.xlsx"
    write_credit_workbook(path, SETTINGS, CUSTOMERS, ledger)
    sheet = openpyxl.load_workbook(path)["Ledger"]
    assert sheet["D2"].value == dt.datetime(2026, 9, 1)
    assert sheet["D2"].number_format == "yyyy-mm-dd"
    assert sheet["E3"].value is None and sheet["F3"].value is None


def test_policy_tables_hold_numbers(book_path):
    book = CalamineWorkbook.from_path(str(book_path), load_tables=True)
    stages = book.get_table_by_name("Stages").to_python()
    assert stages[0][:4] == ["not_due", "Not due", "未到期", ""]  # the first stage is open below
    assert stages[1][3] == -7
    rules = dict(book.get_table_by_name("Rules").to_python())
    assert rules["NearLimitShare"] == 0.8 and rules["HoldFromStage"] == "credit_hold"
    interest = book.get_table_by_name("Interest").to_python()
    assert interest[0] == [dt.date(2019, 1, 1), 0.0075]  # rates are fractions, as Excel's 0.75%
    assert rules["StatutoryMargin"] == 0.08
    compensation = book.get_table_by_name("Compensation").to_python()
    assert compensation[:2] == [["EUR", 0, 40], ["GBP", 0, 40]]


def test_policy_rates_show_as_percentages(book_path):
    sheet = openpyxl.load_workbook(book_path)["Policy"]
    assert (sheet["B74"].value, sheet["B74"].number_format) == (0.0075, "0.00%")
    margin = next(row[1] for row in sheet.iter_rows(min_row=32, max_row=49)
                  if row[0].value == "StatutoryMargin")  # fmt: skip
    assert (margin.value, margin.number_format) == (0.08, "0.00%")


def test_odd_values_do_not_break_the_write(tmp_path):
    customers = CUSTOMERS.assign(
        Notes=["bell\x07 removed", ("a", "tuple")],
        DunningBlock=[True, False],
        CreditLimit=[float("inf"), Decimal("NaN")],
    )
    path = tmp_path / "b.xlsx"
    write_credit_workbook(path, SETTINGS, customers, LEDGER)
    sheet = openpyxl.load_workbook(path)["Customers"]
    assert (sheet["R2"].value, sheet["R3"].value) == ("bell removed", "('a', 'tuple')")
    assert (sheet["M2"].value, sheet["M3"].value) == ("Y", "N")
    assert (sheet["F2"].value, sheet["F3"].value) == ("inf", None)


def test_a_missing_folder_is_a_workbook_error(tmp_path):
    with pytest.raises(WorkbookError, match="cannot be written"):
        write_credit_workbook(tmp_path / "no" / "b.xlsx", SETTINGS, CUSTOMERS, LEDGER)


def test_the_policy_sheet_shows_reminder_lead_days_only_when_set():
    from dataclasses import replace

    from xl_addin.core.policy import DEFAULT_POLICY
    from xl_addin.workbook.builder import policy_blocks

    def keys(policy):
        block = next(b for b in policy_blocks(policy) if b.name == "Rules")
        return list(block.columns[0])

    assert "ReminderLeadDays" not in keys(DEFAULT_POLICY)
    timed = replace(DEFAULT_POLICY, rules=replace(DEFAULT_POLICY.rules, reminder_lead_days=5))
    assert keys(timed)[-1] == "ReminderLeadDays"
