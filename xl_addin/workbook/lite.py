"""The xlwings Lite part of the workbook: the functions and a refresh script, without Python.

xlwings Lite (the free Office add-in that runs Python in Excel through Pyodide)
keeps a workbook's code in the workbook: `main.py` and `requirements.txt` are
properties of the add-in's web extension part (`xl/webextensions/webextension1.xml`),
each stored as a JSON string. xl_addin is not on PyPI, so the generated main.py
carries the engine's own modules (core, the UDFs, the readers, the refresh service)
as source, served to `import` by a small finder. The functions are the desktop UDFs;
the Refresh script is a thin call into the same service as the desktop button
(`services.refresh.button_run` on the open book): validation first (problems go to
the Problems sheet and nothing else is written), then one write per computed column,
formula cells left as they are. It is generated at build time from the package and
never edited by hand.

`requirements.txt` lists every package main.py imports: xlwings pinned (pure Python),
numpy, pandas and openpyxl unpinned (Pyodide provides them, tied to its version, as
Lite's documentation asks). The Refresh shape on the Start sheet is linked the way
Lite documents a sheet button: the shape is named, it links to the cell it covers,
and the script's `button="[shape]Sheet!cell"` names both.

What Lite cannot do: reach local files. Letters, statements, PDFs and the journal
need desktop Python (the buttons) or the `credit-control` commands; a Lite refresh
takes NextAction from the workbook's Contacts table (and the Customers' LastStage and
LastContactDate) only, without the journal's record of what was issued.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree

import xl_addin

PACKAGE = Path(xl_addin.__file__).resolve().parent
BUNDLED = (  # the modules main.py carries, as they are in the package
    "__init__.py", "errors.py", "udfs.py",
    "core/__init__.py", "core/problems.py", "core/money.py", "core/dates.py", "core/policy.py",
    "core/aging.py", "core/credit.py", "core/escalation.py", "core/interest.py",
    "core/recovery.py", "core/words.py", "core/ledger.py",
    "core/contacts.py", "core/dunning.py", "core/next_action.py", "core/statements.py",
    "core/validate.py", "core/labels.py", "core/forecast.py",
    "workbook/schema.py", "workbook/tables.py", "workbook/convert.py", "workbook/frames.py",
    "workbook/reader.py", "workbook/open_book.py", "workbook/ledger_file.py",
    "workbook/updates.py", "workbook/access.py",
    "services/__init__.py", "services/book.py", "services/contacts.py", "services/problems.py",
    "services/refresh.py", "services/live.py",
)  # fmt: skip
FUNCTIONS = ("age_days", "age_bucket", "credit_headroom", "credit_status", "escalation_stage",
             "late_interest", "expected_recovery", "amount_in_words",
             "ledger_columns", "customer_columns", "provision",
             "expected_pay_date")  # fmt: skip
LITE_ADDIN = "wa200008175"  # xlwings Lite in the Office add-in store
REFRESH_BUTTON = ("xl_addin_lite_refresh", "Start", "B17")  # shape name, sheet, cell
# xlwings is pure Python: pinned; Pyodide provides the others, tied to its version: unpinned.
REQUIREMENTS = "xlwings==0.37.8\nnumpy\npandas\n"
WEBEXTENSION = "http://schemas.microsoft.com/office/webextensions/webextension/2010/11"
TASKPANES = "http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11"
REL_WEBEXTENSION = "http://schemas.microsoft.com/office/2011/relationships/webextension"
REL_TASKPANES = "http://schemas.microsoft.com/office/2011/relationships/webextensiontaskpanes"
REL_DRAWING = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"
REL_HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
DRAWINGML = "http://schemas.openxmlformats.org/drawingml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
EXTENSION_ID = uuid.uuid5(uuid.NAMESPACE_URL, "xl_addin/xlwings-lite")
CONTENT_TYPES = {
    "/xl/webextensions/webextension1.xml": "application/vnd.ms-office.webextension+xml",
    "/xl/webextensions/taskpanes.xml": "application/vnd.ms-office.webextensiontaskpanes+xml",
}

_LOADER = '''
import importlib.abc
import importlib.util
import sys


class _Bundled(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the modules above to `import`, as if xl_addin were installed."""

    def find_spec(self, name, path=None, target=None):
        if name not in _SOURCES:
            return None
        package = name == "xl_addin" or _SOURCES[name][1]
        return importlib.util.spec_from_loader(name, self, is_package=package)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        source, is_package = _SOURCES[module.__name__]
        if is_package:
            module.__path__ = []
        exec(compile(source, "<" + module.__name__ + ">", "exec"), module.__dict__)


if not any(isinstance(f, _Bundled) for f in sys.meta_path):
    sys.meta_path.insert(0, _Bundled())
'''

_SCRIPT = '''
import xlwings as xw  # noqa: E402
from xlwings import script  # noqa: E402

from xl_addin.udfs import (  # noqa: E402,F401  (registered as the workbook's custom functions)
    {functions},
)


@script(button="[{shape}]{sheet}!{cell}", show_taskpane=True)
async def refresh(book: xw.Book):
    """Refresh without Python installed, as the desktop Refresh button does."""
    from xl_addin.services.refresh import button_run
    from xl_addin.workbook.access import XlwingsWriter, fetch_formulas, set_status
    from xl_addin.workbook.open_book import OpenBook

    # Lite reads formulas only on request: fetched first, so formula cells keep them.
    formulas = await fetch_formulas(book, ("Customers", "Ledger"))
    set_status(book, button_run(OpenBook(book), XlwingsWriter(book, formulas)))
'''


def main_source() -> str:
    """The generated main.py: the bundled modules, the loader, the functions, the script."""
    sources = {}
    for relative in BUNDLED:
        path = PACKAGE / relative
        parts = ["xl_addin", *Path(relative).with_suffix("").parts]
        package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if package else parts)
        sources[name] = (path.read_text(encoding="utf-8"), package)
    for folder in ("xl_addin.core", "xl_addin.workbook", "xl_addin.services"):
        sources.setdefault(folder, ("", True))
    shape, sheet, cell = REFRESH_BUTTON
    return "\n".join([
        f"# xlwings Lite code of the credit-control workbook, generated by xl_addin "
        f"{getattr(xl_addin, '__version__', '')} (xl_addin/workbook/lite.py).",
        "# Do not edit: rebuild the workbook with `credit-control new`.",
        f"_SOURCES = {sources!r}",
        _LOADER,
        _SCRIPT.format(functions=",\n    ".join(FUNCTIONS), shape=shape, sheet=sheet, cell=cell),
    ])  # fmt: skip


def webextension_parts(workbook_id: str | None = None) -> dict[str, bytes]:
    """The package parts that carry the Lite code: part name -> bytes."""
    properties = {
        "main.py": main_source(),
        "requirements.txt": REQUIREMENTS,
        "xlwingsWorkbookId": workbook_id or str(uuid.uuid4()),
    }
    listed = "".join(
        f"<we:property name={quoteattr(k)} value={quoteattr(json.dumps(v))}/>"
        for k, v in properties.items()
    )
    webextension = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<we:webextension xmlns:we="{WEBEXTENSION}" id="{{{EXTENSION_ID}}}">'
        f'<we:reference id="{LITE_ADDIN}" version="1.0.0.0" store="en-US" storeType="OMEX"/>'
        f'<we:alternateReferences><we:reference id="{LITE_ADDIN}" version="1.0.0.0" '
        f'store="{LITE_ADDIN.upper()}" storeType="OMEX"/></we:alternateReferences>'
        f"<we:properties>{listed}</we:properties><we:bindings/>"
        '<we:snapshot xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>'
        "</we:webextension>"
    )  # fmt: skip
    taskpanes = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<wetp:taskpanes xmlns:wetp="{TASKPANES}"><wetp:taskpane dockstate="right" '
        'visibility="0" width="350" row="1"><wetp:webextensionref xmlns:r='
        '"http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1"/>'
        "</wetp:taskpane></wetp:taskpanes>"
    )  # fmt: skip
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL_WEBEXTENSION}" Target="webextension1.xml"/>'
        "</Relationships>"
    )
    return {
        "xl/webextensions/webextension1.xml": webextension.encode("utf-8"),
        "xl/webextensions/taskpanes.xml": taskpanes.encode("utf-8"),
        "xl/webextensions/_rels/taskpanes.xml.rels": rels.encode("utf-8"),
    }


def embed(package, parts: dict[str, bytes]) -> None:
    """Add the Lite parts to a workbook package (workbook.package.Package), with their
    relationship from the package root and their content types."""
    for name, data in parts.items():
        package.put(name, data)
    if not any(r.type == REL_TASKPANES for r in package.relationships("")):
        package.add_relationship("", REL_TASKPANES, "xl/webextensions/taskpanes.xml")
    for part, kind in CONTENT_TYPES.items():
        package.set_content_type(part.lstrip("/"), kind)


def link_button(package) -> None:
    """Link the Refresh shape to the cell it covers, as Lite documents a sheet button
    (Link... > Place in This Document): clicking it selects the cell, and Lite runs the
    script whose `button` names the shape and the cell."""
    shape, sheet_name, cell = REFRESH_BUTTON
    sheet = package.sheet(sheet_name)
    if sheet is None:
        return
    drawings = [r for r in package.relationships(sheet.part) if r.type == REL_DRAWING]
    for drawing in drawings:
        root = package.edit(drawing.target)
        for properties in root.iter(f"{{{XDR}}}cNvPr"):
            if properties.get("name") != shape:
                continue
            for old in properties.findall(f"{{{DRAWINGML}}}hlinkClick"):
                properties.remove(old)
            rid = package.add_relationship(drawing.target, REL_HYPERLINK, f"#{sheet_name}!{cell}",
                                           literal=True)  # fmt: skip
            link = etree.SubElement(properties, f"{{{DRAWINGML}}}hlinkClick",
                                    nsmap={"a": DRAWINGML, "r": RELATIONSHIPS})  # fmt: skip
            link.set(f"{{{RELATIONSHIPS}}}id", rid)
            return
