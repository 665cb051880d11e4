"""The xlwings Lite part of the workbook: the functions and a refresh script, without Python.

xlwings Lite (the free Office add-in that runs Python in Excel through Pyodide)
keeps a workbook's code in the workbook: `main.py` and `requirements.txt` are
properties of the add-in's web extension part (`xl/webextensions/webextension1.xml`),
each stored as a JSON string. xl_addin is not on PyPI, so the generated main.py
carries the engine's own modules (core, the UDFs, the table reader) as source, served
to `import` by a small finder: the functions and the refresh script compute exactly
what the desktop product computes. It is generated at build time from the package
and never edited by hand.

What Lite cannot do: reach local files. Letters, statements, PDFs and the journal
need desktop Python (the buttons) or the `credit-control` commands.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from xml.sax.saxutils import quoteattr

import xl_addin

PACKAGE = Path(xl_addin.__file__).resolve().parent
BUNDLED = (  # the modules main.py carries, as they are in the package
    "__init__.py", "errors.py", "udfs.py",
    "core/__init__.py", "core/problems.py", "core/money.py", "core/dates.py", "core/policy.py",
    "core/aging.py", "core/credit.py", "core/escalation.py", "core/interest.py",
    "core/recovery.py", "core/words.py", "core/ledger.py",
    "workbook/schema.py", "workbook/tables.py", "workbook/convert.py", "workbook/frames.py",
)  # fmt: skip
FUNCTIONS = ("age_days", "age_bucket", "credit_headroom", "credit_status", "escalation_stage",
             "late_interest", "expected_recovery", "amount_in_words")  # fmt: skip
LITE_ADDIN = "wa200008175"  # xlwings Lite in the Office add-in store
REFRESH_BUTTON = ("xl_addin_lite_refresh", "Start", "B17")  # shape name, sheet, cell
REQUIREMENTS = "xlwings==0.37.8\nopenpyxl\n"  # numpy and pandas come with Pyodide: not pinned
WEBEXTENSION = "http://schemas.microsoft.com/office/webextensions/webextension/2010/11"
TASKPANES = "http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11"
REL_WEBEXTENSION = "http://schemas.microsoft.com/office/2011/relationships/webextension"
REL_TASKPANES = "http://schemas.microsoft.com/office/2011/relationships/webextensiontaskpanes"
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
from xlwings import script  # noqa: E402

from xl_addin.udfs import (  # noqa: E402,F401  (registered as the workbook's custom functions)
    {functions},
)


@script(button="[{shape}]{sheet}!{cell}")
def refresh(book):
    """Refresh without Python installed: the computed columns of Customers and Ledger."""
    import datetime as dt

    from xl_addin.core.ledger import age_ledger
    from xl_addin.core.money import to_decimal
    from xl_addin.workbook.convert import normalise
    from xl_addin.workbook.frames import engine_customers, engine_ledger
    from xl_addin.workbook.schema import CUSTOMERS, LEDGER, SETTINGS
    from xl_addin.workbook.tables import RawTable

    def read(spec):
        table = book.sheets[spec.name].tables[spec.name]
        values = table.range.value
        raw = RawTable(spec.name, spec.name, table.range.row, table.range.column,
                       tuple(str(h) for h in values[0]), [list(r) for r in values[1:]])
        return normalise(raw, spec, False, problems)

    from xl_addin.core.policy import DEFAULT_POLICY

    problems = []
    settings_frame = read(SETTINGS).frame
    settings = dict(zip(settings_frame["key"], settings_frame["value"]))
    as_of = settings.get("AsOfDate") or dt.date.today()
    as_of = as_of.date() if isinstance(as_of, dt.datetime) else as_of
    base = str(settings.get("BaseCurrency") or "CNY")
    customers_table, ledger_table = read(CUSTOMERS), read(LEDGER)
    if problems:
        book.sheets["Start"]["D1"].value = f"{{len(problems)}} problem(s): {{problems[0]}}"
        return
    customers = engine_customers(customers_table.frame, base)
    ledger = engine_ledger(ledger_table.frame, customers, base)
    result = age_ledger(ledger, customers, as_of, DEFAULT_POLICY)
    money = lambda cents: float(to_decimal(int(cents)))  # noqa: E731
    whole = lambda v: None if v != v else int(v)  # noqa: E731
    items, summary = result.items, result.customers
    scope = items["in_scope"]
    write(book, ledger_table, {{
        "OpenAmount": [money(c) if s else None for c, s in zip(items["open_cents"], scope)],
        "DaysOverdue": [whole(v) for v in items["days_overdue"]],
        "Bucket": [b if isinstance(b, str) else None for b in items["bucket"]],
        "Stage": [s if isinstance(s, str) else None for s in items["stage"]],
    }})
    write(book, customers_table, {{
        "Balance": [money(c) for c in summary["balance_cents"]],
        "Overdue": [money(c) for c in summary["overdue_cents"]],
        "MaxDaysOverdue": [whole(v) for v in summary["max_days_overdue"]],
        "Headroom": [money(c) for c in summary["headroom_cents"]],
        "CreditStatus": list(summary["credit_status"]),
        "Stage": [s if isinstance(s, str) else None for s in summary["stage"]],
    }})
    book.sheets["Start"]["D1"].value = f"Refreshed by xlwings Lite as of {{as_of}}."


def write(book, table, columns):
    sheet = book.sheets[table.raw.sheet]
    headers = list(table.raw.headers)
    rows = list(table.frame["row"])
    for header, values in columns.items():
        if header not in headers or not rows:
            continue
        column = table.raw.first_column + headers.index(header)
        for row, value in zip(rows, values):
            sheet.range((int(row), column)).value = value

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
    for folder in ("xl_addin.core", "xl_addin.workbook"):
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
