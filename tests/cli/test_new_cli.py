"""`credit-control new` and `validate` through the runner: exit codes, languages, files kept."""

from __future__ import annotations

import openpyxl
from typer.testing import CliRunner

from xl_addin.cli import app

runner = CliRunner()


def test_new_in_chinese_builds_a_macro_workbook(tmp_path):
    path = tmp_path / "上海分公司.xlsm"
    result = runner.invoke(app, ["new", str(path), "--branch", "SH", "--language", "zh",
                                 "--as-of", "2026-11-30"])  # fmt: skip
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(path, keep_vba=True)
    assert book["Start"]["B1"].value == "信用管理"
    settings = {r[0].value: r[1].value for r in book["Settings"].iter_rows(min_row=2)}
    assert settings["Branch"] == "SH" and settings["Language"] == "zh"


def test_new_usage_errors_exit_2_and_bad_names_exit_1(tmp_path):
    assert runner.invoke(app, ["new"]).exit_code == 2
    assert runner.invoke(app, ["new", str(tmp_path / "a.xlsm"), "--language", "fr"]).exit_code == 2
    wrong = runner.invoke(app, ["new", str(tmp_path / "a.xls")])
    assert wrong.exit_code == 1 and ".xlsm" in " ".join(wrong.output.split())
    missing = runner.invoke(app, ["new", str(tmp_path / "no" / "a.xlsx")])
    assert missing.exit_code == 1 and "no such folder" in " ".join(missing.output.split())
    assert list(tmp_path.iterdir()) == []


def test_validate_leaves_a_file_that_is_not_a_workbook_alone(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_text("not a workbook")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and "not an Excel workbook" in result.output
    assert path.read_text() == "not a workbook" and len(list(tmp_path.iterdir())) == 1
    assert runner.invoke(app, ["validate"]).exit_code == 2
