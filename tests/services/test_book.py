"""Checks across rows and tables, and ledgers from CSV exports (UTF-8, BOM, GBK)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.books import CUSTOMER_HEADERS, LEDGER, make_book
from xl_addin.errors import WorkbookError
from xl_addin.services.book import LoadedBook, load_book


def problems_of(path, **kwargs):
    result = load_book(path, **kwargs)
    assert not isinstance(result, LoadedBook), "expected problems"
    return [str(p) for p in result]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("C001", "INV", "INV-1", dt.date(2026, 9, 2), None, 1, "", ""),
         "Ledger!C6: document number INV-1 appears twice (first in row 2)"),
        (("C001", "PAY", "P9", dt.date(2026, 9, 2), None, 1, "INV-404", ""),
         "Ledger!G6: applies to INV-404, which is not in the ledger"),
        (("C001", "PAY", "P9", dt.date(2026, 9, 2), None, 1, "INV-2", ""),
         "Ledger!G6: applies to INV-2 of customer C002, not C001"),
        (("C001", "PAY", "P9", dt.date(2026, 9, 2), None, 1, "PAY-1", ""),
         "Ledger!G6: applies to PAY-1, a PAY, not an invoice"),
        (("C404", "INV", "I9", dt.date(2026, 9, 2), None, 1, "", ""),
         "Ledger!A6: customer C404 is not in Customers"),
        (("C001", "INV", "I9", dt.date(2026, 9, 2), None, -5, "", ""),
         "Ledger!F6: amount -5.00 of a INV must be positive (the document type gives the sign)"),
    ],
)  # fmt: skip
def test_ledger_problems(tmp_path, extra, expected):
    assert problems_of(make_book(tmp_path / "b.xlsx", ledger=[*LEDGER, extra])) == [expected]


def test_customer_problems(tmp_path):
    customers = [
        ("C001", "A", "Standard", "CNY", -1000, ""),
        ("C001", "B", "VIP", "CNY", 0, "Shouting"),
        ("C002", "C", "", "CNY", 0, ""),
    ]
    assert problems_of(make_book(tmp_path / "b.xlsx", customers=customers)) == [
        "Customers!A3: customer C001 appears twice (first in row 2)",
        "Customers!E2: credit limit -1,000.00 is negative",
        'Customers!C3: segment "VIP" is not one of Strategic, Standard, Watch',
        'Customers!F3: "Shouting" is not a stage of the ladder',
    ]


def test_an_empty_ledger_is_valid(tmp_path):
    # A workbook fresh from `new` has no documents yet: nothing is open, nothing is wrong.
    loaded = load_book(make_book(tmp_path / "b.xlsx", ledger=[]))
    assert isinstance(loaded, LoadedBook) and len(loaded.ledger) == 0


def test_every_problem_in_one_pass(tmp_path):
    # A cell that does not read and problems across rows, all listed at once.
    customers = [("C001", "A", "Standard", "CNY", -1, ""), ("C001", "B", "VIP", "CNY", 0, "")]
    ledger = [
        ("C001", "INV", "I1", dt.date(2026, 9, 1), dt.date(2026, 10, 1), "12,3x"),
        ("C009", "INV", "I2", dt.date(2026, 9, 1), dt.date(2026, 10, 1), 5),
        ("C001", "INV", "I2", dt.date(2026, 9, 1), dt.date(2026, 10, 1), 5),
    ]
    problems = problems_of(make_book(tmp_path / "b.xlsx", customers=customers, ledger=ledger))
    assert [p.split(":")[0] for p in problems] == [
        "Ledger!F2", "Customers!A3", "Customers!E2", "Customers!C3", "Ledger!C4", "Ledger!A3",
    ], problems


def test_a_document_in_another_currency_than_its_customer(tmp_path):
    headers = ("CustomerID", "DocType", "DocNo", "DocDate", "Amount", "Currency")
    rows = [("C001", "INV", "I1", dt.date(2026, 9, 1), 10, "USD")]
    path = make_book(tmp_path / "b.xlsx", ledger=rows, ledger_headers=headers)
    assert problems_of(path) == [
        "Ledger!F2: currency USD differs from customer C001's currency CNY"
    ]


GBK_CSV = (
    "客户编号,单据类型,单据号,单据日期,到期日,金额,核销单据\r\n"
    'C001,发票,F-001,2026/09/01,2026/10/01,"12,000.50",\r\n'
    "C001,收款,S-001,2026/10/15,,2000,F-001\r\n"
    "C002,发票,F-002,2026年11月1日,2026年12月1日,8000,\r\n"
)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig", "gb18030"])
def test_a_csv_ledger_with_chinese_headers(tmp_path, encoding):
    csv = tmp_path / "ledger.csv"
    csv.write_bytes(GBK_CSV.encode(encoding))
    loaded = load_book(make_book(tmp_path / "b.xlsx", ledger=None), ledger_csv=csv)
    assert isinstance(loaded, LoadedBook)
    assert list(loaded.ledger["doc_type"]) == ["INV", "PAY", "INV"]
    assert list(loaded.ledger["amount_cents"]) == [1200050, 200000, 800000]


def test_a_csv_problem_names_the_file_row_and_column(tmp_path):
    csv = tmp_path / "应收.csv"
    csv.write_bytes((GBK_CSV + "C002,发票,F-003,2026/13/01,,12,3x\r\n").encode("gbk"))
    problems = problems_of(make_book(tmp_path / "b.xlsx", ledger=None), ledger_csv=csv)
    assert problems[0] == '应收.csv!D5: DocDate "2026/13/01" is not a date'


def test_a_csv_that_is_not_text(tmp_path):
    csv = tmp_path / "ledger.csv"
    csv.write_bytes(b"\xff\xfe\x00\x81\x00binary")
    with pytest.raises(WorkbookError, match="not UTF-8 or GBK"):
        load_book(make_book(tmp_path / "b.xlsx", ledger=None), ledger_csv=csv)


def test_contract_rates_are_read_and_bad_ones_located(tmp_path):
    headers = (*CUSTOMER_HEADERS, "合同利率", "利率单位")
    good = [
        ("C001", "上海华信", "Standard", "CNY", 0, "", "日万分之五", ""),
        ("C002", "Harbour", "Standard", "GBP", 0, "", 0.06, ""),
    ]
    loaded = load_book(make_book(tmp_path / "good.xlsx", customers=good, customer_headers=headers))
    assert isinstance(loaded, LoadedBook)
    frame = loaded.customers
    assert frame["contract_rate_value"].tolist() == [0.0005, 0.06]
    assert frame["contract_rate_per_day"].tolist() == [True, False]
    bad = [
        ("C001", "A", "Standard", "CNY", 0, "", 8, ""),
        ("C002", "B", "Standard", "CNY", 0, "", 0.0005, "week"),
        ("C003", "C", "Standard", "CNY", 0, "", "5 a lot", ""),
    ]
    assert problems_of(make_book(tmp_path / "b.xlsx", customers=bad, customer_headers=headers)) == [
        "Customers!G2: ContractRate 8 is not a fraction: write 8%",
        'Customers!H3: ContractRatePer "week" must be year or day (年 or 日)',
        'Customers!G4: ContractRate "5 a lot" is not a rate (write 8%, 0.05%/day or 日万分之五)',
    ]


def test_a_workbook_without_contract_rates_has_none(tmp_path):
    loaded = load_book(make_book(tmp_path / "b.xlsx"))
    assert loaded.customers["contract_rate_value"].isna().all()
    assert not loaded.customers["contract_rate_per_day"].any()
