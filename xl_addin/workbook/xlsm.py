"""Turn the built workbook (.xlsx from openpyxl) into the macro-enabled branch workbook.

Four steps, each by a maintained library or a documented part of the format:

1. the package's main part becomes the macro-enabled workbook type
   ([Content_Types].xml), as Excel writes it for .xlsm;
2. pyopenvba adds the VBA project as Excel does for a first macro (document
   modules named Sheet1..., ThisWorkbook) and writes the modules of vba.py and
   the library references the xlwings module needs;
3. pyopenvba's Excel model adds the Forms buttons on the Start sheet, each bound
   to its Sub (the drawing, the VML and the sheet's control records);
4. the project is written as [MS-OVBA] asks of a writer, with no compiled code for
   Office to trust (vba.without_caches), and the xlwings Lite parts are embedded.

The result is written beside the target and moved in place (save_atomically).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyopenvba import ExcelFile
from pyopenvba.apps.excel import ExcelApplication
from pyopenvba.vba import VBAModuleKind

from xl_addin.errors import WorkbookError
from xl_addin.workbook import lite
from xl_addin.workbook.package import CONTENT_TYPES, Package, q
from xl_addin.workbook.safe_save import save_atomically
from xl_addin.workbook.vba import Module, all_modules, without_caches, xlwings_references

XLSX_MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
VBA_PROJECT_TYPE = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
POINTS_PER_ROW = 15.0
BUTTON_SIZE = (150.0, 28.0)  # points


@dataclass(frozen=True, slots=True)
class Button:
    sheet: str
    cell: str  # top-left cell, e.g. "B5"
    label: str
    macro: str  # the VBA Sub it runs
    left: float | None = None  # points from the sheet's left edge (None: 60 per column)


def make_xlsm(
    source: Path, target: Path, buttons: Sequence[Button], modules: Sequence[Module] | None = None
) -> Path | None:
    """Write `target` (.xlsm): `source` with the VBA project and the buttons; return any backup."""
    if target.suffix.lower() != ".xlsm":
        raise WorkbookError(f"{target.name}: a workbook with buttons must be saved as .xlsm")
    modules = all_modules() if modules is None else modules
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder) / "book.xlsm"
        _macro_enabled_copy(source, work)
        _add_project(work, modules)
        with_buttons = Path(folder) / "with-buttons.xlsm"
        _add_buttons(work, with_buttons, buttons)
        return save_atomically(target, lambda tmp: _finish(with_buttons, tmp))


def _macro_enabled_copy(source: Path, target: Path) -> None:
    with Package(source) as package:
        types = package.xml("[Content_Types].xml")
        workbook = "/" + package.workbook_part
        declared = [o.get("ContentType") for o in types.iter(q("Override", CONTENT_TYPES))
                    if o.get("PartName") == workbook]  # fmt: skip
        if declared != [XLSX_MAIN.decode()]:
            raise WorkbookError(f"{source.name}: not a workbook package")
        package.set_content_type(package.workbook_part, XLSM_MAIN.decode())
        package.save(target)


def _add_project(path: Path, modules: Sequence[Module]) -> None:
    with ExcelFile(path) as book:
        project = book.add_vba_project()
        for module in modules:
            kind = VBAModuleKind.other if module.is_class else VBAModuleKind.standard
            project.add_module(module.name, module.source, kind=kind)
        for reference in xlwings_references():
            _add_reference(book, reference)
        book.save()


def _add_reference(book: ExcelFile, reference) -> None:
    """Declare a library the way the xlwings project declares it (GUID, version, path)."""
    match = re.match(r"\*\\G\{([0-9A-Fa-f-]+)\}#(\d+)\.(\d+)#\w+#([^#]*)#(.*)", reference.libid)
    if match is None:
        raise WorkbookError(f"cannot read the reference {reference.name}: {reference.libid}")
    guid, major, minor, path, description = match.groups()
    book.add_reference(
        reference.name, "{" + guid + "}", int(major), int(minor), path=path, description=description
    )


def _add_buttons(source: Path, target: Path, buttons: Sequence[Button]) -> None:
    app = ExcelApplication.open(source, with_vba=False)
    width, height = BUTTON_SIZE
    shape, sheet, cell = lite.REFRESH_BUTTON
    on_sheet = [b for b in buttons if b.sheet == sheet]
    if on_sheet:
        column, row = _cell_position(cell)
        left = on_sheet[0].left if on_sheet[0].left is not None else column * 60.0
        app.sheet(sheet).add_shape(  # xlwings Lite runs its refresh script from this shape
            1, name=shape, left=left, top=(row - 1) * POINTS_PER_ROW, width=width,
            height=height, text="Refresh with xlwings Lite / 刷新（无需本机 Python）",
        )  # fmt: skip
    for button in buttons:
        column, row = _cell_position(button.cell)
        left = button.left if button.left is not None else column * 60.0
        app.sheet(button.sheet).add_button(
            name=button.macro, left=left, top=(row - 1) * POINTS_PER_ROW,
            width=width, height=height, text=button.label, macro=button.macro,
        )  # fmt: skip
    app.save(target)


R_NAMESPACE = b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def _finish(source: Path, target: Path) -> None:
    """Copy the package with the VBA project to spec, the xlwings Lite parts, and r: declared.

    pyopenvba adds <legacyDrawing r:id=...> to a sheet whose root (as openpyxl wrote
    it) has no relationships namespace; Excel and every XML parser would refuse it, so
    the declaration is added to the root's start tag before anything parses the part.
    """
    with Package(source) as package:
        for sheet in package.sheets():
            data = package.read(sheet.part)
            if b" r:id=" not in data:
                continue
            start = data.find(b"<worksheet")
            end = data.find(b">", start)
            if start >= 0 and b"xmlns:r=" not in data[start:end]:
                package.put(sheet.part, data[:end] + b" " + R_NAMESPACE + data[end:])
        for relationship in package.relationships(package.workbook_part):
            if relationship.type == VBA_PROJECT_TYPE:
                package.put(relationship.target, without_caches(package.read(relationship.target)))
        lite.embed(package, lite.webextension_parts())
        lite.link_button(package)
        package.save(target)


def _cell_position(cell: str) -> tuple[int, int]:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    letters, row = coordinate_from_string(cell)
    return column_index_from_string(letters) - 1, row
