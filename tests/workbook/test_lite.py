"""The xlwings Lite part: main.py and requirements.txt in the web extension, from the package."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
import zipfile

import pytest
from openpyxl.utils.cell import column_index_from_string
from pyopenvba.apps.excel import ExcelApplication

from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.refresh import RefreshResult, refresh
from xl_addin.workbook import lite
from xl_addin.workbook.package import Package, rels_part

AS_OF = dt.date(2026, 11, 30)
NS = {"we": lite.WEBEXTENSION}


def properties(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as package:
        root = ET.fromstring(package.read("xl/webextensions/webextension1.xml"))
        assert root.find("we:reference", NS).get("id") == lite.LITE_ADDIN
        assert b"webextensiontaskpanes" in package.read("_rels/.rels")
    return {e.get("name"): json.loads(e.get("value")) for e in root.iterfind(".//we:property", NS)}


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    data = make_demo_data(AS_OF, customers=12)
    path = tmp_path_factory.mktemp("lite") / "branch.xlsm"
    new_workbook(path, as_of=AS_OF, customers=data.customers, ledger=data.ledger,
                 settings=data.settings)  # fmt: skip
    return path


def test_main_py_is_the_package_compiled_in_and_defines_every_function(book):
    found = properties(book)
    assert found["main.py"] == lite.main_source()  # generated, never edited by hand
    assert found["requirements.txt"].startswith("xlwings==0.37.8")
    code = compile(found["main.py"], "main.py", "exec")
    assert set(lite.FUNCTIONS) <= set(code.co_names)


def test_the_script_button_names_a_shape_on_its_sheet(book):
    button = re.search(r'@script\(button="\[(\w+)\](\w+)!(\w+)"', properties(book)["main.py"])
    name, sheet, _ = button.groups()
    shapes = ExcelApplication.open(book, with_vba=False).sheet(sheet).shapes()
    assert name in {s.name for s in shapes}


def test_the_refresh_shape_links_to_the_cell_its_script_names(book):
    """As Lite documents a sheet button: the named shape links (Place in This Document)
    to the cell it covers, the cell `button="[shape]Sheet!cell"` gives."""
    name, sheet, cell = re.search(r'@script\(button="\[(\w+)\](\w+)!(\w+)"',
                                  properties(book)["main.py"]).groups()  # fmt: skip
    with Package(book) as package:
        entry = package.sheet(sheet)
        drawing = next(r.target for r in package.relationships(entry.part)
                       if r.type == lite.REL_DRAWING)  # fmt: skip
        root = package.xml(drawing)
        anchors = [a for a in root if any(p.get("name") == name
                                          for p in a.iter(f"{{{lite.XDR}}}cNvPr"))]  # fmt: skip
        assert len(anchors) == 1
        link = next(anchors[0].iter(f"{{{lite.DRAWINGML}}}hlinkClick"))
        rid = link.get(f"{{{lite.RELATIONSHIPS}}}id")
        with zipfile.ZipFile(book) as archive:
            rels = ET.fromstring(archive.read(rels_part(drawing)))
        targets = {r.get("Id"): (r.get("Type"), r.get("Target")) for r in rels}
        assert targets[rid] == (lite.REL_HYPERLINK, f"#{sheet}!{cell}")
        # The shape covers the cell it links to (a click selects that cell).
        start = anchors[0].find(f"{{{lite.XDR}}}from")
        end = anchors[0].find(f"{{{lite.XDR}}}to")
        column, row = column_index_from_string(cell.rstrip("0123456789")), int(
            cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))  # fmt: skip
        col0, row0 = (int(start.find(f"{{{lite.XDR}}}{t}").text) + 1 for t in ("col", "row"))
        col1, row1 = (int(end.find(f"{{{lite.XDR}}}{t}").text) + 1 for t in ("col", "row"))
        assert col0 <= column <= col1 and row0 <= row <= row1


STAND_IN = """
import json, sys, types
xlwings = types.ModuleType("xlwings")
def _decorator(*args, **kwargs):
    if args and callable(args[0]) and len(args) == 1 and not kwargs:
        return args[0]
    return lambda f: f
xlwings.func = xlwings.arg = xlwings.ret = xlwings.script = _decorator
xlwings.Book = type("Book", (), {})
sys.modules["xlwings"] = xlwings
namespace = {"__name__": "main"}
exec(open(sys.argv[1], encoding="utf-8").read(), namespace)
assert namespace["age_bucket"].__module__ == "xl_addin.udfs"
assert sys.modules["xl_addin.udfs"].__spec__.loader.__class__.__name__ == "_Bundled"
calls = [
    ("age_bucket", ["2026-10-01", "2026-11-30"]),
    ("age_days", [[["2026-11-25"], ["2026-12-05"], [None]], "2026-11-30"]),
    ("credit_status", [10000, 9500, 0, 5]),
    ("escalation_stage", [45, 5000, "Strategic"]),
    ("amount_in_words", [16409.02, "zh", "CNY"]),
    ("expected_recovery", [100]),
]
print(json.dumps([namespace[name](*args) for name, args in calls], ensure_ascii=False))
"""


def test_main_py_in_plain_python_gives_what_the_package_gives(book, tmp_path):
    main = tmp_path / "main.py"
    main.write_text(properties(book)["main.py"], encoding="utf-8")
    harness = tmp_path / "harness.py"
    harness.write_text(textwrap.dedent(STAND_IN), encoding="utf-8")
    done = subprocess.run([sys.executable, str(harness), str(main)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    from xl_addin import udfs

    expected = [
        udfs.age_bucket("2026-10-01", "2026-11-30"),
        udfs.age_days([["2026-11-25"], ["2026-12-05"], [None]], "2026-11-30"),
        udfs.credit_status(10000, 9500, 0, 5),
        udfs.escalation_stage(45, 5000, "Strategic"),
        udfs.amount_in_words(16409.02, "zh", "CNY"),
        udfs.expected_recovery(100),
    ]
    assert json.loads(done.stdout) == json.loads(json.dumps(expected, ensure_ascii=False))


def test_a_refresh_keeps_the_lite_part(book, tmp_path):
    copy = tmp_path / "refreshed.xlsm"
    shutil.copy(book, copy)
    assert isinstance(refresh(copy), RefreshResult)
    assert properties(copy)["main.py"] == properties(book)["main.py"]


def test_requirements_list_every_package_main_py_imports(book):
    """What Lite installs is what main.py needs: every third-party import of main.py and the
    modules it carries, and nothing the bundle cannot import in Lite (files, Word, SQL)."""
    import ast

    found = properties(book)
    main = ast.parse(found["main.py"])
    assigned = next(n for n in main.body if isinstance(n, ast.Assign)
                    and n.targets[0].id == "_SOURCES")  # fmt: skip
    sources = ast.literal_eval(assigned.value)
    trees = [main, *(ast.parse(source) for source, _ in sources.values())]
    imported = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"xl_addin"}
    listed = {re.split(r"[=<>~ ]", line)[0] for line in found["requirements.txt"].split()}
    # python_calamine: imported by reader.py only in open_workbook (files), never in Lite.
    assert third_party - {"python_calamine"} == listed
    for heavy in ("sqlalchemy", "docx", "docxtpl", "lxml", "typer", "rich"):
        assert heavy not in third_party
    pinned = [line for line in found["requirements.txt"].split() if "=" in line]
    assert pinned == ["xlwings==0.37.8"]  # Pyodide's own packages: unpinned


def test_the_bundle_carries_every_module_its_modules_import_at_load():
    """A module of the package that a bundled module imports at its top level must be in
    the bundle too, or main.py fails to import in Lite (imports inside functions are the
    file-only paths Lite never takes)."""
    import ast

    from xl_addin.workbook.lite import BUNDLED, PACKAGE

    bundled = {"xl_addin." + r.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
               for r in BUNDLED} | {"xl_addin"}  # fmt: skip
    missing = set()
    for relative in BUNDLED:
        tree = ast.parse((PACKAGE / relative).read_text(encoding="utf-8"))
        for node in tree.body:  # the top level only
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xl_addin"):
                names = {node.module}
                if node.module in ("xl_addin.core", "xl_addin.workbook", "xl_addin.services"):
                    names = {f"{node.module}.{a.name}" for a in node.names}  # submodules
                missing |= names - bundled
            elif isinstance(node, ast.Import):
                missing |= {a.name for a in node.names if a.name.startswith("xl_addin")} - bundled
    assert not missing
