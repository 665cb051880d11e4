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


WIN_PYTHON = r"C:\Users\ana\credit\.venv\Scripts\python.exe"
MAC_PYTHON = "/Users/ana/credit/.venv/bin/python"


def xlwings_conf(path) -> dict[str, object]:
    """The settings xlwings' VBA reads: column A from A1 down to the first blank, upper-cased."""
    sheet = openpyxl.load_workbook(path, keep_vba=True)["xlwings.conf"]
    rows = [(r[0].value, r[1].value) for r in sheet.iter_rows(max_col=2)]
    keys = [key for key, _ in rows]
    assert None not in keys and len({k.upper() for k in keys}) == len(keys)  # a VBA Dictionary
    return dict(rows)


def test_new_records_the_pythons_given_for_windows_and_macos(tmp_path):
    path = tmp_path / "LDN.xlsm"
    result = runner.invoke(app, ["new", str(path), "--branch", "LDN", "--interpreter", WIN_PYTHON,
                                 "--interpreter", MAC_PYTHON])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert xlwings_conf(path) == {"UDF Modules": "xl_addin.udfs", "Use UDF Server": False,
                                  "Show Console": False, "Interpreter_Win": WIN_PYTHON,
                                  "Interpreter_Mac": MAC_PYTHON}  # fmt: skip
    assert f"Interpreter_Win = {WIN_PYTHON}" in result.output


def test_new_on_linux_or_told_none_names_no_python(tmp_path):
    for options in ([], ["--no-interpreter"]):  # this Python is Linux's: no Excel runs here
        path = tmp_path / f"book{len(options)}.xlsm"
        result = runner.invoke(app, ["new", str(path), "--branch", "LDN", *options])
        assert result.exit_code == 0, result.output
        conf = xlwings_conf(path)
        assert conf["UDF Modules"] == "xl_addin.udfs"
        assert not any(key.upper().startswith("INTERPRETER") for key in conf)
        assert "names no Python" in result.output


def test_interpreter_usage_errors_exit_2_and_write_nothing(tmp_path):
    path = str(tmp_path / "a.xlsm")
    for options in (
        ["--interpreter", "python.exe"],
        ["--interpreter", WIN_PYTHON, "--no-interpreter"],
        ["--interpreter", WIN_PYTHON, "--interpreter", "D:/py/python.exe"],
    ):
        result = runner.invoke(app, ["new", path, *options])
        assert result.exit_code == 2, (options, result.output)
    assert list(tmp_path.iterdir()) == []
