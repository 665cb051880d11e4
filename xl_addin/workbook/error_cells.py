"""Error cells (#N/A, #VALUE! ...) of a workbook file's sheets.

calamine reads an error cell as blank; the reader needs to report it as the error it is,
so the sheet part is looked at here: streamed through the package module, a quick look
for `t="e"` first, and lxml only where there is one. A file's concern only: an open book
(desktop xlwings, Lite) gives error cells as text.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from xl_addin.workbook.cells import split_ref
from xl_addin.workbook.package import Package


class ErrorCells:
    """Error cells (#N/A, #VALUE! ...) per sheet, read from the sheet XML on demand
    (calamine gives an error cell as blank). The part is streamed: a quick look for
    `t="e"` first, and lxml only where there is one."""

    def __init__(self, path: Path):
        self.path = path

    def of(self, sheet: str) -> dict[tuple[int, int], str]:
        with Package(self.path) as package:
            entry = next((s for s in package.sheets() if s.name == sheet), None)
            if entry is None or not package.exists(entry.part):
                return {}
            with package.open(entry.part) as stream:
                if not _mentions_errors(stream):
                    return {}
            with package.open(entry.part) as stream:
                return _error_cells(stream)


_ERROR_MARKS = (b't="e"', b"t='e'")


def _mentions_errors(stream) -> bool:
    tail = b""
    while chunk := stream.read(1 << 20):
        window = tail + chunk
        if any(mark in window for mark in _ERROR_MARKS):
            return True
        tail = window[-5:]
    return False


def _error_cells(stream) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    elements = etree.iterparse(stream, events=("end",), tag=("{*}c", "{*}row"),
                               resolve_entities=False, no_network=True, huge_tree=True)  # fmt: skip
    for _, element in elements:
        if element.tag.endswith("}c"):
            if element.get("t") == "e" and element.get("r"):
                value = element.find("{*}v")
                column, row = split_ref(element.get("r"))
                found[(row, column)] = "" if value is None else value.text or ""
            continue
        element.clear(keep_tail=False)  # a row read: free it and the rows before it
        while element.getprevious() is not None:
            del element.getparent()[0]
    return found
