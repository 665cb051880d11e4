"""The .xlsm: VBA project, xlwings modules, UDF wrappers, buttons; checked by three readers.

Excel cannot run here. What can be proved without it: oletools reads every module
back; every button names a Sub that exists and every RunPython command parses and
imports; xlwings' own wrapper generator gives the embedded UDF module; pyopenvba's
Excel model sees the buttons and runs their Subs with a stand-in RunPython; and
LibreOffice (the real client here) opens the book, lists the modules, runs the
button macros with a stand-in RunPython, and prints it to PDF.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from oletools.olevba import VBA_Parser
from pyopenvba.apps.excel import ExcelApplication

from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.refresh import RefreshResult, refresh
from xl_addin.workbook import vba
from xl_addin.workbook.template import BUTTONS

AS_OF = dt.date(2026, 11, 30)
PROBE = Path(__file__).with_name("libreoffice_probe.py")
SUBS = [sub for _, _, sub, _ in BUTTONS]


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    data = make_demo_data(AS_OF, customers=15)
    path = tmp_path_factory.mktemp("xlsm") / "branch.xlsm"
    new_workbook(path, language="zh", branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings=data.settings)  # fmt: skip
    return path


def modules_of(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_olevba_reads_every_module_back(book):
    modules = modules_of(book)
    assert {"xlwings", "Dictionary", "xlwings_udfs", "Buttons"} <= modules.keys()
    assert (
        modules["xlwings"] == next(m for m in vba.xlwings_modules() if m.name == "xlwings").source
    )


def test_every_button_runs_a_sub_that_exists_and_a_command_that_imports(book):
    buttons = modules_of(book)["Buttons"]
    commands = vba.run_python_commands(buttons)
    assert sorted(commands) == sorted(SUBS) and set(vba.subs(buttons)) == set(SUBS)
    for _, _, sub, entry in BUTTONS:
        target = vba.check_command(commands[sub])
        assert target == f"xl_addin.macros.{entry}"
        module, function = target.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), function))
    shapes = ExcelApplication.open(book, with_vba=False).sheet("Start").shapes()
    buttons = [s for s in shapes if s.macro]  # (the other shape runs the xlwings Lite script)
    assert sorted(s.macro for s in buttons) == sorted(SUBS)
    assert all("/" in s.text for s in buttons)  # both languages on each button


def test_the_embedded_udf_module_is_what_xlwings_generates(book):
    embedded = modules_of(book)["xlwings_udfs"]
    # The generator runs in a process of its own (xlwings only defines it with pywin32).
    assert embedded.strip() == vba.udf_wrapper_module().source.strip()
    for name in (
        "age_bucket",
        "age_days",
        "credit_headroom",
        "credit_status",
        "escalation_stage",
        "late_interest",
        "expected_recovery",
        "amount_in_words",
    ):
        assert f"Function {name}(" in embedded


def test_a_click_runs_the_sub_and_runpython_gets_the_command(book):
    # pyopenvba's interpreter, like LibreOffice, cannot run xlwings' Windows-only module:
    # the Buttons module from the file runs beside a stand-in RunPython.
    app = ExcelApplication.open(book, with_vba=False)
    app.add_module(modules_of(book)["Buttons"], name="Buttons")
    app.add_module('Function RunPython(cmd)\n    Sheets("xlwings.conf").Range("Z1").Value = cmd\n'
                   "End Function\n", name="StandIn")  # fmt: skip
    for _, _, sub, entry in BUTTONS:
        app.run(f"Buttons.{sub}")
        got = app.sheet("xlwings.conf").value("Z1")
        assert got == f"import xl_addin.macros as m; m.{entry}()"


def test_refresh_keeps_the_project_the_buttons_and_the_formulas(book, tmp_path):
    copy = tmp_path / "refreshed.xlsm"
    shutil.copy(book, copy)
    result = refresh(copy)
    assert isinstance(result, RefreshResult)
    assert modules_of(copy)["Buttons"] == modules_of(book)["Buttons"]
    shapes = ExcelApplication.open(copy, with_vba=False).sheet("Start").shapes()
    assert sorted(s.macro for s in shapes if s.macro) == sorted(SUBS)
    assert "xl_addin_lite_refresh" in {s.name for s in shapes}


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
@pytest.mark.skipif(
    subprocess.run(["/usr/bin/python3", "-c", "import uno"], capture_output=True).returncode,
    reason="python3-uno is not installed",
)
def test_libreoffice_opens_it_runs_the_buttons_and_prints_it(book, tmp_path):
    report = tmp_path / "probe.json"
    done = subprocess.run(["/usr/bin/python3", str(PROBE), str(book), str(report), *SUBS],
                          capture_output=True, text=True, timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(report.read_text())
    assert {"Buttons", "xlwings", "xlwings_udfs", "Dictionary"} <= set(
        found["libraries"]["VBAProject"]
    )
    for _, _, sub, entry in BUTTONS:
        assert found["clicks"][sub] == f"import xl_addin.macros as m; m.{entry}()"
    pdf = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(book)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert pdf.returncode == 0 and (tmp_path / "branch.pdf").stat().st_size > 10_000


def test_no_button_covers_the_start_sheets_instructions(book):
    """The instructions are in column C; every button and the Lite shape start and end
    inside column B (VML anchors: column, offset in half-points, ...; drawing anchors: EMU),
    and column B is wide enough for them (30 characters, 161 points; a button is 150)."""
    import re
    import zipfile

    from openpyxl import load_workbook

    with zipfile.ZipFile(book) as archive:
        vml = "".join(archive.read(n).decode() for n in archive.namelist() if n.endswith(".vml"))
        drawings = "".join(archive.read(n).decode() for n in archive.namelist()
                           if n.startswith("xl/drawings/drawing"))  # fmt: skip
    anchors = [list(map(int, a.split(","))) for a in re.findall(r"<x:Anchor>([^<]*)<", vml)]
    assert len(anchors) == 4
    for left, _, _, _, right, right_offset, _, _ in anchors:
        assert left == right == 1 and right_offset / 2 <= 161  # half-points within B
    columns = re.findall(r"<xdr:(?:from|to)><xdr:col>(\d+)</xdr:col>", drawings)
    assert columns and set(columns) == {"1"}  # the Lite shape: from B to B
    start = load_workbook(book)["Start"]
    assert start.column_dimensions["B"].width >= 30
    texts = [start.cell(r, 3).value for r in range(1, start.max_row + 1)]
    assert any(texts) and all(start.cell(r, 2).value is None or r in (1, 5, 8, 11, 14)
                              for r in range(1, 20))  # fmt: skip
