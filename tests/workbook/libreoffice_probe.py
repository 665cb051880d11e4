"""Open a workbook in headless LibreOffice; report its macros and buttons (Debian's python3).

    python3 libreoffice_probe.py WORKBOOK.xlsm OUT.json [MACRO ...]

Reports, as JSON: the Basic libraries and modules LibreOffice imported from the
VBA project; each form control on each sheet with the macro its click runs; and,
for each MACRO named, what a stand-in RunPython received when the button bound
to that macro was clicked (LibreOffice runs the button's script, or the macro's
own script where LibreOffice did not import the button; the xlwings module's
RunPython is replaced by one that records its argument). Needs the
python3-uno package; LibreOffice itself cannot start Python from Excel VBA.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue

# LibreOffice Basic cannot compile xlwings' Windows-only modules (API Declares), and one
# module that does not compile stops its whole library; they make way for a stand-in.
WINDOWS_ONLY = ("xlwings", "xlwings_udfs", "Dictionary")
SCRIPT = "vnd.sun.star.script:VBAProject.Buttons.{macro}?language=Basic&location=document"
STAND_IN = """Option VBASupport 1
Function RunPython(PythonCommand As String)
    ThisComponent.getSheets().getByIndex(0).getCellByPosition(25, 0).setString(PythonCommand)
End Function
"""


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(profile: str, pipe: str):
    office = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            f"-env:UserInstallation=file://{profile}",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    for _ in range(120):
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return office, context
        except Exception:
            time.sleep(0.5)
    office.kill()
    raise SystemExit("LibreOffice did not start")


def main(path: str, out: str, macros: list[str]) -> None:
    profile = tempfile.mkdtemp(prefix="lo-probe-")
    office, context = connect(profile, f"probe{os.getpid()}")
    report = {"libraries": {}, "controls": [], "clicks": {}}
    try:
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context
        )
        url = uno.systemPathToFileUrl(os.path.abspath(path))
        doc = desktop.loadComponentFromURL(
            url, "_blank", 0, (prop("Hidden", True), prop("MacroExecutionMode", 4))
        )
        basic = doc.BasicLibraries
        for name in basic.ElementNames:
            basic.loadLibrary(name)
            library = basic.getByName(name)
            report["libraries"][name] = sorted(library.ElementNames)
        for sheet in doc.Sheets:
            forms = sheet.DrawPage.Forms
            for f in range(forms.Count):
                form = forms.getByIndex(f)
                for i in range(form.Count):
                    control = form.getByIndex(i)
                    events = [e.ScriptCode for e in form.getScriptEvents(i)]
                    report["controls"].append(
                        {
                            "sheet": sheet.Name,
                            "name": control.Name,
                            "label": getattr(control, "Label", ""),
                            "scripts": events,
                        }
                    )
        for lib_name, modules in report["libraries"].items():
            if "xlwings" in modules:
                library = basic.getByName(lib_name)
                for name in WINDOWS_ONLY:
                    if name in modules:
                        library.removeByName(name)
                library.insertByName("xlwings", STAND_IN)
        provider = doc.getScriptProvider()
        received = doc.Sheets.getByIndex(0).getCellByPosition(25, 0)
        for macro in macros:
            # The script a button bound to `macro` runs (LibreOffice 7.4 does not import
            # Excel's Forms buttons from .xlsx/.xlsm, so the click is the macro's own script).
            control = next(
                (c for c in report["controls"] if any(macro in s for s in c["scripts"])), None
            )
            script = (
                next(s for s in control["scripts"] if macro in s)
                if control
                else SCRIPT.format(macro=macro)
            )
            received.setString("")
            provider.getScript(script).invoke((), (), ())
            report["clicks"][macro] = received.String
        doc.close(True)
    finally:
        with contextlib.suppress(Exception):
            desktop.terminate()
        office.wait(timeout=30) if office.poll() is None else None
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
