"""`credit-control consolidate`: head office's report from real branch workbooks, read back."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from decimal import Decimal

import openpyxl
import pytest
from typer.testing import CliRunner

from xl_addin.cli import app
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook

AS_OF = dt.date(2026, 11, 30)
RATES = "Currency,Rate,Date\nGBP,9.1234,2026-11-28\nUSD,7.1,2026-11-28\nEUR,7.7,2026-11-28\n"
runner = CliRunner()


@pytest.fixture(scope="module")
def branches(tmp_path_factory):
    """Two branches (Shanghai in Chinese, London in English); London's C0001 is the same
    company as Shanghai's C0001 (same tax id) and bills it in the same currency."""
    folder = tmp_path_factory.mktemp("group")
    first = None
    for code, seed, lang in (("SH", 1, "zh"), ("LDN", 2, "en")):
        data = make_demo_data(AS_OF, 30, seed=seed)
        if first is None:
            first = data.customers.iloc[0].copy()
        else:
            data.customers.loc[0, ["Name", "TaxID", "Currency"]] = [
                first["Name"], first["TaxID"], first["Currency"]]
            data.ledger.loc[data.ledger["CustomerID"] == "C0001", "Currency"] = first["Currency"]
        new_workbook(folder / f"{code}.xlsx", language=lang, branch=code, as_of=AS_OF,
                     customers=data.customers, ledger=data.ledger,
                     settings={**data.settings, "Language": lang, "Branch": code})  # fmt: skip
    (folder / "rates.csv").write_text(RATES, encoding="utf-8")
    return folder, first


def consolidate(folder, out, *workbooks, options=()):
    """The command on branch workbooks (names in `folder`, or paths), with the rates."""
    return runner.invoke(app, ["consolidate", *(str(folder / w) for w in workbooks),
                               "--out", str(out), "--rates", str(folder / "rates.csv"),
                               *options])  # fmt: skip


def refreshed(path) -> dict:
    result = runner.invoke(app, ["refresh", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def sheet_rows(path, name) -> list[list[object]]:
    sheet = openpyxl.load_workbook(path, data_only=True)[name]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r and r[0] in ("Branch", "Customer"))
    return [rows[header], *rows[header + 1:]]


def test_branch_totals_equal_each_branch_and_the_group_adds_them_up(branches):
    folder, _ = branches
    out = folder / "group.xlsx"
    result = consolidate(folder, out, "SH.xlsx", "LDN.xlsx")
    assert result.exit_code == 0, result.output
    header, *rows = sheet_rows(out, "By currency")
    balance = header.index("Balance")
    report = {(r[0], r[1]): Decimal(str(r[balance])) for r in rows}
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for code in ("SH", "LDN"):
        answer = refreshed(folder / f"{code}.xlsx")
        currency = {c["CustomerID"]: c for c in answer["customers"]}
        book = openpyxl.load_workbook(folder / f"{code}.xlsx", data_only=True)["Customers"]
        head = [c.value for c in book[1]]
        for row in book.iter_rows(min_row=2, values_only=True):
            cid = row[head.index("CustomerID")]
            expected[(code, row[head.index("Currency")])] += Decimal(
                str(currency[cid]["Balance"]))
    for (code, cur), amount in expected.items():
        if amount:
            assert report[(code, cur)] == amount, (code, cur)
            group_total = sum(v for (b, c), v in expected.items() if c == cur)
            assert report[("Group total", cur)] == group_total
    # In the base currency: each branch's total is its currencies at the rates, summed.
    header, *rows = sheet_rows(out, "Group (CNY)")
    group_rows = {r[0]: Decimal(str(r[header.index("Balance")])) for r in rows}
    assert group_rows["Group total"] == group_rows["SH"] + group_rows["LDN"]
    title = openpyxl.load_workbook(out)["Group (CNY)"]["A1"].value
    assert "rates to CNY as of 2026-11-28" in title


def test_a_customer_at_two_branches_appears_once_with_both_branches(branches):
    folder, first = branches
    out = folder / "group-customers.xlsx"
    result = consolidate(folder, out, "SH.xlsx", "LDN.xlsx")
    assert result.exit_code == 0, result.output
    header, *rows = sheet_rows(out, "Customers")
    mine = [r for r in rows if r[header.index("TaxID")] == first["TaxID"]]
    assert len(mine) == 1
    at = mine[0][header.index("Branches")]
    assert at.startswith("SH ") and "; LDN " in at


def test_a_branch_that_cannot_be_read_is_listed_not_dropped(branches, tmp_path):
    folder, _ = branches
    broken = tmp_path / "BJ.xlsx"
    book = openpyxl.load_workbook(folder / "SH.xlsx")
    ledger = book["Ledger"]
    ledger.cell(2, [c.value for c in ledger[1]].index("Amount") + 1).value = "12,3x"
    book.save(broken)
    out = tmp_path / "group.xlsx"
    result = consolidate(folder, out, "SH.xlsx", broken, options=("--language", "en"))
    assert result.exit_code == 1
    assert "BJ.xlsx: NOT INCLUDED" in result.output and "Ledger!F2" in result.output
    header, *rows = sheet_rows(out, "Branches")
    status = {r[header.index("File")]: r[header.index("Status")] for r in rows}
    assert status["SH.xlsx"] == "read" and status["BJ.xlsx"].startswith("NOT INCLUDED: Ledger!F2")


def test_a_currency_without_a_rate_stops_before_anything_is_written(branches, tmp_path):
    folder, _ = branches
    rates = tmp_path / "rates.csv"
    rates.write_text("币种,汇率,日期\nGBP,abc,2026-11-28\n", encoding="gbk")
    out = tmp_path / "group.xlsx"
    result = runner.invoke(app, ["consolidate", str(folder / "SH.xlsx"), "--out", str(out),
                                 "--rates", str(rates)])  # fmt: skip
    assert result.exit_code == 1
    assert "rates.csv row 2, Rate" in result.output or "rates.csv!" in result.output
    assert "no rate to CNY for GBP" in result.output
    assert not out.exists()


CURRENCY = re.compile(r"(?<![A-Za-z])[A-Z]{3}(?![A-Za-z])")  # CNY, GBP
KEY = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def test_the_group_report_in_chinese_reads_in_chinese(branches, tmp_path):
    """Headings, titles, sheet names, bucket, stage and status names and totals in Chinese:
    no English word but currency codes (and branch codes, file names in the rows)."""
    folder, _ = branches
    (tmp_path / "SH2.xlsx").write_bytes((folder / "SH.xlsx").read_bytes())
    out = tmp_path / "集团.xlsx"
    # Two Chinese branches of three: Chinese without being asked.
    result = runner.invoke(app, ["consolidate", str(folder / "SH.xlsx"), str(tmp_path / "SH2.xlsx"),
                                 str(folder / "LDN.xlsx"), "--out", str(out), "--rates",
                                 str(folder / "rates.csv"), "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["language"] == "zh"
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["集团（CNY）", "按币种", "客户", "逾期金额前20名", "催收阶段",
                               "信用状态", "分支机构", "汇率"]  # fmt: skip
    for sheet in book.worksheets:
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        # title lines and a blank row above the header, or the header first
        blank = next((i for i, r in enumerate(rows) if all(v is None for v in r)), -1)
        header = rows[blank + 1]
        titles = [str(r[0]) for r in rows[:blank]] if blank >= 0 else []
        for text in titles + [str(h) for h in header if h]:
            assert not re.search("[A-Za-z]", CURRENCY.sub("", text)), (sheet.title, text)
        for row in rows[blank + 2:]:
            for value in row:
                assert not (isinstance(value, str) and KEY.search(value)), (sheet.title, value)
        assert sheet.print_title_rows == f"${blank + 2}:${blank + 2}", sheet.title
        assert sheet.freeze_panes == f"A{blank + 3}", sheet.title
    title = book["集团（CNY）"]["A1"].value
    assert title == "集团账龄分析，截至2026年11月30日，折合CNY；汇率日期：2026年11月28日"
    group_sheet = [list(r) for r in book["集团（CNY）"].iter_rows(values_only=True)]
    assert group_sheet[3][:2] == ["分支机构", "未到期"] and group_sheet[-1][0] == "集团合计"
    stages = [c.value for c in book["催收阶段"][1]]  # the header: the stages, named
    assert "催款函" in stages or "最后通知" in stages, stages
    statuses = [c.value for c in book["信用状态"][1]]
    assert "正常" in statuses, statuses
    branches_read = [list(r) for r in book["分支机构"].iter_rows(values_only=True)]
    assert [r[-1] for r in branches_read[1:]] == ["已读取"] * 3
    # The same branches, asked for in English.
    english = tmp_path / "group.xlsx"
    assert consolidate(folder, english, "SH.xlsx", "LDN.xlsx",
                       options=("--language", "en")).exit_code == 0  # fmt: skip
    assert openpyxl.load_workbook(english).sheetnames[0] == "Group (CNY)"
